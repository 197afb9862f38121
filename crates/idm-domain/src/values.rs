//! Small value objects shared by the entities: languages and language maps, entity states,
//! validity periods, extIds and the timestamp format.
//!
//! They live here, not in the web layer, because the same rules (which language keys exist,
//! which state names parse, what an extId may contain) must hold for every adapter.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::DomainError;
use crate::error_code::ErrorCode;

/// A language nevisIDM keeps translations for. The wire spelling is upper case (`EN`), as in the
/// keys of language maps and in the user's `languageCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Language {
    /// English.
    EN,
    /// German.
    DE,
    /// French.
    FR,
    /// Italian.
    IT,
}

impl Language {
    /// Every language, in wire order.
    pub const ALL: [Language; 4] = [Language::EN, Language::DE, Language::FR, Language::IT];

    /// The wire code, e.g. `EN`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Language::EN => "EN",
            Language::DE => "DE",
            Language::FR => "FR",
            Language::IT => "IT",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Language {
    /// The rejected input, so the caller can name it.
    type Err = String;

    /// Accepts only the upper-case codes, because API.md §1 allows exactly `EN`, `DE`, `FR`,
    /// `IT` as language-map keys.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| s.to_owned())
    }
}

/// A language-dependent text (`displayName`, `abbreviation`, `content`): a JSON object keyed by
/// [`Language`]. A `BTreeMap` keeps the output order stable (EN, DE, FR, IT).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LanguageMap(pub BTreeMap<Language, String>);

impl LanguageMap {
    /// Reads a request value. Errors carry the offending key (or an empty string when the value
    /// is not a JSON object at all) so the caller can answer 422 `errors.invalidParameter`
    /// naming the field.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let object = value.as_object().ok_or_else(String::new)?;
        let mut map = BTreeMap::new();
        for (key, text) in object {
            let language: Language = key.parse()?;
            let text = text.as_str().ok_or_else(|| key.clone())?;
            map.insert(language, text.to_owned());
        }
        Ok(LanguageMap(map))
    }

    /// The JSON value, as sent to clients.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(l, t)| (l.as_str().to_owned(), serde_json::Value::String(t.clone())))
                .collect(),
        )
    }

    /// The text stored in the database column (compact JSON object).
    pub fn to_storage(&self) -> String {
        self.to_json().to_string()
    }

    /// Reads a stored column; an error means the database holds something this code never
    /// wrote, and describes why.
    pub fn from_storage(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(LanguageMap::default());
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid language map JSON: {e}"))?;
        Self::from_json(&value).map_err(|key| format!("invalid language map key '{key}'"))
    }

    /// Whether no language has a text.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text for one language, if present.
    pub fn get(&self, language: Language) -> Option<&str> {
        self.0.get(&language).map(String::as_str)
    }
}

wire_enum! {
    /// Lifecycle state of a user.
    UserState, parse: "UserState" {
        /// May log in and be managed.
        Active => "active",
        /// Kept but may not log in.
        Disabled => "disabled",
        /// Retired; kept for history only.
        Archived => "archived",
    }
}

wire_enum! {
    /// State of a unit.
    UnitState, parse: "UnitState" {
        /// In use.
        Active => "active",
        /// Kept but not in use.
        Disabled => "disabled",
    }
}

wire_enum! {
    /// State of a profile; only active profiles contribute rights.
    ProfileState, parse: "ProfileState" {
        /// In use.
        Active => "active",
        /// Kept but grants nothing.
        Disabled => "disabled",
        /// Retired together with its user.
        Archived => "archived",
    }
}

wire_enum! {
    /// State of a personal (security) question.
    PersonalQuestionState, parse: "PersonalQuestionState" {
        /// Offered to users.
        Active => "active",
        /// Temporarily not offered.
        Disabled => "disabled",
        /// Withdrawn for good.
        Revoked => "revoked",
    }
}

wire_enum! {
    /// State of a dispatch target (a device that receives push messages).
    DispatchTargetState, parse: "DispatchTargetState" {
        /// Receives messages.
        Active => "active",
        /// Receives nothing.
        Disabled => "disabled",
    }
}

