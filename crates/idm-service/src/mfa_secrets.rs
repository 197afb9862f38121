//! The random and sealed parts of second-factor credentials: recovery codes and OATH secrets.
//!
//! Everything random comes from the OS CSPRNG (`OsRng`), never from a seeded generator. The
//! OATH secret is sealed with the configured key before it reaches a port, bound to the
//! credential's extId and client so a sealed value copied into another row does not open.

use idm_domain::otp::OtpAlgorithm;
use idm_domain::recovery_code::{self, CODE_COUNT, RANDOM_BYTES_PER_CODE};
use idm_domain::{DomainError, ErrorCode};
use rand::rngs::OsRng;
use rand::RngCore;

use crate::sealing::Sealer;
use crate::{AppError, AppResult};

/// Bytes of the per-credential salt of recovery-code hashes.
const SALT_LEN: usize = 16;

/// A fresh set of recovery codes: the codes to show once, and what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FreshRecoveryCodes {
    /// The 16 codes, `xxxx-xxxx-xxxx-xxxx`, for the one response that shows them.
    pub codes: Vec<String>,
    /// Hex salt stored on the credential.
    pub salt: String,
    /// Hex SHA-256 of each code under the salt, in the order of `codes`.
    pub hashes: Vec<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Draws 16 codes and a salt and hashes the codes.
pub(crate) fn fresh_recovery_codes() -> FreshRecoveryCodes {
    let mut salt = [0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    let salt = hex(&salt);
    let mut codes = Vec::with_capacity(CODE_COUNT);
    while codes.len() < CODE_COUNT {
        let mut random = [0u8; RANDOM_BYTES_PER_CODE];
        OsRng.fill_bytes(&mut random);
        let code = recovery_code::format_code(&random);
        // Two equal codes in one set (2^-80) would make one of them unusable; draw again.
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    let hashes = codes
        .iter()
        .map(|c| recovery_code::hash_code(salt.as_bytes(), c))
        .collect();
    FreshRecoveryCodes {
        codes,
        salt,
        hashes,
    }
}

/// A fresh OATH secret as long as the algorithm's hash output (RFC 4226 §4 asks for at least
/// 128 bits; the hash length is what RFC 6238's reference vectors use).
pub(crate) fn fresh_oath_secret(algorithm: OtpAlgorithm) -> Vec<u8> {
    let mut secret = vec![0u8; algorithm.secret_len()];
    OsRng.fill_bytes(&mut secret);
    secret
}

/// Associated data binding a sealed OATH secret to its row.
pub(crate) fn oath_context(client_ext_id: &str, credential_ext_id: &str) -> Vec<u8> {
    format!("oath:{client_ext_id}:{credential_ext_id}").into_bytes()
}

/// The configured sealer, or the 422 that tells the operator what is missing.
pub(crate) fn require_sealer(sealer: Option<&Sealer>) -> AppResult<&Sealer> {
    sealer.ok_or_else(|| {
        AppError::Domain(DomainError::unprocessable(
            ErrorCode::InvalidConfig,
            "OATH credentials need credentials.encryption_key to be configured.",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_set_has_sixteen_distinct_codes_whose_hashes_match_under_its_salt() {
        let set = fresh_recovery_codes();
        assert_eq!(set.codes.len(), 16);
        let mut unique = set.codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 16);
        for (code, hash) in set.codes.iter().zip(&set.hashes) {
            assert!(recovery_code::normalize(code).is_some(), "{code}");
            assert_eq!(&recovery_code::hash_code(set.salt.as_bytes(), code), hash);
        }
        assert_ne!(fresh_recovery_codes().salt, set.salt);
    }

    #[test]
    fn oath_secrets_have_the_hash_length_and_differ_each_time() {
        let a = fresh_oath_secret(OtpAlgorithm::Sha1);
        assert_eq!(a.len(), 20);
        assert_eq!(fresh_oath_secret(OtpAlgorithm::Sha512).len(), 64);
        assert_ne!(a, fresh_oath_secret(OtpAlgorithm::Sha1));
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_own_client_and_credential() {
        let sealer = Sealer::from_base64(&Sealer::generate_key()).unwrap();
        let secret = fresh_oath_secret(OtpAlgorithm::Sha1);
        let sealed = sealer
            .seal(&secret, &oath_context("acme", "oath-1"))
            .unwrap();
        assert_eq!(
            sealer
                .open(&sealed, &oath_context("acme", "oath-1"))
                .unwrap(),
            secret
        );
        assert!(sealer
            .open(&sealed, &oath_context("acme", "oath-2"))
            .is_err());
        assert!(sealer
            .open(&sealed, &oath_context("other", "oath-1"))
            .is_err());
    }

    #[test]
    fn without_a_key_oath_is_refused_with_invalid_config() {
        let err = require_sealer(None).unwrap_err();
        assert!(matches!(
            err,
            AppError::Domain(DomainError::Unprocessable {
                code: ErrorCode::InvalidConfig,
                ..
            })
        ));
    }
}
