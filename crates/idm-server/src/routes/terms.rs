//! Terms (`core/terms`), consents (★ POST, seed 002) and pending terms of a user.

use std::collections::BTreeMap;
use validator::Validate;

use actix_web::{web, HttpResponse};
use idm_domain::model::{Consent, Terms};
use idm_service::terms::{NewTerms, TermsPatch};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::paths::{ConsentPath, TermsPath, UserPath};
use crate::doc::{
    Api, AuthErrors, BodyErrors, ErrorEnvelope, ListParams, NamedListFilter, PageParams,
};
use crate::dto::{created, given, ok_tagged, require, ts, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::listing;
use crate::state::AppState;

/// Registers (and documents) the terms, consent and pending-terms routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create, create)
        .add(__path_list, list)
        .add(__path_get, get)
        .add(__path_patch, patch)
        .add(__path_create_consent, create_consent)
        .add(__path_list_consents, list_consents)
        .add(__path_get_consent, get_consent)
        .add(__path_pending, pending);
}

/// Terms as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Terms)]
pub struct TermsDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    name: String,
    active: bool,
    silent_acceptance: bool,
    terms_version: String,
    /// Document URLs keyed by lower-case language (`en`, `de`, `fr`, `it`).
    urls: BTreeMap<String, String>,
    application_ext_ids: Vec<String>,
}

impl From<Terms> for TermsDto {
    fn from(t: Terms) -> Self {
        TermsDto {
            meta: MetaDto::from(&t.meta),
            ext_id: t.meta.ext_id,
            name: t.name,
            active: t.active,
            silent_acceptance: t.silent_acceptance,
            terms_version: t.terms_version,
            urls: t.urls,
            application_ext_ids: t.application_ext_ids,
        }
    }
}

/// One entry of the (bare-array) consents list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Consent)]
pub struct ConsentDto {
    terms_ext_id: String,
    /// The version of the terms that was accepted.
    terms_version: String,
    /// When the user accepted (RFC 3339, UTC).
    acceptance_date: String,
}

impl From<Consent> for ConsentDto {
    fn from(c: Consent) -> Self {
        ConsentDto {
            terms_ext_id: c.terms_ext_id,
            terms_version: c.terms_version,
            acceptance_date: ts(c.acceptance_date),
        }
    }
}

/// `termsVersion` is a string, but the reference's own example sends a number; accept both.
fn version_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(serde::de::Error::custom("termsVersion must be a string")),
    }
}

/// Body of `POST core/terms`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateTermsBody {
    /// Generated when absent.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// Required; unique; not blank.
    #[schema(required = true, min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    name: Option<String>,
    /// Required: whether the terms can be accepted.
    #[schema(required = true)]
    active: Option<bool>,
    /// Required: accepted without asking the user.
    #[schema(required = true)]
    silent_acceptance: Option<bool>,
    /// Required; not blank (a number is accepted and read as its text).
    #[serde(default, deserialize_with = "version_text")]
    #[schema(required = true, min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    terms_version: Option<String>,
    /// Document URLs keyed by language (`EN`/`DE`/`FR`/`IT`, either case).
    #[validate(custom(function = "crate::validate::url_map"))]
    #[schema(value_type = Option<BTreeMap<String, crate::validate::UrlText>>)]
    urls: Option<BTreeMap<String, String>>,
    /// extIds of existing applications to link the terms to.
    #[validate(custom(function = "crate::validate::ext_id_items"))]
    #[schema(value_type = Option<Vec<crate::validate::ExtIdText>>)]
    application_ext_ids: Option<Vec<String>>,
}

/// Body of `PATCH core/terms/:extId` (`silentAcceptance` is not patchable, as in nevisIDM).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchTermsBody {
    /// If present, must equal the addressed extId.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    #[schema(min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    name: Option<String>,
    active: Option<bool>,
    /// A new version string: publishing it lets users consent again.
    #[serde(default, deserialize_with = "version_text")]
    #[schema(min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    terms_version: Option<String>,
    /// Replaces the URL map.
    #[validate(custom(function = "crate::validate::url_map"))]
    #[schema(value_type = Option<BTreeMap<String, crate::validate::UrlText>>)]
    urls: Option<BTreeMap<String, String>>,
    /// Replaces the linked applications.
    #[validate(custom(function = "crate::validate::ext_id_items"))]
    #[schema(value_type = Option<Vec<crate::validate::ExtIdText>>)]
    application_ext_ids: Option<Vec<String>>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// Body of `POST core/:c/users/:u/consents`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateConsentBody {
    /// Required: extId of the (active) terms to accept.
    #[schema(max_length = 255, required = true, min_length = 1)]
    #[validate(length(max = 255))]
    terms_ext_id: Option<String>,
}

