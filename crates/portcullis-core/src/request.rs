//! The request inside the ciphertext: framing of the v1 plaintext.
//!
//! ```text
//! kind (1: 1=command, 2=event, 3=report, 4=cancel) | body type (1: 0=JSON, 1=bytes)
//! | request id (u64 BE) | name length (u16 BE, 1..=128) | name (UTF-8, [A-Za-z0-9_.:|/-])
//! | body (rest)
//! ```
//!
//! Kind 3 is a [`Report`]: the isolation frame telling the gate, sealed like any message,
//! that it refused a call (its hook said no, timed out, or the value was not canonical).
//! A report is only ever recorded, never dispatched: it decodes to its own type, which
//! the policy and the router never take.
//!
//! Kind 4 is a cancel: the page load asking to stop its own call `request id` (the
//! caller aborted it or gave up waiting). It has no body, is framed under
//! [`CANCEL_NAME`], and decodes to its own type too: it never reaches the policy, and the
//! router honours it only for a call of the same page load ([`crate::router`]).
//!
//! Everything the policy decides on (kind, name, arguments) is in here, so it is covered
//! by the AEAD tag. A JSON body is parsed strictly ([`crate::json`]): depth-limited, no
//! duplicate keys, no `__proto__` keys. A bytes body is kept where decryption left it.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ErrorCode, Rejection};
use crate::json::tree::{Tree, parse_tree};
use crate::json::{JsonError, MAX_DEPTH_LIMIT, parse_strict};
use crate::name::NAME_RULE;

/// Length of the fixed part before the name.
pub const PREFIX_LEN: usize = 1 + 1 + 8 + 2;
pub use crate::name::{MAX_NAME_LEN, is_valid_name};

/// Command, event, or the open of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A call that expects a reply.
    Command,
    /// A fire-and-forget event.
    Event,
    /// The open of a frontend-to-core stream (its body: the metadata). Its chunks follow
    /// in chunk envelopes ([`crate::stream`]).
    Stream,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Command => 1,
            Kind::Event => 2,
            Kind::Stream => 5,
        }
    }

    /// `"command"`, `"event"` or `"stream"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Command => "command",
            Kind::Event => "event",
            Kind::Stream => "stream",
        }
    }
}

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
    fn from_buffer(mut buf: Vec<u8>, start: usize, max_depth: u32) -> Result<JsonText, JsonError> {
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

/// A decoded request. Built by the gate from an authentic plaintext, or by a sealer-side
/// caller to encode one.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Command or event.
    pub kind: Kind,
    /// The caller's request id, echoed in the reply.
    pub id: u64,
    /// Command or event name.
    pub name: String,
    /// Arguments or payload.
    pub body: Body,
}

/// The name a report is framed under.
pub const REPORT_NAME: &str = "portcullis.report";
/// The longest report message the gate keeps (longer ones are cut at a character
/// boundary and marked).
pub const MAX_REPORT_MESSAGE: usize = 512;

/// A refusal the isolation frame made and reported: recorded as an audit event with its
/// code, never dispatched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The refused call's request id.
    pub request_id: u64,
    /// Why it was refused: one of [`Report::CODES`].
    pub code: ErrorCode,
    /// The refusal's message (the hook's own, for `E_HOOK_REJECTED`).
    pub message: String,
    /// The refused call's kind, when it had a valid one.
    pub kind: Option<Kind>,
    /// The refused call's name, when it had a valid one.
    pub name: Option<String>,
}

/// The name a cancel is framed under.
pub const CANCEL_NAME: &str = "portcullis.cancel";

/// Encodes the plaintext of a cancel of call `request_id` (what the isolation runtime
/// sends when its caller aborts).
pub fn encode_cancel(request_id: u64) -> Vec<u8> {
    prefix_byte(4, 0, request_id, CANCEL_NAME)
}

/// What the isolation frame puts in a report's JSON body.
#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    code: String,
    message: String,
    kind: Option<String>,
    name: Option<String>,
}

