//! The committed config schema (`schema/portcullis.config.schema.json`) is the one the
//! Rust types generate, and every valid config fixture satisfies it.
//!
//! After changing the config types on purpose, regenerate it with
//! `PORTCULLIS_BLESS=1 cargo test --test schema`.

use std::path::Path;

use serde_json::Value;

fn committed_path() -> std::path::PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("schema/portcullis.config.schema.json")
}

#[test]
fn committed_schema_matches_the_rust_types() {
    let generated = portcullis::config::json_schema();
    let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
    if std::env::var_os("PORTCULLIS_BLESS").is_some() {
        std::fs::write(committed_path(), &text).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        committed == text,
        "schema/portcullis.config.schema.json is out of date with the config types: \
         run `PORTCULLIS_BLESS=1 cargo test -p portcullis-tests --test schema` and commit the result"
    );
}

#[test]
fn valid_configs_satisfy_the_schema_and_a_typo_does_not() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(committed_path()).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut files = vec![
        root.join("crates/portcullis-demo/portcullis.json"),
        root.join("tests/e2e/portcullis.json"),
        root.join("tests/e2e/helpers/portcullis.json"),
        root.join("crates/portcullis-wry/examples/embed/portcullis.json"),
    ];
    for entry in std::fs::read_dir(root.join("fixtures/configs/valid")).unwrap() {
        files.push(entry.unwrap().path());
    }
    for file in &files {
        let config: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&config)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
    let typo: Value = serde_json::json!({"app": {"security": {"pattern": {"use": "brownfield"}, "capabilites": []}}});
    assert!(
        !validator.is_valid(&typo),
        "an unknown field must fail the schema too"
    );
}
