//! Wire shapes shared by all resources: bookkeeping fields, pages, and common responses.

use actix_web::http::header;
use actix_web::HttpResponse;
use chrono::NaiveDateTime;
use idm_domain::model::Meta;
use idm_domain::values::format_timestamp;
use idm_domain::DomainError;
use idm_ports::Page;
use serde::Serialize;

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
        let token = page.next.as_ref().map(idm_service::paging::format_token);
        PageDto {
            items: page.items.into_iter().map(f).collect(),
            pagination: Pagination {
                continuation_token: token,
                limit,
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
