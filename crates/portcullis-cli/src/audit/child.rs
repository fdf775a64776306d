//! One run of one attack, in a process of its own: the harness page with the attack
//! behind the app's config and isolation app (for [`Layer::Shipped`]), or behind a copy
//! of them that allows the canary and refuses it in a wrapper around the app's hook (for
//! [`Layer::Integrity`]). Prints one [`Observation`] line for the parent.
//!
//! The verdict waits for the webview to be quiet: the harness first lets every call the
//! attack made through `ctx` settle, then the Rust side keeps the event loop running
//! until no message has reached it for [`QUIET`] (at most [`DRAIN`]), so a message still
//! in flight when the attack returned is judged, never dropped.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portcullis_core::config::Pattern;
use portcullis_core::{Config, ErrorCode, GrantError};
use portcullis_wry::{Portcullis, hook, isolation, transport};
use serde_json::{Value, json};
use tao::event::Event;
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::platform::run_return::EventLoopExtRunReturn;
use tao::window::WindowBuilder;

use super::grants::{GrantLog, Op};
use super::verdict::{Finish, Layer, Observation};
use super::{Attack, CANARY, GrantsAtStart, Options, RESULT, attack_files, generate, record};
use crate::app::{load, scope_vars, send};

const PAGE_HTML: &str = include_str!("../../audit/index.html");
const PAGE_JS: &str = include_str!("../../audit/audit.js");
const WRAPPER_JS: &str = include_str!("../../audit/integrity-hook.js");
const FORGE_JS: &str = include_str!("../../audit/forge.js");

/// The app's own hook, renamed in the integrity layer's copy of its isolation directory.
const APP_HOOK: &str = "portcullis-audit-app-hook.js";
/// How long the webview must be silent before the verdict.
pub const QUIET: Duration = Duration::from_millis(300);
/// The most the audit waits for that silence after the attack finished.
pub const DRAIN: Duration = Duration::from_secs(5);
/// How often the loop wakes to check for silence.
const TICK: Duration = Duration::from_millis(25);

enum UserEvent {
    Pump,
    /// A page's title changed: in the second window (`true`) or the attack's.
    Title(bool, String),
    Timeout,
    /// Wakes the loop for the quiet check.
    Tick,
}

/// The label of the audit's second window when `--second-window` names none.
pub const SECOND_WINDOW: &str = "portcullis-audit-second";

/// The config and the isolation directory a layer runs with. The integrity layer's are
/// temporary copies: a capability allowing the canary, and the app's hook wrapped.
/// An attack with a second window and no `--second-window` gets the audit's own label,
/// [`SECOND_WINDOW`], added wherever a capability names `--window`: a second window of
/// the same kind.
fn prepare(
    options: &Options,
    layer: Layer,
    scratch: &Path,
    second: Option<&str>,
) -> Result<(Config, PathBuf), Box<dyn std::error::Error>> {
    let (config, base) = load(&options.config)?;
    let added_window = second.filter(|label| *label == SECOND_WINDOW);
    if layer == Layer::Shipped && added_window.is_none() {
        return Ok((config, base));
    }
    let mut value = serde_json::to_value(&config)?;
    let capabilities = value["app"]["security"]["capabilities"]
        .as_array_mut()
        .ok_or("the config has no capabilities list")?;
    if let Some(label) = added_window {
        for cap in capabilities.iter_mut() {
            if let Some(windows) = cap["windows"].as_array_mut()
                && windows.iter().any(|w| *w == json!(options.window))
            {
                windows.push(json!(label));
            }
        }
    }
    if layer == Layer::Shipped {
        return Ok((Config::from_json(&value.to_string())?, base));
    }
    capabilities.push(json!({
        "identifier": "portcullis-audit-integrity",
        "description": "Added by portcullis audit (integrity layer): the canary is allowed, so only the hook stands in its way.",
        "windows": ["*"],
        "origins": [portcullis_wry::APP_ORIGIN],
        "commands": {"allow": [CANARY]},
        "events": {"allow": [CANARY]},
        "streams": {"allow": [CANARY]},
    }));
    if let Pattern::Isolation { options: iso } = &config.app.security.pattern {
        let dir = base.join(&iso.dir);
        // The app's hook as the library judges it: a run that cannot start says why.
        hook::resolve(
            &portcullis_wry::Files::Directory(dir.clone()),
            iso.hook.as_deref(),
        )?;
        let copy = scratch.join("isolation");
        copy_dir(&dir, &copy)?;
        match iso.hook.as_deref() {
            Some(hook::BUILTIN_NAMES_ONLY) => {
                std::fs::write(copy.join(APP_HOOK), isolation::DEFAULT_HOOK_JS)?
            }
            _ => std::fs::rename(copy.join(hook::HOOK_FILE), copy.join(APP_HOOK))?,
        }
        std::fs::write(copy.join(hook::HOOK_FILE), WRAPPER_JS)?;
        let options = &mut value["app"]["security"]["pattern"]["options"];
        options["dir"] = json!(copy);
        if let Some(o) = options.as_object_mut() {
            o.remove("hook");
        }
    }
    let config = Config::from_json(&value.to_string())?;
    Ok((config, base))
}