/// A validity period (`{"from": ..., "to": ...}`), both ends optional and inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Validity {
    /// Start; `None` = since ever.
    #[serde(default, deserialize_with = "deserialize_lenient_datetime")]
    pub from: Option<DateTime<Utc>>,
    /// End; `None` = forever.
    #[serde(default, deserialize_with = "deserialize_lenient_datetime")]
    pub to: Option<DateTime<Utc>>,
}

impl Validity {
    /// Rejects a period that ends before it starts (422 `errors.invalidDateInterval`).
    pub fn check(&self) -> Result<(), DomainError> {
        match (self.from, self.to) {
            (Some(from), Some(to)) if from > to => Err(DomainError::unprocessable(
                ErrorCode::InvalidDateInterval,
                "Invalid date interval: validity.from is after validity.to",
            )),
            _ => Ok(()),
        }
    }

    /// Whether the instant lies inside the period.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| f <= at) && self.to.is_none_or(|t| at <= t)
    }
}

/// Accepts RFC 3339 timestamps and, because the reference describes validity ends as "ISO
/// dates", plain `YYYY-MM-DD` dates (taken as midnight UTC).
fn deserialize_lenient_datetime<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    parse_lenient_datetime(&text)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("invalid date or date-time '{text}'")))
}

/// Parses an RFC 3339 timestamp or a `YYYY-MM-DD` date (midnight UTC).
pub fn parse_lenient_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc())
}

/// The longest extId accepted (the widest extId column of the data model).
pub const EXT_ID_MAX_LENGTH: usize = 255;

