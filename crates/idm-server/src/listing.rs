//! The wire form of list queries: query parameters → [`ListQuery`] (validated against the
//! list's field declarations) and a [`Listed`] page → `{"items","_pagination"}`.
//!
//! Parameters: `limit`, `continuationToken`, `offset` (wins over the token),
//! `returnTotalResultCount`, `sortBy=<field>[_ASC|_DESC]`, one `<field>=value` per filter
//! (text fields also `<field>_SW` = starts with, `<field>_IEQ` = equals ignoring case), and
//! `properties.<name>=value` for names the list's property check knows. Anything else → 422
//! `errors.invalidParameter` naming every offending parameter.

use std::collections::{BTreeSet, HashMap};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, SecondsFormat};
use idm_domain::model::{Application, Profile, Role, Terms, Unit, User};
use idm_domain::values::Language;
use idm_domain::DomainError;
use idm_ports::query::{
    Condition, Direction, FieldKind, FieldSpec, FieldValue, ListQuery, Listed, Match, Sort, Start,
    DEFAULT_SORT,
};
use idm_ports::Cursor;
use serde::Serialize;

use crate::dto::{PageDto, Pagination};
use crate::paging::{format_token, parse_token, DEFAULT_LIMIT, MAX_LIMIT};

/// Says whether a custom property name may be filtered on (`properties.<name>`).
pub type PropertyCheck<'a> = &'a dyn Fn(&str) -> bool;

/// No custom properties: every `properties.*` parameter is unknown.
pub fn no_properties(_: &str) -> bool {
    false
}

/// One list: its field declarations and how to read a sort key from an item.
pub struct ListKind<T> {
    /// The declared fields (see `idm_ports::query`).
    pub fields: &'static [FieldSpec],
    /// The value of a sortable field of an item, exactly as the adapter compares it.
    pub key: fn(&T, &str) -> Option<FieldValue>,
    /// The item's extId (the tie-breaker).
    pub ext_id: fn(&T) -> &str,
    /// Whether the listed entity carries custom properties: `properties.<name>` filters are
    /// then accepted here and checked against the definitions by the service.
    pub properties: bool,
}

fn bad(field: &str) -> DomainError {
    DomainError::invalid_fields(&[field])
}

/// Parses the query parameters of a list.
///
/// # Errors
/// 422 `errors.invalidParameter` naming unknown parameters (all of them) or the parameter
/// whose value is malformed.
pub fn parse<T>(
    params: &HashMap<String, String>,
    kind: &ListKind<T>,
    property_known: PropertyCheck<'_>,
) -> Result<ListQuery, DomainError> {
    let spec = |name: &str| kind.fields.iter().find(|f| f.name == name);
    let mut unknown = BTreeSet::new();
    let mut query = ListQuery::first(DEFAULT_LIMIT);
    let mut names: Vec<&String> = params.keys().collect();
    // Stable order so the first malformed parameter named is the same on every request.
    names.sort();
    for name in names {
        let value = params.get(name).map(String::as_str).unwrap_or_default();
        match name.as_str() {
            "limit" | "continuationToken" | "offset" | "returnTotalResultCount" => {}
            "sortBy" => {
                let (field, direction) = parse_sort(value);
                match spec(field).filter(|f| f.sort) {
                    Some(f) => {
                        query.sort = Sort {
                            field: f.name,
                            direction,
                        }
                    }
                    None => {
                        unknown.insert(value.to_owned());
                    }
                }
            }
            _ => {
                if let Some(prop) = name.strip_prefix("properties.") {
                    if !prop.is_empty() && property_known(prop) {
                        query.properties.push((prop.to_owned(), value.to_owned()));
                    } else {
                        unknown.insert(name.clone());
                    }
                    continue;
                }
                let (field, op) = if let Some(f) = name.strip_suffix("_SW") {
                    (f, Match::StartsWith)
                } else if let Some(f) = name.strip_suffix("_IEQ") {
                    (f, Match::IgnoreCase)
                } else {
                    (name.as_str(), Match::Exact)
                };
                match spec(field).filter(|f| f.filter) {
                    Some(f) if op == Match::Exact || f.kind == FieldKind::Text => {
                        let value = filter_value(f.kind, value).ok_or_else(|| bad(name))?;
                        query.conditions.push(Condition {
                            field: f.name,
                            op,
                            value,
                        });
                    }
                    _ => {
                        unknown.insert(name.clone());
                    }
                }
            }
        }
    }
    if !unknown.is_empty() {
        let names: Vec<&str> = unknown.iter().map(String::as_str).collect();
        return Err(DomainError::invalid_fields(&names));
    }
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    query.limit = match get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(0) => DEFAULT_LIMIT,
            Ok(n) if n <= MAX_LIMIT => n,
            _ => return Err(bad("limit")),
        },
    };
    query.total = match get("returnTotalResultCount") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(bad("returnTotalResultCount")),
    };
    query.start = match (get("offset"), get("continuationToken")) {
        // Documented: with both, the token is ignored (not even checked).
        (Some(o), _) => Start::Offset(o.parse::<u64>().map_err(|_| bad("offset"))?),
        (None, Some(t)) => parse_start(t, query.sort).ok_or_else(|| bad("continuationToken"))?,
        (None, None) => Start::First,
    };
    Ok(query)
}

