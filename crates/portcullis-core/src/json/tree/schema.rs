//! The tree as a `jsonschema` instance representation ([`TreeJson`]).
//!
//! `jsonschema` validates any representation that implements its `Json` traits
//! (`jsonschema::json`), with the same compiled keywords as for `Value`, so the schema
//! semantics are the library's, not ours. The invariant this adapter keeps: a schema
//! decides on a tree exactly as it decides on the `Value` serde_json reads from the same
//! text; the tests below run the library's own conformance check over this
//! representation and compare decisions with the `Value` validator. Nothing here copies
//! the tree: lookups go through [`Members::get`], comparisons walk it in place.

use std::borrow::Cow;

use jsonschema::JsonType;
use jsonschema::json::{Array, Json, Node, NodeIdentity, Object};
use jsonschema_value::LazyInstance;
use serde_json::{Number, Value};

use super::{Members, Tree};

/// The borrowed tree as a `jsonschema` instance representation.
pub struct TreeJson;

impl Json for TreeJson {
    type Node<'a> = &'a Tree<'a>;
    type PreparedKey = String;
    type StringBuffer = Tree<'static>;

    /// A tree holds no node twice, so a `$ref` cycle can only revisit the same instance.
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>(
        buffer: &mut Tree<'static>,
        string: &str,
        f: impl FnOnce(Self::Node<'_>) -> T,
    ) -> T {
        *buffer = Tree::String(Cow::Owned(string.to_owned()));
        f(buffer)
    }
}

impl<'a> Node<'a, TreeJson> for &'a Tree<'a> {
    type Object = &'a Members<'a>;
    type Array = &'a [Tree<'a>];
    type Number = &'a Number;

    fn as_object(&self) -> Option<Self::Object> {
        match self {
            Tree::Object(members) => Some(members),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<Self::Array> {
        match self {
            Tree::Array(items) => Some(items),
            _ => None,
        }
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match self {
            Tree::String(s) => Some(Cow::Borrowed(&**s)),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&'a Number> {
        match self {
            Tree::Number(n) => Some(n),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        match self {
            Tree::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Tree::Null)
    }

    fn json_type(&self) -> JsonType {
        match self {
            Tree::Null => JsonType::Null,
            Tree::Bool(_) => JsonType::Boolean,
            Tree::Number(_) => JsonType::Number,
            Tree::String(_) => JsonType::String,
            Tree::Array(_) => JsonType::Array,
            Tree::Object(_) => JsonType::Object,
        }
    }

    fn equals_value(&self, expected: &Value) -> bool {
        equals(self, expected)
    }

    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(Tree::to_value(self))
    }

    /// An error's instance is never shown (no argument values in our messages: the
    /// policy reports the instance path and the keyword), so none is built: building it
    /// would copy the whole subtree on every refusal.
    fn lazy_value(&self) -> LazyInstance<'a> {
        LazyInstance::Ready(Cow::Owned(Value::Null))
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(
            std::ptr::from_ref::<Tree<'a>>(*self) as usize
        ))
    }
}

/// Whether `tree` equals `expected` as JSON Schema compares (`const`, `enum`): numbers
/// by value, objects as sets of members. Walks the tree; copies nothing.
fn equals(tree: &Tree<'_>, expected: &Value) -> bool {
    match (tree, expected) {
        (Tree::Null, Value::Null) => true,
        (Tree::Bool(a), Value::Bool(b)) => a == b,
        (Tree::Number(a), Value::Number(b)) => jsonschema::json::cmp::equal_numbers(a, b),
        (Tree::String(a), Value::String(b)) => a == b,
        (Tree::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equals(x, y))
        }
        // Keys are unique on both sides, so equal sizes and every member found is
        // equality of the sets.
        (Tree::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(&**k).is_some_and(|w| equals(v, w)))
        }
        _ => false,
    }
}

impl<'a> Object<'a, TreeJson> for &'a Members<'a> {
    type Node = &'a Tree<'a>;
    type MemberName = &'a str;
    type MembersIter = MemberIter<'a>;

    fn len(&self) -> usize {
        self.list.len()
    }

    fn get(&self, key: &String) -> Option<&'a Tree<'a>> {
        Members::get(self, key)
    }

    fn members(&self) -> MemberIter<'a> {
        MemberIter(self.list.iter())
    }
}

/// An object's members, as `jsonschema` walks them.
pub struct MemberIter<'a>(std::slice::Iter<'a, (Cow<'a, str>, Tree<'a>)>);

impl<'a> Iterator for MemberIter<'a> {
    type Item = (&'a str, &'a Tree<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&**k, v))
    }
}

impl<'a> Array<'a, TreeJson> for &'a [Tree<'a>] {
    type Node = &'a Tree<'a>;
    type ElementsIter = std::slice::Iter<'a, Tree<'a>>;

    fn len(&self) -> usize {
        <[_]>::len(self)
    }

    fn elements(&self) -> Self::ElementsIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::tree::parse_tree;
    use serde_json::json;

    #[test]
    fn jsonschema_accepts_the_tree_as_a_representation() {
        let text = jsonschema::json::conformance::document().to_string();
        let tree = parse_tree(&text, 64).unwrap();
        jsonschema::json::conformance::assert_conformance::<TreeJson>(&&tree);
    }

    #[test]
    fn a_schema_decides_on_the_tree_as_on_the_value() {
        let schema = json!({
            "type": "object", "required": ["title"], "additionalProperties": false,
            "properties": {"title": {"type": "string", "maxLength": 3},
                           "n": {"type": "integer", "minimum": 1},
                           "tags": {"type": "array", "uniqueItems": true},
                           "kind": {"enum": ["a", 1.0]}}
        });
        let on_tree = jsonschema::options_for::<TreeJson>()
            .build(&schema)
            .unwrap();
        let on_value = jsonschema::validator_for(&schema).unwrap();
        for text in [
            r#"{"title":"abc"}"#,
            r#"{"title":"abcd"}"#,
            r#"{"title":"é\u00e9é"}"#,
            r#"{"title":"a","n":1.0}"#,
            r#"{"title":"a","n":0}"#,
            r#"{"title":"a","tags":[1,1.0]}"#,
            r#"{"title":"a","tags":[{"x":1},{"x":2}]}"#,
            r#"{"title":"a","kind":1}"#,
            r#"{"title":"a","kind":"b"}"#,
            r#"{"title":"a","extra":true}"#,
            r#"["title"]"#,
            r#"{"title":"a","kind":1.0e0}"#,
            r#"{"title":"a","tags":[{"a":1,"b":[2]},{"b":[2.0],"a":1}]}"#,
        ] {
            let tree = parse_tree(text, 8).unwrap();
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(on_tree.is_valid(&tree), on_value.is_valid(&value), "{text}");
        }
    }
}
