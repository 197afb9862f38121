//! Profiles: `core/:c/users/:u/profiles`, `core/:c/profiles/:extId`, ★ `.../unit` (seed 004).

use std::collections::BTreeMap;
use validator::Validate;

use actix_web::{web, HttpResponse};
use idm_domain::model::Profile;
use idm_domain::values::{ProfileState, Validity};
use idm_service::profiles::ProfileInput;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::paths::{ProfilePath, ProfileUnitPath, UserPath};
use super::properties::patch_of;
use crate::doc::{
    Api, AuthErrors, BodyErrors, ErrorEnvelope, ListParams, PageParams, ProfileListFilter,
};
use crate::dto::{created, given, ok_tagged, require, MetaDto, PageDto, CORE};
use crate::dto::{UnitDto, ValidityDto};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::listing;
use crate::state::AppState;
use crate::validate::MapValueText;

/// Registers (and documents) the profile routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create, create)
        .add(__path_list, list)
        .add(__path_get, get)
        .add(__path_patch, patch)
        .add(__path_delete, delete)
        .add(__path_unit, unit)
        .add(__path_assign_unit, assign_unit);
}

/// State of a profile on the wire (documentation of `ProfileState`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ProfileState)]
#[allow(dead_code)]
pub enum ProfileStateDoc {
    /// In use.
    Active,
    /// Kept but grants nothing.
    Disabled,
    /// Retired together with its user.
    Archived,
}

/// Profile as sent to clients (reference notes §5).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Profile)]
pub struct ProfileDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    user_ext_id: String,
    unit_ext_id: String,
    client_ext_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[schema(value_type = ProfileStateDoc)]
    profile_state: ProfileState,
    is_default_profile: bool,
    validity: ValidityDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    modification_comment: Option<String>,
    /// extId of the profile acting as this one's deputy.
    #[serde(skip_serializing_if = "Option::is_none")]
    deputed_profile_ext_id: Option<String>,
    /// Custom property values, name → value; left out when the caller may not read them.
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<std::collections::BTreeMap<String, String>>,
}

impl ProfileDto {
    /// The profile with the property values its reader may see.
    fn with(w: idm_service::properties::WithProperties<Profile>) -> Self {
        ProfileDto {
            properties: w.properties,
            ..ProfileDto::from(w.entity)
        }
    }
}

impl From<Profile> for ProfileDto {
    fn from(p: Profile) -> Self {
        ProfileDto {
            meta: MetaDto::from(&p.meta),
            ext_id: p.meta.ext_id,
            user_ext_id: p.user_ext_id,
            unit_ext_id: p.unit_ext_id,
            client_ext_id: p.client_ext_id,
            name: p.name,
            profile_state: p.state,
            is_default_profile: p.is_default_profile,
            validity: p.validity.into(),
            remarks: p.remarks,
            modification_comment: p.modification_comment,
            properties: None,
            deputed_profile_ext_id: p.deputed_profile_ext_id,
        }
    }
}

/// Body of profile create and patch: on patch only the fields present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct ProfileBody {
    /// Create: generated when absent. Patch: if present, must equal the addressed extId.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// Create: required, a unit of the same client that is not profileless. Patch: ignored
    /// (use `PUT .../unit/{unitExtId}`).
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    unit_ext_id: Option<String>,
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    name: Option<String>,
    /// Default `active`.
    #[schema(value_type = Option<ProfileStateDoc>)]
    profile_state: Option<ProfileState>,
    is_default_profile: Option<bool>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    remarks: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    modification_comment: Option<String>,
    #[schema(value_type = Option<ValidityDto>)]
    validity: Option<Validity>,
    /// extId of another profile of the same client acting as this profile's deputy; on
    /// patch `""` removes it.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    deputed_profile_ext_id: Option<String>,
    /// Patch: the version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
    /// Custom property values, name → value (`null` or `""` removes one on patch).
    #[schema(value_type = Option<BTreeMap<String, MapValueText>>)]
    #[validate(custom(function = "crate::validate::text_map"))]
    properties: Option<BTreeMap<String, Option<String>>>,
}

impl ProfileBody {
    pub(crate) fn into_input(self, if_match: Option<i64>) -> ProfileInput {
        ProfileInput {
            ext_id: self.ext_id,
            unit_ext_id: self.unit_ext_id,
            name: self.name,
            state: self.profile_state,
            is_default_profile: self.is_default_profile,
            remarks: self.remarks,
            modification_comment: self.modification_comment,
            validity: self.validity,
            deputed_profile_ext_id: self.deputed_profile_ext_id,
            version: self.version.or(if_match),
        }
    }
}

