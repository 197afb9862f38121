//! Custom properties: definitions (what may be stored on users, profiles, units, enterprise
//! roles, applications)
//! and the validation of the values clients write.
//!
//! Everything here is pure: the service hands in the definitions that apply and the values the
//! client sent, and gets back either the accepted changes or the exact nevisIDM error.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use crate::error::DomainError;
use crate::error_code::ErrorCode;

wire_enum!(
    /// What a property's values are: free text or one of a list.
    PropertyType, parse: String {
        /// Free text, optionally limited by `stringMaxLen` and `stringRegex`.
        String => "STRING",
        /// One of the definition's allowed values.
        Enum => "ENUM",
    }
);

wire_enum!(
    /// Which kind of entity a property attaches to. Adding a scope (e.g.
    /// `ENTERPRISE_ROLE_GLOBAL`) is one line here plus where its values are stored.
    PropertyScope, parse: String {
        /// Applications (definitions only: no value endpoint yet).
        ApplicationGlobal => "APPLICATION_GLOBAL",
        /// Units.
        UnitGlobal => "UNIT_GLOBAL",
        /// Profiles.
        ProfileGlobal => "PROFILE_GLOBAL",
        /// Users.
        UserGlobal => "USER_GLOBAL",
        /// Enterprise roles.
        EnterpriseRoleGlobal => "ENTERPRISE_ROLE_GLOBAL",
    }
);

wire_enum!(
    /// Whether a value may be written when its entity is created (`accessCreate`) or modified
    /// (`accessModify`).
    PropertyAccess, parse: String {
        /// Writable.
        ReadWrite => "READ_WRITE",
        /// Visible, not writable.
        ReadOnly => "READ_ONLY",
        /// Neither shown on the GUI nor writable.
        Off => "OFF",
    }
);

wire_enum!(
    /// Where two equal values of a property may not coexist.
    UniquenessScope, parse: String {
        /// Nowhere: a value exists once for the whole definition.
        Absolute => "ABSOLUTE",
        /// Not twice in the same unit (users: the unit of their first profile).
        RelativeUnit => "RELATIVE_UNIT",
    }
);

/// The equality look-up key stored beside a plaintext (not encrypted) property value: hex of
/// its SHA-256. `properties.<name>=` filters compare keys, so everything that writes values
/// (the use cases, bulk seeding) must compute it here.
pub fn plain_value_key(value: &str) -> String {
    use sha2::{Digest, Sha256};
    data_encoding::HEXLOWER.encode(&Sha256::digest(value.as_bytes()))
}

/// One allowed value of an ENUM property; the id is stable across updates of the definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedValue {
    /// `allowedValueId`, unique within its definition.
    pub id: i64,
    /// The value.
    pub value: String,
}

/// A property definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyDef {
    /// `propertyId`.
    pub id: i64,
    /// Creation time.
    pub created: NaiveDateTime,
    /// Last change.
    pub last_modified: NaiveDateTime,
    /// Optimistic-locking counter.
    pub version: i64,
    /// Technical name, unique within scope and client; the key in `properties` maps.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// STRING or ENUM.
    pub property_type: PropertyType,
    /// The kind of entity it attaches to.
    pub scope: PropertyScope,
    /// Owning client; `None` for a definition every client sees.
    pub client_id: Option<i64>,
    /// Owning client's extId.
    pub client_ext_id: Option<String>,
    /// Values are stored encrypted.
    pub encrypted: bool,
    /// Values are propagated to other systems (stored only).
    pub propagated: bool,
    /// A value is required when the entity is created.
    pub mandatory_on_gui: bool,
    /// Longest value, in characters (STRING only).
    pub string_max_len: Option<i32>,
    /// Pattern every value must match as a whole (STRING only).
    pub string_regex: Option<String>,
    /// Whether a value may be written on create.
    pub access_create: PropertyAccess,
    /// Whether a value may be written on modify.
    pub access_modify: PropertyAccess,
    /// Uniqueness of values, `None` = none.
    pub uniqueness_scope: Option<UniquenessScope>,
    /// GUI order.
    pub gui_precedence: Option<i32>,
    /// Allowed values (ENUM only).
    pub allowed_values: Vec<AllowedValue>,
}

/// The longest value any property accepts, whatever its `stringMaxLen`: values are stored in
/// one text column and must stay a small row.
pub const VALUE_MAX_CHARS: usize = 4000;

