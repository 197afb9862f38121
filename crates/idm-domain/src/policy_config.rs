//! Per-client policy configurations (`core/:c/policies`): the policy types idm understands,
//! the validation of their string parameters, and how a client's policy overrides the built-in
//! (configured) defaults.
//!
//! Parameters travel as a flat map name → string, as in nevisIDM. Each type declares its keys
//! and the kind of value each key takes; anything else is refused naming `parameters.<key>`,
//! so a typo can never silently leave a default in force.

use std::collections::BTreeMap;
use std::str::FromStr;

use regex::Regex;

use crate::error::DomainError;
use crate::error_code::ErrorCode;
use crate::policy::{IdentifierPolicy, PasswordPolicy};
use crate::values::Language;

/// The parameters of a policy configuration: name → string value.
pub type Parameters = BTreeMap<String, String>;

/// The policy types idm stores and applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyType {
    /// Password rules, lockout and reset-code keys.
    PwdPolicy,
    /// Client-wide user validation rules; at most one per client.
    ClientPolicy,
    /// The naming rule for identifiers inside the client (unit names, extIds).
    IdentifierPolicy,
}

impl PolicyType {
    /// Every type, in wire order.
    pub const ALL: [PolicyType; 3] = [
        PolicyType::PwdPolicy,
        PolicyType::ClientPolicy,
        PolicyType::IdentifierPolicy,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            PolicyType::PwdPolicy => "PwdPolicy",
            PolicyType::ClientPolicy => "ClientPolicy",
            PolicyType::IdentifierPolicy => "IdentifierPolicy",
        }
    }

    /// The keys this type accepts and the kind of value each takes.
    fn keys(self) -> &'static [(&'static str, Kind)] {
        match self {
            PolicyType::PwdPolicy => PWD_KEYS,
            PolicyType::ClientPolicy => CLIENT_KEYS,
            PolicyType::IdentifierPolicy => IDENTIFIER_KEYS,
        }
    }
}

impl FromStr for PolicyType {
    type Err = DomainError;

    /// 422 `errors.invalidParameter` naming `policyType` for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| DomainError::invalid_fields(&["policyType"]))
    }
}

/// What a parameter value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A non-negative integer.
    Count,
    /// A non-negative integer of milliseconds.
    Millis,
    /// `true` or `false`.
    Bool,
    /// One of the listed words.
    OneOf(&'static [&'static str]),
    /// A regular expression that compiles.
    Regex,
    /// `[de, en]`: at least one ISO-639-1 code idm supports.
    Languages,
}

const PWD_KEYS: &[(&str, Kind)] = &[
    ("minLength", Kind::Count),
    ("maxLength", Kind::Count),
    ("minLetters", Kind::Count),
    ("minDigits", Kind::Count),
    ("minUpper", Kind::Count),
    ("minLower", Kind::Count),
    ("minNonAlnum", Kind::Count),
    // Lockout and reset keys: read by the credential engine (validated here so a client's
    // policy can carry them before that engine reads them).
    ("maxCredFailureCount", Kind::Count),
    ("tmpLockingThreshold", Kind::Count),
    ("tmpLockingDuration", Kind::Millis),
    ("tmpLockingMode", Kind::OneOf(&["strict", "threshold"])),
    ("resetCodeEnabled", Kind::Bool),
    ("pwdHistory", Kind::Count),
];

const CLIENT_KEYS: &[(&str, Kind)] = &[
    ("validation.user.name.mandatory", Kind::Bool),
    ("validation.user.firstname.mandatory", Kind::Bool),
    ("validation.user.email.mandatory", Kind::Bool),
    ("validation.user.mobile.mandatory", Kind::Bool),
    ("validation.user.sex.mandatory", Kind::Bool),
    ("validation.user.country.mandatory", Kind::Bool),
    ("validation.user.phone.regex", Kind::Regex),
    ("allowed.user.languages", Kind::Languages),
    ("loginId.regex", Kind::Regex),
];

const IDENTIFIER_KEYS: &[(&str, Kind)] = &[("regex", Kind::Regex), ("maxLength", Kind::Count)];

fn invalid(key: &str) -> DomainError {
    DomainError::invalid_fields(&[format!("parameters.{key}")])
}

fn parse_count(key: &str, value: &str) -> Result<usize, DomainError> {
    value.trim().parse::<usize>().map_err(|_| invalid(key))
}

fn parse_bool(key: &str, value: &str) -> Result<bool, DomainError> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(key)),
    }
}

