//! Strict JSON for untrusted input: depth limit, no duplicate keys, no `__proto__` keys.
//!
//! `serde_json` parses into a [`Value`] with a fixed recursion limit of 128 and keeps the
//! last of duplicate keys silently. Neither is acceptable for messages a hostile page
//! wrote: the validation hook (JavaScript) and the Rust handler must see the same object,
//! and the depth limit is the app's to choose. So the parse goes through a small
//! `DeserializeSeed` that builds the same `Value` while counting depth and refusing
//! duplicate and `__proto__` keys. It is serde_json's own parser underneath; only the
//! tree building is ours (about 100 lines, because no crate offers these three checks).

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

pub mod tree;

/// Why untrusted JSON was refused: the reasons callers branch on, never found by
/// reading an error's text.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Arrays/objects nest deeper than allowed.
    #[error("JSON nests deeper than {limit} levels")]
    TooDeep {
        /// The limit in force.
        limit: u32,
    },
    /// An object has the same key twice (the hook and the handler could see different
    /// values).
    #[error("duplicate key {key:?}")]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// An object has a `__proto__` key (prototype pollution in the JavaScript that reads
    /// the same text).
    #[error("key \"__proto__\" is not allowed (prototype pollution)")]
    ProtoKey,
    /// The text is not UTF-8.
    #[error("not UTF-8: invalid byte at offset {offset}")]
    NotUtf8 {
        /// Where the first invalid byte is.
        offset: usize,
    },
    /// Not one JSON value: a syntax error, trailing data, an early end (serde_json's
    /// words, with line and column).
    #[error("{0}")]
    Syntax(String),
}

/// The deepest nesting any caller may ask for (the config's `maxDepth` maximum): the
/// strict parse does its own depth counting, with serde_json's recursion limit off, so
/// this bound is what keeps the stack small.
pub const MAX_DEPTH_LIMIT: u32 = 128;

/// Parses `bytes` as one JSON value, with at most `max_depth` (at most
/// [`MAX_DEPTH_LIMIT`]) levels of arrays/objects (a scalar is depth 0, `[]` is depth 1).
pub fn parse_strict(bytes: &[u8], max_depth: u32) -> Result<Value, JsonError> {
    // JSON text is UTF-8 (RFC 8259 §8.1). Checking the whole text once lets serde_json
    // skip its check of each string, which was a tenth of parsing a small message.
    let text = std::str::from_utf8(bytes).map_err(|e| JsonError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    let limit = max_depth.min(MAX_DEPTH_LIMIT);
    let why = Cell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let value = StrictSeed {
        remaining: limit,
        why: &why,
    }
    .deserialize(&mut de)
    .map_err(|e| classify(e, limit, &why))?;
    de.end().map_err(|e| classify(e, limit, &why))?;
    Ok(value)
}

/// Parses a `&str` the same way; a convenience for tests.
pub fn parse_strict_str(text: &str, max_depth: u32) -> Result<Value, JsonError> {
    parse_strict(text.as_bytes(), max_depth)
}

/// Parses like [`parse_strict`] and, on error, also says at which JSON path
/// (`app.security.csp`) it happened. Used for config files, where people need the path.
pub fn parse_strict_with_path(text: &str, max_depth: u32) -> Result<Value, (String, JsonError)> {
    let limit = max_depth.min(MAX_DEPTH_LIMIT);
    let why = Cell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let mut track = serde_path_to_error::Track::new();
    let result = StrictSeed {
        remaining: limit,
        why: &why,
    }
    .deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
    let value = result.map_err(|e| (track.path().to_string(), classify(e, limit, &why)))?;
    de.end()
        .map_err(|e| (".".to_owned(), classify(e, limit, &why)))?;
    Ok(value)
}

/// The error a failed parse reports: the strict rule the seed recorded when it refused,
/// or serde_json's own syntax error.
pub(crate) fn classify(e: serde_json::Error, limit: u32, why: &Cell<Option<Strict>>) -> JsonError {
    match why.take() {
        Some(Strict::TooDeep) => JsonError::TooDeep { limit },
        Some(Strict::DuplicateKey(key)) => JsonError::DuplicateKey { key },
        Some(Strict::ProtoKey) => JsonError::ProtoKey,
        None => JsonError::Syntax(e.to_string()),
    }
}

/// A strict rule the seed refused on, recorded beside the error it raised.
pub(crate) enum Strict {
    TooDeep,
    DuplicateKey(String),
    ProtoKey,
}

impl Strict {
    /// The text of the error raised inside the parse (the caller reports the rule).
    pub(crate) fn text(&self) -> String {
        match self {
            Strict::TooDeep => "nesting limit exceeded".to_owned(),
            Strict::DuplicateKey(key) => format!("duplicate key {key:?}"),
            Strict::ProtoKey => "key \"__proto__\" is not allowed".to_owned(),
        }
    }
}

/// Deserializes one value with `remaining` levels of nesting left; a refusal on one of
/// the strict rules is recorded in `why`.
#[derive(Clone, Copy)]
pub(crate) struct StrictSeed<'w> {
    pub(crate) remaining: u32,
    pub(crate) why: &'w Cell<Option<Strict>>,
}

