//! Reading JSON text into a [`Tree`] under the strict rules.
//!
//! serde_json's own parser reads the text; the seeds here build the tree as it goes,
//! borrowing every string and key that has no escapes. The invariant they keep is the
//! one [`crate::json::parse_strict`] keeps for a `Value`: at most the depth asked for
//! (never more than [`MAX_DEPTH_LIMIT`], and without recursing past it, so hostile
//! nesting cannot overflow the stack), no key twice in one object, no `__proto__` key.
//! Every [`Members`] this file builds has been through `Members::index`, so a large
//! object always has its sorted index.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use super::{Members, SCAN_LIMIT, Tree};
use crate::json::{JsonError, MAX_DEPTH_LIMIT, Strict, StrictSeed, classify};

/// Parses `text` as one JSON value with at most `max_depth` (at most
/// [`MAX_DEPTH_LIMIT`]) levels of nesting, under the strict rules.
pub fn parse_tree(text: &str, max_depth: u32) -> Result<Tree<'_>, JsonError> {
    let limit = max_depth.min(MAX_DEPTH_LIMIT);
    let why = Cell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let tree = TreeSeed(StrictSeed {
        remaining: limit,
        why: &why,
    })
    .deserialize(&mut de)
    .map_err(|e| classify(e, limit, &why))?;
    de.end().map_err(|e| classify(e, limit, &why))?;
    Ok(tree)
}

/// The tree's seed: the depth budget and the strict rules are [`StrictSeed`]'s own.
#[derive(Clone, Copy)]
struct TreeSeed<'w>(StrictSeed<'w>);

impl<'w> TreeSeed<'w> {
    fn descend<E: de::Error>(self) -> Result<TreeSeed<'w>, E> {
        self.0.descend().map(TreeSeed)
    }

    fn refuse<E: de::Error>(self, rule: Strict) -> E {
        self.0.refuse(rule)
    }
}

impl<'de> DeserializeSeed<'de> for TreeSeed<'_> {
    type Value = Tree<'de>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Tree<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TreeSeed<'_> {
    type Value = Tree<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Tree<'de>, E> {
        Ok(Tree::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Tree<'de>, E> {
        Ok(Tree::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Tree<'de>, E> {
        Ok(Tree::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Tree<'de>, E> {
        // serde_json never yields non-finite numbers from text.
        Ok(Number::from_f64(v).map_or(Tree::Null, Tree::Number))
    }

    #[inline]
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Tree<'de>, E> {
        Ok(Tree::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Tree<'de>, E> {
        Ok(Tree::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Tree<'de>, E> {
        Ok(Tree::String(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Tree<'de>, E> {
        Ok(Tree::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree<'de>, A::Error> {
        let inner = self.descend()?;
        // Grows as elements arrive: the size hint comes from the input and is not trusted.
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            items.push(v);
        }
        Ok(Tree::Array(items))
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree<'de>, A::Error> {
        let inner = self.descend()?;
        let mut members: Vec<(Cow<'de, str>, Tree<'de>)> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key == "__proto__" {
                return Err(self.refuse(Strict::ProtoKey));
            }
            if members.len() < SCAN_LIMIT && members.iter().any(|(k, _)| *k == key) {
                return Err(self.refuse(Strict::DuplicateKey(key.into_owned())));
            }
            let value = map.next_value_seed(inner)?;
            members.push((key, value));
        }
        Members::index(members)
            .map(Tree::Object)
            .map_err(|key| self.refuse(Strict::DuplicateKey(key)))
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    #[inline]
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    #[inline]
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_tree_is_the_value_serde_json_reads() {
        let text = r#"{"a":[1,-2,3.5,"x\n",null,true],"b":{"c":{}},"é":"\u00e9"}"#;
        let tree = parse_tree(text, 8).unwrap();
        assert_eq!(
            tree.to_value(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn strings_without_escapes_are_borrowed_and_with_escapes_decoded() {
        let tree = parse_tree(r#"{"plain":"abc","esc\"aped":"a\tb"}"#, 8).unwrap();
        let Tree::Object(members) = &tree else {
            panic!("{tree:?}")
        };
        let members = &members.list;
        assert!(matches!(members[0].0, Cow::Borrowed("plain")));
        assert!(matches!(members[0].1, Tree::String(Cow::Borrowed("abc"))));
        assert_eq!(members[1].0, "esc\"aped");
        assert_eq!(members[1].1, Tree::String(Cow::Owned("a\tb".into())));
    }

    #[test]
    fn the_strict_rules_are_those_of_parse_strict() {
        let deep = format!("{}1{}", "[".repeat(5), "]".repeat(5));
        assert_eq!(parse_tree(&deep, 4), Err(JsonError::TooDeep { limit: 4 }));
        assert!(parse_tree(&deep, 5).is_ok());
        assert_eq!(
            parse_tree(r#"{"a":1,"a":2}"#, 8),
            Err(JsonError::DuplicateKey { key: "a".into() })
        );
        assert_eq!(
            parse_tree(r#"[{"\u005f_proto__":1}]"#, 8),
            Err(JsonError::ProtoKey)
        );
        assert!(matches!(parse_tree("{} x", 8), Err(JsonError::Syntax(_))));
        // An escaped key equal to a plain one is the same key.
        assert_eq!(
            parse_tree(r#"{"k":1,"\u006b":2}"#, 8),
            Err(JsonError::DuplicateKey { key: "k".into() })
        );
    }

    #[test]
    fn a_duplicate_among_many_keys_is_found_without_a_scan_per_key() {
        let mut members: Vec<String> = (0..5000).map(|i| format!("\"k{i}\":{i}")).collect();
        assert!(parse_tree(&format!("{{{}}}", members.join(",")), 8).is_ok());
        members.push("\"k1234\":0".into());
        assert_eq!(
            parse_tree(&format!("{{{}}}", members.join(",")), 8),
            Err(JsonError::DuplicateKey {
                key: "k1234".into()
            })
        );
    }

    #[test]
    fn very_deep_input_does_not_overflow_the_stack() {
        let text = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            parse_tree(&text, 1000),
            Err(JsonError::TooDeep { .. })
        ));
    }
}
