//! Drift between the config's allow rules and the app's handlers: what
//! `portcullis check --manifest` and `Portcullis::build` (debug builds) report.
//!
//! Four kinds ([`DriftKind`]), each naming the JSON path of the rule (for a handler no
//! rule allows, the path of the capabilities' list and the handler's name):
//!
//! - **admits**: the rule's schema admits a value the handler's type cannot take (a
//!   JSON type it does not have, a member it requires left optional, a member it
//!   refuses, a number past its bounds, a string outside its values or pattern), so
//!   the call is admitted and then fails with `E_INVALID_ARGS`;
//! - **unconstrained** (a warning): a member of the type the rule says nothing about,
//!   so only serde checks it;
//! - **no rule** (a warning): a handler that no allow rule names, which no page can
//!   reach;
//! - **no handler**: a rule that names a command, stream or event nothing serves.
//!
//! The comparison reads the schemas structurally; it is a review aid that never
//! widens what the gate admits.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::schema::{resolve, types};
use super::{Manifest, Shape};
use crate::config::{Config, Rule};

/// The prefix of Portcullis's own names, served by the core itself.
const RESERVED: &str = "portcullis:";

/// Which drift a [`Finding`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DriftKind {
    /// The rule admits values the handler's type cannot take.
    Admits,
    /// A member of the handler's type the rule leaves unconstrained (a warning).
    Unconstrained,
    /// A handler no allow rule names (a warning).
    NoRule,
    /// An allow rule no handler serves.
    NoHandler,
}

impl DriftKind {
    /// Whether it is only a warning (the config works as written, maybe not as meant):
    /// a member left unconstrained, or a handler no page can reach (deny by default).
    pub fn is_warning(self) -> bool {
        matches!(self, DriftKind::Unconstrained | DriftKind::NoRule)
    }
}

/// One drift between a rule and a handler.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which drift.
    pub kind: DriftKind,
    /// The JSON path of the rule (into its schema where the drift is).
    pub path: String,
    /// What drifted, in a sentence.
    pub message: String,
}

/// Every drift between `config`'s allow rules and `manifest`'s handlers, in config
/// order, then the handlers no rule allows in name order.
pub fn findings(config: &Config, manifest: &Manifest) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut allowed: [BTreeSet<&str>; 3] = Default::default();
    for (c, capability) in config.app.security.capabilities.iter().enumerate() {
        for (i, (list, rules)) in [
            ("commands", &capability.commands),
            ("streams", &capability.streams),
            ("events", &capability.events),
        ]
        .into_iter()
        .enumerate()
        {
            for (r, rule) in rules.allow.iter().enumerate() {
                allowed[i].insert(rule.name.as_str());
                let at = format!("app.security.capabilities[{c}].{list}.allow[{r}]");
                rule_findings(list, rule, &at, manifest, &mut out);
            }
        }
    }
    let served: [(&str, Vec<&String>); 3] = [
        ("command", manifest.commands.keys().collect()),
        ("stream", manifest.streams.keys().collect()),
        ("event", manifest.events.keys().collect()),
    ];
    for (i, (what, names)) in served.iter().enumerate() {
        for name in names.iter().filter(|n| !allowed[i].contains(n.as_str())) {
            out.push(Finding {
                kind: DriftKind::NoRule,
                path: "app.security.capabilities".into(),
                message: format!(
                    "the {what} {name:?} has a handler but no allow rule names it: no page can reach it (allow it in a capability, or drop the handler)"
                ),
            });
        }
    }
    out
}

