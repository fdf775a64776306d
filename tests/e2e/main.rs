//! End-to-end tests in a real WebKitGTK webview (under a private Xvfb when there is no
//! display). Each scenario loads `tests/e2e/web/` in one or more webviews, runs a
//! scenario module from `web/scenarios/` in the main frame, and collects its checks. The
//! Rust side adds checks of its own that a page cannot fake: the canary handler never
//! ran, and the audit log recorded the refusals the attacks should have caused.
//!
//! Every scenario runs in a process of its own (this binary, re-run with
//! `PORTCULLIS_E2E_SCENARIO` set), so one scenario's windows and webviews can never
//! disturb the next, and a crash is a failed scenario, not a lost suite.
//!
//! Run: `cargo test --test e2e` (optionally followed by scenario names to run a subset).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use portcullis::emit::EmitTarget;
use portcullis::stream::{StreamError, Upload};
use portcullis::{
    Args, Bytes, Caller, CancellationToken, Channel, ChannelError, Grants, HandlerError, Message,
    Reach, Router, Scoped, State,
};
use portcullis_headless as headless;
use portcullis_wry::{Portcullis, transport};
use serde::Deserialize;
use serde_json::{Value, json};
use tao::event::Event;
use tao::event_loop::{ControlFlow, EventLoop, EventLoopBuilder, EventLoopProxy};
use tao::platform::run_return::EventLoopExtRunReturn;
use tao::window::WindowBuilder;

/// One scenario: which page module runs, in which webviews, how often the page reloads,
/// and what the Rust side must see.
struct Scenario {
    name: &'static str,
    windows: &'static [&'static str],
    reloads: usize,
    /// Audit codes that must appear (at least once each).
    audit_codes: &'static [&'static str],
    /// The config, relative to `tests/e2e/`.
    config: &'static str,
    /// The isolation directory (relative to the config's folder), when not the config's
    /// own: one config behind hooks of several styles.
    isolation: Option<&'static str>,
    /// Codes wry's IPC handler must have refused (at least once each).
    ipc_codes: &'static [&'static str],
    /// How many checks the page must report (per window): a scenario that stops early
    /// fails instead of passing with fewer checks.
    min_checks: usize,
    /// (code, command or event name) pairs the audit log must hold.
    audit_names: &'static [(&'static str, &'static str)],
    /// The URL the webview starts at, when not the start page.
    url: Option<&'static str>,
    /// Build the webview in the window's GTK box (`build_webview_gtk`, as Wayland apps
    /// do) instead of on the window handle.
    gtk: bool,
    /// Which page module runs, when not the one named like the scenario.
    module: Option<&'static str>,
    /// Where `app://` takes the pages from.
    frontend: Source,
    /// How often `grants.export` (behind a run-time grant) must have run, and the grant
    /// changes the grant sink must have seen, in order (the grants scenario).
    grants: Option<(usize, &'static [&'static str])>,
}

/// The frontend sources an app can have (`build` in the config, or the builder's).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `web/`, read at run time.
    Directory,
    /// `web/` as rust-embed assets.
    Embedded,
    /// `web/` served by a dev server on 127.0.0.1 that the scenario starts, named by the
    /// config's `build.devUrl`.
    DevServer,
}

/// `tests/e2e/web/` as embedded assets (read from the folder in this debug build, as
/// rust-embed does; the outside app's test checks a binary that carries them).
#[derive(rust_embed::Embed)]
#[folder = "../../tests/e2e/web"]
struct Web;

/// Embedded assets that count what they served, so the scenario can tell they did.
struct Counted(Arc<Run>);

impl portcullis_wry::Assets for Counted {
    fn get(&self, path: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
        let file = <Web as rust_embed::Embed>::get(path)?;
        lock(&self.0.served).push(path.to_owned());
        Some(file.data)
    }
    fn names(&self) -> Vec<String> {
        <Web as rust_embed::Embed>::iter()
            .map(|n| n.into_owned())
            .collect()
    }
}

/// A dev server for `web/`: its own headers (a CSP of its own, a cookie) that must not
/// reach the webview, every path it served recorded.
fn start_dev_server(run: Arc<Run>) -> std::io::Result<String> {
    let server = tiny_http::Server::http("127.0.0.1:0").map_err(std::io::Error::other)?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let web = root().join("tests/e2e/web");
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let path = request.url().split('?').next().unwrap_or("/").to_owned();
            let rel = if path == "/" {
                "index.html"
            } else {
                path.trim_start_matches('/')
            };
            let file = (!rel.split('/').any(|p| p == ".." || p.is_empty()))
                .then(|| std::fs::read(web.join(rel)).ok())
                .flatten();
            let header = |n: &str, v: &str| {
                tiny_http::Header::from_bytes(n.as_bytes(), v.as_bytes()).unwrap()
            };
            let response = match file {
                Some(bytes) => {
                    lock(&run.served).push(rel.to_owned());
                    let mime = match rel.rsplit('.').next() {
                        Some("html") => "text/html",
                        Some("js") => "text/javascript",
                        _ => "application/octet-stream",
                    };
                    tiny_http::Response::from_data(bytes)
                        .with_header(header("Content-Type", mime))
                        .with_header(header("Content-Security-Policy", "default-src *"))
                        .with_header(header("Set-Cookie", "dev=1"))
                }
                None => tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404),
            };
            let _ = request.respond(response);
        }
    });
    Ok(format!("http://{addr}"))
}

/// The fields most scenarios leave as they are.
const DEFAULTS: Scenario = Scenario {
    name: "",
    windows: &["main"],
    reloads: 0,
    audit_codes: &[],
    config: CONFIG,
    isolation: None,
    ipc_codes: &[],
    min_checks: 1,
    audit_names: &[],
    url: None,
    gtk: false,
    module: None,
    frontend: Source::Directory,
    grants: None,
};

