//! Cancellation through the gate, without a webview: a cancel is a sealed message of its
//! own (kind 4), and the router honours it only for a call of the same page load. Each
//! refusal asserts its code and that the call it named was not cancelled (its handler ran
//! to the end), next to the twin where the page load cancels its own call.
//!
//! Every test runs twice, with the router as a core embedder builds it (a call's token is
//! made when first asked for) and as `portcullis-wry` builds it
//! ([`Router::watches_calls`]: each call's token is made as the call starts): cancels
//! must behave the same either way.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use portcullis::envelope::Encoding;
use portcullis::request::encode_cancel;
use portcullis::router::{CallError, Dispatch, InFlight, Work};
use portcullis::{CancellationToken, ErrorCode, Gate, Inbound, Router, Sealer};
use serde_json::json;

/// Both ways an embedder builds its router: `watched` as `portcullis-wry` does.
const MODES: [bool; 2] = [false, true];

/// `router`, built the way `watched` says.
fn built(router: Router, watched: bool) -> Router {
    if watched {
        router.watches_calls()
    } else {
        router
    }
}

/// A handler that records whether its token was cancelled when it ran.
fn watching_router(seen: &Arc<Mutex<Vec<bool>>>, ran: &Arc<AtomicUsize>, watched: bool) -> Router {
    let (seen, ran) = (seen.clone(), ran.clone());
    let router = Router::new().command("notes.list", move |token: CancellationToken| {
        ran.fetch_add(1, Ordering::SeqCst);
        seen.lock().unwrap().push(token.is_cancelled());
        vec!["first"]
    });
    built(router, watched)
}

/// Starts call `id` of `sealer`'s page load in `label`: the handler has not run yet.
fn start(gate: &Gate, router: &Router, s: &mut Sealer, label: &str, id: u64) -> (Work, InFlight) {
    let sealed = command(s, id, "notes.list", json!({}), Encoding::Binary);
    let admitted = gate.admit(&sealed, facts(label, &origin())).unwrap();
    match router.dispatch(admitted) {
        Dispatch::Started(work, call) => (work, call),
        Dispatch::Ready(r) => panic!("the call did not start: {r:?}"),
        Dispatch::Stream(_, call) => panic!("a command opened a stream: {call:?}"),
    }
}

/// Seals a cancel of call `id` with `sealer`, arriving from `label`, and hands it to the
/// router: what the transport does.
fn cancel(
    gate: &Gate,
    router: &Router,
    s: &mut Sealer,
    label: &str,
    id: u64,
) -> Result<(), CallError> {
    let sealed = s.seal(&encode_cancel(id), Encoding::Binary).unwrap();
    match gate.receive_owned(sealed, facts(label, &origin())).unwrap() {
        Inbound::Cancel(c) => router.cancel(&c),
        Inbound::Call(a) => panic!("a cancel was admitted as a call: {a:?}"),
        Inbound::Chunk(c) => panic!("a cancel was taken as a chunk: {c:?}"),
    }
}

/// Whether `call` was cancelled, read without asking for its token (which would make
/// it): its `Debug` reads the table.
fn cancelled_untouched(call: &InFlight) -> bool {
    format!("{call:?}").contains("cancelled: true")
}

#[test]
fn a_page_load_cancels_its_own_call_and_the_handler_sees_it() {
    for watched in MODES {
        let gate = gate();
        let (seen, ran) = (Arc::default(), Arc::default());
        let router = watching_router(&seen, &ran, watched);
        let mut s = page(&gate, "main");
        let (work, call) = start(&gate, &router, &mut s, "main", 5);
        assert_eq!(cancel(&gate, &router, &mut s, "main", 5), Ok(()));
        assert!(call.token().is_cancelled(), "watched: {watched}");
        let _ = call.finish(work.run_here());
        assert_eq!(
            *seen.lock().unwrap(),
            [true],
            "the handler saw its token cancelled (watched: {watched})"
        );
        assert_eq!(router.in_flight(), 0);
    }
}

#[test]
fn a_cancel_that_comes_before_the_calls_token_is_kept_for_it() {
    for watched in MODES {
        let gate = gate();
        // No extractor asks for the token: unwatched, the call starts without one.
        let router = built(
            Router::new().command("notes.list", || vec!["first"]),
            watched,
        );
        let mut main = page(&gate, "main");
        let mut other = page(&gate, "note-7");
        let (work, call) = start(&gate, &router, &mut main, "main", 5);
        let refused = cancel(&gate, &router, &mut other, "note-7", 5).unwrap_err();
        assert_eq!(refused.code, ErrorCode::NoSuchCall);
        assert!(!cancelled_untouched(&call), "watched: {watched}");
        assert_eq!(cancel(&gate, &router, &mut main, "main", 5), Ok(()));
        assert!(cancelled_untouched(&call), "watched: {watched}");
        assert!(
            call.token().is_cancelled(),
            "the token made after the cancel is born cancelled (watched: {watched})"
        );
        let _ = call.finish(work.run_here());
        assert_eq!(router.in_flight(), 0);
    }
}

