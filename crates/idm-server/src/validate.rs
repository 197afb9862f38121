//! Field rules of request bodies: every body type derives [`validator::Validate`], and
//! [`crate::extract::Body`] runs it after deserialising. This module turns the validator's
//! errors into the one nevisIDM answer for a bad field — 422 `errors.invalidParameter` naming
//! the fields by their JSON paths (`name.firstName`, `languages[0]`) — and holds the custom
//! rules that derive attributes cannot express (maps of text).
//!
//! Each text field carries its limit twice, side by side: `#[validate(length(max = N))]`
//! enforces it and `#[schema(max_length = N)]` publishes it (utoipa takes only a literal).
//! `tests/tests/limits.rs` walks the published OpenAPI document and sends every documented
//! body field at its limit and one past it, so the two cannot drift apart unnoticed, and it
//! fails for a body text field without a published limit.

use std::borrow::Cow;
use std::collections::BTreeMap;

use idm_domain::values::LanguageMap;
use idm_domain::DomainError;
use validator::{ValidationError, ValidationErrors, ValidationErrorsKind};

/// Longest key of a name → value map in a body (property names, language codes).
pub const MAP_KEY_MAX: usize = 255;
/// Longest value of a name → text map in a body (property values; the `TEXT` columns they
/// go to are unbounded, this bound is what the API promises).
pub const MAP_VALUE_MAX: usize = 4000;

/// The 422 for a body that deserialised but breaks a field rule.
pub fn refusal(errors: &ValidationErrors) -> DomainError {
    let mut fields = Vec::new();
    collect(errors, "", &mut fields);
    fields.sort();
    fields.dedup();
    if fields.is_empty() {
        fields.push("body".to_owned());
    }
    DomainError::invalid_fields(&fields)
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<String>) {
    for (name, kind) in errors.errors() {
        let here = join(prefix, name);
        match kind {
            ValidationErrorsKind::Field(list) => {
                // A map rule reports the offending key, a list rule the offending index, as
                // the error's code-independent params.
                let key = list
                    .iter()
                    .find_map(|e| e.params.get("key").and_then(|k| k.as_str()));
                let index = list
                    .iter()
                    .find_map(|e| e.params.get("index").and_then(serde_json::Value::as_u64));
                match (key, index) {
                    (Some(key), _) if here.is_empty() => out.push(key.to_owned()),
                    (Some(key), _) => out.push(format!("{here}.{key}")),
                    (None, Some(index)) => out.push(format!("{here}[{index}]")),
                    (None, None) => out.push(here),
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &here, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{here}[{index}]"), out);
                }
            }
        }
    }
}

/// `prefix.fieldName`, the Rust field name in the wire's camelCase (every body type is
/// `rename_all = "camelCase"`; the validator reports Rust names).
fn join(prefix: &str, name: &str) -> String {
    if name.is_empty() {
        return prefix.to_owned();
    }
    let mut camel = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            camel.extend(c.to_uppercase());
            upper = false;
        } else {
            camel.push(c);
        }
    }
    if prefix.is_empty() {
        camel
    } else {
        format!("{prefix}.{camel}")
    }
}

fn too_long(key: &str) -> ValidationError {
    let mut error = ValidationError::new("length");
    error.add_param(Cow::Borrowed("key"), &key);
    error
}

/// Rule for a name → text map (`properties`, language maps): keys at most [`MAP_KEY_MAX`]
/// characters, values at most [`MAP_VALUE_MAX`]. Use as
/// `#[validate(custom(function = "crate::validate::text_map"))]`.
///
/// # Errors
/// The first key that is too long, or whose value is.
pub fn text_map<V: AsText>(map: &BTreeMap<String, V>) -> Result<(), ValidationError> {
    for (key, value) in map {
        let value_len = value.as_text().map_or(0, |v| v.chars().count());
        if key.chars().count() > MAP_KEY_MAX || value_len > MAP_VALUE_MAX {
            return Err(too_long(key));
        }
    }
    Ok(())
}

/// A map value that may hold text (`String` or `Option<String>` for "remove this key").
pub trait AsText {
    /// The text, if any.
    fn as_text(&self) -> Option<&str>;
}

