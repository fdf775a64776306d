//! Rules that take their argument schema from their handler's type:
//! `{"name": "notes.add", "schema": "handler"}`.
//!
//! The config names the rule; the app's command manifest holds the schema, so the two
//! cannot drift. [`Config::take_handler_schemas`] puts each handler's schema (its
//! references inlined) in place of the word, before the policy compiles: the embedder
//! does it at build from its router, `portcullis check --manifest` from the manifest
//! (and `--explain` prints the result). A rule left unfilled fails to compile, so it
//! can never admit unchecked arguments.

use serde_json::Value;

use super::paths::check_paths;
use super::{Config, ConfigErrorKind, ConfigErrors};
use crate::manifest::schema::inlined;
use crate::manifest::{Manifest, Shape};

/// The word a rule's `schema` holds to take its handler's.
pub const HANDLER_SCHEMA: &str = "handler";

/// Whether `schema` is the word [`HANDLER_SCHEMA`] (not yet filled in).
pub fn is_handler_schema(schema: Option<&Value>) -> bool {
    schema.and_then(Value::as_str) == Some(HANDLER_SCHEMA)
}

impl Config {
    /// Fills every `"schema": "handler"` with the schema of that handler's arguments in
    /// `manifest` (a stream's metadata, an event's payload), then checks the rule's
    /// `paths` against it. Returns how many it filled, or every rule it could not (no
    /// such handler, or one registered untyped) with its JSON path.
    pub fn take_handler_schemas(&mut self, manifest: &Manifest) -> Result<usize, ConfigErrors> {
        let mut errors = ConfigErrors(Vec::new());
        let mut filled = 0;
        for (c, cap) in self.app.security.capabilities.iter_mut().enumerate() {
            let mut done = Vec::new();
            for (list, rules) in [
                ("commands", &mut cap.commands),
                ("streams", &mut cap.streams),
                ("events", &mut cap.events),
            ] {
                for (r, rule) in rules.allow.iter_mut().enumerate() {
                    if !is_handler_schema(rule.schema.as_ref()) {
                        continue;
                    }
                    let rp = format!("app.security.capabilities[{c}].{list}.allow[{r}]");
                    let args = match list {
                        "commands" => manifest.commands.get(&rule.name).map(|s| &s.args),
                        "streams" => manifest.streams.get(&rule.name).map(|s| &s.args),
                        _ => None,
                    };
                    let schema = match (list, args) {
                        ("events", _) => manifest.events.get(&rule.name).cloned().flatten(),
                        (_, Some(Shape::Json(schema))) => Some(schema.clone()),
                        _ => None,
                    };
                    match schema {
                        Some(schema) => {
                            rule.schema = Some(inlined(&schema, &manifest.definitions));
                            filled += 1;
                            done.push((rule.clone(), rp));
                        }
                        None => errors.push(
                            format!("{rp}.schema"),
                            ConfigErrorKind::Schema,
                            format!(
                                "takes its schema from the handler of {:?}, but no handler of that name takes typed JSON arguments (register it with command_typed and Args<T>, or write the schema)",
                                rule.name
                            ),
                        ),
                    }
                }
            }
            for (rule, rp) in done {
                check_paths(&rule, cap, &rp, &mut errors);
            }
        }
        if errors.0.is_empty() {
            Ok(filled)
        } else {
            Err(errors)
        }
    }
}