/// Creates a profile of a user in a unit.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/profiles", tag = "profiles",
    security(("bearer" = [])),
    params(UserPath),
    request_body = ProfileBody,
    responses(
        (status = 201, description = "Created; `Location` names the new profile.",
            headers(("Location" = String, description = "URL of the new profile"))),
        (status = 404, description = "`errors.noRecord`: no such client, user or unit.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (`unitExtId` missing, a field \
            or the extId not valid), `errors.assignProfilelessUnit` (the unit is \
            profileless), `errors.invalidDateInterval` (validity from after to) or \
            `errors.duplicateValue` (extId taken).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    Body(mut body): Body<ProfileBody>,
) -> Result<HttpResponse, ApiError> {
    let properties = patch_of(body.properties.take().unwrap_or_default());
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    require(&[("unitExtId", given(&body.unit_ext_id))])?;
    let p = state
        .services
        .create_profile_with(&caller, &c, &u, body.into_input(None), Some(properties))
        .await?;
    Ok(created(format!(
        "{CORE}/{}/profiles/{}",
        p.client_ext_id, p.meta.ext_id
    )))
}

/// Lists a user's profiles (`UserView` and `ProfileView`, or the user itself), keyset-paged.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/profiles", tag = "profiles",
    security(("bearer" = [])),
    params(UserPath, ProfileListFilter, ListParams, PageParams),
    responses(
        (status = 200, description = "A page of profiles.", body = PageDto<ProfileDto>),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: an unknown query parameter or `sortBy` field, or a \
            malformed value (`limit`, `offset`, `continuationToken`, a filter), named in the \
            message.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: u,
    } = path.into_inner();
    let query = params.list(&listing::PROFILES)?;
    let result = state
        .services
        .list_user_profiles(&caller, &c, &u, query.clone())
        .await?;
    Ok(HttpResponse::Ok().json(listing::page_dto(
        result,
        &query,
        &listing::PROFILES,
        ProfileDto::from,
    )))
}

/// Reads one profile (`ProfileView`, or its user); `ETag` carries its version.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{extId}", tag = "profiles",
    security(("bearer" = [])),
    params(ProfilePath),
    responses(
        (status = 200, description = "The profile.", body = ProfileDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or profile.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ProfilePath>,
) -> Result<HttpResponse, ApiError> {
    let ProfilePath {
        client_ext_id: c,
        ext_id: e,
    } = path.into_inner();
    let p = state.services.get_profile_with(&caller, &c, &e).await?;
    Ok(ok_tagged(p.entity.meta.version, &ProfileDto::with(p)))
}

/// Changes the fields present in the body (optimistic locking by `version` or `If-Match`).
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{extId}", tag = "profiles",
    security(("bearer" = [])),
    params(ProfilePath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = ProfileBody,
    responses(
        (status = 200, description = "The changed profile.", body = ProfileDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or profile.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a field or `If-Match` is not \
            valid), `errors.modifyExtId` (body extId differs) or \
            `errors.invalidDateInterval`.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ProfilePath>,
    IfMatch(if_match): IfMatch,
    Body(mut body): Body<ProfileBody>,
) -> Result<HttpResponse, ApiError> {
    let properties = patch_of(body.properties.take().unwrap_or_default());
    let ProfilePath {
        client_ext_id: c,
        ext_id: e,
    } = path.into_inner();
    let p = state
        .services
        .patch_profile_with(&caller, &c, &e, body.into_input(if_match), Some(properties))
        .await?;
    Ok(ok_tagged(p.entity.meta.version, &ProfileDto::with(p)))
}

/// Deletes a profile and its authorizations.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{extId}", tag = "profiles",
    security(("bearer" = [])),
    params(ProfilePath),
    responses(
        (status = 204, description = "Deleted (also when it did not exist any more)."),
        (status = 404, description = "`errors.noRecord`: no such client or profile.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.unsupportedOperation`: the caller addressed its own profile.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ProfilePath>,
) -> Result<HttpResponse, ApiError> {
    let ProfilePath {
        client_ext_id: c,
        ext_id: e,
    } = path.into_inner();
    state.services.delete_profile(&caller, &c, &e).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// ★ Returns the unit assigned to the profile (seed 004): `ProfileView` or SelfAdmin Role.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{extId}/unit", tag = "profiles",
    security(("bearer" = [])),
    params(ProfilePath),
    responses(
        (status = 200, description = "Unit found.", body = UnitDto,
            headers(("ETag" = String, description = "The unit's version, quoted"))),
        (status = 404, description = "`errors.noRecord`: `Client doesn't exist with extId \
            '...'` or `Profile doesn't exist with extId '...'`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn unit(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ProfilePath>,
) -> Result<HttpResponse, ApiError> {
    let ProfilePath {
        client_ext_id: c,
        ext_id: e,
    } = path.into_inner();
    let u = state.services.get_profile_unit(&caller, &c, &e).await?;
    Ok(ok_tagged(u.meta.version, &UnitDto::from(u)))
}

/// Re-assigns a profile to another unit of the same client.
#[utoipa::path(put, path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{extId}/unit/{unitExtId}", tag = "profiles",
    security(("bearer" = [])),
    params(ProfileUnitPath),
    responses(
        (status = 204, description = "Re-assigned."),
        (status = 404, description = "`errors.noRecord`: no such client, profile or unit.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the profile changed \
            concurrently.", body = ErrorEnvelope),
        (status = 422, description = "`errors.assignProfilelessUnit`: the unit is \
            profileless.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn assign_unit(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ProfileUnitPath>,
) -> Result<HttpResponse, ApiError> {
    let ProfileUnitPath {
        client_ext_id: c,
        ext_id: e,
        unit_ext_id: u,
    } = path.into_inner();
    state
        .services
        .assign_profile_unit(&caller, &c, &e, &u)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
