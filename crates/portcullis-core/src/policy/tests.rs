//! The policy's behaviour: deny by default, deny wins, windows and origins, schemas,
//! bytes, events, scopes and path arguments; and the helpers the other rooms' tests share.
//!
//! Unit tests only (`#[cfg(test)]` in `policy/mod.rs`, not compiled into the library):
//! their `unwrap`s run on fixed, valid inputs written here, never on anything a webview
//! sends.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use super::compile::compile_schema;
use super::*;
use crate::config::Config;
use crate::error::{ErrorCode, Rejection};
use crate::origin::Origin;
use crate::scope::ScopeVars;
use crate::wire::request::{Body, JsonText, Kind, Request};

pub(crate) fn policy(caps: Value) -> Policy {
    let text =
        json!({"app": {"security": {"pattern": {"use": "brownfield"}, "capabilities": caps}}});
    let config = Config::from_json(&text.to_string()).unwrap();
    Policy::compile(&config, &ScopeVars::new()).unwrap()
}

pub(crate) fn caller(label: &str, origin: &str) -> Caller {
    Caller {
        webview: label.into(),
        origin: Arc::new(Origin::parse(origin).unwrap()),
        session: None,
        seq: 0,
    }
}

pub(crate) fn cmd(name: &str, args: Value) -> Request {
    Request {
        kind: Kind::Command,
        id: 1,
        name: name.into(),
        body: Body::Json(JsonText::from_value(&args).unwrap()),
    }
}

pub(crate) fn code(p: &Policy, c: Caller, r: Request) -> ErrorCode {
    p.admit_for_tests(c, r).unwrap_err().code
}

pub(crate) fn notes() -> Policy {
    policy(json!([{
        "identifier": "notes", "windows": ["main", "note-*"], "origins": ["app://localhost"],
        "commands": {
            "allow": ["notes.list", {"name": "notes.add", "schema": {
                "type": "object", "required": ["title"], "additionalProperties": false,
                "properties": {"title": {"type": "string", "maxLength": 10}}}},
                "notes.purge", "both.sides"],
            "deny": ["notes.purge", "admin.*"]
        },
        "events": {"allow": ["note-opened"]}
    }, {
        "identifier": "other", "windows": ["main"], "origins": ["app://localhost"],
        "commands": {"deny": ["both.sides"]}
    }]))
}

#[test]
fn allowed_command_is_admitted_with_its_capability() {
    let a = notes()
        .admit_for_tests(
            caller("main", "app://localhost"),
            cmd("notes.list", json!({})),
        )
        .unwrap();
    assert_eq!(a.capability(), "notes");
    assert_eq!(a.request().name, "notes.list");
}

#[test]
fn nothing_is_allowed_by_default() {
    assert_eq!(
        code(
            &policy(json!([])),
            caller("main", "app://localhost"),
            cmd("notes.list", json!({}))
        ),
        ErrorCode::NotAllowed
    );
    assert_eq!(
        code(
            &notes(),
            caller("main", "app://localhost"),
            cmd("notes.delete", json!({}))
        ),
        ErrorCode::NotAllowed
    );
}

#[test]
fn deny_wins_over_allow_in_the_same_and_in_another_capability() {
    let p = notes();
    assert_eq!(
        code(
            &p,
            caller("main", "app://localhost"),
            cmd("notes.purge", json!({}))
        ),
        ErrorCode::Denied
    );
    assert_eq!(
        code(
            &p,
            caller("main", "app://localhost"),
            cmd("admin.reset", json!({}))
        ),
        ErrorCode::Denied
    );
    assert_eq!(
        code(
            &p,
            caller("main", "app://localhost"),
            cmd("both.sides", json!({}))
        ),
        ErrorCode::Denied
    );
    // The second capability does not apply to note-1, so its deny does not either.
    assert!(
        p.admit_for_tests(
            caller("note-1", "app://localhost"),
            cmd("both.sides", json!({}))
        )
        .is_ok()
    );
}

#[test]
fn name_deny_globs_cross_slashes() {
    let p = policy(json!([{
        "identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
        "commands": {"allow": ["fs/read", "fs.read", "ok"], "deny": ["fs*"]}
    }]));
    for name in ["fs/read", "fs.read"] {
        assert_eq!(
            code(&p, caller("main", "app://localhost"), cmd(name, json!({}))),
            ErrorCode::Denied,
            "{name}"
        );
    }
    assert!(
        p.admit_for_tests(caller("main", "app://localhost"), cmd("ok", json!({})))
            .is_ok()
    );
}

