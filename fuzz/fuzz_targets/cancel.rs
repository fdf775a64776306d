//! Fuzzes cancel messages (kind 4) through the gate and the router's calls in flight.
//!
//! The input is a program over two webviews (their page loads, and the ones that
//! replaced them) and a brownfield gate that shares the router: start calls (sealed or
//! clear commands), seal cancels of any id, seal arbitrary plaintexts (cancel framing
//! gone wrong), deliver them now, again, from another webview or reworked, hand a cancel
//! to `Gate::admit` (which takes calls only), finish calls, reload pages.
//!
//! Invariants, besides "no panic":
//! - the gate admits only what the harness sealed, for its webview, once; a cancel it
//!   admits names the id that was sealed, and a plaintext it reads as a cancel is exactly
//!   `encode_cancel(id)`; `Gate::admit` never returns a cancel as a call;
//! - a call starts unless its page load has a call of that id in flight;
//! - `Router::cancel` succeeds exactly when the cancel's own page load (webview and
//!   session) has that call in flight, and cancels that call's token and no other;
//! - a page going away cancels its calls and only its calls; no call is left in flight.
#![no_main]

mod common;

use std::sync::OnceLock;

use common::{Input, LABELS, Page, Record, STRANGER, Sealed, facts, mutate};
use libfuzzer_sys::fuzz_target;
use portcullis_core::envelope::Encoding;
use portcullis_core::request::{CANCEL_NAME, Kind, Request, encode_cancel};
use portcullis_core::router::{Dispatch, InFlight, Work};
use portcullis_core::{CancellationToken, Gate, Inbound, Router, SessionId};
use serde_json::json;

struct World {
    sealed: Gate,
    clear: Gate,
    router: Router,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let router = Router::new()
            .command("work", |_: CancellationToken| {})
            .command("tick", || {});
        router.check().expect("the fuzz router is sound");
        World {
            sealed: common::gate(&common::config()),
            clear: common::gate(&common::clear_config()),
            router,
        }
    })
}

/// A call the router started: its page load and id, its work (not run until it
/// finishes) and the token the harness expects to be cancelled or not.
struct Call {
    webview: &'static str,
    session: Option<SessionId>,
    id: u64,
    flight: InFlight,
    work: Option<Work>,
    cancelled: bool,
}

struct Run<'w> {
    w: &'w World,
    pages: Vec<Page>,
    calls: Vec<Call>,
    record: Record,
    sent: Vec<(&'static str, bool, Vec<u8>)>,
}

impl<'w> Run<'w> {
    fn new(w: &'w World) -> Self {
        Run {
            w,
            pages: LABELS.iter().map(|l| Page::begin(&w.sealed, l)).collect(),
            calls: Vec::new(),
            record: Record::default(),
            sent: Vec::new(),
        }
    }

