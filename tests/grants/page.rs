//! The page learns its grants (`portcullis:grants`), without a webview
//! (`fixtures/configs/valid/grants.json`): only its own window's, only with an allow
//! entry like any command; `portcullis:` names are the core's, never the app's, as
//! commands or events. The other grants suites: `runtime.rs`, `paths.rs`, `end.rs`.

mod app;
#[path = "../common/mod.rs"]
mod common;

use portcullis::envelope::Encoding;
use portcullis::grants::GrantedPath;
use portcullis::{ErrorCode, Reach, Router};
use serde_json::{Value, json};

use app::app;
use common::{facts, origin, page};

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
