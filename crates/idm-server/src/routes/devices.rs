//! Dispatch targets (★ DELETE, seed 000), app attestations and FIDO UAF authenticators under
//! `core/:clientExtId/users/:userExtId/...`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use idm_domain::model::{AppAttestation, DispatchTarget, FidoUafCredential};
use idm_service::devices::{AppAttestationPatch, NewAppAttestation, NewDispatchTarget, NewFidoUaf};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope, PageParams};
use crate::dto::{created, ok_tagged, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params, XToken};
use crate::state::AppState;

/// Registers (and documents) the device routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create_target, create_target)
        .add(__path_list_targets, list_targets)
        .add(__path_get_target, get_target)
        .add(__path_delete_target, delete_target)
        .add(__path_create_attestation, create_attestation)
        .add(__path_get_attestation, get_attestation)
        .add(__path_patch_attestation, patch_attestation)
        .add(__path_delete_attestation, delete_attestation)
        .add(__path_create_fido, create_fido)
        .add(__path_list_fido, list_fido)
        .add(__path_get_fido, get_fido)
        .add(__path_delete_fido, delete_fido)
        .add(__path_unlink_fido, unlink_fido);
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

/// The dispatch-target types, as on the wire (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
#[schema(as = DispatchTargetType)]
pub enum DispatchTargetTypeDoc {
    /// FIDO UAF push (the only type nevisIDM knows).
    #[serde(rename = "fido-uaf")]
    FidoUaf,
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

/// Body of an app attestation (nested in a dispatch target, or `POST .../app-attestation`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppAttestationBody {
    /// Unique per user; not blank when present.
    #[schema(min_length = 1, max_length = 255)]
    name: Option<String>,
    /// Validated assertions so far (default 0).
    #[schema(minimum = 0, maximum = 2147483647)]
    counter: Option<i64>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 65536)]
    receipt: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 65536)]
    public_key: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 255)]
    device_id: Option<String>,
    #[schema(max_length = 100)]
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatchAppAttestationBody {
    #[schema(min_length = 1, max_length = 255)]
    name: Option<String>,
    #[schema(minimum = 0, maximum = 2147483647)]
    counter: Option<i64>,
    #[schema(min_length = 1, max_length = 65536)]
    receipt: Option<String>,
    #[schema(min_length = 1, max_length = 65536)]
    public_key: Option<String>,
    #[schema(min_length = 1, max_length = 255)]
    device_id: Option<String>,
    #[schema(max_length = 100)]
    environment: Option<String>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// Body of `POST .../dispatch-targets`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDispatchTargetBody {
    /// Generated when absent.
    ext_id: Option<String>,
    /// `fido-uaf` (the default).
    #[serde(rename = "type")]
    #[schema(value_type = Option<DispatchTargetTypeDoc>)]
    target_type: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 255)]
    device_id: Option<String>,
    /// Required: the channel target.
    #[schema(required = true, min_length = 1, max_length = 65536)]
    target: Option<String>,
    #[schema(max_length = 100)]
    dispatcher: Option<String>,
    #[schema(max_length = 255)]
    user_agent: Option<String>,
    #[schema(max_length = 65536)]
    encryption_key: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 65536)]
    signing_key: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 1000)]
    app_id: Option<String>,
    /// Required: the device name.
    #[schema(required = true, min_length = 1, max_length = 255)]
    name: Option<String>,
    /// `active` (the default) or `disabled`.
    #[schema(value_type = Option<DeviceStateDoc>)]
    state: Option<String>,
    /// Created in the same transaction when present.
    app_attestation: Option<AppAttestationBody>,
}

/// Body of `POST .../fido-authenticators`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateFidoUafBody {
    /// Generated when absent.
    ext_id: Option<String>,
    /// Required: `XXXX#XXXX` with hexadecimal digits.
    #[schema(required = true, pattern = "^[0-9A-Fa-f]{4}#[0-9A-Fa-f]{4}$")]
    aaid: Option<String>,
    /// Required: base64url.
    #[schema(required = true, pattern = "^[A-Za-z0-9_-]+={0,2}$", max_length = 2732)]
    key_id: Option<String>,
    /// Required: `major.minor`.
    #[schema(required = true, pattern = "^[0-9]{1,5}\\.[0-9]{1,5}$")]
    authenticator_version: Option<String>,
    /// Required.
    #[schema(required = true, min_length = 1, max_length = 4000)]
    public_key: Option<String>,
    /// Required: a `UAF_ALG_SIGN_*` name of the FIDO registry, e.g.
    /// `UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW`.
    #[schema(required = true, min_length = 1, max_length = 255)]
    public_key_algorithm: Option<String>,
    /// Required; not empty.
    #[schema(required = true, min_length = 1, max_length = 1000)]
    app_id: Option<String>,
    /// Push-service device id.
    #[schema(max_length = 255)]
    device_id: Option<String>,
    /// `active` (the default) or `disabled`.
    #[schema(value_type = Option<DeviceStateDoc>)]
    state_name: Option<String>,
    /// A dispatch target of the same user to link.
    dispatch_target_ext_id: Option<String>,
}