/// Creates terms, optionally linked to applications.
///
/// Requires `AccessControl.TermsCreate`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/terms", tag = "terms",
    security(("bearer" = [])),
    request_body = CreateTermsBody,
    responses(
        (status = 201, description = "Created; `Location` names the new terms.",
            headers(("Location" = String, description = "URL of the new terms"))),
        (status = 404, description = "`errors.noRecord`: an application in \
            `applicationExtIds` does not exist.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a required field is missing, \
            or `name`, `termsVersion`, `urls`, `extId` or a field's type is not valid), \
            `errors.duplicateName` (name taken) or `errors.duplicateValue` (extId taken).",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    Body(body): Body<CreateTermsBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[
        ("name", given(&body.name)),
        ("active", body.active.is_some()),
        ("silentAcceptance", body.silent_acceptance.is_some()),
        ("termsVersion", given(&body.terms_version)),
    ])?;
    let terms = state
        .services
        .create_terms(
            &caller,
            NewTerms {
                ext_id: body.ext_id,
                name: body.name.unwrap_or_default(),
                active: body.active.unwrap_or_default(),
                silent_acceptance: body.silent_acceptance.unwrap_or_default(),
                terms_version: body.terms_version.unwrap_or_default(),
                urls: body.urls.unwrap_or_default(),
                application_ext_ids: body.application_ext_ids.unwrap_or_default(),
            },
        )
        .await?;
    Ok(created(format!("{CORE}/terms/{}", terms.meta.ext_id)))
}

