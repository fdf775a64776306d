//! The gate end to end, without a webview: each refusal asserts its code and that no
//! handler ran, next to a twin showing the legitimate path succeeds.

mod common;

use common::*;
use portcullis::envelope::{Encoding, SessionId};
use portcullis::request::{Kind, Request};
use portcullis::router::Payload;
use portcullis::{ErrorCode, Origin, Sealer};
use serde_json::json;

/// What the audit said about each refusal: code, sequence number, kind, request id.
type Events =
    std::sync::Arc<std::sync::Mutex<Vec<(ErrorCode, Option<u64>, Option<Kind>, Option<u64>)>>>;

fn audited_gate() -> (portcullis::Gate, Events) {
    let events = Events::default();
    let sink = events.clone();
    let gate = gate().with_audit_sink(std::sync::Arc::new(
        move |e: &portcullis::AuditEvent<'_>| {
            sink.lock()
                .unwrap()
                .push((e.code, e.seq, e.kind, e.request_id));
        },
    ));
    (gate, events)
}

fn list(s: &mut Sealer, enc: Encoding) -> Vec<u8> {
    command(s, 1, "notes.list", json!(null), enc)
}

#[test]
fn legitimate_command_runs_its_handler_in_both_encodings() {
    let (gate, runs) = (gate(), Runs::default());
    let router = router(&runs);
    let mut s = page(&gate, "main");
    for enc in [Encoding::Json, Encoding::Binary] {
        let admitted = gate
            .admit(&list(&mut s, enc), facts("main", &origin()))
            .unwrap();
        assert_eq!(admitted.capability(), "notes-main");
        let reply = router.dispatch(admitted).wait();
        assert_eq!(reply.result, Ok(Payload::Json(r#"["first"]"#.into())));
    }
    assert_eq!(runs.get(), 2);
}

#[test]
fn replay_of_an_accepted_message_is_refused() {
    let ((gate, events), runs) = (audited_gate(), Runs::default());
    let mut s = page(&gate, "main");
    let msg = list(&mut s, Encoding::Json);
    router(&runs)
        .dispatch(gate.admit(&msg, facts("main", &origin())).unwrap())
        .wait();
    let refusal = gate.admit(&msg, facts("main", &origin())).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::Replay);
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].0, events[0].1), (ErrorCode::Replay, Some(1)));
    assert_eq!(runs.get(), 1, "only the original ran");
}

#[test]
fn out_of_order_inside_the_window_is_accepted_and_too_old_is_stale() {
    let gate = gate();
    let mut s = page(&gate, "main");
    let msgs: Vec<_> = (0..1100).map(|_| list(&mut s, Encoding::Binary)).collect();
    // Deliver 2..=1100 first, then 1: window 1024 at highest 1100 keeps 77..=1100.
    for m in &msgs[1..] {
        gate.admit(m, facts("main", &origin())).unwrap();
    }
    let stale = gate.admit(&msgs[0], facts("main", &origin())).unwrap_err();
    assert_eq!(stale.code, ErrorCode::Stale);
    // Twin: a late message still inside the window is fine.
    let mut t = page(&gate, "note-1");
    let late: Vec<_> = (0..3).map(|_| list(&mut t, Encoding::Binary)).collect();
    gate.admit(&late[2], facts("note-1", &origin())).unwrap();
    gate.admit(&late[0], facts("note-1", &origin())).unwrap();
    gate.admit(&late[1], facts("note-1", &origin())).unwrap();
}

#[test]
fn a_message_sealed_in_one_webview_is_refused_from_another() {
    let gate = gate();
    let mut main = page(&gate, "main");
    let _other = page(&gate, "note-1");
    let msg = list(&mut main, Encoding::Json);
    let refusal = gate.admit(&msg, facts("note-1", &origin())).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::WrongWebview);
    // Twin: from its own webview it passes.
    gate.admit(&msg, facts("main", &origin())).unwrap();
}

#[test]
fn a_sealer_lying_about_its_label_fails_authentication() {
    let gate = gate();
    let grant = gate.begin_page_load("main", origin()).unwrap();
    let sid = grant.session();
    let key = portcullis::aead::default_backend().sealing_key(&grant.into_isolation_key());
    let mut liar = Sealer::new(key, sid, "note-1").unwrap();
    let msg = list(&mut liar, Encoding::Binary);
    let refusal = gate.admit(&msg, facts("main", &origin())).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::Tampered);
    // Twin: the honest sealer of a new page load passes.
    let mut honest = page(&gate, "main");
    gate.admit(
        &list(&mut honest, Encoding::Binary),
        facts("main", &origin()),
    )
    .unwrap();
}

