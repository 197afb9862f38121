//! Credentials: `GET core/:c/users/:u/credentials`, the password lifecycle
//! (`core/:c/users/:u/password`, `/reset`, `/unlock`), `POST auth/v1/:c/users/:u/password/login`,
//! `POST core/:c/users/:u/login-info` and `GET core/system/credential-state-change-reasons`.

use actix_web::{web, HttpResponse};
use idm_domain::credential::{Credential, StateChangeReason};
use idm_domain::values::{now_millis, Validity};
use idm_service::credentials::{CredentialPatch, IssuedPassword, NewPassword};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::paths::UserPath;
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope, PageParams};
use crate::dto::{ok_tagged, require, ts, MetaDto, PageDto, ValidityDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params, XToken};
use crate::state::AppState;

/// `auth` = the nevisIDM authentication API.
pub const AUTH: &str = "/nevisidm/api/auth/v1";

/// Registers (and documents) the credential routes.
pub fn routes(api: &mut Api) {
    api.add(__path_state_change_reasons, state_change_reasons)
        .add(__path_list, list)
        .add(__path_create_password, create_password)
        .add(__path_get_password, get_password)
        .add(__path_patch_password, patch_password)
        .add(__path_delete_password, delete_password)
        .add(__path_reset_password, reset_password)
        .add(__path_unlock_password, unlock_password)
        .add(__path_password_login, password_login)
        .add(__path_login_info, login_info);
}

/// The states of a credential, as on the wire (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
#[schema(as = CredentialState)]
pub enum CredentialStateDoc {
    /// Created or reset.
    #[serde(rename = "initial")]
    Initial,
    /// The normal state.
    #[serde(rename = "active")]
    Active,
    /// Temporarily locked by login failures.
    #[serde(rename = "tmp-locked")]
    TmpLocked,
    /// Locked by login failures until unlocked or reset.
    #[serde(rename = "fail-locked")]
    FailLocked,
    /// Waiting for a reset code.
    #[serde(rename = "reset-code")]
    ResetCode,
    /// Changed by an administrator.
    #[serde(rename = "admin-changed")]
    AdminChanged,
    /// Switched off.
    #[serde(rename = "disabled")]
    Disabled,
    /// Retired.
    #[serde(rename = "archived")]
    Archived,
}

/// A credential of any type as sent to clients: the common fields (never a secret or hash).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Credential)]
pub struct CredentialDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    user_ext_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_ext_id: Option<String>,
    /// The state now: a temporary lock that has run out reads `active`.
    #[schema(value_type = CredentialStateDoc)]
    state_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_change_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_change_detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_successful_login_date: Option<String>,
    successful_login_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_failed_login_date: Option<String>,
    failed_login_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    modification_comment: Option<String>,
    /// `Password`, `Recovery Code`, `OATH`, `FIDO UAF Authenticator`, `FIDO2 Authenticator`.
    #[serde(rename = "type")]
    kind: String,
    validity: ValidityDto,
}

impl From<Credential> for CredentialDto {
    fn from(c: Credential) -> Self {
        let l = &c.login;
        CredentialDto {
            meta: MetaDto::from(&c.meta),
            state_name: l.effective_state(now_millis()).as_str().to_owned(),
            state_change_reason: l.reason.map(|r| r.as_str().to_owned()),
            last_successful_login_date: l.last_success.map(ts),
            successful_login_count: l.success_count,
            last_failed_login_date: l.last_failure.map(ts),
            failed_login_count: l.failure_count,
            ext_id: c.meta.ext_id,
            user_ext_id: c.user_ext_id,
            policy_ext_id: c.policy_ext_id,
            state_change_detail: c.state_change_detail,
            modification_comment: c.modification_comment,
            kind: c.kind.as_str().to_owned(),
            validity: c.validity.into(),
        }
    }
}

/// `{"items": [...]}` of plain strings.
#[derive(Debug, Serialize, ToSchema)]
pub struct StringItems {
    /// The values.
    items: Vec<String>,
}

/// Body of `POST .../password`.
#[derive(Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreatePasswordBody {
    /// Generated when absent.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// The external ID of the password policy to use (stored as given).
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    policy_ext_id: Option<String>,
    /// Initial state; default `active` (`initial` when the policy generates the password).
    #[schema(value_type = Option<CredentialStateDoc>)]
    state_name: Option<String>,
    /// Required unless the policy has `resetCodeEnabled` (then it must be absent).
    #[schema(max_length = 1024, format = Password)]
    #[validate(length(max = 1024))]
    password: Option<String>,
}

