//! An app outside the Portcullis workspace. Run with `--self-test`, it opens its page
//! with `?self-test` (headless under Xvfb when there is no display), lets the page check
//! the legitimate paths and the refusals through the JS package, adds the checks only
//! Rust can make, prints them all and exits non-zero if any failed.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portcullis::emit::EmitTarget;
use portcullis::webview::Portcullis;
use portcullis::{Args, Router};
use serde::Deserialize;
use tao::event::{Event, StartCause, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::window::WindowBuilder;

/// The config, compiled in.
const CONFIG: &str = include_str!("../portcullis.json");

/// The bundled frontend (`build.frontendDist`), compiled into the release binary.
#[derive(rust_embed::Embed)]
#[folder = "frontend/dist"]
struct Frontend;

/// The isolation app with the validation hook, compiled in as well.
#[derive(rust_embed::Embed)]
#[folder = "isolation"]
struct Isolation;

#[derive(Deserialize)]
struct Greet {
    name: String,
}

#[derive(Deserialize)]
struct Check {
    name: String,
    expected: String,
    got: String,
}

#[derive(Deserialize)]
struct Report {
    checks: Vec<Check>,
}

#[derive(Debug)]
enum UserEvent {
    Pump,
    Reported,
}

/// How many checks the page makes: a page that stops early fails.
const PAGE_CHECKS: usize = 8;

fn main() -> ExitCode {
    let self_test = std::env::args().any(|a| a == "--self-test");
    if self_test && let Some(code) = portcullis_headless::exit_code_after_rerun("outside-app") {
        return code;
    }
    match run(self_test) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("outside-app: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(self_test: bool) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let proxy = Arc::new(Mutex::new(event_loop.create_proxy()));
    let greeted = Arc::new(AtomicUsize::new(0));
    let deleted = Arc::new(AtomicUsize::new(0));
    let report: Arc<Mutex<Option<Report>>> = Arc::new(Mutex::new(None));

    let builder = Portcullis::from_config_str(CONFIG, env!("CARGO_MANIFEST_DIR").as_ref())?
        .embedded_frontend::<Frontend>()
        .embedded_isolation::<Isolation>();
    let emitter = builder.emitter();
    let (g, d, r, done, wake) = (
        greeted.clone(),
        deleted.clone(),
        report.clone(),
        proxy.clone(),
        proxy.clone(),
    );
    let router = Router::new()
        .command("greet", move |Args(args): Args<Greet>| {
            g.fetch_add(1, Ordering::SeqCst);
            format!("Hello, {}!", args.name)
        })
        // Registered, but no capability names it: it must never run.
        .command("files.delete", move |_: Args<serde_json::Value>| {
            d.fetch_add(1, Ordering::SeqCst);
        })
        .command("self_test.report", move |Args(got): Args<Report>| {
            *r.lock().unwrap_or_else(|p| p.into_inner()) = Some(got);
            let _ = done.lock().map(|p| p.send_event(UserEvent::Reported));
        })
        .on_event("wave", move |_, payload: serde_json::Value| {
            let _ = emitter.emit(EmitTarget::All, "waved", &payload);
        });
    let portcullis = builder
        .router(router)
        .waker(move || {
            let _ = wake.lock().map(|p| p.send_event(UserEvent::Pump));
        })
        .build()?;

    let window = WindowBuilder::new()
        .with_title("outside app")
        .build(&event_loop)?;
    let url = if self_test {
        format!("{}?self-test", portcullis.start_url())
    } else {
        portcullis.start_url()
    };
    let webview = portcullis.build_webview_at("main", &url, wry::WebViewBuilder::new(), &window)?;

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut timed_out = false;
    let mut event_loop = event_loop;
    use tao::platform::run_return::EventLoopExtRunReturn as _;
    event_loop.run_return(|event, _, control_flow| {
        *control_flow = if self_test {
            ControlFlow::WaitUntil(deadline)
        } else {
            ControlFlow::Wait
        };
        match event {
            Event::UserEvent(UserEvent::Pump) => portcullis.pump(),
            Event::UserEvent(UserEvent::Reported) if self_test => {
                *control_flow = ControlFlow::Exit
            }
            Event::NewEvents(StartCause::ResumeTimeReached { .. }) => {
                timed_out = true;
                *control_flow = ControlFlow::Exit;
            }
            Event::WindowEvent {
                event: WindowEvent::CloseRequested,
                ..
            } => {
                portcullis.close_webview("main");
                *control_flow = ControlFlow::Exit;
            }
            _ => {}
        }
    });
    drop(webview);
    if !self_test {
        return Ok(ExitCode::SUCCESS);
    }

    let mut rows: Vec<(String, bool, String)> = Vec::new();
    let page = report.lock().unwrap_or_else(|p| p.into_inner()).take();
    match page {
        Some(page) => {
            let n = page.checks.len();
            for c in page.checks {
                let detail = format!("expected {:?}, got {:?}", c.expected, c.got);
                rows.push((c.name, c.expected == c.got, detail));
            }
            rows.push((
                format!("the page made its {PAGE_CHECKS} checks"),
                n == PAGE_CHECKS,
                format!("{n} checks"),
            ));
        }
        None => rows.push((
            "the page reported".into(),
            false,
            if timed_out { "no report within 60 s" } else { "no report" }.into(),
        )),
    }
    let deletes = deleted.load(Ordering::SeqCst);
    rows.push((
        "the command no capability names never ran".into(),
        deletes == 0,
        format!("files.delete ran {deletes} times"),
    ));
    let greets = greeted.load(Ordering::SeqCst);
    rows.push((
        "greet ran once: the hook's and the schema's refusals never reached it".into(),
        greets == 1,
        format!("greet ran {greets} times"),
    ));
    rows.push((
        "this is a release build (assets served from the binary)".into(),
        !cfg!(debug_assertions),
        "built with debug assertions".into(),
    ));

    let mut failed = 0;
    for (name, ok, detail) in &rows {
        if *ok {
            println!("ok      {name}");
        } else {
            failed += 1;
            println!("FAILED  {name}: {detail}");
        }
    }
    println!(
        "outside-app self-test: {} passed, {failed} failed",
        rows.len() - failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