fn rule_findings(list: &str, rule: &Rule, at: &str, manifest: &Manifest, out: &mut Vec<Finding>) {
    if rule.name.starts_with(RESERVED) {
        return;
    }
    let (what, args) = match list {
        "commands" => (
            "command",
            manifest.commands.get(&rule.name).map(|s| s.args.clone()),
        ),
        "streams" => (
            "stream",
            manifest.streams.get(&rule.name).map(|s| s.args.clone()),
        ),
        _ => (
            "event",
            manifest.events.get(&rule.name).map(|p| match p {
                Some(schema) => Shape::Json(schema.clone()),
                None => Shape::Any,
            }),
        ),
    };
    let Some(args) = args else {
        out.push(Finding {
            kind: DriftKind::NoHandler,
            path: at.to_owned(),
            message: format!(
                "the rule allows the {what} {:?}, which no handler serves: an allowed call gets E_UNKNOWN_COMMAND (register its handler, or drop the rule)",
                rule.name
            ),
        });
        return;
    };
    let Shape::Json(ty) = args else {
        return;
    };
    if rule.bytes {
        out.push(Finding {
            kind: DriftKind::Admits,
            path: format!("{at}.bytes"),
            message: "the rule admits a bytes body, but the handler takes JSON arguments".into(),
        });
    }
    match &rule.schema {
        // Not filled in yet: the policy refuses to compile it, so it admits nothing.
        Some(schema) if crate::config::is_handler_schema(Some(schema)) => {}
        Some(schema) => Compare { manifest, out }.schema(schema, &ty, &format!("{at}.schema")),
        None => out.push(Finding {
            kind: DriftKind::Unconstrained,
            path: at.to_owned(),
            message: "the rule has no schema: the handler's arguments are checked only when they are deserialized (give it a schema, or take the handler's: \"schema\": \"handler\")".into(),
        }),
    }
}

/// The walk of a rule's schema beside the handler type's.
struct Compare<'a> {
    manifest: &'a Manifest,
    out: &'a mut Vec<Finding>,
}