const CONFIG: &str = "portcullis.json";
/// The config of the kinds scenarios, each with a hook directory of its own beside it.
const KINDS_CONFIG: &str = "kinds/portcullis.json";

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "legit",
        windows: &["main"],
        reloads: 0,
        audit_codes: &[],
        config: CONFIG,
        ipc_codes: &[],
        min_checks: 11,
        ..DEFAULTS
    },
    Scenario {
        name: "codes",
        windows: &["main"],
        reloads: 0,
        audit_codes: &[
            "E_NOT_ALLOWED",
            "E_DENIED",
            "E_INVALID_ARGS",
            "E_OUT_OF_SCOPE",
            "E_TOO_DEEP",
            "E_TOO_LARGE",
            "E_UNSEALED",
            "E_MALFORMED",
            "E_REPLAY",
            "E_UNSUPPORTED_VERSION",
            "E_BAD_NONCE",
            "E_UNKNOWN_SESSION",
            "E_TAMPERED",
            "E_STALE",
            "E_BAD_METHOD",
        ],
        config: CONFIG,
        ipc_codes: &[],
        min_checks: 43,
        // Refusals made outside the gate reach the audit too: the isolation frame's (hook,
        // timeout, bad request, reported sealed) and the router's.
        audit_names: &[
            ("E_HOOK_REJECTED", "hook.throw"),
            ("E_HOOK_REJECTED", "hook.false"),
            ("E_HOOK_TIMEOUT", "hook.hang"),
            ("E_BAD_REQUEST", "-"),
            ("E_INVALID_ARGS", "tokio.files"),
            ("E_INVALID_ARGS", "counter.add"),
            ("E_UNKNOWN_COMMAND", "unregistered.cmd"),
        ],
        ..DEFAULTS
    },
    Scenario {
        name: "handlers",
        min_checks: 24,
        ..DEFAULTS
    },
    Scenario {
        name: "attacks",
        windows: &["main"],
        reloads: 0,
        audit_codes: &["E_TAMPERED", "E_UNKNOWN_SESSION", "E_REPLAY", "E_UNSEALED"],
        config: CONFIG,
        ipc_codes: &["E_REPLAY", "E_UNSEALED"],
        min_checks: 17,
        ..DEFAULTS
    },
    Scenario {
        name: "recreate",
        windows: &["main"],
        reloads: 0,
        audit_codes: &[],
        config: CONFIG,
        ipc_codes: &[],
        min_checks: 4,
        ..DEFAULTS
    },
    Scenario {
        name: "vectors",
        windows: &["main"],
        reloads: 0,
        audit_codes: &[],
        config: CONFIG,
        ipc_codes: &[],
        min_checks: 54,
        ..DEFAULTS
    },
    Scenario {
        name: "navigate",
        windows: &["main"],
        reloads: 0,
        audit_codes: &[],
        config: CONFIG,
        ipc_codes: &[],
        min_checks: 3,
        ..DEFAULTS
    },
    Scenario {
        name: "windows",
        windows: &["main", "second"],
        reloads: 0,
        audit_codes: &["E_WRONG_WEBVIEW"],
        config: CONFIG,
        ipc_codes: &[],
        min_checks: 1,
        ..DEFAULTS
    },
    Scenario {
        name: "reload",
        windows: &["main"],
        reloads: 1,
        audit_codes: &["E_SESSION_REVOKED"],
        config: CONFIG,
        ipc_codes: &[],
        min_checks: 3,
        ..DEFAULTS
    },
    Scenario {
        name: "hostile",
        windows: &["main"],
        reloads: 0,
        audit_codes: &["E_UNSEALED"],
        config: CONFIG,
        ipc_codes: &[],
        min_checks: 7,
        ..DEFAULTS
    },
    Scenario {
        name: "midflight",
        windows: &["main"],
        reloads: 0,
        audit_codes: &[],
        config: CONFIG,
        ipc_codes: &[],
        min_checks: 3,
        ..DEFAULTS
    },
    Scenario {
        name: "load",
        windows: &["main"],
        reloads: 0,
        audit_codes: &[],
        config: CONFIG,
        ipc_codes: &[],
        min_checks: 3,
        ..DEFAULTS
    },
    Scenario {
        name: "helpers",
        windows: &["main"],
        reloads: 0,
        audit_codes: &[],
        config: "helpers/portcullis.json",
        ipc_codes: &[],
        min_checks: 15,
        ..DEFAULTS
    },
    Scenario {
        name: "tauri",
        windows: &["main"],
        reloads: 0,
        audit_codes: &[],
        config: "tauri/portcullis.json",
        ipc_codes: &[],
        min_checks: 11,
        audit_names: &[
            ("E_NOT_ALLOWED", "tauri.refused"),
            ("E_HOOK_REJECTED", "tauri.throw"),
            ("E_HOOK_REJECTED", "tauri.false"),
        ],
        ..DEFAULTS
    },
    Scenario {
        name: "canonical",
        audit_codes: &["E_BAD_REQUEST", "E_TOO_DEEP", "E_HOOK_REJECTED"],
        audit_names: &[
            ("E_BAD_REQUEST", "guarded.role"),
            ("E_HOOK_REJECTED", "guarded.role"),
            ("E_BAD_REQUEST", "canon.returns"),
            ("E_HOOK_REJECTED", "canon.returns"),
            ("E_TOO_LARGE", "canon.sink"),
        ],
        min_checks: 70,
        ..DEFAULTS
    },
    Scenario {
        name: "restore_gtk",
        min_checks: 6,
        url: Some("app://localhost/index.html?via=url"),
        gtk: true,
        ..DEFAULTS
    },
    Scenario {
        name: "hookfail",
        config: "hookfail/portcullis.json",
        url: Some("app://localhost/hookfail.html"),
        audit_names: &[
            ("E_HOOK_REJECTED", "echo"),
            ("E_HOOK_REJECTED", "secret.read"),
        ],
        min_checks: 5,
        ..DEFAULTS
    },
    Scenario {
        name: "removed",
        min_checks: 8,
        ..DEFAULTS
    },
    Scenario {
        name: "restore",
        min_checks: 6,
        url: Some("app://localhost/index.html?via=url"),
        ..DEFAULTS
    },
    Scenario {
        name: "channels",
        reloads: 1,
        audit_codes: &["E_HOOK_REJECTED"],
        audit_names: &[("E_HOOK_REJECTED", "channel.refused")],
        min_checks: 14,
        ..DEFAULTS
    },
    Scenario {
        name: "streams",
        reloads: 1,
        audit_codes: &["E_HOOK_REJECTED", "E_TOO_LARGE", "E_REPLAY", "E_TAMPERED"],
        audit_names: &[
            ("E_HOOK_REJECTED", "stream.guarded"),
            ("E_TOO_LARGE", "portcullis.chunk"),
            ("E_HOOK_REJECTED", "stream.false"),
        ],
        min_checks: 29,
        ..DEFAULTS
    },
    Scenario {
        name: "grants",
        reloads: 1,
        audit_codes: &["E_NOT_GRANTED", "E_GRANT_REVOKED", "E_OUT_OF_SCOPE"],
        audit_names: &[
            ("E_NOT_GRANTED", "grants.export"),
            ("E_GRANT_REVOKED", "grants.export"),
            ("E_OUT_OF_SCOPE", "files.open"),
        ],
        min_checks: 16,
        grants: Some((
            2,
            &[
                "granted export",
                "path-allowed e2e",
                "path-allowed e2e",
                "path-forgotten e2e",
                "revoked export",
            ],
        )),
        ..DEFAULTS
    },
    // Hooks of every style against stream opens (issue 30): a hook is shown only the kinds
    // it declares. One config (which allows the canary stream) behind one hook each.
    Scenario {
        name: "kinds_legacy",
        config: KINDS_CONFIG,
        isolation: Some("legacy"),
        min_checks: 9,
        audit_names: &[
            ("E_HOOK_REJECTED", "stream.collect"),
            ("E_HOOK_REJECTED", "secret.stream"),
        ],
        ..DEFAULTS
    },
    Scenario {
        name: "kinds_declared",
        config: KINDS_CONFIG,
        isolation: Some("declared"),
        min_checks: 8,
        audit_names: &[
            ("E_HOOK_REJECTED", "secret.stream"),
            ("E_HOOK_REJECTED", "stream.false"),
        ],
        ..DEFAULTS
    },
    Scenario {
        name: "kinds_helpers_streams",
        config: KINDS_CONFIG,
        isolation: Some("helpers_streams"),
        min_checks: 6,
        audit_names: &[
            ("E_HOOK_REJECTED", "secret.stream"),
            ("E_HOOK_REJECTED", "ping"),
        ],
        ..DEFAULTS
    },
    Scenario {
        name: "kinds_tauri_streams",
        config: KINDS_CONFIG,
        isolation: Some("tauri_streams"),
        min_checks: 5,
        audit_names: &[
            ("E_HOOK_REJECTED", "secret.stream"),
            ("E_HOOK_REJECTED", "ping"),
        ],
        ..DEFAULTS
    },
    // A `kinds` declaration that is not an array of kind names: the hook does not load,
    // and every call is refused (reported through the title, as no call reaches the core).
    Scenario {
        name: "kinds_malformed",
        config: KINDS_CONFIG,
        isolation: Some("malformed"),
        url: Some("app://localhost/hookfail.html?why=kinds"),
        audit_names: &[
            ("E_HOOK_REJECTED", "echo"),
            ("E_HOOK_REJECTED", "stream.collect"),
        ],
        min_checks: 6,
        ..DEFAULTS
    },
    // The legitimate paths and the refusals again, with the pages from the other sources.
    Scenario {
        name: "legit_embedded",
        module: Some("legit"),
        frontend: Source::Embedded,
        min_checks: 11,
        ..DEFAULTS
    },
    Scenario {
        name: "legit_dev_server",
        module: Some("legit"),
        frontend: Source::DevServer,
        min_checks: 11,
        ..DEFAULTS
    },
    Scenario {
        name: "attacks_dev_server",
        module: Some("attacks"),
        frontend: Source::DevServer,
        audit_codes: &["E_TAMPERED", "E_UNKNOWN_SESSION", "E_REPLAY", "E_UNSEALED"],
        ipc_codes: &["E_REPLAY", "E_UNSEALED"],
        min_checks: 17,
        ..DEFAULTS
    },
];

