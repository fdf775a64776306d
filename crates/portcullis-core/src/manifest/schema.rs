//! Reading the schemas of a [`Manifest`](super::Manifest): `$ref`s resolved against its
//! definitions, the JSON types a schema admits, and a schema with its references
//! inlined (what a rule that takes its schema from the handler compiles).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// How deep references are followed: a recursive type stops here (the rest of it is
/// left as the `true` schema, which admits anything: wider, never narrower).
const MAX_DEPTH: usize = 32;

/// The JSON types, as JSON Schema names them; `integer` is a kind of `number`.
pub const JSON_TYPES: [&str; 7] = [
    "null", "boolean", "integer", "number", "string", "array", "object",
];

/// `schema` with a top-level `$ref` to `#/$defs/Name` replaced by its definition
/// (followed up to 32 times); anything else as it is.
pub fn resolve<'a>(schema: &'a Value, definitions: &'a BTreeMap<String, Value>) -> &'a Value {
    let mut at = schema;
    for _ in 0..MAX_DEPTH {
        match at
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| definitions.get(name))
        {
            Some(next) => at = next,
            None => break,
        }
    }
    at
}

/// The JSON types `schema` admits (after [`resolve`]); every type when it does not say.
/// `anyOf`/`oneOf` admit what any part admits; `enum`/`const` the types of their values.
pub fn types(schema: &Value, definitions: &BTreeMap<String, Value>) -> Vec<&'static str> {
    types_at(schema, definitions, 0)
}

fn types_at(
    schema: &Value,
    definitions: &BTreeMap<String, Value>,
    depth: usize,
) -> Vec<&'static str> {
    let schema = resolve(schema, definitions);
    let Value::Object(s) = schema else {
        return match schema {
            Value::Bool(false) => Vec::new(),
            _ => JSON_TYPES.to_vec(),
        };
    };
    let mut out = Vec::new();
    if let Some(value) = s.get("const") {
        out.push(type_of_value(value));
    } else if let Some(Value::Array(values)) = s.get("enum") {
        out.extend(values.iter().map(type_of_value));
    } else if let Some(t) = s.get("type") {
        let named: Vec<&str> = match t {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for name in named {
            if let Some(known) = JSON_TYPES.iter().find(|k| **k == name) {
                out.push(*known);
                if name == "number" {
                    out.push("integer");
                }
            }
        }
    } else if depth < MAX_DEPTH {
        for keyword in ["anyOf", "oneOf"] {
            if let Some(Value::Array(parts)) = s.get(keyword) {
                for part in parts {
                    out.extend(types_at(part, definitions, depth + 1));
                }
                return dedup(out);
            }
        }
        return JSON_TYPES.to_vec();
    } else {
        return JSON_TYPES.to_vec();
    }
    dedup(out)
}

fn type_of_value(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn dedup(mut types: Vec<&'static str>) -> Vec<&'static str> {
    types.sort_unstable();
    types.dedup();
    types
}

/// `schema` with every `$ref` into `definitions` replaced by the definition, as one
/// self-contained schema (references deeper than 32 become `true`).
pub fn inlined(schema: &Value, definitions: &BTreeMap<String, Value>) -> Value {
    inline_at(schema, definitions, 0)
}

fn inline_at(schema: &Value, definitions: &BTreeMap<String, Value>, depth: usize) -> Value {
    match schema {
        Value::Object(s) => {
            if let Some(name) = s
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                return match definitions.get(name) {
                    Some(def) if depth < MAX_DEPTH => inline_at(def, definitions, depth + 1),
                    _ => Value::Bool(true),
                };
            }
            let mut out = Map::new();
            for (k, v) in s {
                if k != "$schema" && k != "$defs" {
                    out.insert(k.clone(), inline_at(v, definitions, depth));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| inline_at(v, definitions, depth))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs() -> BTreeMap<String, Value> {
        BTreeMap::from([
            (
                "Note".to_owned(),
                json!({"type": "object", "properties": {"id": {"$ref": "#/$defs/Id"}}}),
            ),
            ("Id".to_owned(), json!({"type": "integer", "minimum": 0})),
        ])
    }

    #[test]
    fn types_follow_references_unions_and_values() {
        let d = defs();
        assert_eq!(types(&json!({"$ref": "#/$defs/Id"}), &d), ["integer"]);
        assert_eq!(types(&json!({"type": "number"}), &d), ["integer", "number"]);
        assert_eq!(
            types(&json!({"type": ["string", "null"]}), &d),
            ["null", "string"]
        );
        assert_eq!(
            types(
                &json!({"anyOf": [{"$ref": "#/$defs/Note"}, {"type": "null"}]}),
                &d
            ),
            ["null", "object"]
        );
        assert_eq!(types(&json!({"enum": ["a", 1]}), &d), ["integer", "string"]);
        assert_eq!(types(&json!({}), &d).len(), JSON_TYPES.len());
        assert!(types(&json!(false), &d).is_empty());
    }

    #[test]
    fn inlining_replaces_every_reference() {
        assert_eq!(
            inlined(&json!({"$ref": "#/$defs/Note"}), &defs()),
            json!({"type": "object", "properties": {"id": {"type": "integer", "minimum": 0}}})
        );
        let looped = BTreeMap::from([("A".to_owned(), json!({"items": {"$ref": "#/$defs/A"}}))]);
        let deep = inlined(&json!({"$ref": "#/$defs/A"}), &looped);
        assert!(deep.to_string().contains("true"));
    }
}
