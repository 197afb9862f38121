//! The audit trail of a client (idm extension): `GET core/:c/audit`.

use actix_web::{web, HttpResponse};
use idm_domain::audit::AuditEntry;
use idm_domain::values::parse_lenient_datetime;
use idm_domain::DomainError;
use idm_ports::audit::{AuditFilter, AuditRecord};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::paths::ClientPath;
use crate::doc::{Api, AuthErrors, ErrorEnvelope};
use crate::dto::Pagination;
use crate::error::ApiError;
use crate::extract::{AuthCaller, Params};
use crate::state::AppState;

/// Registers (and documents) the audit route.
pub fn routes(api: &mut Api) {
    api.add(__path_list, list);
}

/// The caller that made a write.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditCallerDto {
    client_ext_id: String,
    user_ext_id: String,
}

/// One audit record.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditRecord)]
pub struct AuditRecordDto {
    /// When the write committed (RFC 3339, UTC, milliseconds).
    time: String,
    /// The client whose chain holds the record.
    client_ext_id: String,
    /// Who wrote.
    caller: AuditCallerDto,
    /// The request's `X-Request-Id`.
    request_id: String,
    /// Method and route, e.g. `PATCH /nevisidm/api/core/v1/{clientExtId}/users/{userExtId}`.
    operation: String,
    /// The resource segment of the route (`users`, `profiles`, ...).
    object_type: String,
    /// extId of the object (absent when a create let the server choose it).
    object_ext_id: Option<String>,
    /// Version before a versioned update.
    version_before: Option<i64>,
    /// Version after a versioned update.
    version_after: Option<i64>,
    /// Names of the fields the request set; never their values.
    fields: Vec<String>,
    /// SHA-256 of this record (hex), over every field above and `prevHash`.
    hash: String,
    /// The hash of the record before it in the chain (64 zeros for the first).
    prev_hash: String,
    /// Position in the client's chain, from 1.
    seq: i64,
}

impl From<AuditRecord> for AuditRecordDto {
    fn from(r: AuditRecord) -> Self {
        let AuditEntry {
            chain,
            seq,
            at_millis,
            caller_client,
            caller_user,
            request_id,
            operation,
            object_type,
            object_ext_id,
            version_before,
            version_after,
            fields,
            prev_hash,
        } = r.entry;
        let time = chrono::DateTime::from_timestamp_millis(at_millis)
            .map(|t| crate::dto::ts(t.naive_utc()))
            .unwrap_or_default();
        AuditRecordDto {
            time,
            client_ext_id: chain,
            caller: AuditCallerDto {
                client_ext_id: caller_client,
                user_ext_id: caller_user,
            },
            request_id,
            operation,
            object_type,
            object_ext_id,
            version_before,
            version_after,
            fields,
            hash: r.hash,
            prev_hash,
            seq,
        }
    }
}

/// A page of audit records.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageDto {
    /// The records, oldest first.
    items: Vec<AuditRecordDto>,
    /// Paging state (`continuationToken` = the last record's `seq`).
    #[serde(rename = "_pagination")]
    pagination: Pagination,
}

/// Query of `GET core/:c/audit`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AuditQuery {
    /// Only records of this object type (e.g. `users`).
    #[param(rename = "objectType", max_length = 255)]
    object_type: Option<String>,
    /// Only records of this object extId.
    #[param(rename = "objectExtId", max_length = 255)]
    object_ext_id: Option<String>,
    /// Only records written by this caller user (extId).
    #[param(rename = "userExtId", max_length = 255)]
    user_ext_id: Option<String>,
    /// Only records at or after this time (RFC 3339 or `YYYY-MM-DD`).
    from: Option<String>,
    /// Only records before this time (RFC 3339 or `YYYY-MM-DD`).
    to: Option<String>,
    /// Page size (1..=1000; absent or 0: 100).
    #[param(minimum = 0, maximum = 1000)]
    limit: Option<i64>,
    /// `_pagination.continuationToken` of the previous page.
    #[param(rename = "continuationToken")]
    continuation_token: Option<String>,
}

const KNOWN: [&str; 7] = [
    "objectType",
    "objectExtId",
    "userExtId",
    "from",
    "to",
    "limit",
    "continuationToken",
];

fn query(params: &Params) -> Result<(AuditFilter, i64, usize), ApiError> {
    let mut bad: Vec<&str> = params
        .0
        .keys()
        .map(String::as_str)
        .filter(|k| !KNOWN.contains(k))
        .collect();
    let text = |name: &'static str, bad: &mut Vec<&str>| {
        params.get(name).and_then(|v| {
            if v.chars().count() > 255 {
                bad.push(name);
            }
            (!v.is_empty()).then(|| v.to_owned())
        })
    };
    let time = |name: &'static str, bad: &mut Vec<&str>| {
        params.get(name).filter(|v| !v.is_empty()).and_then(|v| {
            let parsed = parse_lenient_datetime(v).map(|t| t.naive_utc());
            if parsed.is_none() {
                bad.push(name);
            }
            parsed
        })
    };
    let filter = AuditFilter {
        object_type: text("objectType", &mut bad),
        object_ext_id: text("objectExtId", &mut bad),
        user_ext_id: text("userExtId", &mut bad),
        from: time("from", &mut bad),
        to: time("to", &mut bad),
    };
    let limit = match params.get("limit").filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => match l.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                bad.push("limit");
                None
            }
        },
    };
    let after = match params.get("continuationToken").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t.parse::<i64>().ok().filter(|n| *n > 0).unwrap_or_else(|| {
            bad.push("continuationToken");
            0
        }),
    };
    if !bad.is_empty() {
        bad.sort_unstable();
        bad.dedup();
        return Err(DomainError::invalid_fields(&bad).into());
    }
    let page = crate::paging::page_request(limit, None)?;
    Ok((filter, after, page.limit))
}

/// Lists the client's audit records, oldest first, keyset-paged by sequence number. Every
/// successful write of the core API appends one record, in the write's own transaction, to the
/// chain of the client it addresses (a write of a global object: the caller's client). Each
/// record carries the hash of the one before it; `idm audit verify` checks the chains.
///
/// Requires `AccessControl.AuditView` (idm extension).
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/audit", tag = "audit",
    security(("bearer" = [])),
    params(ClientPath, AuditQuery),
    responses(
        (status = 200, description = "A page of audit records.", body = AuditPageDto),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: an unknown parameter, a bad \
            time, `limit` or `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (filter, after, limit) = query(&params)?;
    let page = state
        .services
        .list_audit(&caller, &path.client_ext_id, &filter, after, limit)
        .await?;
    Ok(HttpResponse::Ok().json(AuditPageDto {
        items: page.items.into_iter().map(AuditRecordDto::from).collect(),
        pagination: Pagination {
            continuation_token: page.next.map(|seq| seq.to_string()),
            limit,
            total_result: None,
        },
    }))
}
