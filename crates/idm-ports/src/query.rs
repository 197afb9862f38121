//! The typed description of a list query (filters, sort, start, totals) that the server parses
//! from query parameters and an adapter turns into SQL.
//!
//! Each filterable list declares its wire fields once, here, as a `&[FieldSpec]`: the server
//! validates parameters against it and the adapter maps every name to a column (a test there
//! checks that the mapping covers the declaration). Adding a list (e.g. credentials) is one
//! more such declaration plus its column map.

use chrono::NaiveDateTime;

/// What kind of value a field holds; decides how a filter value is parsed and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text; accepts the `_SW` (starts with) and `_IEQ` (ignore case) modifiers.
    Text,
    /// A whole number.
    Int,
    /// `true` / `false`.
    Bool,
    /// An RFC 3339 timestamp.
    Time,
    /// A language code, matched case-insensitively and stored upper-case (`en` = `EN`).
    Language,
    /// One of a fixed set of lower-case state names.
    State(&'static [&'static str]),
}

/// One wire field of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The wire name, e.g. `name.familyName`.
    pub name: &'static str,
    /// Its value kind.
    pub kind: FieldKind,
    /// Usable as a filter parameter.
    pub filter: bool,
    /// Usable in `sortBy`.
    pub sort: bool,
}

impl FieldSpec {
    const fn new(name: &'static str, kind: FieldKind, filter: bool, sort: bool) -> Self {
        FieldSpec {
            name,
            kind,
            filter,
            sort,
        }
    }
}

use FieldKind::{Bool, Int, Language, State, Text, Time};

/// The field every list sorts by when no `sortBy` is given (ties broken by extId).
pub const DEFAULT_SORT: &str = "created";

const USER_STATES: &[&str] = &["active", "disabled", "archived"];
const UNIT_STATES: &[&str] = &["active", "disabled"];
const PROFILE_STATES: &[&str] = &["active", "disabled", "archived"];

/// The users list (`GET core/clients/:c/users`): the filters and sort fields of the reference's
/// get-users page, plus `unitExtId` (users with a profile in that unit).
pub const USER_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("extId", Text, true, true),
    FieldSpec::new("userState", State(USER_STATES), true, false),
    FieldSpec::new("loginId", Text, true, true),
    FieldSpec::new("languageCode", Language, true, false),
    FieldSpec::new("isTechnicalUser", Bool, true, true),
    FieldSpec::new("name.title", Text, true, true),
    FieldSpec::new("name.firstName", Text, true, true),
    FieldSpec::new("name.familyName", Text, true, true),
    FieldSpec::new("sex", Text, true, false),
    FieldSpec::new("gender", Text, true, false),
    FieldSpec::new("birthDate", Text, true, true),
    FieldSpec::new("address.countryCode", Text, true, true),
    FieldSpec::new("address.city", Text, true, true),
    FieldSpec::new("address.postalCode", Text, true, true),
    FieldSpec::new("address.addressline1", Text, true, true),
    FieldSpec::new("address.addressline2", Text, true, true),
    FieldSpec::new("address.street", Text, true, true),
    FieldSpec::new("address.houseNumber", Text, true, true),
    FieldSpec::new("address.dwellingNumber", Text, true, true),
    FieldSpec::new("address.postOfficeBoxText", Text, true, true),
    FieldSpec::new("address.postOfficeBoxNumber", Text, true, true),
    FieldSpec::new("address.locality", Text, true, true),
    FieldSpec::new("contacts.telephone", Text, true, true),
    FieldSpec::new("contacts.telefax", Text, true, true),
    FieldSpec::new("contacts.email", Text, true, true),
    FieldSpec::new("contacts.mobile", Text, true, true),
    FieldSpec::new("validity.from", Time, true, true),
    FieldSpec::new("validity.to", Time, true, true),
    FieldSpec::new("remarks", Text, true, true),
    FieldSpec::new("modificationComment", Text, true, false),
    FieldSpec::new("version", Int, true, true),
    FieldSpec::new("created", Time, true, true),
    FieldSpec::new("lastModified", Time, true, true),
    FieldSpec::new("unitExtId", Text, true, false),
];

/// The sub-units list (`GET core/:c/units/:u/children`).
pub const UNIT_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("extId", Text, true, true),
    FieldSpec::new("name", Text, true, true),
    FieldSpec::new("state", State(UNIT_STATES), true, false),
    FieldSpec::new("location", Text, true, true),
    FieldSpec::new("version", Int, true, true),
    FieldSpec::new("created", Time, true, true),
    FieldSpec::new("lastModified", Time, true, true),
];

