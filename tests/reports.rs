//! Refusals made outside the gate reach the app's audit: the isolation frame reports its
//! own refusals (hook said no, hook timed out, a value JSON would change) sealed like any
//! message; the gate records them with the frame's code and never admits them. Transport
//! refusals that happen before the gate go through the same audit path.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use portcullis::envelope::Encoding;
use portcullis::request::{Kind, MAX_REPORT_MESSAGE, REPORT_NAME, Request};
use portcullis::{ErrorCode, Gate, Rejection, Report, Sealer};
use serde_json::json;

/// (code, name, origin, message, detail) of each audit event.
type Log = Arc<
    Mutex<
        Vec<(
            ErrorCode,
            Option<String>,
            Option<String>,
            String,
            Option<String>,
            Option<u64>,
        )>,
    >,
>;

fn audited_gate() -> (Gate, Log) {
    let log: Log = Arc::default();
    let sink = log.clone();
    let gate = gate().with_audit_sink(Arc::new(move |e: &portcullis::AuditEvent<'_>| {
        sink.lock().unwrap().push((
            e.code,
            e.name.map(str::to_owned),
            e.origin.clone(),
            e.message.to_owned(),
            e.detail.map(str::to_owned),
            e.request_id,
        ))
    }));
    (gate, log)
}

fn report(code: ErrorCode, name: Option<&str>) -> Report {
    Report {
        request_id: 7,
        code,
        message: "notes may not contain markup".into(),
        kind: Some(Kind::Command),
        name: name.map(str::to_owned),
    }
}

fn seal(s: &mut Sealer, plain: &[u8]) -> Vec<u8> {
    s.seal(plain, Encoding::Binary).unwrap()
}

#[test]
fn a_sealed_report_is_audited_with_the_frames_code_and_never_admitted() {
    let (gate, log) = audited_gate();
    let mut s = page(&gate, "main");
    for code in Report::CODES {
        let sealed = seal(&mut s, &report(*code, Some("notes.add")).encode());
        let refusal = gate.admit(&sealed, facts("main", &origin())).unwrap_err();
        assert_eq!(refusal.code, *code);
        // The frame's own words are the event's detail, not the message.
        assert!(
            refusal.message.contains("isolation frame") && !refusal.message.contains("markup"),
            "{}",
            refusal.message
        );
    }
    let log = log.lock().unwrap();
    assert_eq!(log.len(), Report::CODES.len());
    for ((code, name, origin, _, detail, request_id), want) in log.iter().zip(Report::CODES) {
        assert_eq!(code, want);
        // The refused call's id, so the app can tie the event to the frontend's call.
        assert_eq!(*request_id, Some(7));
        assert_eq!(name.as_deref(), Some("notes.add"));
        assert_eq!(origin.as_deref(), Some(APP));
        assert_eq!(detail.as_deref(), Some("notes may not contain markup"));
    }
    // The twin: a sealed command of the same page load is admitted.
    let call = seal(
        &mut s,
        &Request::encode_json(Kind::Command, 8, "notes.list", &json!({})),
    );
    assert!(gate.admit(&call, facts("main", &origin())).is_ok());
}

#[test]
fn a_report_may_carry_only_codes_the_frame_produces() {
    let (gate, log) = audited_gate();
    let mut s = page(&gate, "main");
    for code in [
        ErrorCode::NotAllowed,
        ErrorCode::Replay,
        ErrorCode::Internal,
    ] {
        let sealed = seal(&mut s, &report(code, Some("notes.add")).encode());
        let refusal = gate.admit(&sealed, facts("main", &origin())).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::BadRequest, "{code}");
    }
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|e| e.0 == ErrorCode::BadRequest));
}

#[test]
fn malformed_reports_are_bad_requests() {
    let (gate, _) = audited_gate();
    let mut s = page(&gate, "main");
    let mut framed_as_command = report(ErrorCode::HookRejected, None).encode();
    framed_as_command[0] = 1; // now a command named portcullis.report, with a report body
    let mut wrong_name = Request::encode_json(Kind::Command, 1, "notes.add", &json!({}));
    wrong_name[0] = 3;
    let with_body = |body: serde_json::Value| {
        let mut plain = Request::encode_json(Kind::Command, 1, REPORT_NAME, &body);
        plain[0] = 3;
        plain
    };
    let cases = [
        ("a report framed under another name", wrong_name),
        (
            "an unknown member",
            with_body(
                json!({"code": "E_HOOK_REJECTED", "message": "m", "kind": null, "name": null, "x": 1}),
            ),
        ),
        (
            "a bad kind",
            with_body(
                json!({"code": "E_HOOK_REJECTED", "message": "m", "kind": "report", "name": null}),
            ),
        ),
        (
            "a name outside the grammar",
            with_body(
                json!({"code": "E_HOOK_REJECTED", "message": "m", "kind": null, "name": "a b"}),
            ),
        ),
        (
            "an unknown code",
            with_body(json!({"code": "E_NOPE", "message": "m", "kind": null, "name": null})),
        ),
    ];
    for (what, plain) in cases {
        let refusal = gate
            .admit(&seal(&mut s, &plain), facts("main", &origin()))
            .unwrap_err();
        assert_eq!(refusal.code, ErrorCode::BadRequest, "{what}");
    }
    // A command that happens to carry a report's name is just a command (not allowed here).
    let refusal = gate
        .admit(&seal(&mut s, &framed_as_command), facts("main", &origin()))
        .unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NotAllowed);
}

