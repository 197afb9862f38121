//! Dispatch targets (★ DELETE, seed 000) under
//! `core/:clientExtId/users/:userExtId/dispatch-targets`, each with its app attestation if it
//! has one.

use actix_web::{web, HttpResponse};
use idm_domain::model::{AppAttestation, DispatchTarget};
use idm_service::devices::{NewAppAttestation, NewDispatchTarget};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::attestations::{AppAttestationBody, AppAttestationDto};
use super::paths::{DispatchTargetPath, UserPath};
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope, PageParams};
use crate::dto::{created, ok_tagged, DeviceStateDoc, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, Params, XToken};
use crate::state::AppState;

/// Registers (and documents) the dispatch-target routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create_target, create_target)
        .add(__path_list_targets, list_targets)
        .add(__path_get_target, get_target)
        .add(__path_delete_target, delete_target);
}

/// The dispatch-target types, as on the wire (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
#[schema(as = DispatchTargetType)]
pub enum DispatchTargetTypeDoc {
    /// FIDO UAF push (the only type nevisIDM knows).
    #[serde(rename = "fido-uaf")]
    FidoUaf,
}

/// Dispatch target as sent to clients, with its attestation if it has one.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DispatchTarget)]
pub struct DispatchTargetDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    #[serde(rename = "type")]
    #[schema(value_type = DispatchTargetTypeDoc)]
    target_type: String,
    device_id: String,
    target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    dispatcher: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_key: Option<String>,
    signing_key: String,
    app_id: String,
    name: String,
    #[schema(value_type = DeviceStateDoc)]
    state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_attestation: Option<AppAttestationDto>,
}

impl From<(DispatchTarget, Option<AppAttestation>)> for DispatchTargetDto {
    fn from((t, a): (DispatchTarget, Option<AppAttestation>)) -> Self {
        DispatchTargetDto {
            meta: MetaDto::from(&t.meta),
            ext_id: t.meta.ext_id,
            target_type: t.target_type,
            device_id: t.device_id,
            target: t.target,
            dispatcher: t.dispatcher,
            user_agent: t.user_agent,
            encryption_key: t.encryption_key,
            signing_key: t.signing_key,
            app_id: t.app_id,
            name: t.name,
            state: t.state.as_str().to_owned(),
            app_attestation: a.map(AppAttestationDto::from),
        }
    }
}

/// Body of `POST .../dispatch-targets`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateDispatchTargetBody {
    /// Generated when absent.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// `fido-uaf` (the default).
    #[serde(rename = "type")]
    #[schema(value_type = Option<DispatchTargetTypeDoc>)]
    target_type: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    device_id: Option<String>,
    /// Required: the channel target.
    #[schema(required = true, min_length = 1, max_length = 65536)]
    #[validate(length(max = 65536))]
    target: Option<String>,
    #[schema(max_length = 100)]
    #[validate(length(max = 100))]
    dispatcher: Option<String>,
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    user_agent: Option<String>,
    #[schema(max_length = 65536)]
    #[validate(length(max = 65536))]
    encryption_key: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 65536)]
    #[validate(length(max = 65536))]
    signing_key: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 1000)]
    #[validate(length(max = 1000))]
    app_id: Option<String>,
    /// Required: the device name.
    #[schema(required = true, min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    name: Option<String>,
    /// `active` (the default) or `disabled`.
    #[schema(value_type = Option<DeviceStateDoc>)]
    state: Option<String>,
    /// Created in the same transaction when present.
    #[validate(nested)]
    app_attestation: Option<AppAttestationBody>,
}

