//! Applications (`core/applications`), their roles (`core/applications/:extId/roles`) and
//! authorizations (`core/:c/profiles/:p/authorizations`).

use actix_web::{web, HttpResponse};
use idm_domain::model::{Application, Authorization, Role};
use idm_domain::values::{LanguageMap, Validity};
use idm_service::applications::{
    ApplicationPatch, AuthorizationPatch, NewApplication, NewAuthorization, NewRole,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::paths::{ApplicationPath, AuthorizationPath, AuthorizationsPath, ClientItemPath};
use crate::doc::{
    Api, AuthErrors, BodyErrors, ErrorEnvelope, LanguageMapDoc, ListParams, NamedListFilter,
    PageParams,
};
use crate::dto::{created, given, ok_tagged, require, MetaDto, PageDto, ValidityDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::listing;
use crate::state::AppState;

/// Registers (and documents) the application, role and authorization routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create_application, create_application)
        .add(__path_list_applications, list_applications)
        .add(__path_get_application, get_application)
        .add(__path_create_role, create_role)
        .add(__path_list_roles, list_roles)
        .add(__path_create_authorization, create_authorization)
        .add(__path_list_authorizations, list_authorizations)
        .add(__path_get_authorization, get_authorization)
        .add(__path_delete_authorization, delete_authorization)
        .add(__path_patch_application, patch_application)
        .add(__path_delete_application, delete_application)
        .add(__path_list_client_applications, list_client_applications)
        .add(__path_patch_authorization, patch_authorization);
}

/// Application as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Application)]
pub struct ApplicationDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    displayed: bool,
    #[schema(value_type = LanguageMapDoc)]
    display_name: LanguageMap,
}

impl From<Application> for ApplicationDto {
    fn from(a: Application) -> Self {
        ApplicationDto {
            meta: MetaDto::from(&a.meta),
            ext_id: a.meta.ext_id,
            name: a.name,
            description: a.description,
            url: a.url,
            displayed: a.displayed,
            display_name: a.display_name,
        }
    }
}

/// Role as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Role)]
pub struct RoleDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    application_ext_id: String,
    application_name: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        RoleDto {
            meta: MetaDto::from(&r.meta),
            ext_id: r.meta.ext_id,
            application_ext_id: r.application_ext_id,
            application_name: r.application_name,
            name: r.name,
            description: r.description,
        }
    }
}

/// Authorization as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Authorization)]
pub struct AuthorizationDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    role_ext_id: String,
    client_global: bool,
    unit_global: bool,
    app_global: bool,
    enterprise_role_global: bool,
    validity: ValidityDto,
}

impl From<Authorization> for AuthorizationDto {
    fn from(a: Authorization) -> Self {
        AuthorizationDto {
            meta: MetaDto::from(&a.meta),
            ext_id: a.meta.ext_id,
            role_ext_id: a.role_ext_id,
            client_global: a.client_global,
            unit_global: a.unit_global,
            app_global: a.app_global,
            enterprise_role_global: a.enterprise_role_global,
            validity: ValidityDto::from(a.validity),
        }
    }
}

/// Body of `POST core/applications`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateApplicationBody {
    /// Generated when absent.
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    ext_id: Option<String>,
    /// Required; unique; identifier naming policy (`policy.identifier_regex`).
    #[validate(length(max = 255))]
    #[schema(required = true, min_length = 1, max_length = 255)]
    name: Option<String>,
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    description: Option<String>,
    #[validate(length(max = 2048))]
    #[schema(max_length = 2048)]
    url: Option<String>,
    /// Required: whether portals show the application.
    #[schema(required = true)]
    displayed: Option<bool>,
    /// Keys `EN`, `DE`, `FR`, `IT` only; absent: empty (never `null`).
    #[serde(default)]
    #[validate(custom(function = "crate::validate::language_map"))]
    #[schema(value_type = LanguageMapDoc, required = false)]
    display_name: LanguageMap,
}

/// Body of `POST core/applications/:extId/roles`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateRoleBody {
    /// Generated when absent.
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    ext_id: Option<String>,
    /// Required; unique within the application; identifier naming policy.
    #[validate(length(max = 255))]
    #[schema(required = true, min_length = 1, max_length = 255)]
    name: Option<String>,
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    description: Option<String>,
}

/// Body of `POST core/:c/profiles/:p/authorizations`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateAuthorizationBody {
    /// Generated when absent.
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    ext_id: Option<String>,
    /// Required: the role to grant.
    #[validate(length(max = 255))]
    #[schema(required = true, min_length = 1, max_length = 255)]
    role_ext_id: Option<String>,
    #[serde(default)]
    client_global: bool,
    #[serde(default)]
    unit_global: bool,
    #[serde(default)]
    app_global: bool,
    #[serde(default)]
    enterprise_role_global: bool,
    /// Absent: valid forever (never `null`); `from` must not be after `to`.
    #[serde(default)]
    #[schema(value_type = ValidityDto, required = false)]
    validity: Validity,
}