/// The profiles of a user (`GET core/:c/users/:u/profiles`).
pub const PROFILE_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("extId", Text, true, true),
    FieldSpec::new("name", Text, true, true),
    FieldSpec::new("profileState", State(PROFILE_STATES), true, false),
    FieldSpec::new("unitExtId", Text, true, false),
    FieldSpec::new("isDefaultProfile", Bool, true, true),
    FieldSpec::new("version", Int, true, true),
    FieldSpec::new("created", Time, true, true),
    FieldSpec::new("lastModified", Time, true, true),
];

/// The applications list (`GET core/applications`).
pub const APPLICATION_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("extId", Text, true, true),
    FieldSpec::new("name", Text, true, true),
    FieldSpec::new("version", Int, true, true),
    FieldSpec::new("created", Time, true, true),
    FieldSpec::new("lastModified", Time, true, true),
];

/// The roles of an application (`GET core/applications/:a/roles`).
pub const ROLE_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("extId", Text, true, true),
    FieldSpec::new("name", Text, true, true),
    FieldSpec::new("version", Int, true, true),
    FieldSpec::new("created", Time, true, true),
    FieldSpec::new("lastModified", Time, true, true),
];

/// The terms list (`GET core/terms`).
pub const TERMS_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("extId", Text, true, true),
    FieldSpec::new("name", Text, true, true),
    FieldSpec::new("version", Int, true, true),
    FieldSpec::new("created", Time, true, true),
    FieldSpec::new("lastModified", Time, true, true),
];

/// A typed value of a field (a filter operand or a cursor key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// Text (absent text compares as the empty string).
    Text(String),
    /// A whole number.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A timestamp (UTC). Absent timestamps compare as [`FieldValue::NO_TIME`].
    Time(NaiveDateTime),
}

impl FieldValue {
    /// What an absent timestamp sorts as: before every real one.
    pub const NO_TIME: NaiveDateTime = NaiveDateTime::MIN;
}

/// How a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Equal.
    Exact,
    /// Starts with, ignoring case (`_SW`).
    StartsWith,
    /// Equal, ignoring case (`_IEQ`).
    IgnoreCase,
}

/// One filter: `field <match> value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The wire name, one of the list's [`FieldSpec`]s.
    pub field: &'static str,
    /// The comparison.
    pub op: Match,
    /// The operand, already parsed to the field's kind.
    pub value: FieldValue,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// The order of a list: one field, then extId in the same direction as tie-breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// The wire name of the sort field.
    pub field: &'static str,
    /// The direction.
    pub direction: Direction,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            field: DEFAULT_SORT,
            direction: Direction::Asc,
        }
    }
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Start {
    /// The first item.
    #[default]
    First,
    /// Strictly after the item with this sort key and extId (keyset paging).
    After {
        /// The sort field's value of the last item served.
        key: FieldValue,
        /// The extId of the last item served.
        ext_id: String,
    },
    /// Skip this many items (`offset`).
    Offset(u64),
}

/// A whole list request, as handed to a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// All must hold.
    pub conditions: Vec<Condition>,
    /// Custom property filters `properties.<name>=value` (name, value) as the client sent
    /// them; the service resolves them into [`ListQuery::property_keys`].
    pub properties: Vec<(String, String)>,
    /// Resolved property filters (definition id, value key): each must match a stored value
    /// of the listed entity (served by the `(property_id, value_key)` index).
    pub property_keys: Vec<(i64, String)>,
    /// The order.
    pub sort: Sort,
    /// Maximum number of items (1..=1000).
    pub limit: usize,
    /// Where to start.
    pub start: Start,
    /// Also count every matching item.
    pub total: bool,
}

impl ListQuery {
    /// The first page of everything in default order.
    pub fn first(limit: usize) -> Self {
        ListQuery {
            conditions: Vec::new(),
            properties: Vec::new(),
            property_keys: Vec::new(),
            sort: Sort::default(),
            limit,
            start: Start::First,
            total: false,
        }
    }
}

/// One page of a filtered list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T> {
    /// The items, in the query's order.
    pub items: Vec<T>,
    /// Whether more items follow the last one.
    pub more: bool,
    /// The number of all matching items, when asked for.
    pub total: Option<u64>,
}

impl<T> Listed<T> {
    /// Builds a page from up to `limit + 1` fetched rows (the extra row only proves more).
    pub fn from_overfetch(mut rows: Vec<T>, limit: usize, total: Option<u64>) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        Listed {
            items: rows,
            more,
            total,
        }
    }
}
