//! Refusals made outside the gate reach the app's audit: the isolation frame reports its
//! own refusals (hook said no, hook timed out, a value JSON would change) sealed like any
//! message; the gate records them with the frame's code and never admits them. Transport
//! refusals that happen before the gate go through the same audit path.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use portcullis::envelope::Encoding;
use portcullis::request::{Kind, Request};
use portcullis::wire::report::{MAX_REPORT_MESSAGE, REPORT_NAME};
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
    assert_eq!(portcullis::audit::escape("plain text"), "plain text");
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

// ---- refusals after admission: the core audits each where it makes it ----

/// A secret the page puts in its arguments: no audit event may show it.
const SECRET: &str = "hunter2-do-not-log";

/// The gate and router of `fixtures/configs/valid/after-admission.json`: a handler for
/// every step after admission that can refuse a call.
fn steps() -> (Gate, portcullis::Router, Log) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/configs/valid/after-admission.json"
    );
    let config = portcullis::Config::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    let gate = Gate::new(&config, &portcullis::ScopeVars::new()).unwrap();
    let log: Log = Arc::default();
    let sink = log.clone();
    let gate = gate.with_audit_sink(Arc::new(move |e: &portcullis::AuditEvent<'_>| {
        let shown = serde_json::to_string(e).unwrap();
        assert!(
            !shown.contains(SECRET),
            "an audit event shows an argument: {shown}"
        );
        sink.lock().unwrap().push((
            e.code,
            e.name.map(str::to_owned),
            e.origin.clone(),
            e.message.to_owned(),
            e.detail.map(str::to_owned),
            e.request_id,
        ))
    }));
    #[derive(serde::Deserialize)]
    struct Count {
        #[allow(dead_code)]
        count: u32,
    }
    let router = portcullis::Router::new()
        .command("typed", |portcullis::Args(_): portcullis::Args<Count>| {})
        .command("slow", || {})
        .command("granted", || {})
        .command("files.read", |_: portcullis::Scoped| {})
        .command("fails", || {
            Err::<(), _>(portcullis::HandlerError::new(format!("no: {SECRET}")))
        })
        .command("panics", || -> () {
            panic!("deliberate panic in a handler")
        })
        .command("feed", |_: portcullis::Channel| {})
        .stream("upload", read_all)
        .stream("late.upload", read_all)
        .grants(gate.grants().clone());
    (gate, router, log)
}

async fn read_all(mut upload: portcullis::Upload) -> Result<(), portcullis::StreamError> {
    while let Some(chunk) = upload.next().await {
        chunk?;
    }
    Ok(())
}

/// What one step answered its caller, and what the audit recorded meanwhile.
fn recorded(
    log: &Log,
    step: impl FnOnce() -> Option<ErrorCode>,
) -> (Option<ErrorCode>, Vec<ErrorCode>) {
    log.lock().unwrap().clear();
    let answered = step();
    let events = log.lock().unwrap().iter().map(|e| e.0).collect();
    (answered, events)
}

fn dispatched(router: &portcullis::Router, admitted: portcullis::Admitted) -> Option<ErrorCode> {
    router
        .dispatch(admitted)
        .wait()
        .result
        .err()
        .map(|e| e.code)
}

fn chunk(
    gate: &Gate,
    router: &portcullis::Router,
    s: &mut Sealer,
    (stream, number): (u64, u64),
    op: portcullis::wire::chunk::ChunkOp,
) -> Option<ErrorCode> {
    let sealed = s
        .seal_chunk(
            portcullis::envelope::ChunkAt { stream, number },
            &portcullis::wire::chunk::chunk_plaintext(&op),
        )
        .unwrap();
    chunk_sealed(gate, router, sealed)
}

/// Opens stream `upload` as `id`, its handler on a thread of its own as an embedder runs it.
fn open_upload(gate: &Gate, router: &portcullis::Router, s: &mut Sealer, id: u64) {
    let admitted = admit_sealed(gate, s, "main", (Kind::Stream, id, "upload"), &json!({})).unwrap();
    let portcullis::Dispatch::Stream(work, call) = router.dispatch(admitted) else {
        panic!("the stream did not start");
    };
    let (key, streams) = (call.stream().unwrap().clone(), router.streams().clone());
    std::thread::spawn(move || streams.finished(&key, call.finish(work.run_here()).result));
}

