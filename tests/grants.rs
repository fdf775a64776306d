//! Run-time grants through the gate and the router, without a webview
//! (`fixtures/configs/valid/grants.json`): a `"runtimeGrant": true` capability applies
//! to a window only while the app holds a grant of it, and paths the app adds to one
//! window's scope are checked like the scope's own globs. Every refusal asserts its code
//! and that no handler ran, next to the twin where the legitimate call succeeds.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use common::{facts, origin, page};
use portcullis::envelope::Encoding;
use portcullis::grants::{GrantChange, GrantedPath};
use portcullis::request::{Kind, Request};
use portcullis::router::{CallError, Dispatch, FromCall, Parts, Payload};
use portcullis::{
    Args, Caller, Config, ErrorCode, Gate, GrantError, Grants, HandlerError, Reach, Router,
    ScopeVars, Scoped, Sealer, WindowGrants,
};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The grants fixture, its gate and a router whose handlers record what they were given.
struct App {
    gate: Gate,
    router: Router,
    /// `name path` for every handler and listener run, in order.
    ran: Arc<Mutex<Vec<String>>>,
    /// `$EXPORTS`, canonical.
    exports: PathBuf,
    /// A directory outside every scope's globs, for picked files (canonical).
    home: PathBuf,
    next_id: AtomicU64,
    _dir: TempDir,
}

/// How often the [`Counted`] extractor ran: app code that must not run for a call whose
/// grant was revoked before it started.
static EXTRACTED: AtomicUsize = AtomicUsize::new(0);

/// An extractor of the app's own, counting its runs.
struct Counted;

impl FromCall for Counted {
    fn from_call(_: &mut Parts) -> Result<Self, CallError> {
        EXTRACTED.fetch_add(1, Ordering::SeqCst);
        Ok(Counted)
    }
}

fn app() -> App {
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
    fn seal(&self, s: &mut Sealer, kind: Kind, name: &str, args: Value) -> Vec<u8> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        s.seal(
            &Request::encode_json(kind, id, name, &args),
            Encoding::Binary,
        )
        .unwrap()
    }

    /// A whole call, admitted and run here: the reply's JSON text, or the refusal's code.
    fn call(
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
    fn open(&self, s: &mut Sealer, path: impl AsRef<Path>) -> Result<String, ErrorCode> {
        self.call(s, "main", "files.open", json!({"path": path.as_ref()}))
    }

    fn emit(&self, s: &mut Sealer, label: &str, name: &str) -> Result<String, ErrorCode> {
        let sealed = self.seal(s, Kind::Event, name, json!({}));
        self.run(&sealed, label)
    }

    fn run(&self, sealed: &[u8], label: &str) -> Result<String, ErrorCode> {
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
    fn start(&self, s: &mut Sealer, label: &str, name: &str, args: Value) -> Dispatch {
        let sealed = self.seal(s, Kind::Command, name, args);
        let admitted = self.gate.admit(&sealed, facts(label, &origin())).unwrap();
        let started = self.router.dispatch(admitted);
        assert!(matches!(started, Dispatch::Started(..)), "{started:?}");
        started
    }

    fn ran(&self) -> Vec<String> {
        self.ran.lock().unwrap().clone()
    }

    fn export_path(&self, name: &str) -> String {
        self.exports.join(name).display().to_string()
    }

    fn grants(&self) -> &Grants {
        self.gate.grants()
    }
}

fn quoted(path: &Path) -> String {
    serde_json::to_string(&path.display().to_string()).unwrap()
}

// ---- capabilities granted at run time ----

#[test]
fn a_runtime_capability_refuses_until_it_is_granted_and_admits_after() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let args = json!({"path": app.export_path("a.md")});
    assert_eq!(
        app.call(&mut s, "main", "notes.export", args.clone()),
        Err(ErrorCode::NotGranted)
    );
    assert_eq!(
        app.emit(&mut s, "main", "note-shared"),
        Err(ErrorCode::NotGranted)
    );
    assert!(app.ran().is_empty(), "no handler or listener ran");
    // Twin: granted, the next message is admitted.
    app.grants().grant("main", "export").unwrap();
    let reply = app.call(&mut s, "main", "notes.export", args).unwrap();
    assert_eq!(reply, quoted(&app.exports.join("a.md")));
    assert_eq!(app.emit(&mut s, "main", "note-shared"), Ok("null".into()));
    assert_eq!(
        app.ran(),
        [
            format!("notes.export {}", app.export_path("a.md")),
            "note-shared".into()
        ]
    );
}

#[test]
fn a_revoked_grant_refuses_with_its_own_code_and_granting_again_admits() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let args = json!({"path": app.export_path("a.md")});
    app.grants().grant("main", "export").unwrap();
    assert!(
        app.call(&mut s, "main", "notes.export", args.clone())
            .is_ok()
    );
    assert_eq!(app.grants().revoke("main", "export"), Ok(true));
    assert_eq!(
        app.call(&mut s, "main", "notes.export", args.clone()),
        Err(ErrorCode::GrantRevoked)
    );
    assert_eq!(
        app.emit(&mut s, "main", "note-shared"),
        Err(ErrorCode::GrantRevoked)
    );
    assert_eq!(app.ran().len(), 1, "only the call before the revoke ran");
    // Revoking what is not granted says so and changes nothing.
    assert_eq!(app.grants().revoke("main", "export"), Ok(false));
    assert_eq!(app.grants().revoke("second", "export"), Ok(false));
    // Twin: granted again, admitted again.
    app.grants().grant("main", "export").unwrap();
    assert!(app.call(&mut s, "main", "notes.export", args).is_ok());
    assert_eq!(app.ran().len(), 2);
}

