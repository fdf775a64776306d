//! JSON Schema (as `schemars` writes it) → a TypeScript type.
//!
//! The mapping is the one a page needs to call correctly, not a validator: `integer`
//! and `number` are `number`; an object lists its properties (optional unless
//! `required`), or is a record when it only has `additionalProperties`; `anyOf`/`oneOf`
//! are unions, `allOf` an intersection, `enum`/`const` literal types, `prefixItems` a
//! tuple; a `$ref` to `#/$defs/Name` is the type `Name`; a string carrying
//! [`CHANNEL_KEYWORD`] is a `Channel` of its message type. Anything else (the `true`
//! schema, a schema it does not know) is `api.Json`: wider, never wrong.

use portcullis_core::channel::CHANNEL_KEYWORD;
use serde_json::{Map, Value};

/// The TypeScript type of `schema`; `indent` is the depth of the line it starts on.
pub(crate) fn type_of(schema: &Value, indent: usize) -> String {
    let Value::Object(s) = schema else {
        return match schema {
            Value::Bool(false) => "never".into(),
            _ => "api.Json".into(),
        };
    };
    if let Some(target) = s.get("$ref").and_then(Value::as_str) {
        return target
            .strip_prefix("#/$defs/")
            .map(identifier)
            .unwrap_or_else(|| "api.Json".into());
    }
    if let Some(message) = s.get(CHANNEL_KEYWORD) {
        return format!("api.Channel<{}>", type_of(message, indent));
    }
    if let Some(value) = s.get("const") {
        return literal(value);
    }
    if let Some(Value::Array(values)) = s.get("enum") {
        return union(values.iter().map(literal).collect());
    }
    for (keyword, join) in [("anyOf", " | "), ("oneOf", " | "), ("allOf", " & ")] {
        if let Some(Value::Array(parts)) = s.get(keyword) {
            // The members beside the keyword (a `type`, `properties`) apply to each part.
            let rest = without(s, keyword);
            let parts: Vec<String> = parts
                .iter()
                .map(|part| wrap(&type_of(&merged(&rest, part), indent)))
                .collect();
            return dedup(parts).join(join);
        }
    }
    match s.get("type") {
        Some(Value::Array(types)) => union(
            types
                .iter()
                .map(|t| {
                    let mut one = s.clone();
                    one.insert("type".into(), t.clone());
                    wrap(&type_of(&Value::Object(one), indent))
                })
                .collect(),
        ),
        Some(Value::String(t)) => match t.as_str() {
            "null" => "null".into(),
            "boolean" => "boolean".into(),
            "integer" | "number" => "number".into(),
            "string" => "string".into(),
            "array" => array(s, indent),
            "object" => object(s, indent),
            _ => "api.Json".into(),
        },
        _ if s.contains_key("properties") => object(s, indent),
        _ => "api.Json".into(),
    }
}

/// A name usable as a TypeScript identifier: what is not a letter, digit, `_` or `$`
/// becomes `_` (schemars names generic types `Page_for_Note`, which stays).
pub(crate) fn identifier(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '$' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A property name, quoted when it is not an identifier.
pub(crate) fn property(name: &str) -> String {
    if identifier(name) == name && name != "_" {
        name.to_owned()
    } else {
        Value::String(name.to_owned()).to_string()
    }
}

/// `description` as a one-line JSDoc comment, if there is one.
pub(crate) fn doc(schema: &Value, indent: usize) -> String {
    match schema.get("description").and_then(Value::as_str) {
        Some(text) => {
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            format!(
                "{}/** {} */\n",
                "  ".repeat(indent),
                text.replace("*/", "* /")
            )
        }
        None => String::new(),
    }
}

fn array(s: &Map<String, Value>, indent: usize) -> String {
    if let Some(Value::Array(items)) = s.get("prefixItems") {
        let items: Vec<String> = items.iter().map(|i| type_of(i, indent)).collect();
        return format!("[{}]", items.join(", "));
    }
    match s.get("items") {
        Some(items) => format!("{}[]", wrap(&type_of(items, indent))),
        None => "api.Json[]".into(),
    }
}

fn object(s: &Map<String, Value>, indent: usize) -> String {
    let properties = s.get("properties").and_then(Value::as_object);
    let additional = s.get("additionalProperties");
    let Some(properties) = properties.filter(|p| !p.is_empty()) else {
        return match additional {
            Some(Value::Bool(false)) => "Record<string, never>".into(),
            Some(schema @ Value::Object(_)) => {
                format!("{{ [key: string]: {} }}", type_of(schema, indent))
            }
            _ => "{ [key: string]: api.Json }".into(),
        };
    };
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let pad = "  ".repeat(indent + 1);
    let mut out = String::from("{\n");
    for (name, schema) in properties {
        let optional = if required.contains(&name.as_str()) {
            ""
        } else {
            "?"
        };
        out.push_str(&doc(schema, indent + 1));
        out.push_str(&format!(
            "{pad}{}{optional}: {};\n",
            property(name),
            type_of(schema, indent + 1)
        ));
    }
    out.push_str(&"  ".repeat(indent));
    out.push('}');
    out
}

fn literal(value: &Value) -> String {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => value.to_string(),
        _ => "api.Json".into(),
    }
}

