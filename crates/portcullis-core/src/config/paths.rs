//! The check on a rule's `paths`: each JSON pointer must name a scope of its capability
//! and a value the rule's schema guarantees is a string, so an argument the page leaves
//! out, misnames or sends as another type is refused by the schema and can never switch
//! the scope check off.

use serde_json::Value;

use super::{Capability, ConfigErrorKind, ConfigErrors, Rule};

/// The checks on one rule's `paths`. Each pointer must name a scope of this capability
/// and a value the rule's schema guarantees is a string, so an argument the page leaves
/// out, misnames or sends as another type is refused by the schema and can never switch
/// the scope check off. (The policy refuses such arguments again at run time.)
pub(super) fn check_paths(rule: &Rule, cap: &Capability, rp: &str, errors: &mut ConfigErrors) {
    if rule.paths.is_empty() {
        return;
    }
    if rule.schema.is_none() {
        errors.push(
            format!("{rp}.paths"),
            ConfigErrorKind::Paths,
            "paths need a schema that declares each pointer as a required string, e.g. \
             {\"type\": \"object\", \"required\": [\"path\"], \"properties\": {\"path\": {\"type\": \"string\"}}}",
        );
    }
    if rule.bytes {
        errors.push(
            format!("{rp}.bytes"),
            ConfigErrorKind::Paths,
            "a rule with paths takes JSON arguments only: binary arguments carry no path to check (remove \"bytes\": true)",
        );
    }
    for (pointer, scope) in &rule.paths {
        let pp = format!("{rp}.paths.{pointer}");
        if !cap.scopes.contains_key(scope) {
            errors.push(
                &pp,
                ConfigErrorKind::Paths,
                format!("scope {scope:?} is not defined in this capability's \"scopes\""),
            );
        }
        let guaranteed = pointer_tokens(pointer).and_then(|tokens| match &rule.schema {
            Some(schema) => required_string(schema, pointer, &tokens),
            None => Ok(()),
        });
        if let Err(message) = guaranteed {
            errors.push(pp, ConfigErrorKind::Paths, message);
        }
    }
}

/// The reference tokens of a JSON pointer, unescaped (RFC 6901, sections 3 and 4): `""`
/// is the whole value and has none, `"/a~1b/c"` is `["a/b", "c"]`. A `~` must be
/// followed by `0` (for `~`) or `1` (for `/`).
fn pointer_tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!(
            "{pointer:?} is not a JSON pointer: write \"/field\" (or \"\" for the whole arguments)"
        ));
    };
    rest.split('/')
        .map(|raw| {
            unescape_token(raw).ok_or_else(|| {
                format!(
                    "{pointer:?} is not a JSON pointer: \"~\" must be followed by 0 (for \"~\") or 1 (for \"/\")"
                )
            })
        })
        .collect()
}

fn unescape_token(raw: &str) -> Option<String> {
    let mut token = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            token.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => token.push('~'),
            Some('1') => token.push('/'),
            _ => return None,
        }
    }
    Some(token)
}

/// Whether `schema` guarantees a string at `pointer` (whose unescaped tokens are
/// `tokens`) in every value it accepts: each level on the way is `"type": "object"`,
/// declares the next token in `properties` and lists it in `required`, and the last
/// level is `"type": "string"`.
///
/// Only those keywords, written at the level itself, are read. Every keyword of a JSON
/// Schema must hold, so other keywords beside them can only narrow what is accepted,
/// except `$ref` and its dynamic kin (up to draft 7, `$ref` makes its siblings ignored):
/// a level that uses one is an error, and so is a level that states its type or
/// properties only inside `allOf`/`anyOf`/`oneOf`. The check never guesses; what it
/// cannot follow it refuses, saying so.
fn required_string(schema: &Value, pointer: &str, tokens: &[String]) -> Result<(), String> {
    let mut level = schema;
    for (depth, token) in tokens.iter().enumerate() {
        let here = schema_of(pointer, depth);
        let object = readable(level, pointer, &here)?;
        if !has_only_type(object, "object") {
            let fix = match object.get("type") {
                Some(t) if t == "array" => format!(
                    "{here} is \"type\": \"array\"; paths name object properties, not array items"
                ),
                Some(t) => format!("{here} must be \"type\": \"object\", not {t}"),
                None => match combinator(object) {
                    Some(k) => format!(
                        "{here} states its type only inside {k:?}, which this check does not follow: write \"type\": \"object\" beside it"
                    ),
                    None => format!(
                        "{here} needs \"type\": \"object\" (without it, arguments that are not objects pass with no {token:?})"
                    ),
                },
            };
            return Err(format!("{pointer:?}: {fix}"));
        }
        let properties = match object.get("properties") {
            Some(Value::Object(p)) => p,
            Some(_) => {
                return Err(format!(
                    "{pointer:?}: \"properties\" of {here} is not an object"
                ));
            }
            None => {
                return Err(match combinator(object) {
                    Some(k) => format!(
                        "{pointer:?}: {here} declares its properties only inside {k:?}, which this check does not follow: declare {token:?} in \"properties\" beside it"
                    ),
                    None => format!(
                        "{pointer:?} names no property of {here} (it has no \"properties\")"
                    ),
                });
            }
        };
        let Some(next) = properties.get(token) else {
            let names: Vec<String> = properties.keys().map(|k| format!("{k:?}")).collect();
            let names = if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            };
            return Err(format!(
                "{pointer:?} names no property of {here} (its properties: {names})"
            ));
        };
        let required = object
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|name| name.as_str() == Some(token)));
        if !required {
            return Err(format!(
                "{pointer:?} names an optional property: add {token:?} to \"required\" of {here}"
            ));
        }
        level = next;
    }
    let here = schema_of(pointer, tokens.len());
    let object = readable(level, pointer, &here)?;
    if has_only_type(object, "string") {
        return Ok(());
    }
    let found = match (object.get("type"), combinator(object)) {
        (Some(t), _) => format!("{here} is \"type\": {t}"),
        (None, Some(k)) => {
            format!("{here} states its type only inside {k:?}, which this check does not follow")
        }
        (None, None) => format!("{here} has no \"type\""),
    };
    Err(format!(
        "{pointer:?}: {found}; a path argument must be \"type\": \"string\""
    ))
}

