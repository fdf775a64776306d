//! A JSON tree that borrows its strings from the text it was parsed from, and the
//! `jsonschema` representation over it.
//!
//! The policy checks arguments against a rule's JSON Schema and reads its path arguments
//! by JSON pointer; both need a tree, but neither needs the tree to own its strings.
//! Building a `serde_json::Value` copied every key and string into its own allocation
//! and every object into a map, and was the largest cost of a small message. This tree
//! keeps each string as a slice of the request's text (only a string with escapes is
//! decoded into its own buffer) and each object as its members in order.
//!
//! `jsonschema` validates any representation that implements its `Json` traits
//! (`jsonschema::json`), with the same compiled keywords as for `Value`, so the schema
//! semantics are the library's, not ours; the test at the bottom runs the library's own
//! conformance check over this representation.
//!
//! Parsing applies the same strict rules as [`super::parse_strict`]: a depth limit, no
//! duplicate keys, no `__proto__` keys.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use jsonschema::JsonType;
use jsonschema::json::{Array, Json, Node, NodeIdentity, Object};
use jsonschema_value::LazyInstance;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use super::{JsonError, MAX_DEPTH_LIMIT, Strict, StrictSeed, classify};

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

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

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

// A handler's `Args<T>` is deserialized from the tree the policy read, not from the text
// again: the parse is done once per message. What follows is a serde `Deserializer` over
// the tree that answers as serde_json's own does over a `Value` (the same visits for the
// same JSON, map keys read as numbers or booleans when the type asks for them), so `T`
// comes out the same as it did from a `Value`.

type Error = serde_json::Error;

/// Numeric requests: a number only, read by serde_json's own `Number`.
macro_rules! number_only {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self {
                Tree::Number(n) => n.clone().$method(visitor),
                other => Err(other.invalid_type(&visitor)),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for &'de Tree<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Null => visitor.visit_unit(),
            Tree::Bool(b) => visitor.visit_bool(*b),
            Tree::Number(n) => n.clone().deserialize_any(visitor),
            Tree::String(s) => visitor.visit_borrowed_str(s),
            Tree::Array(items) => {
                let mut seq = Items(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                match seq.0.len() {
                    0 => Ok(value),
                    _ => Err(de::Error::invalid_length(
                        items.len(),
                        &"fewer elements in array",
                    )),
                }
            }
            Tree::Object(members) => {
                let mut map = MemberAccess {
                    members: members.iter(),
                    value: None,
                };
                let value = visitor.visit_map(&mut map)?;
                match map.members.len() {
                    0 => Ok(value),
                    _ => Err(de::Error::invalid_length(
                        members.len(),
                        &"fewer elements in map",
                    )),
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Tree::String(s) => visitor.visit_enum(Variant {
                name: s,
                value: None,
            }),
            Tree::Object(members) if members.len() == 1 => visitor.visit_enum(Variant {
                name: &members.list[0].0,
                value: Some(&members.list[0].1),
            }),
            Tree::Object(_) => Err(de::Error::invalid_value(
                de::Unexpected::Map,
                &"map with a single key",
            )),
            other => Err(de::Error::invalid_type(
                other.unexpected(),
                &"string or map",
            )),
        }
    }

    // Each typed request takes only the JSON type serde_json's `Value` takes for it, so
    // that nothing is read as something else: a number is never an enum's tag (a
    // variant index), a string never a number, an object never a sequence.

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Bool(b) => visitor.visit_bool(*b),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    number_only! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::String(s) => visitor.visit_borrowed_str(s),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::String(_) | Tree::Array(_) => self.deserialize_any(visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Null => visitor.visit_unit(),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Array(_) => self.deserialize_any(visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Object(_) => self.deserialize_any(visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Tree::Array(_) | Tree::Object(_) => self.deserialize_any(visitor),
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

impl Tree<'_> {
    fn invalid_type(&self, expected: &dyn de::Expected) -> Error {
        match self {
            // The number itself, as serde_json's message gives it.
            Tree::Number(n) => {
                let unexpected = if let Some(u) = n.as_u64() {
                    de::Unexpected::Unsigned(u)
                } else if let Some(i) = n.as_i64() {
                    de::Unexpected::Signed(i)
                } else {
                    de::Unexpected::Float(n.as_f64().unwrap_or(f64::NAN))
                };
                de::Error::invalid_type(unexpected, expected)
            }
            other => de::Error::invalid_type(other.unexpected(), expected),
        }
    }

    fn unexpected(&self) -> de::Unexpected<'_> {
        match self {
            Tree::Null => de::Unexpected::Unit,
            Tree::Bool(b) => de::Unexpected::Bool(*b),
            Tree::Number(_) => de::Unexpected::Other("number"),
            Tree::String(s) => de::Unexpected::Str(s),
            Tree::Array(_) => de::Unexpected::Seq,
            Tree::Object(_) => de::Unexpected::Map,
        }
    }
}

struct Items<'de>(std::slice::Iter<'de, Tree<'de>>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|item| seed.deserialize(item)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct MemberAccess<'de> {
    members: std::slice::Iter<'de, (Cow<'de, str>, Tree<'de>)>,
    value: Option<&'de Tree<'de>>,
}

impl<'de> MapAccess<'de> for MemberAccess<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.members.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(Key(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom(
                "a map value was asked for before its key",
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len())
    }
}

/// An object key: a string, or a number or boolean when the type asks for one (as
/// serde_json reads `{"1": ..}` into a map keyed by integers).
struct Key<'de>(&'de str);

/// A key asked for as a number is read as serde_json reads one: it starts with a digit
/// or `-`, is one JSON number by serde_json's own parser, and has nothing after it, so
/// `"01"`, `"+1"` or `"1 "` are not the key `1` (two such keys would be one key to the
/// handler, which the strict parse forbids).
macro_rules! numeric_key {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let numeric = matches!(self.0.as_bytes().first(), Some(b'0'..=b'9' | b'-'))
                && !self.0.ends_with(|c: char| c.is_ascii_whitespace());
            if !numeric {
                return Err(de::Error::invalid_type(de::Unexpected::Str(self.0), &visitor));
            }
            let mut de = serde_json::Deserializer::from_str(self.0);
            let value = de.$method(visitor)?;
            de.end()?;
            Ok(value)
        }
    )*};
}

