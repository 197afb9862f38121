//! FIDO UAF authenticators under `core/:clientExtId/users/:userExtId/fido-authenticators`,
//! optionally linked to a dispatch target of the same user.

use actix_web::{web, HttpResponse};
use idm_domain::model::FidoUafCredential;
use idm_service::devices::NewFidoUaf;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::paths::{FidoUafLinkPath, FidoUafPath, UserPath};
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope, PageParams};
use crate::dto::{created, ok_tagged, DeviceStateDoc, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, Params, XToken};
use crate::state::AppState;

/// Registers (and documents) the FIDO UAF routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create_fido, create_fido)
        .add(__path_list_fido, list_fido)
        .add(__path_get_fido, get_fido)
        .add(__path_delete_fido, delete_fido)
        .add(__path_unlink_fido, unlink_fido);
}

/// FIDO UAF credential as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = FidoUafCredential)]
pub struct FidoUafDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    #[schema(value_type = DeviceStateDoc)]
    state_name: String,
    aaid: String,
    key_id: String,
    authenticator_version: String,
    public_key: String,
    public_key_algorithm: String,
    app_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dispatch_target_ext_id: Option<String>,
}

impl From<FidoUafCredential> for FidoUafDto {
    fn from(c: FidoUafCredential) -> Self {
        FidoUafDto {
            meta: MetaDto::from(&c.meta),
            ext_id: c.meta.ext_id,
            state_name: c.state,
            aaid: c.aaid,
            key_id: c.key_id,
            authenticator_version: c.authenticator_version,
            public_key: c.public_key,
            public_key_algorithm: c.public_key_algorithm,
            app_id: c.app_id,
            device_id: c.device_id,
            dispatch_target_ext_id: c.dispatch_target_ext_id,
        }
    }
}

/// Body of `POST .../fido-authenticators`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateFidoUafBody {
    /// Generated when absent.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// Required: `XXXX#XXXX` with hexadecimal digits.
    #[schema(
        max_length = 9,
        required = true,
        pattern = "^[0-9A-Fa-f]{4}#[0-9A-Fa-f]{4}$"
    )]
    #[validate(length(max = 9))]
    aaid: Option<String>,
    /// Required: base64url.
    #[schema(required = true, pattern = "^[A-Za-z0-9_-]+={0,2}$", max_length = 2600)]
    #[validate(length(max = 2600))]
    key_id: Option<String>,
    /// Required: `major.minor`.
    #[schema(
        max_length = 11,
        required = true,
        pattern = "^[0-9]{1,5}\\.[0-9]{1,5}$"
    )]
    #[validate(length(max = 11))]
    authenticator_version: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 4000)]
    #[validate(length(max = 4000))]
    public_key: Option<String>,
    /// Required: a `UAF_ALG_SIGN_*` name of the FIDO registry, e.g.
    /// `UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW`.
    #[schema(required = true, min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    public_key_algorithm: Option<String>,
    /// Required; not empty.
    #[schema(required = true, min_length = 1, max_length = 1000)]
    #[validate(length(max = 1000))]
    app_id: Option<String>,
    /// Push-service device id.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    device_id: Option<String>,
    /// `active` (the default) or `disabled`.
    #[schema(value_type = Option<DeviceStateDoc>)]
    state_name: Option<String>,
    /// A dispatch target of the same user to link.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    dispatch_target_ext_id: Option<String>,
}