impl Report {
    /// The codes only the isolation frame produces, and so the only ones it may report.
    pub const CODES: &'static [ErrorCode] = &[
        ErrorCode::HookRejected,
        ErrorCode::HookTimeout,
        ErrorCode::BadRequest,
        ErrorCode::TooDeep,
        ErrorCode::TooLarge,
    ];

    /// Encodes this report as a plaintext (what the isolation runtime sends).
    pub fn encode(&self) -> Vec<u8> {
        let body = ReportBody {
            code: self.code.as_str().to_owned(),
            message: self.message.clone(),
            kind: self.kind.map(|k| k.as_str().to_owned()),
            name: self.name.clone(),
        };
        let mut out = prefix_byte(3, 0, self.request_id, REPORT_NAME);
        let _ = serde_json::to_writer(&mut out, &body);
        out
    }

    fn decode(plain: &[u8], id: u64, name: &str, body_type: u8) -> Result<Report, Rejection> {
        if name != REPORT_NAME || body_type != 0 {
            return Err(bad(format!(
                "a report is framed as JSON under the name {REPORT_NAME:?}"
            )));
        }
        let value = parse_strict(plain, 2).map_err(|e| bad(format!("report body: {e}")))?;
        let body: ReportBody =
            serde_json::from_value(value).map_err(|e| bad(format!("report body: {e}")))?;
        let code = ErrorCode::from_code_str(&body.code)
            .filter(|c| Report::CODES.contains(c))
            .ok_or_else(|| {
                bad(format!(
                    "a report may carry only a code the isolation frame produces, not {:?}",
                    body.code
                ))
            })?;
        let kind = match body.kind.as_deref() {
            None => None,
            Some("command") => Some(Kind::Command),
            Some("event") => Some(Kind::Event),
            Some("stream") => Some(Kind::Stream),
            Some(_) => return Err(bad("report kind must be command, event, stream or null")),
        };
        let name = match body.name {
            Some(n) if is_valid_name(&n) => Some(n),
            Some(_) => return Err(bad("report name must be a valid name or null")),
            None => None,
        };
        Ok(Report {
            request_id: id,
            code,
            message: shorten(body.message),
            kind,
            name,
        })
    }
}

/// Cuts `message` to [`MAX_REPORT_MESSAGE`] bytes at a character boundary.
fn shorten(mut message: String) -> String {
    if message.len() > MAX_REPORT_MESSAGE {
        let mut end = MAX_REPORT_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push_str(" (cut)");
    }
    message
}

/// What a sealed plaintext turned out to be.
#[derive(Debug)]
pub(crate) enum Opened {
    /// A command or event, for the policy.
    Call(Request),
    /// A refusal report, for the audit only.
    Report(Report),
    /// A cancel of the call with this request id, for the router.
    Cancel(u64),
    /// A stream chunk (brownfield framing, kind 6), for the router.
    Chunk(crate::envelope::ChunkAt, crate::stream::ChunkOp),
}

fn bad(msg: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::BadRequest, msg)
}

