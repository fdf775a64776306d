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

use crate::aead::NONCE_LEN;
pub use crate::aead::{Nonce, nonce_for};
use crate::error::Rejection;

mod decode;

pub use decode::check_size;
use decode::{binary_header, check_outer, decode_json};

/// The protocol version this crate speaks.
pub const VERSION: u8 = 1;
/// First two bytes of the binary encoding.
pub const MAGIC: [u8; 2] = *b"PC";
/// Length of the binary header, which is also the first part of the associated data.
pub const HEADER_LEN: usize = 2 + 1 + 1 + SESSION_ID_LEN + 8 + NONCE_LEN;
/// The flags bit of a stream chunk: the header goes on with the stream's id and the
/// chunk's number, both bound into the associated data (PROTOCOL.md §6.3).
pub const FLAG_CHUNK: u8 = 0x01;
/// Length of a stream chunk's header: the header, the stream id and the chunk number.
pub const CHUNK_HEADER_LEN: usize = HEADER_LEN + 16;
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

/// Where a stream chunk belongs: its stream (the request id of the stream's open) and
/// its number in that stream (0, 1, 2, ...). Both travel in clear and are authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkAt {
    /// The stream: the request id of its open.
    pub stream: u64,
    /// The chunk's number in its stream, from 0.
    pub number: u64,
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
    /// For a stream chunk (binary only), its stream and number.
    pub chunk: Option<ChunkAt>,
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
            let (session, seq, chunk) = binary_header(&bytes)?;
            let start = if chunk.is_some() {
                CHUNK_HEADER_LEN
            } else {
                HEADER_LEN
            };
            return Ok(Sealed {
                encoding: Encoding::Binary,
                session,
                seq,
                chunk,
                body: bytes,
                start,
            });
        }
        decode_json(&bytes)
    }

    /// The associated data for this envelope as seen by webview `label` (`None` for a
    /// label longer than [`MAX_LABEL_LEN`], which no session is bound to).
    pub fn aad(&self, label: &str) -> Option<Vec<u8>> {
        let label = aad_label(label)?;
        let chunk = self.chunk.as_ref();
        let mut out = vec![0; head_len(chunk) + 2 + label.len()];
        fill_aad(&mut out, &self.session, self.seq, chunk, label);
        Some(out)
    }
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

/// The 56-byte header of stream chunk `chunk` for `session` and `seq`.
pub fn chunk_header(session: &SessionId, seq: u64, chunk: &ChunkAt) -> [u8; CHUNK_HEADER_LEN] {
    let mut h = [0u8; CHUNK_HEADER_LEN];
    h[..HEADER_LEN].copy_from_slice(&header(session, seq));
    h[3] = FLAG_CHUNK;
    h[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&chunk.stream.to_be_bytes());
    h[HEADER_LEN + 8..].copy_from_slice(&chunk.number.to_be_bytes());
    h
}

fn head_len(chunk: Option<&ChunkAt>) -> usize {
    if chunk.is_some() {
        CHUNK_HEADER_LEN
    } else {
        HEADER_LEN
    }
}

/// The associated data: header, then the webview label with a 16-bit length prefix.
/// `None` for a label longer than [`MAX_LABEL_LEN`]: sessions are never issued to one,
/// and a label is never cut to fit.
pub fn aad(session: &SessionId, seq: u64, label: &str) -> Option<Vec<u8>> {
    let label = aad_label(label)?;
    let mut out = vec![0; HEADER_LEN + 2 + label.len()];
    fill_aad(&mut out, session, seq, None, label);
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
    chunk: Option<&ChunkAt>,
    label: &str,
    f: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    let label = aad_label(label)?;
    let len = head_len(chunk) + 2 + label.len();
    Some(if label.len() <= STACK_LABEL_LEN {
        let mut buf = [0u8; CHUNK_HEADER_LEN + 2 + STACK_LABEL_LEN];
        fill_aad(&mut buf[..len], session, seq, chunk, label);
        f(&buf[..len])
    } else {
        let mut buf = vec![0; len];
        fill_aad(&mut buf, session, seq, chunk, label);
        f(&buf)
    })
}

fn aad_label(label: &str) -> Option<&[u8]> {
    (label.len() <= MAX_LABEL_LEN).then_some(label.as_bytes())
}

/// Writes the associated data into `out`, which is exactly its length: the header (a
/// chunk's, with its stream and number), the label's length and the label.
fn fill_aad(out: &mut [u8], session: &SessionId, seq: u64, chunk: Option<&ChunkAt>, label: &[u8]) {
    out[..HEADER_LEN].copy_from_slice(&header(session, seq));
    let n = head_len(chunk);
    if let Some(chunk) = chunk {
        out[3] = FLAG_CHUNK;
        out[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&chunk.stream.to_be_bytes());
        out[HEADER_LEN + 8..n].copy_from_slice(&chunk.number.to_be_bytes());
    }
    out[n..n + 2].copy_from_slice(&(label.len() as u16).to_be_bytes());
    out[n + 2..].copy_from_slice(label);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::Sealer;

    const SID: SessionId = SessionId([9; 16]);

    fn sealer() -> Sealer {
        crate::seal::test_sealer()
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

    #[test]
    fn aad_binds_header_and_label() {
        for label in [
            "",
            "main",
            &"x".repeat(STACK_LABEL_LEN),
            &"y".repeat(STACK_LABEL_LEN + 1),
        ] {
            assert_eq!(
                with_aad(&SID, 9, None, label, <[u8]>::to_vec),
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
        assert_eq!(with_aad(&SID, 1, None, &long, <[u8]>::len), None);
        assert!(aad(&SID, 1, &long[1..]).is_some());
    }
}