#[test]
fn schema_fast_path_agrees_with_full_validation() {
    // Admission uses `is_valid` and only asks `validate` to explain a failure; the two
    // must agree, including for the keywords whose evaluation differs between them
    // ($ref, not, unevaluated*, conditionals, formats).
    let schemas = [
        json!({"$defs": {"n": {"type": "integer", "minimum": 1}}, "type": "object",
               "properties": {"a": {"$ref": "#/$defs/n"}}, "required": ["a"]}),
        json!({"not": {"$ref": "#/$defs/s"}, "$defs": {"s": {"type": "string"}}}),
        json!({"$defs": {"t": {"anyOf": [{"type": "null"}, {"type": "array", "items": {"$ref": "#/$defs/t"}}]}},
               "$ref": "#/$defs/t"}),
        json!({"type": "object", "properties": {"a": true}, "unevaluatedProperties": false,
               "allOf": [{"properties": {"b": true}}]}),
        json!({"if": {"properties": {"k": {"const": "x"}}}, "then": {"required": ["x"]}, "else": {"required": ["y"]}}),
        json!({"type": "string", "format": "email"}),
        json!({"oneOf": [{"type": "integer"}, {"type": "number", "multipleOf": 0.5}]}),
    ];
    let instances = [
        json!(null),
        json!(0),
        json!(1),
        json!(1.5),
        json!("a"),
        json!("a@b.example"),
        json!([]),
        json!([null, [null]]),
        json!([1]),
        json!({}),
        json!({"a": 0}),
        json!({"a": 2}),
        json!({"a": 1, "b": 2}),
        json!({"a": 1, "c": 2}),
        json!({"k": "x"}),
        json!({"k": "x", "x": 1}),
        json!({"k": "z", "y": 1}),
    ];
    let mut seen = (0, 0);
    for schema in &schemas {
        let v = compile_schema(schema).unwrap();
        for instance in &instances {
            let text = instance.to_string();
            let tree = crate::json::tree::parse_tree(&text, 8).unwrap();
            let fast = v.is_valid(&tree);
            assert_eq!(fast, v.validate(&tree).is_ok(), "{schema} on {instance}");
            if fast { seen.0 += 1 } else { seen.1 += 1 }
        }
    }
    // Both outcomes occur, so the comparison is not vacuous.
    assert!(seen.0 > 10 && seen.1 > 10, "{seen:?}");
}

#[test]
fn windows_match_by_glob_and_origins_exactly() {
    let p = notes();
    assert!(
        p.admit_for_tests(
            caller("note-7", "app://localhost"),
            cmd("notes.list", json!({}))
        )
        .is_ok()
    );
    for (label, origin) in [
        ("other", "app://localhost"),
        ("note-", "app://localhost.evil.com"),
        ("main", "http://app.localhost"),
        ("main", "app://localhost:8080"),
        ("main", "https://localhost"),
    ] {
        assert_eq!(
            code(&p, caller(label, origin), cmd("notes.list", json!({}))),
            ErrorCode::NotAllowed,
            "{label} {origin}"
        );
    }
}

#[test]
fn schema_is_enforced_without_echoing_values() {
    let p = notes();
    let ok = p.admit_for_tests(
        caller("main", "app://localhost"),
        cmd("notes.add", json!({"title": "hi"})),
    );
    assert!(ok.is_ok());
    for bad in [
        json!({}),
        json!({"title": 5}),
        json!({"title": "x", "extra": 1}),
        json!({"title": "secret-but-too-long"}),
        json!([]),
    ] {
        let e = p
            .admit_for_tests(
                caller("main", "app://localhost"),
                cmd("notes.add", bad.clone()),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgs, "{bad}");
        assert!(!e.message.contains("secret"), "{}", e.message);
    }
}

#[test]
fn bytes_need_an_explicit_rule() {
    let p = notes();
    let req = Request::decode(
        Request::encode_bytes(Kind::Command, 1, "notes.list", b"x"),
        8,
    )
    .unwrap();
    assert_eq!(
        code(&p, caller("main", "app://localhost"), req),
        ErrorCode::InvalidArgs
    );
}

