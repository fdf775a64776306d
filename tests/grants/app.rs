//! The app every run-time grants suite drives (`tests/grants/*.rs`): the grants fixture
//! (`fixtures/configs/valid/grants.json`), its gate, and a router whose handlers record
//! what they were given, with helpers to seal and run calls as the isolation frame and
//! the transport would.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{facts, origin};
use portcullis::envelope::Encoding;
use portcullis::request::{Kind, Request};
use portcullis::router::{CallError, Dispatch, FromCall, Parts, Payload};
use portcullis::{
    Args, Caller, Config, ErrorCode, Gate, Grants, HandlerError, Router, ScopeVars, Scoped, Sealer,
};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The grants fixture, its gate and a router whose handlers record what they were given.
pub struct App {
    pub gate: Gate,
    pub router: Router,
    /// `name path` for every handler and listener run, in order.
    pub ran: Arc<Mutex<Vec<String>>>,
    /// `$EXPORTS`, canonical.
    pub exports: PathBuf,
    /// A directory outside every scope's globs, for picked files (canonical).
    pub home: PathBuf,
    pub next_id: AtomicU64,
    _dir: TempDir,
}

/// How often the [`Counted`] extractor ran: app code that must not run for a call whose
/// grant was revoked before it started.
pub static EXTRACTED: AtomicUsize = AtomicUsize::new(0);

/// An extractor of the app's own, counting its runs.
struct Counted;

impl FromCall for Counted {
    fn from_call(_: &mut Parts) -> Result<Self, CallError> {
        EXTRACTED.fetch_add(1, Ordering::SeqCst);
        Ok(Counted)
    }
}

pub fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let (exports, home) = (root.join("exports"), root.join("home"));
    std::fs::create_dir_all(&exports).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/configs/valid/grants.json"),
    )
    .unwrap();
    let config = Config::from_json(&text).unwrap();
    let gate = Gate::new(&config, &ScopeVars::new().with("EXPORTS", &exports)).unwrap();
    let ran: Arc<Mutex<Vec<String>>> = Arc::default();
    let (a, b, c, d, e) = (
        ran.clone(),
        ran.clone(),
        ran.clone(),
        ran.clone(),
        ran.clone(),
    );
    let record = |ran: &Arc<Mutex<Vec<String>>>, what: String| ran.lock().unwrap().push(what);
    let router = Router::new()
        .command("notes.list", move || {
            record(&a, "notes.list".into());
            vec!["first"]
        })
        .command(
            "session.sign_in",
            move |caller: Caller, grants: Grants| -> Result<(), HandlerError> {
                record(&b, "session.sign_in".into());
                grants.grant(&caller.webview, "export")?;
                Ok(())
            },
        )
        .command("files.open", move |_: Args<Value>, scoped: Scoped| {
            let path = scoped.get("/path").unwrap().display().to_string();
            record(&c, format!("files.open {path}"));
            path
        })
        .command("notes.export", move |_: Args<Value>, scoped: Scoped| {
            let path = scoped.get("/path").unwrap().display().to_string();
            record(&d, format!("notes.export {path}"));
            path
        })
        .command("notes.share", {
            let ran = ran.clone();
            move |_: Counted| {
                let ran = ran.clone();
                async move {
                    ran.lock().unwrap().push("notes.share".into());
                    "shared"
                }
            }
        })
        .on_event("note-shared", move |_, _: Value| {
            record(&e, "note-shared".into())
        })
        .grants(gate.grants().clone());
    router.check().unwrap();
    App {
        gate,
        router,
        ran,
        exports,
        home,
        next_id: AtomicU64::new(1),
        _dir: dir,
    }
}

impl App {
    pub fn seal(&self, s: &mut Sealer, kind: Kind, name: &str, args: Value) -> Vec<u8> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        s.seal(
            &Request::encode_json(kind, id, name, &args),
            Encoding::Binary,
        )
        .unwrap()
    }

    /// A whole call, admitted and run here: the reply's JSON text, or the refusal's code.
    pub fn call(
        &self,
        s: &mut Sealer,
        label: &str,
        name: &str,
        args: Value,
    ) -> Result<String, ErrorCode> {
        let sealed = self.seal(s, Kind::Command, name, args);
        self.run(&sealed, label)
    }

    /// `files.open` of `path` from `main`.
    pub fn open(&self, s: &mut Sealer, path: impl AsRef<Path>) -> Result<String, ErrorCode> {
        self.call(s, "main", "files.open", json!({"path": path.as_ref()}))
    }

    pub fn emit(&self, s: &mut Sealer, label: &str, name: &str) -> Result<String, ErrorCode> {
        let sealed = self.seal(s, Kind::Event, name, json!({}));
        self.run(&sealed, label)
    }

    pub fn run(&self, sealed: &[u8], label: &str) -> Result<String, ErrorCode> {
        let admitted = self
            .gate
            .admit(sealed, facts(label, &origin()))
            .map_err(|r| r.code)?;
        match self.router.dispatch(admitted).wait().result {
            Ok(Payload::Json(text)) => Ok(text),
            Ok(Payload::Bytes(b)) => panic!("bytes reply {b:?}"),
            Err(e) => Err(e.code),
        }
    }

    /// Admits and starts a call without running its handler yet.
    pub fn start(&self, s: &mut Sealer, label: &str, name: &str, args: Value) -> Dispatch {
        let sealed = self.seal(s, Kind::Command, name, args);
        let admitted = self.gate.admit(&sealed, facts(label, &origin())).unwrap();
        let started = self.router.dispatch(admitted);
        assert!(matches!(started, Dispatch::Started(..)), "{started:?}");
        started
    }

    pub fn ran(&self) -> Vec<String> {
        self.ran.lock().unwrap().clone()
    }

    pub fn export_path(&self, name: &str) -> String {
        self.exports.join(name).display().to_string()
    }

    pub fn grants(&self) -> &Grants {
        self.gate.grants()
    }
}

/// `path` as a JSON string, as a handler returning it replies.
pub fn quoted(path: &Path) -> String {
    serde_json::to_string(&path.display().to_string()).unwrap()
}
