//! Drift between allow rules and handlers (`portcullis::manifest::drift`): every kind
//! has a fixture that produces it and a clean twin that does not
//! (`fixtures/drift/<kind>` and `<kind>-clean`: a config, the app's command manifest,
//! and the findings expected, each with the JSON path of its rule).

mod common;

use std::path::Path;

use common::{admit_sealed, page};
use portcullis::manifest::Manifest;
use portcullis::manifest::drift::{DriftKind, findings};
use portcullis::request::Kind;
use portcullis::{Args, Config, ErrorCode, Gate, Router, ScopeVars};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, Debug, PartialEq)]
struct Expected {
    kind: String,
    path: String,
}

fn case(name: &str) -> (Vec<Expected>, Vec<Expected>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/drift")
        .join(name);
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
    let config = Config::from_json(&read("portcullis.json")).unwrap();
    let manifest = Manifest::from_json(&read("portcullis.manifest.json")).unwrap();
    let expected: Vec<Expected> = serde_json::from_str(&read("findings.json")).unwrap();
    let found = findings(&config, &manifest)
        .into_iter()
        .map(|f| {
            assert!(!f.message.is_empty());
            Expected {
                kind: serde_json::to_value(f.kind)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
                path: f.path,
            }
        })
        .collect();
    (expected, found)
}

#[test]
fn each_kind_of_drift_is_found_and_its_clean_twin_has_none() {
    for kind in ["admits", "unconstrained", "no-rule", "no-handler"] {
        let (expected, found) = case(kind);
        assert!(!expected.is_empty(), "{kind}: the fixture expects nothing");
        assert!(
            expected.iter().all(|e| e.kind == kind),
            "{kind}: {expected:?}"
        );
        assert_eq!(found, expected, "{kind}");
        let (expected, found) = case(&format!("{kind}-clean"));
        assert!(expected.is_empty());
        assert_eq!(found, expected, "{kind}-clean");
    }
}

#[test]
fn an_unconstrained_member_and_an_unreachable_handler_are_warnings() {
    assert!(DriftKind::Unconstrained.is_warning());
    assert!(DriftKind::NoRule.is_warning());
    for kind in [DriftKind::Admits, DriftKind::NoHandler] {
        assert!(!kind.is_warning());
    }
}

/// What `notes.add` takes in the test below: the gate checks the same.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AddNote {
    title: String,
    stars: u8,
}

/// A rule that takes its handler's schema (`fixtures/drift/handler-schema`'s config,
/// with the router's own manifest) is enforced by the gate: what the type refuses is
/// refused before any handler, with E_INVALID_ARGS.
#[test]
fn the_gate_checks_the_handlers_own_schema_when_a_rule_takes_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/drift/handler-schema");
    let text = std::fs::read_to_string(dir.join("portcullis.json")).unwrap();
    let mut config = Config::from_json(&text).unwrap();
    let router = Router::new().command_typed("notes.add", |Args(n): Args<AddNote>| {
        n.title.len() + usize::from(n.stars)
    });
    assert!(
        Gate::new(&config, &ScopeVars::new()).is_err(),
        "compiled unfilled"
    );
    config
        .take_handler_schemas(&router.manifest().unwrap())
        .unwrap();
    let gate = Gate::new(&config, &ScopeVars::new()).unwrap();
    let mut sealer = page(&gate, "main");
    let call = |sealer: &mut portcullis::Sealer, id: u64, args: serde_json::Value| {
        admit_sealed(
            &gate,
            sealer,
            "main",
            (Kind::Command, id, "notes.add"),
            &args,
        )
        .map(|_| ())
    };
    assert_eq!(
        call(
            &mut sealer,
            1,
            serde_json::json!({"title": "a", "stars": 5})
        ),
        Ok(())
    );
    for (id, bad) in [
        (2, serde_json::json!({"title": "a"})),
        (3, serde_json::json!({"title": "a", "stars": 300})),
        (4, serde_json::json!({"title": "a", "stars": -1})),
        (
            5,
            serde_json::json!({"title": "a", "stars": 1, "admin": true}),
        ),
        (6, serde_json::json!({"title": 7, "stars": 1})),
    ] {
        assert_eq!(
            call(&mut sealer, id, bad.clone()),
            Err(ErrorCode::InvalidArgs),
            "{bad}"
        );
    }
}