#[test]
fn events_have_their_own_list() {
    let p = notes();
    let ev = |name: &str| Request {
        kind: Kind::Event,
        ..cmd(name, json!(null))
    };
    assert!(
        p.admit_for_tests(caller("main", "app://localhost"), ev("note-opened"))
            .is_ok()
    );
    assert_eq!(
        code(&p, caller("main", "app://localhost"), ev("notes.list")),
        ErrorCode::NotAllowed
    );
    assert_eq!(
        code(
            &p,
            caller("main", "app://localhost"),
            cmd("note-opened", json!(null))
        ),
        ErrorCode::NotAllowed
    );
}

/// `fs.read`, whose `/path` argument is a required string checked against `scope`.
fn fs_read(scope: &str) -> Value {
    json!({"name": "fs.read", "paths": {"/path": scope}, "schema": {
        "type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}})
}

#[test]
fn scopes_come_from_the_capability_that_allows() {
    let p = policy(json!([{
        "identifier": "reader", "windows": ["reader"], "origins": ["app://localhost"],
        "commands": {"allow": [fs_read("docs")]},
        "scopes": {"docs": {"allow": ["/srv/docs/**"]}}
    }, {
        "identifier": "admin", "windows": ["admin"], "origins": ["app://localhost"],
        "commands": {"allow": [fs_read("all")]},
        "scopes": {"all": {"allow": ["/**"]}}
    }]));
    let read = |p: &str| cmd("fs.read", json!({"path": p}));
    let a = p
        .admit_for_tests(caller("reader", "app://localhost"), read("/srv/docs/a.md"))
        .unwrap();
    assert_eq!(a.scoped_path("/path"), Some(Path::new("/srv/docs/a.md")));
    assert_eq!(
        code(&p, caller("reader", "app://localhost"), read("/etc/passwd")),
        ErrorCode::OutOfScope
    );
    assert_eq!(
        code(
            &p,
            caller("reader", "app://localhost"),
            read("/srv/docs/../../etc/passwd")
        ),
        ErrorCode::OutOfScope
    );
    // The schema declares `/path` a required string, so it refuses these first.
    for args in [json!({"path": 1}), json!({}), json!({"pth": "/etc/passwd"})] {
        assert_eq!(
            code(
                &p,
                caller("reader", "app://localhost"),
                cmd("fs.read", args.clone())
            ),
            ErrorCode::InvalidArgs,
            "{args}"
        );
    }
    assert!(
        p.admit_for_tests(caller("admin", "app://localhost"), read("/etc/passwd"))
            .is_ok()
    );
}

#[test]
fn nested_and_escaped_path_arguments_are_checked() {
    let p = policy(json!([{
        "identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
        "commands": {"allow": [{"name": "fs.copy", "paths": {"/from/path": "docs", "/to/a~1b": "docs"},
            "schema": {"type": "object", "required": ["from", "to"], "properties": {
                "from": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}},
                "to": {"type": "object", "required": ["a/b"], "properties": {"a/b": {"type": "string"}}}}}}]},
        "scopes": {"docs": {"allow": ["/srv/docs/**"]}}
    }]));
    let copy = |from: &str, to: &str| {
        cmd(
            "fs.copy",
            json!({"from": {"path": from}, "to": {"a/b": to}}),
        )
    };
    let a = p
        .admit_for_tests(
            caller("main", "app://localhost"),
            copy("/srv/docs/a.md", "/srv/docs/b.md"),
        )
        .unwrap();
    assert_eq!(
        a.scoped_path("/from/path"),
        Some(Path::new("/srv/docs/a.md"))
    );
    assert_eq!(a.scoped_path("/to/a~1b"), Some(Path::new("/srv/docs/b.md")));
    for (from, to) in [
        ("/srv/docs/../../etc/passwd", "/srv/docs/b.md"),
        ("/srv/docs/a.md", "/etc/passwd"),
    ] {
        assert_eq!(
            code(&p, caller("main", "app://localhost"), copy(from, to)),
            ErrorCode::OutOfScope,
            "{from} {to}"
        );
    }
}

/// A policy allowing `rule` to window "main", with scope "docs" = `/srv/docs/**`,
/// compiled without `Config::check`. A loaded config cannot hold a rule whose schema
/// lets a path argument be missing or not a string: the check refuses it, and
/// `Policy::compile` runs the check (asserted here). So this is the only way to reach
/// the run-time refusals that back the check.
fn unchecked(rule: Value) -> Policy {
    let config: Config = serde_json::from_value(json!({"app": {"security": {
        "pattern": {"use": "brownfield"},
        "capabilities": [{"identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
            "commands": {"allow": [rule]}, "scopes": {"docs": {"allow": ["/srv/docs/**"]}}}]
    }}}))
    .unwrap();
    assert!(
        Policy::compile(&config, &ScopeVars::new()).is_err(),
        "Config::check must refuse this rule"
    );
    Policy::compile_checked(&config, &ScopeVars::new()).unwrap()
}

fn refusal(p: &Policy, args: Value) -> Rejection {
    p.admit_for_tests(caller("main", "app://localhost"), cmd("fs.read", args))
        .unwrap_err()
}

#[test]
fn a_missing_path_argument_is_out_of_scope() {
    // `/path` optional; and the reported mistake: a pointer that misspells the property.
    let optional = unchecked(json!({"name": "fs.read", "paths": {"/path": "docs"},
        "schema": {"type": "object", "properties": {"path": {"type": "string"}}}}));
    let misspelt = unchecked(json!({"name": "fs.read", "paths": {"/pth": "docs"},
        "schema": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}}));
    for (p, pointer, args) in [
        (&optional, "/path", json!({})),
        (
            &optional,
            "/path",
            json!({"pth": "/srv/docs/../../etc/passwd"}),
        ),
        (&misspelt, "/pth", json!({"path": "/etc/passwd"})),
        (
            &misspelt,
            "/pth",
            json!({"path": "/srv/docs/../../etc/passwd"}),
        ),
    ] {
        let e = refusal(p, args.clone());
        assert_eq!(e.code, ErrorCode::OutOfScope, "{args}");
        assert_eq!(
            e.message,
            format!(
                "argument {pointer:?} is missing: send the path there, it is checked against a scope"
            )
        );
    }
    // Twin: the same policy admits the argument when it is there and in scope.
    admits_a_doc_in_scope(&optional);
}

