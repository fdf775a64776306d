//! Attacks generated from the app's own config: for every allowed command with a schema,
//! arguments that violate it; for every path scope, escapes; for every denied name and
//! every command or stream allowed only to other windows, direct calls; for commands
//! taking JSON, the JS values JSON would change; for every allowed stream, metadata that
//! violates its schema and, when it has a `maxBytes`, one byte more than that. Every
//! generated call must be refused, so any of them admitted is a breach (the child records
//! admitted calls); the one exception is the open of a stream sent past its `maxBytes`,
//! which is meant to be admitted and then cut off: its handler being handed more than the
//! limit is the breach.
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
    /// `command`, `event` or `stream`.
    pub kind: &'static str,
    /// The name called.
    pub name: String,
    /// The arguments (a stream's metadata); `{"$js": NAME}` stands for a JS value JSON
    /// cannot hold (the attack builds it: `boxed-string`, `infinity`, `undefined-member`,
    /// `date`, `map`, `hole`, `big-integer`).
    pub args: Value,
    /// For a stream: how many bytes to write once it is open (none: open and close).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// The largest `maxBytes` a generated stream is sent past (a larger limit is not tried:
/// writing it would take the run's whole time).
pub const MOST_BYTES_SENT: u64 = 16 << 20;

/// Whether `call` is the open of a stream a generated case sends past its `maxBytes`:
/// admitted on purpose (its limit is judged on what its handler was handed).
pub fn opened_on_purpose(cases: &[Case], call: &super::expect::Admitted) -> bool {
    call.kind == portcullis_core::Kind::Stream
        && cases.iter().any(|c| {
            c.kind == "stream"
                && c.bytes.is_some()
                && c.name == call.name
                && call.args.as_ref() == Some(&c.args)
        })
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
    let mut refused_streams = Vec::new();
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
        for rule in &cap.streams.allow {
            if !applies {
                refused_streams.push((
                    rule.name.clone(),
                    format!("a stream allowed only to windows {:?}", cap.windows),
                ));
                continue;
            }
            let cases = stream_cases(rule);
            if !cases.is_empty() {
                groups.push(Generated {
                    name: format!("gen:stream:{}", rule.name),
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
        for denied in &cap.streams.deny {
            refused_streams.push((concrete(denied), format!("a stream denied by {denied:?}")));
        }
    }
    // Names no capability lists at all, and the refused ones above, called directly.
    refused_names.push((
        "portcullis.audit.unlisted".into(),
        "in no capability".into(),
    ));
    refused_streams.push((
        "portcullis.audit.unlisted".into(),
        "a stream in no capability".into(),
    ));
    let here = || {
        config
            .app
            .security
            .capabilities
            .iter()
            .filter(|c| c.windows.iter().any(|w| glob_matches(w, window)))
    };
    let commands_here: Vec<&Rule> = here().flat_map(|c| c.commands.allow.iter()).collect();
    let streams_here: Vec<&Rule> = here().flat_map(|c| c.streams.allow.iter()).collect();
    let direct = |kind: &'static str, names: Vec<(String, String)>, here: &[&Rule]| {
        names
            .into_iter()
            .filter(|(name, _)| !here.iter().any(|r| &r.name == name))
            .map(|(name, why)| Case {
                what: format!("{name}: {why}"),
                kind,
                name,
                args: json!({}),
                bytes: None,
            })
            .collect::<Vec<Case>>()
    };
    let mut direct_cases = direct("command", refused_names, &commands_here);
    direct_cases.extend(direct("stream", refused_streams, &streams_here));
    let direct = direct_cases;
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

pub(super) fn glob_matches(pattern: &str, text: &str) -> bool {
    globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .is_ok_and(|g| g.compile_matcher().is_match(text))
}

/// A value the (sub)schema accepts, built from its `type`, bounds, `enum` and `const`;
/// `None` when it cannot tell (then no variant is derived from it).
pub(super) fn valid(schema: &Value, depth: usize) -> Option<Value> {
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
        // No general generator for patterns and formats: a few values apps' schemas ask
        // for (a channel argument above all), each kept only if the schema takes it.
        let channel = format!(
            "{}{}",
            portcullis_core::channel::CHANNEL_PREFIX,
            "0".repeat(32)
        );
        return [
            json!(channel),
            json!("a"),
            json!("2026-01-01"),
            json!("a@example.com"),
        ]
        .into_iter()
        .find(|candidate| {
            jsonschema::options()
                .should_validate_formats(true)
                .build(schema)
                .is_ok_and(|v| v.is_valid(candidate))
        });
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
        bytes: None,
    }
}

/// A stream's cases: metadata that violates its schema, the JS values JSON would change,
/// and (with a `maxBytes` up to [`MOST_BYTES_SENT`]) valid metadata and one byte more
/// than the limit.
fn stream_cases(rule: &Rule) -> Vec<Case> {
    let mut cases = Vec::new();
    if let Some(schema) = &rule.schema {
        cases.extend(schema_cases(rule, schema));
        cases.extend(js_value_cases(rule));
    }
    let meta = match &rule.schema {
        Some(schema) => valid(schema, 0),
        None => Some(json!({})),
    };
    if let (Some(limit), Some(meta)) = (rule.max_bytes.filter(|m| *m <= MOST_BYTES_SENT), meta) {
        cases.push(Case {
            what: format!("{} bytes, one past maxBytes {limit}", limit + 1),
            kind: "stream",
            name: rule.name.clone(),
            args: meta,
            bytes: Some(limit + 1),
        });
    }
    for c in cases.iter_mut().filter(|c| c.bytes.is_none()) {
        c.kind = "stream";
        c.what = format!("stream metadata: {}", c.what);
    }
    cases
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
    fn a_valid_value_for_a_channel_argument_or_a_known_format_and_none_for_other_patterns() {
        let channel = json!({"type": "string", "pattern": "^portcullis:channel:[0-9a-f]{32}$"});
        assert_eq!(
            valid(&channel, 0),
            Some(json!(format!("portcullis:channel:{}", "0".repeat(32))))
        );
        assert_eq!(
            valid(&json!({"type": "string", "format": "date"}), 0),
            Some(json!("2026-01-01"))
        );
        assert_eq!(
            valid(&json!({"type": "string", "pattern": "^[0-9]{6}$"}), 0),
            None
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

    fn streams_config() -> Config {
        let text = serde_json::json!({"app": {"security": {
        "pattern": {"use": "brownfield"},
        "capabilities": [
            {"identifier": "up", "windows": ["main"], "origins": ["app://localhost"],
             "streams": {"allow": [{"name": "up.file", "maxBytes": 64, "schema": {
                 "type": "object", "required": ["name"], "additionalProperties": false,
                 "properties": {"name": {"type": "string", "maxLength": 20}}}}],
               "deny": ["up.admin.*"]}},
            {"identifier": "other", "windows": ["settings"], "origins": ["app://localhost"],
             "streams": {"allow": ["up.settings"]}}
        ]}}});
        Config::from_json(&text.to_string()).unwrap()
    }

    #[test]
    fn streams_get_metadata_variants_a_byte_past_max_bytes_and_refused_names() {
        let groups = generate(&streams_config(), &[], "main");
        let up = groups
            .iter()
            .find(|g| g.name == "gen:stream:up.file")
            .unwrap();
        assert!(up.cases.iter().all(|c| c.kind == "stream"));
        let schema = serde_json::json!({"type": "object", "required": ["name"], "additionalProperties": false,
            "properties": {"name": {"type": "string", "maxLength": 20}}});
        let validator = jsonschema::validator_for(&schema).unwrap();
        let (over, variants): (Vec<&Case>, Vec<&Case>) =
            up.cases.iter().partition(|c| c.bytes.is_some());
        // One case sends a byte too many under valid metadata; every other one's
        // metadata is refused by the schema (JS values by the frame).
        assert_eq!(over.len(), 1);
        assert_eq!(over[0].bytes, Some(65));
        assert!(validator.is_valid(&over[0].args), "{:?}", over[0]);
        for c in variants.iter().filter(|c| !c.what.contains("JS value")) {
            assert!(!validator.is_valid(&c.args), "{}: {}", c.what, c.args);
        }
        assert!(variants.len() >= 5, "{variants:?}");
        let refused = groups
            .iter()
            .find(|g| g.name == "gen:refused-names")
            .unwrap();
        let streams: Vec<&str> = refused
            .cases
            .iter()
            .filter(|c| c.kind == "stream")
            .map(|c| c.name.as_str())
            .collect();
        assert!(streams.contains(&"up.admin.audit"), "{streams:?}");
        assert!(streams.contains(&"up.settings"), "{streams:?}");
        assert!(!streams.contains(&"up.file"), "{streams:?}");
    }

    #[test]
    fn only_the_open_sent_past_max_bytes_is_admitted_on_purpose() {
        let groups = generate(&streams_config(), &[], "main");
        let up = &groups
            .iter()
            .find(|g| g.name == "gen:stream:up.file")
            .unwrap()
            .cases;
        let call = |kind, args: Value| super::super::expect::Admitted {
            kind,
            name: "up.file".into(),
            args: Some(args),
            webview: "main".into(),
            origin: None,
            at: std::time::Instant::now(),
            bytes: None,
            channels: 0,
        };
        use portcullis_core::Kind;
        assert!(opened_on_purpose(
            up,
            &call(Kind::Stream, serde_json::json!({"name": "a"}))
        ));
        assert!(!opened_on_purpose(
            up,
            &call(Kind::Stream, serde_json::json!({"name": "b"}))
        ));
        assert!(!opened_on_purpose(
            up,
            &call(Kind::Command, serde_json::json!({"name": "a"}))
        ));
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
