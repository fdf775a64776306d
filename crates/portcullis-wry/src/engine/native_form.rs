//! The form messages and answers take on a native transport: one string each way.
//!
//! Why strings: WebKitGTK hands a script message to the app as a JavaScriptCore value
//! converted through its own evaluation-result form, which keeps strings, numbers,
//! arrays and plain objects only. An `ArrayBuffer` or a `Uint8Array` arrives as an
//! object of numbered keys (measured with WebKitGTK 2.50.6), and an answer goes back the
//! same way. So bytes travel as standard base64 (RFC 4648 §4, with padding): the engine's
//! own `Uint8Array.prototype.toBase64` and `Uint8Array.fromBase64` turn a MiB into text
//! and back in well under a millisecond, and an ASCII string crosses the engine faster
//! than any other (measured: 1 MiB of random bytes posted as base64 in 5.6 ms, against
//! 17.5 ms as a string of one character per byte, most of it that string's making in
//! JavaScript; BENCHMARKS.md).
//!
//! A message is a string whose first character says what follows:
//! - `E`, then an envelope, base64;
//! - `C`, then a channel request (`pull <id>`, `close <id>`, `done <id>`);
//! - `W` and nothing else: a warm-up, which the isolation frame sends once while it
//!   starts so that the engine's first use of this path is not the app's first call. It
//!   reaches nothing: answered `=null` at once, before any state is read.
//!
//! An answer is a string whose first character says what follows:
//! - `=`, then a JSON result;
//! - `!`, then a JSON error `{code, message, ...}`;
//! - `#`, then a bytes result, base64.
//!
//! Read by `isolation-app/transport.js` and, in brownfield mode, the bridge.

use portcullis_core::{ErrorCode, Rejection};

use crate::transport::{Answer, base64};

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
/// is unknown or an envelope is not standard base64 (padded, no other characters, no
/// stray bits), and `E_TOO_LARGE` before decoding when an envelope cannot fit
/// `max_bytes`; the gate judges the rest.
pub(crate) fn message(text: &[u8], max_bytes: usize) -> Result<Message, Rejection> {
    match text.split_first() {
        Some((b'E', rest)) => {
            base64::decode(rest, max_bytes, "a native envelope").map(Message::Envelope)
        }
        Some((b'C', rest)) => Ok(Message::Channel(rest.to_vec())),
        Some((b'W', [])) => Ok(Message::WarmUp),
        _ => Err(Rejection::new(
            ErrorCode::BadRequest,
            "a native message is a string that starts with E (an envelope) or C (a channel request), or is W (a warm-up)",
        )),
    }
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
        Answer::Bytes(bytes) => base64::encode_after('#', &bytes),
    }
}

#[cfg(test)]
mod tests {
    use portcullis_core::router::CallError;

    use super::*;
    use ::base64::Engine as _;
    use ::base64::engine::general_purpose::STANDARD;

    const LIMIT: usize = 1 << 20;

    #[test]
    fn every_byte_travels_as_base64_both_ways() {
        let all: Vec<u8> = (0..=255).collect();
        let sent = [b"E".as_slice(), STANDARD.encode(&all).as_bytes()].concat();
        assert_eq!(
            message(&sent, LIMIT).unwrap(),
            Message::Envelope(all.clone())
        );
        let back = answer(Answer::Bytes(all.clone()));
        assert_eq!(back[0], b'#');
        assert_eq!(STANDARD.decode(&back[1..]).unwrap(), all);
        assert_eq!(message(b"E", LIMIT).unwrap(), Message::Envelope(Vec::new()));
        assert_eq!(answer(Answer::Bytes(Vec::new())), b"#");
        // Each length's padding: 1, 2 and 3 bytes.
        assert_eq!(
            message(b"EAA==", LIMIT).unwrap(),
            Message::Envelope(vec![0])
        );
        assert_eq!(
            message(b"EAAA=", LIMIT).unwrap(),
            Message::Envelope(vec![0, 0])
        );
        assert_eq!(
            message(b"EAAAA", LIMIT).unwrap(),
            Message::Envelope(vec![0, 0, 0])
        );
    }

    #[test]
    fn a_channel_request_is_its_text() {
        assert_eq!(
            message(b"Cpull 0123", LIMIT).unwrap(),
            Message::Channel(b"pull 0123".to_vec())
        );
    }

    #[test]
    fn a_warm_up_is_w_alone() {
        assert_eq!(message(b"W", LIMIT).unwrap(), Message::WarmUp);
        for text in [&b"W "[..], b"WE", b"w", b"W\0"] {
            assert_eq!(
                message(text, LIMIT).unwrap_err().code,
                ErrorCode::BadRequest,
                "{text:?}"
            );
        }
    }

    #[test]
    fn an_unknown_mark_or_an_envelope_not_standard_base64_is_refused() {
        let refused = |text: &[u8]| message(text, LIMIT).unwrap_err().code;
        for text in [&b""[..], b"X", b"e", b"{\"a\":1}", b"pull 1"] {
            assert_eq!(refused(text), ErrorCode::BadRequest, "{text:?}");
        }
        // An envelope goes through the transport's strict decoder (transport/base64.rs
        // tests every way a text can fail it): one character outside the alphabet, one
        // text without its padding.
        for text in [&b"E-_-_"[..], b"EAA"] {
            assert_eq!(refused(text), ErrorCode::BadRequest, "{text:?}");
        }
    }

    #[test]
    fn an_envelope_too_long_for_the_limit_is_refused_before_decoding() {
        let text = [b"E".as_slice(), STANDARD.encode([7u8; 300]).as_bytes()].concat();
        assert_eq!(
            message(&text, 300).unwrap(),
            Message::Envelope(vec![7; 300])
        );
        assert_eq!(message(&text, 200).unwrap_err().code, ErrorCode::TooLarge);
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
