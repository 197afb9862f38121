//! The identifier naming policy (names of clients, units, applications, roles) and the password
//! policy, with the exact nevisIDM violation shapes.

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, PolicyViolation};
use crate::error_code::ErrorCode;

/// Default identifier length limit (nevisIDM: identifiers are 1 to 129 characters).
pub const DEFAULT_IDENTIFIER_MAX_LENGTH: usize = 129;

/// Default identifier pattern: 1..=129 Unicode letters, decimal digits, `-@./_:(){}[]=!~+` and
/// space (nevisIDM's identifier charset, widened by `-`, `@` and space which names commonly use).
pub const DEFAULT_IDENTIFIER_REGEX: &str = r"[\p{L}\p{Nd}\-@./_:(){}\[\]=!~+ ]{1,129}";

/// The identifier naming policy. The regex must match the whole value (it is anchored
/// internally, so configured patterns need no `^...$`).
#[derive(Debug, Clone)]
pub struct IdentifierPolicy {
    source: String,
    anchored: Regex,
    max_length: usize,
}

impl IdentifierPolicy {
    /// A policy from configuration (`policy.identifier_regex`, `policy.identifier_max_length`).
    pub fn new(regex: &str, max_length: usize) -> Result<Self, regex::Error> {
        Ok(IdentifierPolicy {
            source: regex.to_owned(),
            anchored: Regex::new(&format!("^(?:{regex})$"))?,
            max_length,
        })
    }

    /// The configured pattern, as reported in `configString`.
    pub fn regex_source(&self) -> &str {
        &self.source
    }

    /// The configured length limit, as reported in `limitValue`.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Accepts a non-empty value of at most `max_length` characters matching the pattern; else
    /// 422 `errors.identifierPolicyViolated` worded exactly like nevisIDM's seed page.
    pub fn check(&self, value: &str) -> Result<(), DomainError> {
        let len = value.chars().count();
        if len > 0 && len <= self.max_length && self.anchored.is_match(value) {
            return Ok(());
        }
        let max = self.max_length;
        Err(DomainError::Unprocessable {
            code: ErrorCode::IdentifierPolicyViolated,
            message: format!(
                "ch.nevis.idm.policy.PolicyViolation: Policy failed:\nch.nevis.idm.policy.element.PolicyElementViolation<element=Regex policy violation limit={max}, actualValue={len}>"
            ),
            identifier: None,
            violations: vec![PolicyViolation {
                display_name: "Regex policy violation".to_owned(),
                config_string: self.source.clone(),
                supplied_value: value.to_owned(),
                limit_value: i64::try_from(max).unwrap_or(i64::MAX),
                actual_value: len.to_string(),
            }],
        })
    }
}

impl Default for IdentifierPolicy {
    fn default() -> Self {
        // The default pattern is a constant covered by the tests below, so this cannot fail.
        Self::new(DEFAULT_IDENTIFIER_REGEX, DEFAULT_IDENTIFIER_MAX_LENGTH)
            .unwrap_or_else(|e| unreachable!("default identifier regex is invalid: {e}"))
    }
}

/// What every password must satisfy. Embedded in the server configuration, hence `Deserialize`
/// with defaults (snake_case keys; nevisIDM's camelCase parameter names work as aliases).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// A typo in `[policy.password]` must stop start-up, not silently weaken the policy.
#[serde(default, deny_unknown_fields)]
// New policy elements will come; outside this crate start from `PasswordPolicy::default()`.
#[non_exhaustive]
pub struct PasswordPolicy {
    /// Minimum number of characters.
    #[serde(alias = "minLength")]
    pub min_length: usize,
    /// Maximum number of characters.
    #[serde(alias = "maxLength")]
    pub max_length: usize,
    /// Minimum number of letters.
    #[serde(alias = "minLetters")]
    pub min_letters: usize,
    /// Minimum number of digits.
    #[serde(alias = "minDigits")]
    pub min_digits: usize,
    /// Minimum number of upper-case letters.
    #[serde(alias = "minUpper")]
    pub min_upper: usize,
    /// Minimum number of lower-case letters.
    #[serde(alias = "minLower")]
    pub min_lower: usize,
    /// Minimum number of characters that are neither letters nor digits.
    #[serde(alias = "minNonAlnum")]
    pub min_non_alnum: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: 128,
            min_letters: 1,
            min_digits: 1,
            min_upper: 0,
            min_lower: 0,
            min_non_alnum: 0,
        }
    }
}

