//! The Portcullis demo: a small notes app whose page talks to Rust only through the
//! isolation frame and the gate.
//!
//! With a display it opens a window you can use. Without one (or with `--scenario`) it
//! runs under a private Xvfb, plays a scripted scenario in the real page (allowed calls,
//! a forbidden command, bad arguments, a hook rejection, events both ways, a file
//! imported through an upload stream, a sign-in that grants the export capability, an
//! export that reports its progress on a channel, a file opened through the app), prints
//! a transcript, saves a screenshot and exits 0 when every outcome was the expected one.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use portcullis_core::emit::EmitTarget;
use portcullis_core::router::AppError;
use portcullis_core::{
    Args, Bytes, Caller, Channel, GrantError, Grants, Reach, Router, ScopeVars, Scoped, State,
    StreamError, Upload,
};
use portcullis_wry::Portcullis;
use serde::{Deserialize, Serialize};
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

#[derive(Clone, Serialize)]
struct Note {
    id: u64,
    title: String,
    body: String,
}

#[derive(Deserialize)]
struct AddNote {
    title: String,
    body: String,
}

#[derive(Deserialize)]
struct DeleteNote {
    id: u64,
}

#[derive(Deserialize)]
struct SignIn {
    password: String,
}

/// The demo's one account password (a real app checks its own accounts).
const PASSWORD: &str = "notes";

/// Where the demo keeps its files: the export folder (`$EXPORTS`) and the sample file
/// its "Open file…" picks.
struct Files {
    exports: PathBuf,
    sample: PathBuf,
}

#[derive(Deserialize)]
struct Report {
    step: u64,
    call: String,
    expected: String,
    outcome: String,
    #[serde(default)]
    detail: String,
    /// What the page shows of an allowed call's result (progress messages, an upload's
    /// size), printed under its line.
    #[serde(default)]
    shown: String,
}

#[derive(Debug)]
enum UserEvent {
    Pump,
    Finished,
    Shoot,
    Shot(Result<(), String>),
}

/// What the scenario observed, for the exit code.
#[derive(Default)]
struct Tally {
    steps: AtomicUsize,
    mismatches: AtomicUsize,
    finished: AtomicBool,
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
    let files = Files {
        exports: exports.clone(),
        sample: sample.clone(),
    };

    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let proxy = Arc::new(Mutex::new(event_loop.create_proxy()));
    let tally = Arc::new(Tally::default());