/// `[de, en]` (brackets optional, case-insensitive) → the languages; empty is not allowed.
fn parse_languages(key: &str, value: &str) -> Result<Vec<Language>, DomainError> {
    let inner = value.trim();
    let inner = inner
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(inner);
    let mut out = Vec::new();
    for code in inner.split(',').map(str::trim) {
        let lang = Language::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(code))
            .ok_or_else(|| invalid(key))?;
        if !out.contains(&lang) {
            out.push(lang);
        }
    }
    Ok(out)
}

fn check_value(key: &str, kind: Kind, value: &str) -> Result<(), DomainError> {
    match kind {
        Kind::Count | Kind::Millis => parse_count(key, value).map(drop),
        Kind::Bool => parse_bool(key, value).map(drop),
        Kind::OneOf(words) => {
            if words.contains(&value.trim()) {
                Ok(())
            } else {
                Err(invalid(key))
            }
        }
        Kind::Regex => Regex::new(value).map(drop).map_err(|_| invalid(key)),
        Kind::Languages => parse_languages(key, value).map(drop),
    }
}

/// Checks every parameter of a policy of type `policy_type`: unknown keys and values of the
/// wrong kind are collected and reported together (422 `errors.invalidParameter`, naming
/// `parameters.<key>` each). A password policy must also be satisfiable on top of `base`
/// (422 `errors.policyInconsistency`), as must an identifier policy.
///
/// # Errors
/// As above.
pub fn validate_parameters(
    policy_type: PolicyType,
    params: &Parameters,
    base_password: &PasswordPolicy,
) -> Result<(), DomainError> {
    let keys = policy_type.keys();
    let bad: Vec<String> = params
        .iter()
        .filter(|(k, v)| match keys.iter().find(|(name, _)| name == k) {
            None => true,
            Some((_, kind)) => check_value(k, *kind, v).is_err(),
        })
        .map(|(k, _)| format!("parameters.{k}"))
        .collect();
    if !bad.is_empty() {
        return Err(DomainError::invalid_fields(&bad));
    }
    match policy_type {
        PolicyType::PwdPolicy => {
            let effective = password_policy(base_password, params)?;
            effective
                .validate()
                .and_then(|()| effective.lockout.validate())
                .map_err(|m| DomainError::unprocessable(ErrorCode::PolicyInconsistency, m))
        }
        PolicyType::IdentifierPolicy => {
            identifier_policy(&IdentifierPolicy::default(), params).map(drop)
        }
        PolicyType::ClientPolicy => client_policy(params).map(drop),
    }
}

/// `base` (the configured default) with the password-rule keys of `params` applied. Keys this
/// type does not carry (lockout, reset code) are left to their readers.
///
/// # Errors
/// 422 `errors.invalidParameter` for a malformed count.
pub fn password_policy(
    base: &PasswordPolicy,
    params: &Parameters,
) -> Result<PasswordPolicy, DomainError> {
    // One parser for the password rules and the lockout keys: the domain type's own. Whether
    // the result can be satisfied is the caller's question (`validate_parameters` answers it
    // with `errors.policyInconsistency`).
    base.apply_parameters(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// `base` with the `regex` and `maxLength` of `params` applied.
///
/// # Errors
/// 422 `errors.invalidParameter` for a malformed value.
pub fn identifier_policy(
    base: &IdentifierPolicy,
    params: &Parameters,
) -> Result<IdentifierPolicy, DomainError> {
    let regex = params
        .get("regex")
        .map_or(base.regex_source(), String::as_str);
    let max = match params.get("maxLength") {
        Some(v) => parse_count("maxLength", v)?,
        None => base.max_length(),
    };
    if max == 0 {
        return Err(invalid("maxLength"));
    }
    IdentifierPolicy::new(regex, max).map_err(|_| invalid("regex"))
}

/// The client-wide user validation rules. The default is what idm does without a client
/// policy: nothing beyond `loginId` is mandatory and every supported language is allowed.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClientRules {
    /// `name.familyName` is required.
    pub family_name_mandatory: bool,
    /// `name.firstName` is required.
    pub first_name_mandatory: bool,
    /// `contacts.email` is required.
    pub email_mandatory: bool,
    /// `contacts.mobile` is required.
    pub mobile_mandatory: bool,
    /// `sex` is required.
    pub sex_mandatory: bool,
    /// `address.countryCode` is required.
    pub country_mandatory: bool,
    /// `contacts.telephone` must match (anchored).
    pub phone_regex: Option<Regex>,
    /// `loginId` must match (anchored).
    pub login_id_regex: Option<Regex>,
    /// Allowed `languageCode`s; `None` = all.
    pub languages: Option<Vec<Language>>,
}

fn anchored(key: &str, source: &str) -> Result<Regex, DomainError> {
    Regex::new(&format!("^(?:{source})$")).map_err(|_| invalid(key))
}

/// The rules a client policy's parameters set (defaults for absent keys).
///
/// # Errors
/// 422 `errors.invalidParameter` for a malformed value.
pub fn client_policy(params: &Parameters) -> Result<ClientRules, DomainError> {
    let mut r = ClientRules::default();
    for (key, value) in params {
        match key.as_str() {
            "validation.user.name.mandatory" => r.family_name_mandatory = parse_bool(key, value)?,
            "validation.user.firstname.mandatory" => {
                r.first_name_mandatory = parse_bool(key, value)?
            }
            "validation.user.email.mandatory" => r.email_mandatory = parse_bool(key, value)?,
            "validation.user.mobile.mandatory" => r.mobile_mandatory = parse_bool(key, value)?,
            "validation.user.sex.mandatory" => r.sex_mandatory = parse_bool(key, value)?,
            "validation.user.country.mandatory" => r.country_mandatory = parse_bool(key, value)?,
            "validation.user.phone.regex" => r.phone_regex = Some(anchored(key, value)?),
            "loginId.regex" => r.login_id_regex = Some(anchored(key, value)?),
            "allowed.user.languages" => r.languages = Some(parse_languages(key, value)?),
            _ => {}
        }
    }
    Ok(r)
}

/// The values of a user as the client rules see them (after a create or patch is applied).
#[derive(Debug, Clone, Copy, Default)]
pub struct UserFacts<'a> {
    /// loginId.
    pub login_id: &'a str,
    /// name.firstName.
    pub first_name: Option<&'a str>,
    /// name.familyName.
    pub family_name: Option<&'a str>,
    /// contacts.email.
    pub email: Option<&'a str>,
    /// contacts.mobile.
    pub mobile: Option<&'a str>,
    /// contacts.telephone.
    pub telephone: Option<&'a str>,
    /// sex.
    pub sex: Option<&'a str>,
    /// address.countryCode.
    pub country_code: Option<&'a str>,
    /// languageCode.
    pub language: Option<Language>,
}

