//! Second-factor credentials: recovery codes, OATH (`oath-credentials`), FIDO2 (`fido2`), the
//! client-wide FIDO lists, the FIDO UAF PATCH, and the recovery-code and OATH logins of
//! `auth/v1`.

use actix_web::{web, HttpResponse};
use idm_domain::fido2::{
    AttestationConveyancePreference, AuthenticatorAttachment, Fido2Draft, ResidentKeyRequirement,
    UserVerificationRequirement,
};
use idm_domain::otp::{OtpAlgorithm, OtpMethod};
use idm_service::mfa::{
    CreatedOath, Fido2, Fido2Patch, FidoUafPatch, NewFido2, NewOath, Oath, OathPatch, RecoveryCodes,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::credentials::{CredentialDto, CredentialStateDoc};
use super::fido_uaf::FidoUafDto;
use super::paths::{ClientItemPath, UserPath};
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope, PageParams};
use crate::dto::{ok_tagged, DeviceStateDoc, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params, XToken};
use crate::state::AppState;

/// Registers (and documents) the second-factor routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create_recovery_codes, create_recovery_codes)
        .add(__path_get_recovery_codes, get_recovery_codes)
        .add(__path_delete_recovery_codes, delete_recovery_codes)
        .add(__path_recovery_code_login, recovery_code_login)
        .add(__path_create_oath, create_oath)
        .add(__path_list_oath, list_oath)
        .add(__path_get_oath, get_oath)
        .add(__path_patch_oath, patch_oath)
        .add(__path_delete_oath, delete_oath)
        .add(__path_oath_login, oath_login)
        .add(__path_create_fido2, create_fido2)
        .add(__path_list_fido2, list_fido2)
        .add(__path_get_fido2, get_fido2)
        .add(__path_patch_fido2, patch_fido2)
        .add(__path_delete_fido2, delete_fido2)
        .add(__path_list_client_fido2, list_client_fido2)
        .add(__path_list_client_fido_uaf, list_client_fido_uaf)
        .add(__path_patch_fido_uaf, patch_fido_uaf);
}

/// `core/{clientExtId}/users/{userExtId}/{oath-credentials|fido2|fido-authenticators}/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct UserCredentialPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the user
    pub user_ext_id: String,
    /// extId of the credential
    pub ext_id: String,
}

// ----- recovery codes ---------------------------------------------------------------------

/// `POST .../recovery-codes` answer: the codes, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedRecoveryCodesDto {
    /// extId of the recovery-code credential.
    ext_id: String,
    /// 16 single-use codes `xxxx-xxxx-xxxx-xxxx`; never returned again.
    codes: Vec<String>,
}

/// A recovery-code credential: the common credential fields and the number of unused codes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RecoveryCodeCredential)]
pub struct RecoveryCodesDto {
    #[serde(flatten)]
    credential: CredentialDto,
    /// Codes not used yet (0..=16).
    unused_codes: i64,
}

impl From<RecoveryCodes> for RecoveryCodesDto {
    fn from(r: RecoveryCodes) -> Self {
        RecoveryCodesDto {
            credential: CredentialDto::from(r.credential),
            unused_codes: r.unused_codes,
        }
    }
}