/// Creates a (global) application.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/applications", tag = "applications",
    security(("bearer" = [])),
    request_body = CreateApplicationBody,
    responses(
        (status = 201, description = "Created; `Location` names the new application.",
            headers(("Location" = String, description = "URL of the new application"))),
        (status = 422, description = "`errors.invalidParameter` (a field is missing or not \
            valid), `errors.identifierPolicyViolated` (name breaks the naming policy), \
            `errors.duplicateName` (name taken) or `errors.duplicateValue` (extId taken).",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_application(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    Body(body): Body<CreateApplicationBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[
        ("name", given(&body.name)),
        ("displayed", body.displayed.is_some()),
    ])?;
    let app = state
        .services
        .create_application(
            &caller,
            NewApplication {
                ext_id: body.ext_id,
                name: body.name.unwrap_or_default(),
                description: body.description,
                url: body.url,
                displayed: body.displayed.unwrap_or_default(),
                display_name: body.display_name,
            },
        )
        .await?;
    Ok(created(format!("{CORE}/applications/{}", app.meta.ext_id)))
}

/// Lists all applications, keyset-paged.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/applications", tag = "applications",
    security(("bearer" = [])),
    params(NamedListFilter, ListParams, PageParams),
    responses(
        (status = 200, description = "A page of applications.", body = PageDto<ApplicationDto>),
        (status = 422, description = "`errors.invalidParameter`: an unknown query parameter or `sortBy` field, or a \
            malformed value (`limit`, `offset`, `continuationToken`, a filter), named in the \
            message.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_applications(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let query = params.list(&listing::APPLICATIONS)?;
    let result = state
        .services
        .list_applications(&caller, query.clone())
        .await?;
    Ok(HttpResponse::Ok().json(listing::page_dto(
        result,
        &query,
        &listing::APPLICATIONS,
        ApplicationDto::from,
    )))
}

/// Reads one application; `ETag` carries its version.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/applications/{extId}", tag = "applications",
    security(("bearer" = [])),
    params(ApplicationPath),
    responses(
        (status = 200, description = "The application.", body = ApplicationDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such application.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_application(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ApplicationPath>,
) -> Result<HttpResponse, ApiError> {
    let app = state
        .services
        .get_application(&caller, &path.ext_id)
        .await?;
    Ok(ok_tagged(app.meta.version, &ApplicationDto::from(app)))
}

/// Creates a role of an application.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/applications/{extId}/roles", tag = "applications",
    security(("bearer" = [])),
    params(ApplicationPath),
    request_body = CreateRoleBody,
    responses(
        (status = 201, description = "Created; `Location` names the new role.",
            headers(("Location" = String, description = "URL of the new role"))),
        (status = 404, description = "`errors.noRecord`: no such application.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a field is missing or not \
            valid), `errors.identifierPolicyViolated` (name breaks the naming policy), \
            `errors.duplicateName` (name taken in the application) or \
            `errors.duplicateValue` (extId taken).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_role(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ApplicationPath>,
    Body(body): Body<CreateRoleBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[("name", given(&body.name))])?;
    let role = state
        .services
        .create_role(
            &caller,
            &path.ext_id,
            NewRole {
                ext_id: body.ext_id,
                name: body.name.unwrap_or_default(),
                description: body.description,
            },
        )
        .await?;
    Ok(created(format!(
        "{CORE}/applications/{}/roles/{}",
        role.application_ext_id, role.meta.ext_id
    )))
}

/// Lists the roles of an application, keyset-paged.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/applications/{extId}/roles", tag = "applications",
    security(("bearer" = [])),
    params(ApplicationPath, NamedListFilter, ListParams, PageParams),
    responses(
        (status = 200, description = "A page of roles.", body = PageDto<RoleDto>),
        (status = 404, description = "`errors.noRecord`: no such application.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: an unknown query parameter or `sortBy` field, or a \
            malformed value (`limit`, `offset`, `continuationToken`, a filter), named in the \
            message.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_roles(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ApplicationPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let query = params.list(&listing::ROLES)?;
    let result = state
        .services
        .list_roles(&caller, &path.ext_id, query.clone())
        .await?;
    Ok(HttpResponse::Ok().json(listing::page_dto(
        result,
        &query,
        &listing::ROLES,
        RoleDto::from,
    )))
}

/// Grants a role to a profile (never a role with rights the caller lacks there).
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/authorizations",
    tag = "applications",
    security(("bearer" = [])),
    params(AuthorizationsPath),
    request_body = CreateAuthorizationBody,
    responses(
        (status = 201, description = "Created; `Location` names the new authorization.",
            headers(("Location" = String, description = "URL of the new authorization"))),
        (status = 404, description = "`errors.noRecord`: no such client, profile or role.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a field is missing or not \
            valid), `errors.invalidDateInterval` (`validity.from` after `validity.to`) or \
            `errors.duplicateValue` (the profile already has the role, or extId taken).",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
        (status = 403, description = "`errors.insufficientRightsFunction` (a right is \
            missing), `errors.combinedDataroomDenied` (the profile is outside the caller's \
            dataroom) or `errors.potentialPrivilegeEscalation` (the role carries a right the \
            caller does not hold on the profile in the requested dataroom).",
            body = ErrorEnvelope),
    ))]
async fn create_authorization(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<AuthorizationsPath>,
    Body(body): Body<CreateAuthorizationBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[("roleExtId", given(&body.role_ext_id))])?;
    let AuthorizationsPath {
        client_ext_id: client,
        profile_ext_id: profile,
    } = path.into_inner();
    let authorization = state
        .services
        .create_authorization(
            &caller,
            &client,
            &profile,
            NewAuthorization {
                ext_id: body.ext_id,
                role_ext_id: body.role_ext_id.unwrap_or_default(),
                client_global: body.client_global,
                unit_global: body.unit_global,
                app_global: body.app_global,
                enterprise_role_global: body.enterprise_role_global,
                validity: body.validity,
            },
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{client}/profiles/{profile}/authorizations/{}",
        authorization.meta.ext_id
    )))
}

/// Lists the authorizations of a profile, keyset-paged (a self-admin may list his own).
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/authorizations",
    tag = "applications",
    security(("bearer" = [])),
    params(AuthorizationsPath, PageParams),
    responses(
        (status = 200, description = "A page of authorizations.",
            body = PageDto<AuthorizationDto>),
        (status = 404, description = "`errors.noRecord`: no such client or profile.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_authorizations(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<AuthorizationsPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let AuthorizationsPath {
        client_ext_id: client,
        profile_ext_id: profile,
    } = path.into_inner();
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_authorizations(&caller, &client, &profile, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, AuthorizationDto::from)))
}