impl Compare<'_> {
    fn admits(&mut self, path: &str, message: String) {
        self.out.push(Finding {
            kind: DriftKind::Admits,
            path: path.to_owned(),
            message,
        });
    }

    fn schema(&mut self, rule: &Value, ty: &Value, path: &str) {
        let defs = &self.manifest.definitions;
        let ty = resolve(ty, defs);
        let rule_types = types(rule, defs);
        let ty_types = types(ty, defs);
        if ty_types.len() == super::schema::JSON_TYPES.len() {
            return;
        }
        if rule_types.len() == super::schema::JSON_TYPES.len() && !is_constrained(rule) {
            self.out.push(Finding {
                kind: DriftKind::Unconstrained,
                path: path.to_owned(),
                message: format!(
                    "the rule says nothing here, where the handler takes {}",
                    ty_types.join(" or ")
                ),
            });
            return;
        }
        let extra: Vec<&str> = rule_types
            .iter()
            .filter(|t| !ty_types.contains(t))
            .copied()
            .collect();
        if !extra.is_empty() {
            self.admits(
                path,
                format!(
                    "the rule admits {} here, where the handler takes only {}",
                    extra.join(" or "),
                    ty_types.join(" or ")
                ),
            );
        }
        // An `Option<T>` is `T` or null: what the rule says of a value is compared with T.
        let ty = resolve(only_non_null(ty).unwrap_or(ty), defs);
        let (Some(r), Some(t)) = (rule.as_object(), ty.as_object()) else {
            return;
        };
        self.bounds(r, t, path);
        if rule_types.contains(&"object") && t.contains_key("properties") {
            self.object(r, t, path);
        }
        if let (Some(ri), Some(ti)) = (r.get("items"), t.get("items")) {
            self.schema(ri, ti, &format!("{path}.items"));
        }
    }

    fn bounds(
        &mut self,
        r: &serde_json::Map<String, Value>,
        t: &serde_json::Map<String, Value>,
        path: &str,
    ) {
        let num = |m: &serde_json::Map<String, Value>, k: &str| m.get(k).and_then(Value::as_f64);
        if let Some(min) = num(t, "minimum")
            && num(r, "minimum").is_none_or(|rmin| rmin < min)
        {
            self.admits(
                path,
                format!("the rule admits numbers below {min}, the handler type's minimum"),
            );
        }
        if let Some(max) = num(t, "maximum")
            && num(r, "maximum").is_none_or(|rmax| rmax > max)
        {
            self.admits(
                path,
                format!("the rule admits numbers above {max}, the handler type's maximum"),
            );
        }
        if let Some(pattern) = t.get("pattern")
            && r.get("pattern") != Some(pattern)
            && !r.contains_key("enum")
            && !r.contains_key("const")
        {
            self.admits(
                path,
                format!("the rule admits strings the handler's pattern {pattern} refuses"),
            );
        }
        if let Some(Value::Array(values)) = t.get("enum") {
            let within = match (r.get("enum"), r.get("const")) {
                (Some(Value::Array(rv)), _) => rv.iter().all(|v| values.contains(v)),
                (_, Some(c)) => values.contains(c),
                _ => false,
            };
            if !within {
                self.admits(
                    path,
                    "the rule admits values outside the handler type's enum".into(),
                );
            }
        }
    }

    fn object(
        &mut self,
        r: &serde_json::Map<String, Value>,
        t: &serde_json::Map<String, Value>,
        path: &str,
    ) {
        let names = |m: &serde_json::Map<String, Value>, k: &str| -> Vec<String> {
            m.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let empty = serde_json::Map::new();
        let rp = r
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let tp = t
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let r_required = names(r, "required");
        let rule_closed = r.get("additionalProperties") == Some(&Value::Bool(false));
        let type_closed = t.get("additionalProperties") == Some(&Value::Bool(false));
        for name in names(t, "required") {
            if !r_required.contains(&name) {
                self.admits(
                    &format!("{path}.required"),
                    format!("the rule admits objects without {name:?}, which the handler requires"),
                );
            }
        }
        for (name, ty) in tp {
            match rp.get(name) {
                Some(rule) => self.schema(rule, ty, &format!("{path}.properties.{name}")),
                None if !rule_closed => self.out.push(Finding {
                    kind: DriftKind::Unconstrained,
                    path: format!("{path}.properties"),
                    message: format!(
                        "the rule leaves {name:?} unconstrained, a member of the handler's type"
                    ),
                }),
                None => {}
            }
        }
        if type_closed {
            for name in rp.keys().filter(|n| !tp.contains_key(*n)) {
                self.admits(
                    &format!("{path}.properties.{name}"),
                    format!("the rule admits {name:?}, which the handler's type refuses (deny_unknown_fields)"),
                );
            }
            if !rule_closed {
                self.admits(
                    path,
                    "the rule admits members the handler's type refuses (it denies unknown fields): add \"additionalProperties\": false".into(),
                );
            }
        }
    }
}

