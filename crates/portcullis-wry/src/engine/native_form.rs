//! The form messages and answers take on a native transport: one string each way.
//!
//! Why strings: WebKitGTK hands a script message to the app as a JavaScriptCore value
//! converted through its own evaluation-result form, which keeps strings, numbers,
//! arrays and plain objects only. An `ArrayBuffer` or a `Uint8Array` arrives as an
//! object of numbered keys (measured with WebKitGTK 2.50.6), and an answer goes back the
//! same way. A string of one character per byte (each below U+0100) travels whole,
//! kept one byte per character by the engine; it reaches Rust as UTF-8.
//!
//! A message is a string whose first character says what follows:
//! - `E`, then an envelope, one character per byte;
//! - `C`, then a channel request (`pull <id>`, `close <id>`, `done <id>`);
//! - `W` and nothing else: a warm-up, which the isolation frame sends once while it
//!   starts so that the engine's first use of this path is not the app's first call. It
//!   reaches nothing: answered `=null` at once, before any state is read.
//!
//! An answer is a string whose first character says what follows:
//! - `=`, then a JSON result;
//! - `!`, then a JSON error `{code, message, ...}`;
//! - `#`, then a bytes result, one character per byte.
//!
//! Read by `isolation-app/transport.js` and, in brownfield mode, the bridge.

use portcullis_core::{ErrorCode, Rejection};

use crate::transport::Answer;

/// A message as the native transport received it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Message {
    /// An envelope for the gate.
    Envelope(Vec<u8>),
    /// A channel request's text.
    Channel(Vec<u8>),
    /// A warm-up: answered `=null`, reaches nothing.
    WarmUp,
}

/// The message in `text` (the string's UTF-8). Refused with `E_BAD_REQUEST` when its mark
/// is unknown or an envelope holds a character above U+00FF; the gate judges the rest.
/// Allocates at most `text.len()` bytes: what the engine already holds.
pub(crate) fn message(text: &[u8]) -> Result<Message, Rejection> {
    match text.split_first() {
        Some((b'E', rest)) => bytes_of(rest).map(Message::Envelope),
        Some((b'C', rest)) => Ok(Message::Channel(rest.to_vec())),
        Some((b'W', [])) => Ok(Message::WarmUp),
        _ => Err(Rejection::new(
            ErrorCode::BadRequest,
            "a native message is a string that starts with E (an envelope) or C (a channel request), or is W (a warm-up)",
        )),
    }
}

/// The bytes a string of one character per byte stands for, from its UTF-8.
fn bytes_of(utf8: &[u8]) -> Result<Vec<u8>, Rejection> {
    let mut bytes = Vec::with_capacity(utf8.len());
    let mut at = 0;
    while let Some(&b) = utf8.get(at) {
        if b < 0x80 {
            bytes.push(b);
            at += 1;
            continue;
        }
        // U+0080 to U+00FF: two bytes, C2 or C3 then a continuation byte.
        match (b, utf8.get(at + 1)) {
            (0xC2 | 0xC3, Some(&next)) if next & 0xC0 == 0x80 => {
                bytes.push(((b & 0x03) << 6) | (next & 0x3F));
                at += 2;
            }
            _ => {
                return Err(Rejection::new(
                    ErrorCode::BadRequest,
                    format!(
                        "a native envelope is one character per byte (below U+0100); offset {at} is not"
                    ),
                ));
            }
        }
    }
    Ok(bytes)
}

/// The string (as UTF-8) that carries `answer` back.
pub(crate) fn answer(answer: Answer) -> Vec<u8> {
    match answer {
        Answer::Json(text) => [b"=".as_slice(), &text].concat(),
        Answer::Error(e) => {
            // A CallError always serializes.
            let json = serde_json::to_vec(&e).unwrap_or_else(|_| b"{}".to_vec());
            [b"!".as_slice(), &json].concat()
        }
        Answer::Bytes(bytes) => {
            let high = bytes.iter().filter(|b| **b >= 0x80).count();
            let mut text = Vec::with_capacity(1 + bytes.len() + high);
            text.push(b'#');
            for b in bytes {
                if b < 0x80 {
                    text.push(b);
                } else {
                    text.extend_from_slice(&[0xC0 | (b >> 6), 0x80 | (b & 0x3F)]);
                }
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use portcullis_core::router::CallError;

    use super::*;

    /// What a page's string of one character per byte is in UTF-8.
    fn utf8_of(bytes: &[u8]) -> Vec<u8> {
        bytes
            .iter()
            .map(|b| char::from(*b))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn every_byte_travels_as_its_character_both_ways() {
        let all: Vec<u8> = (0..=255).collect();
        let mut sent = b"E".to_vec();
        sent.extend(utf8_of(&all));
        assert_eq!(message(&sent).unwrap(), Message::Envelope(all.clone()));
        let back = answer(Answer::Bytes(all.clone()));
        assert_eq!(back[0], b'#');
        assert_eq!(back[1..], utf8_of(&all));
        assert_eq!(message(b"E").unwrap(), Message::Envelope(Vec::new()));
    }

    #[test]
    fn a_channel_request_is_its_text() {
        assert_eq!(
            message(b"Cpull 0123").unwrap(),
            Message::Channel(b"pull 0123".to_vec())
        );
    }

    #[test]
    fn a_warm_up_is_w_alone() {
        assert_eq!(message(b"W").unwrap(), Message::WarmUp);
        for text in [&b"W "[..], b"WE", b"w", b"W\0"] {
            assert_eq!(
                message(text).unwrap_err().code,
                ErrorCode::BadRequest,
                "{text:?}"
            );
        }
    }

    #[test]
    fn an_unknown_mark_or_a_character_above_u00ff_is_refused() {
        let refused = |text: &[u8]| message(text).unwrap_err().code;
        for text in [&b""[..], b"X", b"e", b"{\"a\":1}", b"pull 1"] {
            assert_eq!(refused(text), ErrorCode::BadRequest, "{text:?}");
        }
        // U+0100 (C4 80), U+20AC (E2 82 AC), U+1F600 (F0 9F 98 80), a lone lead byte,
        // a lead byte without its continuation.
        for text in [
            &b"E\xC4\x80"[..],
            b"Ea\xE2\x82\xAC",
            b"E\xF0\x9F\x98\x80",
            b"E\xC3",
            b"E\xC3a",
        ] {
            assert_eq!(refused(text), ErrorCode::BadRequest, "{text:?}");
        }
    }

    #[test]
    fn results_and_errors_are_marked_json() {
        assert_eq!(answer(Answer::Json(b"{\"a\":1}".to_vec())), b"={\"a\":1}");
        let error = answer(Answer::Error(CallError::new(ErrorCode::NotAllowed, "no")));
        assert_eq!(error[0], b'!');
        let parsed: serde_json::Value = serde_json::from_slice(&error[1..]).unwrap();
        assert_eq!(parsed["code"], "E_NOT_ALLOWED");
    }
}
