//! Encryption at rest for secrets idm must read back (OATH seeds, encrypted custom properties).
//!
//! Hashes cannot serve here: the server needs the plaintext again (to compute an OTP, to return
//! a property to a caller with the right). XChaCha20-Poly1305 is used because its 192-bit nonce
//! can be drawn at random for every value without a nonce-reuse budget to track across
//! instances. The `context` (e.g. `"oath:<credential extId>"`) is bound as associated data, so a
//! sealed value copied into another row does not open there.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// Why a key or a sealed value was refused. Never carries key material or plaintext.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// The configured key is not base64 of exactly 32 bytes.
    #[error("encryption key must be base64 of 32 bytes")]
    BadKey,
    /// The stored value is not one this key sealed for this context (tampered, wrong key,
    /// wrong row).
    #[error("sealed value does not open with this key and context")]
    Unopenable,
}

/// A symmetric key that seals and opens values; cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer from a base64-encoded 32-byte key (as found in the configuration).
    ///
    /// # Errors
    /// [`SealError::BadKey`] when the text is not base64 of 32 bytes.
    pub fn from_base64(key: &str) -> Result<Self, SealError> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| SealError::BadKey)?;
        if bytes.len() != KEY_LEN {
            return Err(SealError::BadKey);
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| SealError::BadKey)?;
        Ok(Sealer { cipher })
    }

    /// A fresh random key, base64-encoded (for ephemeral servers and for `idm` to print).
    pub fn generate_key() -> String {
        let mut key = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        STANDARD.encode(key)
    }

    /// Seals `plaintext` bound to `context`; the result is base64 text (nonce ‖ ciphertext).
    ///
    /// # Errors
    /// Only if the AEAD implementation refuses the input size (not reachable for values of a
    /// database column); reported as [`SealError::Unopenable`] to keep one error type.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| SealError::Unopenable)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// Opens a value [`Sealer::seal`] produced for the same `context`.
    ///
    /// # Errors
    /// [`SealError::Unopenable`] for a value sealed with another key or context, or altered.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<Vec<u8>, SealError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| SealError::Unopenable)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Unopenable);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| SealError::Unopenable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::from_base64(&Sealer::generate_key()).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_context() {
        let s = sealer();
        let sealed = s.seal(b"JBSWY3DPEHPK3PXP", b"oath:c1").unwrap();
        assert_eq!(s.open(&sealed, b"oath:c1").unwrap(), b"JBSWY3DPEHPK3PXP");
    }

    #[test]
    fn the_ciphertext_does_not_contain_the_plaintext_and_differs_each_time() {
        let s = sealer();
        let a = s.seal(b"secret-value", b"ctx").unwrap();
        let b = s.seal(b"secret-value", b"ctx").unwrap();
        assert_ne!(a, b);
        assert!(!a.contains("secret-value"));
    }

    #[test]
    fn another_context_another_key_or_a_flipped_byte_does_not_open() {
        let s = sealer();
        let sealed = s.seal(b"v", b"row-1").unwrap();
        assert_eq!(s.open(&sealed, b"row-2"), Err(SealError::Unopenable));
        assert_eq!(sealer().open(&sealed, b"row-1"), Err(SealError::Unopenable));
        let mut raw = STANDARD.decode(&sealed).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert_eq!(
            s.open(&STANDARD.encode(raw), b"row-1"),
            Err(SealError::Unopenable)
        );
        assert_eq!(s.open("not base64!", b"row-1"), Err(SealError::Unopenable));
    }

    #[test]
    fn keys_that_are_not_32_bytes_of_base64_are_refused() {
        assert_eq!(
            Sealer::from_base64("c2hvcnQ=").unwrap_err(),
            SealError::BadKey
        );
        assert_eq!(Sealer::from_base64("%%%").unwrap_err(), SealError::BadKey);
    }
}
