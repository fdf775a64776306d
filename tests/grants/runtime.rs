//! Capabilities granted at run time, through the gate and the router, without a webview
//! (`fixtures/configs/valid/grants.json`): a `"runtimeGrant": true` capability applies to
//! a window only while the app holds a grant of it (`E_NOT_GRANTED` before,
//! `E_GRANT_REVOKED` after a revoke), per window, across reloads; a call or event admitted
//! before a revoke does not start after it, even with ten thousand in flight; the gate
//! never waits for a grant writer; every change reaches the grant sink, in order. Every
//! refusal asserts its code and that no handler ran, next to the twin where the
//! legitimate call succeeds. The other grants suites: `page.rs`, `paths.rs`, `end.rs`.

mod app;
#[path = "../common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use portcullis::grants::GrantChange;
use portcullis::request::Kind;
use portcullis::router::Dispatch;
use portcullis::{ErrorCode, GrantError, Reach, WindowGrants};
use serde_json::json;

use app::{app, quoted};
use common::{facts, origin, page};

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
