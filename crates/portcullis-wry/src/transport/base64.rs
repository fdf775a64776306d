//! Messages that travel as base64 text: an envelope on the native transport (after its
//! `E`) and a message in the fetch transport's `Portcullis-Body` header.
//!
//! Decoded strictly (RFC 4648 §4: the standard alphabet, padded, no stray bits, nothing
//! else), by the base64 crate. A text whose bytes could not fit in `limits.maxMessageBytes`
//! is refused `E_TOO_LARGE`, the gate's own answer to such a message, before anything is
//! allocated for it: the core never holds more than the limit for one message, however
//! long the string a page posts.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_core::{ErrorCode, Rejection};

/// The bytes `text` stands for, refused as described above; `what` names the text in a
/// refusal ("a native envelope", "the portcullis-body header").
pub(crate) fn decode(text: &[u8], max_bytes: usize, what: &str) -> Result<Vec<u8>, Rejection> {
    // Four characters stand for three bytes; padding takes one or two of the last ones.
    let fewest = (text.len() / 4 * 3).saturating_sub(2);
    if fewest > max_bytes {
        return Err(Rejection::new(
            ErrorCode::TooLarge,
            format!(
                "{what} of at least {fewest} bytes exceeds limits.maxMessageBytes ({max_bytes})"
            ),
        ));
    }
    STANDARD.decode(text).map_err(|e| {
        Rejection::new(
            ErrorCode::BadRequest,
            format!("{what} is not standard base64: {e}"),
        )
    })
}

/// `bytes` as standard base64, after `prefix`.
pub(crate) fn encode_after(prefix: char, bytes: &[u8]) -> Vec<u8> {
    let mut text = String::with_capacity(prefix.len_utf8() + bytes.len().div_ceil(3) * 4);
    text.push(prefix);
    STANDARD.encode_string(bytes, &mut text);
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_round_trips_through_its_padding() {
        for n in 0..=9 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
            let text = encode_after('#', &bytes);
            assert_eq!(text[0], b'#');
            assert_eq!(decode(&text[1..], n, "t").unwrap(), bytes, "{n} bytes");
        }
    }

    #[test]
    fn a_text_too_long_for_the_limit_is_refused_before_decoding() {
        // 8 characters: at least 4 bytes (with two of padding), at most 6.
        let text = encode_after('#', &[1, 2, 3, 4]);
        assert_eq!(decode(&text[1..], 4, "t").unwrap(), [1, 2, 3, 4]);
        let refused = decode(&text[1..], 3, "t").unwrap_err();
        assert_eq!(refused.code, ErrorCode::TooLarge);
        // Not base64 at all, but long: the size speaks first, and nothing is decoded.
        let long = vec![b'!'; 4 << 20];
        assert_eq!(
            decode(&long, 1 << 20, "t").unwrap_err().code,
            ErrorCode::TooLarge
        );
        assert_eq!(
            decode(&long, 4 << 20, "t").unwrap_err().code,
            ErrorCode::BadRequest
        );
    }

    #[test]
    fn anything_but_strict_standard_base64_is_refused() {
        for text in [
            &b"-_-_"[..],
            b"AAAA AAAA",
            b"AAAA\nAAAA",
            b"\xC3\xA9AAA",
            b"AA",
            b"AA=A",
            b"=AAA",
            b"AB==",
            b"AAAAA",
        ] {
            assert_eq!(
                decode(text, 64, "t").unwrap_err().code,
                ErrorCode::BadRequest,
                "{text:?}"
            );
        }
    }
}