#[test]
fn a_cancel_from_another_webview_is_refused_and_the_call_runs_to_its_end() {
    for watched in MODES {
        let gate = gate();
        let (seen, ran) = (Arc::default(), Arc::default());
        let router = watching_router(&seen, &ran, watched);
        let mut main = page(&gate, "main");
        let mut other = page(&gate, "note-7");
        let (work, call) = start(&gate, &router, &mut main, "main", 5);
        let refused = cancel(&gate, &router, &mut other, "note-7", 5).unwrap_err();
        assert_eq!(refused.code, ErrorCode::NoSuchCall);
        assert!(!call.token().is_cancelled(), "watched: {watched}");
        let reply = call.finish(work.run_here());
        assert!(reply.result.is_ok());
        assert_eq!(*seen.lock().unwrap(), [false], "watched: {watched}");
        // Twin: the same webview's own page load can.
        let (work, call) = start(&gate, &router, &mut main, "main", 6);
        assert_eq!(cancel(&gate, &router, &mut main, "main", 6), Ok(()));
        let _ = call.finish(work.run_here());
        assert_eq!(*seen.lock().unwrap(), [false, true], "watched: {watched}");
    }
}

#[test]
fn a_cancel_from_a_later_page_load_of_the_same_webview_is_refused() {
    for watched in MODES {
        let gate = gate();
        let (seen, ran) = (Arc::default(), Arc::default());
        let router = watching_router(&seen, &ran, watched);
        let mut first = page(&gate, "main");
        let (work, call) = start(&gate, &router, &mut first, "main", 5);
        // The webview reloads: a new page load, a new session, the same label and id space.
        let mut second = page(&gate, "main");
        let refused = cancel(&gate, &router, &mut second, "main", 5).unwrap_err();
        assert_eq!(refused.code, ErrorCode::NoSuchCall);
        assert!(!call.token().is_cancelled(), "watched: {watched}");
        let _ = call.finish(work.run_here());
        assert_eq!(*seen.lock().unwrap(), [false], "watched: {watched}");
        // Twin: the second page load cancels its own call with that id.
        let (work, call) = start(&gate, &router, &mut second, "main", 5);
        assert_eq!(cancel(&gate, &router, &mut second, "main", 5), Ok(()));
        let _ = call.finish(work.run_here());
        assert_eq!(*seen.lock().unwrap(), [false, true], "watched: {watched}");
    }
}

#[test]
fn a_cancel_for_a_finished_or_never_made_call_is_refused_and_a_replayed_one_too() {
    for watched in MODES {
        let gate = gate();
        let (seen, ran) = (Arc::default(), Arc::default());
        let router = watching_router(&seen, &ran, watched);
        let mut s = page(&gate, "main");
        assert_eq!(
            cancel(&gate, &router, &mut s, "main", 9).unwrap_err().code,
            ErrorCode::NoSuchCall
        );
        let (work, call) = start(&gate, &router, &mut s, "main", 5);
        let sealed = s.seal(&encode_cancel(5), Encoding::Binary).unwrap();
        let _ = call.finish(work.run_here());
        // The call finished before its cancel arrived.
        let Inbound::Cancel(c) = gate
            .receive_owned(sealed.clone(), facts("main", &origin()))
            .unwrap()
        else {
            panic!("not a cancel");
        };
        assert_eq!(router.cancel(&c).unwrap_err().code, ErrorCode::NoSuchCall);
        // A cancel is replay-protected like every sealed message.
        let replayed = gate
            .receive_owned(sealed, facts("main", &origin()))
            .unwrap_err();
        assert_eq!(replayed.code, ErrorCode::Replay);
        assert_eq!(*seen.lock().unwrap(), [false], "watched: {watched}");
    }
}

#[test]
fn a_cancel_is_never_a_call_and_a_malformed_one_is_a_bad_request() {
    for watched in MODES {
        let gate = gate();
        let (seen, ran) = (Arc::default(), Arc::default());
        let router = watching_router(&seen, &ran, watched);
        let mut s = page(&gate, "main");
        let sealed = s.seal(&encode_cancel(5), Encoding::Binary).unwrap();
        // Where the embedder expects a call (`admit`), a cancel is refused.
        assert_eq!(
            gate.admit(&sealed, facts("main", &origin()))
                .unwrap_err()
                .code,
            ErrorCode::BadRequest
        );
        // A cancel frame with a body, or under another name.
        let mut with_body = encode_cancel(5);
        with_body.extend_from_slice(b"{}");
        let mut renamed = encode_cancel(5);
        let at = renamed.len() - "cancel".len();
        renamed[at..].copy_from_slice(b"CANCEL");
        for plain in [with_body, renamed] {
            let sealed = s.seal(&plain, Encoding::Binary).unwrap();
            let e = gate
                .receive_owned(sealed, facts("main", &origin()))
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::BadRequest);
        }
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        // Twin: a well-formed cancel of a running call is honoured.
        let (work, call) = start(&gate, &router, &mut s, "main", 5);
        assert_eq!(cancel(&gate, &router, &mut s, "main", 5), Ok(()));
        let _ = call.finish(work.run_here());
        assert_eq!(*seen.lock().unwrap(), [true], "watched: {watched}");
    }
}
