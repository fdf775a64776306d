//! Fail closed at start-up: with isolation on, `Portcullis::build` refuses to start when
//! the app's hook is missing, misplaced or cannot run, and starts with the built-in hook
//! only when the config names it. Each app is a fixture in `fixtures/startup/`.
//!
//! No webview is needed: `build` is where the decision is made.

use std::path::{Path, PathBuf};

use portcullis_wry::hook::HookError;
use portcullis_wry::{Error, Portcullis};

fn app(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/startup")
        .join(name)
}

fn build(name: &str) -> Result<Portcullis, Error> {
    let dir = app(name);
    Portcullis::from_config_file(&dir.join("portcullis.json"))?
        .frontend_dir(&dir)
        .build()
}

fn hook_error(name: &str) -> (HookError, String) {
    match build(name) {
        Ok(_) => panic!("{name} started"),
        Err(Error::Hook(e)) => {
            let text = e.to_string();
            (e, text)
        }
        Err(other) => panic!("{name}: not a hook error: {other}"),
    }
}

#[test]
fn the_twin_with_its_hook_starts() {
    build("good").unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_typo_in_the_isolation_dir_stops_start_up() {
    let (e, text) = hook_error("typo-dir");
    assert!(matches!(e, HookError::NoDirectory(p) if p.ends_with("isolatoin")));
    assert!(
        text.contains("isolatoin") && text.contains("does not exist"),
        "{text}"
    );
}

#[test]
fn a_directory_without_hook_js_stops_start_up() {
    let (e, text) = hook_error("no-hook");
    assert!(matches!(e, HookError::Missing(p) if p.ends_with("isolation/hook.js")));
    assert!(
        text.contains("builtin:names-only"),
        "says how to ask for the built-in hook: {text}"
    );
}

#[test]
fn a_hook_that_does_not_parse_stops_start_up_with_its_line() {
    let (e, text) = hook_error("bad-hook");
    assert!(matches!(e, HookError::Syntax { line: 2, .. }), "{text}");
    assert!(text.contains("hook.js:2:"), "{text}");
}

#[test]
fn a_hook_file_that_installs_no_hook_stops_start_up() {
    let (e, _) = hook_error("no-export");
    assert!(matches!(e, HookError::NoHook(_)));
}

#[test]
fn the_built_in_hook_runs_only_when_named() {
    build("builtin").unwrap_or_else(|e| panic!("{e}"));
    let (e, text) = hook_error("unknown-builtin");
    assert!(matches!(e, HookError::UnknownBuiltin(ref v) if v == "builtin:default"));
    assert!(text.contains("builtin:names-only"), "{text}");
}

#[test]
fn a_paths_pointer_that_names_no_argument_stops_start_up() {
    // `/pth` for a schema whose property is `path`: the scope would never be checked.
    let dir = app("dangling-paths");
    let errors = match Portcullis::from_config_file(&dir.join("portcullis.json")) {
        Err(Error::Config(errors)) => errors.0,
        Err(other) => panic!("not a config error: {other}"),
        Ok(_) => panic!("a config with a dangling paths pointer loaded"),
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].path,
        "app.security.capabilities[0].commands.allow[0].paths./pth"
    );
    assert!(
        errors[0].message.contains("\"path\""),
        "{}",
        errors[0].message
    );
}