// Hand-written so the password never reaches a log through `{:?}`.
impl std::fmt::Debug for CreatePasswordBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatePasswordBody")
            .field("ext_id", &self.ext_id)
            .finish_non_exhaustive()
    }
}

/// `{"passwordFragment"}`: the generated password, shown once.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PasswordFragment)]
pub struct PasswordFragmentDto {
    /// The generated password (idm has no second channel for the rest, so it is whole).
    password_fragment: String,
}

/// Body of `PATCH .../password`: only the fields present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchCredentialBody {
    /// If present, must equal the credential's extId.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    #[schema(value_type = Option<CredentialStateDoc>)]
    state_name: Option<String>,
    /// One of `GET core/system/credential-state-change-reasons`; default: implied by the
    /// change (`changed-by-admin`).
    #[schema(max_length = 64)]
    #[validate(length(max = 64))]
    state_change_reason: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    state_change_detail: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    modification_comment: Option<String>,
    #[schema(value_type = Option<ValidityDto>)]
    validity: Option<Validity>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// Body of `POST auth/v1/.../password/login`.
#[derive(Deserialize, ToSchema, Validate)]
pub struct LoginBody {
    /// Required, not empty.
    #[schema(max_length = 1024, required = true, min_length = 1, format = Password)]
    #[validate(length(max = 1024))]
    password: Option<String>,
}

impl std::fmt::Debug for LoginBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginBody").finish_non_exhaustive()
    }
}

/// The result of a login: HTTP 200 whatever the outcome.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResultDto {
    /// 5 Login Ok, 2 Failed, 3 Failed (lock warning), 9 Failed (now temporarily locked),
    /// 4 Failed (now locked).
    status_code: i32,
    /// Human-readable result.
    description: String,
}

/// Body of `POST core/.../login-info`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct LoginInfoBody {
    /// Required: whether the login counts as successful.
    #[schema(required = true)]
    success: Option<bool>,
    /// A credential of the user that was used (must be usable: `active` or `initial`).
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    credential_ext_id: Option<String>,
}

/// The answer of `POST core/.../login-info`; fields that do not apply are omitted.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginInfoDto {
    /// 0 `Login successful.`; on failure the password-login codes.
    status_code: i32,
    description: String,
    user_ext_id: String,
    client_ext_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_ext_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_last_login: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_last_login_failure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_last_login: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_last_login_failure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_success_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_failure_count: Option<i64>,
}

fn password_location(client: &str, user: &str) -> String {
    format!("{CORE}/{client}/users/{user}/password")
}

/// 201 + `Location` (+ `{"passwordFragment"}` when generated), or `no_fragment` without one.
fn issued(location: String, issued: IssuedPassword, no_fragment: HttpResponse) -> HttpResponse {
    match issued.fragment {
        Some(f) => HttpResponse::Created()
            .insert_header((actix_web::http::header::LOCATION, location))
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .json(PasswordFragmentDto {
                password_fragment: f,
            }),
        None => no_fragment,
    }
}

/// Lists every reason a credential's state may change for.
///
/// Any authenticated caller.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/system/credential-state-change-reasons",
    tag = "credentials",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reasons.", body = StringItems),
        AuthErrors,
    ))]
async fn state_change_reasons(AuthCaller(_caller): AuthCaller) -> HttpResponse {
    HttpResponse::Ok().json(StringItems {
        items: StateChangeReason::ALL
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
    })
}

/// Lists the user's credentials of every type with their common fields, keyset-paged.
///
/// Requires `AccessControl.CredentialView`, or self-admin on the caller's own user.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/credentials",
    tag = "credentials",
    security(("bearer" = [])),
    params(UserPath, PageParams),
    responses(
        (status = 200, description = "A page of credentials.", body = PageDto<CredentialDto>),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_credentials(&caller, &path.client_ext_id, &path.user_ext_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, CredentialDto::from)))
}