impl Request {
    /// Encodes the plaintext of `kind`/`id`/`name` with a JSON body.
    pub fn encode_json(kind: Kind, id: u64, name: &str, args: &Value) -> Vec<u8> {
        let mut out = prefix(kind, 0, id, name);
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, args);
        out
    }

    /// Encodes the plaintext of `kind`/`id`/`name` with a bytes body.
    pub fn encode_bytes(kind: Kind, id: u64, name: &str, bytes: &[u8]) -> Vec<u8> {
        let mut out = prefix(kind, 1, id, name);
        out.extend_from_slice(bytes);
        out
    }

    /// Decodes a plaintext: a call, a cancel (kind 4) or, only when it was `sealed` by the
    /// isolation frame, a report (kind 3).
    pub(crate) fn open_at(
        buf: Vec<u8>,
        start: usize,
        max_depth: u32,
        sealed: bool,
    ) -> Result<Opened, Rejection> {
        let plain = buf.get(start..).unwrap_or_default();
        match plain.first() {
            Some(3) if sealed => {
                let (id, name, name_end) = framing(plain)?;
                Report::decode(&plain[name_end..], id, name, plain[1]).map(Opened::Report)
            }
            Some(4) => {
                let (id, name, name_end) = framing(plain)?;
                if name != CANCEL_NAME || plain[1] != 0 || plain.len() != name_end {
                    return Err(bad(format!(
                        "a cancel is framed under the name {CANCEL_NAME:?}, with no body"
                    )));
                }
                Ok(Opened::Cancel(id))
            }
            Some(6) if sealed => Err(bad(
                "a sealed stream chunk travels in a chunk envelope (flags 1), not as a request",
            )),
            Some(6) => {
                let (id, name, name_end) = framing(plain)?;
                let number = plain
                    .get(name_end..name_end + 8)
                    .filter(|_| name == crate::stream::CHUNK_NAME && plain[1] == 1);
                let Some(number) = number else {
                    return Err(bad(format!(
                        "a chunk is framed under the name {:?} with a bytes body: number (u64), operation, data",
                        crate::stream::CHUNK_NAME
                    )));
                };
                let mut n = [0u8; 8];
                n.copy_from_slice(number);
                let at = crate::envelope::ChunkAt {
                    stream: id,
                    number: u64::from_be_bytes(n),
                };
                let op_at = start + name_end + 8;
                crate::stream::parse_op(buf, op_at).map(|op| Opened::Chunk(at, op))
            }
            _ => Request::decode_at(buf, start, max_depth).map(Opened::Call),
        }
    }

    /// Decodes a plaintext (the whole decryption buffer), parsing a JSON body with at
    /// most `max_depth` levels of nesting.
    pub fn decode(plain: Vec<u8>, max_depth: u32) -> Result<Request, Rejection> {
        Request::decode_at(plain, 0, max_depth)
    }

    /// Decodes the plaintext that starts at `start` in `buf` (the rest of `buf` is the
    /// plaintext; the bytes before `start` are ignored). Lets a decryption buffer that
    /// still holds the envelope header be used without moving the plaintext.
    pub(crate) fn decode_at(
        buf: Vec<u8>,
        start: usize,
        max_depth: u32,
    ) -> Result<Request, Rejection> {
        let plain = buf.get(start..).unwrap_or_default();
        let (id, name, name_end) = framing(plain)?;
        let kind = match plain[0] {
            1 => Kind::Command,
            2 => Kind::Event,
            5 => Kind::Stream,
            3 => {
                return Err(bad(
                    "a refusal report is only taken sealed, from the isolation frame",
                ));
            }
            4 => return Err(bad("a cancel is not a call")),
            6 => return Err(bad("a stream chunk is not a call")),
            other => return Err(bad(format!("unknown request kind {other}"))),
        };
        let body_type = plain[1];
        let name = name.to_owned();
        let body = match body_type {
            0 => Body::Json(
                JsonText::from_buffer(buf, start + name_end, max_depth).map_err(|e| match e {
                    JsonError::TooDeep { limit } => Rejection::new(
                        ErrorCode::TooDeep,
                        format!("arguments nest deeper than limits.maxDepth ({limit})"),
                    ),
                    other => bad(format!("arguments are not valid JSON: {other}")),
                })?,
            ),
            1 => Body::Bytes(ByteBody {
                buf,
                start: start + name_end,
            }),
            other => return Err(bad(format!("unknown body type {other}"))),
        };
        Ok(Request {
            kind,
            id,
            name,
            body,
        })
    }
}

/// The framing every plaintext shares: the request id, the name, and where the body starts.
fn framing(plain: &[u8]) -> Result<(u64, &str, usize), Rejection> {
    if plain.len() < PREFIX_LEN {
        return Err(bad(format!(
            "request of {} bytes is shorter than its {PREFIX_LEN}-byte prefix",
            plain.len()
        )));
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&plain[2..10]);
    let id = u64::from_be_bytes(id);
    let name_len = u16::from_be_bytes([plain[10], plain[11]]) as usize;
    let name_end = PREFIX_LEN + name_len;
    let name = plain
        .get(PREFIX_LEN..name_end)
        .ok_or_else(|| bad("name runs past the end of the request"))?;
    let name = std::str::from_utf8(name)
        .ok()
        .filter(|n| is_valid_name(n))
        .ok_or_else(|| bad(format!("name must be {NAME_RULE}")))?;
    Ok((id, name, name_end))
}

/// A name outside the grammar is encoded as the empty name, which every gate refuses
/// (`E_BAD_REQUEST`): never truncated or coerced into some other, valid name.
fn prefix(kind: Kind, body_type: u8, id: u64, name: &str) -> Vec<u8> {
    prefix_byte(kind.byte(), body_type, id, name)
}

