//! Enterprise roles (`core/:c/eroles`, `core/clients/:extId/eroles`), their member roles
//! (`.../eroles/:e/roles/:roleExtId`), enterprise authorizations on profiles
//! (`core/:c/profiles/:p/eauthorizations`) and a profile's effective roles
//! (`core/:c/profiles/:p/roles`).

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use idm_domain::model::{EnterpriseAuthorization, EnterpriseRole};
use idm_domain::values::{LanguageMap, Validity};
use idm_service::eroles::{
    EnterpriseAuthorizationPatch, EnterpriseRolePatch, NewEnterpriseAuthorization,
    NewEnterpriseRole,
};
use idm_service::properties::WithProperties;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::applications::RoleDto;
use super::paths::{
    AuthorizationsPath, ClientItemPath, ClientPath, EnterpriseAuthorizationPath,
    EnterpriseRoleMemberPath, EnterpriseRolePath, ProfilePath,
};
use super::properties::patch_of;
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope, LanguageMapDoc, PageParams};
use crate::dto::{created, given, ok_tagged, require, MetaDto, PageDto, ValidityDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::state::AppState;

/// Registers (and documents) the enterprise-role routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create_erole, create_erole)
        .add(__path_list_eroles, list_eroles)
        .add(__path_get_erole, get_erole)
        .add(__path_patch_erole, patch_erole)
        .add(__path_delete_erole, delete_erole)
        .add(__path_assign_member, assign_member)
        .add(__path_remove_member, remove_member)
        .add(__path_create_eauthorization, create_eauthorization)
        .add(__path_list_eauthorizations, list_eauthorizations)
        .add(__path_get_eauthorization, get_eauthorization)
        .add(__path_patch_eauthorization, patch_eauthorization)
        .add(__path_delete_eauthorization, delete_eauthorization)
        .add(__path_list_profile_roles, list_profile_roles);
}

/// Enterprise role as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EnterpriseRole)]
pub struct EnterpriseRoleDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    client_ext_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[schema(value_type = LanguageMapDoc)]
    display_name: LanguageMap,
    /// Custom property values (`ENTERPRISE_ROLE_GLOBAL`), name → value; left out when the
    /// caller may not read them (`PropertyValueView`) and in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<BTreeMap<String, String>>,
}

impl EnterpriseRoleDto {
    /// The enterprise role with the property values its reader may see.
    fn with(w: WithProperties<EnterpriseRole>) -> Self {
        EnterpriseRoleDto {
            properties: w.properties,
            ..EnterpriseRoleDto::from(w.entity)
        }
    }
}

impl From<EnterpriseRole> for EnterpriseRoleDto {
    fn from(e: EnterpriseRole) -> Self {
        EnterpriseRoleDto {
            meta: MetaDto::from(&e.meta),
            ext_id: e.meta.ext_id,
            client_ext_id: e.client_ext_id,
            name: e.name,
            description: e.description,
            display_name: e.display_name,
            properties: None,
        }
    }
}

/// Enterprise authorization as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EnterpriseAuthorization)]
pub struct EnterpriseAuthorizationDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    enterprise_role_ext_id: String,
    validity: ValidityDto,
}

impl From<EnterpriseAuthorization> for EnterpriseAuthorizationDto {
    fn from(a: EnterpriseAuthorization) -> Self {
        EnterpriseAuthorizationDto {
            meta: MetaDto::from(&a.meta),
            ext_id: a.meta.ext_id,
            enterprise_role_ext_id: a.enterprise_role_ext_id,
            validity: ValidityDto::from(a.validity),
        }
    }
}

/// Body of `POST core/:c/eroles`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateEroleBody {
    /// Generated when absent.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// Required; unique within the client; identifier naming policy.
    #[validate(length(max = 255))]
    #[schema(required = true, min_length = 1, max_length = 255)]
    name: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    description: Option<String>,
    /// Keys `EN`, `DE`, `FR`, `IT` only; absent: empty.
    #[serde(default)]
    #[schema(value_type = LanguageMapDoc, required = false)]
    #[validate(custom(function = "crate::validate::language_map"))]
    display_name: LanguageMap,
    /// Custom property values (`ENTERPRISE_ROLE_GLOBAL`), name → value; mandatory properties
    /// are required.
    #[schema(value_type = Option<BTreeMap<String, crate::validate::MapValueText>>)]
    #[validate(custom(function = "crate::validate::text_map"))]
    properties: Option<BTreeMap<String, Option<String>>>,
}