/// Creates the user's password (one per user). With `resetCodeEnabled` the server generates
/// it and answers `{"passwordFragment"}`.
///
/// Requires `AccessControl.CredentialCreate` and `AccessControl.CredentialChangeState`, or
/// self-admin on the caller's own user with an X-Token.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password",
    tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserPath),
    request_body = CreatePasswordBody,
    responses(
        // No `body =`: the usual answer has none, and OpenAPI cannot mark content as
        // optional (a documented media type makes every empty 201 non-conforming).
        (status = 201, description = "Created; `Location` names the password; no body. Only \
            when the client's PwdPolicy has `resetCodeEnabled` (the server generates the \
            password) the body is `{\"passwordFragment\": \"...\"}` (schema \
            `PasswordFragment`, as the 201 of `.../password/reset`).",
            headers(("Location" = String, description = "URL of the password"))),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.passwordExists` (the user has one), \
            `errors.pwdPolicyViolated` (`policyViolations` lists the failed rules), \
            `errors.invalidParameter` (password missing, or sent although generated; unknown \
            `stateName`), `errors.duplicateValue` (extId taken) or `errors.invalidJWTToken` \
            (self-admin without a valid X-Token).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_password(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    XToken(xtoken): XToken,
    path: web::Path<UserPath>,
    Body(body): Body<CreatePasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: client,
        user_ext_id: user,
    } = path.into_inner();
    let result = state
        .services
        .create_password(
            &caller,
            &client,
            &user,
            NewPassword {
                ext_id: body.ext_id,
                policy_ext_id: body.policy_ext_id,
                state_name: body.state_name,
                password: body.password,
            },
            xtoken.as_deref(),
        )
        .await?;
    let location = password_location(&client, &user);
    Ok(issued(
        location.clone(),
        result,
        crate::dto::created(location),
    ))
}

/// Reads the user's password credential (the common fields; never the password or its hash).
///
/// Requires `AccessControl.CredentialView`, or self-admin on the caller's own user.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password",
    tag = "credentials",
    security(("bearer" = [])),
    params(UserPath),
    responses(
        (status = 200, description = "The password credential.", body = CredentialDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or user, or `User with \
            extId '...' has no Password credential`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_password(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let c = state
        .services
        .get_password(&caller, &path.client_ext_id, &path.user_ext_id)
        .await?;
    Ok(ok_tagged(c.meta.version, &CredentialDto::from(c)))
}

/// Changes the password credential's state, state-change reason and detail, comment or
/// validity (optimistic locking by `version` or `If-Match`). The password itself cannot be
/// changed here.
///
/// Requires `AccessControl.CredentialView` and `AccessControl.CredentialModify`.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password",
    tag = "credentials",
    security(("bearer" = [])),
    params(UserPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchCredentialBody,
    responses(
        (status = 200, description = "The changed credential.", body = CredentialDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, user or password.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.modifyArchivedCredential`, `errors.modifyExtId`, \
            `errors.invalidDateInterval` or `errors.invalidParameter` (unknown state or \
            reason).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch_password(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PatchCredentialBody>,
) -> Result<HttpResponse, ApiError> {
    let c = state
        .services
        .patch_password(
            &caller,
            &path.client_ext_id,
            &path.user_ext_id,
            CredentialPatch {
                ext_id: body.ext_id,
                state_name: body.state_name,
                state_change_reason: body.state_change_reason,
                state_change_detail: body.state_change_detail,
                modification_comment: body.modification_comment,
                validity: body.validity,
                version: body.version.or(if_match),
            },
        )
        .await?;
    Ok(ok_tagged(c.meta.version, &CredentialDto::from(c)))
}

/// Deletes the user's password.
///
/// Requires `AccessControl.CredentialDelete`, or self-admin on the caller's own user with an
/// X-Token.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password",
    tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserPath),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`errors.noRecord`: no such client, user or password.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidJWTToken`: self-admin without a valid \
            X-Token.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete_password(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    XToken(xtoken): XToken,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .delete_password(
            &caller,
            &path.client_ext_id,
            &path.user_ext_id,
            xtoken.as_deref(),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Resets the password: a new generated password, state `initial`, both counters 0. With
/// `resetCodeEnabled` the answer is 201 `{"passwordFragment"}`, else 204.
///
/// Requires `AccessControl.CredentialView` and `AccessControl.CredentialModify`, or
/// self-admin on the caller's own user with an X-Token.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password/reset",
    tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserPath),
    responses(
        (status = 201, description = "Reset; the generated password.",
            body = PasswordFragmentDto),
        (status = 204, description = "Reset."),
        (status = 404, description = "`errors.noRecord`: no such client, user or password.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: changed concurrently.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.modifyArchivedCredential`, \
            `errors.credentialNotActive` (disabled) or `errors.invalidJWTToken`.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn reset_password(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    XToken(xtoken): XToken,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: client,
        user_ext_id: user,
    } = path.into_inner();
    let result = state
        .services
        .reset_password(&caller, &client, &user, xtoken.as_deref())
        .await?;
    Ok(issued(
        password_location(&client, &user),
        result,
        HttpResponse::NoContent().finish(),
    ))
}