#[test]
fn reload_revokes_the_old_session_and_the_new_one_works() {
    let gate = gate();
    let mut old = page(&gate, "main");
    let in_flight = list(&mut old, Encoding::Json);
    let mut new = page(&gate, "main");
    let refusal = gate
        .admit(&in_flight, facts("main", &origin()))
        .unwrap_err();
    assert_eq!(refusal.code, ErrorCode::SessionRevoked);
    gate.admit(&list(&mut new, Encoding::Json), facts("main", &origin()))
        .unwrap();
    assert!(gate.end_webview("main"));
    let after_close = gate
        .admit(&list(&mut new, Encoding::Json), facts("main", &origin()))
        .unwrap_err();
    assert_eq!(after_close.code, ErrorCode::SessionRevoked);
}

#[test]
fn forged_message_without_the_key_is_refused() {
    let gate = gate();
    let real = page(&gate, "main");
    let sid = gate.sessions().current("main").unwrap();
    drop(real);
    // Right session id, made-up key.
    let mut forger = Sealer::new(
        portcullis::aead::default_backend().sealing_key(&[0x42; 32]),
        sid,
        "main",
    )
    .unwrap();
    let refusal = gate
        .admit(&list(&mut forger, Encoding::Json), facts("main", &origin()))
        .unwrap_err();
    assert_eq!(refusal.code, ErrorCode::Tampered);
    // Made-up session id.
    let mut stranger = Sealer::new(
        portcullis::aead::default_backend().sealing_key(&[0x42; 32]),
        SessionId([7; 16]),
        "main",
    )
    .unwrap();
    let refusal = gate
        .admit(
            &list(&mut stranger, Encoding::Json),
            facts("main", &origin()),
        )
        .unwrap_err();
    assert_eq!(refusal.code, ErrorCode::UnknownSession);
}

#[test]
fn ciphertext_pasted_into_another_sessions_envelope_is_refused() {
    let gate = gate();
    let mut a = page(&gate, "main");
    let mut b = page(&gate, "note-1");
    let from_a = list(&mut a, Encoding::Binary);
    let from_b = list(&mut b, Encoding::Binary);
    let mut spliced = from_b[..40].to_vec();
    spliced.extend_from_slice(&from_a[40..]);
    let refusal = gate
        .admit(&spliced, facts("note-1", &origin()))
        .unwrap_err();
    assert_eq!(refusal.code, ErrorCode::Tampered);
    gate.admit(&from_b, facts("note-1", &origin())).unwrap();
}

#[test]
fn origin_change_without_a_new_page_load_is_refused() {
    let gate = gate();
    let mut s = page(&gate, "main");
    let evil = Origin::parse("https://evil.example").unwrap();
    let refusal = gate
        .admit(&list(&mut s, Encoding::Json), facts("main", &evil))
        .unwrap_err();
    assert_eq!(refusal.code, ErrorCode::OriginMismatch);
    gate.admit(&list(&mut s, Encoding::Json), facts("main", &origin()))
        .unwrap();
}

#[test]
fn unsealed_and_empty_messages_are_refused() {
    let gate = gate();
    let _s = page(&gate, "main");
    for body in [
        &b""[..],
        br#"{"cmd":"notes.list","payload":{}}"#,
        b"notes.list",
    ] {
        let refusal = gate.admit(body, facts("main", &origin())).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::Unsealed, "{body:?}");
    }
    let plain = Request::encode_json(Kind::Command, 1, "notes.list", &json!(null));
    assert_eq!(
        gate.admit(&plain, facts("main", &origin()))
            .unwrap_err()
            .code,
        ErrorCode::Unsealed
    );
}

#[test]
fn policy_refusals_reach_the_caller_with_their_codes() {
    let ((gate, events), runs) = (audited_gate(), Runs::default());
    let mut s = page(&gate, "main");
    let cases = [
        ("notes.purge", json!({}), ErrorCode::Denied),
        ("admin.reset", json!({}), ErrorCode::Denied),
        ("notes.rename", json!({}), ErrorCode::NotAllowed),
        ("notes.add", json!({"title": ""}), ErrorCode::InvalidArgs),
        (
            "notes.add",
            json!({"title": "t", "body": "b", "x": 1}),
            ErrorCode::InvalidArgs,
        ),
        (
            "notes.add",
            json!({"title": 1, "body": "b"}),
            ErrorCode::InvalidArgs,
        ),
        (
            "notes.export",
            json!({"path": "/etc/passwd"}),
            ErrorCode::OutOfScope,
        ),
    ];
    for (i, (name, args, code)) in cases.into_iter().enumerate() {
        let msg = command(&mut s, i as u64, name, args, Encoding::Json);
        let refusal = gate.admit(&msg, facts("main", &origin())).unwrap_err();
        assert_eq!(refusal.code, code, "{name}");
        // The audit event says which call it was: its kind and the caller's request id.
        let (event_code, seq, kind, request_id) = *events.lock().unwrap().last().unwrap();
        assert_eq!(event_code, code, "{name}");
        assert!(seq.is_some(), "{name}");
        assert_eq!((kind, request_id), (Some(Kind::Command), Some(i as u64)));
    }
    assert_eq!(runs.get(), 0);
    // Twin.
    let ok = command(
        &mut s,
        99,
        "notes.add",
        json!({"title": "t", "body": "b"}),
        Encoding::Json,
    );
    let reply = router(&runs)
        .dispatch(gate.admit(&ok, facts("main", &origin())).unwrap())
        .wait();
    assert_eq!(reply.request_id, 99);
    assert!(reply.result.is_ok());
    assert_eq!(runs.get(), 1);
}