#[test]
fn every_refusal_after_admission_is_audited_once_by_the_core_with_no_argument_in_it() {
    use portcullis::wire::chunk::ChunkOp;
    let (gate, router, log) = steps();
    let mut s = page(&gate, "main");
    let admit = |s: &mut Sealer, id: u64, name: &str, args: serde_json::Value| {
        admit_sealed(&gate, s, "main", (Kind::Command, id, name), &args).unwrap()
    };
    let mut seen: Vec<(ErrorCode, &str)> = Vec::new();
    let mut expect =
        |step: &'static str,
         want: ErrorCode,
         (answered, events): (Option<ErrorCode>, Vec<ErrorCode>)| {
            assert_eq!(answered, Some(want), "{step}: the caller's code");
            assert_eq!(
                events,
                vec![want],
                "{step}: audited once, with the same code"
            );
            seen.push((want, step));
        };

    // The router.
    let a = admit(&mut s, 1, "no.handler", json!({}));
    expect(
        "no handler",
        ErrorCode::UnknownCommand,
        recorded(&log, || dispatched(&router, a)),
    );
    let a = admit(&mut s, 2, "typed", json!({ "count": SECRET }));
    expect(
        "arguments the type refuses",
        ErrorCode::InvalidArgs,
        recorded(&log, || dispatched(&router, a)),
    );
    let first = admit(&mut s, 3, "slow", json!({}));
    let portcullis::Dispatch::Started(work, running) = router.dispatch(first) else {
        panic!("slow did not start");
    };
    let again = admit(&mut s, 3, "slow", json!({}));
    expect(
        "an id still running",
        ErrorCode::BadRequest,
        recorded(&log, || dispatched(&router, again)),
    );
    drop((work, running));
    let broken = portcullis::Router::new().command("needs.state", |_: portcullis::State<u8>| {});
    let a = admit(&mut s, 4, "needs.state", json!({}));
    expect(
        "a table with mistakes",
        ErrorCode::Internal,
        recorded(&log, || dispatched(&broken, a)),
    );

    // The grants' last look.
    gate.grants().grant("main", "late").unwrap();
    let a = admit(&mut s, 5, "granted", json!({}));
    gate.grants().revoke("main", "late").unwrap();
    expect(
        "a grant revoked after admission",
        ErrorCode::GrantRevoked,
        recorded(&log, || dispatched(&router, a)),
    );
    gate.grants().grant("main", "late").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("note.md");
    std::fs::write(&file, "x").unwrap();
    gate.grants()
        .allow_path("main", "late", "files", &file, portcullis::Reach::File)
        .unwrap();
    let a = admit(
        &mut s,
        6,
        "files.read",
        json!({ "path": file.to_str().unwrap() }),
    );
    gate.grants()
        .forget_path("main", "late", "files", &file)
        .unwrap();
    expect(
        "a path forgotten after admission",
        ErrorCode::OutOfScope,
        recorded(&log, || dispatched(&router, a)),
    );

    // Cancels.
    let cancel = s
        .seal(&portcullis::request::encode_cancel(999), Encoding::Binary)
        .unwrap();
    expect(
        "a cancel of no call",
        ErrorCode::NoSuchCall,
        recorded(&log, || {
            let Ok(portcullis::Inbound::Cancel(cancel)) =
                gate.receive_owned(cancel, facts("main", &origin()))
            else {
                panic!("not a cancel");
            };
            router.cancel(&cancel).err().map(|e| e.code)
        }),
    );

    // Streams.
    expect(
        "a chunk of no stream",
        ErrorCode::NoSuchStream,
        recorded(&log, || {
            chunk(&gate, &router, &mut s, (777, 0), ChunkOp::End)
        }),
    );
    open_upload(&gate, &router, &mut s, 10);
    expect(
        "a chunk too far ahead",
        ErrorCode::StreamOrder,
        recorded(&log, || {
            chunk(
                &gate,
                &router,
                &mut s,
                (10, 9),
                ChunkOp::Data(SECRET.into()),
            )
        }),
    );
    open_upload(&gate, &router, &mut s, 11);
    assert_eq!(chunk(&gate, &router, &mut s, (11, 0), ChunkOp::End), None);
    expect(
        "a chunk after the end",
        ErrorCode::StreamClosed,
        recorded(&log, || {
            chunk(
                &gate,
                &router,
                &mut s,
                (11, 1),
                ChunkOp::Data(SECRET.into()),
            )
        }),
    );
    open_upload(&gate, &router, &mut s, 12);
    expect(
        "a stream past its maxBytes",
        ErrorCode::TooLarge,
        recorded(&log, || {
            chunk(
                &gate,
                &router,
                &mut s,
                (12, 0),
                ChunkOp::Data(SECRET.into()),
            )
        }),
    );

    // Channels.
    let id = "0123456789abcdef0123456789abcdef";
    expect(
        "a close of no channel",
        ErrorCode::NoSuchChannel,
        recorded(&log, || {
            let (tx, rx) = std::sync::mpsc::channel();
            gate.pull(
                router.channels(),
                "main",
                Some(&origin()),
                format!("close {id}").as_bytes(),
                Box::new(move |answer| tx.send(answer).unwrap()),
            );
            match rx.recv().unwrap() {
                portcullis::gate::PullAnswer::Refused(e) => Some(e.code),
                _ => None,
            }
        }),
    );

    // Every code a step after admission makes has a step here: a code given a text of
    // its own for the audit after admission, and no step above, fails this.
    let mut covered: Vec<ErrorCode> = seen.iter().map(|(c, _)| *c).collect();
    covered.sort_by_key(|c| c.as_str());
    covered.dedup();
    let mut declared: Vec<ErrorCode> = ErrorCode::ALL
        .iter()
        .copied()
        .filter(|c| {
            !matches!(
                c.audited_after_admission(),
                None | Some("refused after admission")
            )
        })
        .collect();
    declared.sort_by_key(|c| c.as_str());
    assert_eq!(
        covered, declared,
        "the codes steps after admission make, each with a step here"
    );

    // Outcomes that are not refusals are answered and never audited.
    for (name, want) in [
        ("fails", ErrorCode::Handler),
        ("panics", ErrorCode::HandlerPanicked),
    ] {
        let a = admit(
            &mut s,
            20 + u64::from(want == ErrorCode::HandlerPanicked),
            name,
            json!({}),
        );
        let (answered, events) = recorded(&log, || dispatched(&router, a));
        assert_eq!((answered, events), (Some(want), vec![]), "{name}");
    }
    for (id, want) in [(30, ErrorCode::Cancelled), (31, ErrorCode::Timeout)] {
        let a = admit(&mut s, id, "slow", json!({}));
        let portcullis::Dispatch::Started(_, call) = router.dispatch(a) else {
            panic!("slow did not start");
        };
        let (answered, events) = recorded(&log, || {
            call.finish(Err(portcullis::router::CallError::new(want, "stopped")))
                .result
                .err()
                .map(|e| e.code)
        });
        assert_eq!((answered, events), (Some(want), vec![]), "{want}");
    }
    // The twin: a call every step lets through is answered, and nothing is audited.
    let a = admit(&mut s, 40, "typed", json!({ "count": 3 }));
    assert_eq!(recorded(&log, || dispatched(&router, a)), (None, vec![]));
}