/// A fresh extId for a resource created without one (a UUID v4, as API.md §1 requires).
pub fn new_ext_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether `c` may appear in an extId: letters, digits and `-@._:(){}[]=!~+`. No `/`, no `\`,
/// no whitespace, because extIds become URL path segments.
fn is_ext_id_char(c: char) -> bool {
    c.is_alphanumeric() || "-@._:(){}[]=!~+".contains(c)
}

/// Validates a client-supplied extId: non-empty, at most [`EXT_ID_MAX_LENGTH`] characters, from
/// the allowed set; else 422 `errors.invalidParameter` naming `extId`.
pub fn check_ext_id(value: &str) -> Result<(), DomainError> {
    let ok = !value.is_empty()
        && value.chars().count() <= EXT_ID_MAX_LENGTH
        && value.chars().all(is_ext_id_char);
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid_fields(&["extId"]))
    }
}

/// The wire form of a timestamp: RFC 3339, UTC, `Z`, whole seconds (`2023-08-18T12:34:56Z`).
pub fn format_timestamp(dt: NaiveDateTime) -> String {
    dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The current UTC time truncated to milliseconds, because stored timestamps are millisecond
/// precise and continuation tokens (`<createdMillis>_<extId>`) must round-trip exactly.
pub fn now_millis() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(3)
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn languages_serialize_in_upper_case_and_parse_only_upper_case() {
        assert_eq!(serde_json::to_value(Language::DE).unwrap(), json!("DE"));
        assert_eq!("IT".parse::<Language>(), Ok(Language::IT));
        assert_eq!("en".parse::<Language>(), Err("en".to_owned()));
    }

    #[test]
    fn a_language_map_reads_known_keys_and_serializes_as_an_object() {
        let m = LanguageMap::from_json(&json!({"DE": "Kunde", "EN": "Client"})).unwrap();
        assert_eq!(m.get(Language::EN), Some("Client"));
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"EN": "Client", "DE": "Kunde"})
        );
        assert_eq!(m.to_json(), json!({"EN": "Client", "DE": "Kunde"}));
        let back: LanguageMap =
            serde_json::from_value(json!({"EN": "Client", "DE": "Kunde"})).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn a_language_map_names_the_offending_key_or_non_string_value() {
        assert_eq!(
            LanguageMap::from_json(&json!({"EN": "x", "ES": "y"})),
            Err("ES".to_owned())
        );
        assert_eq!(
            LanguageMap::from_json(&json!({"EN": 3})),
            Err("EN".to_owned())
        );
        assert_eq!(LanguageMap::from_json(&json!("EN")), Err(String::new()));
        assert!(serde_json::from_value::<LanguageMap>(json!({"XX": "y"})).is_err());
    }

    #[test]
    fn a_language_map_round_trips_through_storage() {
        let m = LanguageMap::from_json(&json!({"FR": "Client", "IT": "Cliente"})).unwrap();
        let stored = m.to_storage();
        assert_eq!(stored, r#"{"FR":"Client","IT":"Cliente"}"#);
        assert_eq!(LanguageMap::from_storage(&stored), Ok(m));
        assert!(LanguageMap::from_storage("").unwrap().is_empty());
        assert!(LanguageMap::from_storage("{\"xx\":\"a\"}").is_err());
        assert!(LanguageMap::from_storage("not json").is_err());
    }

    #[test]
    fn states_use_lower_case_names_on_the_wire() {
        assert_eq!(
            serde_json::to_value(UserState::Archived).unwrap(),
            json!("archived")
        );
        assert_eq!("disabled".parse::<UnitState>(), Ok(UnitState::Disabled));
        assert_eq!(ProfileState::Active.as_str(), "active");
        assert_eq!(DispatchTargetState::Disabled.to_string(), "disabled");
        let s: PersonalQuestionState = serde_json::from_value(json!("revoked")).unwrap();
        assert_eq!(s, PersonalQuestionState::Revoked);
    }

    #[test]
    fn an_unknown_personal_question_state_is_the_seed_422() {
        let err = "invalid_state"
            .parse::<PersonalQuestionState>()
            .unwrap_err();
        assert_eq!(
            err,
            DomainError::Unprocessable {
                code: ErrorCode::InvalidParameter,
                message: "Invalid PersonalQuestionState name 'invalid_state'".into(),
                identifier: None,
                violations: vec![],
            }
        );
        assert!("Active".parse::<PersonalQuestionState>().is_err());
    }

    #[test]
    fn a_validity_accepts_open_ends_and_rejects_an_inverted_period() {
        let v: Validity =
            serde_json::from_value(json!({"from": "2024-01-01T00:00:00Z", "to": null})).unwrap();
        assert!(v.check().is_ok());
        assert!(v.contains(Utc::now()));
        let bad: Validity =
            serde_json::from_value(json!({"from": "2024-02-01", "to": "2024-01-01T00:00:00Z"}))
                .unwrap();
        assert!(matches!(
            bad.check(),
            Err(DomainError::Unprocessable {
                code: ErrorCode::InvalidDateInterval,
                ..
            })
        ));
        assert!(serde_json::from_value::<Validity>(json!({"from": "yesterday"})).is_err());
        assert_eq!(
            serde_json::from_value::<Validity>(json!({})).unwrap(),
            Validity::default()
        );
    }

    #[test]
    fn generated_ext_ids_are_valid_and_distinct() {
        let a = new_ext_id();
        assert_ne!(a, new_ext_id());
        assert!(check_ext_id(&a).is_ok());
    }

    #[test]
    fn ext_ids_allow_the_documented_characters_and_reject_slashes_and_whitespace() {
        assert!(check_ext_id("client-123").is_ok());
        assert!(check_ext_id("a@b.c_d:(x){y}[z]=!~+").is_ok());
        assert!(check_ext_id(&"x".repeat(255)).is_ok());
        for bad in ["", "a/b", "a b", "a\tb", "a\\b", "a?b", "a#b", "a%2F"] {
            assert_eq!(
                check_ext_id(bad),
                Err(DomainError::invalid_fields(&["extId"])),
                "{bad:?}"
            );
        }
        assert!(check_ext_id(&"x".repeat(256)).is_err());
    }

    #[test]
    fn timestamps_format_as_rfc3339_utc_seconds() {
        let dt = NaiveDate::from_ymd_opt(2023, 8, 18)
            .unwrap()
            .and_hms_milli_opt(12, 34, 56, 789)
            .unwrap();
        assert_eq!(format_timestamp(dt), "2023-08-18T12:34:56Z");
    }

    #[test]
    fn now_is_truncated_to_whole_milliseconds() {
        let now = now_millis();
        assert_eq!(now.and_utc().timestamp_subsec_nanos() % 1_000_000, 0);
    }
}
