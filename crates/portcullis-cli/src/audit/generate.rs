//! Attacks generated from the app's own config: for every allowed command with a schema,
//! arguments that violate it; for every path scope, escapes; for every denied name and
//! every command allowed only to other windows, direct calls; and, for commands taking
//! JSON, the JS values JSON would change. Every generated call must be refused, so any
//! of them admitted is a breach (the child records admitted calls).
//!
//! Each group is one row (one attack file, `audit/generated.js`, with its cases as data:
//! `cases.json` beside it, never spliced into code). Cases are a pure function of the
//! config, the scope variables and the window, so parent and child agree on them.

use std::path::PathBuf;

use portcullis_core::Config;
use portcullis_core::config::Rule;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// One call a generated attack makes.
#[derive(Clone, Debug, Serialize)]
pub struct Case {
    /// What the variant is, for the notes.
    pub what: String,
    /// `command` or `event`.
    pub kind: &'static str,
    /// The name called.
    pub name: String,
    /// The arguments; `{"$js": NAME}` stands for a JS value JSON cannot hold (the attack
    /// builds it: `boxed-string`, `infinity`, `undefined-member`, `date`, `map`, `hole`,
    /// `big-integer`).
    pub args: Value,
}

/// A group of cases: one row of the report.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The row's name (`gen:notes.add`, `gen:refused-names`).
    pub name: String,
    /// Its calls.
    pub cases: Vec<Case>,
}

/// The JS value classes JSON changes, as markers the attack revives.
const JS_VALUES: [&str; 7] = [
    "boxed-string",
    "infinity",
    "undefined-member",
    "date",
    "map",
    "hole",
    "big-integer",
];

/// Every generated group for `config`, as seen from webview `window`.
pub fn generate(config: &Config, vars: &[(String, PathBuf)], window: &str) -> Vec<Generated> {
    let mut groups = Vec::new();
    let mut refused_names = Vec::new();
    for cap in &config.app.security.capabilities {
        let applies = cap.windows.iter().any(|w| glob_matches(w, window));
        for rule in &cap.commands.allow {
            if !applies {
                refused_names.push((
                    rule.name.clone(),
                    format!("allowed only to windows {:?}", cap.windows),
                ));
                continue;
            }
            let mut cases = Vec::new();
            if let Some(schema) = &rule.schema {
                cases.extend(schema_cases(rule, schema));
            }
            for (pointer, scope) in &rule.paths {
                if let (Some(schema), Some(scope)) = (&rule.schema, cap.scopes.get(scope)) {
                    cases.extend(scope_cases(
                        rule,
                        schema,
                        pointer,
                        &scope.allow,
                        &scope.deny,
                        vars,
                    ));
                }
            }
            if !rule.bytes && rule.schema.is_some() {
                cases.extend(js_value_cases(rule));
            }
            if !cases.is_empty() {
                groups.push(Generated {
                    name: format!("gen:{}", rule.name),
                    cases,
                });
            }
        }
        for denied in &cap.commands.deny {
            refused_names.push((concrete(denied), format!("denied by {:?}", denied)));
        }
        for denied in &cap.events.deny {
            refused_names.push((concrete(denied), format!("denied event {:?}", denied)));
        }
    }
    // Names no capability lists at all, and the refused ones above, called directly.
    refused_names.push((
        "portcullis.audit.unlisted".into(),
        "in no capability".into(),
    ));
    let allowed_here: Vec<&Rule> = config
        .app
        .security
        .capabilities
        .iter()
        .filter(|c| c.windows.iter().any(|w| glob_matches(w, window)))
        .flat_map(|c| c.commands.allow.iter())
        .collect();
    let direct: Vec<Case> = refused_names
        .into_iter()
        .filter(|(name, _)| !allowed_here.iter().any(|r| &r.name == name))
        .map(|(name, why)| Case {
            what: format!("{name}: {why}"),
            kind: "command",
            name,
            args: json!({}),
        })
        .collect();
    groups.push(Generated {
        name: "gen:refused-names".into(),
        cases: direct,
    });
    groups
}

/// A concrete name a deny glob covers (`admin.*` → `admin.audit`).
fn concrete(glob: &str) -> String {
    glob.replace("**", "audit")
        .replace('*', "audit")
        .replace('?', "x")
}

fn glob_matches(pattern: &str, text: &str) -> bool {
    globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .is_ok_and(|g| g.compile_matcher().is_match(text))
}

