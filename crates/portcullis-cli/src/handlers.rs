//! `portcullis check --manifest` and `--explain`: the config beside the app's command
//! manifest (written by the app's bindings step, `portcullis_wry::bindings`).
//!
//! With the manifest, rules that take their schema from their handler
//! (`"schema": "handler"`) get it before the policy compiles, and every drift between
//! the rules and the handlers (`portcullis_core::manifest::drift`) is a finding at the
//! rule's JSON path. `--explain` prints the schema every rule checks, as compiled.

use std::path::Path;

use portcullis_core::Config;
use portcullis_core::manifest::Manifest;
use portcullis_core::manifest::drift::{self, DriftKind};
use serde::Serialize;
use serde_json::Value;

use crate::findings::{Finding, Severity};

/// Reads the manifest at `path`, or the finding that says why it cannot.
pub fn load(path: &Path) -> Result<Manifest, Finding> {
    std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| Manifest::from_json(&text))
        .map_err(|message| Finding {
            severity: Severity::Error,
            path: path.display().to_string(),
            message,
            hint: "pass the command manifest the app's bindings step writes (portcullis_wry::bindings, e.g. portcullis.manifest.json)".into(),
        })
}

/// The drift between `config`'s rules and `manifest`'s handlers, as findings: a rule
/// that admits what its handler refuses, or names no handler, is an error; a member
/// left unconstrained, or a handler no rule allows, a warning.
pub fn drift(config: &Config, manifest: &Manifest) -> Vec<Finding> {
    drift::findings(config, manifest)
        .into_iter()
        .map(|f| {
            let severity = if f.kind.is_warning() {
                Severity::Warning
            } else {
                Severity::Error
            };
            let hint = match f.kind {
                DriftKind::Admits => {
                    "narrow the rule's schema to the handler's type, or take it: \"schema\": \"handler\""
                }
                DriftKind::Unconstrained => {
                    "constrain the member in the rule's schema, or take the handler's: \"schema\": \"handler\""
                }
                DriftKind::NoRule => "allow it in a capability, or drop the handler",
                _ => "register its handler, or drop the rule",
            };
            Finding {
                severity,
                path: f.path,
                message: f.message,
                hint: hint.into(),
            }
        })
        .collect()
}

/// One allow rule and the schema it checks.
#[derive(Debug, Serialize)]
pub struct Explained {
    /// The rule's JSON path.
    pub path: String,
    /// The name it allows.
    pub name: String,
    /// The schema it checks (the handler's, inlined, for `"schema": "handler"`); none:
    /// any JSON.
    pub schema: Option<Value>,
    /// Whether it also admits a bytes body.
    pub bytes: bool,
}

/// Every allow rule of `config`, in order, with its effective schema.
pub fn explain(config: &Config) -> Vec<Explained> {
    let mut out = Vec::new();
    for (c, cap) in config.app.security.capabilities.iter().enumerate() {
        for (list, rules) in [
            ("commands", &cap.commands),
            ("streams", &cap.streams),
            ("events", &cap.events),
        ] {
            for (r, rule) in rules.allow.iter().enumerate() {
                out.push(Explained {
                    path: format!("app.security.capabilities[{c}].{list}.allow[{r}]"),
                    name: rule.name.clone(),
                    schema: rule.schema.clone(),
                    bytes: rule.bytes,
                });
            }
        }
    }
    out
}

/// Prints [`explain`]'s rules, one block each.
pub fn print_explained(rules: &[Explained]) {
    println!("\neffective schemas:");
    for rule in rules {
        let what = match (&rule.schema, rule.bytes) {
            (None, false) => "any JSON".to_owned(),
            (None, true) => "any JSON, or bytes".to_owned(),
            (Some(schema), bytes) => {
                let text = serde_json::to_string_pretty(schema).unwrap_or_default();
                let text = text.replace('\n', "\n    ");
                if bytes {
                    format!("{text}\n    or bytes")
                } else {
                    text
                }
            }
        };
        println!("  {} ({:?}):\n    {what}", rule.path, rule.name);
    }
}
