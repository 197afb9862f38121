//! The principal API: `POST token` (X-Token), `GET me`, `GET permissions`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::resource;
use crate::dto::{given, require, PRINCIPAL};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body};
use crate::state::AppState;

/// Registers the principal routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(&format!("{PRINCIPAL}/token")).route(web::post().to(token)))
        .service(resource(&format!("{PRINCIPAL}/me")).route(web::get().to(me)))
        .service(resource(&format!("{PRINCIPAL}/permissions")).route(web::get().to(permissions)));
}

/// Body of `POST principal/token`.
#[derive(Deserialize)]
pub struct TokenBody {
    username: Option<String>,
    password: Option<String>,
    grant_type: Option<String>,
}

// Hand-written so a password never reaches a log through `{:?}`.
impl std::fmt::Debug for TokenBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBody")
            .field("username", &self.username)
            .field("grant_type", &self.grant_type)
            .finish_non_exhaustive()
    }
}

/// The X-Token response.
#[derive(Debug, Serialize)]
pub struct TokenDto {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

/// `GET me`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionsDto {
    elementary_permissions: Vec<&'static str>,
}

async fn token(
    state: web::Data<AppState>,
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

async fn permissions(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(PermissionsDto {
        elementary_permissions: state.services.principal_permissions(&caller),
    }))
}
