//! What must hold in every world the checker reaches (`always`), at the end of every
//! fair run (`eventually`), and what must be reachable at all (`sometimes`, so that no
//! `always` holds only because nothing happened).

use portcullis_core::ErrorCode;
use stateright::Property;

use crate::core::STREAM_BUDGET;
use crate::protocol::{Protocol, State};
use crate::world::{Command, Phase, What, World};

/// Every property, in the order `docs/MODEL.md` lists them.
pub fn all() -> Vec<Property<Protocol>> {
    vec![
        Property::always("admitted at most once", |_, s: &State| {
            at_most_once(&s.world)
        }),
        Property::always(
            "nothing of an ended page load or another webview, nothing forged",
            |_, s: &State| only_live_and_own(&s.world),
        ),
        Property::always(
            "an upload yields the opener's bytes in order, or an error",
            |_, s: &State| uploads_are_the_openers(&s.world),
        ),
        Property::always(
            "nothing admitted or started after the revoke returned",
            |_, s: &State| nothing_after_revoke(&s.world),
        ),
        Property::always(
            "a cancel stops only its own page load's call",
            |_, s: &State| s.world.foreign_cancels == 0,
        ),
        Property::always("the core holds no more than its bounds", |_, s: &State| {
            within_bounds(&s.world)
        }),
        Property::eventually(
            "every legitimate call of a live page load is answered",
            |m: &Protocol, s: &State| m.quiescent(s) && answered(&s.world),
        ),
        Property::sometimes("a call runs its handler", |_, s: &State| {
            s.world
                .calls
                .iter()
                .any(|c| c.phase == Phase::Answered(Ok(())))
        }),
        Property::sometimes("a call is stopped before its end", |_, s: &State| {
            stopped(s)
        }),
    ]
}

fn admitted(w: &World) -> impl Iterator<Item = (&crate::world::Msg, &crate::world::Fate)> {
    w.msgs
        .iter()
        .flat_map(|m| m.fates.iter().map(move |f| (m, f)))
        .filter(|(_, f)| f.result.is_ok())
}

fn at_most_once(w: &World) -> bool {
    w.msgs
        .iter()
        .all(|m| m.fates.iter().filter(|f| f.result.is_ok()).count() <= 1)
}

fn only_live_and_own(w: &World) -> bool {
    admitted(w).all(|(m, f)| f.live && f.to == m.load.webview)
        && w.injected.iter().all(|f| f.result.is_err())
}

/// The data the opener of stream call `n` sealed, in its numbers' order.
fn opener_bytes(w: &World, n: u8) -> Vec<u8> {
    let open = &w.msgs[usize::from(w.calls[usize::from(n)].msg)];
    let What::Open { id } = open.what else {
        return Vec::new();
    };
    let mut data: Vec<(u8, u8)> = w
        .msgs
        .iter()
        .filter(|m| m.load == open.load)
        .filter_map(|m| match m.what {
            What::Data {
                stream,
                number,
                byte,
            } if stream == id => Some((number, byte)),
            _ => None,
        })
        .collect();
    data.sort_unstable();
    data.into_iter().map(|(_, b)| b).collect()
}

fn uploads_are_the_openers(w: &World) -> bool {
    w.uploads.iter().all(|read| {
        let wrote = opener_bytes(w, read.call);
        match read.end {
            Some(Ok(())) => read.bytes == wrote,
            _ => wrote.starts_with(&read.bytes),
        }
    })
}

fn nothing_after_revoke(w: &World) -> bool {
    let export = |m: &crate::world::Msg| {
        matches!(
            m.what,
            What::Call {
                command: Command::Export,
                ..
            }
        )
    };
    w.late_starts == 0 && admitted(w).all(|(m, f)| !export(m) || f.granted)
}

fn within_bounds(w: &World) -> bool {
    let running = |stream: bool| {
        w.calls
            .iter()
            .filter(|c| c.phase == Phase::Running)
            .filter(|c| matches!(w.msgs[usize::from(c.msg)].what, What::Open { .. }) == stream)
            .count()
    };
    let h = w.held;
    usize::from(h.sessions) <= 2
        && usize::from(h.in_flight) <= running(false) + running(true)
        && usize::from(h.streams) <= running(true)
        && h.stream_bytes
            .iter()
            .all(|b| usize::from(*b) <= STREAM_BUDGET)
}

/// Every call of a live page load whose every message was delivered to its own webview
/// got its answer: the handler's (or its cancel's, or a revoke's), and every chunk the
/// gate let past got its own.
fn answered(w: &World) -> bool {
    let fair = |load| {
        w.msgs
            .iter()
            .filter(|m| m.load == load)
            .all(|m| m.delivered_home())
    };
    w.msgs
        .iter()
        .enumerate()
        .filter(|(_, m)| w.is_live(m.load) && fair(m.load))
        .all(|(i, m)| {
            let home = m.fates.iter().find(|f| f.to == m.load.webview);
            match (m.what, home.map(|f| f.result)) {
                (What::Call { .. } | What::Open { .. }, Some(Ok(()))) => w
                    .calls
                    .iter()
                    .any(|c| usize::from(c.msg) == i && matches!(c.phase, Phase::Answered(_))),
                (What::Call { .. }, Some(Err(code))) => {
                    matches!(code, ErrorCode::NotGranted | ErrorCode::GrantRevoked)
                }
                (What::Data { .. } | What::End { .. }, _) => {
                    let let_past = m.fates.iter().filter(|f| f.result.is_ok()).count();
                    let answers = w
                        .chunk_answers
                        .iter()
                        .filter(|(msg, _)| usize::from(*msg) == i)
                        .count();
                    answers >= let_past
                }
                (What::Cancel { .. }, _) => true,
                _ => false,
            }
        })
}

fn stopped(s: &State) -> bool {
    s.world
        .calls
        .iter()
        .any(|c| matches!(c.phase, Phase::Answered(Err(_))))
}