fn union(parts: Vec<String>) -> String {
    if parts.is_empty() {
        return "never".into();
    }
    dedup(parts).join(" | ")
}

fn dedup(parts: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(parts.len());
    for part in parts {
        if !out.contains(&part) {
            out.push(part);
        }
    }
    out
}

/// Parenthesized when it is a union or intersection (so `[]` or `|` bind right).
fn wrap(ty: &str) -> String {
    let mut depth = 0i32;
    let top_level = ty.chars().any(|c| {
        match c {
            '{' | '(' | '[' | '<' => depth += 1,
            '}' | ')' | ']' | '>' => depth -= 1,
            _ => {}
        }
        depth == 0 && (c == '|' || c == '&')
    });
    if top_level {
        format!("({ty})")
    } else {
        ty.to_owned()
    }
}

fn without(s: &Map<String, Value>, keyword: &str) -> Map<String, Value> {
    let mut rest = s.clone();
    for k in [keyword, "description", "title", "$schema", "$defs"] {
        rest.remove(k);
    }
    rest
}

/// `part` with the members of `rest` it does not set itself.
fn merged(rest: &Map<String, Value>, part: &Value) -> Value {
    match part {
        Value::Object(p) if !rest.is_empty() => {
            let mut all = rest.clone();
            for (k, v) in p {
                all.insert(k.clone(), v.clone());
            }
            Value::Object(all)
        }
        _ => part.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_kind_of_schema_has_its_type() {
        let cases = [
            (json!(true), "api.Json"),
            (json!({}), "api.Json"),
            (json!({"type": "integer", "format": "uint32"}), "number"),
            (json!({"type": ["string", "null"]}), "string | null"),
            (json!({"$ref": "#/$defs/Note"}), "Note"),
            (
                json!({"type": "array", "items": {"type": ["string", "null"]}}),
                "(string | null)[]",
            ),
            (
                json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}),
                "[string, number]",
            ),
            (json!({"enum": ["a", "b"]}), "\"a\" | \"b\""),
            (
                json!({"oneOf": [{"const": "x"}, {"const": 1}]}),
                "\"x\" | 1",
            ),
            (
                json!({"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]}),
                "A | null",
            ),
            (
                json!({"type": "object", "additionalProperties": {"type": "boolean"}}),
                "{ [key: string]: boolean }",
            ),
            (
                json!({"type": "string", "x-portcullis-channel": {"$ref": "#/$defs/P"}}),
                "api.Channel<P>",
            ),
            (json!(false), "never"),
        ];
        for (schema, ty) in cases {
            assert_eq!(type_of(&schema, 0), ty, "{schema}");
        }
    }

    #[test]
    fn an_object_lists_its_properties_optional_unless_required() {
        let schema = json!({
            "type": "object", "required": ["title"],
            "properties": {
                "title": {"type": "string", "description": "The title."},
                "the-body": {"type": "string"}
            }
        });
        assert_eq!(
            type_of(&schema, 0),
            "{\n  \"the-body\"?: string;\n  /** The title. */\n  title: string;\n}"
        );
    }
}
