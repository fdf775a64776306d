//! AES-256-GCM behind a small provider trait, with two implementations.
//!
//! Like rustls' crypto providers, the rest of the core never names a crypto library: it
//! asks an [`AeadBackend`] to turn 32 key bytes into an [`AeadKey`] once per session and
//! then opens (and, for tests and vectors, seals) messages through it. Both backends are
//! checked against the same known-answer vectors (`fixtures/vectors/`), and the benches
//! compare them; [`default_backend`] is the faster one on the machines we measure (ring).
//!
//! Nonces are never chosen here: callers pass the [`Nonce`] that the wire format derives
//! from a sequence number, see [`crate::envelope`].

use std::fmt;

/// Length of an AES-256 key.
pub const KEY_LEN: usize = 32;
/// Length of the GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Length of the GCM tag.
pub const TAG_LEN: usize = 16;

/// A 96-bit GCM nonce. Only the envelope module builds these from sequence numbers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Nonce(pub(crate) [u8; NONCE_LEN]);

impl Nonce {
    /// A nonce from raw bytes, for known-answer tests of the backends. The caller
    /// promises it is never used twice with one key; the wire format never calls this,
    /// it derives nonces from sequence numbers (`envelope::nonce_for`).
    pub fn assume_unique(bytes: [u8; NONCE_LEN]) -> Nonce {
        Nonce(bytes)
    }

    /// The nonce's bytes.
    pub fn as_bytes(&self) -> &[u8; NONCE_LEN] {
        &self.0
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({:02x?})", self.0)
    }
}

/// Authentication failed, or the buffer is too short to hold a tag. Deliberately carries
/// no detail: the only thing a caller may learn is "not authentic".
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("AEAD open failed")]
pub struct OpenError;

/// Sealing failed (only possible for inputs beyond GCM's length limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("AEAD seal failed")]
pub struct SealError;

/// A crypto provider for AES-256-GCM.
pub trait AeadBackend: Send + Sync + fmt::Debug + 'static {
    /// A short stable name, e.g. `"ring"`.
    fn name(&self) -> &'static str;

    /// Expands a key. The caller zeroizes its copy of `key` afterwards; the backend's
    /// expanded key is cleared on drop where the library supports it.
    fn expand_key(&self, key: &[u8; KEY_LEN]) -> Box<dyn AeadKey>;
}

/// An expanded AES-256-GCM key.
pub trait AeadKey: Send + Sync {
    /// Verifies and decrypts `in_out` (ciphertext followed by the 16-byte tag) in place,
    /// returning the plaintext, which is a prefix of `in_out`.
    fn open_in_place<'a>(
        &self,
        nonce: Nonce,
        aad: &[u8],
        in_out: &'a mut [u8],
    ) -> Result<&'a mut [u8], OpenError>;

    /// Encrypts `in_out` in place and appends the tag.
    fn seal_in_place(
        &self,
        nonce: Nonce,
        aad: &[u8],
        in_out: &mut Vec<u8>,
    ) -> Result<(), SealError>;
}

/// The backend used unless the embedder picks another: ring, the faster of the two on
/// x86_64 with AES-NI and on aarch64 (see `BENCHMARKS.md`).
pub fn default_backend() -> &'static dyn AeadBackend {
    &RING
}

/// Every backend built into this crate, for tests and benches.
pub fn all_backends() -> [&'static dyn AeadBackend; 2] {
    [&RING, &RUST_CRYPTO]
}

/// AES-256-GCM from `ring`.
#[derive(Debug, Clone, Copy)]
pub struct RingBackend;

/// The `ring` backend.
pub static RING: RingBackend = RingBackend;

struct RingKey(ring::aead::LessSafeKey);

impl AeadBackend for RingBackend {
    fn name(&self) -> &'static str {
        "ring"
    }

    fn expand_key(&self, key: &[u8; KEY_LEN]) -> Box<dyn AeadKey> {
        // `UnboundKey::new` only fails for a key of the wrong length; the type fixes it
        // at 32 bytes, which is exactly AES_256_GCM's key length.
        let unbound = match ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, key) {
            Ok(k) => k,
            Err(_) => unreachable!("AES_256_GCM takes 32-byte keys"),
        };
        Box::new(RingKey(ring::aead::LessSafeKey::new(unbound)))
    }
}