/// The one branch of an `anyOf`/`oneOf` that is not `{"type": "null"}`, if there is
/// exactly one (what schemars writes for `Option<T>` of a named `T`).
fn only_non_null(ty: &Value) -> Option<&Value> {
    let parts = ty
        .get("anyOf")
        .or_else(|| ty.get("oneOf"))
        .and_then(Value::as_array)?;
    let mut rest = parts
        .iter()
        .filter(|p| p.get("type").and_then(Value::as_str) != Some("null"));
    match (rest.next(), rest.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// Whether a schema that admits every type still constrains something (`not`, `allOf`).
fn is_constrained(schema: &Value) -> bool {
    schema.as_object().is_some_and(|s| {
        s.keys()
            .any(|k| !matches!(k.as_str(), "description" | "title" | "$comment"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{MANIFEST_VERSION, Signature};
    use serde_json::json;

    /// The findings of one command rule `rule` against a handler taking `ty`.
    fn drift_of(rule: Value, ty: Value) -> Vec<(DriftKind, String)> {
        let config = Config::from_json(
            &json!({"app": {"security": {
                "pattern": {"use": "isolation", "options": {"dir": "iso"}},
                "capabilities": [{"identifier": "c", "windows": ["main"],
                    "origins": ["app://localhost"], "commands": {"allow": [rule]}}]}}})
            .to_string(),
        )
        .unwrap();
        let mut manifest = Manifest {
            version: MANIFEST_VERSION,
            ..Manifest::default()
        };
        let signature = Signature {
            typed: true,
            args: Shape::Json(ty),
            ..Signature::default()
        };
        manifest.commands.insert("c".into(), signature);
        findings(&config, &manifest)
            .into_iter()
            .map(|f| {
                (
                    f.kind,
                    f.path
                        .replace("app.security.capabilities[0].commands.allow[0]", ""),
                )
            })
            .collect()
    }

    #[test]
    fn a_closed_type_refuses_what_an_open_rule_admits() {
        let ty = json!({"type": "object", "additionalProperties": false,
            "properties": {"a": {"type": "string"}}, "required": ["a"]});
        let rule = json!({"name": "c", "schema": {"type": "object", "required": ["a"],
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}});
        assert_eq!(
            drift_of(rule, ty),
            [
                (DriftKind::Admits, ".schema.properties.b".into()),
                (DriftKind::Admits, ".schema".into())
            ]
        );
    }

    #[test]
    fn enums_patterns_and_bytes_are_compared() {
        let ty = json!({"type": "object", "required": ["mode", "id"],
            "properties": {"mode": {"type": "string", "enum": ["a", "b"]},
                           "id": {"type": "string", "pattern": "^x$"}}});
        let rule = json!({"name": "c", "bytes": true, "schema": {"type": "object",
            "required": ["mode", "id"], "additionalProperties": false,
            "properties": {"mode": {"enum": ["a", "c"]}, "id": {"type": "string"}}}});
        assert_eq!(
            drift_of(rule, ty),
            [
                (DriftKind::Admits, ".bytes".into()),
                (DriftKind::Admits, ".schema.properties.id".into()),
                (DriftKind::Admits, ".schema.properties.mode".into())
            ]
        );
        let exact = json!({"name": "c", "schema": {"type": "object",
            "required": ["mode", "id"], "additionalProperties": false,
            "properties": {"mode": {"enum": ["a"]}, "id": {"type": "string", "pattern": "^x$"}}}});
        let ty = json!({"type": "object", "required": ["mode", "id"],
            "properties": {"mode": {"type": "string", "enum": ["a", "b"]},
                           "id": {"type": "string", "pattern": "^x$"}}});
        assert_eq!(drift_of(exact, ty), []);
    }

    #[test]
    fn a_rule_without_a_schema_or_with_an_empty_member_leaves_the_type_unconstrained() {
        let ty = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
        assert_eq!(
            drift_of(json!("c"), ty.clone()),
            [(DriftKind::Unconstrained, String::new())]
        );
        let rule = json!({"name": "c", "schema": {"type": "object",
            "additionalProperties": false, "properties": {"a": {}}}});
        assert_eq!(
            drift_of(rule, ty),
            [(DriftKind::Unconstrained, ".schema.properties.a".into())]
        );
    }

    #[test]
    fn an_optional_struct_is_compared_member_by_member() {
        let ty = json!({"type": "object", "properties": {"inner": {"anyOf": [
            {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer", "minimum": 0}}},
            {"type": "null"}]}}});
        let rule = json!({"name": "c", "schema": {"type": "object", "additionalProperties": false,
            "properties": {"inner": {"type": ["object", "null"], "required": ["n"],
                "additionalProperties": false, "properties": {"n": {"type": "integer"}}}}}});
        assert_eq!(
            drift_of(rule, ty),
            [(
                DriftKind::Admits,
                ".schema.properties.inner.properties.n".into()
            )]
        );
    }

    #[test]
    fn an_unfilled_handler_schema_is_left_to_the_policy() {
        let ty = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
        assert_eq!(drift_of(json!({"name": "c", "schema": "handler"}), ty), []);
    }
}
