//! The notes app's side of the demo: its handlers, their types and the routing table.
//!
//! Every handler is registered typed (`command_typed` and its siblings): the router
//! records the schemas of their arguments, results and errors, and a test beside it
//! (`tests.rs`) writes (or checks) the page's bindings (`frontend/bindings.js` and
//! `.d.ts`) and the command manifest `portcullis check --manifest` reads.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis_core::emit::EmitTarget;
use portcullis_core::router::{AppError, TypedError};
use portcullis_core::{
    Args, Bytes, Caller, Channel, ChannelArg, GrantError, Grants, Reach, Router, Scoped, State,
    StreamError, Upload,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A note, as the page lists it.
#[derive(Clone, Serialize, JsonSchema)]
pub(crate) struct Note {
    id: u64,
    title: String,
    body: String,
}

/// A new note's fields.
#[derive(Deserialize, JsonSchema)]
struct AddNote {
    title: String,
    body: String,
}

#[derive(Deserialize, JsonSchema)]
struct DeleteNote {
    id: u64,
}

#[derive(Deserialize, JsonSchema)]
struct SignIn {
    password: String,
}

/// The demo's one account password (a real app checks its own accounts).
const PASSWORD: &str = "notes";

/// Where the demo keeps its files: the export folder (`$EXPORTS`) and the sample file
/// its "Open file…" picks.
pub(crate) struct Files {
    pub(crate) exports: PathBuf,
    pub(crate) sample: PathBuf,
}

/// One step of the scripted scenario, as the page reports it.
#[derive(Deserialize, JsonSchema)]
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

/// What the scenario observed, for the exit code.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) steps: AtomicUsize,
    pub(crate) mismatches: AtomicUsize,
    pub(crate) finished: AtomicBool,
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
            NotesError::NotFound(id) => serde_json::to_value(Missing { id: *id }).ok(),
            _ => None,
        }
    }
}

/// What a `NOT_FOUND` error carries (`error.data`).
#[derive(Serialize, JsonSchema)]
struct Missing {
    id: u64,
}

impl TypedError for NotesError {
    type Data = Missing;

    fn app_codes() -> &'static [&'static str] {
        &[
            "UNAVAILABLE",
            "NOT_FOUND",
            "EXPORT_FAILED",
            "READ_FAILED",
            "WRONG_PASSWORD",
            "GRANT_FAILED",
            "IMPORT_FAILED",
            "NOT_TEXT",
        ]
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

#[derive(Deserialize, JsonSchema)]
struct ImportMeta {
    title: String,
}

#[derive(Serialize, JsonSchema)]
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

#[derive(Serialize, JsonSchema)]
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
#[derive(Serialize, JsonSchema)]
struct ExportProgress {
    done: usize,
    of: usize,
    title: String,
}

#[derive(Serialize, JsonSchema)]
struct Exported {
    notes: usize,
    bytes: usize,
}

/// The arguments of `notes.export`: where to write, and the channel for the progress.
#[derive(Deserialize, JsonSchema)]
struct Export {
    /// The file to write (the policy checks it against the `exports` scope).
    #[allow(dead_code)]
    path: String,
    /// The page's channel for the progress, one message per note.
    #[allow(dead_code)]
    progress: ChannelArg<ExportProgress>,
}

/// Writes the notes to the path the user chose, which the policy checked against the
/// `exports` scope, telling the page its progress note by note on the channel it passed:
/// an async handler on tokio, whose file write and timer are tokio's.
async fn export(
    notes: State<Notes>,
    paths: Scoped,
    Args(_): Args<Export>,
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

/// The arguments of `files.read`.
#[derive(Deserialize, JsonSchema)]
struct ReadFile {
    /// The file (the policy checks it against the `opened` scope).
    #[allow(dead_code)]
    path: String,
}

/// Reads a file the user opened: the policy checked the path against the `opened`
/// scope, which holds only what `open_dialog` added for this window.
async fn read_file(paths: Scoped, Args(_): Args<ReadFile>) -> Result<String, NotesError> {
    let Some(path) = paths.get("/path") else {
        return Err(NotesError::Unavailable);
    };
    tokio::fs::read_to_string(path)
        .await
        .map_err(NotesError::Read)
}

/// How the page should run (`demo.mode`).
#[derive(Serialize, JsonSchema)]
struct DemoMode {
    /// Whether to play the scripted scenario.
    scripted: bool,
    /// The export folder (`$EXPORTS`).
    exports: String,
    /// The sample file "Open file…" picks.
    sample: String,
}

/// The page's event `note-opened`: which note the user opened.
#[derive(Deserialize, JsonSchema)]
struct Opened {
    id: u64,
}

/// The app's routing table: name → handler, each taking the extractors it needs.
pub(crate) fn notes_router(
    emitter: portcullis_core::Emitter,
    finished: Arc<dyn Fn() + Send + Sync>,
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
        .command_typed("notes.list", list_notes)
        .command_typed("notes.add", add_note)
        .command_typed("notes.delete", delete_note)
        .command_typed("notes.attach", attach)
        .command_typed("notes.export", export)
        .stream_typed("notes.import", import)
        .command_typed("session.sign_in", sign_in)
        .command_typed("session.sign_out", sign_out)
        .command_typed("files.open_dialog", open_dialog)
        .command_typed("files.read", read_file)
        .state(files)
        .command_typed("demo.mode", move || DemoMode {
            scripted,
            exports: exports.clone(),
            sample: sample.clone(),
        })
        .command_typed("demo.report", {
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
        .command_typed("demo.finished", move || {
            tally.finished.store(true, Ordering::SeqCst);
            finished();
        })
        .on_event_typed("note-opened", |caller: &Caller, opened: Opened| {
            tracing::info!(webview = &*caller.webview, "note {} opened", opened.id);
        })
        .emits::<Note>("note-added")
}

#[cfg(test)]
mod tests;