#[test]
fn reports_are_replay_protected_and_cannot_be_forged_without_the_key() {
    let (gate, log) = audited_gate();
    let mut s = page(&gate, "main");
    let sealed = seal(&mut s, &report(ErrorCode::HookRejected, None).encode());
    gate.admit(&sealed, facts("main", &origin())).unwrap_err();
    let again = gate.admit(&sealed, facts("main", &origin())).unwrap_err();
    assert_eq!(again.code, ErrorCode::Replay);
    // Unsealed, a report is not a sealed envelope at all.
    let plain = report(ErrorCode::HookRejected, None).encode();
    let forged = gate.admit(&plain, facts("main", &origin())).unwrap_err();
    assert_eq!(forged.code, ErrorCode::Unsealed);
    let codes: Vec<_> = log.lock().unwrap().iter().map(|e| e.0).collect();
    assert_eq!(
        codes,
        [
            ErrorCode::HookRejected,
            ErrorCode::Replay,
            ErrorCode::Unsealed
        ]
    );
}

#[test]
fn a_report_taken_in_clear_is_refused() {
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("fixtures/configs/valid/brownfield.json");
    let config = portcullis::Config::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    let gate = Gate::new(&config, &portcullis::ScopeVars::new()).unwrap();
    let plain = report(ErrorCode::HookRejected, None).encode();
    let refusal = gate.admit(&plain, facts("main", &origin())).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::BadRequest);
    assert!(refusal.message.contains("only taken sealed"));
}

#[test]
fn long_report_messages_are_cut_at_a_character_boundary() {
    let (gate, log) = audited_gate();
    let mut s = page(&gate, "main");
    let mut long = report(ErrorCode::HookRejected, None);
    long.message = "é".repeat(MAX_REPORT_MESSAGE);
    gate.admit(&seal(&mut s, &long.encode()), facts("main", &origin()))
        .unwrap_err();
    let log = log.lock().unwrap();
    let detail = log[0].4.as_deref().unwrap();
    assert!(detail.ends_with(" (cut)"), "{detail}");
    assert!(detail.len() <= MAX_REPORT_MESSAGE + " (cut)".len());
    assert!(detail.starts_with('é'));
}

#[test]
fn text_in_audit_events_cannot_forge_log_lines() {
    let (gate, log) = audited_gate();
    let mut s = page(&gate, "main");
    let mut evil = report(ErrorCode::HookRejected, None);
    evil.message =
        "no\n2026-12-01T00:00:00Z  WARN portcullis::audit: refused\u{2028}\u{202e}x".into();
    gate.admit(&seal(&mut s, &evil.encode()), facts("main", &origin()))
        .unwrap_err();
    let log = log.lock().unwrap();
    let detail = log[0].4.as_deref().unwrap();
    assert!(!detail.contains('\n') && !detail.contains('\u{2028}') && !detail.contains('\u{202e}'));
    assert!(
        detail.contains("\\u{000a}")
            && detail.contains("\\u{2028}")
            && detail.contains("\\u{202e}"),
        "{detail}"
    );
    assert_eq!(portcullis::gate::escape("plain text"), "plain text");
}

#[test]
fn transport_refusals_before_the_gate_are_audited_with_their_own_codes() {
    let (gate, log) = audited_gate();
    for (code, origin) in [
        (ErrorCode::BadMethod, Some(origin())),
        (ErrorCode::NoPageOrigin, None),
    ] {
        let refusal = gate.refuse_at_transport(
            Rejection::new(code, "what happened"),
            "main",
            origin.as_ref(),
        );
        assert_eq!(refusal.code, code);
    }
    let log = log.lock().unwrap();
    assert_eq!(log[0].0, ErrorCode::BadMethod);
    assert_eq!(log[0].2.as_deref(), Some(APP));
    assert_eq!(log[1].0, ErrorCode::NoPageOrigin);
    assert_eq!(log[1].2, None);
}

#[test]
fn the_core_decides_which_answers_after_admission_are_audited_each_once() {
    let (gate, log) = audited_gate();
    let mut s = page(&gate, "main");
    let admitted = admit_sealed(
        &gate,
        &mut s,
        "main",
        (Kind::Command, 3, "notes.list"),
        &json!({}),
    )
    .unwrap();
    let caller = admitted.caller().clone();
    log.lock().unwrap().clear();
    for &code in ErrorCode::ALL {
        let before = log.lock().unwrap().len();
        gate.audit_outcome(&caller, (Kind::Command, 3, "notes.list"), code);
        let events = log.lock().unwrap();
        let new = &events[before..];
        match code.audited_after_admission() {
            Some(text) => {
                assert_eq!(new.len(), 1, "{code} audited {} times", new.len());
                assert_eq!(new[0].0, code);
                assert_eq!(new[0].1.as_deref(), Some("notes.list"));
                assert_eq!(new[0].3, text, "{code}: the core's fixed text");
                assert_eq!(new[0].5, Some(3));
            }
            None => assert!(new.is_empty(), "{code} is not a refusal but was audited"),
        }
    }
}
