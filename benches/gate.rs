//! The whole gate per message (decode, session lookup, replay check, AES-256-GCM open,
//! request decode with strict JSON, policy with schema, dispatch to a no-op handler),
//! for each AEAD backend, next to the ceiling: a bare ring AES-256-GCM open of the same
//! ciphertext. Run: `cargo bench --bench gate`.
//!
//! Sealing happens outside the timed loop: each iteration admits a fresh message (a
//! replayed one would be refused, which is not what we measure).

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use portcullis::aead::{Nonce, all_backends};
use portcullis::envelope::Encoding;
use portcullis::request::{Kind, Request};
use portcullis::{Attested, Config, Gate, HandlerError, Origin, Router, ScopeVars};
use serde_json::{Value, json};

fn config() -> Config {
    let text = json!({"app": {"security": {
        "pattern": {"use": "isolation", "options": {"dir": "isolation-app"}},
        "capabilities": [{
            "identifier": "bench", "windows": ["main"], "origins": ["app://localhost"],
            "commands": {"allow": [
                {"name": "notes.add", "schema": {
                    "type": "object", "required": ["title", "body"], "additionalProperties": false,
                    "properties": {"title": {"type": "string", "maxLength": 200}, "body": {"type": "string"}}}},
                {"name": "blob.put", "bytes": true}
            ]}
        }],
        "limits": {"maxMessageBytes": 4194304, "replayWindow": 65536}
    }}});
    Config::from_json(&text.to_string()).unwrap()
}

/// (label, plaintext) pairs: 200 B of JSON arguments, then binary payloads.
fn plaintexts() -> Vec<(String, Vec<u8>)> {
    let args = json!({"title": "groceries", "body": "x".repeat(170)});
    let mut out = vec![(
        "json-200B".to_owned(),
        Request::encode_json(Kind::Command, 1, "notes.add", &args),
    )];
    for (name, size) in [
        ("bytes-4KiB", 4 << 10),
        ("bytes-64KiB", 64 << 10),
        ("bytes-1MiB", 1 << 20),
    ] {
        let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
        out.push((
            name.to_owned(),
            Request::encode_bytes(Kind::Command, 1, "blob.put", &payload),
        ));
    }
    out
}

fn gate_benches(c: &mut Criterion) {
    let origin = Origin::parse("app://localhost").unwrap();
    let router = Router::new()
        .command("notes.add", |_: Value| Ok::<_, HandlerError>(()))
        .command_raw("blob.put", |_| Ok(portcullis::Payload::Json("null".into())));
    let mut group = c.benchmark_group("gate");
    for (name, plain) in plaintexts() {
        group.throughput(Throughput::Bytes(plain.len() as u64));
        for backend in all_backends() {
            let gate = Gate::with_backend(&config(), &ScopeVars::new(), backend).unwrap();
            let mut sealer = gate
                .begin_page_load("main", origin.clone())
                .unwrap()
                .into_sealer();
            let facts = Attested {
                webview: "main",
                origin: &origin,
            };
            group.bench_with_input(
                BenchmarkId::new(backend.name(), &name),
                &plain,
                |b, plain| {
                    b.iter_batched(
                        || sealer.seal(plain, Encoding::Binary).unwrap(),
                        |msg| {
                            let admitted = gate.admit(black_box(&msg), facts).unwrap();
                            black_box(router.dispatch(admitted).wait());
                        },
                        BatchSize::SmallInput,
                    )
                },
            );
        }
        // The ceiling: ring's AES-256-GCM open of the same number of bytes, nothing else.
        let key = portcullis::aead::AeadBackend::expand_key(&portcullis::aead::RING, &[7; 32]);
        let nonce = Nonce::assume_unique([1; 12]);
        let mut sealed = plain.clone();
        key.seal_in_place(nonce, b"aad", &mut sealed).unwrap();
        group.bench_with_input(
            BenchmarkId::new("ceiling-ring-open", &name),
            &sealed,
            |b, sealed| {
                b.iter_batched(
                    || sealed.clone(),
                    |mut buf| {
                        black_box(key.open_in_place(nonce, b"aad", &mut buf).unwrap().len());
                    },
                    BatchSize::SmallInput,
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, gate_benches);
criterion_main!(benches);
