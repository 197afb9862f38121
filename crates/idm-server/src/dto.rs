//! Wire shapes shared by several resources: bookkeeping fields, pages, validity, units (also
//! returned under profiles), and common responses.

use actix_web::http::header;
use actix_web::HttpResponse;
use chrono::NaiveDateTime;
use idm_domain::model::{Meta, Unit};
use idm_domain::values::{format_timestamp, LanguageMap, UnitState, Validity};
use idm_domain::DomainError;
use idm_ports::Page;
use serde::Serialize;
use utoipa::ToSchema;

use crate::doc::LanguageMapDoc;

/// Base path of the core API.
pub const CORE: &str = "/nevisidm/api/core/v1";
/// Base path of the principal API.
pub const PRINCIPAL: &str = "/nevisidm/api/principal/v1";

/// `created`, `lastModified`, `version` — flattened into every entity DTO.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetaDto {
    /// Creation time.
    pub created: String,
    /// Last change.
    pub last_modified: String,
    /// Optimistic-locking version.
    pub version: i64,
}

impl From<&Meta> for MetaDto {
    fn from(m: &Meta) -> Self {
        MetaDto {
            created: format_timestamp(m.created),
            last_modified: format_timestamp(m.last_modified),
            version: m.version,
        }
    }
}

/// RFC 3339 UTC with `Z`.
pub fn ts(t: NaiveDateTime) -> String {
    format_timestamp(t)
}

/// `_pagination` of a list response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    /// The page size in force.
    pub limit: usize,
    /// All matching items, with `returnTotalResultCount=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_result: Option<u64>,
}

/// A list response: `{"items": [...], "_pagination": {...}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageDto<T> {
    /// The items.
    pub items: Vec<T>,
    /// Paging state.
    #[serde(rename = "_pagination")]
    pub pagination: Pagination,
}

impl<T> PageDto<T> {
    /// Converts a page of entities.
    pub fn of<E>(page: Page<E>, limit: usize, f: impl FnMut(E) -> T) -> Self {
        let token = page.next.as_ref().map(crate::paging::format_token);
        PageDto {
            items: page.items.into_iter().map(f).collect(),
            pagination: Pagination {
                continuation_token: token,
                limit,
                total_result: None,
            },
        }
    }
}

/// 201 with `Location` and no body.
pub fn created(location: String) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// 200 with the entity and `ETag: "<version>"`.
pub fn ok_tagged<T: Serialize>(version: i64, body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{version}\"")))
        .json(body)
}

/// Collects the names of required fields that are absent or blank, in order.
pub fn require(fields: &[(&str, bool)]) -> Result<(), DomainError> {
    let missing: Vec<&str> = fields
        .iter()
        .filter(|(_, present)| !present)
        .map(|(n, _)| *n)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DomainError::invalid_fields(&missing))
    }
}

/// True when an optional string is present and not blank.
pub fn given(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// State of a unit on the wire (documentation of `UnitState`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = UnitState)]
#[allow(dead_code)]
pub enum UnitStateDoc {
    /// In use.
    Active,
    /// Kept but not in use.
    Disabled,
}

/// `validity` as sent to clients: absent ends are omitted. In bodies each end is an RFC 3339
/// timestamp or a `YYYY-MM-DD` date (midnight UTC); `from` after `to` is 422
/// `errors.invalidDateInterval`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Validity)]
pub struct ValidityDto {
    /// Start date of the entity's validity in ISO format.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, example = "2023-01-01T00:00:00Z")]
    from: Option<String>,
    /// End date of the entity's validity in ISO format.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, example = "2033-12-31T23:59:59Z")]
    to: Option<String>,
}

impl From<Validity> for ValidityDto {
    fn from(v: Validity) -> Self {
        let f =
            |t: chrono::DateTime<chrono::Utc>| idm_domain::values::format_timestamp(t.naive_utc());
        ValidityDto {
            from: v.from.map(f),
            to: v.to.map(f),
        }
    }
}

/// Unit as sent to clients (seed 004 shape).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Unit)]
pub struct UnitDto {
    #[serde(flatten)]
    meta: MetaDto,
    /// The external ID of the unit.
    #[schema(example = "unit-123")]
    ext_id: String,
    /// The external ID of the parent unit (absent for a root unit).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "parent-unit-123")]
    parent_unit_ext_id: Option<String>,
    /// The external ID of the client the unit belongs to.
    #[schema(example = "client-123")]
    client_ext_id: String,
    /// The path from the root unit to the actual unit. The external IDs of the units are
    /// concatenated with the '/' character.
    #[schema(example = "root/parent-unit-123/unit-123")]
    hierarchical_name: String,
    /// The name of the unit.
    #[schema(example = "Engineering")]
    name: String,
    /// Free textual description of the physical location of the unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Building A, Floor 3")]
    location: Option<String>,
    /// The textual description of the unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Engineering department")]
    description: Option<String>,
    /// The state of the unit.
    #[schema(value_type = UnitStateDoc)]
    state: UnitState,
    /// Language-dependent name of the unit. Keys: EN, DE, FR, IT.
    #[schema(value_type = LanguageMapDoc)]
    display_name: LanguageMap,
    /// Short form of the unit name. Keys: EN, DE, FR, IT.
    #[schema(value_type = LanguageMapDoc)]
    abbreviation: LanguageMap,
    /// Determines whether profile assignment is allowed (`true`: no profiles).
    profileless: bool,
    /// Textual comment regarding the last modification.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Updated by admin")]
    modification_comment: Option<String>,
    /// The validity period of the unit entity.
    validity: ValidityDto,
    /// Custom property values, name → value; left out when the caller may not read them.
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<std::collections::BTreeMap<String, String>>,
}

impl UnitDto {
    /// The unit with the property values its reader may see.
    pub fn with(w: idm_service::properties::WithProperties<Unit>) -> Self {
        UnitDto {
            properties: w.properties,
            ..UnitDto::from(w.entity)
        }
    }
}

impl From<Unit> for UnitDto {
    fn from(u: Unit) -> Self {
        UnitDto {
            meta: MetaDto::from(&u.meta),
            ext_id: u.meta.ext_id,
            parent_unit_ext_id: u.parent_ext_id,
            client_ext_id: u.client_ext_id,
            hierarchical_name: u.hierarchical_name,
            name: u.name,
            location: u.location,
            description: u.description,
            state: u.state,
            display_name: u.display_name,
            abbreviation: u.abbreviation,
            profileless: u.profileless,
            modification_comment: u.modification_comment,
            validity: u.validity.into(),
            properties: None,
        }
    }
}

/// The states of a dispatch target or FIDO UAF credential, as on the wire (documentation
/// only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
#[schema(as = DeviceState)]
pub enum DeviceStateDoc {
    /// In use.
    Active,
    /// Kept but not in use.
    Disabled,
}