/// Lists all terms, keyset-paged.
///
/// Requires `AccessControl.TermsView`.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/terms", tag = "terms",
    security(("bearer" = [])),
    params(NamedListFilter, ListParams, PageParams),
    responses(
        (status = 200, description = "A page of terms.", body = PageDto<TermsDto>),
        (status = 422, description = "`errors.invalidParameter`: an unknown query parameter or `sortBy` field, or a \
            malformed value (`limit`, `offset`, `continuationToken`, a filter), named in the \
            message.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let query = params.list(&listing::TERMS)?;
    let result = state.services.list_terms(&caller, query.clone()).await?;
    Ok(HttpResponse::Ok().json(listing::page_dto(
        result,
        &query,
        &listing::TERMS,
        TermsDto::from,
    )))
}

/// Reads terms with their application extIds; `ETag` carries the version.
///
/// Requires `AccessControl.TermsView`.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/terms/{extId}", tag = "terms",
    security(("bearer" = [])),
    params(TermsPath),
    responses(
        (status = 200, description = "The terms.", body = TermsDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: `Terms doesn't exist with extId \
            '...'`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<TermsPath>,
) -> Result<HttpResponse, ApiError> {
    let terms = state.services.get_terms(&caller, &path.ext_id).await?;
    Ok(ok_tagged(terms.meta.version, &TermsDto::from(terms)))
}

/// Changes the fields present in the body, e.g. publishes a new `termsVersion` (optimistic
/// locking by `version` or `If-Match`).
///
/// Requires `AccessControl.TermsView` and `AccessControl.TermsModify`.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/terms/{extId}", tag = "terms",
    security(("bearer" = [])),
    params(TermsPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchTermsBody,
    responses(
        (status = 200, description = "The changed terms.", body = TermsDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such terms, or an application in \
            `applicationExtIds` does not exist.", body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a field or `If-Match` is not \
            valid), `errors.modifyExtId` (body extId differs) or `errors.duplicateName` (name \
            taken).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<TermsPath>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PatchTermsBody>,
) -> Result<HttpResponse, ApiError> {
    let terms = state
        .services
        .patch_terms(
            &caller,
            &path.ext_id,
            TermsPatch {
                ext_id: body.ext_id,
                name: body.name,
                active: body.active,
                terms_version: body.terms_version,
                urls: body.urls,
                application_ext_ids: body.application_ext_ids,
                version: body.version.or(if_match),
            },
        )
        .await?;
    Ok(ok_tagged(terms.meta.version, &TermsDto::from(terms)))
}

/// ★ Records the user's acceptance of the current version of the terms (seed 002).
///
/// Requires `AccessControl.ConsentCreate` (403 `errors.insufficientRightsFunction`
/// `Permission denied: Caller does not have the required right 'AccessControl.ConsentCreate'
/// to perform this action`, or `errors.combinedDataroomDenied` `Permission denied:
/// AccessControl.ConsentCreate` for a user outside the caller's dataroom).
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/consents",
    tag = "terms",
    security(("bearer" = [])),
    params(UserPath),
    request_body = CreateConsentBody,
    responses(
        (status = 201, description = "Consent created; `Location` names it.",
            headers(("Location" = String, description = "URL of the created consent"))),
        (status = 404, description = "`errors.noRecord`: `Client doesn't exist with extId \
            '...'`, `A user with extId '...' doesn't exist on client with name ....` or \
            `Terms doesn't exist with extId '...'`.", body = ErrorEnvelope),
        (status = 422, description = "`errors.duplicateValue` (`A consent for userExtId: \
            '...', termsExtId: '...' and termsVersion: '...' already exists.`), \
            `errors.invalidParameter` (`termsExtId` missing or blank) or `errors.invalidData` \
            (the terms are not active).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_consent(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    Body(body): Body<CreateConsentBody>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id,
        user_ext_id,
    } = path.into_inner();
    let consent = state
        .services
        .create_consent(
            &caller,
            &client_ext_id,
            &user_ext_id,
            body.terms_ext_id.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{client_ext_id}/users/{user_ext_id}/consents/{}",
        consent.meta.ext_id
    )))
}

/// Every consent of the user, oldest first, as a bare JSON array (not a page, as in
/// nevisIDM).
///
/// Requires `AccessControl.ConsentView`, or the SelfAdmin role for one's own consents.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/consents",
    tag = "terms",
    security(("bearer" = [])),
    params(UserPath),
    responses(
        (status = 200, description = "The consents (a JSON array).", body = Vec<ConsentDto>),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_consents(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id,
        user_ext_id,
    } = path.into_inner();
    let consents = state
        .services
        .list_consents(&caller, &client_ext_id, &user_ext_id)
        .await?;
    let items: Vec<ConsentDto> = consents.into_iter().map(ConsentDto::from).collect();
    Ok(HttpResponse::Ok().json(items))
}

/// One consent of the user: what the `Location` of a created consent names.
///
/// Requires `AccessControl.ConsentView`, or the SelfAdmin role for one's own consents.
#[utoipa::path(get,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/consents/{extId}",
    tag = "terms",
    security(("bearer" = [])),
    params(ConsentPath),
    responses(
        (status = 200, description = "The consent.", body = ConsentDto),
        (status = 404, description = "`errors.noRecord`: no such client, user or consent (of \
            this user).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_consent(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ConsentPath>,
) -> Result<HttpResponse, ApiError> {
    let ConsentPath {
        client_ext_id,
        user_ext_id,
        ext_id,
    } = path.into_inner();
    let consent = state
        .services
        .get_consent(&caller, &client_ext_id, &user_ext_id, &ext_id)
        .await?;
    Ok(HttpResponse::Ok().json(ConsentDto::from(consent)))
}

/// The active terms whose current version the user has not accepted yet, keyset-paged.
///
/// Requires `AccessControl.ConsentView` and `AccessControl.TermsView`, or the SelfAdmin role
/// for one's own pending terms.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/terms-pending",
    tag = "terms",
    security(("bearer" = [])),
    params(UserPath,
        PageParams),
    responses(
        (status = 200, description = "A page of pending terms.", body = PageDto<TermsDto>),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn pending(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id,
        user_ext_id,
    } = path.into_inner();
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .pending_terms(&caller, &client_ext_id, &user_ext_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, TermsDto::from)))
}
