//! The core attack catalogue: every case in `fixtures/attacks/core/*.json` is run against
//! a real gate (the demo app's config) and must be refused with its code without any
//! handler running; each class's legitimate twins must be admitted and handled.
//!
//! A case (all fields but `name` and `expect` optional):
//! ```json
//! { "name": "...", "page_loads": [["main", "app://localhost"]],
//!   "before": ["reload main" | "close main" | "advance main 1100"],
//!   "request": {"kind": "command", "name": "notes.list", "json": {} | "json_text": "..." | "bytes_len": 16},
//!   "sealer": {"session_of": "main", "aad_label": "main", "key": "session" | "random"},
//!   "encoding": "binary" | "json",
//!   "raw_text": "...", "raw_hex": "...",
//!   "mutate": [{"flip": -1, "bit": 0} | {"set": 2, "byte": 2} | {"truncate": 30}
//!              | {"swap_base64_char": 14}
//!              | {"json_replace": ["\"v\":1", "\"v\":2"]} | {"paste_ciphertext_from": {"session_of": "note-1", "request": {...}}}],
//!   "deliver": {"webview": "main", "origin": "app://localhost", "times": 1},
//!   "expect": "E_TAMPERED" | "ADMITTED" }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use portcullis::envelope::Encoding;
use portcullis::request::{Kind, Request};
use portcullis::{Attested, Config, Gate, HandlerError, Origin, Router, ScopeVars, Sealer};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    page_loads: Option<Vec<(String, String)>>,
    #[serde(default)]
    before: Vec<String>,
    #[serde(default)]
    request: Option<Req>,
    #[serde(default)]
    sealer: Option<SealerSpec>,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    raw_text: Option<String>,
    #[serde(default)]
    raw_hex: Option<String>,
    #[serde(default)]
    mutate: Vec<Value>,
    #[serde(default)]
    deliver: Option<Deliver>,
    /// Another config than the demo app's (relative to the repository).
    #[serde(default)]
    config: Option<String>,
    expect: String,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Req {
    #[serde(default = "command")]
    kind: String,
    name: String,
    #[serde(default)]
    json: Option<Value>,
    #[serde(default)]
    json_text: Option<String>,
    #[serde(default)]
    bytes_len: Option<usize>,
    /// A JSON body given as hex (for invalid UTF-8).
    #[serde(default)]
    json_hex: Option<String>,
    /// A JSON body of `nest` nested arrays.
    #[serde(default)]
    nest: Option<usize>,
    /// [index, byte] patches to the plaintext before sealing (authentic but malformed).
    #[serde(default)]
    plain_patch: Vec<(usize, u8)>,
}

fn command() -> String {
    "command".into()
}

