//! docs/PROTOCOL.md and the scripts agree with the code: every row of its "Limits and
//! constants" table (§13) is the value the code uses, and every constant the code bounds
//! a page with has a row; and the known answers the scripts are checked against
//! (`fixtures/vectors/messages-v1.json`: every kind of plaintext and the chunk envelope,
//! which Node's `packages/api/tests/sealer.test.js` has the JS sealer write) are what the
//! core's encoders write.

use std::collections::BTreeMap;
use std::path::Path;

use portcullis::channel;
use portcullis::config::Limits;
use portcullis::envelope::{CHUNK_HEADER_LEN, HEADER_LEN};
use portcullis::stream;

/// The code's value of every name the table must have.
fn code() -> BTreeMap<&'static str, u64> {
    let limits = Limits::default();
    let n = |v: usize| v as u64;
    BTreeMap::from([
        ("HEADER_LEN", n(HEADER_LEN)),
        ("CHUNK_HEADER_LEN", n(CHUNK_HEADER_LEN)),
        (
            "SEALED_CHUNK_OVERHEAD",
            n(portcullis::wire::constants::SEALED_CHUNK_OVERHEAD),
        ),
        (
            "CLEAR_CHUNK_OVERHEAD",
            n(portcullis::wire::constants::CLEAR_CHUNK_OVERHEAD),
        ),
        ("STREAM_WINDOW", portcullis::wire::constants::STREAM_WINDOW),
        ("QUEUE_CHUNKS", n(stream::QUEUE_CHUNKS)),
        ("MAX_STREAMS", n(stream::MAX_STREAMS)),
        ("MAX_REASON", n(portcullis::wire::chunk::MAX_REASON)),
        (
            "maxBufferedStreamBytes",
            n(limits.max_buffered_stream_bytes),
        ),
        ("MAX_CHANNELS", n(channel::MAX_CHANNELS)),
        ("CHANNEL_QUEUE_MESSAGES", n(channel::QUEUE_MESSAGES)),
        ("CHANNEL_QUEUE_BYTES", n(channel::QUEUE_BYTES)),
        ("CHANNEL_MAX_MESSAGE", n(channel::MAX_MESSAGE)),
        ("PULL_BYTES", n(channel::PULL_BYTES)),
        ("maxMessageBytes", n(limits.max_message_bytes)),
        ("maxDepth", u64::from(limits.max_depth)),
        ("replayWindow", u64::from(limits.replay_window)),
        ("hookTimeoutMs", u64::from(limits.hook_timeout_ms)),
        ("callTimeoutMs", u64::from(limits.call_timeout_ms)),
    ])
}