/// Creates the user's recovery codes (or regenerates them: every old code stops working).
///
/// Requires `AccessControl.CredentialCreate` and `AccessControl.CredentialModify`, or the
/// SelfAdmin role with an `X-Token` for one's own.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/recovery-codes", tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserPath),
    responses(
        (status = 201, description = "Created; the 16 codes are in the body, this once.",
            body = CreatedRecoveryCodesDto,
            headers(("Location" = String, description = "URL of the recovery codes"))),
        (status = 404, description = "`errors.noRecord`: no such client or user.", body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: a concurrent \
            regeneration won.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidJWTToken`: self-admin mode without a \
            valid `X-Token`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn create_recovery_codes(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    let created = state
        .services
        .create_recovery_codes(&caller, &c, &u, xtoken.as_deref())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("{CORE}/{c}/users/{u}/recovery-codes"),
        ))
        // The codes are shown once: no cache may keep them.
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(CreatedRecoveryCodesDto {
            ext_id: created.credential.meta.ext_id,
            codes: created.codes,
        }))
}

/// Reads the user's recovery-code credential and how many codes are unused (never a code).
///
/// Requires `AccessControl.CredentialView`, or the SelfAdmin role with an `X-Token` for
/// one's own.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/recovery-codes", tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserPath),
    responses(
        (status = 200, description = "The credential.", body = RecoveryCodesDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or user, or the user \
            has no recovery codes.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidJWTToken`: self-admin mode without a \
            valid `X-Token`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_recovery_codes(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    let r = state
        .services
        .get_recovery_codes(&caller, &c, &u, xtoken.as_deref())
        .await?;
    Ok(ok_tagged(
        r.credential.meta.version,
        &RecoveryCodesDto::from(r),
    ))
}

/// Deletes the user's recovery codes.
///
/// Requires `AccessControl.CredentialDelete`, or the SelfAdmin role with an `X-Token` for
/// one's own.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/recovery-codes", tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserPath),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`errors.noRecord`: no such client or user, or the user \
            has no recovery codes.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidJWTToken`: self-admin mode without a \
            valid `X-Token`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete_recovery_codes(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    state
        .services
        .delete_recovery_codes(&caller, &c, &u, xtoken.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Body of the recovery-code and OATH logins.
#[derive(Debug, Deserialize, ToSchema, Validate)]
pub struct CodeLoginBody {
    /// The code the user entered.
    #[schema(max_length = 64, required = true, min_length = 1)]
    #[validate(length(max = 64))]
    code: Option<String>,
}

fn required_code(body: CodeLoginBody) -> Result<String, ApiError> {
    match body.code {
        Some(c) if !c.trim().is_empty() && c.len() <= 256 => Ok(c),
        _ => Err(idm_domain::DomainError::invalid_fields(&["code"]).into()),
    }
}

/// Logs in with a recovery code; each code works exactly once.
///
/// Requires `AccessControl.CredentialView`.
#[utoipa::path(post, path = "/nevisidm/api/auth/v1/{clientExtId}/users/{userExtId}/recovery-codes/login", tag = "login",
    security(("bearer" = [])),
    params(UserPath),
    request_body = CodeLoginBody,
    responses(
        (status = 204, description = "Authentication successful; the code is consumed."),
        (status = 404, description = "`errors.noRecord`: no such client or user, or the user \
            has no recovery codes.", body = ErrorEnvelope),
        (status = 422, description = "`errors.userLoginFailed` (wrong or used code; counted \
            toward the lockout), `errors.credentialNotActive` (locked, disabled or outside \
            its validity; not counted) or `errors.invalidParameter` (`code` missing).",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn recovery_code_login(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    Body(body): Body<CodeLoginBody>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    let code = required_code(body)?;
    state
        .services
        .recovery_code_login(&caller, &c, &u, &code)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ----- OATH ------------------------------------------------------------------------------

/// OATH credential as sent to clients: the common fields and the OTP parameters (never the
/// secret).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OathCredential)]
pub struct OathDto {
    #[serde(flatten)]
    credential: CredentialDto,
    /// The label shown by the authenticator app.
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    /// `TOTP` or `HOTP`.
    #[schema(value_type = String, example = "TOTP")]
    method: OtpMethod,
    /// `SHA1`, `SHA256` or `SHA512`.
    #[schema(value_type = String, example = "SHA1")]
    algorithm: OtpAlgorithm,
    /// 6, 7 or 8.
    digits: u32,
    /// Seconds per step (TOTP).
    period: u64,
}

impl From<Oath> for OathDto {
    fn from(o: Oath) -> Self {
        let p = o.detail.params;
        OathDto {
            label: o.credential.context.clone(),
            credential: CredentialDto::from(o.credential),
            method: p.method,
            algorithm: p.algorithm,
            digits: p.digits,
            period: p.period,
        }
    }
}

/// `POST .../oath-credentials` answer: the credential and the one-time provisioning URI.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedOathDto {
    #[serde(flatten)]
    oath: OathDto,
    /// `otpauth://…` for the authenticator app; the only place the secret ever appears.
    otpauth_uri: String,
}

impl From<CreatedOath> for CreatedOathDto {
    fn from(c: CreatedOath) -> Self {
        CreatedOathDto {
            oath: OathDto::from(c.oath),
            otpauth_uri: c.otpauth_uri,
        }
    }
}

/// Body of `POST .../oath-credentials`.
/// How an OATH credential counts (idm extension, documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
#[schema(as = OathMethod)]
pub enum OathMethodDoc {
    /// Time-based (RFC 6238), the default.
    TOTP,
    /// Counter-based (RFC 4226).
    HOTP,
}

/// The HMAC of an OATH credential (idm extension, documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
#[schema(as = OathAlgorithm)]
pub enum OathAlgorithmDoc {
    /// The default.
    SHA1,
    /// HMAC-SHA-256.
    SHA256,
    /// HMAC-SHA-512.
    SHA512,
}

/// Where a FIDO2 authenticator lives (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
#[schema(as = AuthenticatorAttachment)]
pub enum AuthenticatorAttachmentDoc {
    /// Built into the device.
    Platform,
    /// Roaming (a security key).
    Crossplatform,
}

/// The attestation a FIDO2 registration asked for (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
#[schema(as = AttestationConveyancePreference)]
pub enum AttestationConveyanceDoc {
    /// The authenticator's own attestation.
    Direct,
    /// An anonymised attestation.
    Indirect,
    /// No attestation.
    None,
    /// An enterprise attestation.
    Enterprise,
}

/// A FIDO2 requirement level (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
#[schema(as = Fido2Requirement)]
pub enum RequirementDoc {
    /// Must.
    Required,
    /// Should.
    Preferred,
    /// Should not.
    Discouraged,
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateOathBody {
    /// Generated when absent.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// Stored with the credential.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    policy_ext_id: Option<String>,
    /// Required: the label shown by the authenticator app (embedded in the URI).
    #[schema(required = true, min_length = 1, max_length = 255)]
    #[validate(length(max = 255))]
    label: Option<String>,
    /// Initial state (`active` when absent).
    #[schema(value_type = Option<CredentialStateDoc>)]
    state_name: Option<String>,
    /// idm extension until OATH policies exist: `TOTP` (default) or `HOTP`.
    #[schema(value_type = Option<OathMethodDoc>)]
    method: Option<String>,
    /// idm extension: `SHA1` (default), `SHA256`, `SHA512`.
    #[schema(value_type = Option<OathAlgorithmDoc>)]
    algorithm: Option<String>,
    /// idm extension: 6 (default), 7 or 8.
    digits: Option<u32>,
    /// idm extension: seconds per TOTP step (30).
    period: Option<u64>,
}

/// Creates an OATH (TOTP/HOTP) credential with a server-generated secret.
///
/// Requires `AccessControl.CredentialCreate`, `AccessControl.CredentialView` and
/// `AccessControl.PolicyConfigurationView`, or the SelfAdmin role with an `X-Token`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials", tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserPath),
    request_body = CreateOathBody,
    responses(
        (status = 201, description = "Created; `otpauthUri` carries the secret, this once.",
            body = CreatedOathDto,
            headers(("Location" = String, description = "URL of the new OATH credential"))),
        (status = 404, description = "`errors.noRecord`: no such client or user.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (`label` missing, bad state or \
            OTP parameter), `errors.duplicateValue` (extId taken), `errors.invalidConfig` (no \
            `credentials.encryption_key` configured) or `errors.invalidJWTToken`.",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_oath(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    XToken(xtoken): XToken,
    Body(b): Body<CreateOathBody>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    let created = state
        .services
        .create_oath(
            &caller,
            &c,
            &u,
            NewOath {
                ext_id: b.ext_id,
                policy_ext_id: b.policy_ext_id,
                label: b.label,
                state_name: b.state_name,
                method: b.method,
                algorithm: b.algorithm,
                digits: b.digits,
                period: b.period,
            },
            xtoken.as_deref(),
        )
        .await?;
    let location = format!(
        "{CORE}/{c}/users/{u}/oath-credentials/{}",
        created.oath.credential.meta.ext_id
    );
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(CreatedOathDto::from(created)))
}

/// Lists the user's OATH credentials (no URI, no secret).
///
/// Requires `AccessControl.CredentialView`, or the SelfAdmin role for one's own.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials", tag = "credentials",
    security(("bearer" = [])),
    params(UserPath, PageParams),
    responses(
        (status = 200, description = "A page of OATH credentials.", body = PageDto<OathDto>),
        (status = 404, description = "`errors.noRecord`: no such client or user.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_oath(
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
    let result = state.services.list_oath(&caller, &c, &u, page).await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, OathDto::from)))
}

/// Reads one OATH credential (no URI, no secret).
///
/// Requires `AccessControl.CredentialView`, or the SelfAdmin role for one's own.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials/{extId}", tag = "credentials",
    security(("bearer" = [])),
    params(UserCredentialPath),
    responses(
        (status = 200, description = "The OATH credential.", body = OathDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, user or OATH \
            credential.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_oath(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserCredentialPath>,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    let o = state
        .services
        .get_oath(&caller, &p.client_ext_id, &p.user_ext_id, &p.ext_id)
        .await?;
    Ok(ok_tagged(o.credential.meta.version, &OathDto::from(o)))
}

/// Body of `PATCH .../oath-credentials/:extId`: only the fields present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchOathBody {
    /// If present, must equal the addressed extId.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    #[schema(value_type = Option<CredentialStateDoc>)]
    state_name: Option<String>,
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    policy_ext_id: Option<String>,
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    label: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    modification_comment: Option<String>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// Changes label, state, policy or comment of an OATH credential.
///
/// Requires `AccessControl.CredentialModify` and `AccessControl.CredentialView`, or the
/// SelfAdmin role with an `X-Token` for one's own.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials/{extId}", tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserCredentialPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchOathBody,
    responses(
        (status = 200, description = "The changed OATH credential.", body = OathDto),
        (status = 404, description = "`errors.noRecord`: no such client, user or OATH \
            credential.", body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`, `errors.modifyExtId`, \
            `errors.modifyArchivedCredential` or `errors.invalidJWTToken`.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch_oath(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserCredentialPath>,
    IfMatch(if_match): IfMatch,
    XToken(xtoken): XToken,
    Body(b): Body<PatchOathBody>,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    let o = state
        .services
        .patch_oath(
            &caller,
            &p.client_ext_id,
            &p.user_ext_id,
            &p.ext_id,
            OathPatch {
                ext_id: b.ext_id,
                state_name: b.state_name,
                policy_ext_id: b.policy_ext_id,
                label: b.label,
                modification_comment: b.modification_comment,
                version: b.version.or(if_match),
            },
            xtoken.as_deref(),
        )
        .await?;
    Ok(ok_tagged(o.credential.meta.version, &OathDto::from(o)))
}

/// Deletes an OATH credential.
///
/// Requires `AccessControl.CredentialDelete`, or the SelfAdmin role with an `X-Token` for
/// one's own.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/oath-credentials/{extId}", tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserCredentialPath),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`errors.noRecord`: no such client, user or OATH \
            credential.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidJWTToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete_oath(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserCredentialPath>,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    state
        .services
        .delete_oath(
            &caller,
            &p.client_ext_id,
            &p.user_ext_id,
            &p.ext_id,
            xtoken.as_deref(),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Login answer: `{"statusCode", "description"}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OathLoginDto {
    /// 5 Login Ok, 2 Failed, 3 lock warning, 9 now temporarily locked, 4 now locked.
    status_code: i32,
    /// The status in words.
    description: String,
}

/// Checks a TOTP/HOTP code (idm extension): drift ±1 step, a code is never accepted twice.
///
/// Requires `AccessControl.CredentialView`.
#[utoipa::path(post, path = "/nevisidm/api/auth/v1/{clientExtId}/users/{userExtId}/oath/login", tag = "login",
    security(("bearer" = [])),
    params(UserPath),
    request_body = CodeLoginBody,
    responses(
        (status = 200, description = "The outcome; a 200 does not mean success: check \
            `statusCode`.", body = OathLoginDto),
        (status = 404, description = "`errors.noRecord`: no such client or user, or the user \
            has no OATH credential.", body = ErrorEnvelope),
        (status = 422, description = "`errors.credentialNotActive` (locked, disabled or \
            outside its validity; not counted), `errors.invalidParameter` (`code` missing).",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn oath_login(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    Body(body): Body<CodeLoginBody>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    let code = required_code(body)?;
    let status = state.services.oath_login(&caller, &c, &u, &code).await?;
    Ok(HttpResponse::Ok().json(OathLoginDto {
        status_code: status.code(),
        description: status.description().to_owned(),
    }))
}

// ----- FIDO2 -----------------------------------------------------------------------------

/// FIDO2 credential as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Fido2Credential)]
pub struct Fido2Dto {
    #[serde(flatten)]
    credential: CredentialDto,
    aaguid: String,
    authenticator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "platform")]
    authenticator_attachment: Option<AuthenticatorAttachment>,
    #[schema(value_type = String, example = "none")]
    attestation_conveyance_preference: AttestationConveyancePreference,
    hashed_credential_id: String,
    rp_id: String,
    #[schema(value_type = String, example = "required")]
    resident_key_requirement: ResidentKeyRequirement,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_friendly_name: Option<String>,
    #[schema(value_type = String, example = "preferred")]
    user_verification_requirement: UserVerificationRequirement,
}

impl From<Fido2> for Fido2Dto {
    fn from(f: Fido2) -> Self {
        let d = f.details;
        Fido2Dto {
            credential: CredentialDto::from(f.credential),
            aaguid: d.aaguid,
            authenticator: d.authenticator,
            authenticator_attachment: d.authenticator_attachment,
            attestation_conveyance_preference: d.attestation_conveyance_preference,
            hashed_credential_id: d.hashed_credential_id,
            rp_id: d.rp_id,
            resident_key_requirement: d.resident_key_requirement,
            user_agent: d.user_agent,
            user_friendly_name: d.user_friendly_name,
            user_verification_requirement: d.user_verification_requirement,
        }
    }
}

/// Body of `POST .../fido2`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateFido2Body {
    /// Generated when absent.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// Required: make and model of the authenticator.
    #[schema(max_length = 255, required = true, min_length = 1)]
    #[validate(length(max = 255))]
    aaguid: Option<String>,
    /// Required: the authenticator data (may contain the credential id); at most 4096 bytes.
    #[schema(max_length = 4096, required = true, min_length = 1)]
    #[validate(length(max = 4096))]
    authenticator: Option<String>,
    /// `platform` or `crossplatform`.
    #[schema(value_type = Option<AuthenticatorAttachmentDoc>)]
    authenticator_attachment: Option<String>,
    /// Required: `direct`, `indirect`, `none` or `enterprise`.
    #[schema(required = true, value_type = Option<AttestationConveyanceDoc>)]
    attestation_conveyance_preference: Option<String>,
    /// Required: unique within the client.
    #[schema(max_length = 1024, required = true, min_length = 1)]
    #[validate(length(max = 1024))]
    hashed_credential_id: Option<String>,
    /// Required: the relying party's domain.
    #[schema(max_length = 255, required = true, min_length = 1)]
    #[validate(length(max = 255))]
    rp_id: Option<String>,
    /// Required: `required` or `discouraged`.
    #[schema(required = true, value_type = Option<RequirementDoc>)]
    resident_key_requirement: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    user_agent: Option<String>,
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    user_friendly_name: Option<String>,
    /// Required: `required`, `preferred` or `discouraged`.
    #[schema(required = true, value_type = Option<RequirementDoc>)]
    user_verification_requirement: Option<String>,
    /// Initial state (`active` when absent).
    #[schema(value_type = Option<CredentialStateDoc>)]
    state_name: Option<String>,
}

/// Stores a registered FIDO2 authenticator of the user.
///
/// Requires `AccessControl.CredentialCreate`, `AccessControl.CredentialChangeState` and
/// `AccessControl.CredentialView`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido2", tag = "credentials",
    security(("bearer" = [])),
    params(UserPath),
    request_body = CreateFido2Body,
    responses(
        (status = 201, description = "Created; `Location` names the new credential.",
            headers(("Location" = String, description = "URL of the new FIDO2 credential"))),
        (status = 404, description = "`errors.noRecord`: no such client or user.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a mandatory field missing or \
            an unknown enum value) or `errors.duplicateValue` (extId or hashedCredentialId \
            taken).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_fido2(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    Body(b): Body<CreateFido2Body>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    let f = state
        .services
        .create_fido2(
            &caller,
            &c,
            &u,
            NewFido2 {
                ext_id: b.ext_id,
                state_name: b.state_name,
                draft: Fido2Draft {
                    aaguid: b.aaguid,
                    authenticator: b.authenticator,
                    authenticator_attachment: b.authenticator_attachment,
                    attestation_conveyance_preference: b.attestation_conveyance_preference,
                    hashed_credential_id: b.hashed_credential_id,
                    rp_id: b.rp_id,
                    resident_key_requirement: b.resident_key_requirement,
                    user_agent: b.user_agent,
                    user_friendly_name: b.user_friendly_name,
                    user_verification_requirement: b.user_verification_requirement,
                },
            },
        )
        .await?;
    Ok(crate::dto::created(format!(
        "{CORE}/{c}/users/{u}/fido2/{}",
        f.credential.meta.ext_id
    )))
}

/// Lists the user's FIDO2 credentials.
///
/// Requires `AccessControl.CredentialView`, or the SelfAdmin role for one's own.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido2", tag = "credentials",
    security(("bearer" = [])),
    params(UserPath, PageParams),
    responses(
        (status = 200, description = "A page of FIDO2 credentials.", body = PageDto<Fido2Dto>),
        (status = 404, description = "`errors.noRecord`: no such client or user.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_fido2(
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
    let result = state.services.list_fido2(&caller, &c, &u, page).await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, Fido2Dto::from)))
}

/// Reads one FIDO2 credential.
///
/// Requires `AccessControl.CredentialView`, or the SelfAdmin role for one's own.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido2/{extId}", tag = "credentials",
    security(("bearer" = [])),
    params(UserCredentialPath),
    responses(
        (status = 200, description = "The FIDO2 credential.", body = Fido2Dto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, user or FIDO2 \
            credential.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_fido2(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserCredentialPath>,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    let f = state
        .services
        .get_fido2(&caller, &p.client_ext_id, &p.user_ext_id, &p.ext_id)
        .await?;
    Ok(ok_tagged(f.credential.meta.version, &Fido2Dto::from(f)))
}

/// Body of `PATCH .../fido2/:extId`: only the fields present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchFido2Body {
    /// If present, must equal the addressed extId.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    #[schema(max_length = 4096)]
    #[validate(length(max = 4096))]
    authenticator: Option<String>,
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    user_friendly_name: Option<String>,
    #[schema(value_type = Option<CredentialStateDoc>)]
    state_name: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    modification_comment: Option<String>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// Changes authenticator, display name, state or comment of a FIDO2 credential.
///
/// Requires `AccessControl.CredentialView` and `AccessControl.CredentialModify`, or the
/// SelfAdmin role with an `X-Token` for one's own.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido2/{extId}", tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserCredentialPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchFido2Body,
    responses(
        (status = 200, description = "The changed FIDO2 credential.", body = Fido2Dto),
        (status = 404, description = "`errors.noRecord`: no such client, user or FIDO2 \
            credential.", body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`, `errors.modifyExtId`, \
            `errors.modifyArchivedCredential` or `errors.invalidJWTToken`.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch_fido2(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserCredentialPath>,
    IfMatch(if_match): IfMatch,
    XToken(xtoken): XToken,
    Body(b): Body<PatchFido2Body>,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    let f = state
        .services
        .patch_fido2(
            &caller,
            &p.client_ext_id,
            &p.user_ext_id,
            &p.ext_id,
            Fido2Patch {
                ext_id: b.ext_id,
                authenticator: b.authenticator,
                user_friendly_name: b.user_friendly_name,
                state_name: b.state_name,
                modification_comment: b.modification_comment,
                version: b.version.or(if_match),
            },
            xtoken.as_deref(),
        )
        .await?;
    Ok(ok_tagged(f.credential.meta.version, &Fido2Dto::from(f)))
}

/// Deletes a FIDO2 credential.
///
/// Requires `AccessControl.CredentialDelete`, or the SelfAdmin role with an `X-Token` for
/// one's own.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido2/{extId}", tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserCredentialPath),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`errors.noRecord`: no such client, user or FIDO2 \
            credential.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidJWTToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete_fido2(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserCredentialPath>,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    state
        .services
        .delete_fido2(
            &caller,
            &p.client_ext_id,
            &p.user_ext_id,
            &p.ext_id,
            xtoken.as_deref(),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists every FIDO2 credential of a client, keyset-paged.
///
/// Requires `AccessControl.ClientView` and `AccessControl.CredentialView`.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/clients/{extId}/fido2", tag = "credentials",
    security(("bearer" = [])),
    params(ClientItemPath, PageParams),
    responses(
        (status = 200, description = "A page of FIDO2 credentials.", body = PageDto<Fido2Dto>),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_client_fido2(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientItemPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_client_fido2(&caller, &path.ext_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, Fido2Dto::from)))
}

/// Lists every FIDO UAF credential of a client, keyset-paged.
///
/// Requires `AccessControl.ClientView` and `AccessControl.CredentialView`.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/clients/{extId}/fido-uaf", tag = "devices",
    security(("bearer" = [])),
    params(ClientItemPath, PageParams),
    responses(
        (status = 200, description = "A page of FIDO UAF credentials.",
            body = PageDto<FidoUafDto>),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_client_fido_uaf(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientItemPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_client_fido_uaf(&caller, &path.ext_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, FidoUafDto::from)))
}

/// Body of `PATCH .../fido-authenticators/:extId`: only the fields present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchFidoUafBody {
    /// If present, must equal the addressed extId.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    #[schema(value_type = Option<DeviceStateDoc>)]
    state_name: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    modification_comment: Option<String>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// Changes the state or comment of a FIDO UAF credential.
///
/// Requires `AccessControl.CredentialView` and `AccessControl.CredentialModify`, or the
/// SelfAdmin role with an `X-Token` for one's own.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/fido-authenticators/{extId}", tag = "devices",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserCredentialPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchFidoUafBody,
    responses(
        (status = 200, description = "The changed credential (common credential fields).",
            body = CredentialDto),
        (status = 404, description = "`errors.noRecord`: no such client, user or FIDO UAF \
            credential.", body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`, `errors.modifyExtId`, \
            `errors.modifyArchivedCredential` or `errors.invalidJWTToken`.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch_fido_uaf(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserCredentialPath>,
    IfMatch(if_match): IfMatch,
    XToken(xtoken): XToken,
    Body(b): Body<PatchFidoUafBody>,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    let c = state
        .services
        .patch_fido_uaf(
            &caller,
            &p.client_ext_id,
            &p.user_ext_id,
            &p.ext_id,
            FidoUafPatch {
                ext_id: b.ext_id,
                state_name: b.state_name,
                modification_comment: b.modification_comment,
                version: b.version.or(if_match),
            },
            xtoken.as_deref(),
        )
        .await?;
    Ok(ok_tagged(c.meta.version, &CredentialDto::from(c)))
}
