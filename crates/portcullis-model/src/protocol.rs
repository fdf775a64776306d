//! The model's types: how far the checker looks ([`Bounds`]: the actors' scripts and
//! budgets), a state of the check ([`State`]: the world and the trace that made it), and
//! the protocol model itself ([`Protocol`]), whose actions and steps are in
//! [`crate::model`].

use std::hash::{Hash, Hasher};

use stateright::Model;

use crate::core::Core;
use crate::world::{Action, Load, What, World};

/// How far the checker looks: page loads, scripts and the budgets of the actors.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Page loads each webview may have in all (its first included).
    pub loads: [u8; 2],
    /// What each page load's isolation frame seals, in order.
    pub scripts: fn(Load) -> &'static [What],
    /// Attacker actions: deliveries beyond a message's first to its own webview (again,
    /// to the other webview), splices and forgeries.
    pub attacker: u8,
    /// Deliveries of one message in all.
    pub deliveries: u8,
    /// Grant changes the app makes (a revoke, then a grant again, ...).
    pub grant_changes: u8,
    /// Whether the attacker splices and forges (else it only drops, delays, duplicates
    /// and moves whole messages).
    pub injects: bool,
}

/// Calls, cancels and the run-time grant: webview `a` calls the run-time capability's
/// command and cancels it, then may reload (its new page load is idle: its old
/// messages arrive in it); webview `b` calls a static one under the same request id.
fn calls(load: Load) -> &'static [What] {
    use crate::world::Command::{Export, List};
    match (load.webview, load.n) {
        (0, 0) => &[
            What::Call {
                id: 1,
                command: Export,
            },
            What::Cancel { id: 1 },
        ],
        (0, _) => &[],
        _ => &[What::Call {
            id: 1,
            command: List,
        }],
    }
}

/// Streams: webview `a` uploads two bytes and ends, and may reload (its new page load is
/// idle: its old chunks arrive in it); webview `b` is idle, its session live (a's chunks
/// are moved to it).
fn streams(load: Load) -> &'static [What] {
    match (load.webview, load.n) {
        (0, 0) => &[
            What::Open { id: 1 },
            What::Data {
                stream: 1,
                number: 0,
                byte: b'x',
            },
            What::Data {
                stream: 1,
                number: 1,
                byte: b'y',
            },
            What::End {
                stream: 1,
                number: 2,
            },
        ],
        (0, _) => &[],
        _ => &[],
    }
}

impl Bounds {
    /// The calls model at the bounds the test command checks.
    pub fn calls() -> Bounds {
        Bounds {
            loads: [2, 1],
            scripts: calls,
            attacker: 1,
            deliveries: 2,
            grant_changes: 1,
            injects: true,
        }
    }

    /// The streams model at the bounds the test command checks.
    pub fn streams() -> Bounds {
        Bounds {
            loads: [2, 1],
            scripts: streams,
            attacker: 2,
            deliveries: 2,
            grant_changes: 0,
            injects: true,
        }
    }

    /// The same model `extra` steps deeper: more attacker actions, grant changes and
    /// reloads of webview `b` (`scripts/model-check.sh`).
    pub fn deeper(mut self, extra: u8) -> Bounds {
        if extra == 0 {
            return self;
        }
        self.attacker += extra;
        self.grant_changes += extra;
        self.loads[1] += extra;
        self.injects = true;
        self
    }
}

/// A state of the check: the world (what the checker compares and hashes) and the trace
/// that made it (how the real core is rebuilt to take the next step).
///
/// Two traces that end in the same world are one state: every message met the same fate
/// and every call is in the same phase, and the core's tables (sessions, replay windows,
/// calls, streams, grants) are functions of those fates.
#[derive(Clone, Debug)]
pub struct State {
    /// What the actors did and what the core answered.
    pub world: World,
    /// The actions so far.
    pub trace: Vec<Action>,
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.world == other.world
    }
}

impl Eq for State {}

impl Hash for State {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.world.hash(state);
    }
}

/// The protocol model at some [`Bounds`].
#[derive(Clone, Copy, Debug)]
pub struct Protocol {
    /// How far it looks.
    pub bounds: Bounds,
}

impl Protocol {
    /// The world after `trace`, from a fresh core.
    pub fn replay(&self, trace: &[Action]) -> World {
        Core::replay(&self.bounds.scripts, trace).1
    }

    /// Whether nothing more can happen: no actor can act, and no stream handler would
    /// read anything more.
    pub fn quiescent(&self, state: &State) -> bool {
        let mut actions = Vec::new();
        self.actions(state, &mut actions);
        actions.iter().all(|a| matches!(a, Action::Read(_)))
            && actions
                .into_iter()
                .all(|a| self.next_state(state, a).is_none())
    }
}