type UserPath = web::Path<(String, String)>;
type ItemPath = web::Path<(String, String, String)>;

/// Creates a dispatch target of the user and, if given, its app attestation (one
/// transaction).
///
/// Requires `AccessControl.CredentialCreate` or `AccessControl.DispatchTargetCreate`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/dispatch-targets", tag = "devices",
    security(("bearer" = [])),
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user")),
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
    path: UserPath,
    Body(b): Body<CreateDispatchTargetBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, u) = path.into_inner();
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
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user"), PageParams),
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
    path: UserPath,
    XToken(xtoken): XToken,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (c, u) = path.into_inner();
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
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user"), ("dtExtId" = String, Path, description = "extId of the dispatch target")),
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
    path: ItemPath,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
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
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user"), ("dtExtId" = String, Path, description = "extId of the dispatch target")),
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
    path: ItemPath,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
    state
        .services
        .delete_dispatch_target(&caller, &c, &u, &dt, xtoken.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Creates the app attestation of a dispatch target (at most one per target).
///
/// Requires `AccessControl.CredentialCreate` or `AccessControl.DispatchTargetCreate`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/dispatch-targets/{dtExtId}/app-attestation",
    tag = "devices",
    security(("bearer" = [])),
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user"), ("dtExtId" = String, Path, description = "extId of the dispatch target")),
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
    path: ItemPath,
    Body(b): Body<AppAttestationBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
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
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user"), ("dtExtId" = String, Path, description = "extId of the dispatch target")),
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
    path: ItemPath,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
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
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user"), ("dtExtId" = String, Path, description = "extId of the dispatch target"), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
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
    path: ItemPath,
    XToken(xtoken): XToken,
    IfMatch(if_match): IfMatch,
    Body(b): Body<PatchAppAttestationBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
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
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user"), ("dtExtId" = String, Path, description = "extId of the dispatch target")),
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
    path: ItemPath,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
    state
        .services
        .delete_app_attestation(&caller, &c, &u, &dt, xtoken.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers a FIDO UAF authenticator of the user, optionally linked to one of the user's
/// dispatch targets.
///
/// Requires `AccessControl.CredentialCreate`, `AccessControl.CredentialChangeState` and
/// `AccessControl.CredentialView`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido-authenticators", tag = "devices",
    security(("bearer" = [])),
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user")),
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
    path: UserPath,
    Body(b): Body<CreateFidoUafBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, u) = path.into_inner();
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
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user"), PageParams),
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
    path: UserPath,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (c, u) = path.into_inner();
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
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user"), ("extId" = String, Path, description = "extId of the FIDO UAF credential")),
    responses(
        (status = 200, description = "The FIDO UAF credential.", body = FidoUafDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, user or FIDO UAF credential.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_fido(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: ItemPath,
) -> Result<HttpResponse, ApiError> {
    let (c, u, id) = path.into_inner();
    let cred = state.services.get_fido_uaf(&caller, &c, &u, &id).await?;
    Ok(ok_tagged(cred.meta.version, &FidoUafDto::from(cred)))
}

/// Deletes one FIDO UAF credential.
///
/// Requires `AccessControl.CredentialDelete`, or the SelfAdmin role with an `X-Token` for
/// one's own.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido-authenticators/{extId}", tag = "devices",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user"), ("extId" = String, Path, description = "extId of the FIDO UAF credential")),
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
    path: ItemPath,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let (c, u, id) = path.into_inner();
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
    params(("clientExtId" = String, Path, description = "extId of the client"),
        ("userExtId" = String, Path, description = "extId of the user"), ("extId" = String, Path, description = "extId of the FIDO UAF credential"), ("dtExtId" = String, Path, description = "extId of the dispatch target")),
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
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (c, u, id, dt) = path.into_inner();
    state
        .services
        .unlink_fido_uaf(&caller, &c, &u, &id, &dt)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