/// `field`, `field_ASC`, `field_DESC` (suffix case-insensitive).
fn parse_sort(value: &str) -> (&str, Direction) {
    let upper = value.to_ascii_uppercase();
    if upper.ends_with("_DESC") {
        (&value[..value.len() - 5], Direction::Desc)
    } else if upper.ends_with("_ASC") {
        (&value[..value.len() - 4], Direction::Asc)
    } else {
        (value, Direction::Asc)
    }
}

fn parse_time(value: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.naive_utc())
}

fn filter_value(kind: FieldKind, value: &str) -> Option<FieldValue> {
    Some(match kind {
        FieldKind::Text => FieldValue::Text(value.to_owned()),
        FieldKind::Int => FieldValue::Int(value.parse().ok()?),
        FieldKind::Bool => match value {
            v if v.eq_ignore_ascii_case("true") => FieldValue::Bool(true),
            v if v.eq_ignore_ascii_case("false") => FieldValue::Bool(false),
            _ => return None,
        },
        FieldKind::Time => FieldValue::Time(parse_time(value)?),
        FieldKind::Language => FieldValue::Text(
            value
                .to_ascii_uppercase()
                .parse::<Language>()
                .ok()?
                .as_str()
                .to_owned(),
        ),
        FieldKind::State(states) => {
            let lower = value.to_ascii_lowercase();
            FieldValue::Text(states.iter().find(|s| **s == lower)?.to_string())
        }
    })
}

/// The token of a sorted page carries the sort field and direction (so a token is never
/// replayed under another order), the key of the last item and its extId.
#[derive(Serialize, serde::Deserialize)]
struct SortedToken {
    s: String,
    d: bool,
    k: TokenKey,
    e: String,
}

#[derive(Serialize, serde::Deserialize)]
enum TokenKey {
    T(String),
    I(i64),
    B(bool),
    D(String),
}