#[test]
fn secondary_windows_get_only_their_own_capability() {
    let gate = gate();
    let mut s = page(&gate, "note-7");
    let add = command(
        &mut s,
        1,
        "notes.add",
        json!({"title": "t", "body": "b"}),
        Encoding::Json,
    );
    assert_eq!(
        gate.admit(&add, facts("note-7", &origin()))
            .unwrap_err()
            .code,
        ErrorCode::NotAllowed
    );
    gate.admit(&list(&mut s, Encoding::Json), facts("note-7", &origin()))
        .unwrap();
    let mut stranger = page(&gate, "settings");
    let refusal = gate
        .admit(
            &list(&mut stranger, Encoding::Json),
            facts("settings", &origin()),
        )
        .unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NotAllowed);
}

#[test]
fn a_panicking_handler_becomes_an_error_and_the_router_keeps_serving() {
    let (gate, runs) = (gate(), Runs::default());
    let router = router(&runs);
    let mut s = page(&gate, "main");
    let boom = command(&mut s, 5, "notes.delete", json!({"id": 3}), Encoding::Json);
    let reply = router
        .dispatch(gate.admit(&boom, facts("main", &origin())).unwrap())
        .wait();
    assert_eq!(reply.result.unwrap_err().code, ErrorCode::HandlerPanicked);
    let reply = router
        .dispatch(
            gate.admit(&list(&mut s, Encoding::Json), facts("main", &origin()))
                .unwrap(),
        )
        .wait();
    assert!(reply.result.is_ok());
}

#[test]
fn allowed_command_without_handler_is_unknown_command() {
    let gate = gate();
    let mut s = page(&gate, "main");
    let msg = s
        .seal(
            &Request::encode_bytes(Kind::Command, 1, "notes.attach", b"\x00\xff"),
            Encoding::Binary,
        )
        .unwrap();
    let admitted = gate.admit(&msg, facts("main", &origin())).unwrap();
    let reply = router(&Runs::default()).dispatch(admitted).wait();
    assert_eq!(reply.result.unwrap_err().code, ErrorCode::UnknownCommand);
}

#[test]
fn events_pass_the_same_gate() {
    let (gate, runs) = (gate(), Runs::default());
    let router = router(&runs);
    let mut s = page(&gate, "main");
    let event = |s: &mut Sealer, name: &str, payload| {
        s.seal(
            &Request::encode_json(Kind::Event, 0, name, &payload),
            Encoding::Json,
        )
        .unwrap()
    };
    let ok = event(&mut s, "note-opened", json!({"id": 4}));
    let reply = router
        .dispatch(gate.admit(&ok, facts("main", &origin())).unwrap())
        .wait();
    assert_eq!(reply.kind, Kind::Event);
    assert_eq!(runs.get(), 1);
    for (name, payload, code) in [
        ("note-closed", json!({"id": 4}), ErrorCode::NotAllowed),
        ("note-opened", json!({"id": "4"}), ErrorCode::InvalidArgs),
    ] {
        let refusal = gate
            .admit(&event(&mut s, name, payload), facts("main", &origin()))
            .unwrap_err();
        assert_eq!(refusal.code, code);
    }
    // An oversized event never reaches decryption.
    let huge = event(
        &mut s,
        "note-opened",
        json!({"id": 1, "pad": "x".repeat(5 << 20)}),
    );
    assert_eq!(
        gate.admit(&huge, facts("main", &origin()))
            .unwrap_err()
            .code,
        ErrorCode::TooLarge
    );
    assert_eq!(runs.get(), 1);
}

