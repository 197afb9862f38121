//! Recovery codes: 16 single-use codes `xxxx-xxxx-xxxx-xxxx` per credential.
//!
//! Randomness is the caller's (the service layer draws from the OS CSPRNG); this module turns
//! random bytes into codes, normalises what a user types, and hashes codes for storage.
//!
//! **Why SHA-256 with a per-credential salt and not argon2.** A code carries 80 bits from a
//! CSPRNG (16 characters of a 32-letter alphabet), so even a fast hash leaves an offline search
//! of a stolen table at 2^79 guesses per code: a slow KDF buys nothing that entropy does not
//! already give, and it would cost 16 argon2 runs per login. The salt (one per credential,
//! stored beside the hashes) stops one precomputed table from serving every user. Because the
//! hash is deterministic per credential, a login is one indexed conditional
//! `UPDATE … SET used_at = ? WHERE credential_id = ? AND code_hash = ? AND used_at IS NULL`:
//! the affected-row count decides, so a code works exactly once even under concurrent use.

use sha2::{Digest, Sha256};

/// How many codes one credential holds.
pub const CODE_COUNT: usize = 16;

/// Characters per code, without the dashes.
pub const CODE_LEN: usize = 16;

/// Random bytes [`format_code`] consumes per code.
pub const RANDOM_BYTES_PER_CODE: usize = CODE_LEN;

/// Lower-case letters and digits without the look-alikes `0 o 1 l`: exactly 32 symbols, so
/// five bits of a random byte pick one without modulo bias.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A code from 16 random bytes (5 bits of each are used), grouped `xxxx-xxxx-xxxx-xxxx`.
pub fn format_code(random: &[u8; RANDOM_BYTES_PER_CODE]) -> String {
    let mut out = String::with_capacity(CODE_LEN + 3);
    for (i, byte) in random.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(byte & 31)]));
    }
    out
}

/// What a user typed, reduced to the 16 code characters: dashes and whitespace dropped, lower
/// case. `None` when it cannot be a code (so no hash is computed for garbage; the login still
/// fails and counts like a wrong code).
pub fn normalize(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The stored form of a code: hex SHA-256 over the credential's salt and the normalised code.
/// `code` may be given in either form (grouped or normalised); callers pass the result of
/// [`normalize`] or [`format_code`].
pub fn hash_code(salt: &[u8], code: &str) -> String {
    let normalized: String = code.chars().filter(|c| *c != '-').collect();
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(b":");
    hasher.update(normalized.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_four_groups_of_four_characters_from_the_alphabet() {
        let code = format_code(&[0, 1, 2, 3, 31, 32, 255, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        assert_eq!(code, "abcd-9a9h-ijkm-npqr");
        assert_eq!(code.len(), 19);
    }

    #[test]
    fn typed_codes_are_normalised_and_anything_else_is_not_a_code() {
        assert_eq!(
            normalize(" ABCD-9ab9-hijk-mnpq ").as_deref(),
            Some("abcd9ab9hijkmnpq")
        );
        assert_eq!(
            normalize("abcd9ab9hijkmnpq").as_deref(),
            Some("abcd9ab9hijkmnpq")
        );
        assert_eq!(normalize("abcd-9ab9-hijk"), None);
        assert_eq!(
            normalize("abcd-9ab9-hijk-mnp0"),
            None,
            "0 is not in the alphabet"
        );
        assert_eq!(normalize(""), None);
    }

    #[test]
    fn the_hash_depends_on_salt_and_code_but_not_on_the_grouping() {
        let a = hash_code(b"salt-1", "abcd-9ab9-hijk-mnpq");
        assert_eq!(a, hash_code(b"salt-1", "abcd9ab9hijkmnpq"));
        assert_ne!(a, hash_code(b"salt-2", "abcd9ab9hijkmnpq"));
        assert_ne!(a, hash_code(b"salt-1", "abcd9ab9hijkmnpr"));
        assert_eq!(a.len(), 64);
        assert!(!a.contains("abcd"));
    }
}
