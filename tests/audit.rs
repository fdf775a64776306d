//! Audit events and logs: every refusal is recorded with its code, and nothing recorded
//! contains key material or argument values. In its own test binary so that no other
//! test's threads share tracing's callsite cache with it.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use portcullis::Sealer;
use portcullis::envelope::Encoding;
use serde_json::json;

#[test]
fn audit_events_carry_the_code_but_never_keys_or_argument_values() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let gate = gate().with_audit_sink(Arc::new(move |e: &portcullis::AuditEvent<'_>| {
        sink.lock().unwrap().push(serde_json::to_string(e).unwrap())
    }));
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || Writer(writer.clone()))
        .finish();
    let grant = gate.begin_page_load("main", origin()).unwrap();
    let sid = grant.session();
    let key = grant.into_isolation_key();
    let key_hex = hex::encode(*key);
    let mut s = Sealer::new(
        portcullis::aead::default_backend().sealing_key(&key),
        sid,
        "main",
    )
    .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        // Callsites first seen by another thread may have cached "no interest".
        tracing::callsite::rebuild_interest_cache();
        let secret = command(
            &mut s,
            1,
            "notes.add",
            json!({"title": "hunter2-secret", "body": 5}),
            Encoding::Json,
        );
        gate.admit(&secret, facts("main", &origin())).unwrap_err();
        gate.admit(b"", facts("main", &origin())).unwrap_err();
    });
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events[0].contains(r#""code":"E_INVALID_ARGS""#),
        "{}",
        events[0]
    );
    assert!(events[0].contains(r#""name":"notes.add""#));
    assert!(events[1].contains(r#""code":"E_UNSEALED""#));
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("E_INVALID_ARGS") && logs.contains("E_UNSEALED"),
        "{logs}"
    );
    for text in [&logs, &events.join("\n")] {
        assert!(!text.contains("hunter2"), "argument value leaked: {text}");
        assert!(!text.contains(&key_hex), "key leaked");
    }
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