const SCENARIO_TIMEOUT: Duration = Duration::from_secs(45);

#[derive(Debug)]
enum UserEvent {
    Pump,
    Done(String),
    Timeout,
}

#[derive(Deserialize)]
struct Check {
    name: String,
    expected: String,
    got: String,
}

/// What one scenario run observed.
#[derive(Default)]
struct Run {
    checks: Mutex<Vec<(String, Check)>>,
    canary: AtomicUsize,
    audit: Mutex<Vec<String>>,
    /// How often the `probe` command ran (the hook lets it through: it runs only when a
    /// message reached the isolation frame's hook, which injected frames must not).
    probe: AtomicUsize,
    /// Values a `guarded.*` handler received that its hook refuses: each one got past the
    /// hook because the hook judged a different value from the one the core received.
    breaches: Mutex<Vec<String>>,
    /// The message and detail of every audit event.
    audit_text: Mutex<Vec<String>>,
    /// Codes wry's IPC handler saw refused.
    ipc_refused: Mutex<Vec<String>>,
    /// Sealed messages the gate admitted, per webview, in order.
    captured: Mutex<Vec<(String, Vec<u8>)>>,
    phase: AtomicUsize,
    /// Paths the embedded assets or the dev server served.
    served: Mutex<Vec<String>>,
    /// The slow handlers: how many started, ran to their end, or were stopped early
    /// (an async one's future dropped, a sync one returning when its token fired).
    slow_started: AtomicUsize,
    slow_finished: AtomicUsize,
    slow_dropped: AtomicUsize,
    slow_saw_token: AtomicUsize,
    /// How often `grants.export` ran, and the grant sink's events.
    exported: AtomicUsize,
    grant_events: Mutex<Vec<String>>,
    /// Channel handlers: how often one saw its channel closed under it (by the page, or
    /// by a reload), and how often the one behind a refusing hook ran (never).
    channel_closed: AtomicUsize,
    channel_refused_ran: AtomicUsize,
    /// Stream handlers: how many started, saw an abort, or were dropped unfinished (a
    /// reload cancelled them).
    stream_started: AtomicUsize,
    stream_aborted: AtomicUsize,
    stream_dropped: AtomicUsize,
}

/// Counts a slow async handler's end: run to completion, or dropped before it (its call
/// was cancelled or timed out).
struct SlowGuard {
    run: Arc<Run>,
    finished: bool,
}

