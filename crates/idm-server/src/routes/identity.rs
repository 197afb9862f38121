//! `POST core/:c/identity` (a user with its profile in one transaction) and
//! `POST core/:c/users/:u/archive`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::paths::{ClientPath, UserPath};
use super::profiles::ProfileBody;
use super::users::UserBody;
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope};
use crate::dto::{created, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body};
use crate::state::AppState;

/// Registers (and documents) the identity and archive routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create_identity, create_identity)
        .add(__path_archive, archive);
}

/// Body of `POST core/:c/identity`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct IdentityBody {
    /// The user, as for `POST core/:c/users`.
    #[schema(required = true)]
    #[validate(nested)]
    user: Option<UserBody>,
    /// The user's first profile, as for `POST .../users/:u/profiles` (`unitExtId` required).
    #[schema(required = true)]
    #[validate(nested)]
    profile: Option<ProfileBody>,
}

/// Creates a user and its profile in one transaction: if either part is invalid or cannot be
/// stored, neither exists.
///
/// Requires `AccessControl.UserCreate` and `AccessControl.ProfileCreate` (and
/// `AccessControl.UserCreateTechUser` for a technical user), on the profile's unit.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/identity", tag = "users",
    security(("bearer" = [])),
    params(ClientPath),
    request_body = IdentityBody,
    responses(
        (status = 201, description = "Created; no body; `Location` names the new user.",
            headers(("Location" = String, description = "URL of the new user"))),
        (status = 404, description = "`errors.noRecord`: no such client or unit.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` naming `user`, `profile`, \
            `user.<field>` or `profile.<field>`; `errors.duplicateValue` (loginId or an extId \
            taken); `errors.invalidDateInterval`; `errors.assignProfilelessUnit`.",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_identity(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientPath>,
    Body(body): Body<IdentityBody>,
) -> Result<HttpResponse, ApiError> {
    let ClientPath { client_ext_id } = path.into_inner();
    let (user, profile) = match (body.user, body.profile) {
        (Some(u), Some(p)) => (u, p),
        (None, _) => return Err(idm_domain::DomainError::invalid_fields(&["user"]).into()),
        (_, None) => return Err(idm_domain::DomainError::invalid_fields(&["profile"]).into()),
    };
    let user = state
        .services
        .create_identity(
            &caller,
            &client_ext_id,
            user.into_input(None),
            profile.into_input(None),
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{client_ext_id}/users/{}",
        user.meta.ext_id
    )))
}

/// Archives a user: all its profiles are archived (losing their authorizations) and its
/// credentials deleted. Archived is terminal: later changes answer
/// `errors.modifyArchivedUser`; archiving again changes nothing.
///
/// Requires `AccessControl.UserView` and `AccessControl.UserArchive` (and
/// `AccessControl.UserArchiveTechUser` for a technical user).
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/archive", tag = "users",
    security(("bearer" = [])),
    params(UserPath),
    responses(
        (status = 204, description = "Archived."),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.unsupportedOperation`: a caller archiving \
            itself.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn archive(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id,
        user_ext_id,
    } = path.into_inner();
    state
        .services
        .archive_user(&caller, &client_ext_id, &user_ext_id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
