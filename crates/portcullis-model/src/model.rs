//! The model: which actions each actor may take in a world ([`Bounds`] keep it finite),
//! and what the real core made of them ([`crate::core`]).

use std::hash::{Hash, Hasher};

use stateright::Model;

use crate::core::Core;
use crate::world::{Action, Load, Phase, What, World};

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

/// Whether page load `load`'s stream was opened: the bridge hands the frame a stream's
/// chunks only after the gate answered its open.
fn opened(w: &World, load: Load) -> bool {
    w.calls.iter().any(|c| {
        let m = &w.msgs[usize::from(c.msg)];
        m.load == load && matches!(m.what, What::Open { .. }) && c.phase != Phase::Admitted
    })
}

/// Whether webview `v`'s current page load has a step to seal or a message not yet
/// delivered to its own webview.
fn sending(w: &World, b: &Bounds, v: u8) -> bool {
    let load = w.current(v);
    usize::from(w.sealed[usize::from(v)]) < (b.scripts)(load).len()
        || w.msgs.iter().any(|m| m.load == load && !m.delivered_home())
}

/// Whether webview `v`'s current page load has work left: a step to seal, a message not
/// yet delivered to its own webview, or a call not yet answered.
fn busy(w: &World, b: &Bounds, v: u8) -> bool {
    let load = w.current(v);
    let mine = |m: &crate::world::Msg| m.load == load;
    usize::from(w.sealed[usize::from(v)]) < (b.scripts)(load).len()
        || w.msgs.iter().any(|m| mine(m) && !m.delivered_home())
        || w.calls
            .iter()
            .any(|c| mine(&w.msgs[usize::from(c.msg)]) && !matches!(c.phase, Phase::Answered(_)))
}

impl Model for Protocol {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![State {
            world: self.replay(&[]),
            trace: Vec::new(),
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        let (w, b) = (&state.world, &self.bounds);
        let attacker = w.spent < b.attacker;
        for v in 0..2u8 {
            let script = (b.scripts)(w.current(v));
            if let Some(next) = script.get(usize::from(w.sealed[usize::from(v)]))
                && (!next.is_chunk() || opened(w, w.current(v)))
            {
                actions.push(Action::Seal(v));
            }
        }
        for (i, m) in w.msgs.iter().enumerate() {
            let i = u8::try_from(i).unwrap_or(u8::MAX);
            if m.fates.len() >= usize::from(b.deliveries) {
                continue;
            }
            for to in 0..2u8 {
                if attacker || (to == m.load.webview && !m.delivered_home()) {
                    actions.push(Action::Deliver { msg: i, to });
                }
            }
        }
        if attacker && b.injects {
            for head in 0..w.msgs.len() {
                for body in 0..w.msgs.len() {
                    if head != body {
                        let (head, body) = (head as u8, body as u8);
                        actions.push(Action::Splice { head, body });
                    }
                }
            }
            actions.push(Action::Forge(0));
        }
        // A reload comes while the page load still has messages to send, a grant change
        // while it has work left, so that runs ending without them are checked too, and
        // a call left hanging ends a run rather than being excused by a reload.
        for v in 0..2u8 {
            if w.loads[usize::from(v)] < b.loads[usize::from(v)] && sending(w, b, v) {
                actions.push(Action::Reload(v));
            }
        }
        if w.grant_changes < b.grant_changes && busy(w, b, 0) {
            actions.push(if w.granted {
                Action::Revoke
            } else {
                Action::Grant
            });
        }
        for (n, call) in w.calls.iter().enumerate() {
            let n = u8::try_from(n).unwrap_or(u8::MAX);
            let stream = matches!(w.msgs[usize::from(call.msg)].what, What::Open { .. });
            match call.phase {
                Phase::Admitted => actions.push(Action::Dispatch(n)),
                Phase::Running if stream => actions.push(Action::Read(n)),
                Phase::Running => actions.push(Action::Finish(n)),
                Phase::Answered(_) => {}
            }
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut trace = last.trace.clone();
        trace.push(action);
        let world = self.replay(&trace);
        (world != last.world).then_some(State { world, trace })
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        crate::properties::all()
    }
}