#[test]
fn a_grant_belongs_to_one_window() {
    let app = app();
    let mut main = page(&app.gate, "main");
    let mut second = page(&app.gate, "second");
    let args = json!({"path": app.export_path("a.md")});
    app.grants().grant("main", "export").unwrap();
    assert_eq!(
        app.call(&mut second, "second", "notes.export", args.clone()),
        Err(ErrorCode::NotGranted)
    );
    assert!(app.ran().is_empty());
    assert!(app.call(&mut main, "main", "notes.export", args).is_ok());
    assert_eq!(app.ran().len(), 1);
}

#[test]
fn a_grant_survives_a_reload_and_ends_with_the_window() {
    let app = app();
    let args = json!({"path": app.export_path("a.md")});
    app.grants().grant("main", "export").unwrap();
    let _first = page(&app.gate, "main");
    // The page reloads: a new page load, the same window.
    let mut reloaded = page(&app.gate, "main");
    assert!(
        app.call(&mut reloaded, "main", "notes.export", args.clone())
            .is_ok()
    );
    // The window closes; a new window with the label starts with nothing granted.
    assert!(app.grants().forget_window("main"));
    assert!(!app.grants().forget_window("main"));
    let mut next = page(&app.gate, "main");
    assert_eq!(
        app.call(&mut next, "main", "notes.export", args),
        Err(ErrorCode::NotGranted)
    );
    assert_eq!(app.ran().len(), 1);
    assert_eq!(app.grants().of("main"), WindowGrants::default());
}

#[test]
fn a_runtime_capabilitys_deny_list_applies_before_it_is_granted() {
    let app = app();
    let mut s = page(&app.gate, "main");
    // `notes.purge` is in the export capability's deny list: denied, granted or not.
    assert_eq!(
        app.call(&mut s, "main", "notes.purge", json!({})),
        Err(ErrorCode::Denied)
    );
    app.grants().grant("main", "export").unwrap();
    assert_eq!(
        app.call(&mut s, "main", "notes.purge", json!({})),
        Err(ErrorCode::Denied)
    );
    // Twin: the static capability's command is admitted either way.
    assert!(app.call(&mut s, "main", "notes.list", json!({})).is_ok());
    assert_eq!(app.ran(), ["notes.list"]);
}

#[test]
fn a_handler_signs_in_by_granting_through_its_extractor() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let args = json!({"path": app.export_path("a.md")});
    assert_eq!(
        app.call(&mut s, "main", "notes.export", args.clone()),
        Err(ErrorCode::NotGranted)
    );
    assert_eq!(
        app.call(&mut s, "main", "session.sign_in", json!({})),
        Ok("null".into())
    );
    assert!(app.call(&mut s, "main", "notes.export", args).is_ok());
    assert_eq!(app.grants().of("main").capabilities, ["export"]);
    assert_eq!(app.grants().of("second").capabilities, Vec::<String>::new());
}

#[test]
fn a_call_admitted_before_a_revoke_does_not_start_after_it() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let args = json!({"path": app.export_path("a.md")});
    app.grants().grant("main", "export").unwrap();
    let pending = app.start(&mut s, "main", "notes.export", args.clone());
    app.grants().revoke("main", "export").unwrap();
    let reply = pending.wait();
    assert_eq!(reply.result.unwrap_err().code, ErrorCode::GrantRevoked);
    assert!(app.ran().is_empty(), "the handler never started");
    // Twin: a call started under a grant that holds runs to its end.
    app.grants().grant("main", "export").unwrap();
    let pending = app.start(&mut s, "main", "notes.export", args);
    assert!(pending.wait().result.is_ok());
    assert_eq!(app.ran().len(), 1);
}

#[test]
fn an_event_admitted_before_a_revoke_reaches_no_listener_after_it() {
    let app = app();
    let mut s = page(&app.gate, "main");
    app.grants().grant("main", "export").unwrap();
    let sealed = app.seal(&mut s, Kind::Event, "note-shared", json!({}));
    let admitted = app.gate.admit(&sealed, facts("main", &origin())).unwrap();
    app.grants().revoke("main", "export").unwrap();
    assert_eq!(
        admitted.still_granted().unwrap_err().code,
        ErrorCode::GrantRevoked
    );
    let reply = app.router.dispatch(admitted).wait();
    assert_eq!(reply.result.unwrap_err().code, ErrorCode::GrantRevoked);
    assert!(app.ran().is_empty());
    // Twin.
    app.grants().grant("main", "export").unwrap();
    let sealed = app.seal(&mut s, Kind::Event, "note-shared", json!({}));
    let admitted = app.gate.admit(&sealed, facts("main", &origin())).unwrap();
    assert!(admitted.still_granted().is_ok());
    assert!(app.router.dispatch(admitted).wait().result.is_ok());
    assert_eq!(app.ran(), ["note-shared"]);
}