/// Copies the isolation directory (its files are small: scripts and data).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Runs `attack` for `layer` and prints its observation.
pub fn run(
    options: &Options,
    attack: &Attack,
    layer: Layer,
) -> Result<i32, Box<dyn std::error::Error>> {
    // A private directory (mode 0700, an unguessable name) for the run's site, config
    // copies and WebKit data, removed when the run ends.
    let scratch = tempfile::Builder::new()
        .prefix("portcullis-audit-")
        .tempdir()?;
    let observation = run_in(options, attack, layer, scratch.path())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{RESULT}{}", serde_json::to_string(&observation)?)?;
    Ok(0)
}

fn run_in(
    options: &Options,
    attack: &Attack,
    layer: Layer,
    scratch: &Path,
) -> Result<Observation, Box<dyn std::error::Error>> {
    let site = scratch.join("site");
    std::fs::create_dir_all(&site)?;
    std::fs::write(site.join("index.html"), PAGE_HTML)?;
    std::fs::write(site.join("audit.js"), PAGE_JS)?;
    std::fs::write(site.join("attack.js"), &attack.source)?;
    std::fs::write(site.join("forge.js"), FORGE_JS)?;
    // `// windows: 2`: a second webview runs the attack's `second` export.
    let second = (attack_files::header(&attack.source, "windows") == Some("2")).then(|| {
        options
            .second_window
            .clone()
            .unwrap_or_else(|| SECOND_WINDOW.to_owned())
    });
    // Data for the harness: allowed commands that take no arguments (`ctx.harmless`),
    // which replay and splice attacks call to get envelopes the gate admits.
    let (shipped, _) = load(&options.config)?;
    std::fs::write(
        site.join("app.json"),
        serde_json::to_vec(&json!({
            "harmless": harmless(&shipped),
            "streams": streams(&shipped, &options.window),
            "runtime": runtime_capabilities(&shipped, &options.window),
            "labels": {"main": options.window, "second": second},
        }))?,
    )?;
    if let Some(cases) = &attack.cases {
        std::fs::write(site.join("cases.json"), serde_json::to_vec(cases)?)?;
    }
    let (config, base) = prepare(options, layer, scratch, second.as_deref())?;
    // The layer's config as the gate has it, to judge what was admitted after the run.
    let config_judged = config.clone();

    let attempts = Arc::new(AtomicUsize::new(0));
    let codes = Arc::new(Mutex::new(Vec::<String>::new()));
    // Admissions the router refused afterwards for want of a handler (`E_UNKNOWN_COMMAND`):
    // admitted all the same, so reported with what was admitted, not with the refusals.
    let unhandled = Arc::new(Mutex::new(Vec::<String>::new()));
    // When the last message reached the Rust side (ms since `started`).
    let started = Instant::now();
    let last_message = Arc::new(AtomicUsize::new(0));
    let (sink, no_handler) = (codes.clone(), unhandled.clone());
    let record = record::Record::default();
    let router = record::router(&config, &record);
    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let proxy = Arc::new(Mutex::new(event_loop.create_proxy()));
    let wake = proxy.clone();
    // Sealed envelopes the gate admitted, for `ctx.captured()` (replay and splice
    // attacks need what an observer of the transport would have).
    let captured = Arc::new(Mutex::new(Vec::<(String, Vec<u8>)>::new()));
    let (seen, stamp, keep) = (attempts.clone(), last_message.clone(), captured.clone());
    // The isolation app is read from disk in every build: the CLI is a release binary.
    let isolation = match &config.app.security.pattern {
        Pattern::Isolation { options } => Some(base.join(&options.dir)),
        Pattern::Brownfield => None,
    };
    let runtime: Vec<String> = config
        .app
        .security
        .capabilities
        .iter()
        .filter(|c| c.runtime_grant)
        .map(|c| c.identifier.clone())
        .collect();
    let mut builder = Portcullis::builder(config, &base).frontend_dir(&site);
    if let Some(dir) = &isolation {
        builder = builder.isolation_dir(dir);
    }
    if let Some(transport) = options.transport {
        builder = builder.transport(transport);
    }
    let portcullis = builder
        .router(router)
        .scope_vars(scope_vars(&options.vars))
        .audit_sink(move |e: &portcullis_core::AuditEvent<'_>| {
            if e.code == ErrorCode::UnknownCommand {
                if let Ok(mut u) = no_handler.lock() {
                    let kind = e.kind.map_or("call", |k| k.as_str());
                    u.push(format!("{kind} {} (no handler)", e.name.unwrap_or("?")));
                }
            } else if let Ok(mut c) = sink.lock() {
                c.push(e.code.as_str().to_owned());
            }
        })
        .observe(Arc::new(move |o: &transport::Observed<'_>| {
            seen.fetch_add(1, Ordering::SeqCst);
            if o.refused.is_none()
                && o.via == transport::Via::Protocol
                && let Ok(mut kept) = keep.lock()
            {
                kept.push((o.webview.to_owned(), o.body.to_vec()));
            }
            stamp.store(started.elapsed().as_millis() as usize, Ordering::SeqCst);
        }))
        .waker(move || send(&wake, UserEvent::Pump))
        .build()?;
    // Side by side, neither covering the other: WebKit slows the timers of a page it
    // thinks hidden, which a second window on top of the first would make it think.
    let size = tao::dpi::LogicalSize::new(600.0, 480.0);
    // Each worker its own row of the screen (1280x1024 under the audit's Xvfb).
    let row = std::env::var(super::SLOT)
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(0)
        % 2;
    let top = f64::from(row) * 512.0;
    let window = WindowBuilder::new()
        .with_title("portcullis audit")
        .with_inner_size(size)
        .with_position(tao::dpi::LogicalPosition::new(0.0, top))
        .build(&event_loop)?;
    // The run's own WebKit data (storage, caches): nothing carries over between runs,
    // and nothing is written into the user's own WebKit data.
    let mut context = wry::WebContext::new(Some(scratch.join("webkit")));
    let mut second_context = wry::WebContext::new(Some(scratch.join("webkit-second")));
    let titles = proxy.clone();
    let mut builder = wry::WebViewBuilder::new_with_web_context(&mut context)
        .with_document_title_changed_handler(move |title| {
            send(&titles, UserEvent::Title(false, title))
        });
    // `// at: document-start`: the attack is a classic script that runs before the
    // Portcullis bridge (as an initialization script added ahead of it), and assigns
    // `window.__portcullisAttack` for the part that runs once the page is up.
    let early = runs_at_document_start(&attack.source);
    if early {
        builder = builder.with_initialization_script_for_main_only(attack.source.clone(), true);
    }
    let url = format!(
        "{}/index.html?attack=./attack.js{}",
        portcullis_wry::APP_ORIGIN,
        if early { "&early=1" } else { "" }
    );
    let webview = portcullis.build_webview_at(&options.window, &url, builder, &window)?;
    portcullis_wry::inspect::forward_console_to_stdout(&webview);
    let labels = json!({"main": options.window, "second": second});
    let second_view = match &second {
        Some(label) => {
            let window = WindowBuilder::new()
                .with_title("portcullis audit: second window")
                .with_inner_size(size)
                .with_position(tao::dpi::LogicalPosition::new(640.0, top))
                .build(&event_loop)?;
            let titles = proxy.clone();
            // Its own context: custom protocols are registered per WebKit context.
            let builder = wry::WebViewBuilder::new_with_web_context(&mut second_context)
                .with_document_title_changed_handler(move |title| {
                    send(&titles, UserEvent::Title(true, title))
                });
            let url = format!(
                "{}/index.html?attack=./attack.js&role=second",
                portcullis_wry::APP_ORIGIN
            );
            let view = portcullis.build_webview_at(label, &url, builder, &window)?;
            portcullis_wry::inspect::forward_console_to_stdout(&view);
            Some((window, view))
        }
        None => None,
    };
    // Run-time capabilities are granted to the audit's windows: the attacks meet the
    // most the app can ever allow, not only what it allows before a sign-in. Granted once
    // the webviews exist (only open windows can be granted) and before the event loop
    // runs, so before any page message is handled.
    // With `--grants none`, none: the app as it is before any sign-in.
    let granted_at_start = if options.grants == GrantsAtStart::All {
        runtime.as_slice()
    } else {
        &[]
    };
    let grants = portcullis.grants();
    let grant_log = GrantLog::default();
    for cap in granted_at_start {
        for label in std::iter::once(options.window.as_str()).chain(second.as_deref()) {
            match grant_log.change(&grants, label, cap, Op::Grant) {
                Ok(()) | Err(GrantError::WindowNotCovered { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    let alarm = proxy.clone();
    let timeout = options.timeout;
    std::thread::spawn(move || {
        std::thread::sleep(timeout);
        send(&alarm, UserEvent::Timeout);
    });
    // The quiet check needs the loop to run while nothing happens, and with two webviews
    // the loop's own timed wake-up was seen to stall for seconds: a ticker wakes it.
    let ticker = proxy.clone();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(TICK);
            let sent = ticker.lock().map(|p| p.send_event(UserEvent::Tick));
            if !matches!(sent, Ok(Ok(()))) {
                break;
            }
        }
    });
    let mut finish = Finish::TimedOut;
    let mut settled = (0, 0);
    let mut finished_at: Option<Instant> = None;
    let mut quiet = false;
    let mut second_finished: Option<Value> = None;
    let mut second_at: Option<Instant> = None;
    event_loop.run_return(|event, _, control_flow| {
        // The ticker wakes the loop; its own timed wake-up was what stalled.
        *control_flow = ControlFlow::Wait;
        match event {
            Event::UserEvent(UserEvent::Pump) => portcullis.pump(),
            // The second window is heard until the end: its part is judged too.
            Event::UserEvent(UserEvent::Title(in_second, title))
                if finished_at.is_none() || in_second =>
            {
                let asker = match (&second_view, in_second) {
                    (Some((_, view)), true) => view,
                    _ => &webview,
                };
                if let Some((n, op, capability)) = parse_grant(&title) {
                    // `ctx.grant` / `ctx.revoke`: done here, on the Rust side, for the
                    // asking window; the answer is JSON data.
                    let label = if in_second {
                        second.as_deref().unwrap_or_default()
                    } else {
                        options.window.as_str()
                    };
                    let done = grant_log.change(&grants, label, capability, op);
                    let data = json!({"n": n, "error": done.err().map(|e| e.to_string())});
                    let _ = asker.evaluate_script(&format!(
                        "window.__portcullisAuditGrant && window.__portcullisAuditGrant({data});"
                    ));
                } else if let Some((n, from)) = parse_captured(&title) {
                    // Handed to the page as JSON data (base64 strings), never as code.
                    let label = labels[from].as_str().unwrap_or_default();
                    let b64 = base64::engine::general_purpose::STANDARD;
                    let list: Vec<String> = captured
                        .lock()
                        .map(|c| {
                            c.iter()
                                .filter(|(l, _)| l == label)
                                .map(|(_, b)| base64::Engine::encode(&b64, b))
                                .collect()
                        })
                        .unwrap_or_default();
                    let data = json!({"n": n, "envelopes": list});
                    let _ = asker.evaluate_script(&format!(
                        "window.__portcullisAuditCaptured && window.__portcullisAuditCaptured({data});"
                    ));
                } else if in_second || title == "portcullis-audit:second-wait" {
                    // The second window's part finished, or the attack's `ctx.second()`
                    // asks (it may ask before or after): it resolves once both happened.
                    if let Some((f, _)) = parse_title(&title).filter(|_| in_second) {
                        second_finished =
                            Some(json!({"threw": f == Finish::Threw, "labels": labels}));
                        second_at = Some(Instant::now());
                    }
                    if let Some(data) = &second_finished {
                        let _ = webview.evaluate_script(&format!(
                            "window.__portcullisAuditSecondDone && window.__portcullisAuditSecondDone({data});"
                        ));
                    }
                } else if let Some((f, s)) = parse_title(&title) {
                    finish = f;
                    settled = s;
                    finished_at = Some(Instant::now());
                }
            }
            Event::UserEvent(UserEvent::Timeout) if finished_at.is_none() => {
                *control_flow = ControlFlow::Exit;
            }
            _ => {}
        }
        // After the attack finished (in both windows, when there are two): wait for
        // silence, or give up after DRAIN.
        let both = second_view.is_none() || second_at.is_some();
        if let Some(at) = finished_at {
            let last = started + Duration::from_millis(last_message.load(Ordering::SeqCst) as u64);
            let silent_since = last.max(at).max(second_at.unwrap_or(at));
            if both && silent_since.elapsed() >= QUIET {
                quiet = true;
                *control_flow = ControlFlow::Exit;
            } else if at.elapsed() >= DRAIN {
                *control_flow = ControlFlow::Exit;
            }
        }
    });
    let admitted = record.calls();
    let mut violations = options.expectations.violations(&admitted);
    violations.extend(record::past_their_limit(&config_judged, &admitted));
    violations.extend(grant_log.breaches(&config_judged, &admitted, started));
    if let Some(cases) = &attack.cases {
        // Every generated call must be refused: one admitted is a hole in the config.
        // A stream opened to test its maxBytes is the one call meant to be admitted (its
        // limit is judged above).
        violations.extend(
            admitted
                .iter()
                .filter(|call| call.name != CANARY && !generate::opened_on_purpose(cases, call))
                .map(|call| {
                    let args = call
                        .args
                        .as_ref()
                        .map_or("bytes".to_owned(), Value::to_string);
                    let args: String = args.chars().take(200).collect();
                    format!(
                        "a generated call was admitted: {} {} {args}",
                        call.kind.as_str(),
                        call.name
                    )
                }),
        );
    }
    let unhandled = unhandled.lock().map(|u| u.clone()).unwrap_or_default();
    let admitted_summary = record::summary(&admitted, &unhandled);
    Ok(Observation {
        violations,
        admitted: admitted_summary,
        layer,
        finish,
        canary_runs: record.canary.load(Ordering::SeqCst),
        attempts: attempts.load(Ordering::SeqCst),
        codes: codes.lock().map(|c| c.clone()).unwrap_or_default(),
        quiet,
        settled,
    })
}

/// Whether an attack file asks, in its header, to run before the bridge
/// (`// at: document-start`).
fn runs_at_document_start(source: &str) -> bool {
    attack_files::header(source, "at") == Some("document-start")
}

/// A harness's request to grant or revoke a run-time capability for its window:
/// `portcullis-audit:grant:N:CAPABILITY` or `portcullis-audit:revoke:N:CAPABILITY`.
fn parse_grant(title: &str) -> Option<(u64, Op, &str)> {
    let rest = title.strip_prefix("portcullis-audit:")?;
    let (op, rest) = rest.split_once(':')?;
    let op = match op {
        "grant" => Op::Grant,
        "revoke" => Op::Revoke,
        _ => return None,
    };
    let (n, capability) = rest.split_once(':')?;
    // Any capability text, even none: the core's refusal is the answer.
    Some((n.parse().ok()?, op, capability))
}

/// A harness's request for captured envelopes: `portcullis-audit:captured:N` (its own
/// window's) or `portcullis-audit:captured:N:second|main`.
fn parse_captured(title: &str) -> Option<(u64, &'static str)> {
    let rest = title.strip_prefix("portcullis-audit:captured:")?;
    let (n, from) = rest.split_once(':').unwrap_or((rest, "main"));
    let from = match from {
        "main" => "main",
        "second" => "second",
        _ => return None,
    };
    Some((n.parse().ok()?, from))
}

/// The commands the allowlist lets this app's windows call with `{}`: no schema, or one
/// that `{}` satisfies, and JSON arguments.
fn harmless(config: &Config) -> Vec<String> {
    let mut names: Vec<String> = config
        .app
        .security
        .capabilities
        .iter()
        .flat_map(|c| c.commands.allow.iter())
        .filter(|r| !r.bytes && r.paths.is_empty() && r.name != CANARY)
        .filter(|r| {
            r.schema
                .as_ref()
                .is_none_or(|s| jsonschema::validator_for(s).is_ok_and(|v| v.is_valid(&json!({}))))
        })
        .map(|r| r.name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The streams the allowlist lets `window` open, with metadata their schema takes
/// (`null` when the audit cannot tell one) and their `maxBytes` (`ctx.streams`).
fn streams(config: &Config, window: &str) -> Vec<Value> {
    let mut out: Vec<Value> = config
        .app
        .security
        .capabilities
        .iter()
        .filter(|c| c.windows.iter().any(|w| generate::glob_matches(w, window)))
        .flat_map(|c| c.streams.allow.iter())
        .filter(|r| r.name != CANARY)
        .map(|r| {
            let meta = r
                .schema
                .as_ref()
                .map_or(Some(json!({})), |s| generate::valid(s, 0));
            json!({"name": r.name, "maxBytes": r.max_bytes, "meta": meta})
        })
        .collect();
    out.dedup_by(|a, b| a["name"] == b["name"]);
    out
}

/// The run-time capabilities that name `window`, each with its commands and arguments
/// their schema takes, where the audit can tell them (`ctx.runtime`).
fn runtime_capabilities(config: &Config, window: &str) -> Vec<Value> {
    config
        .app
        .security
        .capabilities
        .iter()
        .filter(|c| c.runtime_grant)
        .filter(|c| c.windows.iter().any(|w| generate::glob_matches(w, window)))
        .map(|c| {
            let commands: Vec<Value> = c
                .commands
                .allow
                .iter()
                .filter(|r| !r.bytes)
                .filter_map(|r| {
                    let args = r
                        .schema
                        .as_ref()
                        .map_or(Some(json!({})), |s| generate::valid(s, 0))?;
                    Some(json!({"name": r.name, "args": args}))
                })
                .collect();
            json!({"capability": c.identifier, "commands": commands})
        })
        .collect()
}

/// The harness's title when it finished: `portcullis-audit:done:SETTLED/STARTED` or
/// `portcullis-audit:threw:SETTLED/STARTED`.
fn parse_title(title: &str) -> Option<(Finish, (usize, usize))> {
    let rest = title.strip_prefix("portcullis-audit:")?;
    let (status, counts) = rest.split_once(':')?;
    let finish = match status {
        "done" => Finish::Returned,
        "threw" => Finish::Threw,
        _ => return None,
    };
    let (a, b) = counts.split_once('/')?;
    Some((finish, (a.parse().ok()?, b.parse().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_start_is_asked_for_in_the_header_only() {
        assert!(runs_at_document_start(
            "// class: x\n// at: document-start\nwindow.a = 1;\n"
        ));
        assert!(!runs_at_document_start(
            "// class: x\nconst s = '// at: document-start';\n"
        ));
        assert!(!runs_at_document_start(
            "// class: x\nexport default async () => {};\n"
        ));
    }

    #[test]
    fn grant_requests_name_the_operation_and_the_whole_capability() {
        assert_eq!(
            parse_grant("portcullis-audit:grant:3:export"),
            Some((3, Op::Grant, "export"))
        );
        assert_eq!(
            parse_grant("portcullis-audit:revoke:4:a:b"),
            Some((4, Op::Revoke, "a:b"))
        );
        assert_eq!(
            parse_grant("portcullis-audit:revoke:4:"),
            Some((4, Op::Revoke, ""))
        );
        assert_eq!(parse_grant("portcullis-audit:forget:4:x"), None);
        assert_eq!(parse_grant("portcullis-audit:grant:x:export"), None);
        assert_eq!(parse_grant("portcullis-audit:done:1/1"), None);
    }

    #[test]
    fn titles_the_harness_sets() {
        assert_eq!(
            parse_title("portcullis-audit:done:3/3"),
            Some((Finish::Returned, (3, 3)))
        );
        assert_eq!(
            parse_title("portcullis-audit:threw:0/1"),
            Some((Finish::Threw, (0, 1)))
        );
        assert_eq!(parse_title("portcullis-audit:running"), None);
        assert_eq!(parse_title("portcullis-audit:done:x/1"), None);
        assert_eq!(parse_title("something else"), None);
    }
}