#[test]
fn deeply_nested_arguments_are_too_deep() {
    let gate = gate();
    let mut s = page(&gate, "main");
    let deep = format!("{}1{}", "[".repeat(17), "]".repeat(17));
    let plain = Request::encode_json(
        Kind::Command,
        1,
        "notes.list",
        &serde_json::from_str(&deep).unwrap(),
    );
    let refusal = gate
        .admit(
            &s.seal(&plain, Encoding::Json).unwrap(),
            facts("main", &origin()),
        )
        .unwrap_err();
    assert_eq!(refusal.code, ErrorCode::TooDeep);
    let ok = format!("{}1{}", "[".repeat(16), "]".repeat(16));
    let plain = Request::encode_json(
        Kind::Command,
        2,
        "notes.list",
        &serde_json::from_str(&ok).unwrap(),
    );
    // At the limit it passes the gate (and then fails the handler's `()` argument type).
    gate.admit(
        &s.seal(&plain, Encoding::Json).unwrap(),
        facts("main", &origin()),
    )
    .unwrap();
}

#[test]
fn brownfield_takes_clear_requests_but_still_applies_the_allowlist() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/configs/valid/brownfield.json"
    ))
    .unwrap();
    let gate = portcullis::Gate::new(
        &portcullis::Config::from_json(&text).unwrap(),
        &portcullis::ScopeVars::new(),
    )
    .unwrap();
    assert!(!gate.isolation());
    let ping = Request::encode_json(Kind::Command, 1, "ping", &json!({}));
    let admitted = gate.admit(&ping, facts("any", &origin())).unwrap();
    assert_eq!(admitted.caller().session, None);
    let other = Request::encode_json(Kind::Command, 2, "notes.list", &json!({}));
    assert_eq!(
        gate.admit(&other, facts("any", &origin()))
            .unwrap_err()
            .code,
        ErrorCode::NotAllowed
    );
}

#[test]
fn async_handlers_are_awaited_and_their_panics_caught() {
    let gate = gate();
    let router = portcullis::Router::new().command("notes.list", || async {
        Ok::<_, portcullis::HandlerError>(7)
    });
    let mut s = page(&gate, "main");
    let reply = router
        .dispatch(
            gate.admit(&list(&mut s, Encoding::Json), facts("main", &origin()))
                .unwrap(),
        )
        .wait();
    assert_eq!(reply.result, Ok(Payload::Json("7".into())));
    let router = portcullis::Router::new().command("notes.list", || async {
        if true {
            panic!("async boom");
        }
        Ok::<u8, portcullis::HandlerError>(0)
    });
    let reply = router
        .dispatch(
            gate.admit(&list(&mut s, Encoding::Json), facts("main", &origin()))
                .unwrap(),
        )
        .wait();
    assert_eq!(reply.result.unwrap_err().code, ErrorCode::HandlerPanicked);
}

#[test]
fn admit_owned_decides_exactly_like_admit() {
    // The transport hands the gate its body, which is decrypted where it lies; `admit`
    // copies. Both entry points must give the same decisions and codes.
    let (gate, runs) = (gate(), Runs::default());
    let router = router(&runs);
    let at = origin();
    let decide = |owned: bool, bytes: &[u8]| {
        if owned {
            gate.admit_owned(bytes.to_vec(), facts("main", &at))
        } else {
            gate.admit(bytes, facts("main", &at))
        }
    };
    let code = |r: Result<portcullis::Admitted, portcullis::Rejection>| match r {
        Ok(a) => panic!("admitted {:?}", a.request().name),
        Err(e) => e.code,
    };
    let too_large = vec![b'P'; 64 * 1024 * 1024];
    for owned in [false, true] {
        for enc in [Encoding::Json, Encoding::Binary] {
            let mut s = page(&gate, "main");
            let good = list(&mut s, enc);
            let reply = router.dispatch(decide(owned, &good).unwrap()).wait();
            assert_eq!(reply.result, Ok(Payload::Json(r#"["first"]"#.into())));
            assert_eq!(code(decide(owned, &good)), ErrorCode::Replay);
            assert_eq!(code(decide(!owned, &good)), ErrorCode::Replay);

            // A bytes body decrypted in place is exactly the bytes that were sealed.
            let attach = Request::encode_bytes(Kind::Command, 9, "notes.attach", b"hello");
            let admitted = decide(owned, &s.seal(&attach, enc).unwrap()).unwrap();
            match &admitted.request().body {
                portcullis::Body::Bytes(b) => assert_eq!(b.as_slice(), b"hello"),
                other => panic!("{enc:?}: expected bytes, got {other:?}"),
            }
        }
        let mut s = page(&gate, "main");
        let mut tampered = list(&mut s, Encoding::Binary);
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(code(decide(owned, &tampered)), ErrorCode::Tampered);
        assert_eq!(code(decide(owned, br#"{"cmd":"x"}"#)), ErrorCode::Unsealed);
        assert_eq!(code(decide(owned, b"")), ErrorCode::Unsealed);
        assert_eq!(code(decide(owned, &too_large)), ErrorCode::TooLarge);
    }
    // Only the four admitted `notes.list` calls ran their handler.
    assert_eq!(runs.get(), 4);
}