/// A call's index, whether the revoke had returned before it was started or admitted,
/// and its result.
type Outcome = (usize, bool, Result<(), ErrorCode>);

/// 10,000 calls admitted under a grant and not yet started; two threads start them
/// while a third keeps admitting new ones and the test revokes the grant in the middle.
/// A call whose handler had not started when the revoke returned is refused and its
/// handler never runs; a message admitted after it returned is refused; every call gets
/// exactly one response.
#[test]
fn a_revoke_while_ten_thousand_calls_are_in_flight_admits_nothing_after_it_returned() {
    const PENDING: usize = 10_000;
    const LATE: usize = 2_000;
    let app = Arc::new(app());
    app.grants().grant("main", "export").unwrap();
    let mut s = page(&app.gate, "main");
    let path = |i: usize| app.export_path(&format!("n{i}.md"));
    let pending: Vec<Mutex<Option<Dispatch>>> = (0..PENDING)
        .map(|i| {
            let started = app.start(&mut s, "main", "notes.export", json!({"path": path(i)}));
            Mutex::new(Some(started))
        })
        .collect();
    assert_eq!(app.router.in_flight(), PENDING);
    // Sealed now, admitted by the third thread while the revoke happens.
    let late: Vec<Vec<u8>> = (PENDING..PENDING + LATE)
        .map(|i| {
            app.seal(
                &mut s,
                Kind::Command,
                "notes.export",
                json!({"path": path(i)}),
            )
        })
        .collect();
    let revoked = AtomicBool::new(false);
    let (started_count, admitted_count) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Outcome>> = Mutex::default();
    thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= PENDING {
                        break;
                    }
                    // The last 30% wait for the revoke, so both sides are always seen.
                    while i >= PENDING * 7 / 10 && !revoked.load(Ordering::SeqCst) {
                        thread::yield_now();
                    }
                    let work = pending[i].lock().unwrap().take().unwrap();
                    let after = revoked.load(Ordering::SeqCst);
                    let result = work.wait().result.map(drop).map_err(|e| e.code);
                    started_count.fetch_add(1, Ordering::SeqCst);
                    outcomes.lock().unwrap().push((i, after, result));
                }
            });
        }
        scope.spawn(|| {
            for (k, sealed) in late.iter().enumerate() {
                // The second half waits for the revoke.
                while k >= LATE / 2 && !revoked.load(Ordering::SeqCst) {
                    thread::yield_now();
                }
                let after = revoked.load(Ordering::SeqCst);
                let result = app.run(sealed, "main").map(drop);
                admitted_count.fetch_add(1, Ordering::SeqCst);
                outcomes.lock().unwrap().push((PENDING + k, after, result));
            }
        });
        while started_count.load(Ordering::SeqCst) < PENDING * 3 / 10
            || admitted_count.load(Ordering::SeqCst) < LATE / 4
        {
            thread::yield_now();
        }
        assert_eq!(app.grants().revoke("main", "export"), Ok(true));
        revoked.store(true, Ordering::SeqCst);
    });
    let outcomes = outcomes.into_inner().unwrap();
    assert_eq!(
        outcomes.len(),
        PENDING + LATE,
        "every call got one response"
    );
    let ran: std::collections::HashSet<String> = app.ran().into_iter().collect();
    let (mut before_ok, mut after_refused) = (0, 0);
    for (i, after, result) in &outcomes {
        let handler_ran = ran.contains(&format!("notes.export {}", path(*i)));
        match result {
            Ok(()) => {
                assert!(
                    !after,
                    "call {i} started or was admitted after the revoke returned"
                );
                assert!(handler_ran, "call {i} answered without its handler");
                before_ok += 1;
            }
            Err(code) => {
                assert_eq!(*code, ErrorCode::GrantRevoked, "call {i}");
                assert!(!handler_ran, "call {i} was refused but its handler ran");
                after_refused += usize::from(*after);
            }
        }
    }
    assert_eq!(
        ran.len(),
        before_ok,
        "no handler ran twice or for a refused call"
    );
    assert!(
        before_ok >= PENDING * 3 / 10 + LATE / 4,
        "{before_ok} admitted before"
    );
    assert!(
        after_refused >= PENDING * 3 / 10 + LATE / 2,
        "{after_refused} refused after"
    );
    assert_eq!(app.router.in_flight(), 0);
}

/// A writer holds the grants' lock for its whole change, sink included. The gate never
/// takes that lock: 1,000 messages under a run-time grant are admitted and answered
/// while a writer is stuck in the sink.
#[test]
fn a_writer_holding_the_lock_does_not_block_admission() {
    let app = Arc::new(app());
    app.grants().grant("main", "export").unwrap();
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    let entered_tx = Mutex::new(entered_tx);
    app.grants().set_sink(Arc::new(move |_| {
        entered_tx.lock().unwrap().send(()).unwrap();
        release_rx.lock().unwrap().recv().unwrap();
    }));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (app, done) = (app.clone(), done.clone());
        thread::spawn(move || {
            app.grants().grant("second", "export").unwrap();
            done.store(true, Ordering::SeqCst);
        })
    };
    entered_rx.recv().unwrap();
    // On another thread, so that a gate that did wait for the writer fails this test
    // instead of hanging it.
    let (admitted_tx, admitted_rx) = mpsc::channel();
    let reader = {
        let app = app.clone();
        thread::spawn(move || {
            let mut s = page(&app.gate, "main");
            for i in 0..1_000 {
                let args = json!({"path": app.export_path(&format!("n{i}.md"))});
                assert!(app.call(&mut s, "main", "notes.export", args).is_ok());
            }
            admitted_tx.send(()).unwrap();
        })
    };
    admitted_rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("admission waited for the writer's lock");
    reader.join().unwrap();
    assert!(
        !done.load(Ordering::SeqCst),
        "the writer is still inside its change"
    );
    assert_eq!(app.ran().len(), 1_000);
    release_tx.send(()).unwrap();
    writer.join().unwrap();
    assert_eq!(app.grants().of("second").capabilities, ["export"]);
}

