//! Wire format v1: the sealed envelope, its two encodings, its associated data and nonce.
//!
//! `docs/PROTOCOL.md` is the normative text; this module implements it. In short:
//!
//! ```text
//! binary:  "PC" | version=1 | flags=0 | session id (16) | seq (u64 BE) | nonce (12) | ciphertext+tag
//! json:    {"v":1,"sid":"<b64 16 bytes>","seq":<u64>,"nonce":"<b64 12 bytes>","ct":"<b64>"}
//! nonce:   00 00 00 00 | seq (u64 BE)
//! aad:     the 40-byte binary header (as above, whatever the encoding) | len(label) u16 BE | label
//! ```
//!
//! Decoding is strict and bounded: the length limit is checked before anything is
//! allocated, base64 must be canonical (standard alphabet, padded, zero trailing bits),
//! JSON fields are exactly the five above, and reserved bits must be zero. A decoded
//! [`Sealed`] is *not* authentic yet: it only says which session to ask for the key.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

use crate::aead::{NONCE_LEN, TAG_LEN};
use crate::error::{ErrorCode, Rejection};

/// The protocol version this crate speaks.
pub const VERSION: u8 = 1;
/// First two bytes of the binary encoding.
pub const MAGIC: [u8; 2] = *b"PC";
/// Length of the binary header, which is also the first part of the associated data.
pub const HEADER_LEN: usize = 2 + 1 + 1 + SESSION_ID_LEN + 8 + NONCE_LEN;
/// Length of a session id.
pub const SESSION_ID_LEN: usize = 16;
/// Longest webview label that can be bound into the associated data.
pub const MAX_LABEL_LEN: usize = u16::MAX as usize;

/// A session id: 16 random bytes, public (it travels in clear), unique per page load.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub [u8; SESSION_ID_LEN]);

impl SessionId {
    /// The id in the base64 form the JSON encoding uses.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self)
    }
}

impl fmt::Display for SessionId {
    /// The first 8 bytes in hex: enough to tell sessions apart in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A 96-bit GCM nonce. Only this module makes one, from a sequence number
/// ([`nonce_for`]); it is neither `Clone` nor `Copy`, so each is moved into the one seal
/// or open that uses it.
#[derive(PartialEq, Eq)]
pub struct Nonce([u8; NONCE_LEN]);

impl Nonce {
    /// The nonce's bytes.
    pub fn as_bytes(&self) -> &[u8; NONCE_LEN] {
        &self.0
    }

    /// The bytes, for the AEAD backend that consumes the nonce.
    pub(crate) fn into_bytes(self) -> [u8; NONCE_LEN] {
        self.0
    }

    /// A nonce of arbitrary bytes, for the published AES-GCM vectors only.
    #[cfg(test)]
    pub(crate) fn for_known_answer_test(bytes: [u8; NONCE_LEN]) -> Nonce {
        Nonce(bytes)
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({:02x?})", self.0)
    }
}

/// The nonce a sequence number determines: the only way to make a [`Nonce`].
pub fn nonce_for(seq: u64) -> Nonce {
    let mut n = [0u8; NONCE_LEN];
    n[4..].copy_from_slice(&seq.to_be_bytes());
    Nonce(n)
}

/// Which encoding a body used; replies to the caller use the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// The binary form (`PC` magic).
    Binary,
    /// The JSON form with base64 fields.
    Json,
}

/// A decoded but not yet authenticated envelope.
pub struct Sealed {
    /// The encoding it arrived in.
    pub encoding: Encoding,
    /// The session it claims to belong to.
    pub session: SessionId,
    /// Its sequence number (never 0).
    pub seq: u64,
    /// From `start` on: ciphertext followed by the 16-byte tag; decrypted in place by the
    /// session. (Bytes before `start` are the header of a message decoded in place.)
    pub(crate) body: Vec<u8>,
    pub(crate) start: usize,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("encoding", &self.encoding)
            .field("session", &self.session)
            .field("seq", &self.seq)
            .field("body_len", &(self.body.len() - self.start))
            .finish()
    }
}

impl Sealed {
    /// Decodes `bytes` in either encoding, refusing anything longer than `max_bytes`
    /// before copying them.
    pub fn decode(bytes: &[u8], max_bytes: usize) -> Result<Sealed, Rejection> {
        check_outer(bytes, max_bytes)?;
        Sealed::decode_owned(bytes.to_vec(), max_bytes)
    }

    /// Decodes `bytes` like [`Sealed::decode`], taking ownership: a binary envelope is
    /// then decrypted where it lies, without copying its ciphertext.
    pub fn decode_owned(bytes: Vec<u8>, max_bytes: usize) -> Result<Sealed, Rejection> {
        check_outer(&bytes, max_bytes)?;
        if bytes[0] == b'P' {
            let (session, seq) = binary_header(&bytes)?;
            return Ok(Sealed {
                encoding: Encoding::Binary,
                session,
                seq,
                body: bytes,
                start: HEADER_LEN,
            });
        }
        decode_json(&bytes)
    }

    /// The associated data for this envelope as seen by webview `label` (`None` for a
    /// label longer than [`MAX_LABEL_LEN`], which no session is bound to).
    pub fn aad(&self, label: &str) -> Option<Vec<u8>> {
        aad(&self.session, self.seq, label)
    }
}