/// Body of `PATCH core/:c/eroles/:extId`: only the fields present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchEroleBody {
    /// If present, must equal the addressed extId (it cannot be changed).
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// Unique within the client; identifier naming policy.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    name: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    description: Option<String>,
    #[schema(value_type = Option<LanguageMapDoc>)]
    #[validate(custom(function = "crate::validate::language_map"))]
    display_name: Option<LanguageMap>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
    /// Custom property values, name → value; `null` or `""` removes one, names not sent stay.
    #[schema(value_type = Option<BTreeMap<String, crate::validate::MapValueText>>)]
    #[validate(custom(function = "crate::validate::text_map"))]
    properties: Option<BTreeMap<String, Option<String>>>,
}

/// Body of `POST core/:c/profiles/:p/eauthorizations`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateEauthorizationBody {
    /// Generated when absent.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// Required: the enterprise role (of the profile's client) to assign.
    #[schema(max_length = 255, required = true, min_length = 1)]
    #[validate(length(max = 255))]
    enterprise_role_ext_id: Option<String>,
    /// Absent: valid forever; `from` must not be after `to`.
    #[serde(default)]
    #[schema(value_type = ValidityDto, required = false)]
    validity: Validity,
}

/// Body of `PATCH core/:c/profiles/:p/eauthorizations/:extId`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchEauthorizationBody {
    /// If present, must equal the addressed extId.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// The new validity (replaces the old one whole).
    #[schema(value_type = Option<ValidityDto>)]
    validity: Option<Validity>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// Creates an (empty) enterprise role of the client, with the property values sent. Requires
/// `AccessControl.EnterpriseRoleCreate` (and `AccessControl.PropertyValueCreate` for values).
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/eroles", tag = "eroles",
    security(("bearer" = [])),
    params(ClientPath),
    request_body = CreateEroleBody,
    responses(
        (status = 201, description = "Created; `Location` names the new enterprise role.",
            headers(("Location" = String, description = "URL of the new enterprise role"))),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a field is missing or not \
            valid), `errors.identifierPolicyViolated` (name breaks the naming policy), \
            `errors.duplicateName` (name taken in the client), `errors.duplicateValue` \
            (extId taken), or a property error as for user properties (unknown \
            `properties.<name>`, `errors.property.stringmaxlen`, ...).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_erole(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientPath>,
    Body(mut body): Body<CreateEroleBody>,
) -> Result<HttpResponse, ApiError> {
    let properties = patch_of(body.properties.take().unwrap_or_default());
    require(&[("name", given(&body.name))])?;
    let ClientPath { client_ext_id } = path.into_inner();
    let erole = state
        .services
        .create_erole(
            &caller,
            &client_ext_id,
            NewEnterpriseRole {
                ext_id: body.ext_id,
                name: body.name.unwrap_or_default(),
                description: body.description,
                display_name: body.display_name,
                properties: Some(properties),
            },
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{client_ext_id}/eroles/{}",
        erole.meta.ext_id
    )))
}

/// Lists the client's enterprise roles, keyset-paged. Requires `AccessControl.ClientView` and
/// `AccessControl.EnterpriseRoleView`.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/clients/{extId}/eroles", tag = "eroles",
    security(("bearer" = [])),
    params(ClientItemPath, PageParams),
    responses(
        (status = 200, description = "A page of enterprise roles.",
            body = PageDto<EnterpriseRoleDto>),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_eroles(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientItemPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_eroles(&caller, &path.ext_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, EnterpriseRoleDto::from)))
}