    fn label(&self, inp: &mut Input<'_>, own: &'static str) -> &'static str {
        match inp.u8() % 8 {
            0 => LABELS[(LABELS.iter().position(|l| *l == own).unwrap() + 1) % 2],
            1 => STRANGER,
            _ => own,
        }
    }

    fn id(&mut self, inp: &mut Input<'_>) -> u64 {
        let b = inp.u8();
        if b < 128 && !self.calls.is_empty() {
            self.calls[usize::from(b) % self.calls.len()].id
        } else if b < 240 {
            u64::from(b % 8)
        } else {
            inp.u64()
        }
    }

    fn in_flight(&self, webview: &str, session: Option<SessionId>, id: u64) -> Option<usize> {
        self.calls
            .iter()
            .position(|c| c.webview == webview && c.session == session && c.id == id)
    }

    /// Seals something with page `p`'s sealer and delivers it (or keeps it for later).
    fn send(&mut self, inp: &mut Input<'_>, p: usize, plain: &[u8], what: Sealed) {
        let enc = if inp.u8() % 4 == 0 {
            Encoding::Json
        } else {
            Encoding::Binary
        };
        let sealed = self.record.seal(&mut self.pages[p], plain, enc, what);
        let label = self.label(inp, self.pages[p].label);
        if self.sent.len() < 64 {
            self.sent.push((label, true, sealed.clone()));
        }
        match inp.u8() % 8 {
            0 => {}
            1 => {
                // Where a call is expected, a cancel is refused (and so is everything
                // else that is not an admitted call).
                if let Ok(admitted) = self.w.sealed.admit(&sealed, facts(label)) {
                    let what = self.record.check_admitted(admitted.caller(), label);
                    assert!(
                        matches!(what, Sealed::Request { kind: 1, .. } | Sealed::Plain(_)),
                        "Gate::admit returned a call where {what:?} was sealed"
                    );
                    self.check_call(&admitted, &what);
                    self.dispatch(admitted, label);
                }
            }
            _ => self.deliver(sealed, label, true),
        }
    }

    fn check_call(&self, admitted: &portcullis_core::Admitted, what: &Sealed) {
        let r = admitted.request();
        match what {
            Sealed::Request { kind: 1, id, name } => assert_eq!(
                (r.kind, r.id, &r.name),
                (Kind::Command, *id, name),
                "admitted another call than was sealed"
            ),
            Sealed::Plain(plain) => {
                let kind = match plain.first() {
                    Some(1) => Kind::Command,
                    Some(2) => Kind::Event,
                    Some(5) => Kind::Stream,
                    other => panic!("a call was admitted from a plaintext of kind {other:?}"),
                };
                assert_eq!(r.kind, kind, "a call's kind misread");
                assert_eq!(
                    plain.get(2..10),
                    Some(&r.id.to_be_bytes()[..]),
                    "a call's id misread"
                );
            }
            other => panic!("a call was admitted where {other:?} was sealed"),
        }
    }

    fn deliver(&mut self, bytes: Vec<u8>, label: &'static str, sealed: bool) {
        let gate = if sealed {
            &self.w.sealed
        } else {
            &self.w.clear
        };
        let Ok(inbound) = gate.receive_owned(bytes, facts(label)) else {
            return;
        };
        match inbound {
            Inbound::Cancel(cancel) => {
                let caller = cancel.caller();
                if sealed {
                    let what = self.record.check_admitted(caller, label);
                    match what {
                        Sealed::Request { kind: 4, id, .. } => assert_eq!(
                            cancel.request_id(),
                            id,
                            "a cancel was admitted for another id than was sealed"
                        ),
                        Sealed::Plain(plain) => assert_eq!(
                            plain,
                            encode_cancel(cancel.request_id()),
                            "a plaintext other than a cancel's framing was taken as a cancel"
                        ),
                        other => panic!("a cancel was admitted where {other:?} was sealed"),
                    }
                } else {
                    assert_eq!(caller.session, None);
                    assert_eq!(&*caller.webview, label);
                }
                let (webview, session, id) = (label, caller.session, cancel.request_id());
                let expected = self.in_flight(webview, session, id);
                let got = self.w.router.cancel(&cancel);
                assert_eq!(
                    got.is_ok(),
                    expected.is_some(),
                    "a cancel of call {id} was {} though its page load {} it in flight",
                    if got.is_ok() { "honoured" } else { "refused" },
                    if expected.is_some() {
                        "has"
                    } else {
                        "does not have"
                    }
                );
                if let Some(k) = expected {
                    self.calls[k].cancelled = true;
                }
                self.check_tokens();
            }
            Inbound::Call(admitted) => {
                if sealed {
                    let what = self.record.check_admitted(admitted.caller(), label);
                    self.check_call(&admitted, &what);
                }
                self.dispatch(admitted, label);
            }
            Inbound::Chunk(_) => {
                // No stream was opened here: the router refuses it (E_NO_SUCH_STREAM);
                // only a clear gate can produce one from these inputs.
                assert!(!sealed, "a chunk was admitted though none was sealed");
            }
        }
    }

    fn dispatch(&mut self, admitted: portcullis_core::Admitted, label: &'static str) {
        let session = admitted.caller().session;
        let id = admitted.request().id;
        let busy = self.in_flight(label, session, id).is_some();
        match self.w.router.dispatch(admitted) {
            Dispatch::Started(work, flight) => {
                assert!(!busy, "a second call {id} started while one is in flight");
                assert!(!flight.token().is_cancelled());
                self.calls.push(Call {
                    webview: label,
                    session,
                    id,
                    flight,
                    work: Some(work),
                    cancelled: false,
                });
            }
            Dispatch::Ready(_) => {}
            Dispatch::Stream(..) => panic!("a command opened a stream"),
        }
    }

    /// Every token is cancelled exactly when the harness expects it.
    fn check_tokens(&self) {
        for c in &self.calls {
            assert_eq!(
                c.flight.token().is_cancelled(),
                c.cancelled,
                "call {} of {} has its token {} though {}",
                c.id,
                c.webview,
                if c.cancelled { "live" } else { "cancelled" },
                if c.cancelled {
                    "it was cancelled"
                } else {
                    "nothing cancelled it"
                }
            );
        }
    }

    fn step(&mut self, inp: &mut Input<'_>) {
        match inp.u8() % 12 {
            0 | 1 => {
                let p = inp.index(self.pages.len());
                let id = self.id(inp);
                let name = if inp.u8() % 4 == 0 { "tick" } else { "work" };
                let plain = Request::encode_json(Kind::Command, id, name, &json!({}));
                let what = Sealed::Request {
                    kind: 1,
                    id,
                    name: name.to_owned(),
                };
                self.send(inp, p, &plain, what);
            }
            2..=4 => {
                let p = inp.index(self.pages.len());
                let id = self.id(inp);
                let what = Sealed::Request {
                    kind: 4,
                    id,
                    name: CANCEL_NAME.to_owned(),
                };
                self.send(inp, p, &encode_cancel(id), what);
            }
            5 => {
                // A plaintext near a cancel's framing, or any.
                let p = inp.index(self.pages.len());
                let mut plain = if inp.bool() {
                    encode_cancel(self.id(inp))
                } else {
                    Vec::new()
                };
                mutate(inp, &mut plain);
                plain.extend_from_slice(inp.bytes(48));
                if inp.bool() && !plain.is_empty() {
                    plain[0] = 4;
                }
                self.send(inp, p, &plain.clone(), Sealed::Plain(plain));
            }
            6 => {
                // Brownfield: a clear call or cancel from a webview (no session).
                let label = LABELS[inp.index(2)];
                let id = self.id(inp);
                let mut plain = if inp.bool() {
                    encode_cancel(id)
                } else {
                    Request::encode_json(Kind::Command, id, "work", &json!({}))
                };
                if inp.u8() % 4 == 0 {
                    mutate(inp, &mut plain);
                }
                if self.sent.len() < 64 {
                    self.sent.push((label, false, plain.clone()));
                }
                self.deliver(plain, label, false);
            }
            7 => {
                if !self.sent.is_empty() {
                    let i = inp.index(self.sent.len());
                    let (label, sealed, mut bytes) = self.sent[i].clone();
                    if inp.bool() {
                        mutate(inp, &mut bytes);
                    }
                    let label = if inp.u8() % 4 == 0 {
                        LABELS[inp.index(2)]
                    } else {
                        label
                    };
                    self.deliver(bytes, label, sealed);
                }
            }
            8 => {
                let raw = inp.bytes(128).to_vec();
                let label = LABELS[inp.index(2)];
                let sealed = inp.bool();
                self.deliver(raw, label, sealed);
            }
            9 | 10 => {
                // A call finishes: its handler runs and the call leaves the table.
                if !self.calls.is_empty() {
                    let k = inp.index(self.calls.len());
                    let mut call = self.calls.remove(k);
                    if let Some(work) = call.work.take() {
                        let _ = call.flight.finish(work.run_here());
                    }
                }
            }
            _ => {
                // A new page load: the transport cancels the old one's calls.
                let label = LABELS[inp.index(2)];
                self.w.router.cancel_webview(label);
                for c in &mut self.calls {
                    if c.webview == label {
                        c.cancelled = true;
                    }
                }
                self.check_tokens();
                if self.pages.len() < 8 {
                    self.pages.push(Page::begin(&self.w.sealed, label));
                } else {
                    let i = self.pages.iter().rposition(|p| p.label == label).unwrap();
                    self.pages[i] = Page::begin(&self.w.sealed, label);
                }
            }
        }
    }

    fn end(mut self) {
        for label in LABELS {
            self.w.router.cancel_webview(label);
        }
        for c in &mut self.calls {
            c.cancelled = true;
        }
        self.check_tokens();
        self.calls.clear();
        assert_eq!(self.w.router.in_flight(), 0, "calls left in flight");
    }
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let mut inp = Input::new(data);
    let mut run = Run::new(w);
    let mut steps = 0;
    while !inp.is_empty() && steps < 64 {
        run.step(&mut inp);
        steps += 1;
    }
    run.end();
});