    let builder = Portcullis::from_config_str(CONFIG, &dir)?
        .embedded_frontend::<Frontend>()
        .embedded_isolation::<Isolation>()
        .scope_vars(ScopeVars::new().with("EXPORTS", &exports));
    let emitter = builder.emitter();
    let wake = proxy.clone();
    let router = notes_router(emitter, proxy.clone(), tally.clone(), scripted, files);
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

/// The notes, shared by every handler that takes `State<Notes>`.
struct Notes(Mutex<Vec<Note>>);

impl Notes {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Vec<Note>>, NotesError> {
        self.0.lock().map_err(|_| NotesError::Unavailable)
    }
}

/// What the notes handlers can fail with: each reaches the page as `E_HANDLER` with its
/// own `appCode` (and, for a missing note, its id as `data`).
#[derive(Debug, thiserror::Error)]
enum NotesError {
    #[error("the notes store is unavailable")]
    Unavailable,
    #[error("note {0} does not exist")]
    NotFound(u64),
    #[error("could not write the export: {0}")]
    Export(#[from] std::io::Error),
    #[error("could not read the file: {0}")]
    Read(std::io::Error),
    #[error("wrong password")]
    WrongPassword,
    #[error("{0}")]
    Grant(#[from] GrantError),
    #[error("{0}")]
    Stream(#[from] StreamError),
    #[error("an imported note must be UTF-8 text")]
    NotText,
}

impl AppError for NotesError {
    fn app_code(&self) -> Option<String> {
        let code = match self {
            NotesError::Unavailable => "UNAVAILABLE",
            NotesError::NotFound(_) => "NOT_FOUND",
            NotesError::Export(_) => "EXPORT_FAILED",
            NotesError::Read(_) => "READ_FAILED",
            NotesError::WrongPassword => "WRONG_PASSWORD",
            NotesError::Grant(_) => "GRANT_FAILED",
            NotesError::Stream(_) => "IMPORT_FAILED",
            NotesError::NotText => "NOT_TEXT",
        };
        Some(code.into())
    }

    fn message(&self) -> String {
        match self {
            // The OS error can name paths the page was not given: it stays in the log.
            NotesError::Export(e) => {
                tracing::warn!("export failed: {e}");
                "could not write the export".into()
            }
            NotesError::Read(e) => {
                tracing::warn!("read failed: {e}");
                "could not read the file".into()
            }
            other => other.to_string(),
        }
    }

    fn data(&self) -> Option<serde_json::Value> {
        match self {
            NotesError::NotFound(id) => Some(serde_json::json!({ "id": id })),
            _ => None,
        }
    }
}

fn list_notes(notes: State<Notes>) -> Result<Vec<Note>, NotesError> {
    Ok(notes.lock()?.clone())
}

fn add_note(
    notes: State<Notes>,
    emitter: State<portcullis_core::Emitter>,
    Args(args): Args<AddNote>,
) -> Result<Note, NotesError> {
    store(&notes, &emitter, args.title, args.body)
}

/// Adds a note and tells every page.
fn store(
    notes: &Notes,
    emitter: &portcullis_core::Emitter,
    title: String,
    body: String,
) -> Result<Note, NotesError> {
    let mut notes = notes.lock()?;
    let note = Note {
        id: notes.iter().map(|n| n.id).max().unwrap_or(0) + 1,
        title,
        body,
    };
    notes.push(note.clone());
    let _ = emitter.emit(EmitTarget::All, "note-added", &note);
    Ok(note)
}

#[derive(Deserialize)]
struct ImportMeta {
    title: String,
}

#[derive(Serialize)]
struct Imported {
    note: Note,
    bytes: u64,
    chunks: usize,
}

/// "Import a file": the page streams the file's bytes (`openStream("notes.import",
/// {title})`); its open passed the hook and the allowlist, whose `maxBytes` bounds the
/// whole file. The text becomes a note.
async fn import(
    notes: State<Notes>,
    emitter: State<portcullis_core::Emitter>,
    Args(meta): Args<ImportMeta>,
    mut upload: Upload,
) -> Result<Imported, NotesError> {
    let (mut body, mut chunks) = (Vec::new(), 0);
    while let Some(chunk) = upload.next().await {
        body.extend_from_slice(&chunk?);
        chunks += 1;
    }
    let body = String::from_utf8(body).map_err(|_| NotesError::NotText)?;
    let note = store(&notes, &emitter, meta.title, body)?;
    Ok(Imported {
        note,
        bytes: upload.received(),
        chunks,
    })
}

fn delete_note(notes: State<Notes>, Args(args): Args<DeleteNote>) -> Result<bool, NotesError> {
    let mut notes = notes.lock()?;
    let before = notes.len();
    notes.retain(|n| n.id != args.id);
    if notes.len() == before {
        return Err(NotesError::NotFound(args.id));
    }
    Ok(true)
}

#[derive(Serialize)]
struct Attached {
    bytes: usize,
    sum: u64,
}

fn attach(Bytes(bytes): Bytes) -> Attached {
    Attached {
        bytes: bytes.len(),
        sum: bytes.iter().map(|&x| u64::from(x)).sum(),
    }
}

/// One step of an export, as the page's `Channel` receives it.
#[derive(Serialize)]
struct ExportProgress {
    done: usize,
    of: usize,
    title: String,
}

#[derive(Serialize)]
struct Exported {
    notes: usize,
    bytes: usize,
}

/// Writes the notes to the path the user chose, which the policy checked against the
/// `exports` scope, telling the page its progress note by note on the channel it passed:
/// an async handler on tokio, whose file write and timer are tokio's.
async fn export(
    notes: State<Notes>,
    paths: Scoped,
    progress: Channel<ExportProgress>,
) -> Result<Exported, NotesError> {
    // The rule declares `/path` as a path argument: the policy put it here, checked.
    let Some(path) = paths.get("/path") else {
        return Err(NotesError::Unavailable);
    };
    let notes = notes.lock()?.clone();
    let mut text = String::new();
    for (i, n) in notes.iter().enumerate() {
        text.push_str(&format!("# {}\n\n{}\n\n", n.title, n.body));
        let step = ExportProgress {
            done: i + 1,
            of: notes.len(),
            title: n.title.clone(),
        };
        // A page that went away stops hearing of it; the export still completes.
        let _ = progress.send_json(&step).await;
        // Slow enough for a person to see the bar move.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    tokio::fs::write(path, &text).await?;
    Ok(Exported {
        notes: notes.len(),
        bytes: text.len(),
    })
}

/// Signs the window's user in: the `export` capability (`"runtimeGrant": true` in the
/// config) is granted to this window only, from its next message on.
fn sign_in(caller: Caller, grants: Grants, Args(s): Args<SignIn>) -> Result<bool, NotesError> {
    if s.password != PASSWORD {
        return Err(NotesError::WrongPassword);
    }
    grants.grant(&caller.webview, "export")?;
    Ok(true)
}

/// Signs out: exporting is refused again (`E_GRANT_REVOKED`), also for an export the
/// page sent just before and whose handler had not started.
fn sign_out(caller: Caller, grants: Grants) -> Result<bool, NotesError> {
    Ok(grants.revoke(&caller.webview, "export")?)
}

/// "Open file…": where an app shows a native file dialog, the demo picks its sample
/// file (so the scripted run needs no user). The chosen file, and only it, joins this
/// window's `opened` scope; the page gets its path to read it with `files.read`.
fn open_dialog(caller: Caller, grants: Grants, files: State<Files>) -> Result<PathBuf, NotesError> {
    Ok(grants.allow_path(
        &caller.webview,
        "notes-main",
        "opened",
        &files.sample,
        Reach::File,
    )?)
}

/// Reads a file the user opened: the policy checked the path against the `opened`
/// scope, which holds only what `open_dialog` added for this window.
async fn read_file(paths: Scoped) -> Result<String, NotesError> {
    let Some(path) = paths.get("/path") else {
        return Err(NotesError::Unavailable);
    };
    tokio::fs::read_to_string(path)
        .await
        .map_err(NotesError::Read)
}

/// The app's routing table: name → handler, each taking the extractors it needs.
fn notes_router(
    emitter: portcullis_core::Emitter,
    proxy: Arc<Mutex<EventLoopProxy<UserEvent>>>,
    tally: Arc<Tally>,
    scripted: bool,
    files: Files,
) -> Router {
    let exports = files.exports.display().to_string();
    let sample = files.sample.display().to_string();
    let welcome = Note {
        id: 1,
        title: "Welcome".into(),
        body: "this note came from Rust".into(),
    };
    Router::new()
        .state(Notes(Mutex::new(vec![welcome])))
        .state(emitter)
        .command("notes.list", list_notes)
        .command("notes.add", add_note)
        .command("notes.delete", delete_note)
        .command("notes.attach", attach)
        .command("notes.export", export)
        .stream("notes.import", import)
        .command("session.sign_in", sign_in)
        .command("session.sign_out", sign_out)
        .command("files.open_dialog", open_dialog)
        .command("files.read", read_file)
        .state(files)
        .command(
            "demo.mode",
            move || serde_json::json!({ "scripted": scripted, "exports": exports, "sample": sample }),
        )
        .command("demo.report", {
            let tally = tally.clone();
            move |Args(r): Args<Report>| {
                tally.steps.fetch_add(1, Ordering::SeqCst);
                let as_expected = r.outcome == r.expected;
                if !as_expected {
                    tally.mismatches.fetch_add(1, Ordering::SeqCst);
                }
                let verdict = if r.outcome == "allowed" {
                    "allowed"
                } else {
                    "BLOCKED"
                };
                let mark = if as_expected { " " } else { "!" };
                let code = if r.outcome == "allowed" {
                    String::new()
                } else {
                    format!(" {}", r.outcome)
                };
                println!("{mark}{:>3}. {verdict:<7}{code:<19} {}", r.step, r.call);
                if !r.shown.is_empty() {
                    println!("       → {}", r.shown);
                }
                if !as_expected {
                    println!(
                        "       expected {}, got {}: {}",
                        r.expected, r.outcome, r.detail
                    );
                }
            }
        })
        .command("demo.finished", move || {
            tally.finished.store(true, Ordering::SeqCst);
            send(&proxy, UserEvent::Finished);
        })
        .on_event("note-opened", |caller, payload: serde_json::Value| {
            tracing::info!(webview = &*caller.webview, "note opened: {payload}");
        })
}
