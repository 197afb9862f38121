//! The password credential: `POST core/:c/users/:u/password`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::resource;
use crate::dto::{require, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, XToken};
use crate::state::AppState;

/// Registers the password route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&format!(
            "{CORE}/{{clientExtId}}/users/{{userExtId}}/password"
        ))
        .route(web::post().to(set_password)),
    );
}

/// Body of `POST .../password`.
#[derive(Deserialize)]
pub struct PasswordBody {
    password: Option<String>,
}

// Hand-written so the password never reaches a log through `{:?}`.
impl std::fmt::Debug for PasswordBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordBody").finish_non_exhaustive()
    }
}

async fn set_password(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    XToken(xtoken): XToken,
    path: web::Path<(String, String)>,
    Body(body): Body<PasswordBody>,
) -> Result<HttpResponse, ApiError> {
    // Not `given`: a password of blanks is the policy's to judge, only absence is a shape error.
    require(&[(
        "password",
        body.password.as_deref().is_some_and(|p| !p.is_empty()),
    )])?;
    let (client, user) = path.into_inner();
    state
        .services
        .set_password(
            &caller,
            &client,
            &user,
            body.password.unwrap_or_default(),
            xtoken.as_deref(),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