impl<'de> Deserializer<'de> for Key<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    numeric_key! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            other => Err(de::Error::invalid_type(
                de::Unexpected::Str(other),
                &visitor,
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(Variant {
            name: self.0,
            value: None,
        })
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

/// An enum: its variant's name, and the value beside it (`{"Variant": value}`), or none
/// (`"Variant"`).
struct Variant<'de> {
    name: &'de str,
    value: Option<&'de Tree<'de>>,
}

impl<'de> de::EnumAccess<'de> for Variant<'de> {
    type Error = Error;
    type Variant = Beside<'de>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), Error> {
        Ok((seed.deserialize(Key(self.name))?, Beside(self.value)))
    }
}

/// The value beside an enum's variant name, if there is one.
struct Beside<'de>(Option<&'de Tree<'de>>);

impl<'de> de::VariantAccess<'de> for Beside<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            None | Some(Tree::Null) => Ok(()),
            Some(other) => Err(de::Error::invalid_type(other.unexpected(), &"unit variant")),
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        match self.0 {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Some(value @ Tree::Array(_)) => value.deserialize_any(visitor),
            Some(other) => Err(de::Error::invalid_type(
                other.unexpected(),
                &"tuple variant",
            )),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Some(value @ Tree::Object(_)) => value.deserialize_any(visitor),
            Some(other) => Err(de::Error::invalid_type(
                other.unexpected(),
                &"struct variant",
            )),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn very_deep_input_does_not_overflow_the_stack() {
        let text = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            parse_tree(&text, 1000),
            Err(JsonError::TooDeep { .. })
        ));
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

    /// Deserializes `T` from the text through the tree, and from a `Value` as before:
    /// both must agree, on success and on failure.
    fn same<T>(text: &str)
    where
        T: serde::de::DeserializeOwned + PartialEq + fmt::Debug,
    {
        let tree = parse_tree(text, 16).unwrap();
        let through_tree = T::deserialize(&tree).map_err(|e| e.to_string());
        let value: Value = serde_json::from_str(text).unwrap();
        let through_value = serde_json::from_value::<T>(value).map_err(|e| e.to_string());
        assert_eq!(
            through_tree.is_ok(),
            through_value.is_ok(),
            "{text}: {through_tree:?} / {through_value:?}"
        );
        if let (Ok(a), Ok(b)) = (&through_tree, &through_value) {
            assert_eq!(a, b, "{text}");
        }
    }

    #[derive(serde::Deserialize, PartialEq, Debug)]
    #[serde(deny_unknown_fields)]
    struct Note {
        title: String,
        tags: Vec<String>,
        pinned: Option<bool>,
        size: u32,
    }

    #[derive(serde::Deserialize, PartialEq, Debug)]
    enum Shape {
        Dot,
        Circle(f64),
        Rect { w: u8, h: u8 },
        Pair(i8, i8),
    }

    #[derive(serde::Deserialize, PartialEq, Debug)]
    #[serde(tag = "kind", rename_all = "lowercase")]
    enum Tagged {
        Text { body: String },
        Count { n: i64 },
    }

    #[derive(serde::Deserialize, PartialEq, Debug)]
    #[serde(untagged)]
    enum Either {
        Num(u64),
        Words(Vec<String>),
    }

    #[derive(serde::Deserialize, PartialEq, Debug)]
    struct Wrapper(String);

    #[test]
    fn types_come_out_of_the_tree_as_out_of_a_value() {
        same::<Note>(r#"{"title":"t","tags":["a","b\n"],"pinned":null,"size":7}"#);
        same::<Note>(r#"{"title":"t","tags":[],"size":7,"pinned":true}"#);
        same::<Note>(r#"{"title":"t","tags":[],"size":-7}"#);
        same::<Note>(r#"{"title":"t","tags":[],"size":7.5}"#);
        same::<Note>(r#"{"title":"t","tags":[],"size":7,"extra":1}"#);
        same::<Note>(r#"{"title":"t","size":7}"#);
        same::<Note>(r#"["t",["a"],null,7]"#);
        same::<Note>(r#"["t",["a"],null,7,8]"#);
        for shape in [
            r#""Dot""#,
            r#"{"Dot":null}"#,
            r#"{"Circle":1.5}"#,
            r#"{"Rect":{"w":1,"h":2}}"#,
            r#"{"Pair":[1,-2]}"#,
            r#"{"Pair":[1]}"#,
            r#""Circle""#,
            r#"{"Dot":1}"#,
            r#"{"Nope":1}"#,
            r#"{"Dot":null,"Circle":1}"#,
            "3",
        ] {
            same::<Shape>(shape);
        }
        same::<Tagged>(r#"{"kind":"text","body":"b"}"#);
        same::<Tagged>(r#"{"n":3,"kind":"count"}"#);
        same::<Tagged>(r#"{"kind":"other"}"#);
        // A number is never an enum's tag (serde would take it as a variant index).
        same::<Tagged>(r#"{"kind":1,"n":3}"#);
        same::<Tagged>(r#"{"kind":0,"body":"b"}"#);
        same::<Tagged>("[1,3]");
        same::<Vec<Tagged>>(r#"[{"kind":1,"n":3}]"#);
        same::<Shape>("1");
        same::<Shape>(r#"{"1":2.5}"#);
        same::<Either>("18446744073709551615");
        same::<Either>(r#"["x","y"]"#);
        same::<Either>(r#"{"x":1}"#);
        same::<Wrapper>(r#""w""#);
        same::<std::collections::BTreeMap<u32, bool>>(r#"{"1":true,"20":false}"#);
        same::<std::collections::BTreeMap<u32, bool>>(r#"{"x":true}"#);
        // Keys read as numbers only as serde_json reads them: two spellings of one number
        // would be one key to the handler.
        for key in [
            "01", "00", "+1", "-0", "1 ", " 1", "1.", ".5", "inf", "NaN", "1e2", "-1",
        ] {
            same::<std::collections::BTreeMap<i32, bool>>(&format!(r#"{{"{key}":true}}"#));
            same::<std::collections::BTreeMap<u64, bool>>(&format!(r#"{{"{key}":true}}"#));
            same::<std::collections::BTreeMap<i128, bool>>(&format!(r#"{{"{key}":true}}"#));
        }
        same::<std::collections::BTreeMap<bool, u8>>(r#"{"true":1,"false":0}"#);
        same::<std::collections::BTreeMap<bool, u8>>(r#"{"True":1}"#);
        same::<std::collections::BTreeMap<String, Option<u8>>>(r#"{"a":null,"b":255}"#);
        same::<(u8, String)>(r#"[1,"a"]"#);
        same::<(u8, String)>(r#"[1,"a",2]"#);
        same::<()>("null");
        same::<()>("{}");
        same::<Option<String>>("null");
        same::<Vec<u8>>("[0,255]");
        same::<Vec<u8>>("[256]");
        same::<f32>("1e39");
        same::<i128>("-170141183460469231731687303715884105728");
        same::<Value>(r#"{"a":[1,2.5,"x",{"b":null}],"c":true}"#);
        // Each typed request takes only its own JSON type.
        same::<String>("1");
        same::<u8>(r#""1""#);
        same::<bool>("0");
        same::<()>("0");
        same::<Vec<u8>>(r#"{"0":1}"#);
        same::<Vec<u8>>(r#""ab""#);
        same::<std::collections::BTreeMap<String, u8>>("[]");
        same::<char>(r#""é""#);
        same::<char>("1");
    }
}
