//! The model: which actions each actor may take in a world ([`Bounds`] keep it finite),
//! and what the real core made of them ([`crate::core`]).

use stateright::Model;

use crate::protocol::{Bounds, Protocol, State};
use crate::world::{Action, Load, Phase, What, World};

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