impl<'w> StrictSeed<'w> {
    pub(crate) fn descend<E: de::Error>(self) -> Result<StrictSeed<'w>, E> {
        match self.remaining.checked_sub(1) {
            Some(remaining) => Ok(StrictSeed { remaining, ..self }),
            None => Err(self.refuse(Strict::TooDeep)),
        }
    }

    pub(crate) fn refuse<E: de::Error>(self, rule: Strict) -> E {
        let error = E::custom(rule.text());
        self.why.set(Some(rule));
        error
    }
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never yields non-finite numbers from text, so `from_f64` succeeds.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.descend()?;
        // Grow as elements arrive: the size hint comes from the input and is not trusted.
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.descend()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "__proto__" {
                return Err(self.refuse(Strict::ProtoKey));
            }
            match out.entry(key) {
                serde_json::map::Entry::Occupied(e) => {
                    return Err(self.refuse(Strict::DuplicateKey(e.key().clone())));
                }
                serde_json::map::Entry::Vacant(e) => {
                    e.insert(map.next_value_seed(inner)?);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn parses_ordinary_json_like_serde_json() {
        let text = r#"{"a":[1,-2,3.5,"x",null,true],"b":{"c":{}}}"#;
        assert_eq!(
            parse_strict_str(text, 8).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn depth_at_limit_is_accepted() {
        assert_eq!(parse_strict_str(&nested(4), 4).unwrap(), json!([[[[1]]]]));
        assert_eq!(parse_strict_str("7", 0).unwrap(), json!(7));
    }

    #[test]
    fn depth_one_past_limit_is_refused() {
        assert_eq!(
            parse_strict_str(&nested(5), 4),
            Err(JsonError::TooDeep { limit: 4 })
        );
        assert_eq!(
            parse_strict_str("{}", 0),
            Err(JsonError::TooDeep { limit: 0 })
        );
    }

    #[test]
    fn very_deep_input_does_not_overflow_the_stack() {
        let text = nested(100_000);
        assert_eq!(
            parse_strict_str(&text, 64),
            Err(JsonError::TooDeep { limit: 64 })
        );
        // Beyond serde_json's own limit of 128 the answer is the same code.
        assert!(matches!(
            parse_strict_str(&text, 1000),
            Err(JsonError::TooDeep { .. })
        ));
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = parse_strict_str(r#"{"a":1,"a":2}"#, 8).unwrap_err();
        assert_eq!(err, JsonError::DuplicateKey { key: "a".into() });
        // Nested too.
        assert!(parse_strict_str(r#"{"x":{"k":1,"k":1}}"#, 8).is_err());
    }

    #[test]
    fn proto_keys_are_refused_at_any_depth() {
        let proto = Err(JsonError::ProtoKey);
        assert_eq!(parse_strict_str(r#"{"__proto__":{}}"#, 8), proto);
        assert_eq!(parse_strict_str(r#"[{"a":{"__proto__":1}}]"#, 8), proto);
        // An escaped spelling decodes to the same key and is refused as well.
        assert_eq!(parse_strict_str(r#"{"\u005f_proto__":{}}"#, 8), proto);
        assert!(parse_strict_str(r#"{"proto":{}}"#, 8).is_ok());
    }

    #[test]
    fn trailing_data_and_bad_utf8_are_refused() {
        assert!(matches!(
            parse_strict_str("{} {}", 8),
            Err(JsonError::Syntax(_))
        ));
        assert_eq!(
            parse_strict(b"\"\xff\"", 8),
            Err(JsonError::NotUtf8 { offset: 1 })
        );
        assert!(matches!(parse_strict(b"", 8), Err(JsonError::Syntax(_))));
        // A string that merely reads like a strict refusal is still just a string.
        assert!(parse_strict_str(r#"{"k":"duplicate key \"k\""}"#, 8).is_ok());
    }

    #[test]
    fn the_limit_is_at_most_the_config_maximum() {
        // 128 levels: past serde_json's own recursion limit, which the strict parse replaces.
        assert!(parse_strict_str(&nested(128), 1000).is_ok());
        assert_eq!(
            parse_strict_str(&nested(129), 1000),
            Err(JsonError::TooDeep {
                limit: MAX_DEPTH_LIMIT
            })
        );
    }
}
