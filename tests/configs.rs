//! Every config in `fixtures/configs/valid/` loads; every one in `invalid/` fails with
//! exactly the errors `invalid/expected.json` lists (JSON path, and a phrase of the
//! message).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use portcullis::{Config, ConfigError, Gate, ScopeVars};
use serde_json::Value;

fn dir(sub: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("fixtures/configs")
        .join(sub)
}

fn vars() -> ScopeVars {
    ScopeVars::new().with("EXPORTS", std::env::temp_dir())
}

fn load(path: &Path) -> Result<Gate, Vec<ConfigError>> {
    let text = std::fs::read_to_string(path).unwrap();
    let config = Config::from_json(&text).map_err(|e| e.0)?;
    Gate::new(&config, &vars()).map_err(|e| e.0)
}

fn json_files(sub: &str) -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(dir(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("expected.json"))
        .map(|p| (p.file_name().unwrap().to_str().unwrap().to_owned(), p))
        .collect()
}

#[test]
fn valid_configs_load() {
    let files = json_files("valid");
    assert!(files.len() >= 4);
    for (name, path) in files {
        if let Err(errors) = load(&path) {
            panic!("{name}: {errors:#?}");
        }
    }
}

#[test]
fn invalid_configs_fail_with_the_expected_errors() {
    let expected: BTreeMap<String, Vec<Value>> =
        serde_json::from_str(&std::fs::read_to_string(dir("invalid/expected.json")).unwrap())
            .unwrap();
    let files = json_files("invalid");
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "every invalid config needs an entry in expected.json and vice versa"
    );
    for (name, path) in files {
        let errors = match load(&path) {
            Ok(_) => panic!("{name} loaded but must not"),
            Err(e) => e,
        };
        let want = &expected[&name];
        let got: Vec<_> = errors
            .iter()
            .map(|e| format!("{} | {}", e.path, e.message))
            .collect();
        assert_eq!(errors.len(), want.len(), "{name}: {got:#?}");
        for (e, w) in errors.iter().zip(want) {
            assert_eq!(e.path, w["path"].as_str().unwrap(), "{name}: {got:#?}");
            let phrase = w["contains"].as_str().unwrap();
            assert!(
                e.message.contains(phrase),
                "{name}: {:?} lacks {phrase:?}",
                e.message
            );
        }
    }
}
