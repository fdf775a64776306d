//! Decoding an envelope, strictly and within bounds: the length limit before anything
//! is allocated, the magic or JSON shape, the version, reserved bits, canonical base64,
//! exactly the five JSON fields, and the nonce the sequence number determines.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

use super::{
    CHUNK_HEADER_LEN, ChunkAt, Encoding, FLAG_CHUNK, HEADER_LEN, MAGIC, SESSION_ID_LEN, Sealed,
    SessionId, VERSION, nonce_for,
};
use crate::aead::{NONCE_LEN, TAG_LEN};
use crate::error::{ErrorCode, Rejection};

/// Refuses empty, oversized and unsealed input; what passes starts with the binary magic
/// (`P`) or is JSON (`{`).
pub(super) fn check_outer(bytes: &[u8], max_bytes: usize) -> Result<(), Rejection> {
    if bytes.is_empty() {
        return Err(Rejection::new(
            ErrorCode::Unsealed,
            "empty message: every IPC message must be sealed by the isolation frame",
        ));
    }
    check_size(bytes, max_bytes)?;
    match bytes[0] {
        b'P' if bytes.starts_with(&MAGIC) => Ok(()),
        b'{' => Ok(()),
        _ => Err(Rejection::new(
            ErrorCode::Unsealed,
            "message is not a sealed envelope: every IPC message must be sealed by the isolation frame",
        )),
    }
}

/// Refuses a message longer than `max_bytes` (`E_TOO_LARGE`): checked before anything
/// is allocated in proportion to the input.
pub fn check_size(bytes: &[u8], max_bytes: usize) -> Result<(), Rejection> {
    if bytes.len() > max_bytes {
        return Err(Rejection::new(
            ErrorCode::TooLarge,
            format!(
                "message of {} bytes exceeds limits.maxMessageBytes ({max_bytes})",
                bytes.len()
            ),
        ));
    }
    Ok(())
}

fn malformed(msg: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::Malformed, msg)
}

/// Checks the header of a binary envelope; returns its session, sequence number and, for
/// a stream chunk, where the chunk belongs.
pub(super) fn binary_header(bytes: &[u8]) -> Result<(SessionId, u64, Option<ChunkAt>), Rejection> {
    if bytes.len() < HEADER_LEN + TAG_LEN {
        return Err(malformed(format!(
            "binary envelope of {} bytes is shorter than header and tag ({})",
            bytes.len(),
            HEADER_LEN + TAG_LEN
        )));
    }
    let header = &bytes[..HEADER_LEN];
    if header[2] != VERSION {
        return Err(Rejection::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "envelope version {} (this build speaks {VERSION})",
                header[2]
            ),
        ));
    }
    let chunk = match header[3] {
        0 => None,
        FLAG_CHUNK if bytes.len() >= CHUNK_HEADER_LEN + TAG_LEN => {
            let word = |at: usize| {
                let mut w = [0u8; 8];
                w.copy_from_slice(&bytes[at..at + 8]);
                u64::from_be_bytes(w)
            };
            Some(ChunkAt {
                stream: word(HEADER_LEN),
                number: word(HEADER_LEN + 8),
            })
        }
        FLAG_CHUNK => {
            return Err(malformed(format!(
                "stream chunk of {} bytes is shorter than its header and tag ({})",
                bytes.len(),
                CHUNK_HEADER_LEN + TAG_LEN
            )));
        }
        _ => return Err(malformed("flags byte must be 0, or 1 for a stream chunk")),
    };
    let mut sid = [0u8; SESSION_ID_LEN];
    sid.copy_from_slice(&header[4..20]);
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&header[20..28]);
    let seq = u64::from_be_bytes(seq);
    check_seq_and_nonce(seq, &header[28..HEADER_LEN])?;
    Ok((SessionId(sid), seq, chunk))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEnvelope<'a> {
    v: u8,
    #[serde(borrow)]
    sid: &'a str,
    seq: u64,
    #[serde(borrow)]
    nonce: &'a str,
    #[serde(borrow)]
    ct: &'a str,
}

pub(super) fn decode_json(bytes: &[u8]) -> Result<Sealed, Rejection> {
    let env: JsonEnvelope<'_> = match serde_json::from_slice(bytes) {
        Ok(env) => env,
        Err(e) => return Err(explain_bad_json(bytes, e)),
    };
    if env.v != VERSION {
        return Err(Rejection::new(
            ErrorCode::UnsupportedVersion,
            format!("envelope version {} (this build speaks {VERSION})", env.v),
        ));
    }
    let mut sid = [0u8; SESSION_ID_LEN];
    decode_exact(env.sid, &mut sid, "sid")?;
    let mut nonce = [0u8; NONCE_LEN];
    decode_exact(env.nonce, &mut nonce, "nonce")?;
    check_seq_and_nonce(env.seq, &nonce)?;
    // The input length was bounded by the caller, so this allocation is too.
    let body = B64
        .decode(env.ct)
        .map_err(|e| malformed(format!("field \"ct\" is not canonical base64: {e}")))?;
    if body.len() < TAG_LEN {
        return Err(malformed("field \"ct\" is shorter than the 16-byte tag"));
    }
    Ok(Sealed {
        encoding: Encoding::Json,
        session: SessionId(sid),
        seq: env.seq,
        chunk: None,
        body,
        start: 0,
    })
}