impl AeadKey for RingKey {
    fn open_in_place<'a>(
        &self,
        nonce: Nonce,
        aad: &[u8],
        in_out: &'a mut [u8],
    ) -> Result<&'a mut [u8], OpenError> {
        let nonce = ring::aead::Nonce::assume_unique_for_key(nonce.0);
        self.0
            .open_in_place(nonce, ring::aead::Aad::from(aad), in_out)
            .map_err(|_| OpenError)
    }

    fn seal_in_place(
        &self,
        nonce: Nonce,
        aad: &[u8],
        in_out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        let nonce = ring::aead::Nonce::assume_unique_for_key(nonce.0);
        self.0
            .seal_in_place_append_tag(nonce, ring::aead::Aad::from(aad), in_out)
            .map_err(|_| SealError)
    }
}

/// AES-256-GCM from RustCrypto's `aes-gcm` (constant-time software fallback included).
#[derive(Debug, Clone, Copy)]
pub struct RustCryptoBackend;

/// The RustCrypto `aes-gcm` backend.
pub static RUST_CRYPTO: RustCryptoBackend = RustCryptoBackend;

struct RustCryptoKey(aes_gcm::Aes256Gcm);

impl AeadBackend for RustCryptoBackend {
    fn name(&self) -> &'static str {
        "aes-gcm"
    }

    fn expand_key(&self, key: &[u8; KEY_LEN]) -> Box<dyn AeadKey> {
        use aes_gcm::KeyInit;
        // From a slice, so no stack copy of the key is left behind; the expanded key is
        // zeroized on drop (the crate's `zeroize` feature).
        match aes_gcm::Aes256Gcm::new_from_slice(&key[..]) {
            Ok(cipher) => Box::new(RustCryptoKey(cipher)),
            Err(_) => unreachable!("Aes256Gcm takes 32-byte keys"),
        }
    }
}

impl AeadKey for RustCryptoKey {
    fn open_in_place<'a>(
        &self,
        nonce: Nonce,
        aad: &[u8],
        in_out: &'a mut [u8],
    ) -> Result<&'a mut [u8], OpenError> {
        use aes_gcm::AeadInOut;
        let split = in_out.len().checked_sub(TAG_LEN).ok_or(OpenError)?;
        let (msg, tag) = in_out.split_at_mut(split);
        let tag =
            aes_gcm::aead::Tag::<aes_gcm::Aes256Gcm>::try_from(&*tag).map_err(|_| OpenError)?;
        let nonce = aes_gcm::aead::Nonce::<aes_gcm::Aes256Gcm>::from(nonce.0);
        self.0
            .decrypt_inout_detached(&nonce, aad, msg.into(), &tag)
            .map_err(|_| OpenError)?;
        Ok(msg)
    }

    fn seal_in_place(
        &self,
        nonce: Nonce,
        aad: &[u8],
        in_out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        use aes_gcm::AeadInOut;
        let nonce = aes_gcm::aead::Nonce::<aes_gcm::Aes256Gcm>::from(nonce.0);
        let tag = self
            .0
            .encrypt_inout_detached(&nonce, aad, in_out.as_mut_slice().into())
            .map_err(|_| SealError)?;
        in_out.extend_from_slice(tag.as_slice());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_agree_and_detect_tampering() {
        let key = [7u8; KEY_LEN];
        let nonce = Nonce([1u8; NONCE_LEN]);
        let mut outputs = Vec::new();
        for backend in all_backends() {
            let k = backend.expand_key(&key);
            let mut buf = b"attack at dawn".to_vec();
            k.seal_in_place(nonce, b"aad", &mut buf).unwrap();
            outputs.push(buf.clone());

            let mut good = buf.clone();
            assert_eq!(
                k.open_in_place(nonce, b"aad", &mut good).unwrap(),
                b"attack at dawn"
            );
            let mut bad = buf.clone();
            bad[0] ^= 1;
            assert_eq!(
                k.open_in_place(nonce, b"aad", &mut bad).err(),
                Some(OpenError)
            );
            let mut wrong_aad = buf.clone();
            assert!(k.open_in_place(nonce, b"aae", &mut wrong_aad).is_err());
            let mut short = vec![0u8; TAG_LEN - 1];
            assert!(k.open_in_place(nonce, b"", &mut short).is_err());
        }
        assert_eq!(outputs[0], outputs[1], "ring and aes-gcm disagree");
    }
}