pub(crate) fn prefix_byte(kind: u8, body_type: u8, id: u64, name: &str) -> Vec<u8> {
    let name = if is_valid_name(name) {
        name.as_bytes()
    } else {
        &[]
    };
    let mut out = Vec::with_capacity(PREFIX_LEN + name.len() + 64);
    out.push(kind);
    out.push(body_type);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name);
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(plain: Vec<u8>) -> ErrorCode {
        Request::decode(plain, 8).unwrap_err().code
    }

    #[test]
    fn json_round_trip() {
        let args = json!({"title": "hi", "tags": ["a"]});
        let plain = Request::encode_json(Kind::Command, 42, "notes.add", &args);
        let req = Request::decode(plain, 8).unwrap();
        assert_eq!(
            req,
            Request {
                kind: Kind::Command,
                id: 42,
                name: "notes.add".into(),
                body: Body::Json(JsonText::from_value(&args).unwrap())
            }
        );
    }

    #[test]
    fn bytes_round_trip_without_json() {
        let plain = Request::encode_bytes(Kind::Event, 7, "upload", &[0, 255, 1]);
        let req = Request::decode(plain, 8).unwrap();
        assert_eq!(req.kind, Kind::Event);
        match req.body {
            Body::Bytes(b) => {
                assert_eq!(b.as_slice(), &[0, 255, 1]);
                assert_eq!(b.into_vec(), vec![0, 255, 1]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prefix_boundaries() {
        let plain = Request::encode_bytes(Kind::Command, 1, "a", b"");
        assert_eq!(plain.len(), PREFIX_LEN + 1);
        assert!(Request::decode(plain.clone(), 8).is_ok());
        assert_eq!(
            code(plain[..PREFIX_LEN - 1].to_vec()),
            ErrorCode::BadRequest
        );
        // Name length pointing one past the end.
        assert_eq!(code(plain[..PREFIX_LEN].to_vec()), ErrorCode::BadRequest);
    }

    #[test]
    fn bad_kind_body_type_and_names() {
        let mut p = Request::encode_json(Kind::Command, 1, "a", &json!({}));
        p[0] = 3;
        assert_eq!(code(p), ErrorCode::BadRequest);
        let mut p = Request::encode_json(Kind::Command, 1, "a", &json!({}));
        p[1] = 2;
        assert_eq!(code(p), ErrorCode::BadRequest);
        for name in [
            "",
            "has space",
            "ünï",
            "a\0b",
            &"x".repeat(MAX_NAME_LEN + 1),
        ] {
            let p = Request::encode_json(Kind::Command, 1, name, &json!({}));
            assert_eq!(code(p), ErrorCode::BadRequest, "{name:?}");
        }
        let p = Request::encode_json(Kind::Command, 1, &"x".repeat(MAX_NAME_LEN), &json!({}));
        assert!(Request::decode(p, 8).is_ok());
    }

    #[test]
    fn invalid_names_are_encoded_as_refusable_never_as_another_name() {
        let long = format!("secret.read{}", " ".repeat(65536));
        for name in [long.as_str(), "has space", ""] {
            let plain = Request::encode_json(Kind::Command, 1, name, &json!({}));
            assert_eq!(
                code(plain),
                ErrorCode::BadRequest,
                "{:?}",
                &name[..name.len().min(20)]
            );
        }
    }

    #[test]
    fn json_body_is_strict() {
        let mut p = Request::encode_bytes(Kind::Command, 1, "a", b"");
        p[1] = 0;
        assert_eq!(code(p.clone()), ErrorCode::BadRequest, "empty JSON body");
        let mut dup = p.clone();
        dup.extend_from_slice(br#"{"a":1,"a":2}"#);
        assert_eq!(code(dup), ErrorCode::BadRequest);
        let mut deep = p.clone();
        deep.extend_from_slice(b"[[[[[[[[[1]]]]]]]]]");
        assert_eq!(code(deep), ErrorCode::TooDeep);
    }

    #[test]
    fn debug_hides_argument_values() {
        let body = Body::Json(JsonText::from_value(&json!({"password": "hunter2"})).unwrap());
        assert_eq!(format!("{body:?}"), "Json(<object>)");
    }
}