fn list() -> Req {
    Req {
        kind: command(),
        name: "notes.list".into(),
        json: None,
        json_text: None,
        bytes_len: None,
        json_hex: None,
        nest: None,
        plain_patch: Vec::new(),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SealerSpec {
    #[serde(default)]
    session_of: Option<String>,
    #[serde(default)]
    aad_label: Option<String>,
    #[serde(default)]
    key: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Deliver {
    #[serde(default)]
    webview: Option<String>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    times: Option<usize>,
}

struct World {
    gate: Gate,
    router: Router,
    runs: Arc<AtomicUsize>,
    sealers: Vec<(String, Sealer)>,
    keys: Vec<(String, portcullis::SessionId, Box<[u8; 32]>)>,
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn exports_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("portcullis-security-{}", std::process::id()));
    let _ = std::fs::create_dir_all(dir.join("real"));
    let outside = std::env::temp_dir().join(format!(
        "portcullis-security-outside-{}",
        std::process::id()
    ));
    let _ = std::fs::create_dir_all(&outside);
    let _ = std::os::unix::fs::symlink(&outside, dir.join("escape"));
    let _ = std::os::unix::fs::symlink(outside.join("gone.md"), dir.join("dangling.md"));
    let _ = std::fs::write(outside.join("secret.md"), "outside the scope");
    let _ = std::os::unix::fs::symlink(outside.join("secret.md"), dir.join("link.md"));
    dir
}

fn world(exports: &Path, config: Option<&str>) -> World {
    let path = root().join(config.unwrap_or("fixtures/configs/valid/demo.json"));
    let text = std::fs::read_to_string(path).unwrap();
    let gate = Gate::new(
        &Config::from_json(&text).unwrap(),
        &ScopeVars::new().with("EXPORTS", exports),
    )
    .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut router = Router::new();
    for name in [
        "notes.list",
        "notes.add",
        "notes.delete",
        "notes.export",
        "notes.purge",
        "admin.reset",
    ] {
        let r = runs.clone();
        router = router.command(name, move |_: portcullis::Args<Value>| {
            r.fetch_add(1, Ordering::SeqCst);
            Ok::<_, HandlerError>(())
        });
    }
    let r = runs.clone();
    router = router.command("notes.attach", move |_: portcullis::Bytes| {
        r.fetch_add(1, Ordering::SeqCst);
    });
    for event in ["note-opened", "note-closed"] {
        let r = runs.clone();
        router = router.on_event(event, move |_, _: Value| {
            r.fetch_add(1, Ordering::SeqCst);
        });
    }
    World {
        gate,
        router,
        runs,
        sealers: Vec::new(),
        keys: Vec::new(),
    }
}

fn plaintext(req: &Req, exports: &Path) -> Vec<u8> {
    let kind = if req.kind == "event" {
        Kind::Event
    } else {
        Kind::Command
    };
    let mut plain = if let Some(len) = req.bytes_len {
        Request::encode_bytes(kind, 7, &req.name, &vec![0xab; len])
    } else {
        let mut plain = Request::encode_bytes(kind, 7, &req.name, b"");
        plain[1] = 0; // JSON body
        let exports = exports.to_str().unwrap_or("");
        let json = if let Some(hex) = &req.json_hex {
            hex::decode(hex).unwrap_or_default()
        } else if let Some(n) = req.nest {
            format!("{}1{}", "[".repeat(n), "]".repeat(n)).into_bytes()
        } else if let Some(text) = &req.json_text {
            text.replace("$EXPORTS", exports).into_bytes()
        } else if let Some(v) = &req.json {
            v.to_string().replace("$EXPORTS", exports).into_bytes()
        } else {
            b"{}".to_vec()
        };
        plain.extend_from_slice(&json);
        plain
    };
    for &(i, b) in &req.plain_patch {
        if let Some(x) = plain.get_mut(i) {
            *x = b;
        }
    }
    plain
}

fn load(world: &mut World, label: &str, origin: &str) {
    let grant = world
        .gate
        .begin_page_load(label, Origin::parse(origin).unwrap())
        .unwrap();
    let sid = grant.session();
    let key = grant.into_isolation_key();
    world.keys.retain(|(l, _, _)| l != label);
    world.keys.push((label.to_owned(), sid, Box::new(*key)));
    let sealer = Sealer::new(
        portcullis::aead::default_backend().sealing_key(&key),
        sid,
        label,
    )
    .unwrap();
    world.sealers.retain(|(l, _)| l != label);
    world.sealers.push((label.to_owned(), sealer));
}

fn sealer_for(world: &mut World, spec: &SealerSpec) -> Sealer {
    let of = spec.session_of.as_deref().unwrap_or("main");
    let (_, sid, key) = world
        .keys
        .iter()
        .find(|(l, _, _)| l == of)
        .expect("no such page load");
    let label = spec.aad_label.as_deref().unwrap_or(of);
    let key: [u8; 32] = if spec.key.as_deref() == Some("random") {
        [0x5a; 32]
    } else {
        **key
    };
    // Continue after what the page's own sealer used, so sequence numbers stay fresh.
    let next = world
        .sealers
        .iter()
        .find(|(l, _)| l == of)
        .map_or(1, |(_, s)| s.next_seq());
    Sealer::new(
        portcullis::aead::default_backend().sealing_key(&key),
        *sid,
        label,
    )
    .unwrap()
    .starting_at(next + 5_000_000)
}

fn run_case(case: &Case, exports: &Path) -> Result<(), String> {
    let mut world = world(exports, case.config.as_deref());
    let loads = case.page_loads.clone().unwrap_or_else(|| {
        vec![
            ("main".into(), "app://localhost".into()),
            ("note-1".into(), "app://localhost".into()),
        ]
    });
    for (label, origin) in &loads {
        load(&mut world, label, origin);
    }
    let encoding = match case.encoding.as_deref() {
        Some("json") => Encoding::Json,
        _ => Encoding::Binary,
    };
    let mut body = if let Some(text) = &case.raw_text {
        text.as_bytes().to_vec()
    } else if let Some(hex) = &case.raw_hex {
        hex::decode(hex).map_err(|e| e.to_string())?
    } else {
        let req = case.request.clone().unwrap_or_else(list);
        let spec = case.sealer.as_ref();
        let mut sealer = match spec {
            Some(s) => sealer_for(&mut world, s),
            None => {
                let i = world
                    .sealers
                    .iter()
                    .position(|(l, _)| l == "main")
                    .expect("main loaded");
                world.sealers.remove(i).1
            }
        };
        sealer
            .seal(&plaintext(&req, exports), encoding)
            .map_err(|e| e.to_string())?
    };
    for m in &case.mutate {
        mutate(&mut world, &mut body, m, encoding, exports)?;
    }
    let deliver = case.deliver.as_ref();
    let webview = deliver
        .and_then(|d| d.webview.clone())
        .unwrap_or_else(|| "main".into());
    let origin = deliver
        .and_then(|d| d.origin.clone())
        .unwrap_or_else(|| "app://localhost".into());
    let origin = Origin::parse(&origin).map_err(|e| e.to_string())?;
    for action in &case.before {
        let parts: Vec<&str> = action.split_whitespace().collect();
        match parts.as_slice() {
            ["reload", label] => {
                let origin = loads
                    .iter()
                    .find(|(l, _)| l == label)
                    .map_or("app://localhost", |(_, o)| o.as_str());
                load(&mut world, label, origin)
            }
            ["close", label] => {
                world.gate.end_webview(label);
            }
            ["advance", label, n] => {
                let n: usize = n.parse().map_err(|_| "bad advance".to_string())?;
                let (_, sid, key) = world
                    .keys
                    .iter()
                    .find(|(l, _, _)| l == label)
                    .expect("loaded");
                // Other messages of the same page load, sealed after the one under test.
                let mut s = Sealer::new(
                    portcullis::aead::default_backend().sealing_key(key),
                    *sid,
                    *label,
                )
                .unwrap()
                .starting_at(100);
                for _ in 0..n {
                    let m = s
                        .seal(&plaintext(&list(), exports), Encoding::Binary)
                        .unwrap();
                    world
                        .gate
                        .admit(
                            &m,
                            Attested {
                                webview: label,
                                origin: &origin,
                            },
                        )
                        .map_err(|r| r.to_string())?;
                }
            }
            _ => return Err(format!("unknown action {action:?}")),
        }
    }
    let times = deliver.and_then(|d| d.times).unwrap_or(1);
    let facts = Attested {
        webview: &webview,
        origin: &origin,
    };
    for i in 0..times {
        let result = world.gate.admit(&body, facts);
        let last = i + 1 == times;
        match (result, last) {
            (Ok(admitted), false) => {
                world.router.dispatch(admitted).wait();
            }
            (Err(r), false) if i == 0 => {
                return Err(format!("the first delivery was refused: {}", r));
            }
            (Err(_), false) => {}
            (Ok(admitted), true) => {
                if case.expect != "ADMITTED" {
                    return Err(format!("admitted, expected {}", case.expect));
                }
                let before = world.runs.load(Ordering::SeqCst);
                let reply = world.router.dispatch(admitted).wait();
                if reply.result.is_err() || world.runs.load(Ordering::SeqCst) != before + 1 {
                    return Err(format!(
                        "admitted but the handler did not run: {:?}",
                        reply.result
                    ));
                }
            }
            (Err(r), true) => {
                if r.code.as_str() != case.expect {
                    return Err(format!("refused with {}, expected {}", r, case.expect));
                }
                // Only the first of several deliveries may run a handler.
                let expected_runs = usize::from(times > 1);
                let runs = world.runs.load(Ordering::SeqCst);
                if runs != expected_runs {
                    return Err(format!(
                        "a handler ran {runs} times, expected {expected_runs}"
                    ));
                }
            }
        }
    }
    Ok(())
}

fn index(body: &[u8], at: i64) -> usize {
    if at < 0 {
        (body.len() as i64 + at) as usize
    } else {
        at as usize
    }
}

fn mutate(
    world: &mut World,
    body: &mut Vec<u8>,
    m: &Value,
    encoding: Encoding,
    exports: &Path,
) -> Result<(), String> {
    if let Some(at) = m.get("flip").and_then(Value::as_i64) {
        let bit = m.get("bit").and_then(Value::as_u64).unwrap_or(0);
        let i = index(body, at);
        body[i] ^= 1 << bit;
    } else if let Some(at) = m.get("swap_base64_char").and_then(Value::as_i64) {
        // Another base64 character in place of the one at `at` (A <-> B): the text stays
        // valid base64 whatever random bytes it encodes, unlike a bit flip.
        let i = index(body, at);
        if !body[i].is_ascii_alphanumeric() && body[i] != b'+' && body[i] != b'/' {
            return Err(format!(
                "swap_base64_char: byte {i} is not a base64 character"
            ));
        }
        body[i] = if body[i] == b'A' { b'B' } else { b'A' };
    } else if let Some(at) = m.get("set").and_then(Value::as_i64) {
        let i = index(body, at);
        body[i] = m["byte"].as_u64().ok_or("set needs byte")? as u8;
    } else if let Some(n) = m.get("truncate").and_then(Value::as_u64) {
        body.truncate(n as usize);
    } else if let Some(pair) = m.get("json_replace").and_then(Value::as_array) {
        let (from, to) = (
            pair[0].as_str().unwrap_or(""),
            pair[1].as_str().unwrap_or(""),
        );
        let text = String::from_utf8(body.clone()).map_err(|e| e.to_string())?;
        if !text.contains(from) {
            return Err(format!("json_replace: {from:?} not in {text}"));
        }
        *body = text.replacen(from, to, 1).into_bytes();
    } else if let Some(from) = m.get("paste_ciphertext_from") {
        let spec: SealerSpec =
            serde_json::from_value(from.get("sealer").cloned().unwrap_or_default())
                .map_err(|e| e.to_string())?;
        let req: Req =
            serde_json::from_value(from["request"].clone()).map_err(|e| e.to_string())?;
        let other = sealer_for(world, &spec)
            .seal(&plaintext(&req, exports), Encoding::Binary)
            .map_err(|e| e.to_string())?;
        if encoding != Encoding::Binary {
            return Err("paste works on binary envelopes".into());
        }
        body.truncate(40);
        body.extend_from_slice(&other[40..]);
    } else if m.get("append_zeros").is_some() {
        let n = m["append_zeros"].as_u64().unwrap_or(0) as usize;
        body.extend(std::iter::repeat_n(0u8, n));
    } else {
        return Err(format!("unknown mutation {m}"));
    }
    Ok(())
}

fn main() {
    let exports = exports_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/attacks/core"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut passed, mut failed, mut attacks, mut twins) = (0, 0, 0, 0);
    for file in files {
        let class = file.file_stem().unwrap().to_string_lossy().to_string();
        let cases: Vec<Case> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut class_twins = 0;
        for case in &cases {
            if case.expect == "ADMITTED" {
                twins += 1;
                class_twins += 1
            } else {
                attacks += 1
            }
            match run_case(case, &exports) {
                Ok(()) => {
                    passed += 1;
                    println!("test security::{class}::{} ... ok", case.name);
                }
                Err(e) => {
                    failed += 1;
                    println!(
                        "test security::{class}::{} ... FAILED\n      {e}",
                        case.name
                    );
                }
            }
        }
        if class_twins == 0 {
            failed += 1;
            println!("test security::{class}::(has a legitimate twin) ... FAILED");
        }
    }
    let _ = std::fs::remove_dir_all(&exports);
    println!("\n{attacks} attacks, {twins} legitimate twins");
    if attacks < 60 {
        failed += 1;
        println!("test security::(at least 60 attacks) ... FAILED");
    }
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!(
        "test result: {verdict}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out"
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
