//! [`Grants`]: what the app may ask, checked before any writer changes anything, and
//! what the gate and the page read back.
//!
//! Unit tests only: their `unwrap`s run on fixed inputs written here.

use std::os::unix::fs::symlink;

use super::*;
use crate::error::ErrorCode;

fn grants() -> Grants {
    Grants::new(fixture::caps())
}

#[test]
fn what_the_app_names_must_exist_and_cover_the_window() {
    let g = grants();
    let unknown = GrantError::UnknownCapability("exprt".into());
    assert_eq!(g.grant("main", "exprt"), Err(unknown.clone()));
    assert_eq!(g.revoke("main", "exprt"), Err(unknown));
    let uncovered = GrantError::WindowNotCovered {
        capability: "admin".into(),
        webview: "note-1".into(),
    };
    assert_eq!(g.grant("note-1", "admin"), Err(uncovered));
    // A capability that applies without a grant cannot be granted or revoked...
    let not_runtime = GrantError::NotRuntime("base".into());
    assert_eq!(g.grant("main", "base"), Err(not_runtime.clone()));
    assert_eq!(g.revoke("main", "base"), Err(not_runtime));
    // ...but its scopes take paths.
    let unknown_scope = GrantError::UnknownScope {
        capability: "base".into(),
        scope: "files".into(),
    };
    let path = Path::new("/u/a");
    let refused = g.allow_path("main", "base", "files", path, Reach::File);
    assert_eq!(refused, Err(unknown_scope.clone()));
    assert_eq!(
        g.forget_path("main", "base", "files", path),
        Err(unknown_scope)
    );
    // Nothing was published by any of it.
    assert!(g.load().windows.is_empty());
    g.grant("note-1", "export").unwrap();
    assert_eq!(g.revoke("note-1", "export"), Ok(true));
    assert_eq!(g.revoke("note-1", "export"), Ok(false));
}

#[test]
fn a_path_must_be_absolute_without_dot_dot_resolvable_and_outside_the_deny_globs() {
    let g = grants();
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().canonicalize().unwrap().join("real.txt");
    std::fs::write(&real, b"x").unwrap();
    let dangling = dir.path().join("dangling");
    symlink(dir.path().join("missing"), &dangling).unwrap();
    let link = dir.path().join("link.txt");
    symlink(&real, &link).unwrap();

    let reason =
        |path: &str| match g.allow_path("main", "export", "files", Path::new(path), Reach::File) {
            Err(GrantError::BadPath { scope, reason }) => {
                assert_eq!(scope, "files");
                reason
            }
            other => panic!("{path}: {other:?}"),
        };
    assert_eq!(reason("u/relative"), ABSOLUTE);
    assert!(
        reason("/u/../etc").contains(".."),
        "{}",
        reason("/u/../etc")
    );
    assert!(reason(dangling.to_str().unwrap()).contains("dangling symlink"));
    assert!(reason("/denied/x").contains("deny globs"));
    let refused = g.forget_path("main", "export", "files", Path::new("u/relative"));
    assert!(matches!(refused, Err(GrantError::BadPath { .. })));

    // A link is added as what it resolves to, and forgotten by either name.
    let added = g.allow_path("main", "export", "files", &link, Reach::File);
    assert_eq!(added, Ok(real.clone()));
    assert_eq!(g.of("main").paths[0].path, real);
    assert_eq!(g.forget_path("main", "export", "files", &real), Ok(true));
    assert_eq!(g.forget_path("main", "export", "files", &link), Ok(false));
}

#[test]
fn the_gate_and_the_page_read_what_a_writer_published() {
    let g = grants();
    assert_eq!(g.of("main"), WindowGrants::default());
    g.grant("main", "admin").unwrap();
    g.grant("main", "export").unwrap();
    g.allow_path("main", "export", "files", Path::new("/u/a"), Reach::Tree)
        .unwrap();
    let told = g.of("main");
    assert_eq!(told.capabilities, ["export", "admin"]);
    assert_eq!(told.paths.len(), 1);
    let snapshot = g.load();
    let window = &snapshot.windows["main"];
    assert!(window.held(1).is_some() && window.held(2).is_some());
    assert_eq!(format!("{g:?}"), "Grants { windows: 1, .. }");
}

#[test]
fn a_window_built_again_starts_with_nothing_and_only_open_windows_are_granted() {
    let g = grants();
    g.track_windows();
    assert_eq!(
        g.grant("main", "export"),
        Err(GrantError::WindowNotOpen("main".into()))
    );
    g.window_opened("main");
    g.grant("main", "export").unwrap();
    let token = Arc::clone(g.load().windows["main"].held(1).unwrap());
    // A webview with the same label built again: the old one's grants end.
    g.window_opened("main");
    assert_eq!(g.of("main"), WindowGrants::default());
    assert_eq!(token.check().unwrap_err().0, ErrorCode::GrantRevoked);
    g.grant("main", "export").unwrap();
    assert!(g.forget_window("main"));
    assert_eq!(
        g.grant("main", "export"),
        Err(GrantError::WindowNotOpen("main".into()))
    );
}