/// Refuses empty, oversized and unsealed input; what passes starts with the binary magic
/// (`P`) or is JSON (`{`).
fn check_outer(bytes: &[u8], max_bytes: usize) -> Result<(), Rejection> {
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

/// Checks the header of a binary envelope; returns its session and sequence number.
fn binary_header(bytes: &[u8]) -> Result<(SessionId, u64), Rejection> {
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
    if header[3] != 0 {
        return Err(malformed("reserved flags byte must be 0"));
    }
    let mut sid = [0u8; SESSION_ID_LEN];
    sid.copy_from_slice(&header[4..20]);
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&header[20..28]);
    let seq = u64::from_be_bytes(seq);
    check_seq_and_nonce(seq, &header[28..HEADER_LEN])?;
    Ok((SessionId(sid), seq))
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

fn decode_json(bytes: &[u8]) -> Result<Sealed, Rejection> {
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

/// The 40-byte header for `session` and `seq`.
pub fn header(session: &SessionId, seq: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..2].copy_from_slice(&MAGIC);
    h[2] = VERSION;
    h[3] = 0;
    h[4..20].copy_from_slice(&session.0);
    h[20..28].copy_from_slice(&seq.to_be_bytes());
    h[28..].copy_from_slice(nonce_for(seq).as_bytes());
    h
}

/// The associated data: header, then the webview label with a 16-bit length prefix.
/// `None` for a label longer than [`MAX_LABEL_LEN`]: sessions are never issued to one,
/// and a label is never cut to fit.
pub fn aad(session: &SessionId, seq: u64, label: &str) -> Option<Vec<u8>> {
    let label = aad_label(label)?;
    let mut out = vec![0; HEADER_LEN + 2 + label.len()];
    fill_aad(&mut out, session, seq, label);
    Some(out)
}

/// Labels up to this many bytes get their associated data built on the stack by
/// [`with_aad`] (the session table builds it for every message it opens).
const STACK_LABEL_LEN: usize = 64;

/// Calls `f` with the associated data of [`aad`], without a heap allocation for labels of
/// up to [`STACK_LABEL_LEN`] bytes; `None` for a label too long to bind.
pub(crate) fn with_aad<R>(
    session: &SessionId,
    seq: u64,
    label: &str,
    f: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    let label = aad_label(label)?;
    let len = HEADER_LEN + 2 + label.len();
    Some(if label.len() <= STACK_LABEL_LEN {
        let mut buf = [0u8; HEADER_LEN + 2 + STACK_LABEL_LEN];
        fill_aad(&mut buf[..len], session, seq, label);
        f(&buf[..len])
    } else {
        let mut buf = vec![0; len];
        fill_aad(&mut buf, session, seq, label);
        f(&buf)
    })
}

fn aad_label(label: &str) -> Option<&[u8]> {
    (label.len() <= MAX_LABEL_LEN).then_some(label.as_bytes())
}

/// Writes the associated data into `out`, which is exactly its length.
fn fill_aad(out: &mut [u8], session: &SessionId, seq: u64, label: &[u8]) {
    out[..HEADER_LEN].copy_from_slice(&header(session, seq));
    out[HEADER_LEN..HEADER_LEN + 2].copy_from_slice(&(label.len() as u16).to_be_bytes());
    out[HEADER_LEN + 2..].copy_from_slice(label);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aead::default_backend;
    use crate::seal::Sealer;

    const SID: SessionId = SessionId([9; 16]);

    fn sealer() -> Sealer {
        Sealer::new(default_backend().sealing_key(&[1; 32]), SID, "main").unwrap()
    }

    #[test]
    fn nonce_is_zero_prefix_and_big_endian_seq() {
        assert_eq!(
            nonce_for(0x0102030405060708).as_bytes(),
            &[0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
        );
    }

    #[test]
    fn both_encodings_decode_to_the_same_envelope() {
        let mut s = sealer();
        let bin = s.seal(b"hello", Encoding::Binary).unwrap();
        let mut s = sealer();
        let json = s.seal(b"hello", Encoding::Json).unwrap();
        let a = Sealed::decode(&bin, 1 << 20).unwrap();
        let b = Sealed::decode(&json, 1 << 20).unwrap();
        assert_eq!(
            (a.session, a.seq, &a.body[a.start..]),
            (b.session, b.seq, &b.body[b.start..])
        );
        assert_eq!((a.encoding, b.encoding), (Encoding::Binary, Encoding::Json));
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

    #[test]
    fn aad_binds_header_and_label() {
        for label in [
            "",
            "main",
            &"x".repeat(STACK_LABEL_LEN),
            &"y".repeat(STACK_LABEL_LEN + 1),
        ] {
            assert_eq!(
                with_aad(&SID, 9, label, <[u8]>::to_vec),
                aad(&SID, 9, label),
                "{label}"
            );
        }
        let a = aad(&SID, 5, "main").unwrap();
        assert_eq!(&a[..HEADER_LEN], &header(&SID, 5));
        assert_eq!(&a[HEADER_LEN..], b"\x00\x04main");
        assert_ne!(aad(&SID, 5, "main"), aad(&SID, 5, "mai"));
        assert_ne!(aad(&SID, 5, ""), aad(&SID, 6, ""));
    }

    #[test]
    fn a_label_too_long_to_bind_has_no_associated_data() {
        let long = "z".repeat(MAX_LABEL_LEN + 1);
        assert_eq!(aad(&SID, 1, &long), None);
        assert_eq!(with_aad(&SID, 1, &long, <[u8]>::len), None);
        assert!(aad(&SID, 1, &long[1..]).is_some());
    }
}
