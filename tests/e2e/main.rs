//! End-to-end tests in a real WebKitGTK webview (under a private Xvfb when there is no
//! display). Each scenario loads `tests/e2e/web/` in one or more webviews, runs a
//! scenario module from `web/scenarios/` in the main frame, and collects its checks. The
//! Rust side adds checks of its own that a page cannot fake: the canary handler never
//! ran, and the audit log recorded the refusals the attacks should have caused.
//!
//! The whole suite runs twice: under the engine's default transport (the native message
//! handler, where WebKitGTK has one) and under fetch (`PORTCULLIS_E2E_TRANSPORT=native`
//! or `=fetch` runs one; the second run's rows are named `e2e::fetch::...`).
//!
//! Every scenario runs in a process of its own (this binary, re-run with
//! `PORTCULLIS_E2E_SCENARIO` set), so one scenario's windows and webviews can never
//! disturb the next, and a crash is a failed scenario, not a lost suite.
//!
//! This file runs scenarios; each scenario is declared in `scenarios/` (`legit.rs` beside
//! the page module `web/scenarios/legit.js`), with what the Rust side must see and the
//! routes its page calls: a run's router is the harness's routes, the sentinels, and the
//! scenario's own ([`scenarios::router`]).
//!
//! Run: `cargo test --test e2e` (optionally followed by scenario names to run a subset).
//! The scenarios known to fail ([`scenarios::KNOWN_FAILING`], none today) run only when
//! named exactly: `cargo test --test e2e -- <name>`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portcullis_wry::{Portcullis, transport};
use portcullis_xvfb as xvfb;
use serde::Deserialize;
use serde_json::{Value, json};
use tao::event::Event;
use tao::event_loop::{ControlFlow, EventLoop, EventLoopBuilder, EventLoopProxy};
use tao::platform::run_return::EventLoopExtRunReturn;
use tao::window::WindowBuilder;

mod scenarios;

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
    /// Turn WebKit's page cache back on after the webview is built: the page behaves as
    /// on WebView2 and WKWebView, whose cache cannot be switched off.
    page_cache: bool,
    /// Where `app://` takes the pages from.
    frontend: Source,
    /// How often `grants.export` (behind a run-time grant) must have run, and the grant
    /// changes the grant sink must have seen, in order (the grants scenario).
    grants: Option<(usize, &'static [&'static str])>,
    /// The routes the page calls, beside the harness's and the sentinels
    /// ([`scenarios::router`]).
    routes: &'static [scenarios::Routes],
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
    page_cache: false,
    frontend: Source::Directory,
    grants: None,
    routes: &[],
};

const CONFIG: &str = "portcullis.json";
/// The config of the kinds scenarios, each with a hook directory of its own beside it.
const KINDS_CONFIG: &str = "kinds/portcullis.json";

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
    /// The length, FNV-1a hash and refusal of every body `POST ipc://localhost/` read,
    /// until the page takes them (the bodies scenario).
    bodies: Mutex<Vec<(usize, u32, bool)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

const CHILD: &str = "PORTCULLIS_E2E_SCENARIO";
/// The transport a run uses (`native` or `fetch`); unset, the engine's default.
const TRANSPORT: &str = "PORTCULLIS_E2E_TRANSPORT";
const TITLE_REPORT: &str = "e2e-report:";
/// An argument value the `codes` scenario sends in refused calls: it must never appear
/// in an audit event.
const SECRET_VALUE: &str = "e2e-secret-value";
const ROW: &str = "@@e2e-row ";

fn main() -> ExitCode {
    if let Some(code) = xvfb::exit_code_after_rerun("e2e") {
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
    // The scenarios known to fail run only when named exactly.
    let known_failing = scenarios::KNOWN_FAILING
        .iter()
        .filter(|s| filters.iter().any(|f| f == s.name));
    let known_failing: Vec<&Scenario> = known_failing.collect();
    // Every scenario runs under both transports: the engine's default (the native
    // handler where WebKitGTK has it), then fetch; `PORTCULLIS_E2E_TRANSPORT` picks one.
    let passes: Vec<(&str, Option<String>)> = match std::env::var(TRANSPORT) {
        Ok(chosen) => vec![("", Some(chosen))],
        Err(_) => vec![("", None), ("fetch::", Some("fetch".to_owned()))],
    };
    for (prefix, transport) in &passes {
        for scenario in scenarios::ALL.iter().chain(known_failing.iter().copied()) {
            if !filters.is_empty() && !filters.iter().any(|f| scenario.name.contains(f.as_str())) {
                continue;
            }
            for (name, ok, detail) in spawn_scenario(scenario.name, transport.as_deref()) {
                if ok {
                    passed += 1;
                    println!("test e2e::{prefix}{}::{name} ... ok", scenario.name);
                } else {
                    failed += 1;
                    println!(
                        "test e2e::{prefix}{}::{name} ... FAILED\n      {detail}",
                        scenario.name
                    );
                }
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

/// Runs `name` in a child process (under `transport`, or the engine's default) and reads
/// its result rows.
fn spawn_scenario(name: &str, transport: Option<&str>) -> Vec<(String, bool, String)> {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return vec![("spawn".into(), false, e.to_string())],
    };
    let mut command = std::process::Command::new(exe);
    if let Some(transport) = transport {
        command.env(TRANSPORT, transport);
    }
    let child = command
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
    let Some(scenario) = scenarios::ALL
        .iter()
        .chain(scenarios::KNOWN_FAILING)
        .find(|s| s.name == name)
    else {
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
                if scenario.page_cache {
                    use webkit2gtk::{SettingsExt as _, WebViewExt as _};
                    use wry::WebViewExtUnix as _;
                    if let Some(settings) = v.webview().settings() {
                        settings.set_enable_page_cache(true);
                    }
                }
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
    let builder = match std::env::var(TRANSPORT).as_deref() {
        Err(_) => builder,
        Ok("native") => builder.transport(transport::Transport::Native),
        Ok("fetch") => builder.transport(transport::Transport::Fetch),
        Ok(other) => return Err(format!("{TRANSPORT}={other:?}: native or fetch").into()),
    };
    let builder = builder.scope_vars(
        portcullis::ScopeVars::new().with("E2E_HANDLERS", handlers_dir().canonicalize()?),
    );
    let emitter = builder.emitter();
    let audit_run = run.clone();
    let capture_run = run.clone();
    let grant_run = run.clone();
    let wake = proxy.clone();
    let scenario_name = scenario.name;
    Ok(builder
        .router(scenarios::router(
            scenario,
            &scenarios::Cx {
                name: scenario.module.unwrap_or(scenario.name),
                run: run.clone(),
                proxy: proxy.clone(),
                emitter,
            },
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
            if o.via == transport::Via::Protocol && scenario_name.starts_with("bodies") {
                lock(&capture_run.bodies).push((
                    o.body.len(),
                    scenarios::bodies::fnv1a(o.body, scenarios::bodies::FNV_START),
                    o.refused.is_some(),
                ));
            }
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

/// This process's folder for the handlers that touch files.
fn handlers_dir() -> PathBuf {
    std::env::temp_dir().join(format!("portcullis-e2e-handlers-{}", std::process::id()))
}

fn send(proxy: &Mutex<EventLoopProxy<UserEvent>>, event: UserEvent) {
    let _ = lock(proxy).send_event(event);
}
