//! Drift between allow rules and handlers (`portcullis::manifest::drift`): every kind
//! has a fixture that produces it and a clean twin that does not
//! (`fixtures/drift/<kind>` and `<kind>-clean`: a config, the app's command manifest,
//! and the findings expected, each with the JSON path of its rule).

use std::path::Path;

use portcullis::Config;
use portcullis::manifest::Manifest;
use portcullis::manifest::drift::{DriftKind, findings};
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