/// Registers a FIDO UAF authenticator of the user, optionally linked to one of the user's
/// dispatch targets.
///
/// Requires `AccessControl.CredentialCreate`, `AccessControl.CredentialChangeState` and
/// `AccessControl.CredentialView`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido-authenticators", tag = "devices",
    security(("bearer" = [])),
    params(UserPath),
    request_body = CreateFidoUafBody,
    responses(
        (status = 201, description = "Created; `Location` names the new credential.",
            headers(("Location" = String, description = "URL of the new FIDO UAF credential"))),
        (status = 404, description = "`errors.noRecord`: no such client, user or (linked) \
            dispatch target.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a required field is missing \
            or a field is not valid), `errors.credentialFidoUaf.invalidAaidFormat`, \
            `errors.credentialFidoUaf.invalidKeyIdFormat`, \
            `errors.credentialFidoUaf.invalidAuthVersionFormat`, \
            `errors.credentialFidoUaf.invalidPublicKeyAlgorithm`, \
            `errors.credentialFidoUaf.emptyAppId`, `errors.credentialFidoUaf.notUnique` \
            (aaid and keyId already registered) or `errors.duplicateValue` (extId taken).",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_fido(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    Body(b): Body<CreateFidoUafBody>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    let cred = state
        .services
        .create_fido_uaf(
            &caller,
            &c,
            &u,
            NewFidoUaf {
                ext_id: b.ext_id,
                aaid: b.aaid,
                key_id: b.key_id,
                authenticator_version: b.authenticator_version,
                public_key: b.public_key,
                public_key_algorithm: b.public_key_algorithm,
                app_id: b.app_id,
                device_id: b.device_id,
                state_name: b.state_name,
                dispatch_target_ext_id: b.dispatch_target_ext_id,
            },
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{c}/users/{u}/fido-authenticators/{}",
        cred.meta.ext_id
    )))
}

/// Lists the user's FIDO UAF credentials, keyset-paged.
///
/// Requires `AccessControl.CredentialView`, or the SelfAdmin role for one's own.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido-authenticators", tag = "devices",
    security(("bearer" = [])),
    params(UserPath, PageParams),
    responses(
        (status = 200, description = "A page of FIDO UAF credentials.",
            body = PageDto<FidoUafDto>),
        (status = 404, description = "`errors.noRecord`: no such client or user.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_fido(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    let page = params.page()?;
    let limit = page.limit;
    let result = state.services.list_fido_uaf(&caller, &c, &u, page).await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, FidoUafDto::from)))
}

/// Reads one FIDO UAF credential; `ETag` carries its version.
///
/// Requires `AccessControl.CredentialView`, or the SelfAdmin role for one's own.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido-authenticators/{extId}", tag = "devices",
    security(("bearer" = [])),
    params(FidoUafPath),
    responses(
        (status = 200, description = "The FIDO UAF credential.", body = FidoUafDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, user or FIDO UAF credential.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_fido(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<FidoUafPath>,
) -> Result<HttpResponse, ApiError> {
    let FidoUafPath {
        client_ext_id: c,
        user_ext_id: u,
        ext_id: id,
    } = path.into_inner();
    let cred = state.services.get_fido_uaf(&caller, &c, &u, &id).await?;
    Ok(ok_tagged(cred.meta.version, &FidoUafDto::from(cred)))
}

/// Deletes one FIDO UAF credential.
///
/// Requires `AccessControl.CredentialDelete`, or the SelfAdmin role with an `X-Token` for
/// one's own.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido-authenticators/{extId}", tag = "devices",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(FidoUafPath),
    responses(
        (status = 204, description = "FIDO UAF credential deleted."),
        (status = 404, description = "`errors.noRecord`: no such client, user or FIDO UAF credential.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidJWTToken` (`Invalid JWT token.`: self-admin mode without a valid \
            `X-Token`).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete_fido(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<FidoUafPath>,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let FidoUafPath {
        client_ext_id: c,
        user_ext_id: u,
        ext_id: id,
    } = path.into_inner();
    state
        .services
        .delete_fido_uaf(&caller, &c, &u, &id, xtoken.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes the link between a FIDO UAF credential and a dispatch target (both stay).
///
/// Requires (`AccessControl.CredentialModify` or `AccessControl.DispatchTargetModify`) and
/// (`AccessControl.CredentialView` or `AccessControl.DispatchTargetView`).
#[utoipa::path(delete,
    path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido-authenticators/{extId}/dispatch-target/{dtExtId}",
    tag = "devices",
    security(("bearer" = [])),
    params(FidoUafLinkPath),
    responses(
        (status = 204, description = "Link removed."),
        (status = 404, description = "`errors.noRecord`: no such client, user, FIDO UAF \
            credential or dispatch target, or the two are not linked.", body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the credential \
            changed concurrently.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn unlink_fido(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<FidoUafLinkPath>,
) -> Result<HttpResponse, ApiError> {
    let FidoUafLinkPath {
        client_ext_id: c,
        user_ext_id: u,
        ext_id: id,
        dt_ext_id: dt,
    } = path.into_inner();
    state
        .services
        .unlink_fido_uaf(&caller, &c, &u, &id, &dt)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