/// A value the (sub)schema accepts, built from its `type`, bounds, `enum` and `const`;
/// `None` when it cannot tell (then no variant is derived from it).
fn valid(schema: &Value, depth: usize) -> Option<Value> {
    if depth > 8 {
        return None;
    }
    if let Some(c) = schema.get("const") {
        return Some(c.clone());
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return Some(first.clone());
    }
    if schema.get("pattern").is_some() || schema.get("format").is_some() {
        return None;
    }
    let n = |key: &str| schema.get(key).and_then(Value::as_f64);
    match schema.get("type").and_then(Value::as_str)? {
        "string" => Some(json!(
            "a".repeat(n("minLength").unwrap_or(1.0).max(1.0) as usize)
        )),
        "integer" => Some(json!(n("minimum").unwrap_or(1.0).ceil() as i64)),
        "number" => Some(json!(n("minimum").unwrap_or(1.0))),
        "boolean" => Some(json!(false)),
        "null" => Some(Value::Null),
        "array" => Some(json!([])),
        "object" => {
            let mut out = Map::new();
            let props = schema.get("properties").and_then(Value::as_object);
            for key in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let key = key.as_str()?;
                let sub = props.and_then(|p| p.get(key)).cloned().unwrap_or(json!({}));
                out.insert(key.to_owned(), valid(&sub, depth + 1)?);
            }
            Some(Value::Object(out))
        }
        _ => None,
    }
}

/// A value of another JSON type than `ty`.
fn other_type(ty: &str) -> Value {
    match ty {
        "string" => json!(12345),
        "integer" | "number" => json!("12345"),
        "boolean" => json!("false"),
        "array" => json!({"0": "x"}),
        "object" => json!(["x"]),
        _ => json!("x"),
    }
}

fn case(rule: &Rule, what: impl Into<String>, args: Value) -> Case {
    Case {
        what: what.into(),
        kind: "command",
        name: rule.name.clone(),
        args,
    }
}

fn schema_cases(rule: &Rule, schema: &Value) -> Vec<Case> {
    let mut out = Vec::new();
    let top = schema.get("type").and_then(Value::as_str);
    if top == Some("object") {
        for (what, args) in [
            ("arguments that are null", Value::Null),
            ("arguments that are an array", json!([])),
            ("arguments that are a string", json!("x")),
            ("arguments that are a number", json!(1)),
        ] {
            out.push(case(rule, what, args));
        }
    }
    let Some(Value::Object(base)) = valid(schema, 0) else {
        return out;
    };
    let props = schema.get("properties").and_then(Value::as_object);
    for key in base.keys() {
        let mut args = base.clone();
        args.remove(key);
        out.push(case(
            rule,
            format!("required member {key} left out"),
            Value::Object(args),
        ));
    }
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        let mut args = base.clone();
        args.insert("portcullisAuditExtra".into(), json!(true));
        out.push(case(
            rule,
            "a member the schema does not declare",
            Value::Object(args),
        ));
    }
    for (key, sub) in props.into_iter().flatten() {
        if !base.contains_key(key) {
            continue;
        }
        let set = |v: Value| {
            let mut args = base.clone();
            args.insert(key.clone(), v);
            Value::Object(args)
        };
        if let Some(ty) = sub.get("type").and_then(Value::as_str) {
            out.push(case(
                rule,
                format!("{key} of another type than {ty}"),
                set(other_type(ty)),
            ));
        }
        let n = |k: &str| sub.get(k).and_then(Value::as_f64);
        if let Some(min) = n("minLength").filter(|m| *m >= 1.0) {
            out.push(case(
                rule,
                format!("{key} shorter than minLength {min}"),
                set(json!("a".repeat(min as usize - 1))),
            ));
        }
        if let Some(max) = n("maxLength").filter(|m| *m < 1e6) {
            out.push(case(
                rule,
                format!("{key} longer than maxLength {max}"),
                set(json!("a".repeat(max as usize + 1))),
            ));
        }
        if let Some(min) = n("minimum") {
            out.push(case(
                rule,
                format!("{key} below minimum {min}"),
                set(json!(min - 1.0)),
            ));
        }
        if let Some(max) = n("maximum") {
            out.push(case(
                rule,
                format!("{key} above maximum {max}"),
                set(json!(max + 1.0)),
            ));
        }
    }
    out
}

