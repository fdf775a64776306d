//! Paths the app adds to one window's scope at run time (a file picker's choice),
//! through the gate and the router, without a webview
//! (`fixtures/configs/valid/grants.json`): checked like the scope's own globs, for that
//! window only; `..`, a symlink out of an added directory, a file later replaced by a
//! symlink, siblings and what the scope denies stay out (`E_OUT_OF_SCOPE`, `BadPath`).
//! Every refusal asserts its code and that no handler ran, next to the twin where the
//! legitimate call succeeds. The other grants suites: `runtime.rs`, `page.rs`, `end.rs`.

mod app;
#[path = "../common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use portcullis::{ErrorCode, GrantError, Reach, WindowGrants};
use serde_json::json;

use app::{app, quoted};
use common::page;

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