/// The table's rows: name → value.
fn documented() -> BTreeMap<String, u64> {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/PROTOCOL.md"
    ));
    let text = std::fs::read_to_string(path).unwrap();
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("13. Limits and constants"))
        .expect("PROTOCOL.md has its §13, Limits and constants");
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`').to_owned();
        let value: u64 = cells[2]
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {:?} is not a number", cells[2]));
        assert!(rows.insert(name.clone(), value).is_none(), "{name} twice");
    }
    rows
}

#[test]
fn the_limits_table_is_the_codes() {
    let code = code();
    let documented = documented();
    for (name, value) in &code {
        assert_eq!(
            documented.get(*name),
            Some(value),
            "PROTOCOL.md §13 gives {name} as {:?}, the code {value}",
            documented.get(*name)
        );
    }
    for name in documented.keys() {
        assert!(
            code.contains_key(name.as_str()),
            "PROTOCOL.md §13 lists {name}, which this test does not know"
        );
    }
}

#[test]
fn the_prose_says_no_other_figure_for_them() {
    // The figures the prose once had wrong (#30): a stale one would slip in here first.
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/PROTOCOL.md"
    ));
    let text = std::fs::read_to_string(path).unwrap();
    for stale in [
        "256\nchannels",
        "256 channels",
        "has 4 chunks it has not taken",
        "is its next number",
    ] {
        assert!(!text.contains(stale), "PROTOCOL.md still says {stale:?}");
    }
}

/// Every kind of plaintext the scripts write, and the chunk envelope, as the core's own
/// encoders write them: the known answers the JS sealer is checked against (Node's
/// `packages/api/tests/sealer.test.js`). `fixtures/vectors/wire-v1.json` covers the
/// envelope of commands and events; this covers what the protocol's other constants
/// (kinds, reserved names, chunk operations, the chunk header) shape.
fn messages() -> serde_json::Value {
    use portcullis::envelope::{ChunkAt, SessionId};
    use portcullis::request::{Kind, Request, encode_cancel};
    use portcullis::wire::chunk::{ChunkOp, chunk_plaintext, encode_clear_chunk};
    use portcullis::{ErrorCode, Report, Sealer};
    use serde_json::json;

    let hex = |bytes: &[u8]| hex::encode(bytes);
    // The JSON body of a plaintext, as the encoder wrote it.
    let body = |plain: &[u8]| {
        let name_len = usize::from(u16::from_be_bytes([plain[10], plain[11]]));
        String::from_utf8(plain[12 + name_len..].to_vec()).unwrap()
    };
    let report = Report {
        request_id: 41,
        code: ErrorCode::HookRejected,
        message: "not today".into(),
        kind: Some(Kind::Command),
        name: Some("notes.add".into()),
    }
    .encode();
    let stream = Request::encode_json(Kind::Stream, 3, "files.upload", &json!({"name": "a.txt"}));
    let cancel = encode_cancel(7);
    let requests = json!([
        {"name": "a cancel of call 7", "kind": "cancel", "id": 7,
         "requestName": portcullis::wire::CANCEL_NAME, "body": {"json": ""}, "plaintext": hex(&cancel)},
        {"name": "a refusal report", "kind": "report", "id": 41,
         "requestName": portcullis::wire::REPORT_NAME, "body": {"json": body(&report)},
         "plaintext": hex(&report)},
        {"name": "a stream's open", "kind": "stream", "id": 3, "requestName": "files.upload",
         "body": {"json": body(&stream)}, "plaintext": hex(&stream)},
    ]);

    let key = [0x42u8; 32];
    let sid = [0xa5u8; 16];
    let label = "main";
    let mut sealer = Sealer::new(
        portcullis::aead::default_backend().sealing_key(&key),
        SessionId(sid),
        label,
    )
    .unwrap()
    .starting_at(5);
    let mut chunks = Vec::new();
    for (name, op, chunk) in [
        (
            "data",
            ChunkOp::Data(vec![1, 2, 3, 0xff]),
            json!({"bytes": "010203ff"}),
        ),
        ("the end", ChunkOp::End, json!({"end": true})),
        (
            "an abort",
            ChunkOp::Abort("stopped: é".into()),
            json!({"abort": "stopped: é"}),
        ),
    ] {
        let at = ChunkAt {
            stream: 3,
            number: chunks.len() as u64,
        };
        let seq = sealer.next_seq();
        let plaintext = chunk_plaintext(&op);
        chunks.push(json!({
            "name": name, "chunk": chunk, "stream": at.stream, "number": at.number,
            "plaintext": hex(&plaintext),
            "clear": hex(&encode_clear_chunk(at, &op)),
            "seq": seq,
            "sealed": hex(&sealer.seal_chunk(at, &plaintext).unwrap()),
        }));
    }
    json!({
        "description": "Every kind of plaintext the scripts write, and sealed and clear \
            stream chunks, as the Rust core writes them (tests/protocol.rs writes this file \
            with PORTCULLIS_BLESS=1 and fails when it differs). The JS sealer must write \
            the same bytes (packages/api/tests/sealer.test.js).",
        "requests": requests,
        "chunks": {"key": hex(&key), "sid": hex(&sid), "label": label, "cases": chunks},
    })
}

#[test]
fn the_scripts_known_answers_are_what_the_core_writes() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/vectors/messages-v1.json"
    ));
    let written = messages();
    if std::env::var_os("PORTCULLIS_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&written).unwrap() + "\n";
        std::fs::write(path, text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(path).unwrap();
    let committed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        committed == written,
        "fixtures/vectors/messages-v1.json is not what the core writes: write it again with \
         `PORTCULLIS_BLESS=1 cargo test -p portcullis-tests --test protocol`"
    );
}
