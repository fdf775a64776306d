//! The Portcullis demo: a small notes app whose page talks to Rust only through the
//! isolation frame and the gate.
//!
//! With a display it opens a window you can use. Without one (or with `--scenario`) it
//! runs under a private Xvfb, plays a scripted scenario in the real page (allowed calls,
//! a forbidden command, bad arguments, a hook rejection, events both ways, a file
//! imported through an upload stream, a sign-in that grants the export capability, an
//! export that reports its progress on a channel, a file opened through the app), prints
//! a transcript, saves a screenshot and exits 0 when every outcome was the expected one.

mod notes;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use portcullis_core::ScopeVars;
use portcullis_wry::Portcullis;
use tao::event::{Event, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tao::platform::run_return::EventLoopExtRunReturn;
use tao::window::WindowBuilder;

/// Command-line options.
#[derive(Parser, Debug)]
#[command(about = "Portcullis demo: a notes app behind the isolation pattern")]
struct Options {
    /// Run the scripted scenario, print the transcript and exit (default without a display).
    #[arg(long)]
    scenario: bool,
    /// Where to save a PNG screenshot after the scenario.
    #[arg(long, value_name = "PNG")]
    screenshot: Option<PathBuf>,
    /// Give up if the scenario has not finished after this many seconds.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

#[derive(Debug)]
enum UserEvent {
    Pump,
    Finished,
    Shoot,
    Shot(Result<(), String>),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,portcullis::audit=off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Options::parse();
    if let Some(code) = portcullis_xvfb::exit_code_after_rerun("portcullis-demo") {
        return code;
    }
    let scripted = args.scenario || portcullis_xvfb::under_xvfb();
    match run(&args, scripted) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("portcullis-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The config, compiled in: the binary reads no file of the app's at run time.
const CONFIG: &str = include_str!("../portcullis.json");

/// The frontend, compiled into the release binary (the config's `build.frontendDist`).
#[derive(rust_embed::Embed)]
#[folder = "frontend"]
struct Frontend;

/// The isolation app (the config's isolation `dir`), compiled in the same way.
#[derive(rust_embed::Embed)]
#[folder = "isolation"]
struct Isolation;

fn run(args: &Options, scripted: bool) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let exports =
        std::env::temp_dir().join(format!("portcullis-demo-exports-{}", std::process::id()));
    std::fs::create_dir_all(&exports)?;
    let exports = exports.canonicalize()?;
    let sample =
        exports.with_file_name(format!("portcullis-demo-sample-{}.txt", std::process::id()));
    std::fs::write(
        &sample,
        "A file the user opened: the app added it to this window's scope.\n",
    )?;
    let files = notes::Files {
        exports: exports.clone(),
        sample: sample.clone(),
    };

    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let proxy = Arc::new(Mutex::new(event_loop.create_proxy()));
    let tally = Arc::new(notes::Tally::default());

    let builder = Portcullis::from_config_str(CONFIG, &dir)?
        .embedded_frontend::<Frontend>()
        .embedded_isolation::<Isolation>()
        .scope_vars(ScopeVars::new().with("EXPORTS", &exports));
    let emitter = builder.emitter();
    let wake = proxy.clone();
    let done = proxy.clone();
    let finished = Arc::new(move || send(&done, UserEvent::Finished));
    let router = notes::notes_router(emitter, finished, tally.clone(), scripted, files);
    let portcullis = builder
        .router(router)
        .waker(move || send(&wake, UserEvent::Pump))
        .build()?;

    let window = WindowBuilder::new()
        .with_title("Portcullis notes")
        .with_inner_size(tao::dpi::LogicalSize::new(1000.0, 640.0))
        .build(&event_loop)?;
    let webview = portcullis.build_webview("main", wry::WebViewBuilder::new(), &window)?;
    portcullis_wry::inspect::forward_console_to_stdout(&webview);

    if scripted {
        println!("Portcullis demo: scripted scenario in a real WebKitGTK webview");
        println!(
            "(every call passes the isolation frame's hook, is sealed, and is checked by the allowlist)\n"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    let mut exit = ExitCode::SUCCESS;
    event_loop.run_return(|event, _, control_flow| {
        *control_flow = if scripted {
            ControlFlow::WaitUntil(deadline)
        } else {
            ControlFlow::Wait
        };
        match event {
            Event::UserEvent(UserEvent::Pump) => portcullis.pump(),
            Event::UserEvent(UserEvent::Finished) => {
                // Let the page paint its final state before the screenshot.
                let later = proxy.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(400));
                    send(&later, UserEvent::Shoot);
                });
            }
            Event::UserEvent(UserEvent::Shoot) => match &args.screenshot {
                Some(path) => {
                    let done = proxy.clone();
                    portcullis_wry::inspect::snapshot_png(&webview, path, move |r| {
                        send(&done, UserEvent::Shot(r))
                    });
                }
                None => send(&proxy, UserEvent::Shot(Ok(()))),
            },
            Event::NewEvents(_) if scripted && Instant::now() >= deadline => {
                eprintln!(
                    "portcullis-demo: the scenario did not finish within {}s",
                    args.timeout_secs
                );
                exit = ExitCode::FAILURE;
                *control_flow = ControlFlow::Exit;
            }
            Event::UserEvent(UserEvent::Shot(result)) => {
                if let (Some(path), Err(e)) = (&args.screenshot, &result) {
                    eprintln!("portcullis-demo: screenshot {} failed: {e}", path.display());
                    exit = ExitCode::FAILURE;
                } else if let Some(path) = &args.screenshot {
                    println!("\nscreenshot: {}", path.display());
                }
                let steps = tally.steps.load(Ordering::SeqCst);
                let bad = tally.mismatches.load(Ordering::SeqCst);
                println!(
                    "{} calls, {} as expected, {} unexpected",
                    steps,
                    steps - bad,
                    bad
                );
                if bad > 0 || steps == 0 {
                    exit = ExitCode::FAILURE;
                }
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
    let _ = std::fs::remove_dir_all(&exports);
    let _ = std::fs::remove_file(&sample);
    Ok(exit)
}

fn send(proxy: &Mutex<EventLoopProxy<UserEvent>>, event: UserEvent) {
    if let Ok(p) = proxy.lock() {
        let _ = p.send_event(event);
    }
}