/// How messages name the subschema for the first `depth` tokens of `pointer`.
fn schema_of(pointer: &str, depth: usize) -> String {
    if depth == 0 {
        return "the schema".to_owned();
    }
    let prefix: Vec<&str> = pointer.split('/').take(depth + 1).collect();
    format!("the schema of {:?}", prefix.join("/"))
}

/// `schema` as an object whose keywords can be read with certainty.
fn readable<'a>(
    schema: &'a Value,
    pointer: &str,
    here: &str,
) -> Result<&'a serde_json::Map<String, Value>, String> {
    let Value::Object(object) = schema else {
        // `true` accepts anything and `false` nothing: neither states a type.
        return Err(format!(
            "{pointer:?}: {here} is {schema}, not an object schema stating a \"type\""
        ));
    };
    match ["$ref", "$dynamicRef", "$recursiveRef"]
        .into_iter()
        .find(|k| object.contains_key(*k))
    {
        Some(k) => Err(format!(
            "{pointer:?}: {here} uses {k:?}, which this check does not follow: write that schema out inline"
        )),
        None => Ok(object),
    }
}

/// Whether `schema` says `"type": ty` or `"type": [ty]`, and nothing else.
fn has_only_type(schema: &serde_json::Map<String, Value>, ty: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == ty,
        Some(Value::Array(types)) => matches!(types.as_slice(), [Value::String(t)] if t == ty),
        _ => false,
    }
}

