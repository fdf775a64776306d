//! The sealing side of wire format v1: the Rust counterpart of the isolation frame's
//! sealer (`isolation-app/sealer.js`), for tests, vectors, benches and Rust-side clients.
//! The gate never seals; it opens ([`crate::envelope`], [`crate::session`]).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::aead::{SealError, SealingKey, TAG_LEN};
use crate::envelope::{
    ChunkAt, Encoding, HEADER_LEN, MAX_LABEL_LEN, SessionId, VERSION, chunk_header, header,
    nonce_for, with_aad,
};

/// Seals plaintexts for one session: the Rust counterpart of the isolation frame's sealer,
/// used by tests, vectors, benches and Rust-side clients.
///
/// It owns the sequence counter, so a nonce can only be used once per sealer; and the
/// key it holds belongs to one session, which has one sealer (the isolation frame).
pub struct Sealer {
    key: Box<dyn SealingKey>,
    session: SessionId,
    label: String,
    next_seq: u64,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("session", &self.session)
            .field("label", &self.label)
            .field("next_seq", &self.next_seq)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer for `session`, as the webview `label`, starting at sequence number 1;
    /// `None` for a label longer than [`MAX_LABEL_LEN`], which cannot be bound.
    pub fn new(
        key: Box<dyn SealingKey>,
        session: SessionId,
        label: impl Into<String>,
    ) -> Option<Self> {
        let label = label.into();
        (label.len() <= MAX_LABEL_LEN).then_some(Sealer {
            key,
            session,
            label,
            next_seq: 1,
        })
    }

    /// Continues at `seq` instead of 1. The caller promises that no number from `seq`
    /// onwards was sealed under this key before. For the known-answer vectors only.
    #[doc(hidden)]
    pub fn starting_at(mut self, seq: u64) -> Self {
        self.next_seq = seq.max(1);
        self
    }

    /// The sequence number the next seal will use.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Seals `plaintext` and encodes it.
    pub fn seal(&mut self, plaintext: &[u8], encoding: Encoding) -> Result<Vec<u8>, SealError> {
        let seq = self.next_seq;
        self.next_seq = seq.checked_add(1).ok_or(SealError)?;
        let mut buf = Vec::with_capacity(plaintext.len() + TAG_LEN);
        buf.extend_from_slice(plaintext);
        with_aad(&self.session, seq, None, &self.label, |aad| {
            self.key.seal_in_place(nonce_for(seq), aad, &mut buf)
        })
        .ok_or(SealError)??;
        Ok(match encoding {
            Encoding::Binary => {
                let mut out = Vec::with_capacity(HEADER_LEN + buf.len());
                out.extend_from_slice(&header(&self.session, seq));
                out.extend_from_slice(&buf);
                out
            }
            Encoding::Json => format!(
                r#"{{"v":{VERSION},"sid":"{}","seq":{seq},"nonce":"{}","ct":"{}"}}"#,
                B64.encode(self.session.0),
                B64.encode(nonce_for(seq).as_bytes()),
                B64.encode(&buf)
            )
            .into_bytes(),
        })
    }
}

impl Sealer {
    /// Seals one stream chunk (PROTOCOL.md §6.3; binary encoding only): `plaintext` is the
    /// chunk's operation byte and data ([`crate::wire::chunk::chunk_plaintext`]), `chunk` its
    /// stream and number, bound into the associated data.
    pub fn seal_chunk(&mut self, chunk: ChunkAt, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let seq = self.next_seq;
        self.next_seq = seq.checked_add(1).ok_or(SealError)?;
        let head = chunk_header(&self.session, seq, &chunk);
        let mut out = Vec::with_capacity(head.len() + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&head);
        let mut buf = Vec::with_capacity(plaintext.len() + TAG_LEN);
        buf.extend_from_slice(plaintext);
        with_aad(&self.session, seq, Some(&chunk), &self.label, |aad| {
            self.key.seal_in_place(nonce_for(seq), aad, &mut buf)
        })
        .ok_or(SealError)??;
        out.extend_from_slice(&buf);
        Ok(out)
    }
}

/// A sealer under a fixed key for session `[9; 16]` and webview `main`, for the unit
/// tests of the envelope and the sealer.
#[cfg(test)]
pub(crate) fn test_sealer() -> Sealer {
    // A fixed, short label: `new` cannot refuse it.
    Sealer::new(
        crate::aead::default_backend().sealing_key(&[1; 32]),
        SessionId([9; 16]),
        "main",
    )
    .unwrap_or_else(|| unreachable!("\"main\" is short enough to bind"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aead::default_backend;
    use crate::envelope::Sealed;

    fn sealer() -> Sealer {
        test_sealer()
    }

    #[test]
    fn sealer_counts_up_from_one() {
        let mut s = sealer();
        let first = Sealed::decode(&s.seal(b"", Encoding::Binary).unwrap(), 1 << 20).unwrap();
        let second = Sealed::decode(&s.seal(b"", Encoding::Json).unwrap(), 1 << 20).unwrap();
        assert_eq!((first.seq, second.seq), (1, 2));
    }

    #[test]
    fn sealer_refuses_to_wrap() {
        let mut s = sealer().starting_at(u64::MAX);
        assert!(s.seal(b"", Encoding::Binary).is_err());
    }

    #[test]
    fn a_label_too_long_to_bind_gets_no_sealer() {
        let key = default_backend().sealing_key(&[1; 32]);
        assert!(Sealer::new(key, SessionId([9; 16]), "x".repeat(MAX_LABEL_LEN + 1)).is_none());
    }
}