/// Reads one authorization of a profile; `ETag` carries its version.
#[utoipa::path(get,
    path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/authorizations/{extId}",
    tag = "applications",
    security(("bearer" = [])),
    params(AuthorizationPath),
    responses(
        (status = 200, description = "The authorization.", body = AuthorizationDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, profile or \
            authorization (of this profile).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_authorization(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<AuthorizationPath>,
) -> Result<HttpResponse, ApiError> {
    let AuthorizationPath {
        client_ext_id: client,
        profile_ext_id: profile,
        ext_id,
    } = path.into_inner();
    let a = state
        .services
        .get_authorization(&caller, &client, &profile, &ext_id)
        .await?;
    Ok(ok_tagged(a.meta.version, &AuthorizationDto::from(a)))
}

/// Revokes one authorization of a profile (never one with rights the caller lacks there).
#[utoipa::path(delete,
    path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/authorizations/{extId}",
    tag = "applications",
    security(("bearer" = [])),
    params(AuthorizationPath),
    responses(
        (status = 204, description = "Revoked."),
        (status = 422, description = "`errors.unsupportedOperation`: the caller would revoke \
            its own authorization.", body = ErrorEnvelope),
        (status = 404, description = "`errors.noRecord`: no such client, profile or \
            authorization (of this profile).", body = ErrorEnvelope),
        AuthErrors,
        (status = 403, description = "`errors.insufficientRightsFunction` (a right is \
            missing), `errors.combinedDataroomDenied` (the profile is outside the caller's \
            dataroom) or `errors.potentialPrivilegeEscalation` (the role carries a right the \
            caller does not hold on the profile in the requested dataroom).",
            body = ErrorEnvelope),
    ))]