impl ClientRules {
    /// The wire names of the fields of `user` that break these rules, in a fixed order.
    pub fn violations(&self, user: &UserFacts<'_>) -> Vec<&'static str> {
        let blank = |v: Option<&str>| v.is_none_or(|s| s.trim().is_empty());
        let mut bad = Vec::new();
        if self
            .login_id_regex
            .as_ref()
            .is_some_and(|r| !r.is_match(user.login_id))
        {
            bad.push("loginId");
        }
        if let (Some(allowed), Some(lang)) = (&self.languages, user.language) {
            if !allowed.contains(&lang) {
                bad.push("languageCode");
            }
        }
        if self.first_name_mandatory && blank(user.first_name) {
            bad.push("name.firstName");
        }
        if self.family_name_mandatory && blank(user.family_name) {
            bad.push("name.familyName");
        }
        if self.sex_mandatory && blank(user.sex) {
            bad.push("sex");
        }
        if self.country_mandatory && blank(user.country_code) {
            bad.push("address.countryCode");
        }
        if self.email_mandatory && blank(user.email) {
            bad.push("contacts.email");
        }
        if self.mobile_mandatory && blank(user.mobile) {
            bad.push("contacts.mobile");
        }
        if let (Some(r), Some(t)) = (&self.phone_regex, user.telephone) {
            if !r.is_match(t) {
                bad.push("contacts.telephone");
            }
        }
        bad
    }
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Parameters {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn invalid_message(e: DomainError) -> String {
        match e {
            DomainError::Unprocessable {
                code: ErrorCode::InvalidParameter,
                message,
                ..
            } => message,
            other => panic!("expected invalidParameter, got {other:?}"),
        }
    }

    #[test]
    fn policy_types_parse_from_their_wire_names_only() {
        for t in PolicyType::ALL {
            assert_eq!(t.as_str().parse::<PolicyType>().unwrap(), t);
        }
        assert_eq!(
            invalid_message("pwdpolicy".parse::<PolicyType>().unwrap_err()),
            "The following fields are not valid: policyType"
        );
    }

    #[test]
    fn unknown_and_wrongly_typed_parameters_are_named_together() {
        let base = PasswordPolicy::default();
        type Case = (
            PolicyType,
            &'static [(&'static str, &'static str)],
            &'static str,
        );
        let cases: &[Case] = &[
            (
                PolicyType::PwdPolicy,
                &[("minLenght", "12")],
                "parameters.minLenght",
            ),
            (
                PolicyType::PwdPolicy,
                &[("minLength", "twelve")],
                "parameters.minLength",
            ),
            (
                PolicyType::PwdPolicy,
                &[("minLength", "-1")],
                "parameters.minLength",
            ),
            (
                PolicyType::PwdPolicy,
                &[("resetCodeEnabled", "yes")],
                "parameters.resetCodeEnabled",
            ),
            (
                PolicyType::PwdPolicy,
                &[("tmpLockingMode", "lax")],
                "parameters.tmpLockingMode",
            ),
            (
                PolicyType::PwdPolicy,
                &[("a", "1"), ("minDigits", "x")],
                "parameters.a, parameters.minDigits",
            ),
            (
                PolicyType::ClientPolicy,
                &[("allowed.user.languages", "[]")],
                "parameters.allowed.user.languages",
            ),
            (
                PolicyType::ClientPolicy,
                &[("allowed.user.languages", "[de, xx]")],
                "parameters.allowed.user.languages",
            ),
            (
                PolicyType::ClientPolicy,
                &[("validation.user.email.mandatory", "1")],
                "parameters.validation.user.email.mandatory",
            ),
            (
                PolicyType::ClientPolicy,
                &[("validation.user.phone.regex", "(")],
                "parameters.validation.user.phone.regex",
            ),
            (
                PolicyType::ClientPolicy,
                &[("minLength", "8")],
                "parameters.minLength",
            ),
            (
                PolicyType::IdentifierPolicy,
                &[("maxLength", "0")],
                "parameters.maxLength",
            ),
            (
                PolicyType::IdentifierPolicy,
                &[("regex", "[")],
                "parameters.regex",
            ),
        ];
        for (t, pairs, named) in cases {
            let e = validate_parameters(*t, &params(pairs), &base).unwrap_err();
            assert_eq!(
                invalid_message(e),
                format!("The following fields are not valid: {named}"),
                "{t:?} {pairs:?}"
            );
        }
    }

    #[test]
    fn every_lockout_and_reset_key_is_a_valid_password_parameter() {
        let p = params(&[
            ("maxCredFailureCount", "5"),
            ("tmpLockingThreshold", "2"),
            ("tmpLockingDuration", "60000"),
            ("tmpLockingMode", "threshold"),
            ("resetCodeEnabled", "true"),
            ("pwdHistory", "3"),
        ]);
        assert!(validate_parameters(PolicyType::PwdPolicy, &p, &PasswordPolicy::default()).is_ok());
    }

    #[test]
    fn a_password_policy_overrides_only_the_keys_it_carries() {
        let base = PasswordPolicy::default();
        let p = password_policy(&base, &params(&[("minLength", "12")])).unwrap();
        assert_eq!(p.min_length, 12);
        assert_eq!(p.max_length, base.max_length);
        assert_eq!(p.min_digits, base.min_digits);
        assert!(p.check("abcdefghij1").is_err());
        assert!(p.check("abcdefghijk1").is_ok());
    }

    #[test]
    fn an_unsatisfiable_password_policy_is_an_inconsistency() {
        let e = validate_parameters(
            PolicyType::PwdPolicy,
            &params(&[("minLength", "20"), ("maxLength", "10")]),
            &PasswordPolicy::default(),
        )
        .unwrap_err();
        assert!(matches!(
            e,
            DomainError::Unprocessable {
                code: ErrorCode::PolicyInconsistency,
                ..
            }
        ));
    }

    #[test]
    fn client_rules_name_the_fields_a_user_breaks() {
        let rules = client_policy(&params(&[
            ("validation.user.email.mandatory", "true"),
            ("validation.user.firstname.mandatory", "true"),
            ("allowed.user.languages", "[de]"),
            ("loginId.regex", "[a-z]+"),
        ]))
        .unwrap();
        let user = UserFacts {
            login_id: "Bad1",
            language: Some(Language::EN),
            first_name: Some(" "),
            ..UserFacts::default()
        };
        assert_eq!(
            rules.violations(&user),
            [
                "loginId",
                "languageCode",
                "name.firstName",
                "contacts.email"
            ]
        );
        let good = UserFacts {
            login_id: "good",
            language: Some(Language::DE),
            first_name: Some("Ann"),
            email: Some("a@b.c"),
            ..UserFacts::default()
        };
        assert!(rules.violations(&good).is_empty());
        assert!(ClientRules::default().violations(&user).is_empty());
    }

    #[test]
    fn an_identifier_policy_overrides_the_configured_one() {
        let p = identifier_policy(
            &IdentifierPolicy::default(),
            &params(&[("regex", "[a-z]+"), ("maxLength", "5")]),
        )
        .unwrap();
        assert!(p.check("abc").is_ok());
        assert!(p.check("abcdef").is_err());
        assert!(p.check("ABC").is_err());
    }
}