impl Drop for SlowGuard {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.run.slow_finished
        } else {
            &self.run.slow_dropped
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// A slow async handler: about 5 s of tokio sleeps unless it is cancelled first.
async fn slow(run: Arc<Run>) -> &'static str {
    let mut guard = SlowGuard {
        run,
        finished: false,
    };
    guard.run.slow_started.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(5)).await;
    guard.finished = true;
    "finished"
}

/// State two handlers share.
#[derive(Default)]
struct Counter(std::sync::atomic::AtomicI64);

/// Counts a stream handler dropped before its end (a reload cancelled it).
struct StreamGuard(Arc<Run>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.stream_dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// A stream's chunks, counted: `{meta, bytes, chunks, sum}` (sum: of every byte, mod 2^32).
async fn collect(run: &Run, meta: Value, mut upload: Upload) -> Result<Value, StreamError> {
    run.stream_started.fetch_add(1, Ordering::SeqCst);
    let (mut chunks, mut sum) = (0u32, 0u32);
    while let Some(chunk) = upload.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                if matches!(e, StreamError::Aborted(_)) {
                    run.stream_aborted.fetch_add(1, Ordering::SeqCst);
                }
                return Err(e);
            }
        };
        chunks += 1;
        for b in &chunk {
            sum = sum.wrapping_add(u32::from(*b));
        }
    }
    Ok(json!({ "meta": meta, "bytes": upload.received(), "chunks": chunks, "sum": sum }))
}

/// `channel.ticks`: how many ticks.
#[derive(Deserialize)]
struct Ticks {
    n: u32,
}

/// `channel.bytes`: how many messages of how many bytes.
#[derive(Deserialize)]
struct ChannelBytes {
    count: u32,
    size: usize,
}

/// Where `tokio.files` writes and `extract.all`'s scope points (`$E2E_HANDLERS`).
struct HandlerDir(PathBuf);