#[test]
fn grant_mistakes_are_errors_for_the_app() {
    let app = app();
    let g = app.grants();
    assert_eq!(
        g.grant("main", "exprot"),
        Err(GrantError::UnknownCapability("exprot".into()))
    );
    assert_eq!(
        g.grant("main", "base"),
        Err(GrantError::NotRuntime("base".into()))
    );
    assert_eq!(
        g.revoke("main", "base"),
        Err(GrantError::NotRuntime("base".into()))
    );
    assert_eq!(
        g.grant("settings", "export"),
        Err(GrantError::WindowNotCovered {
            capability: "export".into(),
            webview: "settings".into()
        })
    );
    let file = app.home.join("a.txt");
    assert_eq!(
        g.allow_path("main", "base", "pikced", &file, Reach::File),
        Err(GrantError::UnknownScope {
            capability: "base".into(),
            scope: "pikced".into()
        })
    );
    // A mistake changes nothing: the window still has no grants.
    assert_eq!(g.of("main"), WindowGrants::default());
    assert_eq!(g.of("settings"), WindowGrants::default());
}

/// A grant event as the sink saw it: change, webview, capability, path.
type Seen = (GrantChange, String, Option<String>, Option<PathBuf>);

#[test]
fn every_grant_change_is_reported_in_order() {
    let app = app();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let sink = seen.clone();
    app.grants().set_sink(Arc::new(move |e| {
        sink.lock().unwrap().push((
            e.change,
            e.webview.to_owned(),
            e.capability.map(str::to_owned),
            e.path.map(Path::to_path_buf),
        ))
    }));
    let file = app.home.join("a.txt");
    std::fs::write(&file, "a").unwrap();
    let g = app.grants();
    g.grant("main", "export").unwrap();
    g.grant("main", "export").unwrap(); // no change, no event
    g.allow_path("main", "base", "picked", &file, Reach::File)
        .unwrap();
    g.revoke("main", "export").unwrap();
    g.forget_path("main", "base", "picked", &file).unwrap();
    g.grant("second", "export").unwrap();
    g.forget_window("second");
    let export = Some("export".to_owned());
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (GrantChange::Granted, "main".into(), export.clone(), None),
            (
                GrantChange::PathAllowed,
                "main".into(),
                Some("base".into()),
                Some(file.clone())
            ),
            (GrantChange::Revoked, "main".into(), export.clone(), None),
            (
                GrantChange::PathForgotten,
                "main".into(),
                Some("base".into()),
                Some(file)
            ),
            (GrantChange::Granted, "second".into(), export, None),
            (GrantChange::WindowForgotten, "second".into(), None, None),
        ]
    );
}

// ---- the page learns its grants ----