/// Reads one enterprise role; `ETag` carries its version. Requires
/// `AccessControl.EnterpriseRoleView`.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/eroles/{extId}", tag = "eroles",
    security(("bearer" = [])),
    params(EnterpriseRolePath),
    responses(
        (status = 200, description = "The enterprise role.", body = EnterpriseRoleDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or enterprise role.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_erole(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<EnterpriseRolePath>,
) -> Result<HttpResponse, ApiError> {
    let e = state
        .services
        .get_erole(&caller, &path.client_ext_id, &path.ext_id)
        .await?;
    Ok(ok_tagged(
        e.entity.meta.version,
        &EnterpriseRoleDto::with(e),
    ))
}

/// Changes name, description, display name or the property values sent (optimistic locking by
/// `version` or `If-Match`). Requires `AccessControl.EnterpriseRoleView` and
/// `AccessControl.EnterpriseRoleModify` (and the property-value rights for values).
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/eroles/{extId}", tag = "eroles",
    security(("bearer" = [])),
    params(EnterpriseRolePath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchEroleBody,
    responses(
        (status = 200, description = "The changed enterprise role.", body = EnterpriseRoleDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or enterprise role.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`, `errors.modifyExtId` (body \
            extId differs), `errors.identifierPolicyViolated`, `errors.duplicateName`, or a \
            property error as for user properties.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch_erole(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<EnterpriseRolePath>,
    IfMatch(if_match): IfMatch,
    Body(mut body): Body<PatchEroleBody>,
) -> Result<HttpResponse, ApiError> {
    let properties = patch_of(body.properties.take().unwrap_or_default());
    let e = state
        .services
        .patch_erole(
            &caller,
            &path.client_ext_id,
            &path.ext_id,
            EnterpriseRolePatch {
                ext_id: body.ext_id,
                name: body.name,
                description: body.description,
                display_name: body.display_name,
                properties: Some(properties),
                version: body.version.or(if_match),
            },
        )
        .await?;
    Ok(ok_tagged(
        e.entity.meta.version,
        &EnterpriseRoleDto::with(e),
    ))
}

/// Deletes an enterprise role: every profile assigned it loses its roles at once. Requires
/// `AccessControl.EnterpriseRoleDelete`.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/eroles/{extId}", tag = "eroles",
    security(("bearer" = [])),
    params(EnterpriseRolePath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    responses(
        (status = 204, description = "Deleted, with its memberships and enterprise \
            authorizations."),
        (status = 404, description = "`errors.noRecord`: no such client or enterprise role.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: `If-Match` is not valid.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete_erole(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<EnterpriseRolePath>,
    IfMatch(if_match): IfMatch,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .delete_erole(&caller, &path.client_ext_id, &path.ext_id, if_match)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Adds an application role to an enterprise role (already a member: silently accepted).
/// Roles of `nevisIdm` itself cannot be members. Requires
/// `AccessControl.EnterpriseRoleMemberCreate`.
#[utoipa::path(put,
    path = "/nevisidm/api/core/v1/{clientExtId}/eroles/{eroleExtId}/roles/{roleExtId}",
    tag = "eroles",
    security(("bearer" = [])),
    params(EnterpriseRoleMemberPath),
    responses(
        (status = 204, description = "Assigned: every profile with the enterprise role has \
            the role from now on."),
        (status = 404, description = "`errors.noRecord`: no such client, enterprise role or \
            role.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidAssignIdmroleToErole`: the role belongs \
            to `nevisIdm`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn assign_member(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<EnterpriseRoleMemberPath>,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .assign_erole_member(
            &caller,
            &path.client_ext_id,
            &path.erole_ext_id,
            &path.role_ext_id,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a role from an enterprise role: every profile with the enterprise role loses it at
/// once (the role itself stays). Requires `AccessControl.EnterpriseRoleMemberDelete`.
#[utoipa::path(delete,
    path = "/nevisidm/api/core/v1/{clientExtId}/eroles/{eroleExtId}/roles/{roleExtId}",
    tag = "eroles",
    security(("bearer" = [])),
    params(EnterpriseRoleMemberPath),
    responses(
        (status = 204, description = "Unassigned."),
        (status = 404, description = "`errors.noRecord`: no such client, enterprise role or \
            role, or the role is not a member.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn remove_member(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<EnterpriseRoleMemberPath>,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .remove_erole_member(
            &caller,
            &path.client_ext_id,
            &path.erole_ext_id,
            &path.role_ext_id,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Assigns an enterprise role of the client to a profile. Requires
/// `AccessControl.ProfileModify`.
#[utoipa::path(post,
    path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/eauthorizations",
    tag = "eroles",
    security(("bearer" = [])),
    params(AuthorizationsPath),
    request_body = CreateEauthorizationBody,
    responses(
        (status = 201, description = "Created; `Location` names the new enterprise \
            authorization.",
            headers(("Location" = String, description = "URL of the new enterprise authorization"))),
        (status = 404, description = "`errors.noRecord`: no such client, profile or \
            enterprise role.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a field is missing or not \
            valid), `errors.invalidDateInterval` (`validity.from` after `validity.to`) or \
            `errors.duplicateValue` (the profile already has the enterprise role, or extId \
            taken).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create_eauthorization(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<AuthorizationsPath>,
    Body(body): Body<CreateEauthorizationBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[("enterpriseRoleExtId", given(&body.enterprise_role_ext_id))])?;
    let AuthorizationsPath {
        client_ext_id: client,
        profile_ext_id: profile,
    } = path.into_inner();
    let a = state
        .services
        .create_eauthorization(
            &caller,
            &client,
            &profile,
            NewEnterpriseAuthorization {
                ext_id: body.ext_id,
                enterprise_role_ext_id: body.enterprise_role_ext_id.unwrap_or_default(),
                validity: body.validity,
            },
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{client}/profiles/{profile}/eauthorizations/{}",
        a.meta.ext_id
    )))
}

/// Lists the enterprise authorizations of a profile, keyset-paged. Requires
/// `AccessControl.ProfileView` (or the SelfAdmin role on one's own profile).
#[utoipa::path(get,
    path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/eauthorizations",
    tag = "eroles",
    security(("bearer" = [])),
    params(AuthorizationsPath, PageParams),
    responses(
        (status = 200, description = "A page of enterprise authorizations.",
            body = PageDto<EnterpriseAuthorizationDto>),
        (status = 404, description = "`errors.noRecord`: no such client or profile.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_eauthorizations(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<AuthorizationsPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_eauthorizations(&caller, &path.client_ext_id, &path.profile_ext_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, EnterpriseAuthorizationDto::from)))
}

/// Reads one enterprise authorization; `ETag` carries its version. Requires
/// `AccessControl.ProfileView` (or the SelfAdmin role on one's own profile).
#[utoipa::path(get,
    path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/eauthorizations/{extId}",
    tag = "eroles",
    security(("bearer" = [])),
    params(EnterpriseAuthorizationPath),
    responses(
        (status = 200, description = "The enterprise authorization.",
            body = EnterpriseAuthorizationDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, profile or \
            enterprise authorization (of this profile).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get_eauthorization(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<EnterpriseAuthorizationPath>,
) -> Result<HttpResponse, ApiError> {
    let a = state
        .services
        .get_eauthorization(
            &caller,
            &path.client_ext_id,
            &path.profile_ext_id,
            &path.ext_id,
        )
        .await?;
    Ok(ok_tagged(
        a.meta.version,
        &EnterpriseAuthorizationDto::from(a),
    ))
}

/// Changes the validity of an enterprise authorization (optimistic locking). Requires
/// `AccessControl.ProfileModify`.
#[utoipa::path(patch,
    path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/eauthorizations/{extId}",
    tag = "eroles",
    security(("bearer" = [])),
    params(EnterpriseAuthorizationPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchEauthorizationBody,
    responses(
        (status = 200, description = "The changed enterprise authorization.",
            body = EnterpriseAuthorizationDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client, profile or \
            enterprise authorization.", body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`, `errors.modifyExtId` or \
            `errors.invalidDateInterval`.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch_eauthorization(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<EnterpriseAuthorizationPath>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PatchEauthorizationBody>,
) -> Result<HttpResponse, ApiError> {
    let a = state
        .services
        .patch_eauthorization(
            &caller,
            &path.client_ext_id,
            &path.profile_ext_id,
            &path.ext_id,
            EnterpriseAuthorizationPatch {
                ext_id: body.ext_id,
                validity: body.validity,
                version: body.version.or(if_match),
            },
        )
        .await?;
    Ok(ok_tagged(
        a.meta.version,
        &EnterpriseAuthorizationDto::from(a),
    ))
}

/// Revokes an enterprise authorization (idm: the reference has no page for it). Requires
/// `AccessControl.ProfileModify`.
#[utoipa::path(delete,
    path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/eauthorizations/{extId}",
    tag = "eroles",
    security(("bearer" = [])),
    params(EnterpriseAuthorizationPath),
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, description = "`errors.noRecord`: no such client, profile or \
            enterprise authorization.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete_eauthorization(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<EnterpriseAuthorizationPath>,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .delete_eauthorization(
            &caller,
            &path.client_ext_id,
            &path.profile_ext_id,
            &path.ext_id,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The profile's effective roles, keyset-paged: its direct authorizations plus the current
/// members of the enterprise roles assigned to it, each grant only within its validity.
/// Requires `AccessControl.ProfileView` (or the SelfAdmin role on one's own profile).
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{extId}/roles",
    tag = "eroles",
    security(("bearer" = [])),
    params(ProfilePath, PageParams),
    responses(
        (status = 200, description = "A page of roles.", body = PageDto<RoleDto>),
        (status = 404, description = "`errors.noRecord`: no such client or profile.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list_profile_roles(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ProfilePath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_profile_roles(&caller, &path.client_ext_id, &path.ext_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, RoleDto::from)))
}
