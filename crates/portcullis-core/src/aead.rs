//! AES-256-GCM behind a small provider trait, with two implementations.
//!
//! Like rustls' crypto providers, the rest of the core never names a crypto library: it
//! asks an [`AeadBackend`] to turn 32 key bytes into an [`OpeningKey`] once per session
//! and opens messages through it. Sealing is another type, [`SealingKey`], which only
//! sealers (the isolation frame's Rust twin for tests, benches and native clients) hold:
//! the gate's keys cannot seal, as rustls splits `MessageDecrypter` from
//! `MessageEncrypter`. Both backends are
//! checked against the same known-answer vectors (`fixtures/vectors/`), and the benches
//! compare them; [`default_backend`] is the faster one on the machines we measure (ring).
//!
//! Nonces are never chosen here: callers pass the [`Nonce`] that the wire format derives
//! from a sequence number ([`nonce_for`]); a nonce is moved into the one
//! call that uses it.

use std::fmt;

/// Length of an AES-256 key.
pub const KEY_LEN: usize = 32;
/// Length of the GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Length of the GCM tag.
pub const TAG_LEN: usize = 16;

/// A 96-bit GCM nonce. Only [`nonce_for`] makes one, from a sequence number as the
/// wire format says (PROTOCOL.md: `00 00 00 00 | seq`), so no nonce is made up from other bytes; it is neither `Clone` nor
/// `Copy`, so each is moved into the one seal or open that uses it. That no sequence
/// number is sealed twice under one key is the sealer's guarantee ([`crate::seal`]: it
/// owns the counter, and a session key goes to exactly one sealer).
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

    /// Expands a key for opening. The caller zeroizes its copy of `key` afterwards; the
    /// backend's expanded key is cleared on drop where the library supports it.
    fn opening_key(&self, key: &[u8; KEY_LEN]) -> Box<dyn OpeningKey>;

    /// Expands a key for sealing, with the same care.
    fn sealing_key(&self, key: &[u8; KEY_LEN]) -> Box<dyn SealingKey>;
}

/// An expanded AES-256-GCM key that can only open.
pub trait OpeningKey: Send + Sync {
    /// Verifies and decrypts `in_out` (ciphertext followed by the 16-byte tag) in place,
    /// returning the plaintext, which is a prefix of `in_out`.
    fn open_in_place<'a>(
        &self,
        nonce: Nonce,
        aad: &[u8],
        in_out: &'a mut [u8],
    ) -> Result<&'a mut [u8], OpenError>;
}

/// An expanded AES-256-GCM key that can only seal.
pub trait SealingKey: Send + Sync {
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

    fn opening_key(&self, key: &[u8; KEY_LEN]) -> Box<dyn OpeningKey> {
        Box::new(RingKey::new(key))
    }

    fn sealing_key(&self, key: &[u8; KEY_LEN]) -> Box<dyn SealingKey> {
        Box::new(RingKey::new(key))
    }
}

impl RingKey {
    fn new(key: &[u8; KEY_LEN]) -> RingKey {
        // `UnboundKey::new` only fails for a key of the wrong length; the type fixes it
        // at 32 bytes, which is exactly AES_256_GCM's key length.
        let unbound = match ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, key) {
            Ok(k) => k,
            Err(_) => unreachable!("AES_256_GCM takes 32-byte keys"),
        };
        RingKey(ring::aead::LessSafeKey::new(unbound))
    }
}

impl OpeningKey for RingKey {
    fn open_in_place<'a>(
        &self,
        nonce: Nonce,
        aad: &[u8],
        in_out: &'a mut [u8],
    ) -> Result<&'a mut [u8], OpenError> {
        let nonce = ring::aead::Nonce::assume_unique_for_key(nonce.into_bytes());
        self.0
            .open_in_place(nonce, ring::aead::Aad::from(aad), in_out)
            .map_err(|_| OpenError)
    }
}