/// Escapes from a path scope: traversal out of each allowed root, absolute paths
/// elsewhere, percent-encoded traversal, relative paths, and paths inside denied parts.
fn scope_cases(
    rule: &Rule,
    schema: &Value,
    pointer: &str,
    allow: &[String],
    deny: &[String],
    vars: &[(String, PathBuf)],
) -> Vec<Case> {
    let Some(base) = valid(schema, 0) else {
        return Vec::new();
    };
    let expand = |pattern: &str| {
        let mut p = pattern.to_owned();
        for (name, dir) in vars {
            p = p.replace(&format!("${name}"), &dir.display().to_string());
        }
        p
    };
    // A file name the allowed glob would accept (`*.md` → `x.md`).
    let concrete_path = |pattern: &str| expand(pattern).replace("**", "x").replace(['*', '?'], "x");
    let mut paths = Vec::new();
    for pattern in allow {
        let inside = concrete_path(pattern);
        let (dir, file) = inside.rsplit_once('/').unwrap_or(("", inside.as_str()));
        paths.push((
            format!("traversal out of {pattern}"),
            format!("{dir}/../../../../etc/{file}"),
        ));
        paths.push((
            format!("traversal through a sub-directory of {pattern}"),
            format!("{dir}/x/../../../../etc/{file}"),
        ));
        paths.push((
            format!("percent-encoded traversal in {pattern}"),
            format!("{dir}/%2e%2e/%2e%2e/etc/{file}"),
        ));
        paths.push((
            format!("a relative path for {pattern}"),
            format!("../{file}"),
        ));
        paths.push((
            format!("an absolute path outside {pattern}"),
            format!("/etc/{file}"),
        ));
    }
    for pattern in deny {
        paths.push((
            format!("a path inside the denied {pattern}"),
            concrete_path(pattern),
        ));
    }
    paths
        .into_iter()
        .filter_map(|(what, path)| {
            let mut args = base.clone();
            let slot = args.pointer_mut(pointer)?;
            *slot = json!(path);
            Some(case(rule, what, args))
        })
        .collect()
}

/// Values JSON would change, each in a member of otherwise valid-looking arguments: the
/// isolation frame refuses them before the hook.
fn js_value_cases(rule: &Rule) -> Vec<Case> {
    JS_VALUES
        .iter()
        .map(|js| {
            case(
                rule,
                format!("a JS value JSON would change: {js}"),
                json!({"v": {"$js": js}}),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Config {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../portcullis-demo/portcullis.json"
        );
        Config::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Every generated call against the demo's schemas is one the schema refuses (or, for
    /// JS values and scopes, one refused before or after it): no generated case is one
    /// the schema accepts, which would make a sound app look breached.
    #[test]
    fn schema_variants_violate_their_schema() {
        let config = demo();
        let groups = generate(
            &config,
            &[("EXPORTS".into(), "/tmp/exports".into())],
            "main",
        );
        let rules: Vec<&Rule> = config
            .app
            .security
            .capabilities
            .iter()
            .flat_map(|c| c.commands.allow.iter())
            .collect();
        let mut checked = 0;
        for group in &groups {
            for case in &group.cases {
                let Some(rule) = rules.iter().find(|r| r.name == case.name) else {
                    continue;
                };
                let (Some(schema), false) = (
                    &rule.schema,
                    case.what.contains("JS value")
                        || case.what.contains("path")
                        || case.what.contains("traversal"),
                ) else {
                    continue;
                };
                let validator = jsonschema::validator_for(schema).unwrap();
                assert!(
                    !validator.is_valid(&case.args),
                    "{}: {} is valid: {}",
                    case.name,
                    case.what,
                    case.args
                );
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} schema variants");
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        for want in [
            "gen:notes.add",
            "gen:notes.delete",
            "gen:notes.export",
            "gen:refused-names",
        ] {
            assert!(names.contains(&want), "{names:?}");
        }
        let refused = groups
            .iter()
            .find(|g| g.name == "gen:refused-names")
            .unwrap();
        let called: Vec<&str> = refused.cases.iter().map(|c| c.name.as_str()).collect();
        assert!(
            called.contains(&"notes.purge") && called.contains(&"admin.audit"),
            "{called:?}"
        );
    }

    #[test]
    fn scope_escapes_use_the_scope_variables() {
        let groups = generate(
            &demo(),
            &[("EXPORTS".into(), "/tmp/exports".into())],
            "main",
        );
        let export = groups
            .iter()
            .find(|g| g.name == "gen:notes.export")
            .unwrap();
        let paths: Vec<String> = export
            .cases
            .iter()
            .map(|c| c.args["path"].to_string())
            .collect();
        assert!(
            paths
                .iter()
                .any(|p| p.contains("/tmp/exports/../../../../etc/x.md")),
            "{paths:?}"
        );
        assert!(paths.iter().any(|p| p.contains("%2e%2e")), "{paths:?}");
    }

    #[test]
    fn commands_for_other_windows_are_called_from_this_one() {
        let groups = generate(&demo(), &[], "settings");
        let refused = groups
            .iter()
            .find(|g| g.name == "gen:refused-names")
            .unwrap();
        assert!(
            refused
                .cases
                .iter()
                .any(|c| c.name == "notes.add" && c.what.contains("allowed only"))
        );
        assert!(!groups.iter().any(|g| g.name == "gen:notes.add"));
    }
}
