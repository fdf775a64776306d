//! How grants end, through the gate and the router, without a webview
//! (`fixtures/configs/valid/grants.json`): with its window (a closed window is granted
//! nothing, a rebuilt label starts empty, calls it had admitted do not start), with a
//! revoke (no app code of a call admitted before it runs; the paths added to that
//! capability's scopes are forgotten), with a path forgotten or added again. Every
//! refusal asserts its code and that no handler ran, next to the twin where the
//! legitimate call succeeds. The other grants suites: `runtime.rs`, `page.rs`, `paths.rs`.

mod app;
#[path = "../common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::atomic::Ordering;

use portcullis::request::Kind;
use portcullis::router::Payload;
use portcullis::{ErrorCode, GrantError, Reach, WindowGrants};
use serde_json::json;

use app::{EXTRACTED, app};
use common::{facts, origin, page};

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