impl SealingKey for RingKey {
    fn seal_in_place(
        &self,
        nonce: Nonce,
        aad: &[u8],
        in_out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        let nonce = ring::aead::Nonce::assume_unique_for_key(nonce.into_bytes());
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

    fn opening_key(&self, key: &[u8; KEY_LEN]) -> Box<dyn OpeningKey> {
        Box::new(RustCryptoKey::new(key))
    }

    fn sealing_key(&self, key: &[u8; KEY_LEN]) -> Box<dyn SealingKey> {
        Box::new(RustCryptoKey::new(key))
    }
}

impl RustCryptoKey {
    fn new(key: &[u8; KEY_LEN]) -> RustCryptoKey {
        use aes_gcm::KeyInit;
        // From a slice, so no stack copy of the key is left behind; the expanded key is
        // zeroized on drop (the crate's `zeroize` feature).
        match aes_gcm::Aes256Gcm::new_from_slice(&key[..]) {
            Ok(cipher) => RustCryptoKey(cipher),
            Err(_) => unreachable!("Aes256Gcm takes 32-byte keys"),
        }
    }
}

impl OpeningKey for RustCryptoKey {
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
        let nonce = aes_gcm::aead::Nonce::<aes_gcm::Aes256Gcm>::from(nonce.into_bytes());
        self.0
            .decrypt_inout_detached(&nonce, aad, msg.into(), &tag)
            .map_err(|_| OpenError)?;
        Ok(msg)
    }
}

impl SealingKey for RustCryptoKey {
    fn seal_in_place(
        &self,
        nonce: Nonce,
        aad: &[u8],
        in_out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        use aes_gcm::AeadInOut;
        let nonce = aes_gcm::aead::Nonce::<aes_gcm::Aes256Gcm>::from(nonce.into_bytes());
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

    fn nonce(bytes: [u8; NONCE_LEN]) -> Nonce {
        Nonce::for_known_answer_test(bytes)
    }

    #[test]
    fn backends_agree_and_detect_tampering() {
        let key = [7u8; KEY_LEN];
        let n = [1u8; NONCE_LEN];
        let mut outputs = Vec::new();
        for backend in all_backends() {
            let (sealing, opening) = (backend.sealing_key(&key), backend.opening_key(&key));
            let mut buf = b"attack at dawn".to_vec();
            sealing.seal_in_place(nonce(n), b"aad", &mut buf).unwrap();
            outputs.push(buf.clone());

            let mut good = buf.clone();
            assert_eq!(
                opening.open_in_place(nonce(n), b"aad", &mut good).unwrap(),
                b"attack at dawn"
            );
            let mut bad = buf.clone();
            bad[0] ^= 1;
            assert_eq!(
                opening.open_in_place(nonce(n), b"aad", &mut bad).err(),
                Some(OpenError)
            );
            let mut wrong_aad = buf.clone();
            assert!(
                opening
                    .open_in_place(nonce(n), b"aae", &mut wrong_aad)
                    .is_err()
            );
            let mut short = vec![0u8; TAG_LEN - 1];
            assert!(opening.open_in_place(nonce(n), b"", &mut short).is_err());
        }
        assert_eq!(outputs[0], outputs[1], "ring and aes-gcm disagree");
    }

    /// The published AES-256-GCM vectors (`fixtures/vectors/aes-256-gcm.json`), whose
    /// nonces are arbitrary bytes: here, beside the backends, because only a test in this
    /// crate can make such a nonce.
    #[test]
    fn every_backend_passes_the_published_aes_gcm_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/vectors/aes-256-gcm.json"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let hex = |v: &serde_json::Value| hex::decode(v.as_str().unwrap()).unwrap();
        let cases = doc["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 4);
        for backend in all_backends() {
            for case in cases {
                let key: [u8; KEY_LEN] = hex(&case["key"]).try_into().unwrap();
                let n: [u8; NONCE_LEN] = hex(&case["nonce"]).try_into().unwrap();
                let (sealing, opening) = (backend.sealing_key(&key), backend.opening_key(&key));
                let aad = hex(&case["aad"]);
                let mut expected = hex(&case["ciphertext"]);
                expected.extend(hex(&case["tag"]));

                let mut sealed = hex(&case["plaintext"]);
                sealing.seal_in_place(nonce(n), &aad, &mut sealed).unwrap();
                assert_eq!(sealed, expected, "{} seal {}", backend.name(), case["name"]);

                let mut opened = expected.clone();
                let plain = opening.open_in_place(nonce(n), &aad, &mut opened).unwrap();
                assert_eq!(
                    plain,
                    hex(&case["plaintext"]),
                    "{} open {}",
                    backend.name(),
                    case["name"]
                );

                let mut flipped = expected.clone();
                let last = flipped.len() - 1;
                flipped[last] ^= 0x01;
                assert!(opening.open_in_place(nonce(n), &aad, &mut flipped).is_err());
            }
        }
    }
}
