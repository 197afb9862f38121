//! App attestations: at most one per dispatch target, under
//! `core/:clientExtId/users/:userExtId/dispatch-targets/:dtExtId/app-attestation`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use idm_domain::model::AppAttestation;
use idm_service::devices::{AppAttestationPatch, NewAppAttestation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::paths::DispatchTargetPath;
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope};
use crate::dto::{ok_tagged, MetaDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, XToken};
use crate::state::AppState;

/// Registers (and documents) the app-attestation routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create_attestation, create_attestation)
        .add(__path_get_attestation, get_attestation)
        .add(__path_patch_attestation, patch_attestation)
        .add(__path_delete_attestation, delete_attestation);
}

/// App attestation as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppAttestation)]
pub struct AppAttestationDto {
    #[serde(flatten)]
    meta: MetaDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    counter: i64,
    receipt: String,
    public_key: String,
    device_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<String>,
}

impl From<AppAttestation> for AppAttestationDto {
    fn from(a: AppAttestation) -> Self {
        AppAttestationDto {
            meta: MetaDto::from(&a.meta),
            name: a.name,
            counter: a.counter,
            receipt: a.receipt,
            public_key: a.public_key,
            device_id: a.device_id,
            environment: a.environment,
        }
    }
}

/// Body of an app attestation (nested in a dispatch target, or `POST .../app-attestation`).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct AppAttestationBody {
    /// Unique per user; not blank when present.
    #[schema(min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    name: Option<String>,
    /// Validated assertions so far (default 0).
    #[schema(minimum = 0, maximum = 2147483647)]
    counter: Option<i64>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 65536)]
    #[validate(length(max = 65536))]
    receipt: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 65536)]
    #[validate(length(max = 65536))]
    public_key: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    device_id: Option<String>,
    #[schema(max_length = 100)]
    #[validate(length(max = 100))]
    environment: Option<String>,
}

impl From<AppAttestationBody> for NewAppAttestation {
    fn from(b: AppAttestationBody) -> Self {
        NewAppAttestation {
            name: b.name,
            counter: b.counter,
            receipt: b.receipt,
            public_key: b.public_key,
            device_id: b.device_id,
            environment: b.environment,
        }
    }
}

/// Body of `PATCH .../app-attestation`: only the fields present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchAppAttestationBody {
    #[schema(min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    name: Option<String>,
    #[schema(minimum = 0, maximum = 2147483647)]
    counter: Option<i64>,
    #[schema(min_length = 1, max_length = 65536)]
    #[validate(length(max = 65536))]
    receipt: Option<String>,
    #[schema(min_length = 1, max_length = 65536)]
    #[validate(length(max = 65536))]
    public_key: Option<String>,
    #[schema(min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    device_id: Option<String>,
    #[schema(max_length = 100)]
    #[validate(length(max = 100))]
    environment: Option<String>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// Creates the app attestation of a dispatch target (at most one per target).
///
/// Requires `AccessControl.CredentialCreate` or `AccessControl.DispatchTargetCreate`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/dispatch-targets/{dtExtId}/app-attestation",
    tag = "devices",
    security(("bearer" = [])),
    params(DispatchTargetPath),
    request_body = AppAttestationBody,
    responses(
        (status = 201, description = "Created; the body is the new app attestation.",
            body = AppAttestationDto,
            headers(("Location" = String, description = "URL of the app attestation"),
                ("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, user or dispatch target (`No DispatchTarget found \
            with extId '...' for user with extId '...' on client with name '...'`).", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a required field is missing \
            or a field is not valid) or `errors.duplicateValue` (the target already has an \
            app attestation, or the name is taken for this user).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_attestation(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<DispatchTargetPath>,
    Body(b): Body<AppAttestationBody>,
) -> Result<HttpResponse, ApiError> {
    let DispatchTargetPath {
        client_ext_id: c,
        user_ext_id: u,
        dt_ext_id: dt,
    } = path.into_inner();
    let a = state
        .services
        .create_app_attestation(&caller, &c, &u, &dt, b.into())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{CORE}/{c}/users/{u}/dispatch-targets/{dt}/app-attestation"),
        ))
        .insert_header((header::ETAG, format!("\"{}\"", a.meta.version)))
        .json(AppAttestationDto::from(a)))
}