async fn delete_authorization(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<AuthorizationPath>,
) -> Result<HttpResponse, ApiError> {
    let AuthorizationPath {
        client_ext_id: client,
        profile_ext_id: profile,
        ext_id,
    } = path.into_inner();
    state
        .services
        .delete_authorization(&caller, &client, &profile, &ext_id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Body of `PATCH core/applications/:extId`: only the fields present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchApplicationBody {
    /// If present, must equal the addressed extId.
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    ext_id: Option<String>,
    /// Unique; identifier naming policy; `nevisIdm` cannot be renamed.
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    name: Option<String>,
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    description: Option<String>,
    #[validate(length(max = 2048))]
    #[schema(max_length = 2048)]
    url: Option<String>,
    displayed: Option<bool>,
    #[validate(custom(function = "crate::validate::language_map"))]
    #[schema(value_type = Option<LanguageMapDoc>)]
    display_name: Option<LanguageMap>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// Body of `PATCH core/:c/profiles/:p/authorizations/:extId`: the dataroom flags and the
/// validity (`roleExtId` cannot change).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchAuthorizationBody {
    /// If present, must equal the addressed extId.
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    ext_id: Option<String>,
    client_global: Option<bool>,
    unit_global: Option<bool>,
    app_global: Option<bool>,
    enterprise_role_global: Option<bool>,
    /// The new validity (replaces the old one whole).
    #[schema(value_type = Option<ValidityDto>)]
    validity: Option<Validity>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// Changes an application (optimistic locking). Requires `AccessControl.ApplicationView` and
/// `AccessControl.ApplicationModify`.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/applications/{extId}", tag = "applications",
    security(("bearer" = [])),
    params(ApplicationPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchApplicationBody,
    responses(
        (status = 200, description = "The changed application.", body = ApplicationDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such application.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`, `errors.modifyExtId`, \
            `errors.identifierPolicyViolated`, `errors.duplicateName` or \
            `errors.unsupportedOperation` (renaming `nevisIdm`).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch_application(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ApplicationPath>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PatchApplicationBody>,
) -> Result<HttpResponse, ApiError> {
    let app = state
        .services
        .patch_application(
            &caller,
            &path.ext_id,
            ApplicationPatch {
                ext_id: body.ext_id,
                name: body.name,
                description: body.description,
                url: body.url,
                displayed: body.displayed,
                display_name: body.display_name,
                version: body.version.or(if_match),
            },
        )
        .await?;
    Ok(ok_tagged(app.meta.version, &ApplicationDto::from(app)))
}

/// Deletes an application with its roles; refused while one of its roles is granted to a
/// profile or is a member of an enterprise role. Requires `AccessControl.ApplicationDelete`.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/applications/{extId}", tag = "applications",
    security(("bearer" = [])),
    params(ApplicationPath),
    responses(
        (status = 204, description = "Deleted, with its roles."),
        (status = 404, description = "`errors.noRecord`: no such application.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.undeletedDependencies`: a role of the \
            application is still assigned.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete_application(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ApplicationPath>,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .delete_application(&caller, &path.ext_id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists the applications of a client, keyset-paged. Applications are global in idm, so this
/// is every application, once the client exists and is in the caller's dataroom. Requires
/// `AccessControl.ClientView` and `AccessControl.ApplicationView`.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/clients/{extId}/applications",
    tag = "applications",
    security(("bearer" = [])),
    params(ClientItemPath, PageParams),
    responses(
        (status = 200, description = "A page of applications.", body = PageDto<ApplicationDto>),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_client_applications(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientItemPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_client_applications(&caller, &path.ext_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, ApplicationDto::from)))
}

/// Changes the dataroom flags or the validity of an authorization (optimistic locking), under
/// the same anti-escalation guard as granting it. Requires `AccessControl.AuthorizationModify`
/// and `AccessControl.AuthorizationView`.
#[utoipa::path(patch,
    path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/authorizations/{extId}",
    tag = "applications",
    security(("bearer" = [])),
    params(AuthorizationPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchAuthorizationBody,
    responses(
        (status = 200, description = "The changed authorization.", body = AuthorizationDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, profile or \
            authorization (of this profile).", body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`, `errors.modifyExtId` or \
            `errors.invalidDateInterval`.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
        (status = 403, description = "`errors.insufficientRightsFunction` (a right is \
            missing), `errors.combinedDataroomDenied` (the profile is outside the caller's \
            dataroom) or `errors.potentialPrivilegeEscalation` (the role carries a right the \
            caller does not hold on the profile in the old or the new dataroom).",
            body = ErrorEnvelope),
    ))]
async fn patch_authorization(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<AuthorizationPath>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PatchAuthorizationBody>,
) -> Result<HttpResponse, ApiError> {
    let AuthorizationPath {
        client_ext_id: client,
        profile_ext_id: profile,
        ext_id,
    } = path.into_inner();
    let a = state
        .services
        .patch_authorization(
            &caller,
            &client,
            &profile,
            &ext_id,
            AuthorizationPatch {
                ext_id: body.ext_id,
                client_global: body.client_global,
                unit_global: body.unit_global,
                app_global: body.app_global,
                enterprise_role_global: body.enterprise_role_global,
                validity: body.validity,
                version: body.version.or(if_match),
            },
        )
        .await?;
    Ok(ok_tagged(a.meta.version, &AuthorizationDto::from(a)))
}
