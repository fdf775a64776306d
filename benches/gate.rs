//! The whole gate per message, side by side with Tauri's own isolation code and with the
//! ceiling, for the same plaintexts in the same run. Run: `cargo bench -p portcullis-tests --bench gate`.
//!
//! - `portcullis-<backend>`: `Gate::admit_owned`, as the wry transport calls it: decode
//!   the binary envelope, look up the session, check the
//!   replay window, AES-256-GCM open, decode the request (strict JSON for the 200 B
//!   case), check the allowlist (with a JSON Schema for the 200 B case), dispatch to a
//!   handler that takes its arguments as a type of its own (`Args<Note>`). Once per AEAD
//!   backend.
//! - `tauri`: what Tauri 2 does with an isolation message, with its real code
//!   (`tauri-utils`, feature `isolation`): `RawIsolationPayload::try_from` on its wire
//!   body (nonce and ciphertext as JSON number arrays), `Keys::decrypt`, then
//!   `serde_json` parse of the arguments when the content type is JSON. No replay check,
//!   no allowlist, no schema.
//! - `ceiling-ring-open`: a bare ring AES-256-GCM open of the same plaintext size.
//!
//! Sealing happens outside the timed loop: each iteration admits a fresh message (a
//! replayed one would be refused, which is not what we measure).
//!
//! The gate, rule, handler and 200 B payload are in `benches/common`, shared with
//! `benches/callgrind.rs`, which counts the instructions of the same path.

mod common;

use std::hint::black_box;

use common::{Ours, config, config_with, json_plaintext, note_args};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group};
use portcullis::aead::{AeadBackend, RING, all_backends};
use portcullis::envelope::{Encoding, nonce_for};
use portcullis::request::{Kind, Request};
use portcullis::{Config, Gate, ScopeVars, Sealer};
use serde_json::{Value, json};
use tauri_utils::pattern::isolation::{Keys, RawIsolationPayload};

/// One benchmark input: the arguments as the application sends them.
struct Case {
    name: &'static str,
    /// The JSON arguments, or the raw bytes of a binary argument.
    args: Args,
}

enum Args {
    Json(String),
    Bytes(Vec<u8>),
}

impl Case {
    /// Our plaintext: the request framing of PROTOCOL.md §2 around the arguments.
    fn portcullis_plaintext(&self) -> Vec<u8> {
        match &self.args {
            Args::Json(text) => json_plaintext(text),
            Args::Bytes(b) => Request::encode_bytes(Kind::Command, 1, "blob.put", b),
        }
    }

    /// Tauri's plaintext is the arguments alone (the command name travels in the URL),
    /// with the content type beside the ciphertext.
    fn tauri_plaintext(&self) -> (&[u8], &'static str) {
        match &self.args {
            Args::Json(text) => (text.as_bytes(), "application/json"),
            Args::Bytes(b) => (b, "application/octet-stream"),
        }
    }
}

fn cases() -> Vec<Case> {
    let mut out = vec![Case {
        name: "json-200B",
        args: Args::Json(note_args()),
    }];
    for (name, size) in [
        ("bytes-4KiB", 4 << 10),
        ("bytes-64KiB", 64 << 10),
        ("bytes-1MiB", 1 << 20),
    ] {
        out.push(Case {
            name,
            args: Args::Bytes((0..size).map(|i| i as u8).collect()),
        });
    }
    out
}

/// The body Tauri's isolation script posts: `{"nonce":[..],"payload":[..],"contentType":..}`
/// with every byte a JSON number, as its `Array.from(new Uint8Array(..))` produces.
fn tauri_wire_body(keys: &Keys, plaintext: &[u8], content_type: &str) -> Vec<u8> {
    let nonce = [9u8; 12];
    let ciphertext = keys.aes_gcm().encrypt(&nonce, plaintext).unwrap();
    serde_json::to_vec(&json!({
        "nonce": nonce.to_vec(),
        "payload": ciphertext,
        "contentType": content_type,
    }))
    .unwrap()
}

/// Tauri's receive path for one isolation message, as its IPC protocol handler runs it.
fn tauri_open(keys: &Keys, body: &Vec<u8>) -> usize {
    let raw = RawIsolationPayload::try_from(body).unwrap();
    let json = raw.content_type() == "application/json";
    let plaintext = keys.decrypt(raw).unwrap();
    if json {
        let args: Value = serde_json::from_slice(&plaintext).unwrap();
        black_box(&args);
    }
    plaintext.len()
}

/// The bench's gate on a chosen AEAD backend (the set-up itself is in `common`, shared
/// with `benches/callgrind.rs`).
impl Ours {
    /// The gate and the sealer of its page load.
    fn new(backend: &'static dyn AeadBackend) -> (Ours, Sealer) {
        Ours::with_config(&config(), backend)
    }