fn parse_start(token: &str, sort: Sort) -> Option<Start> {
    if sort == Sort::default() {
        // The default order keeps the documented `<createdMillis>_<extId>` form.
        let Cursor { created, ext_id } = parse_token(token)?;
        return Some(Start::After {
            key: FieldValue::Time(created),
            ext_id,
        });
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let t: SortedToken = serde_json::from_slice(&bytes).ok()?;
    if t.s != sort.field || t.d != (sort.direction == Direction::Desc) {
        return None;
    }
    let key = match t.k {
        TokenKey::T(s) => FieldValue::Text(s),
        TokenKey::I(i) => FieldValue::Int(i),
        TokenKey::B(b) => FieldValue::Bool(b),
        TokenKey::D(d) => FieldValue::Time(parse_time(&d)?),
    };
    Some(Start::After { key, ext_id: t.e })
}

fn token_of(sort: Sort, key: FieldValue, ext_id: &str) -> String {
    if sort == Sort::default() {
        if let FieldValue::Time(created) = key {
            return format_token(&Cursor {
                created,
                ext_id: ext_id.to_owned(),
            });
        }
    }
    let k = match key {
        FieldValue::Text(s) => TokenKey::T(s),
        FieldValue::Int(i) => TokenKey::I(i),
        FieldValue::Bool(b) => TokenKey::B(b),
        FieldValue::Time(t) => {
            TokenKey::D(t.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true))
        }
    };
    let json = serde_json::to_vec(&SortedToken {
        s: sort.field.to_owned(),
        d: sort.direction == Direction::Desc,
        k,
        e: ext_id.to_owned(),
    })
    .unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Converts a page to its wire form; the continuation token points after the last item.
pub fn page_dto<T, D>(
    listed: Listed<T>,
    query: &ListQuery,
    kind: &ListKind<T>,
    f: impl FnMut(T) -> D,
) -> PageDto<D> {
    page_dto_of(listed, query, kind, |t| t, f)
}

/// [`page_dto`] for items that carry the listed entity (`entity` of it gives the sort key),
/// e.g. users with their property values.
pub fn page_dto_of<T, E, D>(
    listed: Listed<T>,
    query: &ListQuery,
    kind: &ListKind<E>,
    entity: impl Fn(&T) -> &E,
    f: impl FnMut(T) -> D,
) -> PageDto<D> {
    let token = if listed.more {
        listed.items.last().map(&entity).and_then(|last| {
            (kind.key)(last, query.sort.field).map(|k| token_of(query.sort, k, (kind.ext_id)(last)))
        })
    } else {
        None
    };
    PageDto {
        items: listed.items.into_iter().map(f).collect(),
        pagination: Pagination {
            continuation_token: token,
            limit: query.limit,
            total_result: listed.total,
        },
    }
}

fn text(v: &Option<String>) -> FieldValue {
    FieldValue::Text(v.clone().unwrap_or_default())
}

fn time(v: Option<DateTime<chrono::Utc>>) -> FieldValue {
    FieldValue::Time(v.map_or(FieldValue::NO_TIME, |t| t.naive_utc()))
}

fn meta_key(meta: &idm_domain::model::Meta, field: &str) -> Option<FieldValue> {
    Some(match field {
        "extId" => FieldValue::Text(meta.ext_id.clone()),
        "version" => FieldValue::Int(meta.version),
        DEFAULT_SORT => FieldValue::Time(meta.created),
        "lastModified" => FieldValue::Time(meta.last_modified),
        _ => return None,
    })
}

/// The users list.
pub const USERS: ListKind<User> = ListKind {
    fields: idm_ports::query::USER_FIELDS,
    key: |u, field| {
        Some(match field {
            "loginId" => FieldValue::Text(u.login_id.clone()),
            "isTechnicalUser" => FieldValue::Bool(u.is_technical_user),
            "name.title" => text(&u.name.title),
            "name.firstName" => text(&u.name.first_name),
            "name.familyName" => text(&u.name.family_name),
            "birthDate" => text(&u.birth_date),
            // As the adapter compares it: the member's text, absent = "".
            f if f.starts_with("address.") => FieldValue::Text(
                u.address
                    .get(&f["address.".len()..])
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            ),
            "contacts.telephone" => text(&u.contacts.telephone),
            "contacts.telefax" => text(&u.contacts.telefax),
            "contacts.email" => text(&u.contacts.email),
            "contacts.mobile" => text(&u.contacts.mobile),
            "validity.from" => time(u.validity.from),
            "validity.to" => time(u.validity.to),
            "remarks" => text(&u.remarks),
            _ => return meta_key(&u.meta, field),
        })
    },
    ext_id: |u| &u.meta.ext_id,
    properties: true,
};

/// The sub-units list.
pub const UNITS: ListKind<Unit> = ListKind {
    fields: idm_ports::query::UNIT_FIELDS,
    key: |u, field| {
        Some(match field {
            "name" => FieldValue::Text(u.name.clone()),
            "location" => text(&u.location),
            _ => return meta_key(&u.meta, field),
        })
    },
    ext_id: |u| &u.meta.ext_id,
    properties: true,
};

/// The profiles of a user.
pub const PROFILES: ListKind<Profile> = ListKind {
    fields: idm_ports::query::PROFILE_FIELDS,
    key: |p, field| {
        Some(match field {
            "name" => text(&p.name),
            "isDefaultProfile" => FieldValue::Bool(p.is_default_profile),
            _ => return meta_key(&p.meta, field),
        })
    },
    ext_id: |p| &p.meta.ext_id,
    properties: true,
};

/// The applications list.
pub const APPLICATIONS: ListKind<Application> = ListKind {
    fields: idm_ports::query::APPLICATION_FIELDS,
    key: |a, field| match field {
        "name" => Some(FieldValue::Text(a.name.clone())),
        _ => meta_key(&a.meta, field),
    },
    ext_id: |a| &a.meta.ext_id,
    properties: false,
};

/// The roles of an application.
pub const ROLES: ListKind<Role> = ListKind {
    fields: idm_ports::query::ROLE_FIELDS,
    key: |r, field| match field {
        "name" => Some(FieldValue::Text(r.name.clone())),
        _ => meta_key(&r.meta, field),
    },
    ext_id: |r| &r.meta.ext_id,
    properties: false,
};

/// The terms list.
pub const TERMS: ListKind<Terms> = ListKind {
    fields: idm_ports::query::TERMS_FIELDS,
    key: |t, field| match field {
        "name" => Some(FieldValue::Text(t.name.clone())),
        _ => meta_key(&t.meta, field),
    },
    ext_id: |t| &t.meta.ext_id,
    properties: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn message(e: DomainError) -> String {
        e.envelope().errors[0].message.clone()
    }

    #[test]
    fn unknown_parameters_are_all_named_in_order() {
        let e = parse(
            &params(&[("zeta", "1"), ("alpha", "2")]),
            &USERS,
            &no_properties,
        );
        assert_eq!(
            message(e.unwrap_err()),
            "The following fields are not valid: alpha, zeta"
        );
    }

    #[test]
    fn an_unknown_sort_field_is_named() {
        let e = parse(
            &params(&[("sortBy", "shoeSize_DESC")]),
            &USERS,
            &no_properties,
        );
        assert_eq!(
            message(e.unwrap_err()),
            "The following fields are not valid: shoeSize_DESC"
        );
    }

    #[test]
    fn modifiers_apply_only_to_text_fields() {
        assert!(parse(&params(&[("version_SW", "1")]), &USERS, &no_properties).is_err());
        let q = parse(
            &params(&[("contacts.email_SW", "ab")]),
            &USERS,
            &no_properties,
        )
        .unwrap();
        assert_eq!(q.conditions[0].op, Match::StartsWith);
    }

    #[test]
    fn language_codes_are_case_insensitive() {
        let q = parse(&params(&[("languageCode", "en")]), &USERS, &no_properties).unwrap();
        assert_eq!(q.conditions[0].value, FieldValue::Text("EN".into()));
    }

    #[test]
    fn offset_wins_over_even_a_malformed_token() {
        let q = parse(
            &params(&[("offset", "5"), ("continuationToken", "garbage")]),
            &USERS,
            &no_properties,
        )
        .unwrap();
        assert_eq!(q.start, Start::Offset(5));
        let e = parse(&params(&[("offset", "x")]), &USERS, &no_properties);
        assert_eq!(
            message(e.unwrap_err()),
            "The following fields are not valid: offset"
        );
    }

    #[test]
    fn property_filters_need_a_known_property() {
        assert!(parse(
            &params(&[("properties.tier", "gold")]),
            &USERS,
            &no_properties
        )
        .is_err());
        let q = parse(&params(&[("properties.tier", "gold")]), &USERS, &|n| {
            n == "tier"
        })
        .unwrap();
        assert_eq!(q.properties, vec![("tier".to_owned(), "gold".to_owned())]);
    }

    #[test]
    fn sorted_tokens_round_trip_and_refuse_another_order() {
        let sort = Sort {
            field: "name.familyName",
            direction: Direction::Desc,
        };
        let t = token_of(sort, FieldValue::Text("Muster".into()), "u_1");
        assert_eq!(
            parse_start(&t, sort),
            Some(Start::After {
                key: FieldValue::Text("Muster".into()),
                ext_id: "u_1".into()
            })
        );
        let other = Sort {
            field: "name.familyName",
            direction: Direction::Asc,
        };
        assert_eq!(parse_start(&t, other), None);
    }

    #[test]
    fn the_default_order_keeps_the_created_millis_token() {
        let t = token_of(
            Sort::default(),
            FieldValue::Time(
                DateTime::from_timestamp_millis(1_759_758_863_123)
                    .unwrap()
                    .naive_utc(),
            ),
            "a_b",
        );
        assert_eq!(t, "1759758863123_a_b");
    }
}