/// Tells an unsealed request and a foreign version apart from a broken envelope. Runs
/// only on the error path.
fn explain_bad_json(bytes: &[u8], e: serde_json::Error) -> Rejection {
    #[derive(Deserialize)]
    struct VersionOnly {
        v: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<VersionOnly>(bytes) {
        Ok(VersionOnly { v: None }) => Rejection::new(
            ErrorCode::Unsealed,
            "JSON message without a \"v\" field is not a sealed envelope: every IPC message must be sealed by the isolation frame",
        ),
        Ok(VersionOnly {
            v: Some(serde_json::Value::Number(n)),
        }) if n.as_u64().is_some_and(|v| v != u64::from(VERSION)) => Rejection::new(
            ErrorCode::UnsupportedVersion,
            format!("envelope version {n} (this build speaks {VERSION})"),
        ),
        _ => malformed(format!("JSON envelope: {e}")),
    }
}

fn decode_exact(text: &str, out: &mut [u8], field: &str) -> Result<(), Rejection> {
    let mut buf = [0u8; 24];
    let n = B64
        .decode_slice(text, &mut buf)
        .map_err(|e| malformed(format!("field {field:?} is not canonical base64: {e}")))?;
    if n != out.len() {
        return Err(malformed(format!(
            "field {field:?} decodes to {n} bytes, expected {}",
            out.len()
        )));
    }
    out.copy_from_slice(&buf[..n]);
    Ok(())
}

fn check_seq_and_nonce(seq: u64, nonce: &[u8]) -> Result<(), Rejection> {
    if seq == 0 {
        return Err(malformed(
            "sequence number 0 is reserved; sealers start at 1",
        ));
    }
    if nonce != nonce_for(seq).as_bytes() {
        return Err(Rejection::new(
            ErrorCode::BadNonce,
            "nonce is not 00000000 followed by the sequence number",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::Sealer;

    fn sealer() -> Sealer {
        crate::seal::test_sealer()
    }

    fn code(bytes: &[u8]) -> ErrorCode {
        Sealed::decode(bytes, 1 << 20).unwrap_err().code
    }

    #[test]
    fn empty_and_foreign_bodies_are_unsealed() {
        assert_eq!(code(b""), ErrorCode::Unsealed);
        assert_eq!(code(b"hello"), ErrorCode::Unsealed);
        assert_eq!(code(b" {}"), ErrorCode::Unsealed);
        assert_eq!(
            code(br#"{"cmd":"notes.add","payload":{}}"#),
            ErrorCode::Unsealed
        );
        assert_eq!(code(b"P"), ErrorCode::Unsealed);
    }

    #[test]
    fn size_limit_is_checked_first() {
        let body = vec![b'{'; 101];
        assert_eq!(
            Sealed::decode(&body, 100).unwrap_err().code,
            ErrorCode::TooLarge
        );
        assert_eq!(
            Sealed::decode(&body[..100], 100).unwrap_err().code,
            ErrorCode::Malformed
        );
    }

    #[test]
    fn binary_boundaries() {
        let bin = sealer().seal(b"", Encoding::Binary).unwrap();
        assert_eq!(bin.len(), HEADER_LEN + TAG_LEN);
        assert!(Sealed::decode(&bin, 1 << 20).is_ok());
        assert_eq!(code(&bin[..bin.len() - 1]), ErrorCode::Malformed);
        let mut v2 = bin.clone();
        v2[2] = 2;
        assert_eq!(code(&v2), ErrorCode::UnsupportedVersion);
        let mut flags = bin.clone();
        flags[3] = 0x80;
        assert_eq!(code(&flags), ErrorCode::Malformed);
        let mut nonce = bin.clone();
        nonce[28] = 1;
        assert_eq!(code(&nonce), ErrorCode::BadNonce);
    }

    #[test]
    fn json_must_be_exact() {
        let json = String::from_utf8(sealer().seal(b"x", Encoding::Json).unwrap()).unwrap();
        let extra = json.replacen('{', r#"{"extra":1,"#, 1);
        assert_eq!(code(extra.as_bytes()), ErrorCode::Malformed);
        let dup = json.replacen('{', r#"{"seq":1,"#, 1);
        assert_eq!(code(dup.as_bytes()), ErrorCode::Malformed);
        let v2 = json.replacen(r#""v":1"#, r#""v":2"#, 1);
        assert_eq!(code(v2.as_bytes()), ErrorCode::UnsupportedVersion);
        for odd in [r#""v":1.0"#, r#""v":"1""#, r#""v":-1"#] {
            let bent = json.replacen(r#""v":1"#, odd, 1);
            assert_eq!(code(bent.as_bytes()), ErrorCode::Malformed, "{odd}");
        }
        let seq0 = json.replacen(r#""seq":1"#, r#""seq":0"#, 1);
        assert_eq!(code(seq0.as_bytes()), ErrorCode::Malformed);
        let seq2 = json.replacen(r#""seq":1"#, r#""seq":2"#, 1);
        assert_eq!(code(seq2.as_bytes()), ErrorCode::BadNonce);
        let unpadded = json.replacen("==\",\"seq\"", "\",\"seq\"", 1);
        assert_eq!(code(unpadded.as_bytes()), ErrorCode::Malformed);
        let arrays = r#"{"v":1,"sid":[1,2],"seq":1,"nonce":"AAAAAAAAAAAAAAAB","ct":""}"#;
        assert_eq!(code(arrays.as_bytes()), ErrorCode::Malformed);
    }

    #[test]
    fn non_canonical_base64_trailing_bits_are_refused() {
        // 16 bytes of 9 encode as "CQkJCQkJCQkJCQkJCQkJCQ=="; change the last data char
        // so the unused low bits are non-zero.
        let json = String::from_utf8(sealer().seal(b"x", Encoding::Json).unwrap()).unwrap();
        assert!(json.contains("CQkJCQkJCQkJCQkJCQkJCQ=="));
        let bent = json.replacen("CQkJCQkJCQkJCQkJCQkJCQ==", "CQkJCQkJCQkJCQkJCQkJCR==", 1);
        assert_eq!(code(bent.as_bytes()), ErrorCode::Malformed);
    }
}
