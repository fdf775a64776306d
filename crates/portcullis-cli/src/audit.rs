//! `portcullis audit`: runs attack files in a real webview against the app's own config
//! and isolation app, and reports, per attack, whether anything got through.
//!
//! Every attack runs in its own process (this program, re-run with
//! `PORTCULLIS_AUDIT_ATTACK` set), under a private Xvfb when there is no display. The page
//! is the audit harness (`crates/portcullis-cli/audit/`) served as the app's frontend
//! behind the app's config and hook; the attack file is loaded into its main frame.
//!
//! A breach is judged on the Rust side only: the audit registers a handler for the
//! canary command `portcullis.canary` (and a listener for the event of that name). A sound
//! config never lets it through; if its handler runs, the attack breached the app.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anstyle::{AnsiColor, Style};
use portcullis_core::{HandlerError, Router};
use portcullis_wry::{Portcullis, headless};

use crate::app::{load, scope_vars, send};
use serde::Serialize;
use serde_json::Value;
use tao::event::Event;
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::platform::run_return::EventLoopExtRunReturn;
use tao::window::WindowBuilder;

/// The canary command the audit adds.
pub const CANARY: &str = "portcullis.canary";

const CHILD: &str = "PORTCULLIS_AUDIT_ATTACK";
const RESULT: &str = "PORTCULLIS-AUDIT-RESULT ";

const PAGE_HTML: &str = include_str!("../audit/index.html");
const PAGE_JS: &str = include_str!("../audit/audit.js");

/// The built-in catalogue (`fixtures/attacks/e2e/`).
const BUILT_IN: &[(&str, &str)] = &[
    (
        "direct-invoke",
        include_str!("../../../fixtures/attacks/e2e/direct-invoke.js"),
    ),
    (
        "unsealed",
        include_str!("../../../fixtures/attacks/e2e/unsealed.js"),
    ),
    (
        "forged",
        include_str!("../../../fixtures/attacks/e2e/forged.js"),
    ),
    (
        "stolen-port",
        include_str!("../../../fixtures/attacks/e2e/stolen-port.js"),
    ),
    (
        "injected-frame",
        include_str!("../../../fixtures/attacks/e2e/injected-frame.js"),
    ),
    (
        "builtins",
        include_str!("../../../fixtures/attacks/e2e/builtins.js"),
    ),
];

/// What the audit is asked to do.
pub struct Options {
    /// The app's config file.
    pub config: PathBuf,
    /// The user's own attack files (`*.js`), run after the built-in ones.
    pub attacks: Option<PathBuf>,
    /// Where to write the JSON report.
    pub json: Option<PathBuf>,
    /// The webview label the attacks run in.
    pub window: String,
    /// `$NAME` directories for path scopes.
    pub vars: Vec<(String, PathBuf)>,
    /// How long one attack may take.
    pub timeout: Duration,
}

/// One attack's row.
#[derive(Debug, Serialize)]
pub struct Row {
    /// File name without `.js`.
    pub name: String,
    /// From the file's `// class:` line.
    pub class: String,
    /// `held`, `BREACHED`, or `error`.
    pub outcome: String,
    /// The refusal codes the gate recorded during the attack.
    pub codes: Vec<String>,
    /// How often the canary ran (0 unless breached).
    pub canary_runs: usize,
    /// What the attack reported seeing (information only).
    pub notes: Vec<String>,
}

struct Attack {
    name: String,
    source: String,
}

/// Runs the audit; returns the exit code (0: nothing got through).
pub fn run(options: Options) -> Result<i32, Box<dyn std::error::Error>> {
    if let Some(status) = headless::rerun_under_xvfb_if_needed()? {
        return Ok(status.code().unwrap_or(1));
    }
    let attacks = collect(options.attacks.as_deref())?;
    if let Ok(name) = std::env::var(CHILD) {
        let attack = attacks
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| format!("no attack {name:?}"))?;
        return child(&options, attack);
    }
    let bold = Style::new().bold();
    anstream::println!(
        "{bold}{:<28} {:<14} {:<9} codes{bold:#}",
        "attack",
        "class",
        "outcome"
    );
    let mut rows = Vec::new();
    for (i, attack) in attacks.iter().enumerate() {
        anstream::eprint!("[{}/{}] {}…\r", i + 1, attacks.len(), attack.name);
        let row = spawn(attack)?;
        let style = match row.outcome.as_str() {
            "held" => Style::new().fg_color(Some(AnsiColor::Green.into())),
            "BREACHED" => Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
            _ => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        };
        anstream::println!(
            "{:<28} {:<14} {style}{:<9}{style:#} {}",
            row.name,
            row.class,
            row.outcome,
            if row.codes.is_empty() {
                "-".to_owned()
            } else {
                dedup(&row.codes).join(" ")
            }
        );
        rows.push(row);
    }
    let breached = rows.iter().filter(|r| r.outcome == "BREACHED").count();
    let errors = rows.iter().filter(|r| r.outcome == "error").count();
    println!(
        "\n{} attacks: {} held, {breached} breached, {errors} errors",
        rows.len(),
        rows.len() - breached - errors
    );
    if let Some(path) = &options.json {
        let report = serde_json::json!({
            "config": options.config,
            "window": options.window,
            "attacks": rows,
            "breached": breached,
            "errors": errors,
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")?;
        println!("report: {}", path.display());
    }
    Ok(if breached > 0 || errors > 0 { 1 } else { 0 })
}

fn dedup(codes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in codes {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

fn collect(dir: Option<&Path>) -> Result<Vec<Attack>, Box<dyn std::error::Error>> {
    let mut attacks: Vec<Attack> = BUILT_IN
        .iter()
        .map(|(name, source)| Attack {
            name: (*name).to_owned(),
            source: (*source).to_owned(),
        })
        .collect();
    if let Some(dir) = dir {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "js"))
            .collect();
        files.sort();
        for file in files {
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            attacks.push(Attack {
                name,
                source: std::fs::read_to_string(&file)?,
            });
        }
    }
    Ok(attacks)
}

fn class_of(source: &str) -> String {
    source
        .lines()
        .find_map(|l| l.trim().strip_prefix("// class:"))
        .map_or("custom", str::trim)
        .to_owned()
}

/// Runs one attack in a child process and reads its verdict.
fn spawn(attack: &Attack) -> Result<Row, Box<dyn std::error::Error>> {
    let output = Command::new(std::env::current_exe()?)
        .args(std::env::args_os().skip(1))
        .env(CHILD, &attack.name)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: Option<Value> = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT))
        .and_then(|j| serde_json::from_str(j).ok());
    let class = class_of(&attack.source);
    let Some(result) = result else {
        return Ok(Row {
            name: attack.name.clone(),
            class,
            outcome: "error".into(),
            codes: Vec::new(),
            canary_runs: 0,
            notes: vec![format!(
                "the attack process ended without a verdict ({})",
                output.status
            )],
        });
    };
    let canary_runs = result["canary_runs"].as_u64().unwrap_or(0) as usize;
    let finished = result["status"] == "done";
    let outcome = if canary_runs > 0 {
        "BREACHED"
    } else if finished {
        "held"
    } else {
        "error"
    };
    Ok(Row {
        name: attack.name.clone(),
        class,
        outcome: outcome.into(),
        codes: serde_json::from_value(result["codes"].clone()).unwrap_or_default(),
        canary_runs,
        notes: serde_json::from_value(result["notes"].clone()).unwrap_or_default(),
    })
}

