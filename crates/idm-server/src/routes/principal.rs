//! The principal API: `POST token` (X-Token), `GET me`, `GET permissions`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope};
use crate::dto::{given, require};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body};
use crate::state::AppState;

/// Registers (and documents) the principal routes.
pub fn routes(api: &mut Api) {
    api.add(__path_token, token)
        .add(__path_me, me)
        .add(__path_permissions, permissions);
}

/// Body of `POST principal/token`.
#[derive(Deserialize, ToSchema, Validate)]
pub struct TokenBody {
    /// Required: the caller's own loginId.
    #[schema(max_length = 300, required = true, min_length = 1)]
    #[validate(length(max = 300))]
    username: Option<String>,
    /// Required: the caller's current password.
    #[schema(max_length = 1024, required = true, min_length = 1, format = Password)]
    #[validate(length(max = 1024))]
    password: Option<String>,
    /// Required: `password`.
    #[schema(required = true, value_type = Option<GrantTypeDoc>)]
    grant_type: Option<String>,
}

// Hand-written so a password never reaches a log through `{:?}`.
/// The grant types of the token endpoint (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
#[schema(as = GrantType)]
pub enum GrantTypeDoc {
    /// Username and password of the user.
    Password,
}

impl std::fmt::Debug for TokenBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBody")
            .field("username", &self.username)
            .field("grant_type", &self.grant_type)
            .finish_non_exhaustive()
    }
}

/// The X-Token response.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = XToken)]
pub struct TokenDto {
    /// The X-Token: send it as the `X-Token` header in self-admin calls. It works until it
    /// expires or the user's password changes (created, reset, state changed, unlocked,
    /// locked by failed logins, deleted by an administrator).
    access_token: String,
    /// Always `bearer`.
    #[schema(value_type = String)]
    token_type: &'static str,
    /// Lifetime in seconds.
    expires_in: u64,
}

/// `GET me`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Me)]
pub struct MeDto {
    user_ext_id: String,
    login_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_language_code: Option<String>,
    client_ext_id: String,
    client_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile_ext_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_ext_id: Option<String>,
}

/// `GET permissions`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Permissions)]
pub struct PermissionsDto {
    /// Wire names of the caller's rights, sorted.
    #[schema(value_type = Vec<String>)]
    elementary_permissions: Vec<&'static str>,
}

/// Issues an X-Token to a self-admin who re-enters his password.
#[utoipa::path(post, path = "/nevisidm/api/principal/v1/token", tag = "principal",
    security(("bearer" = [])),
    request_body = TokenBody,
    responses(
        (status = 200, description = "The X-Token (never cached).", body = TokenDto,
            headers(("Cache-Control" = String, description = "`no-store`"),
                ("Pragma" = String, description = "`no-cache`"))),
        (status = 422, description = "`errors.invalidParameter` (a field is missing or not \
            valid) or `errors.userLoginFailed` (wrong grant type, another user's loginId or \
            a wrong password).", body = ErrorEnvelope),
        (status = 429, description = "`errors.reporting.tooManyRequests`: too many password \
            checks for this account (`auth.login_attempts_per_minute_per_account`) or from this \
            address (`auth.login_attempts_per_minute_per_source`); `Retry-After` says when to \
            try again.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        BodyErrors, AuthErrors,
    ))]
async fn token(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    AuthCaller(caller): AuthCaller,
    Body(body): Body<TokenBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[
        ("username", given(&body.username)),
        ("password", given(&body.password)),
        ("grant_type", given(&body.grant_type)),
    ])?;
    let issued = state
        .services
        .principal_token(
            &caller,
            body.username.as_deref().unwrap_or_default(),
            body.password.as_deref().unwrap_or_default(),
            body.grant_type.as_deref().unwrap_or_default(),
            req.peer_addr().map(|a| a.ip()),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenDto {
            access_token: issued.access_token,
            token_type: "bearer",
            expires_in: issued.expires_in,
        }))
}

/// The caller's identity and login profile.
#[utoipa::path(get, path = "/nevisidm/api/principal/v1/me", tag = "principal",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller.", body = MeDto),
        (status = 404, description = "`errors.noRecord`: the caller's user no longer exists.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn me(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
) -> Result<HttpResponse, ApiError> {
    let me = state.services.principal_me(&caller).await?;
    Ok(HttpResponse::Ok().json(MeDto {
        user_ext_id: me.user_ext_id,
        login_id: me.login_id,
        full_name: me.full_name,
        email: me.email,
        display_language_code: me.display_language_code,
        client_ext_id: me.client_ext_id,
        client_name: me.client_name,
        profile_ext_id: me.profile_ext_id,
        unit_ext_id: me.unit_ext_id,
    }))
}

/// The caller's elementary permissions.
#[utoipa::path(get, path = "/nevisidm/api/principal/v1/permissions", tag = "principal",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's rights.", body = PermissionsDto),
        AuthErrors,
    ))]
async fn permissions(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(PermissionsDto {
        elementary_permissions: state.services.principal_permissions(&caller),
    }))
}