#[test]
fn the_page_learns_its_own_windows_grants() {
    let app = app();
    let file = app.home.join("a.txt");
    std::fs::write(&file, "a").unwrap();
    app.grants().grant("main", "export").unwrap();
    app.grants()
        .allow_path("main", "base", "picked", &file, Reach::File)
        .unwrap();
    let mut main = page(&app.gate, "main");
    let reply: Value = serde_json::from_str(
        &app.call(&mut main, "main", "portcullis:grants", json!({}))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        reply,
        json!({
            "capabilities": ["export"],
            "paths": [{"capability": "base", "scope": "picked", "path": file, "reach": "file"}]
        })
    );
    let mut second = page(&app.gate, "second");
    let reply = app.call(&mut second, "second", "portcullis:grants", json!({}));
    assert_eq!(reply, Ok(r#"{"capabilities":[],"paths":[]}"#.into()));
    // It takes no arguments.
    assert_eq!(
        app.call(
            &mut main,
            "main",
            "portcullis:grants",
            json!({"webview": "second"})
        ),
        Err(ErrorCode::InvalidArgs)
    );
    assert_eq!(
        app.grants().of("main").paths,
        [GrantedPath {
            capability: "base".into(),
            scope: "picked".into(),
            path: file,
            reach: Reach::File
        }]
    );
}

#[test]
fn learning_the_grants_needs_an_allow_entry_like_any_command() {
    // The demo config does not allow `portcullis:grants`.
    let gate = common::gate();
    let router = common::router(&common::Runs::default()).grants(gate.grants().clone());
    router.check().unwrap();
    let mut s = page(&gate, "main");
    let sealed = common::command(&mut s, 1, "portcullis:grants", json!({}), Encoding::Binary);
    let refused = gate.admit(&sealed, facts("main", &origin())).unwrap_err();
    assert_eq!(refused.code, ErrorCode::NotAllowed);
    // Twin: the grants fixture allows it.
    let app = app();
    let mut s = page(&app.gate, "main");
    assert!(
        app.call(&mut s, "main", "portcullis:grants", json!({}))
            .is_ok()
    );
}

#[test]
fn an_app_cannot_register_portcullis_names() {
    let router = Router::new().command("portcullis:grants", || "mine");
    let mistakes = router.check().unwrap_err();
    assert!(
        mistakes.to_string().contains("Portcullis's own"),
        "{mistakes}"
    );
    // Twin: the built-in one is registered by attaching the grants.
    let app = app();
    assert!(app.router.has_command("portcullis:grants"));
}

// ---- paths added to one window's scope ----

#[test]
fn a_picked_file_is_in_scope_for_its_window_only() {
    let app = app();
    let (file, sibling) = (app.home.join("a.txt"), app.home.join("b.txt"));
    std::fs::write(&file, "a").unwrap();
    std::fs::write(&sibling, "b").unwrap();
    let mut main = page(&app.gate, "main");
    let mut second = page(&app.gate, "second");
    let open = |p: &Path| json!({"path": p});
    // The scope lists no globs: nothing is in it until the app adds a path.
    assert_eq!(
        app.call(&mut main, "main", "files.open", open(&file)),
        Err(ErrorCode::OutOfScope)
    );
    let added = app
        .grants()
        .allow_path("main", "base", "picked", &file, Reach::File)
        .unwrap();
    assert_eq!(added, file);
    assert_eq!(
        app.call(&mut main, "main", "files.open", open(&file)),
        Ok(quoted(&file))
    );
    for (label, path) in [
        ("main", sibling.clone()),
        ("main", app.home.clone()),
        ("main", file.join("x")),
        ("second", file.clone()),
    ] {
        let s = if label == "main" {
            &mut main
        } else {
            &mut second
        };
        assert_eq!(
            app.call(s, label, "files.open", open(&path)),
            Err(ErrorCode::OutOfScope),
            "{label} {path:?}"
        );
    }
    // `..` is refused even when it lands on the picked file.
    let dotted = format!("{}/x/../a.txt", app.home.display());
    assert_eq!(app.open(&mut main, &dotted), Err(ErrorCode::OutOfScope));
    assert_eq!(app.ran(), [format!("files.open {}", file.display())]);
}

#[test]
fn a_picked_directory_covers_what_is_inside_it_and_not_its_siblings() {
    let app = app();
    let dir = app.home.join("docs");
    let twin_name = app.home.join("docs2");
    std::fs::create_dir_all(dir.join("deep")).unwrap();
    std::fs::create_dir_all(&twin_name).unwrap();
    std::fs::create_dir_all(dir.join(".ssh")).unwrap();
    let mut s = page(&app.gate, "main");
    let open = |p: PathBuf| json!({"path": p});
    app.grants()
        .allow_path("main", "base", "picked", &dir, Reach::Tree)
        .unwrap();
    for inside in [dir.join("a.txt"), dir.join("deep/b.txt"), dir.clone()] {
        assert!(app.call(&mut s, "main", "files.open", open(inside)).is_ok());
    }
    assert_eq!(app.ran().len(), 3);
    for outside in [
        twin_name.join("a.txt"),
        app.home.join("a.txt"),
        dir.join(".ssh/id_ed25519"),
    ] {
        assert_eq!(
            app.call(&mut s, "main", "files.open", open(outside.clone())),
            Err(ErrorCode::OutOfScope),
            "{outside:?}"
        );
    }
    assert_eq!(app.ran().len(), 3);
}

#[test]
fn a_symlink_inside_a_picked_directory_does_not_lead_out_of_it() {
    let app = app();
    let (dir, outside) = (app.home.join("docs"), app.home.join("private"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("key"), "k").unwrap();
    std::fs::write(dir.join("note.txt"), "n").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("out")).unwrap();
    std::os::unix::fs::symlink(dir.join("note.txt"), dir.join("alias")).unwrap();
    app.grants()
        .allow_path("main", "base", "picked", &dir, Reach::Tree)
        .unwrap();
    let mut s = page(&app.gate, "main");
    assert_eq!(
        app.open(&mut s, dir.join("out/key")),
        Err(ErrorCode::OutOfScope)
    );
    assert!(app.ran().is_empty());
    // Twin: a link that stays inside resolves to its target.
    assert_eq!(
        app.open(&mut s, dir.join("alias")),
        Ok(quoted(&dir.join("note.txt")))
    );
}

#[test]
fn a_picked_file_replaced_by_a_symlink_afterwards_is_refused() {
    let app = app();
    let (file, secret) = (app.home.join("a.txt"), app.home.join("secret.txt"));
    std::fs::write(&file, "a").unwrap();
    std::fs::write(&secret, "s").unwrap();
    app.grants()
        .allow_path("main", "base", "picked", &file, Reach::File)
        .unwrap();
    let mut s = page(&app.gate, "main");
    assert!(app.open(&mut s, &file).is_ok());
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&secret, &file).unwrap();
    assert_eq!(app.open(&mut s, &file), Err(ErrorCode::OutOfScope));
    assert_eq!(app.ran().len(), 1);
}

#[test]
fn a_picked_symlink_is_resolved_when_added_and_either_name_opens_it() {
    let app = app();
    let (target, link) = (app.home.join("real.txt"), app.home.join("link.txt"));
    std::fs::write(&target, "r").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let added = app
        .grants()
        .allow_path("main", "base", "picked", &link, Reach::File)
        .unwrap();
    assert_eq!(added, target);
    let mut s = page(&app.gate, "main");
    for path in [&link, &target] {
        assert_eq!(app.open(&mut s, path), Ok(quoted(&target)));
    }
}

#[test]
fn a_forgotten_path_is_out_of_scope_again_even_for_a_call_already_admitted() {
    let app = app();
    let file = app.home.join("a.txt");
    std::fs::write(&file, "a").unwrap();
    let g = app.grants();
    g.allow_path("main", "base", "picked", &file, Reach::File)
        .unwrap();
    let mut s = page(&app.gate, "main");
    let pending = app.start(&mut s, "main", "files.open", json!({"path": file}));
    assert_eq!(g.forget_path("main", "base", "picked", &file), Ok(true));
    assert_eq!(
        pending.wait().result.unwrap_err().code,
        ErrorCode::OutOfScope
    );
    assert_eq!(app.open(&mut s, &file), Err(ErrorCode::OutOfScope));
    assert!(app.ran().is_empty());
    assert_eq!(g.forget_path("main", "base", "picked", &file), Ok(false));
    // Twin: added again, it opens.
    g.allow_path("main", "base", "picked", &file, Reach::File)
        .unwrap();
    assert!(app.open(&mut s, &file).is_ok());
    assert_eq!(app.ran().len(), 1);
}

#[test]
fn a_path_the_scope_denies_or_cannot_check_is_never_added() {
    let app = app();
    let g = app.grants();
    let ssh = app.home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::write(app.exports.join("secret-plans.md"), "s").unwrap();
    std::os::unix::fs::symlink(app.home.join("nowhere"), app.home.join("dangling")).unwrap();
    std::os::unix::fs::symlink(&ssh, app.home.join("keys")).unwrap();
    let bad = |path: PathBuf, reach| {
        let e = g.allow_path("main", "base", "picked", &path, reach);
        assert!(
            matches!(e, Err(GrantError::BadPath { .. })),
            "{path:?}: {e:?}"
        );
    };
    bad(ssh.join("id_ed25519"), Reach::File);
    bad(ssh.clone(), Reach::Tree);
    bad(app.home.join("keys"), Reach::Tree); // a link to a denied directory
    bad(app.exports.join("secret-plans.md"), Reach::File);
    bad(app.home.join("dangling/a.txt"), Reach::File);
    bad(PathBuf::from("relative/a.txt"), Reach::File);
    bad(app.home.join("x/../a.txt"), Reach::File);
    assert_eq!(g.of("main"), WindowGrants::default());
    let mut s = page(&app.gate, "main");
    assert_eq!(
        app.open(&mut s, ssh.join("id_ed25519")),
        Err(ErrorCode::OutOfScope)
    );
    assert!(app.ran().is_empty());
    // Twin: a path next to them is added.
    assert!(
        g.allow_path(
            "main",
            "base",
            "picked",
            &app.home.join("a.txt"),
            Reach::File
        )
        .is_ok()
    );
}

#[test]
fn a_path_added_to_a_runtime_capabilitys_scope_needs_its_grant_too() {
    let app = app();
    let picked = app.home.join("out.md");
    app.grants()
        .allow_path("main", "export", "exports", &picked, Reach::File)
        .unwrap();
    let mut s = page(&app.gate, "main");
    let args = json!({"path": picked});
    assert_eq!(
        app.call(&mut s, "main", "notes.export", args.clone()),
        Err(ErrorCode::NotGranted)
    );
    assert!(app.ran().is_empty());
    app.grants().grant("main", "export").unwrap();
    assert_eq!(
        app.call(&mut s, "main", "notes.export", args),
        Ok(quoted(&picked))
    );
}

// ---- how grants end ----

#[test]
fn a_window_that_closed_is_granted_nothing_and_a_rebuilt_one_starts_empty() {
    let app = app();
    let g = app.grants();
    // An embedder that reports its windows (portcullis-wry does).
    g.track_windows();
    assert_eq!(
        g.grant("main", "export"),
        Err(GrantError::WindowNotOpen("main".into()))
    );
    g.window_opened("main");
    g.grant("main", "export").unwrap();
    let file = app.home.join("a.txt");
    g.allow_path("main", "base", "picked", &file, Reach::File)
        .unwrap();
    // The window closes while a sign-in handler is still running: its grant, made
    // after the close, must not wait for the next window called "main".
    g.forget_window("main");
    assert_eq!(
        g.grant("main", "export"),
        Err(GrantError::WindowNotOpen("main".into()))
    );
    assert_eq!(
        g.allow_path("main", "base", "picked", &file, Reach::File),
        Err(GrantError::WindowNotOpen("main".into()))
    );
    g.window_opened("main");
    assert_eq!(g.of("main"), WindowGrants::default());
    let mut s = page(&app.gate, "main");
    let args = json!({"path": app.export_path("a.md")});
    assert_eq!(
        app.call(&mut s, "main", "notes.export", args.clone()),
        Err(ErrorCode::NotGranted)
    );
    // A webview dropped without being closed: building the label again ends what it held.
    g.grant("main", "export").unwrap();
    g.window_opened("main");
    assert_eq!(
        app.call(&mut s, "main", "notes.export", args.clone()),
        Err(ErrorCode::NotGranted)
    );
    assert!(app.ran().is_empty());
    // Twin: the open window signs in and exports.
    g.grant("main", "export").unwrap();
    assert!(app.call(&mut s, "main", "notes.export", args).is_ok());
}

#[test]
fn a_closed_window_starts_none_of_the_calls_it_had_admitted() {
    let app = app();
    let file = app.home.join("a.txt");
    std::fs::write(&file, "a").unwrap();
    app.grants().grant("main", "export").unwrap();
    app.grants()
        .allow_path("main", "base", "picked", &file, Reach::File)
        .unwrap();
    let mut s = page(&app.gate, "main");
    let export = app.start(
        &mut s,
        "main",
        "notes.export",
        json!({"path": app.export_path("a.md")}),
    );
    let open = app.start(&mut s, "main", "files.open", json!({"path": file}));
    assert!(app.grants().forget_window("main"));
    assert_eq!(
        export.wait().result.unwrap_err().code,
        ErrorCode::GrantRevoked
    );
    assert_eq!(open.wait().result.unwrap_err().code, ErrorCode::OutOfScope);
    assert!(app.ran().is_empty());
}

#[test]
fn an_async_handler_admitted_before_a_revoke_does_not_start_and_no_app_code_runs() {
    let app = app();
    let mut s = page(&app.gate, "main");
    app.grants().grant("main", "export").unwrap();
    // Revoked between admission and dispatch: not even the app's extractor runs.
    let sealed = app.seal(&mut s, Kind::Command, "notes.share", json!({}));
    let admitted = app.gate.admit(&sealed, facts("main", &origin())).unwrap();
    app.grants().revoke("main", "export").unwrap();
    let before = EXTRACTED.load(Ordering::SeqCst);
    let reply = app.router.dispatch(admitted).wait();
    assert_eq!(reply.result.unwrap_err().code, ErrorCode::GrantRevoked);
    assert_eq!(EXTRACTED.load(Ordering::SeqCst), before, "no extractor ran");
    // Revoked between dispatch and the start of the async handler.
    app.grants().grant("main", "export").unwrap();
    let pending = app.start(&mut s, "main", "notes.share", json!({}));
    app.grants().revoke("main", "export").unwrap();
    assert_eq!(
        pending.wait().result.unwrap_err().code,
        ErrorCode::GrantRevoked
    );
    assert!(app.ran().is_empty());
    // Twin: granted throughout, the async handler runs.
    app.grants().grant("main", "export").unwrap();
    let pending = app.start(&mut s, "main", "notes.share", json!({}));
    assert_eq!(
        pending.wait().result,
        Ok(Payload::Json("\"shared\"".into()))
    );
    assert_eq!(app.ran(), ["notes.share"]);
}

#[test]
fn a_call_another_capability_allows_outlives_a_revoke() {
    let app = app();
    let mut s = page(&app.gate, "main");
    // notes.list is allowed by both the static and the run-time capability: the static
    // one admits it, so a revoke of the other cannot refuse it.
    app.grants().grant("main", "export").unwrap();
    let pending = app.start(&mut s, "main", "notes.list", json!({}));
    app.grants().revoke("main", "export").unwrap();
    assert!(pending.wait().result.is_ok());
    assert!(app.call(&mut s, "main", "notes.list", json!({})).is_ok());
    assert_eq!(app.ran(), ["notes.list", "notes.list"]);
}

#[test]
fn a_window_the_runtime_capability_does_not_cover_is_not_allowed_rather_than_not_granted() {
    let app = app();
    // "settings" is named by no capability: a plain E_NOT_ALLOWED.
    let mut s = page(&app.gate, "settings");
    let args = json!({"path": app.export_path("a.md")});
    assert_eq!(
        app.call(&mut s, "settings", "notes.export", args.clone()),
        Err(ErrorCode::NotAllowed)
    );
    let mut main = page(&app.gate, "main");
    assert_eq!(
        app.call(&mut main, "main", "notes.export", args),
        Err(ErrorCode::NotGranted)
    );
    assert!(app.ran().is_empty());
}

#[test]
fn a_path_added_again_replaces_the_earlier_entry_and_its_calls_not_yet_started() {
    let app = app();
    let dir = app.home.join("docs");
    std::fs::create_dir_all(&dir).unwrap();
    let g = app.grants();
    g.allow_path("main", "base", "picked", &dir, Reach::Tree)
        .unwrap();
    let mut s = page(&app.gate, "main");
    let inside = dir.join("a.txt");
    let pending = app.start(&mut s, "main", "files.open", json!({"path": inside}));
    // The directory becomes the file itself only: what was inside is out of scope,
    // also for the call admitted under the tree.
    g.allow_path("main", "base", "picked", &dir, Reach::File)
        .unwrap();
    assert_eq!(
        pending.wait().result.unwrap_err().code,
        ErrorCode::OutOfScope
    );
    assert_eq!(app.open(&mut s, &inside), Err(ErrorCode::OutOfScope));
    assert!(app.ran().is_empty());
    assert!(app.open(&mut s, &dir).is_ok());
    assert_eq!(g.of("main").paths.len(), 1);
}

#[test]
fn a_path_is_forgotten_by_either_of_its_names() {
    let app = app();
    let (target, link) = (app.home.join("real.txt"), app.home.join("link.txt"));
    std::fs::write(&target, "r").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let g = app.grants();
    // Added by the link, forgotten by what allow_path returned (the target).
    let resolved = g
        .allow_path("main", "base", "picked", &link, Reach::File)
        .unwrap();
    assert_eq!(g.forget_path("main", "base", "picked", &resolved), Ok(true));
    let mut s = page(&app.gate, "main");
    for path in [&link, &target] {
        assert_eq!(app.open(&mut s, path), Err(ErrorCode::OutOfScope));
    }
    // Added by both names: one entry, forgotten once by the link.
    g.allow_path("main", "base", "picked", &link, Reach::File)
        .unwrap();
    g.allow_path("main", "base", "picked", &target, Reach::File)
        .unwrap();
    assert_eq!(g.of("main").paths.len(), 1);
    assert_eq!(g.forget_path("main", "base", "picked", &link), Ok(true));
    assert_eq!(app.open(&mut s, &target), Err(ErrorCode::OutOfScope));
    assert!(app.ran().is_empty());
    // A name that cannot be a path is a mistake, not "not there".
    assert!(matches!(
        g.forget_path("main", "base", "picked", Path::new("relative.txt")),
        Err(GrantError::BadPath { .. })
    ));
    // Twin: added again, it opens by either name.
    g.allow_path("main", "base", "picked", &link, Reach::File)
        .unwrap();
    assert!(app.open(&mut s, &link).is_ok());
}

#[test]
fn a_revoke_forgets_the_paths_added_to_that_capabilitys_scopes() {
    let app = app();
    let picked = app.home.join("out.md");
    let g = app.grants();
    g.grant("main", "export").unwrap();
    g.allow_path("main", "export", "exports", &picked, Reach::File)
        .unwrap();
    let other = app.home.join("b.txt");
    g.allow_path("main", "base", "picked", &other, Reach::File)
        .unwrap();
    let mut s = page(&app.gate, "main");
    assert!(
        app.call(&mut s, "main", "notes.export", json!({"path": picked}))
            .is_ok()
    );
    // Signed out, then in again (another user): the first user's pick is gone.
    g.revoke("main", "export").unwrap();
    g.grant("main", "export").unwrap();
    assert_eq!(
        app.call(&mut s, "main", "notes.export", json!({"path": picked})),
        Err(ErrorCode::OutOfScope)
    );
    assert_eq!(app.ran().len(), 1);
    // The static capability's added path stays.
    assert_eq!(g.of("main").paths.len(), 1);
    assert!(app.open(&mut s, &other).is_ok());
}

#[test]
fn added_paths_are_normalized_like_the_pages() {
    let app = app();
    let file = app.home.join("a.txt");
    std::fs::write(&file, "a").unwrap();
    let odd = format!("{}//./a.txt", app.home.display());
    let added = app
        .grants()
        .allow_path("main", "base", "picked", Path::new(&odd), Reach::File)
        .unwrap();
    assert_eq!(added, file);
    let mut s = page(&app.gate, "main");
    let dotted = format!("{}/./a.txt", app.home.display());
    assert_eq!(app.open(&mut s, &dotted), Ok(quoted(&file)));
    let nul = format!("{}/a.txt\0", app.home.display());
    assert!(matches!(
        app.grants()
            .allow_path("main", "base", "picked", Path::new(&nul), Reach::File),
        Err(GrantError::BadPath { .. })
    ));
}

#[test]
fn an_app_cannot_listen_to_portcullis_event_names() {
    let router = Router::new().on_event("portcullis:grants", |_, _: Value| {});
    let mistakes = router.check().unwrap_err();
    assert!(
        mistakes.to_string().contains("Portcullis's own"),
        "{mistakes}"
    );
    // Twin: an ordinary name is fine.
    assert!(
        Router::new()
            .on_event("note-shared", |_, _: Value| {})
            .check()
            .is_ok()
    );
}

#[test]
fn a_revoke_forgets_its_capabilitys_paths_even_when_it_was_not_granted() {
    let app = app();
    let picked = app.home.join("out.md");
    let g = app.grants();
    // Picked before anyone signed in, then the session ends without a sign-in.
    g.allow_path("main", "export", "exports", &picked, Reach::File)
        .unwrap();
    assert_eq!(g.revoke("main", "export"), Ok(false));
    assert_eq!(g.of("main").paths, Vec::new());
    g.grant("main", "export").unwrap();
    let mut s = page(&app.gate, "main");
    assert_eq!(
        app.call(&mut s, "main", "notes.export", json!({"path": picked})),
        Err(ErrorCode::OutOfScope)
    );
    assert!(app.ran().is_empty());
    // Twin: picked while signed in, it exports.
    g.allow_path("main", "export", "exports", &picked, Reach::File)
        .unwrap();
    assert!(
        app.call(&mut s, "main", "notes.export", json!({"path": picked}))
            .is_ok()
    );
}
