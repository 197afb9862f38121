//! Units: `core/:c/units`, `core/:c/units/:extId`, children and move.

use std::collections::BTreeMap;
use validator::Validate;

use actix_web::{web, HttpResponse};
use idm_domain::values::{LanguageMap, UnitState, Validity};
use idm_service::units::{NewUnit, UnitPatch};
use serde::Deserialize;
use utoipa::ToSchema;

use super::paths::{ClientPath, UnitChildPath, UnitPath};
use super::properties::patch_of;
use crate::doc::{
    Api, AuthErrors, BodyErrors, ErrorEnvelope, LanguageMapDoc, ListParams, PageParams,
    UnitListFilter,
};
use crate::dto::{
    created, given, ok_tagged, require, PageDto, UnitDto, UnitStateDoc, ValidityDto, CORE,
};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::listing;
use crate::state::AppState;
use crate::validate::MapValueText;

/// Registers (and documents) the unit routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create, create)
        .add(__path_get, get)
        .add(__path_patch, patch)
        .add(__path_delete, delete)
        .add(__path_children, children)
        .add(__path_move_child, move_child);
}

/// Body of `POST core/:c/units`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateUnitBody {
    /// Generated when absent.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// Parent unit; absent: a root unit of the client (needs `UnitCreateTopUnit` too).
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    parent_unit_ext_id: Option<String>,
    /// Required; unique under the parent; identifier naming policy.
    #[validate(length(max = 255))]
    #[schema(required = true, min_length = 1, max_length = 255)]
    name: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    location: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    description: Option<String>,
    /// Default `active`.
    #[schema(value_type = Option<UnitStateDoc>)]
    state: Option<UnitState>,
    #[serde(default)]
    #[schema(value_type = Option<LanguageMapDoc>)]
    #[validate(custom(function = "crate::validate::language_map"))]
    display_name: LanguageMap,
    #[serde(default)]
    #[schema(value_type = Option<LanguageMapDoc>)]
    #[validate(custom(function = "crate::validate::language_map"))]
    abbreviation: LanguageMap,
    /// Required.
    #[schema(required = true)]
    profileless: Option<bool>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    modification_comment: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<ValidityDto>)]
    validity: Validity,
    /// Custom property values, name → value (`null` or `""` removes one on patch).
    #[schema(value_type = Option<BTreeMap<String, MapValueText>>)]
    #[validate(custom(function = "crate::validate::text_map"))]
    properties: Option<BTreeMap<String, Option<String>>>,
}

/// Body of `PATCH core/:c/units/:extId`: only the fields present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchUnitBody {
    /// If present, must equal the addressed extId.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    /// Identifier naming policy; unique under the parent.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    name: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    location: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    description: Option<String>,
    #[schema(value_type = Option<UnitStateDoc>)]
    state: Option<UnitState>,
    #[schema(value_type = Option<LanguageMapDoc>)]
    #[validate(custom(function = "crate::validate::language_map"))]
    display_name: Option<LanguageMap>,
    #[schema(value_type = Option<LanguageMapDoc>)]
    #[validate(custom(function = "crate::validate::language_map"))]
    abbreviation: Option<LanguageMap>,
    profileless: Option<bool>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    modification_comment: Option<String>,
    #[schema(value_type = Option<ValidityDto>)]
    validity: Option<Validity>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
    /// Custom property values, name → value (`null` or `""` removes one on patch).
    #[schema(value_type = Option<BTreeMap<String, MapValueText>>)]
    #[validate(custom(function = "crate::validate::text_map"))]
    properties: Option<BTreeMap<String, Option<String>>>,
}

/// Creates a unit under `parentUnitExtId`, or a root unit of the client.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/units", tag = "units",
    security(("bearer" = [])),
    params(ClientPath),
    request_body = CreateUnitBody,
    responses(
        (status = 201, description = "Created; `Location` names the new unit.",
            headers(("Location" = String, description = "URL of the new unit"))),
        (status = 404, description = "`errors.noRecord`: no such client or parent unit.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (`name` or `profileless` \
            missing, a field or the extId not valid), `errors.identifierPolicyViolated` (name \
            breaks the naming policy), `errors.invalidDateInterval` (validity from after to), \
            `errors.duplicateName` (name taken under the parent) or `errors.duplicateValue` \
            (extId taken).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientPath>,
    Body(mut body): Body<CreateUnitBody>,
) -> Result<HttpResponse, ApiError> {
    let properties = patch_of(body.properties.take().unwrap_or_default());
    require(&[
        ("name", given(&body.name)),
        ("profileless", body.profileless.is_some()),
    ])?;
    let unit = state
        .services
        .create_unit_with(
            &caller,
            &path.client_ext_id,
            NewUnit {
                ext_id: body.ext_id,
                parent_ext_id: body.parent_unit_ext_id,
                name: body.name.unwrap_or_default(),
                location: body.location,
                description: body.description,
                state: body.state,
                display_name: body.display_name,
                abbreviation: body.abbreviation,
                profileless: body.profileless.unwrap_or(false),
                modification_comment: body.modification_comment,
                validity: body.validity,
            },
            Some(properties),
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{}/units/{}",
        unit.client_ext_id, unit.meta.ext_id
    )))
}