/// The first combinator keyword of `schema`, whose subschemas this check does not read.
fn combinator(schema: &serde_json::Map<String, Value>) -> Option<&'static str> {
    ["allOf", "anyOf", "oneOf"]
        .into_iter()
        .find(|k| schema.contains_key(*k))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::config::{Config, ConfigError};

    /// A brownfield config whose one capability allows `rule`, with a scope "docs".
    fn with_rule(rule: Value) -> String {
        serde_json::json!({"app": {"security": {"pattern": {"use": "brownfield"},
            "capabilities": [{"identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
                "commands": {"allow": [rule]}, "scopes": {"docs": {"allow": ["/srv/docs/**"]}}}]}}})
        .to_string()
    }

    /// The errors for a rule that checks `pointer` against "docs" under `schema`.
    fn paths_errors(schema: Value, pointer: &str) -> Vec<ConfigError> {
        let rule =
            serde_json::json!({"name": "fs.read", "schema": schema, "paths": {pointer: "docs"}});
        match Config::from_json(&with_rule(rule)) {
            Ok(_) => Vec::new(),
            Err(e) => e.0,
        }
    }

    #[test]
    fn paths_may_name_required_strings_nested_and_escaped() {
        use serde_json::json;
        let string = json!({"type": "string"});
        let object = |name: &str, of: &Value| json!({"type": "object", "required": [name], "properties": {name: of}});
        for (schema, pointer) in [
            (object("path", &string), "/path"),
            (
                object("path", &json!({"type": ["string"], "minLength": 1})),
                "/path",
            ),
            (object("a", &object("b", &string)), "/a/b"),
            (
                json!({"type": ["object"], "required": ["a/b"], "properties": {"a/b": string}}),
                "/a~1b",
            ),
            (object("~t", &string), "/~0t"),
            (object("", &string), "/"),
            (string.clone(), ""),
            // Keywords beside the ones read can only narrow what is accepted.
            (
                json!({"type": "object", "required": ["path"], "additionalProperties": false,
                    "properties": {"path": {"type": "string", "pattern": "^/"}},
                    "anyOf": [{"required": ["x"]}, {"required": ["y"]}]}),
                "/path",
            ),
        ] {
            assert_eq!(
                paths_errors(schema.clone(), pointer),
                [],
                "{pointer:?} in {schema}"
            );
        }
    }

    #[test]
    fn paths_must_name_required_strings_of_the_schema() {
        use serde_json::json;
        let path = json!({"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}});
        let cases = [
            (
                path.clone(),
                "/pth",
                "\"/pth\" names no property of the schema (its properties: \"path\")",
            ),
            (
                json!({"type": "object", "properties": {"path": {"type": "string"}}}),
                "/path",
                "\"/path\" names an optional property: add \"path\" to \"required\" of the schema",
            ),
            (
                json!({"type": "object", "required": ["size"], "properties": {"size": {"type": "integer"}}}),
                "/size",
                "\"/size\": the schema of \"/size\" is \"type\": \"integer\"; a path argument must be \"type\": \"string\"",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": {"p": {"type": ["string", "null"]}}}),
                "/p",
                "is \"type\": [\"string\",\"null\"]; a path argument must be \"type\": \"string\"",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": {"p": {}}}),
                "/p",
                "the schema of \"/p\" has no \"type\"; a path argument must be",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": {"p": true}}),
                "/p",
                "the schema of \"/p\" is true, not an object schema",
            ),
            (
                path.clone(),
                "",
                "\"\": the schema is \"type\": \"object\"; a path argument must be \"type\": \"string\"",
            ),
            (
                json!({"required": ["path"], "properties": {"path": {"type": "string"}}}),
                "/path",
                "the schema needs \"type\": \"object\" (without it, arguments that are not objects pass with no \"path\")",
            ),
            (
                json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}}}),
                "/a/b",
                "\"/a/b\" names an optional property: add \"b\" to \"required\" of the schema of \"/a\"",
            ),
            (
                json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "array", "items": {"type": "string"}}}}),
                "/a/0",
                "the schema of \"/a\" is \"type\": \"array\"; paths name object properties, not array items",
            ),
            (
                json!({"$defs": {"p": {"type": "string"}}, "type": "object", "required": ["p"], "properties": {"p": {"$ref": "#/$defs/p"}}}),
                "/p",
                "the schema of \"/p\" uses \"$ref\", which this check does not follow",
            ),
            (
                json!({"$ref": "#/$defs/o", "$defs": {"o": path}}),
                "/path",
                "the schema uses \"$ref\", which this check does not follow",
            ),
            (
                json!({"type": "object", "allOf": [{"required": ["path"], "properties": {"path": {"type": "string"}}}]}),
                "/path",
                "the schema declares its properties only inside \"allOf\", which this check does not follow",
            ),
            (
                json!({"oneOf": [{"type": "object"}]}),
                "/path",
                "the schema states its type only inside \"oneOf\", which this check does not follow",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": {"p": {"anyOf": [{"type": "string"}]}}}),
                "/p",
                "the schema of \"/p\" states its type only inside \"anyOf\"",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": []}),
                "/p",
                "\"properties\" of the schema is not an object",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": {}}),
                "/p",
                "names no property of the schema (its properties: none)",
            ),
            (
                path.clone(),
                "/a~2b",
                "\"/a~2b\" is not a JSON pointer: \"~\" must be followed by 0",
            ),
            (
                path,
                "path",
                "\"path\" is not a JSON pointer: write \"/field\"",
            ),
        ];
        for (schema, pointer, phrase) in cases {
            let errs = paths_errors(schema.clone(), pointer);
            let at = format!("app.security.capabilities[0].commands.allow[0].paths.{pointer}");
            assert_eq!(errs.len(), 1, "{pointer:?} in {schema}: {errs:#?}");
            assert_eq!(errs[0].path, at);
            assert!(
                errs[0].message.contains(phrase),
                "{:?} lacks {phrase:?}",
                errs[0].message
            );
        }
    }

    #[test]
    fn paths_need_a_schema_and_json_arguments() {
        use serde_json::json;
        let rp = "app.security.capabilities[0].commands.allow[0]";
        let e = Config::from_json(&with_rule(
            json!({"name": "fs.read", "paths": {"/path": "docs"}}),
        ))
        .unwrap_err()
        .0;
        assert_eq!(e.len(), 1, "{e:#?}");
        assert_eq!(e[0].path, format!("{rp}.paths"));
        assert!(
            e[0].message
                .contains("paths need a schema that declares each pointer as a required string")
        );
        let e = Config::from_json(&with_rule(json!({"name": "fs.read", "bytes": true, "paths": {"/path": "docs"},
            "schema": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}})))
        .unwrap_err()
        .0;
        assert_eq!(e.len(), 1, "{e:#?}");
        assert_eq!(e[0].path, format!("{rp}.bytes"));
        assert!(e[0].message.contains("binary arguments carry no path"));
    }
}