    fn with_config(config: &Config, backend: &'static dyn AeadBackend) -> (Ours, Sealer) {
        Ours::from_gate(Gate::with_backend(config, &ScopeVars::new(), backend).unwrap())
    }
}

fn gate_benches(c: &mut Criterion) {
    let tauri_keys = Keys::new().unwrap();
    let mut group = c.benchmark_group("gate");
    for case in cases() {
        let plain = case.portcullis_plaintext();
        let (tauri_plain, content_type) = case.tauri_plaintext();
        // Throughput in argument bytes, the same for every contender.
        group.throughput(Throughput::Bytes(tauri_plain.len() as u64));
        for backend in all_backends() {
            let (ours, mut sealer) = Ours::new(backend);
            group.bench_with_input(
                BenchmarkId::new(format!("portcullis-{}", backend.name()), case.name),
                &plain,
                |b, plain| {
                    b.iter_batched(
                        || sealer.seal(plain, Encoding::Binary).unwrap(),
                        |msg| ours.admit_and_dispatch(msg),
                        BatchSize::SmallInput,
                    )
                },
            );
        }

        let body = tauri_wire_body(&tauri_keys, tauri_plain, content_type);
        assert_eq!(tauri_open(&tauri_keys, &body), tauri_plain.len());
        group.bench_with_input(BenchmarkId::new("tauri", case.name), &body, |b, body| {
            b.iter(|| black_box(tauri_open(&tauri_keys, black_box(body))))
        });

        // The ceiling: ring's AES-256-GCM open of the same plaintext, nothing else.
        let key = RING.opening_key(&[7; 32]);
        let mut sealed = plain.clone();
        RING.sealing_key(&[7; 32])
            .seal_in_place(nonce_for(1), b"aad", &mut sealed)
            .unwrap();
        group.bench_with_input(
            BenchmarkId::new("ceiling-ring-open", case.name),
            &sealed,
            |b, sealed| {
                b.iter_batched(
                    || sealed.clone(),
                    |mut buf| {
                        black_box(
                            key.open_in_place(nonce_for(1), b"aad", &mut buf)
                                .unwrap()
                                .len(),
                        );
                    },
                    BatchSize::SmallInput,
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, gate_benches);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_table();
    interleaved();
    grants_cost();
}

/// What run-time grants cost per message: the 200 B call admitted under a static
/// capability (today's path, which never reads the grants) against the same call under
/// a run-time capability granted to `main`, in alternating blocks; then the same while
/// another thread grants and revokes the capability for a second window, 1,000 times a
/// second (far more than sign-ins ever do) and then as fast as it can (a stress: the
/// writer's lock never reaches the gate, but each change publishes a new snapshot that
/// readers in flight release).
fn grants_cost() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let case = &cases()[0];
    let plain = case.portcullis_plaintext();
    let (fixed, mut fixed_sealer) = Ours::with_config(&config_with(false), &RING);
    let (granted, mut granted_sealer) = Ours::with_config(&config_with(true), &RING);
    granted.gate.grants().grant("main", "bench").unwrap();
    println!(
        "\nRun-time grants, {} (ring backend, median of 201 alternating blocks of 2,000):\n",
        case.name
    );
    println!(
        "| writer | static capability | run-time capability, granted | cost of the grant check |"
    );
    println!("|---|---|---|---|");
    // Pause between two changes of the writer: none, 1 ms, flat out.
    for pause in [None, Some(1_000_000u64), Some(0)] {
        let stop = std::sync::atomic::AtomicBool::new(false);
        let writes = std::sync::atomic::AtomicUsize::new(0);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        std::thread::scope(|scope| {
            if let Some(pause) = pause {
                let (stop, writes, grants) = (&stop, &writes, granted.gate.grants());
                let rest = std::time::Duration::from_nanos(pause);
                let rest = move || {
                    if !rest.is_zero() {
                        std::thread::sleep(rest);
                    }
                };
                scope.spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        grants.grant("other", "bench").unwrap();
                        rest();
                        grants.revoke("other", "bench").unwrap();
                        rest();
                        writes.fetch_add(2, std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
            let block = |ours: &Ours, sealer: &mut Sealer| {
                let sealed: Vec<Vec<u8>> = (0..2000)
                    .map(|_| sealer.seal(&plain, Encoding::Binary).unwrap())
                    .collect();
                let t = std::time::Instant::now();
                for msg in sealed {
                    ours.admit_and_dispatch(msg);
                }
                t.elapsed().as_nanos() as f64 / 2000.0
            };
            for i in 0..201 {
                // Alternate which goes first, so neither always follows the seal loop.
                if i % 2 == 0 {
                    a.push(block(&fixed, &mut fixed_sealer));
                    b.push(block(&granted, &mut granted_sealer));
                } else {
                    b.push(block(&granted, &mut granted_sealer));
                    a.push(block(&fixed, &mut fixed_sealer));
                }
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (a, b) = (median(&mut a), median(&mut b));
        let writes = writes.into_inner();
        let writer = match pause {
            None => "none".to_owned(),
            Some(0) => format!("flat out ({writes} changes)"),
            Some(_) => format!("about 1,000 changes a second ({writes} changes)"),
        };
        println!(
            "| {writer} | {} | {} | {:+.1}% |",
            time(a),
            time(b),
            (b / a - 1.0) * 100.0
        );
    }
}

/// The ratios again, measured so that a slow spell of this (shared, virtual) machine hits
/// both sides alike: blocks of messages through our gate and through Tauri's code
/// alternate, many times, and each side's figure is its median block. Criterion measures
/// one contender after the other, and here its separate figures drift by up to ±40%
/// between runs.
fn interleaved() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let tauri_keys = Keys::new().unwrap();
    let (ours_gate, mut sealer) = Ours::new(&RING);
    println!("\nInterleaved (ring backend, median of 201 alternating blocks):\n");
    println!("| payload | Portcullis per message | Tauri per message | speed-up over Tauri |");
    println!("|---|---|---|---|");
    for case in cases() {
        let plain = case.portcullis_plaintext();
        let (tauri_plain, content_type) = case.tauri_plaintext();
        let body = tauri_wire_body(&tauri_keys, tauri_plain, content_type);
        let block = (256 * 1024 / plain.len()).clamp(2, 2000);
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..201 {
            let sealed: Vec<Vec<u8>> = (0..block)
                .map(|_| sealer.seal(&plain, Encoding::Binary).unwrap())
                .collect();
            let t = std::time::Instant::now();
            for msg in sealed {
                ours_gate.admit_and_dispatch(msg);
            }
            ours.push(t.elapsed().as_nanos() as f64 / block as f64);
            let t = std::time::Instant::now();
            for _ in 0..block {
                black_box(tauri_open(&tauri_keys, black_box(&body)));
            }
            theirs.push(t.elapsed().as_nanos() as f64 / block as f64);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (ours, theirs) = (median(&mut ours), median(&mut theirs));
        println!(
            "| {} | {} | {} | {:.1}× |",
            case.name,
            time(ours),
            time(theirs),
            theirs / ours
        );
    }
}

const CASES: [&str; 4] = ["json-200B", "bytes-4KiB", "bytes-64KiB", "bytes-1MiB"];

/// Criterion's median estimate for one benchmark of this run, in nanoseconds.
fn median_ns(dir: &std::path::Path, id: &str, case: &str) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(id).join(case).join("new/estimates.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn rate(bytes: f64, ns: f64) -> String {
    let per_second = bytes / (ns / 1e9);
    if per_second >= 1e9 {
        format!("{:.2} GB/s", per_second / 1e9)
    } else {
        format!("{:.1} MB/s", per_second / 1e6)
    }
}

/// The table of BENCHMARKS.md, from the estimates criterion just wrote: medians, and
/// the ratios ours/Tauri (speed-up) and ours/ceiling (share of a bare ring open).
fn print_table() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("target")
        });
    let dir = target.join("criterion/gate");
    let sizes = [200.0, 4096.0, 65536.0, 1048576.0];
    println!(
        "\n| payload | Portcullis (ring) | Portcullis (aes-gcm) | Tauri 2 (tauri-utils) | ceiling (ring open) | speed-up over Tauri | share of ceiling | ring / aes-gcm |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (case, size) in CASES.iter().zip(sizes) {
        let get = |id| median_ns(&dir, id, case);
        let (Some(ring), Some(rc), Some(tauri), Some(ceiling)) = (
            get("portcullis-ring"),
            get("portcullis-aes-gcm"),
            get("tauri"),
            get("ceiling-ring-open"),
        ) else {
            println!("| {case} | (not measured in this run) |");
            continue;
        };
        let best = ring.min(rc);
        println!(
            "| {case} | {} ({}) | {} ({}) | {} ({}) | {} | {:.1}× | {:.0}% | {:.2}× |",
            time(ring),
            rate(size, ring),
            time(rc),
            rate(size, rc),
            time(tauri),
            rate(size, tauri),
            time(ceiling),
            tauri / best,
            100.0 * ceiling / best,
            rc / ring,
        );
    }
}