/// What a password policy reports instead of the password: a fixed mask, so neither the value
/// nor its length leaks into responses or logs.
pub const PASSWORD_MASK: &str = "********";

impl PasswordPolicy {
    /// Checks a password; on failure 422 `errors.pwdPolicyViolated` with one violation per
    /// failed element, the password replaced by [`PASSWORD_MASK`].
    pub fn check(&self, password: &str) -> Result<(), DomainError> {
        let count = |f: fn(&char) -> bool| password.chars().filter(f).count();
        let length = password.chars().count();
        let letters = count(|c| c.is_alphabetic());
        let digits = count(|c| c.is_numeric());
        let upper = count(|c| c.is_uppercase());
        let lower = count(|c| c.is_lowercase());
        let non_alnum = count(|c| !c.is_alphanumeric());
        // (display name, config key, limit, actual, failed)
        let elements = [
            (
                "Minimum length",
                "minLength",
                self.min_length,
                length,
                length < self.min_length,
            ),
            (
                "Maximum length",
                "maxLength",
                self.max_length,
                length,
                length > self.max_length,
            ),
            (
                "Minimum letters",
                "minLetters",
                self.min_letters,
                letters,
                letters < self.min_letters,
            ),
            (
                "Minimum digits",
                "minDigits",
                self.min_digits,
                digits,
                digits < self.min_digits,
            ),
            (
                "Minimum upper case letters",
                "minUpper",
                self.min_upper,
                upper,
                upper < self.min_upper,
            ),
            (
                "Minimum lower case letters",
                "minLower",
                self.min_lower,
                lower,
                lower < self.min_lower,
            ),
            (
                "Minimum non-alphanumeric characters",
                "minNonAlnum",
                self.min_non_alnum,
                non_alnum,
                non_alnum < self.min_non_alnum,
            ),
        ];
        let violations: Vec<PolicyViolation> = elements
            .iter()
            .filter(|e| e.4)
            .map(|(name, key, limit, actual, _)| PolicyViolation {
                display_name: (*name).to_owned(),
                config_string: format!("{key}={limit}"),
                supplied_value: PASSWORD_MASK.to_owned(),
                limit_value: i64::try_from(*limit).unwrap_or(i64::MAX),
                actual_value: actual.to_string(),
            })
            .collect();
        if violations.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = violations.iter().map(|v| v.display_name.as_str()).collect();
        Err(DomainError::Unprocessable {
            code: ErrorCode::PwdPolicyViolated,
            message: format!("Password policy violated: {}", names.join(", ")),
            identifier: None,
            violations,
        })
    }