/// An app error type as apps write them (thiserror), reaching the page with its code and
/// data through `?`.
#[derive(Debug, thiserror::Error)]
enum E2eError {
    #[error("note {0} does not exist")]
    NotFound(u32),
    #[error("storage failed: {0}")]
    Storage(#[from] std::io::Error),
}

impl portcullis::AppError for E2eError {
    fn app_code(&self) -> Option<String> {
        Some(match self {
            E2eError::NotFound(_) => "NOT_FOUND".into(),
            E2eError::Storage(_) => "STORAGE".into(),
        })
    }
    fn data(&self) -> Option<Value> {
        match self {
            E2eError::NotFound(id) => Some(json!({ "id": id, "hint": "list the notes first" })),
            E2eError::Storage(_) => None,
        }
    }
}

#[derive(serde::Deserialize)]
struct FileArgs {
    name: String,
    text: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

const CHILD: &str = "PORTCULLIS_E2E_SCENARIO";
const TITLE_REPORT: &str = "e2e-report:";
/// An argument value the `codes` scenario sends in refused calls: it must never appear
/// in an audit event.
const SECRET_VALUE: &str = "e2e-secret-value";
const ROW: &str = "@@e2e-row ";

fn main() -> ExitCode {
    if let Some(code) = headless::exit_code_after_rerun("e2e") {
        return code;
    }
    if let Ok(name) = std::env::var(CHILD) {
        return child(&name);
    }
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for scenario in SCENARIOS {
        if !filters.is_empty() && !filters.iter().any(|f| scenario.name.contains(f.as_str())) {
            continue;
        }
        for (name, ok, detail) in spawn_scenario(scenario.name) {
            if ok {
                passed += 1;
                println!("test e2e::{}::{name} ... ok", scenario.name);
            } else {
                failed += 1;
                println!(
                    "test e2e::{}::{name} ... FAILED\n      {detail}",
                    scenario.name
                );
            }
        }
    }
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out"
    );
    if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs `name` in a child process and reads its result rows.
fn spawn_scenario(name: &str) -> Vec<(String, bool, String)> {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return vec![("spawn".into(), false, e.to_string())],
    };
    let child = std::process::Command::new(exe)
        .env(CHILD, name)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    // A watchdog, in case the child hangs beyond its own timeout.
    let child = child.inspect(|c| {
        let pid = c.id();
        std::thread::spawn(move || {
            std::thread::sleep(SCENARIO_TIMEOUT + Duration::from_secs(30));
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        });
    });
    let output = match child.and_then(|c| c.wait_with_output()) {
        Ok(o) => o,
        Err(e) => return vec![("spawn".into(), false, e.to_string())],
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    // WebKit's web process writes the pages' console there; passed on as it came.
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprint!("{stderr}");
    let mut rows: Vec<(String, bool, String)> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix(ROW))
        .filter_map(|l| serde_json::from_str::<(String, bool, String)>(l).ok())
        .collect();
    // The isolation frame warns on its console (forwarded here) when it cannot use its
    // WebAssembly sealer and falls back to WebCrypto: still sealed, but not the shipped path.
    let fallback = stdout
        .lines()
        .chain(stderr.lines())
        .find(|l| l.contains("WebAssembly sealer is unavailable"));
    rows.push((
        "the isolation frame seals with its WebAssembly module (no fallback)".into(),
        fallback.is_none(),
        fallback.unwrap_or("").to_owned(),
    ));
    if !output.status.success() && rows.iter().all(|r| r.1) {
        let console: Vec<&str> = stdout.lines().filter(|l| !l.starts_with(ROW)).collect();
        rows.push((
            "scenario process exited cleanly".into(),
            false,
            format!("{}; page console:\n{}", output.status, console.join("\n")),
        ));
    }
    rows
}

/// In the child: runs one scenario and prints its rows.
fn child(name: &str) -> ExitCode {
    let Some(scenario) = SCENARIOS.iter().find(|s| s.name == name) else {
        eprintln!("e2e: no scenario {name:?}");
        return ExitCode::FAILURE;
    };
    // The scenarios make a handler panic on purpose; keep that one out of the output.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.to_string().contains("deliberate panic") {
            default_hook(info);
        }
    }));
    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let rows = run_scenario(&mut event_loop, scenario);
    let all_ok = rows.iter().all(|r| r.1);
    for row in rows {
        println!("{ROW}{}", serde_json::to_string(&row).unwrap_or_default());
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

/// Runs one scenario; returns (check name, passed, detail) rows.
fn run_scenario(
    event_loop: &mut EventLoop<UserEvent>,
    scenario: &Scenario,
) -> Vec<(String, bool, String)> {
    let run = Arc::new(Run::default());
    let proxy = Arc::new(Mutex::new(event_loop.create_proxy()));
    let portcullis = match build(scenario, &run, &proxy) {
        Ok(p) => p,
        Err(e) => return vec![("set-up".into(), false, e.to_string())],
    };
    let mut windows = Vec::new();
    let mut webviews = HashMap::new();
    for label in scenario.windows {
        let built = WindowBuilder::new()
            .with_title(format!("e2e {} {label}", scenario.name))
            .with_inner_size(tao::dpi::LogicalSize::new(640.0, 400.0))
            .build(event_loop)
            .map_err(|e| e.to_string())
            .and_then(|w| {
                let url = scenario
                    .url
                    .map_or_else(|| portcullis.start_url(), str::to_owned);
                // A page whose calls cannot reach the core (its hook failed to load)
                // reports through its title instead: "e2e-report:" and a JSON list of
                // checks.
                let (titles, title_run, title_label) =
                    (proxy.clone(), run.clone(), label.to_string());
                let builder =
                    wry::WebViewBuilder::new().with_document_title_changed_handler(move |title| {
                        let Some(json) = title.strip_prefix(TITLE_REPORT) else {
                            return;
                        };
                        let checks: Vec<Check> = serde_json::from_str(json).unwrap_or_default();
                        let mut all = lock(&title_run.checks);
                        all.extend(checks.into_iter().map(|c| (title_label.clone(), c)));
                        drop(all);
                        send(&titles, UserEvent::Done(title_label.clone()));
                    });
                let built = if scenario.gtk {
                    use tao::platform::unix::WindowExtUnix as _;
                    match w.default_vbox() {
                        Some(vbox) => portcullis.build_webview_gtk(label, &url, builder, vbox),
                        None => return Err("the window has no GTK box".to_owned()),
                    }
                } else {
                    portcullis.build_webview_at(label, &url, builder, &w)
                };
                built.map(|v| (w, v)).map_err(|e| e.to_string())
            });
        match built {
            Ok((w, v)) => {
                portcullis_wry::inspect::forward_console_to_stdout(&v);
                windows.push(w);
                webviews.insert(label.to_string(), v);
            }
            Err(e) => return vec![("set-up".into(), false, e)],
        }
    }

    let deadline = Instant::now() + SCENARIO_TIMEOUT;
    let alarm = proxy.clone();
    std::thread::spawn(move || {
        std::thread::sleep(SCENARIO_TIMEOUT);
        send(&alarm, UserEvent::Timeout);
    });
    let mut pending: Vec<String> = scenario.windows.iter().map(|s| s.to_string()).collect();
    let mut timed_out = false;
    event_loop.run_return(|event, _, control_flow| {
        *control_flow = ControlFlow::WaitUntil(deadline);
        match event {
            Event::UserEvent(UserEvent::Pump) => portcullis.pump(),
            Event::UserEvent(UserEvent::Done(label)) => {
                let phase = run.phase.load(Ordering::SeqCst);
                if phase < scenario.reloads {
                    run.phase.store(phase + 1, Ordering::SeqCst);
                    if let Some(v) = webviews.get(&label) {
                        let _ = v.reload();
                    }
                } else {
                    pending.retain(|l| l != &label);
                    if pending.is_empty() {
                        *control_flow = ControlFlow::Exit;
                    }
                }
            }
            Event::UserEvent(UserEvent::Timeout) => {
                timed_out = true;
                *control_flow = ControlFlow::Exit;
            }
            Event::NewEvents(_) if Instant::now() >= deadline => {
                timed_out = true;
                *control_flow = ControlFlow::Exit;
            }
            _ => {}
        }
    });
    // The process ends after this scenario; windows and webviews go with it.
    let _ = (&webviews, &windows);

    let mut rows: Vec<(String, bool, String)> = lock(&run.checks)
        .drain(..)
        .map(|(label, c)| {
            let ok = c.expected == c.got;
            let name = if scenario.windows.len() > 1 {
                format!("{label}: {}", c.name)
            } else {
                c.name
            };
            (
                name,
                ok,
                format!("expected {:?}, got {:?}", c.expected, c.got),
            )
        })
        .collect();
    if timed_out {
        rows.push((
            "finished in time".into(),
            false,
            format!("still waiting for {pending:?}"),
        ));
    }
    if rows.is_empty() {
        rows.push((
            "made checks".into(),
            false,
            "the page reported no checks".into(),
        ));
    }
    let canary = run.canary.load(Ordering::SeqCst);
    rows.push((
        "the canary handler never ran (nothing bypassed the hook)".into(),
        canary == 0,
        format!("a canary (secret.read, secret.stream) ran {canary} times"),
    ));
    let breaches = lock(&run.breaches);
    rows.push((
        "no guarded handler received a value its hook refuses".into(),
        breaches.is_empty(),
        format!("{breaches:?}"),
    ));
    drop(breaches);
    if scenario.frontend != Source::Directory {
        let served = lock(&run.served);
        let pages = ["index.html", "harness.js"];
        rows.push((
            format!(
                "the pages came from the {} source",
                if scenario.frontend == Source::Embedded {
                    "embedded"
                } else {
                    "dev server"
                }
            ),
            pages.iter().all(|p| served.iter().any(|s| s == p)),
            format!("served: {served:?}"),
        ));
    }
    let probes = run.probe.load(Ordering::SeqCst);
    rows.push((
        "messages from injected frames never reached the hook (probe never ran)".into(),
        probes == 0,
        format!("probe ran {probes} times"),
    ));
    for label in scenario.windows {
        let n = rows
            .iter()
            .filter(|r| scenario.windows.len() == 1 || r.0.starts_with(&format!("{label}: ")))
            .count();
        if n < scenario.min_checks {
            rows.push((
                format!("{label} made at least {} checks", scenario.min_checks),
                false,
                format!("only {n}"),
            ));
        }
    }
    if let Some((exports, events)) = scenario.grants {
        let ran = run.exported.load(Ordering::SeqCst);
        rows.push((
            format!("grants.export ran exactly {exports} times (only while granted)"),
            ran == exports,
            format!("it ran {ran} times"),
        ));
        let seen = lock(&run.grant_events);
        rows.push((
            "the grant sink saw every change, in order".into(),
            *seen == events,
            format!("{seen:?}"),
        ));
    }
    let ipc = lock(&run.ipc_refused);
    for code in scenario.ipc_codes {
        rows.push((
            format!("wry's IPC handler refused and audited {code}"),
            ipc.iter().any(|c| c == code),
            format!("IPC handler refusals: {ipc:?}"),
        ));
    }
    let leaked: Vec<String> = lock(&run.audit_text)
        .iter()
        .filter(|t| t.contains(SECRET_VALUE))
        .cloned()
        .collect();
    rows.push((
        "no audit event holds an argument value".into(),
        leaked.is_empty(),
        format!("{leaked:?}"),
    ));
    let audit = lock(&run.audit);
    for code in scenario.audit_codes {
        rows.push((
            format!("audit log recorded {code}"),
            audit.iter().any(|c| c.split(' ').next() == Some(code)),
            format!("audit log: {audit:?}"),
        ));
    }
    for (code, name) in scenario.audit_names {
        let entry = format!("{code} {name}");
        rows.push((
            format!("audit log recorded {entry}"),
            audit.contains(&entry),
            format!("audit log: {audit:?}"),
        ));
    }
    rows
}

fn build(
    scenario: &Scenario,
    run: &Arc<Run>,
    proxy: &Arc<Mutex<EventLoopProxy<UserEvent>>>,
) -> Result<Portcullis, Box<dyn std::error::Error>> {
    let dir = root().join("tests/e2e");
    let builder = match (scenario.frontend, scenario.isolation) {
        (Source::Directory, None) => {
            Portcullis::from_config_file(&dir.join(scenario.config))?.frontend_dir(&dir.join("web"))
        }
        (Source::Directory, Some(isolation)) => {
            // The config as written, with another hook directory beside it.
            let path = dir.join(scenario.config);
            let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
            value["app"]["security"]["pattern"]["options"]["dir"] = json!(isolation);
            let config = portcullis::Config::from_json(&value.to_string())?;
            let folder = path.parent().ok_or("the config has no folder")?;
            Portcullis::builder(config, folder).frontend_dir(&dir.join("web"))
        }
        (Source::Embedded, _) => Portcullis::from_config_file(&dir.join(scenario.config))?
            .embedded_assets(Counted(run.clone())),
        (Source::DevServer, _) => {
            // The config as an app would write it, with the port this server got.
            let text = std::fs::read_to_string(dir.join(scenario.config))?;
            let mut value: Value = serde_json::from_str(&text)?;
            value["build"] = json!({ "devUrl": start_dev_server(run.clone())? });
            let config = portcullis::Config::from_json(&value.to_string())?;
            Portcullis::builder(config, &dir)
        }
    };
    std::fs::create_dir_all(handlers_dir())?;
    let builder = builder.scope_vars(
        portcullis::ScopeVars::new().with("E2E_HANDLERS", handlers_dir().canonicalize()?),
    );
    let emitter = builder.emitter();
    let audit_run = run.clone();
    let capture_run = run.clone();
    let grant_run = run.clone();
    let wake = proxy.clone();
    Ok(builder
        .router(router(
            scenario.module.unwrap_or(scenario.name),
            run.clone(),
            proxy.clone(),
            emitter,
        ))
        .audit_sink(move |e: &portcullis::AuditEvent<'_>| {
            lock(&audit_run.audit).push(format!("{} {}", e.code.as_str(), e.name.unwrap_or("-")));
            lock(&audit_run.audit_text).push(format!("{} {}", e.message, e.detail.unwrap_or("")));
        })
        .grant_sink(move |e: &portcullis::GrantEvent<'_>| {
            let change = serde_json::to_value(e.change).unwrap_or_default();
            lock(&grant_run.grant_events).push(format!(
                "{} {}",
                change.as_str().unwrap_or("?"),
                e.capability.unwrap_or("-")
            ));
        })
        .observe(Arc::new(move |o: &transport::Observed<'_>| {
            match (o.refused, o.via) {
                (None, transport::Via::Protocol) => {
                    lock(&capture_run.captured).push((o.webview.to_owned(), o.body.to_vec()))
                }
                (Some(code), transport::Via::IpcHandler) => {
                    lock(&capture_run.ipc_refused).push(code.as_str().to_owned())
                }
                _ => {}
            }
        }))
        .waker(move || send(&wake, UserEvent::Pump))
        .build()?)
}