impl PropertyDef {
    /// Checks the rules between fields of a definition (create and after a patch).
    ///
    /// # Errors
    /// 422 `errors.invalidParameter` naming the inconsistent fields, or
    /// `errors.property.regexinv` for a pattern that does not compile.
    pub fn check(&self) -> Result<(), DomainError> {
        let mut bad = Vec::new();
        if self.name.trim().is_empty() || self.name.chars().count() > 255 {
            bad.push("name");
        }
        match self.property_type {
            PropertyType::Enum => {
                if self.string_max_len.is_some() {
                    bad.push("stringMaxLen");
                }
                if self.string_regex.is_some() {
                    bad.push("stringRegex");
                }
                if self.allowed_values.is_empty()
                    || self.allowed_values.iter().any(|v| v.value.is_empty())
                {
                    bad.push("allowedValues");
                }
                // uScopes apply only to STRING properties (reference: uniqueness scopes).
                if self.uniqueness_scope.is_some() {
                    bad.push("uniquenessScope");
                }
            }
            PropertyType::String => {
                if self
                    .string_max_len
                    .is_some_and(|n| n < 1 || n as usize > VALUE_MAX_CHARS)
                {
                    bad.push("stringMaxLen");
                }
                if !self.allowed_values.is_empty() {
                    bad.push("allowedValues");
                }
            }
        }
        if self.uniqueness_scope == Some(UniquenessScope::RelativeUnit)
            && self.scope != PropertyScope::UserGlobal
        {
            // As in nevisIDM: "currently only implemented for properties with scope
            // USER_GLOBAL".
            bad.push("uniquenessScope");
        }
        if !bad.is_empty() {
            bad.dedup();
            return Err(DomainError::invalid_fields(&bad));
        }
        if let Some(re) = &self.string_regex {
            if compile(re).is_none() {
                return Err(DomainError::unprocessable(
                    ErrorCode::PropertyRegexinv,
                    format!(
                        "The regular expression '{re}' of property '{}' is invalid.",
                        self.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// True if this definition applies to entities of `scope` in client `client_id`.
    pub fn applies_to(&self, scope: PropertyScope, client_id: i64) -> bool {
        self.scope == scope && self.client_id.is_none_or(|c| c == client_id)
    }
}

/// Whole-value match: nevisIDM validates the complete value, not a substring.
fn compile(re: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(&format!("^(?:{re})$"))
        .size_limit(1 << 20)
        .build()
        .ok()
}

/// Whether values are written as part of creating the entity or of modifying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The entity is being created: `accessCreate` applies, mandatory properties are required.
    Create,
    /// The entity exists: `accessModify` applies.
    Modify,
}

/// One accepted change: set `value` on the property, or remove the value (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueChange<'d> {
    /// The definition written.
    pub def: &'d PropertyDef,
    /// The new plaintext value, `None` to remove it.
    pub value: Option<String>,
}

/// Validates the `properties` a client sent (name → value; `None` or `""` removes) against
/// the definitions that apply to the entity, and returns the changes in name order.
///
/// `present` names the properties that currently have a value (for the mandatory rule on
/// modify).
///
/// # Errors
/// In this order: 422 `errors.invalidParameter` naming every unknown `properties.<name>`;
/// 422 `errors.modifyReadonlyData` for a property whose access forbids the write; 422
/// `errors.property.stringmaxlen`, `errors.property.stringregex`, `errors.invalidData` (ENUM
/// value not allowed); 422 `errors.invalidParameter` naming missing mandatory properties.
pub fn check_values<'d>(
    defs: &'d [PropertyDef],
    sent: &BTreeMap<String, Option<String>>,
    mode: WriteMode,
    present: &[&str],
) -> Result<Vec<ValueChange<'d>>, DomainError> {
    let by_name: BTreeMap<&str, &PropertyDef> = defs.iter().map(|d| (d.name.as_str(), d)).collect();
    let unknown: Vec<String> = sent
        .keys()
        .filter(|n| !by_name.contains_key(n.as_str()))
        .map(|n| format!("properties.{n}"))
        .collect();
    if !unknown.is_empty() {
        return Err(DomainError::invalid_fields(&unknown));
    }
    let mut changes = Vec::with_capacity(sent.len());
    let mut missing = Vec::new();
    for (name, value) in sent {
        let Some(def) = by_name.get(name.as_str()).copied() else {
            continue;
        };
        let value = value.as_deref().filter(|v| !v.is_empty());
        let access = match mode {
            WriteMode::Create => def.access_create,
            WriteMode::Modify => def.access_modify,
        };
        if access != PropertyAccess::ReadWrite {
            return Err(DomainError::unprocessable(
                ErrorCode::ModifyReadonlyData,
                format!(
                    "The property '{name}' cannot be {} (access {access}).",
                    match mode {
                        WriteMode::Create => "set on create",
                        WriteMode::Modify => "modified",
                    }
                ),
            ));
        }
        match value {
            None => {
                if def.mandatory_on_gui {
                    missing.push(format!("properties.{name}"));
                }
                changes.push(ValueChange { def, value: None });
            }
            Some(v) => {
                check_one(def, v)?;
                changes.push(ValueChange {
                    def,
                    value: Some(v.to_owned()),
                });
            }
        }
    }
    if mode == WriteMode::Create {
        for def in defs {
            let writable = def.access_create == PropertyAccess::ReadWrite;
            let given = sent
                .get(&def.name)
                .is_some_and(|v| v.as_deref().is_some_and(|v| !v.is_empty()));
            if def.mandatory_on_gui && writable && !given && !present.contains(&def.name.as_str()) {
                missing.push(format!("properties.{}", def.name));
            }
        }
    }
    if !missing.is_empty() {
        missing.sort();
        missing.dedup();
        return Err(DomainError::invalid_fields(&missing));
    }
    Ok(changes)
}

/// Checks one non-empty value against its definition. Messages never echo the value: it may
/// be an encrypted property's secret.
fn check_one(def: &PropertyDef, value: &str) -> Result<(), DomainError> {
    let name = &def.name;
    let len = value.chars().count();
    match def.property_type {
        PropertyType::String => {
            let max = def.string_max_len.map_or(VALUE_MAX_CHARS, |n| {
                (n.max(0) as usize).min(VALUE_MAX_CHARS)
            });
            if len > max {
                return Err(DomainError::unprocessable(
                    ErrorCode::PropertyStringmaxlen,
                    format!(
                        "The value of property '{name}' is longer than the maximum length {max}."
                    ),
                ));
            }
            if let Some(re) = &def.string_regex {
                if !compile(re).is_some_and(|r| r.is_match(value)) {
                    return Err(DomainError::unprocessable(
                        ErrorCode::PropertyStringregex,
                        format!(
                            "The value of property '{name}' does not match the regular expression '{re}'."
                        ),
                    ));
                }
            }
        }
        PropertyType::Enum => {
            if !def.allowed_values.iter().any(|a| a.value == value) {
                return Err(DomainError::unprocessable(
                    ErrorCode::InvalidData,
                    format!("The value of property '{name}' is not one of its allowed values."),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn def(name: &str) -> PropertyDef {
        let t = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        PropertyDef {
            id: 1,
            created: t,
            last_modified: t,
            version: 1,
            name: name.into(),
            description: None,
            property_type: PropertyType::String,
            scope: PropertyScope::UserGlobal,
            client_id: None,
            client_ext_id: None,
            encrypted: false,
            propagated: false,
            mandatory_on_gui: false,
            string_max_len: None,
            string_regex: None,
            access_create: PropertyAccess::ReadWrite,
            access_modify: PropertyAccess::ReadWrite,
            uniqueness_scope: None,
            gui_precedence: None,
            allowed_values: Vec::new(),
        }
    }

    fn sent(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
            .collect()
    }

    fn code(e: DomainError) -> (ErrorCode, String) {
        let entry = e.envelope().errors.remove(0);
        (entry.code, entry.message)
    }

    #[test]
    fn every_wire_name_parses_back_to_its_value() {
        for s in PropertyScope::ALL {
            assert_eq!(s.as_str().parse::<PropertyScope>(), Ok(*s));
        }
        for a in PropertyAccess::ALL {
            assert_eq!(a.as_str().parse::<PropertyAccess>(), Ok(*a));
        }
        assert!("user_global".parse::<PropertyScope>().is_err());
    }

    #[test]
    fn unknown_names_are_all_named_with_the_properties_prefix() {
        let defs = [def("known")];
        let e = check_values(
            &defs,
            &sent(&[("b", Some("1")), ("a", Some("1")), ("known", Some("x"))]),
            WriteMode::Modify,
            &[],
        )
        .unwrap_err();
        assert_eq!(
            code(e),
            (
                ErrorCode::InvalidParameter,
                "The following fields are not valid: properties.a, properties.b".into()
            )
        );
    }

    #[test]
    fn a_regex_must_match_the_whole_value() {
        let mut d = def("emp");
        d.string_regex = Some("[0-9]{4}".into());
        let defs = [d];
        assert!(check_values(
            &defs,
            &sent(&[("emp", Some("4711"))]),
            WriteMode::Create,
            &[]
        )
        .is_ok());
        let e = check_values(
            &defs,
            &sent(&[("emp", Some("47110"))]),
            WriteMode::Create,
            &[],
        )
        .unwrap_err();
        assert_eq!(code(e).0, ErrorCode::PropertyStringregex);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let mut d = def("n");
        d.string_max_len = Some(3);
        let defs = [d];
        assert!(check_values(&defs, &sent(&[("n", Some("äöü"))]), WriteMode::Create, &[]).is_ok());
        let e =
            check_values(&defs, &sent(&[("n", Some("äöüx"))]), WriteMode::Create, &[]).unwrap_err();
        assert_eq!(code(e).0, ErrorCode::PropertyStringmaxlen);
    }

    #[test]
    fn an_empty_value_removes_and_is_not_validated() {
        let mut d = def("n");
        d.string_regex = Some("x".into());
        let defs = [d];
        let c = check_values(&defs, &sent(&[("n", Some(""))]), WriteMode::Modify, &[]).unwrap();
        assert_eq!(c[0].value, None);
    }

    #[test]
    fn read_only_on_modify_is_refused_but_allowed_on_create() {
        let mut d = def("n");
        d.access_modify = PropertyAccess::ReadOnly;
        let defs = [d];
        assert!(check_values(&defs, &sent(&[("n", Some("a"))]), WriteMode::Create, &[]).is_ok());
        let e =
            check_values(&defs, &sent(&[("n", Some("a"))]), WriteMode::Modify, &[]).unwrap_err();
        assert_eq!(code(e).0, ErrorCode::ModifyReadonlyData);
    }

    #[test]
    fn a_mandatory_property_is_required_on_create_only() {
        let mut d = def("m");
        d.mandatory_on_gui = true;
        let defs = [d, def("other")];
        let e = check_values(
            &defs,
            &sent(&[("other", Some("a"))]),
            WriteMode::Create,
            &[],
        )
        .unwrap_err();
        assert_eq!(
            code(e),
            (
                ErrorCode::InvalidParameter,
                "The following fields are not valid: properties.m".into()
            )
        );
        assert!(check_values(
            &defs,
            &sent(&[("other", Some("a"))]),
            WriteMode::Modify,
            &[]
        )
        .is_ok());
    }

    #[test]
    fn an_enum_value_must_be_allowed() {
        let mut d = def("tier");
        d.property_type = PropertyType::Enum;
        d.allowed_values = vec![AllowedValue {
            id: 1,
            value: "gold".into(),
        }];
        let defs = [d];
        assert!(check_values(
            &defs,
            &sent(&[("tier", Some("gold"))]),
            WriteMode::Create,
            &[]
        )
        .is_ok());
        let e = check_values(
            &defs,
            &sent(&[("tier", Some("tin"))]),
            WriteMode::Create,
            &[],
        )
        .unwrap_err();
        assert_eq!(code(e).0, ErrorCode::InvalidData);
    }

    #[test]
    fn definition_rules_name_the_fields_that_contradict_the_type() {
        let mut d = def("e");
        d.property_type = PropertyType::Enum;
        d.string_regex = Some("x".into());
        assert_eq!(
            code(d.check().unwrap_err()),
            (
                ErrorCode::InvalidParameter,
                "The following fields are not valid: stringRegex, allowedValues".into()
            )
        );
        let mut d = def("s");
        d.string_regex = Some("(".into());
        assert_eq!(code(d.check().unwrap_err()).0, ErrorCode::PropertyRegexinv);
        let mut d = def("s");
        d.scope = PropertyScope::UnitGlobal;
        d.uniqueness_scope = Some(UniquenessScope::RelativeUnit);
        assert!(d.check().is_err());
    }
}
