//! A call's plaintext (kinds 1, 2 and 5: command, event, the open of a stream): its
//! kind, request id, name and body, decoded from an authentic plaintext or encoded by a
//! sealer-side caller. Everything the policy decides on (kind, name, arguments) is in
//! here, so it is covered by the AEAD tag. A JSON body is parsed strictly
//! ([`crate::json`]): depth-limited, no duplicate keys, no `__proto__` keys. A bytes body
//! is kept where decryption left it.

use serde_json::Value;

use crate::error::{ErrorCode, Rejection};
use crate::json::JsonError;

pub use super::body::{Body, ByteBody, JsonText, json_type};
use super::constants::{BODY_BYTES, BODY_JSON};
pub use super::constants::{CANCEL_NAME, MessageKind, PREFIX_LEN};
use super::frame::{self, bad};
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
    /// in chunk envelopes ([`super::chunk`]).
    Stream,
}

impl Kind {
    /// The message kind a call of this kind travels as.
    pub const fn message_kind(self) -> MessageKind {
        match self {
            Kind::Command => MessageKind::Command,
            Kind::Event => MessageKind::Event,
            Kind::Stream => MessageKind::Stream,
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

/// Encodes the plaintext of a cancel of call `request_id` (what the isolation runtime
/// sends when its caller aborts): no body, under [`CANCEL_NAME`].
pub fn encode_cancel(request_id: u64) -> Vec<u8> {
    frame::write(MessageKind::Cancel, BODY_JSON, request_id, CANCEL_NAME)
}

impl Request {
    /// Encodes the plaintext of `kind`/`id`/`name` with a JSON body.
    pub fn encode_json(kind: Kind, id: u64, name: &str, args: &Value) -> Vec<u8> {
        let mut out = frame::write(kind.message_kind(), BODY_JSON, id, name);
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, args);
        out
    }

    /// Encodes the plaintext of `kind`/`id`/`name` with a bytes body.
    pub fn encode_bytes(kind: Kind, id: u64, name: &str, bytes: &[u8]) -> Vec<u8> {
        let mut out = frame::write(kind.message_kind(), BODY_BYTES, id, name);
        out.extend_from_slice(bytes);
        out
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
        let framing = frame::read(plain)?;
        let (id, name_end) = (framing.id, framing.body_at);
        let kind = match MessageKind::from_byte(framing.kind) {
            Some(MessageKind::Command) => Kind::Command,
            Some(MessageKind::Event) => Kind::Event,
            Some(MessageKind::Stream) => Kind::Stream,
            Some(MessageKind::Report) => {
                return Err(bad(
                    "a refusal report is only taken sealed, from the isolation frame",
                ));
            }
            Some(MessageKind::Cancel) => return Err(bad("a cancel is not a call")),
            Some(MessageKind::Chunk) => return Err(bad("a stream chunk is not a call")),
            None => return Err(bad(format!("unknown request kind {}", framing.kind))),
        };
        let name = framing.name.to_owned();
        let body = match framing.body_type {
            BODY_JSON => Body::Json(
                JsonText::from_buffer(buf, start + name_end, max_depth).map_err(|e| match e {
                    JsonError::TooDeep { limit } => Rejection::new(
                        ErrorCode::TooDeep,
                        format!("arguments nest deeper than limits.maxDepth ({limit})"),
                    ),
                    other => bad(format!("arguments are not valid JSON: {other}")),
                })?,
            ),
            BODY_BYTES => Body::Bytes(ByteBody::at(buf, start + name_end)),
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