/// Reads the app attestation of a dispatch target; `ETag` carries its version.
///
/// Requires `AccessControl.CredentialView` or `AccessControl.DispatchTargetView`, or the
/// SelfAdmin role with an `X-Token` for one's own.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/dispatch-targets/{dtExtId}/app-attestation",
    tag = "devices",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(DispatchTargetPath),
    responses(
        (status = 200, description = "The app attestation.", body = AppAttestationDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, user or dispatch target, or the target has no app \
            attestation.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidJWTToken` (`Invalid JWT token.`: self-admin mode without a valid \
            `X-Token`).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_attestation(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<DispatchTargetPath>,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let DispatchTargetPath {
        client_ext_id: c,
        user_ext_id: u,
        dt_ext_id: dt,
    } = path.into_inner();
    let a = state
        .services
        .get_app_attestation(&caller, &c, &u, &dt, xtoken.as_deref())
        .await?;
    Ok(ok_tagged(a.meta.version, &AppAttestationDto::from(a)))
}

/// Changes the fields present in the body (optimistic locking by `version` or `If-Match`).
///
/// Requires (`AccessControl.CredentialModify` or `AccessControl.DispatchTargetModify`) and
/// (`AccessControl.CredentialView` or `AccessControl.DispatchTargetView`), or the SelfAdmin
/// role with an `X-Token` for one's own.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/dispatch-targets/{dtExtId}/app-attestation",
    tag = "devices",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(DispatchTargetPath, ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchAppAttestationBody,
    responses(
        (status = 200, description = "The changed app attestation.", body = AppAttestationDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, user or dispatch target, or the target has no app \
            attestation.", body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a field or `If-Match` is not \
            valid), `errors.duplicateValue` (the name is taken for this user) or `errors.invalidJWTToken` (`Invalid JWT token.`: self-admin mode without a valid \
            `X-Token`).",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch_attestation(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<DispatchTargetPath>,
    XToken(xtoken): XToken,
    IfMatch(if_match): IfMatch,
    Body(b): Body<PatchAppAttestationBody>,
) -> Result<HttpResponse, ApiError> {
    let DispatchTargetPath {
        client_ext_id: c,
        user_ext_id: u,
        dt_ext_id: dt,
    } = path.into_inner();
    let a = state
        .services
        .patch_app_attestation(
            &caller,
            &c,
            &u,
            &dt,
            xtoken.as_deref(),
            AppAttestationPatch {
                name: b.name,
                counter: b.counter,
                receipt: b.receipt,
                public_key: b.public_key,
                device_id: b.device_id,
                environment: b.environment,
                version: b.version.or(if_match),
            },
        )
        .await?;
    Ok(ok_tagged(a.meta.version, &AppAttestationDto::from(a)))
}

/// Deletes the app attestation of a dispatch target (the target stays).
///
/// Requires (`AccessControl.CredentialDelete` or `AccessControl.DispatchTargetDelete`) and
/// (`AccessControl.CredentialView` or `AccessControl.DispatchTargetView`), or the SelfAdmin
/// role with an `X-Token` for one's own.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/dispatch-targets/{dtExtId}/app-attestation",
    tag = "devices",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(DispatchTargetPath),
    responses(
        (status = 204, description = "App attestation deleted."),
        (status = 404, description = "`errors.noRecord`: no such client, user or dispatch target, or the target has no app \
            attestation.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidJWTToken` (`Invalid JWT token.`: self-admin mode without a valid \
            `X-Token`).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete_attestation(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<DispatchTargetPath>,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let DispatchTargetPath {
        client_ext_id: c,
        user_ext_id: u,
        dt_ext_id: dt,
    } = path.into_inner();
    state
        .services
        .delete_app_attestation(&caller, &c, &u, &dt, xtoken.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