/// Unlocks the password: state `active`, `failedLoginCount` and `successfulLoginCount` 0.
///
/// Requires `AccessControl.CredentialView` and `AccessControl.CredentialModify`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password/unlock",
    tag = "credentials",
    security(("bearer" = [])),
    params(UserPath),
    responses(
        (status = 204, description = "Unlocked."),
        (status = 404, description = "`errors.noRecord`: no such client, user or password.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: changed concurrently.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.modifyArchivedCredential` or \
            `errors.credentialNotActive` (disabled).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn unlock_password(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .unlock_password(&caller, &path.client_ext_id, &path.user_ext_id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Verifies a password and counts the attempt. HTTP 200 for every checked attempt; the
/// `statusCode` tells the result, and repeated failures lock the credential.
///
/// Requires `AccessControl.CredentialView`.
#[utoipa::path(post, path = "/nevisidm/api/auth/v1/{clientExtId}/users/{userExtId}/password/login",
    tag = "credentials",
    security(("bearer" = [])),
    params(UserPath),
    request_body = LoginBody,
    responses(
        (status = 200, description = "Checked; see `statusCode`.", body = LoginResultDto),
        (status = 404, description = "`errors.noRecord`: no such client, user or password.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.credentialNotActive` (locked, disabled or \
            outside its validity; not counted) or `errors.invalidParameter` (password \
            missing).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn password_login(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    Body(body): Body<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[(
        "password",
        body.password.as_deref().is_some_and(|p| !p.is_empty()),
    )])?;
    let status = state
        .services
        .password_login(
            &caller,
            &path.client_ext_id,
            &path.user_ext_id,
            body.password.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(LoginResultDto {
        status_code: status.code(),
        description: status.description().to_owned(),
    }))
}

/// Records a login that happened elsewhere; with `credentialExtId`, counts it on that
/// credential like a login (and may lock it).
///
/// Requires `AccessControl.CredentialModify`, `AccessControl.UserModify`,
/// `AccessControl.UserView` and `AccessControl.CredentialView`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/login-info",
    tag = "credentials",
    security(("bearer" = [])),
    params(UserPath),
    request_body = LoginInfoBody,
    responses(
        (status = 200, description = "Recorded.", body = LoginInfoDto),
        (status = 404, description = "`errors.noRecord`: no such client, user or credential.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.credentialNotActive` or \
            `errors.invalidParameter` (`success` missing).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn login_info(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    Body(body): Body<LoginInfoBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[("success", body.success.is_some())])?;
    let success = body.success.unwrap_or_default();
    let info = state
        .services
        .record_login_info(
            &caller,
            &path.client_ext_id,
            &path.user_ext_id,
            success,
            body.credential_ext_id.as_deref(),
        )
        .await?;
    let at = ts(info.at);
    let c = info.credential.as_ref();
    let when = |ok: bool| (info.success == ok).then(|| at.clone());
    let cred_when = |ok: bool| c.and_then(|_| when(ok));
    Ok(HttpResponse::Ok().json(LoginInfoDto {
        status_code: info.status_code,
        description: info.description.clone(),
        user_ext_id: info.user_ext_id.clone(),
        client_ext_id: info.client_ext_id.clone(),
        credential_ext_id: c.map(|c| c.meta.ext_id.clone()),
        credential_type: c.map(|c| c.kind.as_str().to_owned()),
        user_last_login: when(true),
        user_last_login_failure: when(false),
        credential_last_login: cred_when(true),
        credential_last_login_failure: cred_when(false),
        credential_success_count: c.filter(|_| info.success).map(|c| c.login.success_count),
        credential_failure_count: c.filter(|_| !info.success).map(|c| c.login.failure_count),
    }))
}
