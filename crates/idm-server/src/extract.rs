//! Request extractors: the authenticated caller, JSON bodies with nevisIDM error semantics,
//! the X-Token header, `If-Match`, and page parameters.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures::StreamExt;
use idm_domain::access::Caller;
use idm_domain::{DomainError, ErrorCode};
use idm_ports::PageRequest;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::ApiError;
use crate::state::AppState;

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::App(idm_service::AppError::Internal("app state missing".into())))
}

/// The authenticated, resolved caller of a core or principal route.
#[derive(Debug)]
pub struct AuthCaller(pub Caller);

impl FromRequest for AuthCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| rest.trim().to_owned())
            });
        let state = state(req);
        let req = req.clone();
        Box::pin(async move {
            let state = state?;
            let token = token.ok_or_else(|| {
                ApiError::from(DomainError::Unauthenticated("no bearer token".into()))
            })?;
            let caller = state.services.resolve_caller(&token).await?;
            crate::audit::note_caller(&req, &caller);
            Ok(AuthCaller(caller))
        })
    }
}

/// The raw `X-Token` header, checked by the use case when it runs in self-admin mode.
#[derive(Debug)]
pub struct XToken(pub Option<String>);

impl FromRequest for XToken {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(XToken(
            req.headers()
                .get("X-Token")
                .and_then(|v| v.to_str().ok())
                .map(|s| s.trim().to_owned()),
        )))
    }
}

/// The version in an `If-Match: "<version>"` header, if any.
#[derive(Debug)]
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let value = req.headers().get(header::IF_MATCH).map(|v| {
            v.to_str()
                .ok()
                .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| ApiError::from(DomainError::invalid_fields(&["If-Match"])))
        });
        std::future::ready(match value {
            None => Ok(IfMatch(None)),
            Some(Ok(v)) => Ok(IfMatch(Some(v))),
            Some(Err(e)) => Err(e),
        })
    }
}

/// A JSON body: 415 for another content type, 413 over the limit, 400 for broken JSON, 422
/// naming the field for JSON of the wrong shape or a field that breaks its rule (length,
/// e-mail; the type's `validator::Validate` derive, see [`crate::validate`]).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let mime = ct
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        let limit = state(req).map(|s| s.body_limit).unwrap_or(1024 * 1024);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        let req = req.clone();
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            let mut bytes = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(crate::limits::payload_error)?;
                if bytes.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(limit));
                }
                bytes.extend_from_slice(&chunk);
            }
            let value: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
            if !value.is_object() {
                return Err(DomainError::unprocessable(
                    ErrorCode::InvalidParameter,
                    "The request body must be a JSON object.",
                )
                .into());
            }
            crate::audit::note_body(&req, &value);
            if let Some(field) = field_with_nul(&value, "") {
                // No identifier or text in idm may hold NUL (PostgreSQL cannot store it), so
                // it is refused here once for every body instead of failing in the database.
                return Err(DomainError::invalid_fields(&[field]).into());
            }
            let body = serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." || path.is_empty() {
                    missing_field(&e.inner().to_string()).unwrap_or_else(|| "body".into())
                } else {
                    path
                };
                ApiError::from(DomainError::invalid_fields(&[field]))
            })?;
            body.validate()
                .map_err(|e| ApiError::from(crate::validate::refusal(&e)))?;
            Ok(Body(body))
        })
    }
}

/// The path of the first string (key or value) containing a NUL character, if any.
fn field_with_nul(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => {
            Some(path.trim_start_matches('.').to_owned())
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = format!("{path}.{k}");
            if k.contains('\0') {
                Some(path.trim_start_matches('.').to_owned())
            } else {
                field_with_nul(v, &here)
            }
        }),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| field_with_nul(v, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// serde words a missing field as ``missing field `name` ``.
fn missing_field(message: &str) -> Option<String> {
    let start = message.find("missing field `")? + "missing field `".len();
    let end = message[start..].find('`')? + start;
    Some(message[start..end].to_owned())
}

/// Query parameters as a map (lists use filters and page parameters).
#[derive(Debug)]
pub struct Params(pub HashMap<String, String>);

impl Params {
    /// `limit` and `continuationToken` as a page request, for a list that documents no
    /// filters: any other parameter is refused rather than silently ignored (a client that
    /// filters would otherwise get every item and believe they matched).
    ///
    /// # Errors
    /// 422 naming unknown parameters; 422 for a non-numeric or out-of-range limit or a
    /// malformed token.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let mut unknown: Vec<&str> = self
            .0
            .keys()
            .map(String::as_str)
            .filter(|k| !matches!(*k, "limit" | "continuationToken"))
            .collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            return Err(DomainError::invalid_fields(&unknown).into());
        }
        let limit = match self.0.get("limit") {
            None => None,
            Some(l) if l.is_empty() => None,
            Some(l) => Some(
                l.parse::<i64>()
                    .map_err(|_| ApiError::from(DomainError::invalid_fields(&["limit"])))?,
            ),
        };
        Ok(crate::paging::page_request(
            limit,
            self.0.get("continuationToken").map(String::as_str),
        )?)
    }

    /// The parameters as a list query of `kind` (filters, sort, offset, token, totals).
    ///
    /// # Errors
    /// 422 naming unknown or malformed parameters.
    pub fn list<T>(
        &self,
        kind: &crate::listing::ListKind<T>,
    ) -> Result<idm_ports::query::ListQuery, ApiError> {
        let known = |_: &str| kind.properties;
        Ok(crate::listing::parse(&self.0, kind, &known)?)
    }

    /// One parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

impl FromRequest for Params {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            web::Query::<HashMap<String, String>>::from_query(req.query_string())
                .map(|q| Params(q.into_inner()))
                .map_err(|_| DomainError::invalid_fields(&["query"]).into()),
        )
    }
}
