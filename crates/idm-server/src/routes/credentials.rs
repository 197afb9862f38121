//! The password credential: `POST core/:c/users/:u/password`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::paths::UserPath;
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope};
use crate::dto::require;
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, XToken};
use crate::state::AppState;

/// Registers (and documents) the password route.
pub fn routes(api: &mut Api) {
    api.add(__path_set_password, set_password);
}

/// Body of `POST .../password`.
#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    /// Required, not empty; checked against the password policy.
    #[schema(required = true, min_length = 1, format = Password)]
    password: Option<String>,
}

// Hand-written so the password never reaches a log through `{:?}`.
impl std::fmt::Debug for PasswordBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordBody").finish_non_exhaustive()
    }
}

/// Sets (creates or replaces) a user's password; a self-admin setting his own also sends an
/// X-Token.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password",
    tag = "credentials",
    security(("bearer" = []), ("bearer" = [], "xToken" = [])),
    params(UserPath),
    request_body = PasswordBody,
    responses(
        (status = 204, description = "The password is set."),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (password missing or not \
            valid), `errors.invalidJWTToken` (self-admin mode without a valid X-Token of the \
            caller) or `errors.pwdPolicyViolated` (weak password; `policyViolations` lists \
            the failed rules).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn set_password(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    XToken(xtoken): XToken,
    path: web::Path<UserPath>,
    Body(body): Body<PasswordBody>,
) -> Result<HttpResponse, ApiError> {
    // Not `given`: a password of blanks is the policy's to judge, only absence is a shape error.
    require(&[(
        "password",
        body.password.as_deref().is_some_and(|p| !p.is_empty()),
    )])?;
    let UserPath {
        client_ext_id: client,
        user_ext_id: user,
    } = path.into_inner();
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