    /// Sanity of a configured policy (checked at start-up): some password must be able to pass.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_length == 0 {
            return Err("password policy: max_length must be at least 1".to_owned());
        }
        if self.min_length > self.max_length {
            return Err(format!(
                "password policy: min_length ({}) exceeds max_length ({})",
                self.min_length, self.max_length
            ));
        }
        let letters = self.min_letters.max(self.min_upper + self.min_lower);
        let required = letters + self.min_digits + self.min_non_alnum;
        if required > self.max_length {
            return Err(format!(
                "password policy: the minimum character counts ({required}) exceed max_length ({})",
                self.max_length
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_default_identifier_policy_accepts_names_with_letters_digits_and_punctuation() {
        let p = IdentifierPolicy::default();
        assert_eq!(p.max_length(), 129);
        assert_eq!(p.regex_source(), DEFAULT_IDENTIFIER_REGEX);
        for ok in [
            "Client-1",
            "Zürich Nord",
            "a.b/c_d:(e){f}[g]=h!i~j+k@l",
            &"x".repeat(129),
        ] {
            assert!(p.check(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_130_character_name_is_the_seed_identifier_policy_violation() {
        let p = IdentifierPolicy::default();
        let name = "n".repeat(130);
        assert_eq!(
            p.check(&name),
            Err(DomainError::Unprocessable {
                code: ErrorCode::IdentifierPolicyViolated,
                message: "ch.nevis.idm.policy.PolicyViolation: Policy failed:\nch.nevis.idm.policy.element.PolicyElementViolation<element=Regex policy violation limit=129, actualValue=130>".into(),
                identifier: None,
                violations: vec![PolicyViolation {
                    display_name: "Regex policy violation".into(),
                    config_string: DEFAULT_IDENTIFIER_REGEX.into(),
                    supplied_value: name.clone(),
                    limit_value: 129,
                    actual_value: "130".into(),
                }],
            })
        );
    }

    #[test]
    fn empty_names_and_forbidden_characters_violate_the_identifier_policy() {
        let p = IdentifierPolicy::default();
        for bad in ["", "a\tb", "semi;colon", "quote'", "hash#", "new\nline"] {
            assert!(
                matches!(
                    p.check(bad),
                    Err(DomainError::Unprocessable {
                        code: ErrorCode::IdentifierPolicyViolated,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_configured_identifier_policy_is_anchored_and_counts_characters_not_bytes() {
        let p = IdentifierPolicy::new("[a-zä]+", 3).unwrap();
        assert!(p.check("äää").is_ok());
        assert!(p.check("abcd").is_err());
        assert!(
            p.check("ab1").is_err(),
            "the regex must match the whole value"
        );
        assert!(IdentifierPolicy::new("(", 3).is_err());
    }

    #[test]
    fn the_default_password_policy_wants_eight_characters_with_a_letter_and_a_digit() {
        let p = PasswordPolicy::default();
        assert!(p.validate().is_ok());
        assert!(p.check("abcdefg1").is_ok());
        let err = p.check("abc").unwrap_err();
        let DomainError::Unprocessable {
            code,
            message,
            violations,
            ..
        } = err
        else {
            panic!("expected 422");
        };
        assert_eq!(code, ErrorCode::PwdPolicyViolated);
        assert_eq!(
            message,
            "Password policy violated: Minimum length, Minimum digits"
        );
        assert_eq!(
            violations[0],
            PolicyViolation {
                display_name: "Minimum length".into(),
                config_string: "minLength=8".into(),
                supplied_value: PASSWORD_MASK.into(),
                limit_value: 8,
                actual_value: "3".into(),
            }
        );
        assert_eq!(violations[1].config_string, "minDigits=1");
    }

    #[test]
    fn password_violations_never_contain_the_password() {
        let p = PasswordPolicy {
            min_upper: 1,
            min_lower: 1,
            min_non_alnum: 1,
            max_length: 10,
            ..PasswordPolicy::default()
        };
        let secret = "hunter2hunter2";
        let err = p.check(secret).unwrap_err();
        let text = format!("{err:?}");
        assert!(!text.contains("hunter"), "{text}");
        let DomainError::Unprocessable { violations, .. } = err else {
            panic!("expected 422");
        };
        let names: Vec<_> = violations.iter().map(|v| v.display_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Maximum length",
                "Minimum upper case letters",
                "Minimum non-alphanumeric characters"
            ]
        );
    }

    #[test]
    fn the_password_policy_deserializes_with_defaults_and_camel_case_aliases() {
        let p: PasswordPolicy =
            serde_json::from_str(r#"{"min_length": 12, "minDigits": 2}"#).unwrap();
        assert_eq!(p.min_length, 12);
        assert_eq!(p.min_digits, 2);
        assert_eq!(p.max_length, 128);
        assert_eq!(p.min_letters, 1);
    }

    #[test]
    fn an_unsatisfiable_password_policy_fails_validation() {
        let too_short = PasswordPolicy {
            min_length: 20,
            max_length: 10,
            ..PasswordPolicy::default()
        };
        assert!(too_short.validate().is_err());
        let too_many_classes = PasswordPolicy {
            max_length: 4,
            min_length: 1,
            min_upper: 2,
            min_lower: 2,
            min_digits: 1,
            ..PasswordPolicy::default()
        };
        assert!(too_many_classes.validate().is_err());
        let zero = PasswordPolicy {
            max_length: 0,
            min_length: 0,
            min_letters: 0,
            min_digits: 0,
            ..PasswordPolicy::default()
        };
        assert!(zero.validate().is_err());
    }
}