impl AsText for String {
    fn as_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl AsText for Option<String> {
    fn as_text(&self) -> Option<&str> {
        self.as_deref()
    }
}

/// Longest text of a language map (`displayName`, `description`, `content`, …).
pub const LANGUAGE_TEXT_MAX: usize = 1000;

/// Rule for a language map: each text at most [`LANGUAGE_TEXT_MAX`] characters; the error
/// names the language (`displayName.DE`). Use as
/// `#[validate(custom(function = "crate::validate::language_map"))]`.
///
/// # Errors
/// The first language whose text is too long.
pub fn language_map(map: &LanguageMap) -> Result<(), ValidationError> {
    match map
        .0
        .iter()
        .find(|(_, text)| text.chars().count() > LANGUAGE_TEXT_MAX)
    {
        Some((language, _)) => Err(too_long(&language.to_string())),
        None => Ok(()),
    }
}

/// Longest URL in a body (terms document URLs, application URLs).
pub const URL_MAX: usize = 2048;

/// Rule for a language → URL map: keys at most [`MAP_KEY_MAX`] characters, URLs at most
/// [`URL_MAX`]. Use as `#[validate(custom(function = "crate::validate::url_map"))]`.
///
/// # Errors
/// The first key that is too long, or whose URL is.
pub fn url_map(map: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    match map
        .iter()
        .find(|(key, url)| key.chars().count() > MAP_KEY_MAX || url.chars().count() > URL_MAX)
    {
        Some((key, _)) => Err(too_long(key)),
        None => Ok(()),
    }
}

/// Rule for a list of identifiers (extIds of linked objects): each at most 255 characters;
/// the error names the item (`applicationExtIds[2]`). Use as
/// `#[validate(custom(function = "crate::validate::ext_id_items"))]`.
///
/// # Errors
/// The first identifier that is too long.
pub fn ext_id_items(items: &[String]) -> Result<(), ValidationError> {
    text_items::<255>(items)
}

/// Rule for a list of texts: each at most `N` characters; the error names the item.
///
/// # Errors
/// The first text that is too long.
pub fn text_items<const N: usize>(items: &[String]) -> Result<(), ValidationError> {
    match items.iter().position(|item| item.chars().count() > N) {
        Some(index) => {
            let mut error = ValidationError::new("length");
            error.add_param(Cow::Borrowed("index"), &index);
            Err(error)
        }
        None => Ok(()),
    }
}

/// A URL on the wire (documentation type): at most [`URL_MAX`] characters.
#[derive(utoipa::ToSchema)]
#[schema(max_length = 2048, format = "uri")]
#[allow(dead_code)]
pub struct UrlText(String);

/// An identifier of another object on the wire (documentation type): at most 255 characters.
#[derive(utoipa::ToSchema)]
#[schema(max_length = 255)]
#[allow(dead_code)]
pub struct ExtIdText(String);

/// A value of a name → text map on the wire (property values, policy parameters;
/// documentation type): text of at most [`MAP_VALUE_MAX`]
/// characters, as [`text_map`] enforces.
#[derive(utoipa::ToSchema)]
#[schema(max_length = 4000)]
#[allow(dead_code)]
pub struct MapValueText(String);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use validator::Validate;

    #[derive(Validate)]
    struct Inner {
        #[validate(length(max = 3))]
        first_name: Option<String>,
    }

    #[derive(Validate)]
    struct Outer {
        #[validate(length(max = 2))]
        ext_id: String,
        #[validate(nested)]
        name: Option<Inner>,
        #[validate(custom(function = "text_map"))]
        properties: BTreeMap<String, Option<String>>,
    }

    fn message(outer: &Outer) -> String {
        refusal(&outer.validate().unwrap_err()).envelope().errors[0]
            .message
            .clone()
    }

    #[test]
    fn a_refusal_names_nested_fields_by_their_wire_path() {
        let outer = Outer {
            ext_id: "abc".into(),
            name: Some(Inner {
                first_name: Some("abcd".into()),
            }),
            properties: BTreeMap::new(),
        };
        assert_eq!(
            message(&outer),
            "The following fields are not valid: extId, name.firstName"
        );
    }

    #[test]
    fn a_map_value_over_the_limit_is_named_by_its_key() {
        let mut properties = BTreeMap::new();
        properties.insert("tier".to_owned(), Some("x".repeat(MAP_VALUE_MAX + 1)));
        properties.insert("ok".to_owned(), None);
        let outer = Outer {
            ext_id: "a".into(),
            name: None,
            properties,
        };
        assert_eq!(
            message(&outer),
            "The following fields are not valid: properties.tier"
        );
    }

    #[test]
    fn a_body_within_every_limit_passes() {
        let mut properties = BTreeMap::new();
        properties.insert("tier".to_owned(), Some("x".repeat(MAP_VALUE_MAX)));
        let outer = Outer {
            ext_id: "ab".into(),
            name: Some(Inner {
                first_name: Some("abc".into()),
            }),
            properties,
        };
        assert!(outer.validate().is_ok());
    }
}