enum UserEvent {
    Pump,
    Title(String),
    Timeout,
}

/// In the child: serves the harness page with `attack` behind the app's config.
fn child(options: &Options, attack: &Attack) -> Result<i32, Box<dyn std::error::Error>> {
    let (config, base) = load(&options.config)?;
    let site = std::env::temp_dir().join(format!("portcullis-audit-{}", std::process::id()));
    std::fs::create_dir_all(&site)?;
    std::fs::write(site.join("index.html"), PAGE_HTML)?;
    std::fs::write(site.join("audit.js"), PAGE_JS)?;
    std::fs::write(site.join("attack.js"), &attack.source)?;

    let canary = Arc::new(AtomicUsize::new(0));
    let codes = Arc::new(Mutex::new(Vec::<String>::new()));
    let (c1, c2, sink) = (canary.clone(), canary.clone(), codes.clone());
    let router = Router::new()
        .command(CANARY, move |_: Value| {
            c1.fetch_add(1, Ordering::SeqCst);
            Ok::<_, HandlerError>("the canary ran")
        })
        .on_event(CANARY, move |_, _: Value| {
            c2.fetch_add(1, Ordering::SeqCst);
        });
    let vars = scope_vars(&options.vars);
    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let proxy = Arc::new(Mutex::new(event_loop.create_proxy()));
    let wake = proxy.clone();
    let portcullis = Portcullis::builder(config, &base, &site)
        .router(router)
        .scope_vars(vars)
        .audit_sink(Arc::new(move |e: &portcullis_core::AuditEvent<'_>| {
            if let Ok(mut c) = sink.lock() {
                c.push(e.code.as_str().to_owned());
            }
        }))
        .waker(move || send(&wake, UserEvent::Pump))
        .build()?;
    let window = WindowBuilder::new()
        .with_title("portcullis audit")
        .build(&event_loop)?;
    let titles = proxy.clone();
    let builder = wry::WebViewBuilder::new()
        .with_document_title_changed_handler(move |title| send(&titles, UserEvent::Title(title)));
    let url = format!(
        "{}/index.html?attack=./attack.js",
        portcullis_wry::APP_ORIGIN
    );
    let webview = portcullis.build_webview_at(&options.window, &url, builder, &window)?;
    portcullis_wry::linux::forward_console_to_stdout(&webview);

    let alarm = proxy.clone();
    let timeout = options.timeout;
    std::thread::spawn(move || {
        std::thread::sleep(timeout);
        send(&alarm, UserEvent::Timeout);
    });
    let started = Instant::now();
    let mut status = "timeout";
    let mut notes = Value::Array(Vec::new());
    event_loop.run_return(|event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            Event::UserEvent(UserEvent::Pump) => portcullis.pump(),
            Event::UserEvent(UserEvent::Title(title)) => {
                if let Some(rest) = title
                    .strip_prefix("portcullis-audit:")
                    .filter(|s| *s != "running")
                {
                    let (s, json) = rest.split_once(':').unwrap_or((rest, "[]"));
                    status = if s == "done" { "done" } else { "error" };
                    notes = serde_json::from_str(json).unwrap_or(Value::Array(Vec::new()));
                    *control_flow = ControlFlow::Exit;
                }
            }
            Event::UserEvent(UserEvent::Timeout) => *control_flow = ControlFlow::Exit,
            _ => {}
        }
    });
    // Give in-flight messages a moment to reach the gate, then judge.
    std::thread::sleep(Duration::from_millis(200));
    let result = serde_json::json!({
        "status": status,
        "canary_runs": canary.load(Ordering::SeqCst),
        "codes": codes.lock().map(|c| c.clone()).unwrap_or_default(),
        "notes": notes,
        "ms": started.elapsed().as_millis() as u64,
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{RESULT}{result}");
    let _ = std::fs::remove_dir_all(&site);
    Ok(0)
}