#[test]
fn a_streams_answer_relayed_to_the_chunks_waiting_for_it_is_audited_once() {
    use portcullis::wire::chunk::ChunkOp;
    let (gate, router, log) = steps();
    let mut s = page(&gate, "main");
    gate.grants().grant("main", "late").unwrap();
    let admitted = admit_sealed(
        &gate,
        &mut s,
        "main",
        (Kind::Stream, 50, "late.upload"),
        &json!({}),
    )
    .unwrap();
    let portcullis::Dispatch::Stream(work, call) = router.dispatch(admitted) else {
        panic!("the stream did not start");
    };
    // The open is answered at once: the page sends data and its end while the handler
    // waits for a thread, and meanwhile the grant is revoked.
    gate.grants().revoke("main", "late").unwrap();
    log.lock().unwrap().clear();
    let mut waiting = Vec::new();
    for (number, op) in [(0, ChunkOp::Data(SECRET.into())), (1, ChunkOp::End)] {
        let sealed = s
            .seal_chunk(
                portcullis::envelope::ChunkAt { stream: 50, number },
                &portcullis::wire::chunk::chunk_plaintext(&op),
            )
            .unwrap();
        let Ok(portcullis::Inbound::Chunk(chunk)) =
            gate.receive_owned(sealed, facts("main", &origin()))
        else {
            panic!("not a chunk");
        };
        let (tx, rx) = std::sync::mpsc::channel();
        router.chunk(
            chunk,
            Box::new(move |r| tx.send(r.err().map(|e| e.code)).unwrap()),
        );
        waiting.push(rx);
    }
    // The embedder runs the handler and hands its answer to the stream.
    let key = call.stream().unwrap().clone();
    let reply = call.finish(work.run_here());
    assert_eq!(
        reply.result.as_ref().unwrap_err().code,
        ErrorCode::GrantRevoked
    );
    router.streams().finished(&key, reply.result);
    let end = waiting
        .pop()
        .unwrap()
        .recv_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    assert_eq!(
        end,
        Some(ErrorCode::GrantRevoked),
        "the end gets the stream's answer"
    );
    let events: Vec<_> = log
        .lock()
        .unwrap()
        .iter()
        .map(|e| (e.0, e.1.clone()))
        .collect();
    assert_eq!(
        events,
        vec![(ErrorCode::GrantRevoked, Some("late.upload".to_owned()))],
        "one refusal, recorded once under the stream's name, not again for each chunk it answers"
    );
    // The twin: a refusal the streams make for a chunk of their own is still recorded.
    let sealed = s
        .seal_chunk(
            portcullis::envelope::ChunkAt {
                stream: 50,
                number: 2,
            },
            &portcullis::wire::chunk::chunk_plaintext(&ChunkOp::End),
        )
        .unwrap();
    assert_eq!(
        recorded(&log, || chunk_sealed(&gate, &router, sealed)),
        (Some(ErrorCode::StreamClosed), vec![ErrorCode::StreamClosed])
    );
}

fn chunk_sealed(gate: &Gate, router: &portcullis::Router, sealed: Vec<u8>) -> Option<ErrorCode> {
    let Ok(portcullis::Inbound::Chunk(chunk)) =
        gate.receive_owned(sealed, facts("main", &origin()))
    else {
        panic!("not a chunk");
    };
    let (tx, rx) = std::sync::mpsc::channel();
    router.chunk(
        chunk,
        Box::new(move |r| tx.send(r.err().map(|e| e.code)).unwrap()),
    );
    rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap()
}