/// A handler behind a careful hook: `allowed` is the hook's own rule, in Rust. A value it
/// refuses reached the handler only if the hook saw something else than what was sealed.
fn guarded(
    run: &Run,
    name: &str,
    args: Value,
    allowed: impl Fn(&Value) -> bool,
) -> Result<Value, HandlerError> {
    if !allowed(&args) {
        lock(&run.breaches).push(format!("{name} received {args}"));
    }
    Ok(args)
}

/// This process's folder for the handlers that touch files.
fn handlers_dir() -> PathBuf {
    std::env::temp_dir().join(format!("portcullis-e2e-handlers-{}", std::process::id()))
}

fn send(proxy: &Mutex<EventLoopProxy<UserEvent>>, event: UserEvent) {
    let _ = lock(proxy).send_event(event);
}

fn router(
    name: &'static str,
    run: Arc<Run>,
    proxy: Arc<Mutex<EventLoopProxy<UserEvent>>>,
    emitter: portcullis::Emitter,
) -> Router {
    let (r1, r2, r3, r4) = (run.clone(), run.clone(), run.clone(), run.clone());
    let listener_emitter = emitter.clone();
    Router::new()
        .command("echo", |Args(v): Args<Value>| v)
        .command("hook.rewrite", |Args(v): Args<Value>| v)
        .command("echo.bytes", |Bytes(b): Bytes| {
            b.into_iter().rev().collect::<Vec<u8>>()
        })
        .command("echo.strict", |Args(v): Args<Value>| v)
        .command("fs.read", |_: Args<Value>| {
            Ok::<_, HandlerError>("never reached")
        })
        .command("probe", {
            let run = run.clone();
            move |_: Args<Value>| {
                run.probe.fetch_add(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("probed")
            }
        })
        .command("canon.sink", |Args(v): Args<Value>| v)
        .command("canon.returns", |Args(v): Args<Value>| v)
        .command("guarded.role", {
            let run = run.clone();
            move |Args(args): Args<Value>| {
                guarded(&run, "guarded.role", args, |a| a["role"] != "admin")
            }
        })
        .command("guarded.count", {
            let run = run.clone();
            move |Args(args): Args<Value>| {
                guarded(&run, "guarded.count", args, |a| {
                    a["n"].as_f64().is_some_and(|n| n >= 0.0)
                })
            }
        })
        .command("guarded.items", {
            let run = run.clone();
            move |Args(args): Args<Value>| {
                guarded(&run, "guarded.items", args, |a| {
                    a["items"]
                        .as_array()
                        .is_some_and(|items| items.iter().all(Value::is_string))
                })
            }
        })
        .command("guarded.confirm", {
            let run = run.clone();
            move |Args(args): Args<Value>| {
                guarded(&run, "guarded.confirm", args, |a| {
                    a.get("confirm").is_some()
                })
            }
        })
        .command("tauri.inplace", {
            let run = run.clone();
            move |_: Args<Value>| {
                run.canary.fetch_add(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("the Tauri hook refused this by renaming it")
            }
        })
        .command("tauri.async", {
            let run = run.clone();
            move |_: Args<Value>| {
                run.canary.fetch_add(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("the Tauri hook refused this by renaming it")
            }
        })
        .command("guarded.small", {
            let run = run.clone();
            move |Args(args): Args<Value>| {
                guarded(&run, "guarded.small", args, |a| {
                    a["n"].as_u64().is_none_or(|n| n <= 1 << 60)
                        && a["n"].as_f64().is_some_and(|n| n <= (1u64 << 60) as f64)
                })
            }
        })
        .command("secret.read", move |_: Args<Value>| {
            r1.canary.fetch_add(1, Ordering::SeqCst);
            Ok::<_, HandlerError>("the secret")
        })
        .command(
            "emit.back",
            move |caller: Caller, Args(args): Args<Value>| {
                emitter
                    .emit(EmitTarget::Webview(&caller.webview), "pong", &args)
                    .map_err(HandlerError::from)
            },
        )
        .command("slow.echo", || async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, HandlerError>("slow")
        })
        .command("slow.sleep", |_: Args<Value>| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            Ok::<_, HandlerError>("late")
        })
        .command("fail", |_: Args<Value>| {
            Err::<(), _>(HandlerError::with_code("NOPE", "the handler said no"))
        })
        .command("boom", |_: Args<Value>| -> Result<(), HandlerError> {
            panic!("deliberate panic in an e2e handler")
        })
        .command("harness.scenario", move |caller: Caller| {
            Ok::<_, HandlerError>(json!({
                "name": name,
                "label": &*caller.webview,
                "phase": r2.phase.load(Ordering::SeqCst),
            }))
        })
        .command(
            "harness.report",
            move |caller: Caller, Args(check): Args<Check>| {
                lock(&r3.checks).push((caller.webview.to_string(), check));
                Ok::<_, HandlerError>(())
            },
        )
        .command("harness.captured", move || {
            let b64 = base64::engine::general_purpose::STANDARD;
            let list: Vec<Value> = lock(&r4.captured)
                .iter()
                .map(|(w, body)| json!({"webview": w, "body": b64.encode(body)}))
                .collect();
            Ok::<_, HandlerError>(list)
        })
        .command("harness.fixture", || {
            let text = std::fs::read_to_string(root().join("fixtures/vectors/wire-v1.json"))?;
            Ok::<Value, HandlerError>(serde_json::from_str(&text)?)
        })
        .command("harness.done", move |caller: Caller| {
            send(&proxy, UserEvent::Done(caller.webview.to_string()));
            Ok::<_, HandlerError>(())
        })
        .state(Counter::default())
        .state(HandlerDir(handlers_dir()))
        // Run-time grants as an app uses them: a sign-in grants the export capability to
        // the caller's window, a native file dialog (simulated: it creates the file) adds
        // the picked file to that window's scope.
        .command(
            "session.sign_in",
            |caller: Caller, grants: Grants| -> Result<(), HandlerError> {
                Ok(grants.grant(&caller.webview, "export")?)
            },
        )
        .command(
            "session.sign_out",
            |caller: Caller, grants: Grants| -> Result<bool, HandlerError> {
                Ok(grants.revoke(&caller.webview, "export")?)
            },
        )
        .command(
            "files.pick",
            |caller: Caller,
             grants: Grants,
             Args(name): Args<String>|
             -> Result<PathBuf, HandlerError> {
                let picked = handlers_dir()
                    .canonicalize()?
                    .join(format!("picked-{name}"));
                std::fs::write(&picked, format!("picked {name}"))?;
                Ok(grants.allow_path(&caller.webview, "e2e", "picked", &picked, Reach::File)?)
            },
        )
        .command(
            "files.forget",
            |caller: Caller,
             grants: Grants,
             Args(path): Args<PathBuf>|
             -> Result<bool, HandlerError> {
                Ok(grants.forget_path(&caller.webview, "e2e", "picked", &path)?)
            },
        )
        .command(
            "files.open",
            |_: Args<Value>, scoped: Scoped| -> Result<String, HandlerError> {
                Ok(std::fs::read_to_string(
                    scoped.get("/path").unwrap_or(Path::new("")),
                )?)
            },
        )
        .command("grants.export", {
            let run = run.clone();
            move || run.exported.fetch_add(1, Ordering::SeqCst) + 1
        })
        .command("counter.add", |c: State<Counter>, Args(n): Args<i64>| {
            c.0.fetch_add(n, Ordering::SeqCst) + n
        })
        .command("counter.get", |c: State<Counter>| async move {
            c.0.load(Ordering::SeqCst)
        })
        .command(
            "tokio.files",
            |Args(a): Args<FileArgs>, dir: State<HandlerDir>| async move {
                if !a
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.')
                {
                    return Err(HandlerError::new("a plain file name"));
                }
                let path = dir.0.join(&a.name);
                tokio::fs::write(&path, a.text.as_bytes()).await?;
                tokio::time::sleep(Duration::from_millis(20)).await;
                let text = tokio::fs::read_to_string(&path).await?;
                Ok(json!({ "text": text, "path": path.display().to_string() }))
            },
        )
        .command(
            "extract.all",
            |token: CancellationToken,
             paths: Scoped,
             counter: State<Counter>,
             Args(args): Args<Value>,
             caller: Caller| {
                json!({
                    "webview": &*caller.webview,
                    "origin": caller.origin.to_string(),
                    "sealed": caller.session.is_some(),
                    "args": args,
                    "path": paths.get("/path").map(|p| p.display().to_string()),
                    "count": counter.0.load(Ordering::SeqCst),
                    "cancelled": token.is_cancelled(),
                })
            },
        )
        .command(
            "typed.fail",
            |Args(id): Args<u32>| -> Result<(), E2eError> {
                if id == 0 {
                    Err(std::io::Error::other("disk gone"))?;
                }
                Err(E2eError::NotFound(id))
            },
        )
        .command("slow.cancellable", {
            let run = run.clone();
            move || slow(run.clone())
        })
        .command("slow.limited", {
            let run = run.clone();
            move || slow(run.clone())
        })
        .command("slow.progress", || async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "done"
        })
        .command("slow.blocking", {
            let run = run.clone();
            move |token: CancellationToken| {
                run.slow_started.fetch_add(1, Ordering::SeqCst);
                let start = std::time::Instant::now();
                while start.elapsed() < Duration::from_secs(5) {
                    if token.is_cancelled() {
                        run.slow_saw_token.fetch_add(1, Ordering::SeqCst);
                        return "stopped";
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                run.slow_finished.fetch_add(1, Ordering::SeqCst);
                "finished"
            }
        })
        .command("harness.slow", {
            let run = run.clone();
            move || {
                json!({
                    "started": run.slow_started.load(Ordering::SeqCst),
                    "finished": run.slow_finished.load(Ordering::SeqCst),
                    "dropped": run.slow_dropped.load(Ordering::SeqCst),
                    "sawToken": run.slow_saw_token.load(Ordering::SeqCst),
                })
            }
        })
        // Channels: JSON ticks from a sync handler, bytes from an async one, and one that
        // sends until its page closes the channel or goes away.
        .command(
            "channel.ticks",
            |channel: Channel, Args(Ticks { n }): Args<Ticks>| -> Result<u32, ChannelError> {
                for i in 0..n {
                    channel.send_blocking(Message::json(&json!({ "tick": i }))?)?;
                }
                Ok(n)
            },
        )
        .command(
            "channel.bytes",
            |channel: Channel, Args(a): Args<ChannelBytes>| async move {
                for i in 0..a.count {
                    channel.send(vec![(i % 251) as u8; a.size]).await?;
                }
                Ok::<_, ChannelError>(a.count)
            },
        )
        .command("channel.until_closed", {
            let run = run.clone();
            move |channel: Channel| {
                let run = run.clone();
                async move {
                    let mut sent = 0u32;
                    let stopped: Result<u32, ChannelError> = loop {
                        if let Err(e) = channel.send(Message::json(&sent)?).await {
                            run.channel_closed.fetch_add(1, Ordering::SeqCst);
                            break Err(e);
                        }
                        sent += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    };
                    stopped
                }
            }
        })
        // Keeps sending from a task of its own after the call returned, until the channel
        // closes (a reload of its page).
        .command("channel.background", {
            let run = run.clone();
            move |channel: Channel| {
                let run = run.clone();
                tokio::spawn(async move {
                    let mut sent = 0u32;
                    while channel.send_json(&sent).await.is_ok() {
                        sent += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    run.channel_closed.fetch_add(1, Ordering::SeqCst);
                });
                async { "started" }
            }
        })
        .command("channel.refused", {
            let run = run.clone();
            move |_: Channel| {
                run.channel_refused_ran.fetch_add(1, Ordering::SeqCst);
            }
        })
        // Streams: collect the chunks and answer with their size and checksum.
        .stream("stream.collect", {
            let run = run.clone();
            move |Args(meta): Args<Value>, upload: Upload| {
                let run = run.clone();
                async move { collect(&run, meta, upload).await }
            }
        })
        .stream("stream.limited", {
            let run = run.clone();
            move |upload: Upload| {
                let run = run.clone();
                async move { collect(&run, Value::Null, upload).await }
            }
        })
        // The canary stream: the kinds scenarios' allowlist allows it and their hooks
        // refuse it (or never judge streams), so it runs only if a stream open got past a
        // hook that did not approve it.
        .stream("secret.stream", {
            let run = run.clone();
            move |mut upload: Upload| {
                let run = run.clone();
                async move {
                    run.canary.fetch_add(1, Ordering::SeqCst);
                    while let Some(chunk) = upload.next().await {
                        chunk?;
                    }
                    Ok::<_, StreamError>("the canary stream")
                }
            }
        })
        .stream("stream.guarded", {
            let run = run.clone();
            move |Args(meta): Args<Value>, upload: Upload| {
                let run = run.clone();
                async move { collect(&run, meta, upload).await }
            }
        })
        // Reads one chunk, then waits: a reload finds it mid-stream.
        .stream("stream.slow", {
            let run = run.clone();
            move |mut upload: Upload| {
                let run = run.clone();
                async move {
                    let _guard = StreamGuard(run.clone());
                    run.stream_started.fetch_add(1, Ordering::SeqCst);
                    while let Some(chunk) = upload.next().await {
                        chunk?;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    std::mem::forget(_guard);
                    Ok::<_, StreamError>(upload.received())
                }
            }
        })
        .command("harness.streams", {
            let run = run.clone();
            move || {
                json!({
                    "started": run.stream_started.load(Ordering::SeqCst),
                    "aborted": run.stream_aborted.load(Ordering::SeqCst),
                    "dropped": run.stream_dropped.load(Ordering::SeqCst),
                })
            }
        })
        .command("harness.channels", {
            let run = run.clone();
            move || {
                json!({
                    "closed": run.channel_closed.load(Ordering::SeqCst),
                    "refusedRan": run.channel_refused_ran.load(Ordering::SeqCst),
                })
            }
        })
        .on_event("ping", move |caller, payload: Value| {
            let _ = listener_emitter.emit(EmitTarget::Webview(&caller.webview), "pong", &payload);
        })
}
