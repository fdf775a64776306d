//! A JSON tree that borrows its strings from the text it was parsed from.
//!
//! The policy checks arguments against a rule's JSON Schema and reads its path arguments
//! by JSON pointer; both need a tree, but neither needs the tree to own its strings.
//! Building a `serde_json::Value` copied every key and string into its own allocation
//! and every object into a map, and was the largest cost of a small message. This tree
//! keeps each string as a slice of the request's text (only a string with escapes is
//! decoded into its own buffer) and each object as its members in order.
//!
//! This file holds the [`Tree`] type, its object [`Members`] and their plain methods
//! (lookups, JSON pointers, copies). Each other job on the tree has a file of its own:
//!
//! - `parse.rs`: [`parse_tree`], reading text into a tree under the same strict rules as
//!   [`super::parse_strict`] (a depth limit, no duplicate keys, no `__proto__` keys);
//! - `schema.rs`: [`TreeJson`], the adapter through which `jsonschema` validates a tree
//!   with the library's own compiled keywords;
//! - `de.rs`: a serde `Deserializer` over a tree, so a handler's arguments are read from
//!   the tree the policy checked instead of from the text again.
//!
//! The invariant every file keeps: an object's members are in the order of the text, no
//! key occurs twice, and an object of more than `SCAN_LIMIT` members carries an index of
//! its members sorted by key. Only [`parse_tree`] builds `Members` from input, and only
//! after it refused every duplicate key.
//!
//! These files import from this one (and from `crate::json`), never from each other.

use std::borrow::Cow;

use serde_json::{Number, Value};

mod de;
mod parse;
mod schema;

pub use parse::parse_tree;
pub use schema::{MemberIter, TreeJson};

/// One JSON value whose strings borrow from the text, where they can.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Tree<'a> {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it.
    Number(Number),
    /// A string: a slice of the text, or decoded when it had escapes.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Tree<'a>>),
    /// An object's members, in the order of the text; no key twice.
    Object(Members<'a>),
}

/// An object's members: in the order of the text, and, for an object of more than
/// [`SCAN_LIMIT`] members, an index of them sorted by key, so that a lookup (by the
/// schema's `properties` and `required`, by a path pointer) is a binary search, not a
/// scan of everything the page sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Members<'a> {
    list: Vec<(Cow<'a, str>, Tree<'a>)>,
    /// Positions in `list`, ordered by key; empty for a small object.
    sorted: Vec<u32>,
}

impl<'a> Members<'a> {
    /// The members in the order of the text.
    pub fn iter(&self) -> std::slice::Iter<'_, (Cow<'a, str>, Tree<'a>)> {
        self.list.iter()
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the object is `{}`.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The value of member `key`.
    pub fn get(&self, key: &str) -> Option<&Tree<'a>> {
        if self.sorted.is_empty() {
            return self.list.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        }
        let at = self
            .sorted
            .binary_search_by(|&i| (*self.list[i as usize].0).cmp(key))
            .ok()?;
        Some(&self.list[self.sorted[at] as usize].1)
    }

    /// Members in the order of the text; for a large object, the sorted index is built
    /// and a key that occurs twice is returned as the error.
    fn index(list: Vec<(Cow<'a, str>, Tree<'a>)>) -> Result<Members<'a>, String> {
        if list.len() <= SCAN_LIMIT {
            return Ok(Members {
                list,
                sorted: Vec::new(),
            });
        }
        // Positions fit in u32: an object has fewer members than its text has bytes, and
        // a message is far smaller than 4 GiB (limits.maxMessageBytes).
        let mut sorted: Vec<u32> = (0..list.len() as u32).collect();
        sorted.sort_unstable_by(|&a, &b| list[a as usize].0.cmp(&list[b as usize].0));
        if let Some(pair) = sorted
            .windows(2)
            .find(|pair| list[pair[0] as usize].0 == list[pair[1] as usize].0)
        {
            return Err(list[pair[0] as usize].0.clone().into_owned());
        }
        Ok(Members { list, sorted })
    }
}

/// Objects up to this many members look for a duplicate key by scanning; larger ones
/// sort their keys once at the end (a scan per key would be quadratic in what the page
/// sent).
const SCAN_LIMIT: usize = 16;