/// Reads one unit; `ETag` carries its version.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/units/{extId}", tag = "units",
    security(("bearer" = [])),
    params(UnitPath),
    responses(
        (status = 200, description = "The unit.", body = UnitDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or unit.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UnitPath>,
) -> Result<HttpResponse, ApiError> {
    let UnitPath {
        client_ext_id: c,
        ext_id: e,
    } = path.into_inner();
    let unit = state.services.get_unit_with(&caller, &c, &e).await?;
    Ok(ok_tagged(unit.entity.meta.version, &UnitDto::with(unit)))
}

/// Changes the fields present in the body (optimistic locking by `version` or `If-Match`).
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/units/{extId}", tag = "units",
    security(("bearer" = [])),
    params(UnitPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchUnitBody,
    responses(
        (status = 200, description = "The changed unit.", body = UnitDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or unit.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a field or `If-Match` is not \
            valid), `errors.modifyExtId` (body extId differs), \
            `errors.identifierPolicyViolated`, `errors.invalidDateInterval` or \
            `errors.duplicateName` (name taken under the parent).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UnitPath>,
    IfMatch(if_match): IfMatch,
    Body(mut body): Body<PatchUnitBody>,
) -> Result<HttpResponse, ApiError> {
    let properties = patch_of(body.properties.take().unwrap_or_default());
    let UnitPath {
        client_ext_id: c,
        ext_id: e,
    } = path.into_inner();
    let unit = state
        .services
        .patch_unit_with(
            &caller,
            &c,
            &e,
            UnitPatch {
                ext_id: body.ext_id,
                name: body.name,
                location: body.location,
                description: body.description,
                state: body.state,
                display_name: body.display_name,
                abbreviation: body.abbreviation,
                profileless: body.profileless,
                modification_comment: body.modification_comment,
                validity: body.validity,
                version: body.version.or(if_match),
            },
            Some(properties),
        )
        .await?;
    Ok(ok_tagged(unit.entity.meta.version, &UnitDto::with(unit)))
}

/// Deletes a unit without sub-units and profiles.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/units/{extId}", tag = "units",
    security(("bearer" = [])),
    params(UnitPath),
    responses(
        (status = 204, description = "Deleted (also when it did not exist any more)."),
        (status = 404, description = "`errors.noRecord`: no such client or unit.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.undeletedDependencies`: the unit still has \
            sub-units or profiles.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UnitPath>,
) -> Result<HttpResponse, ApiError> {
    let UnitPath {
        client_ext_id: c,
        ext_id: e,
    } = path.into_inner();
    state.services.delete_unit(&caller, &c, &e).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists the direct children of a unit the caller may view, keyset-paged.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/units/{extId}/children", tag = "units",
    security(("bearer" = [])),
    params(UnitPath, UnitListFilter, ListParams, PageParams),
    responses(
        (status = 200, description = "A page of child units.", body = PageDto<UnitDto>),
        (status = 404, description = "`errors.noRecord`: no such client or unit.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: an unknown query parameter or `sortBy` field, or a \
            malformed value (`limit`, `offset`, `continuationToken`, a filter), named in the \
            message.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn children(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UnitPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let UnitPath {
        client_ext_id: c,
        ext_id: e,
    } = path.into_inner();
    let query = params.list(&listing::UNITS)?;
    let result = state
        .services
        .list_unit_children(&caller, &c, &e, query.clone())
        .await?;
    Ok(HttpResponse::Ok().json(listing::page_dto(
        result,
        &query,
        &listing::UNITS,
        UnitDto::from,
    )))
}

/// Moves unit `childExtId` with its subtree under unit `extId`.
#[utoipa::path(put, path = "/nevisidm/api/core/v1/{clientExtId}/units/{extId}/children/{childExtId}", tag = "units",
    security(("bearer" = [])),
    params(UnitChildPath),
    responses(
        (status = 204, description = "Moved."),
        (status = 404, description = "`errors.noRecord`: no such client, parent or child \
            unit.", body = ErrorEnvelope),
        (status = 422, description = "`errors.assignSubunitAsParent` (the new parent is the \
            unit itself or one of its sub-units) or `errors.duplicateName` (the new parent \
            already has a child of that name).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn move_child(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UnitChildPath>,
) -> Result<HttpResponse, ApiError> {
    let UnitChildPath {
        client_ext_id: c,
        ext_id: parent,
        child_ext_id: child,
    } = path.into_inner();
    state
        .services
        .move_unit(&caller, &c, &parent, &child)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
