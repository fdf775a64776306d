//! A request's body: JSON text that passed the strict check (parsed once, into a tree
//! that borrows from it), or raw bytes kept where decryption left them.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::json::tree::{Tree, parse_tree};
use crate::json::{JsonError, MAX_DEPTH_LIMIT};

/// A request body.
#[derive(Clone, PartialEq)]
pub enum Body {
    /// JSON arguments or event payload, as text that passed the strict check.
    Json(JsonText),
    /// Raw bytes (binary arguments), without any JSON.
    Bytes(ByteBody),
}

impl fmt::Debug for Body {
    /// Shows the shape, not the values: arguments are not logged by default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Json(text) => write!(f, "Json(<{}>)", text.json_type()),
            Body::Bytes(b) => write!(f, "Bytes(<{} bytes>)", b.as_slice().len()),
        }
    }
}

/// JSON arguments as the page sent them, once they passed the strict check of
/// [`crate::json`] (UTF-8, the depth limit, no duplicate and no `__proto__` keys), so
/// that whatever reads them later (the policy, the handler, a listener) sees the one
/// object the validation hook saw.
///
/// The text is parsed once, into a [`Tree`] that borrows its strings from it and is kept
/// beside it: the policy reads the tree for a rule's schema and path arguments, and
/// `Args<T>` deserializes `T` from the same tree.
pub struct JsonText(Parsed);

self_cell::self_cell!(
    struct Parsed {
        owner: String,
        #[covariant]
        dependent: Tree,
    }
);

impl Clone for JsonText {
    fn clone(&self) -> JsonText {
        let tree = self.tree().to_owned_tree();
        JsonText(Parsed::new(self.as_str().to_owned(), |_| tree))
    }
}

/// Two texts are equal when they are the same text.
impl PartialEq for JsonText {
    fn eq(&self, other: &JsonText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for JsonText {}

impl fmt::Debug for JsonText {
    /// Shows the type, not the value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonText(<{}>)", self.json_type())
    }
}

impl JsonText {
    /// Checks `text` under the strict rules with at most `max_depth` levels of nesting.
    #[inline]
    pub fn new(text: String, max_depth: u32) -> Result<JsonText, JsonError> {
        Parsed::try_new(text, |text| parse_tree(text, max_depth)).map(JsonText)
    }

    /// The checked text of `value` (for native callers and tests; a value with a
    /// `__proto__` key or deeper than [`MAX_DEPTH_LIMIT`] is refused like any other).
    pub fn from_value(value: &Value) -> Result<JsonText, JsonError> {
        JsonText::new(value.to_string(), MAX_DEPTH_LIMIT)
    }

    /// The text at `start` of a decryption buffer: moved to the front of the buffer,
    /// which becomes the text's own (no copy into a new allocation).
    #[inline]
    pub(crate) fn from_buffer(
        mut buf: Vec<u8>,
        start: usize,
        max_depth: u32,
    ) -> Result<JsonText, JsonError> {
        buf.drain(..start.min(buf.len()));
        let text = String::from_utf8(buf).map_err(|e| JsonError::NotUtf8 {
            offset: e.utf8_error().valid_up_to(),
        })?;
        JsonText::new(text, max_depth)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.borrow_owner()
    }

    /// The parsed value, borrowing from the text.
    pub fn tree(&self) -> &Tree<'_> {
        self.0.borrow_dependent()
    }

    /// The value as a `serde_json::Value` (copies every string).
    pub fn value(&self) -> Value {
        self.tree().to_value()
    }

    /// Deserializes `T` from the parsed value (no second parse of the text).
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(self.tree())
    }

    /// The JSON type name of the value, for messages that must not show it.
    pub fn json_type(&self) -> &'static str {
        match self.tree() {
            Tree::Null => "null",
            Tree::Bool(_) => "boolean",
            Tree::Number(_) => "number",
            Tree::String(_) => "string",
            Tree::Array(_) => "array",
            Tree::Object(_) => "object",
        }
    }

    /// Whether the value is `{}` or `null`: what a call without arguments sends.
    pub fn is_no_args(&self) -> bool {
        matches!(self.tree(), Tree::Null) || self.is_empty_object()
    }

    /// Whether the value is `{}`.
    pub fn is_empty_object(&self) -> bool {
        matches!(self.tree(), Tree::Object(members) if members.is_empty())
    }
}

/// Binary body, stored in the decryption buffer without a copy.
#[derive(Clone)]
pub struct ByteBody {
    buf: Vec<u8>,
    start: usize,
}

/// Two bodies are equal when their bytes are, wherever they sit in their buffers.
impl PartialEq for ByteBody {
    fn eq(&self, other: &ByteBody) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for ByteBody {}

impl ByteBody {
    /// The body at `start` of a decryption buffer.
    #[inline]
    pub(crate) fn at(buf: Vec<u8>, start: usize) -> ByteBody {
        ByteBody { buf, start }
    }

    /// A body of `bytes`, for unit tests of what takes a body.
    #[cfg(test)]
    pub(crate) fn for_tests(bytes: Vec<u8>) -> ByteBody {
        ByteBody {
            buf: bytes,
            start: 0,
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The bytes as an owned vector (moves them to the front of the buffer).
    pub fn into_vec(mut self) -> Vec<u8> {
        self.buf.drain(..self.start);
        self.buf
    }
}

/// The JSON type name of a value, for messages that must not show the value.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