/// The twin of the path-argument refusals: a string path inside the scope is admitted,
/// checked and handed to the handler.
fn admits_a_doc_in_scope(p: &Policy) {
    let a = p
        .admit_for_tests(
            caller("main", "app://localhost"),
            cmd("fs.read", json!({"path": "/srv/docs/a.md"})),
        )
        .unwrap();
    assert_eq!(a.scoped_path("/path"), Some(Path::new("/srv/docs/a.md")));
}

#[test]
fn a_path_argument_that_is_not_a_string_is_out_of_scope() {
    let p = unchecked(json!({"name": "fs.read", "paths": {"/path": "docs"},
        "schema": {"type": "object", "required": ["path"]}}));
    for args in [
        json!({"path": 1}),
        json!({"path": null}),
        json!({"path": ["/srv/docs/a.md"]}),
        json!({"path": {"p": "/srv/docs/a.md"}}),
    ] {
        let e = refusal(&p, args.clone());
        assert_eq!(e.code, ErrorCode::OutOfScope, "{args}");
        assert_eq!(
            e.message,
            "argument \"/path\" is not a string: send the path as a string"
        );
    }
    // Twin.
    admits_a_doc_in_scope(&p);
}

#[test]
fn binary_arguments_to_a_rule_with_paths_are_out_of_scope() {
    let p = unchecked(json!({"name": "fs.read", "bytes": true, "paths": {"/path": "docs"}}));
    let req = Request::decode(
        Request::encode_bytes(Kind::Command, 1, "fs.read", b"/etc/passwd"),
        8,
    )
    .unwrap();
    assert_eq!(
        code(&p, caller("main", "app://localhost"), req),
        ErrorCode::OutOfScope
    );
    // Twin: JSON arguments to the same rule are still checked and admitted in scope.
    assert!(
        p.admit_for_tests(
            caller("main", "app://localhost"),
            cmd("fs.read", json!({"path": "/srv/docs/a.md"}))
        )
        .is_ok()
    );
}