impl<'a> Tree<'a> {
    /// The value at JSON pointer `pointer` (RFC 6901): `""` is the whole value, `/a/0`
    /// member `a`'s first element; `~1` stands for `/` and `~0` for `~` in a token. An
    /// array index is decimal digits without a leading zero.
    pub fn pointer(&self, pointer: &str) -> Option<&Tree<'a>> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        rest.split('/').try_fold(self, |at, token| {
            let token = token.replace("~1", "/").replace("~0", "~");
            match at {
                Tree::Object(members) => members.get(&token),
                Tree::Array(items) => index(&token).and_then(|i| items.get(i)),
                _ => None,
            }
        })
    }

    /// The same value, owning all its strings.
    pub fn to_owned_tree(&self) -> Tree<'static> {
        match self {
            Tree::Null => Tree::Null,
            Tree::Bool(b) => Tree::Bool(*b),
            Tree::Number(n) => Tree::Number(n.clone()),
            Tree::String(s) => Tree::String(Cow::Owned(s.clone().into_owned())),
            Tree::Array(items) => Tree::Array(items.iter().map(Tree::to_owned_tree).collect()),
            Tree::Object(members) => Tree::Object(Members {
                list: members
                    .iter()
                    .map(|(k, v)| (Cow::Owned(k.clone().into_owned()), v.to_owned_tree()))
                    .collect(),
                sorted: members.sorted.clone(),
            }),
        }
    }

    /// The same value as a `serde_json::Value` (copies every string).
    pub fn to_value(&self) -> Value {
        match self {
            Tree::Null => Value::Null,
            Tree::Bool(b) => Value::Bool(*b),
            Tree::Number(n) => Value::Number(n.clone()),
            Tree::String(s) => Value::String(s.clone().into_owned()),
            Tree::Array(items) => Value::Array(items.iter().map(Tree::to_value).collect()),
            Tree::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone().into_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

fn index(token: &str) -> Option<usize> {
    let leading_zero = token.len() > 1 && token.starts_with('0');
    if leading_zero || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_large_object_is_looked_up_through_its_sorted_index() {
        let members: Vec<String> = (0..100).rev().map(|i| format!("\"k{i}\":{i}")).collect();
        let text = format!("{{{}}}", members.join(","));
        let tree = parse_tree(&text, 8).unwrap();
        let Tree::Object(object) = &tree else {
            panic!("{tree:?}")
        };
        assert_eq!(
            object.sorted.len(),
            100,
            "the index is built past SCAN_LIMIT"
        );
        for i in 0..100 {
            assert_eq!(
                tree.pointer(&format!("/k{i}")),
                Some(&Tree::Number(i.into()))
            );
        }
        assert_eq!(tree.pointer("/k100"), None);
        assert_eq!(tree.pointer("/k"), None);
        // The schema's lookups agree with the Value's on the same large object.
        let value: Value = serde_json::from_str(&text).unwrap();
        for schema in [
            json!({"required": ["k0", "k99", "k50"]}),
            json!({"required": ["k0", "k100"]}),
            json!({"properties": {"k7": {"const": 7}}}),
            json!({"properties": {"k7": {"const": 8}}}),
            json!({"const": value.clone()}),
            json!({"not": {"const": value.clone()}}),
            json!({"enum": [{"k0": 0}, value.clone()]}),
        ] {
            let on_tree = jsonschema::options_for::<TreeJson>()
                .build(&schema)
                .unwrap();
            let on_value = jsonschema::validator_for(&schema).unwrap();
            assert_eq!(
                on_tree.is_valid(&tree),
                on_value.is_valid(&value),
                "{schema}"
            );
            assert_eq!(
                on_tree.validate(&tree).is_ok(),
                on_value.is_valid(&value),
                "{schema}"
            );
        }
    }

    #[test]
    fn pointers_follow_rfc_6901() {
        let tree = parse_tree(r#"{"a":[{"b/c":1,"d~e":2}],"":3,"07":4}"#, 8).unwrap();
        let at = |p: &str| tree.pointer(p).map(Tree::to_value);
        assert_eq!(at(""), Some(tree.to_value()));
        assert_eq!(at("/a/0/b~1c"), Some(json!(1)));
        assert_eq!(at("/a/0/d~0e"), Some(json!(2)));
        assert_eq!(at("/"), Some(json!(3)));
        assert_eq!(at("/07"), Some(json!(4)));
        for missing in ["a", "/a/1", "/a/00", "/a/+0", "/a/-1", "/a/0/x", "/z"] {
            assert_eq!(at(missing), None, "{missing}");
        }
        // Every answer agrees with serde_json's own pointer over the same value.
        let value = tree.to_value();
        for p in ["", "/a/0/b~1c", "/a/00", "/a/+0", "/", "/07"] {
            assert_eq!(at(p).as_ref(), value.pointer(p), "{p}");
        }
    }
}