/// Creates a dispatch target of the user and, if given, its app attestation (one
/// transaction).
///
/// Requires `AccessControl.CredentialCreate` or `AccessControl.DispatchTargetCreate`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/dispatch-targets", tag = "devices",
    security(("bearer" = [])),
    params(UserPath),
    request_body = CreateDispatchTargetBody,
    responses(
        (status = 201, description = "Created; `Location` names the new dispatch target.",
            headers(("Location" = String, description = "URL of the new dispatch target"))),
        (status = 404, description = "`errors.noRecord`: no such client or user.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a required field is missing, \
            or a field, `type`, `extId` or `state` (`Invalid DispatchTargetState name '...'`) \
            is not valid) or `errors.duplicateValue` (extId taken, or the attestation name is \
            taken for this user).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_target(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    Body(b): Body<CreateDispatchTargetBody>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    let (target, _) = state
        .services
        .create_dispatch_target(
            &caller,
            &c,
            &u,
            NewDispatchTarget {
                ext_id: b.ext_id,
                target_type: b.target_type,
                device_id: b.device_id,
                target: b.target,
                dispatcher: b.dispatcher,
                user_agent: b.user_agent,
                encryption_key: b.encryption_key,
                signing_key: b.signing_key,
                app_id: b.app_id,
                name: b.name,
                state: b.state,
                app_attestation: b.app_attestation.map(NewAppAttestation::from),
            },
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{c}/users/{u}/dispatch-targets/{}",
        target.meta.ext_id
    )))
}

/// Lists the user's dispatch targets with their app attestations, keyset-paged.
///
/// Requires `AccessControl.CredentialView` or `AccessControl.DispatchTargetView`, or the
/// SelfAdmin role with an `X-Token` for one's own.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/dispatch-targets", tag = "devices",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserPath, PageParams),
    responses(
        (status = 200, description = "A page of dispatch targets.",
            body = PageDto<DispatchTargetDto>),
        (status = 404, description = "`errors.noRecord`: no such client or user.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or `continuationToken`, or `errors.invalidJWTToken` (`Invalid JWT token.`: self-admin mode without a valid \
            `X-Token`).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_targets(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    XToken(xtoken): XToken,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_dispatch_targets(&caller, &c, &u, xtoken.as_deref(), page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, DispatchTargetDto::from)))
}

/// Reads one dispatch target with its app attestation; `ETag` carries its version.
///
/// Requires `AccessControl.CredentialView` or `AccessControl.DispatchTargetView`, or the
/// SelfAdmin role with an `X-Token` for one's own.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/dispatch-targets/{dtExtId}", tag = "devices",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(DispatchTargetPath),
    responses(
        (status = 200, description = "The dispatch target.", body = DispatchTargetDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, user or dispatch target (`No DispatchTarget found \
            with extId '...' for user with extId '...' on client with name '...'`).", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidJWTToken` (`Invalid JWT token.`: self-admin mode without a valid \
            `X-Token`).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_target(
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
    let found = state
        .services
        .get_dispatch_target(&caller, &c, &u, &dt, xtoken.as_deref())
        .await?;
    Ok(ok_tagged(
        found.0.meta.version,
        &DispatchTargetDto::from(found),
    ))
}

/// ★ Deletes a dispatch target (seed 000): its FIDO UAF credentials lose the link and its app
/// attestation is deleted, in one transaction.
///
/// Requires `AccessControl.CredentialDelete` or `AccessControl.DispatchTargetDelete` (403
/// `errors.insufficientRightsFunction` `Permission denied: Caller does not have the required
/// right 'AccessControl.CredentialDelete' to perform this action`, or
/// `errors.combinedDataroomDenied` `Permission denied: AccessControl.CredentialDelete`), or
/// the SelfAdmin role with a valid `X-Token` for one's own dispatch target.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/dispatch-targets/{dtExtId}", tag = "devices",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(DispatchTargetPath),
    responses(
        (status = 204, description = "Dispatch target deleted."),
        (status = 404, description = "`errors.noRecord`: `Client doesn't exist with extId \
            '...'`, `A user with extId '...' doesn't exist on client with name ...` or `No \
            DispatchTarget found with extId '...' for user with extId '...' on client with \
            name '...'`.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidJWTToken` (`Invalid JWT token.`: self-admin mode without a valid \
            `X-Token`).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete_target(
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
        .delete_dispatch_target(&caller, &c, &u, &dt, xtoken.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
