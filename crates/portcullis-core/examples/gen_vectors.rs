//! Writes `fixtures/vectors/wire-v1.json`, the known-answer vectors of wire format v1.
//!
//! Run from the repository root: `cargo run -p portcullis-core --example gen_vectors`.
//! The vectors are deterministic (fixed keys, session ids and sequence numbers), so a
//! re-run that changes the file means the wire format changed.

use portcullis_core::Sealer;
use portcullis_core::aead::default_backend;
use portcullis_core::envelope::{Encoding, SessionId, aad, nonce_for};
use portcullis_core::request::{Kind, Request};
use serde_json::{Value, json};

struct Case {
    name: &'static str,
    key: [u8; 32],
    sid: [u8; 16],
    label: &'static str,
    seq: u64,
    kind: Kind,
    id: u64,
    cmd: &'static str,
    body: Result<Value, Vec<u8>>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn counting<const N: usize>(start: u8) -> [u8; N] {
    std::array::from_fn(|i| start.wrapping_add(i as u8))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cases = [
        Case {
            name: "command with JSON arguments, first message of a session",
            key: counting(0x00),
            sid: counting(0xa0),
            label: "main",
            seq: 1,
            kind: Kind::Command,
            id: 1,
            cmd: "notes.add",
            body: Ok(json!({"title": "hello", "tags": ["a", "b"]})),
        },
        Case {
            name: "event with a unicode payload in a labelled window",
            key: counting(0x40),
            sid: counting(0x10),
            label: "note-42",
            seq: 7,
            kind: Kind::Event,
            id: 99,
            cmd: "note-opened",
            body: Ok(json!({"id": 42, "title": "café ☕"})),
        },
        Case {
            name: "command with a raw bytes body and a sequence number above 2^32",
            key: counting(0x80),
            sid: counting(0x33),
            label: "main",
            seq: (1 << 32) + 5,
            kind: Kind::Command,
            id: 0xdead_beef,
            cmd: "files.upload",
            body: Err(vec![0x00, 0x01, 0x02, 0xfe, 0xff]),
        },
        Case {
            name: "empty arguments, empty label, non-ASCII label elsewhere",
            key: [0xff; 32],
            sid: [0; 16],
            label: "",
            seq: 1024,
            kind: Kind::Command,
            id: 0,
            cmd: "a",
            body: Ok(json!({})),
        },
        Case {
            name: "non-ASCII webview label",
            key: counting(0x11),
            sid: counting(0x22),
            label: "fenêtre",
            seq: 2,
            kind: Kind::Command,
            id: 3,
            cmd: "plugin:fs|read",
            body: Ok(json!({"path": "/data/a.txt"})),
        },
    ];

    let mut out = Vec::new();
    for c in cases {
        let plaintext = match &c.body {
            Ok(v) => Request::encode_json(c.kind, c.id, c.cmd, v),
            Err(b) => Request::encode_bytes(c.kind, c.id, c.cmd, b),
        };
        let sid = SessionId(c.sid);
        let seal = |enc| -> Result<Vec<u8>, String> {
            Sealer::new(default_backend().sealing_key(&c.key), sid, c.label)
                .ok_or("label too long to bind")?
                .starting_at(c.seq)
                .seal(&plaintext, enc)
                .map_err(|e| e.to_string())
        };
        let binary = seal(Encoding::Binary)?;
        let json_text = String::from_utf8(seal(Encoding::Json)?)?;
        let body = match &c.body {
            Ok(v) => json!({"json": v}),
            Err(b) => json!({"bytes": hex(b)}),
        };
        let aad = aad(&sid, c.seq, c.label).ok_or("label too long to bind")?;
        out.push(json!({
            "name": c.name,
            "key": hex(&c.key),
            "sid": hex(&c.sid),
            "label": c.label,
            "seq": c.seq,
            "nonce": hex(nonce_for(c.seq).as_bytes()),
            "request": {"kind": c.kind.as_str(), "id": c.id, "name": c.cmd, "body": body},
            "plaintext": hex(&plaintext),
            "aad": hex(&aad),
            "binary": hex(&binary),
            "json": json_text,
        }));
    }
    let doc = json!({
        "description": "Portcullis wire format v1 known-answer vectors; see docs/PROTOCOL.md §11.",
        "version": 1,
        "cases": out,
    });
    let path = "fixtures/vectors/wire-v1.json";
    std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")?;
    println!("wrote {path}");
    Ok(())
}
