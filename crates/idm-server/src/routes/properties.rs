//! Custom properties: definitions (`core/properties`, `core/clients/:extId/properties`) and
//! the value endpoints of users, profiles, units and enterprise roles (`.../properties`).

use crate::validate::MapValueText;
use std::collections::BTreeMap;
use validator::Validate;

use actix_web::{web, HttpResponse};
use idm_domain::properties::{
    PropertyAccess, PropertyDef, PropertyScope, PropertyType, UniquenessScope,
};
use idm_domain::values::format_timestamp;
use idm_domain::DomainError;
use idm_service::properties::{PropertyInput, PropertyPatch, PropertySearch};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paths::{ClientItemPath, EnterpriseRolePath, ProfilePath, UnitPath, UserPath};
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope};
use crate::dto::{created, ok_tagged, PageDto, Pagination, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::state::AppState;

/// Registers (and documents) the property routes; before the `{clientExtId}` routes, so
/// `core/properties/...` is never read as a client.
pub fn routes(api: &mut Api) {
    api.add(__path_search, search)
        .add(__path_create, create)
        .add(__path_get, get)
        .add(__path_patch, patch)
        .add(__path_client_list, client_list)
        .add(__path_user_get, user_get)
        .add(__path_user_patch, user_patch)
        .add(__path_profile_patch, profile_patch)
        .add(__path_unit_patch, unit_patch)
        .add(__path_erole_patch, erole_patch);
}

/// `core/properties/{propertyId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct PropertyPath {
    /// propertyId of the definition (int64)
    pub property_id: String,
}

/// What a property's values are (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
#[schema(as = PropertyType)]
pub enum PropertyTypeDoc {
    /// Free text.
    STRING,
    /// One of the allowed values.
    ENUM,
}

/// Which kind of entity a property attaches to (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)]
#[schema(as = PropertyScope)]
pub enum PropertyScopeDoc {
    /// Applications.
    ApplicationGlobal,
    /// Units.
    UnitGlobal,
    /// Profiles.
    ProfileGlobal,
    /// Users.
    UserGlobal,
    /// Enterprise roles.
    EnterpriseRoleGlobal,
}

/// Whether a value may be written on create or modify (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)]
#[schema(as = PropertyAccess)]
pub enum PropertyAccessDoc {
    /// Writable.
    ReadWrite,
    /// Visible, not writable.
    ReadOnly,
    /// Neither shown nor writable.
    Off,
}

/// Where two equal values of a property may not coexist (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)]
#[schema(as = UniquenessScope)]
pub enum UniquenessScopeDoc {
    /// Once per definition.
    Absolute,
    /// Once per unit.
    RelativeUnit,
}

/// One allowed value of an ENUM property.
#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct AllowedValueDto {
    /// Absent on create; on patch, present to keep (and rename) an existing value, absent to
    /// add one. Values left out of the list are removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_value_id: Option<i64>,
    /// The value.
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    value: String,
}

/// A property definition as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Property)]
pub struct PropertyDto {
    created: String,
    last_modified: String,
    version: i64,
    property_id: i64,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// `STRING` or `ENUM`.
    #[serde(rename = "type")]
    property_type: &'static str,
    /// `USER_GLOBAL`, `PROFILE_GLOBAL`, `UNIT_GLOBAL`, `ENTERPRISE_ROLE_GLOBAL` or
    /// `APPLICATION_GLOBAL`.
    scope: &'static str,
    /// Absent for a definition every client sees.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_ext_id: Option<String>,
    encrypted: bool,
    propagated: bool,
    mandatory_on_gui: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    string_max_len: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    string_regex: Option<String>,
    /// `READ_WRITE`, `READ_ONLY` or `OFF`.
    access_create: &'static str,
    /// `READ_WRITE`, `READ_ONLY` or `OFF`.
    access_modify: &'static str,
    /// `ABSOLUTE` or `RELATIVE_UNIT`; absent = no uniqueness.
    #[serde(skip_serializing_if = "Option::is_none")]
    uniqueness_scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gui_precedence: Option<i32>,
    allowed_values: Vec<AllowedValueDto>,
}

impl From<PropertyDef> for PropertyDto {
    fn from(d: PropertyDef) -> Self {
        PropertyDto {
            created: format_timestamp(d.created),
            last_modified: format_timestamp(d.last_modified),
            version: d.version,
            property_id: d.id,
            name: d.name,
            description: d.description,
            property_type: d.property_type.as_str(),
            scope: d.scope.as_str(),
            client_ext_id: d.client_ext_id,
            encrypted: d.encrypted,
            propagated: d.propagated,
            mandatory_on_gui: d.mandatory_on_gui,
            string_max_len: d.string_max_len,
            string_regex: d.string_regex,
            access_create: d.access_create.as_str(),
            access_modify: d.access_modify.as_str(),
            uniqueness_scope: d.uniqueness_scope.map(UniquenessScope::as_str),
            gui_precedence: d.gui_precedence,
            allowed_values: d
                .allowed_values
                .into_iter()
                .map(|a| AllowedValueDto {
                    allowed_value_id: Some(a.id),
                    value: a.value,
                })
                .collect(),
        }
    }
}

/// Present-and-null vs absent: `Some(None)` clears, `None` leaves unchanged.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Body of `POST core/properties` and `PATCH core/properties/{propertyId}`: on patch only the
/// fields present change (`null` clears `stringMaxLen`, `stringRegex`, `uniquenessScope`,
/// `guiPrecedence`).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PropertyBody {
    /// Required on create; unique within scope and client.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    name: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    description: Option<String>,
    /// `STRING` or `ENUM` (required on create). Changing it deletes every stored value.
    #[serde(rename = "type")]
    #[schema(value_type = Option<PropertyTypeDoc>)]
    property_type: Option<String>,
    /// `USER_GLOBAL`, `PROFILE_GLOBAL`, `UNIT_GLOBAL`, `ENTERPRISE_ROLE_GLOBAL` or
    /// `APPLICATION_GLOBAL` (required on create).
    #[schema(value_type = Option<PropertyScopeDoc>)]
    scope: Option<String>,
    /// Create only: the owning client; absent = every client.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    client_ext_id: Option<String>,
    /// Values stored encrypted (needs `properties.encryption_key`); fixed after create.
    encrypted: Option<bool>,
    propagated: Option<bool>,
    /// A value is required when the entity is created.
    mandatory_on_gui: Option<bool>,
    /// STRING only: 1..=4000 characters.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    string_max_len: Option<Option<i32>>,
    /// STRING only: every value must match it as a whole.
    #[serde(default, deserialize_with = "nullable")]
    #[validate(length(max = 1000))]
    #[schema(value_type = Option<String>, max_length = 1000)]
    string_regex: Option<Option<String>>,
    /// `READ_WRITE` (default), `READ_ONLY`, `OFF`: whether a value may be written on create.
    #[schema(value_type = Option<PropertyAccessDoc>)]
    access_create: Option<String>,
    /// `READ_WRITE` (default), `READ_ONLY`, `OFF`: whether a value may be written on modify.
    #[schema(value_type = Option<PropertyAccessDoc>)]
    access_modify: Option<String>,
    /// `ABSOLUTE` or `RELATIVE_UNIT` (USER_GLOBAL only); STRING only.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<UniquenessScopeDoc>)]
    uniqueness_scope: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    gui_precedence: Option<Option<i32>>,
    /// ENUM only (required for ENUM).
    #[validate(nested)]
    allowed_values: Option<Vec<AllowedValueDto>>,
    /// Patch: the version read; alternatively `If-Match`.
    version: Option<i64>,
}

fn parse_field<T: std::str::FromStr>(
    value: Option<String>,
    field: &'static str,
    bad: &mut Vec<&'static str>,
) -> Option<T> {
    let v = value?;
    match v.parse::<T>() {
        Ok(t) => Some(t),
        Err(_) => {
            bad.push(field);
            None
        }
    }
}

impl PropertyBody {
    fn into_input(self, if_match: Option<i64>) -> Result<PropertyInput, ApiError> {
        let mut bad = Vec::new();
        let property_type = parse_field::<PropertyType>(self.property_type, "type", &mut bad);
        let scope = parse_field::<PropertyScope>(self.scope, "scope", &mut bad);
        let access_create =
            parse_field::<PropertyAccess>(self.access_create, "accessCreate", &mut bad);
        let access_modify =
            parse_field::<PropertyAccess>(self.access_modify, "accessModify", &mut bad);
        let uniqueness_scope = match self.uniqueness_scope {
            None => None,
            Some(None) => Some(None),
            Some(Some(u)) => Some(parse_field::<UniquenessScope>(
                Some(u),
                "uniquenessScope",
                &mut bad,
            )),
        };
        if !bad.is_empty() {
            return Err(DomainError::invalid_fields(&bad).into());
        }
        Ok(PropertyInput {
            name: self.name,
            description: self.description,
            property_type,
            scope,
            client_ext_id: self.client_ext_id,
            encrypted: self.encrypted,
            propagated: self.propagated,
            mandatory_on_gui: self.mandatory_on_gui,
            string_max_len: self.string_max_len,
            string_regex: self.string_regex,
            access_create,
            access_modify,
            uniqueness_scope,
            gui_precedence: self.gui_precedence,
            allowed_values: self.allowed_values.map(|v| {
                v.into_iter()
                    .map(|a| (a.allowed_value_id, a.value))
                    .collect()
            }),
            version: self.version.or(if_match),
        })
    }
}

/// Filters of `GET core/properties` (all optional, combined with AND).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PropertyFilter {
    /// Exact scope.
    scope: Option<String>,
    /// `STRING` or `ENUM`.
    #[param(rename = "type")]
    property_type: Option<String>,
    /// This client's definitions plus the global ones.
    #[param(rename = "clientExtId")]
    client_ext_id: Option<String>,
    /// Case-insensitive part of the name.
    name: Option<String>,
}

fn list(defs: Vec<PropertyDef>) -> HttpResponse {
    let items: Vec<PropertyDto> = defs.into_iter().map(PropertyDto::from).collect();
    let limit = items.len();
    HttpResponse::Ok().json(PageDto {
        items,
        pagination: Pagination {
            continuation_token: None,
            limit,
            total_result: None,
        },
    })
}

/// Lists the property definitions the caller may see (not paged: definitions are few).
#[utoipa::path(get, path = "/nevisidm/api/core/v1/properties", tag = "properties",
    security(("bearer" = [])),
    params(PropertyFilter),
    responses(
        (status = 200, description = "The definitions.", body = PageDto<PropertyDto>),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `scope` or `type`.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn search(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let mut bad = Vec::new();
    let scope =
        parse_field::<PropertyScope>(params.get("scope").map(str::to_owned), "scope", &mut bad);
    let property_type =
        parse_field::<PropertyType>(params.get("type").map(str::to_owned), "type", &mut bad);
    if !bad.is_empty() {
        return Err(DomainError::invalid_fields(&bad).into());
    }
    let search = PropertySearch {
        scope,
        property_type,
        client_ext_id: params.get("clientExtId").map(str::to_owned),
        name: params.get("name").map(str::to_owned),
    };
    Ok(list(
        state.services.search_properties(&caller, search).await?,
    ))
}

/// Creates a property definition (`PropertyCreate`).
#[utoipa::path(post, path = "/nevisidm/api/core/v1/properties", tag = "properties",
    security(("bearer" = [])),
    request_body = PropertyBody,
    responses(
        (status = 201, description = "Created; `Location` names the new definition.",
            headers(("Location" = String, description = "URL of the new definition"))),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (missing or inconsistent \
            fields), `errors.property.regexinv` (the regex does not compile), \
            `errors.duplicateName` (name taken in scope and client) or `errors.invalidConfig` \
            (`encrypted` without `properties.encryption_key`).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    Body(body): Body<PropertyBody>,
) -> Result<HttpResponse, ApiError> {
    let def = state
        .services
        .create_property(&caller, body.into_input(None)?)
        .await?;
    Ok(created(format!("{CORE}/properties/{}", def.id)))
}

fn property_id(path: &PropertyPath) -> Result<i64, ApiError> {
    path.property_id.parse::<i64>().map_err(|_| {
        DomainError::NotFound(format!(
            "Property doesn't exist with propertyId '{}'",
            path.property_id
        ))
        .into()
    })
}

/// Reads a property definition (`PropertyView`).
#[utoipa::path(get, path = "/nevisidm/api/core/v1/properties/{propertyId}", tag = "properties",
    security(("bearer" = [])),
    params(PropertyPath),
    responses(
        (status = 200, description = "The definition.", body = PropertyDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such definition.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<PropertyPath>,
) -> Result<HttpResponse, ApiError> {
    let id = property_id(&path)?;
    let def = state.services.get_property(&caller, id).await?;
    Ok(ok_tagged(def.version, &PropertyDto::from(def)))
}

/// Changes the fields present (`PropertyModify`). Changing `type` deletes every stored value
/// of the definition; `allowedValues` replaces the list (ids kept, new values added, left-out
/// values removed).
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/properties/{propertyId}", tag = "properties",
    security(("bearer" = [])),
    params(PropertyPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PropertyBody,
    responses(
        (status = 200, description = "The changed definition.", body = PropertyDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such definition.", body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`, `errors.property.regexinv`, \
            `errors.duplicateName`, `errors.invalidConfig`.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<PropertyPath>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PropertyBody>,
) -> Result<HttpResponse, ApiError> {
    let id = property_id(&path)?;
    let def = state
        .services
        .patch_property(&caller, id, body.into_input(if_match)?)
        .await?;
    Ok(ok_tagged(def.version, &PropertyDto::from(def)))
}

/// The definitions of a client plus the global ones (`PropertyView`).
#[utoipa::path(get, path = "/nevisidm/api/core/v1/clients/{extId}/properties", tag = "properties",
    security(("bearer" = [])),
    params(ClientItemPath),
    responses(
        (status = 200, description = "The definitions.", body = PageDto<PropertyDto>),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn client_list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientItemPath>,
) -> Result<HttpResponse, ApiError> {
    Ok(list(
        state
            .services
            .client_properties(&caller, &path.ext_id)
            .await?,
    ))
}

/// A flat object of property values, name → string.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = PropertyValues)]
pub struct PropertyValuesDto(pub BTreeMap<String, String>);

/// Body of the value PATCHes: name → string; `null` or `""` removes a value. `_classifications`
/// is ignored (read-only).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PropertyValuesPatch, value_type = BTreeMap<String, MapValueText>)]
pub struct PropertyPatchDto(pub BTreeMap<String, Option<String>>);

impl Validate for PropertyPatchDto {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        // The body is the map itself, so its errors are named from the root (`tier`, not
        // `properties.tier`): the same rule as a `properties` field, one level up.
        crate::validate::text_map(&self.0).map_err(|e| {
            let mut errors = validator::ValidationErrors::new();
            errors.add("", e);
            errors
        })
    }
}

/// The patch a client sent, without read-only keys.
pub(crate) fn patch_of(mut body: BTreeMap<String, Option<String>>) -> PropertyPatch {
    body.remove("_classifications");
    body
}

/// The property values of a user (`UserView` and `PropertyValueView`).
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/properties",
    tag = "properties",
    security(("bearer" = [])),
    params(UserPath),
    responses(
        (status = 200, description = "The values.", body = PropertyValuesDto),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn user_get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let values = state
        .services
        .get_user_properties(&caller, &path.client_ext_id, &path.user_ext_id)
        .await?;
    Ok(HttpResponse::Ok().json(values))
}

/// Sets or removes the values sent (`UserView`, `UserModify`, `PropertyValueModify` /
/// `PropertyValueDelete`); others stay. Answers all values.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/properties",
    tag = "properties",
    security(("bearer" = [])),
    params(UserPath),
    request_body = PropertyPatchDto,
    responses(
        (status = 200, description = "All values after the change.", body = PropertyValuesDto),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (unknown \
            `properties.<name>`), `errors.property.stringmaxlen`, \
            `errors.property.stringregex`, `errors.invalidData` (ENUM value not allowed), \
            `errors.modifyReadonlyData` (access READ_ONLY/OFF), \
            `errors.propertyUniquenessViolated`.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn user_patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    Body(PropertyPatchDto(body)): Body<PropertyPatchDto>,
) -> Result<HttpResponse, ApiError> {
    let done = state
        .services
        .patch_user_with(
            &caller,
            &path.client_ext_id,
            &path.user_ext_id,
            idm_service::users::UserInput::default(),
            Some(patch_of(body)),
            None,
        )
        .await?;
    Ok(HttpResponse::Ok().json(done.properties.unwrap_or_default()))
}

/// Sets or removes the values sent on a profile (`ProfileView`, `ProfileModify` and the
/// value rights); others stay. Answers all values.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/profiles/{extId}/properties",
    tag = "properties",
    security(("bearer" = [])),
    params(ProfilePath),
    request_body = PropertyPatchDto,
    responses(
        (status = 200, description = "All values after the change.", body = PropertyValuesDto),
        (status = 404, description = "`errors.noRecord`: no such client or profile.",
            body = ErrorEnvelope),
        (status = 422, description = "As for user properties.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn profile_patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ProfilePath>,
    Body(PropertyPatchDto(body)): Body<PropertyPatchDto>,
) -> Result<HttpResponse, ApiError> {
    let values = state
        .services
        .patch_profile_properties(&caller, &path.client_ext_id, &path.ext_id, patch_of(body))
        .await?;
    Ok(HttpResponse::Ok().json(values))
}

/// Sets or removes the values sent on a unit (`UnitView`, `UnitModify` and the value
/// rights); others stay. Answers all values.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/units/{extId}/properties",
    tag = "properties",
    security(("bearer" = [])),
    params(UnitPath),
    request_body = PropertyPatchDto,
    responses(
        (status = 200, description = "All values after the change.", body = PropertyValuesDto),
        (status = 404, description = "`errors.noRecord`: no such client or unit.",
            body = ErrorEnvelope),
        (status = 422, description = "As for user properties.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn unit_patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UnitPath>,
    Body(PropertyPatchDto(body)): Body<PropertyPatchDto>,
) -> Result<HttpResponse, ApiError> {
    let values = state
        .services
        .patch_unit_properties(&caller, &path.client_ext_id, &path.ext_id, patch_of(body))
        .await?;
    Ok(HttpResponse::Ok().json(values))
}

/// Sets or removes the values sent on an enterprise role (`EnterpriseRoleView`,
/// `EnterpriseRoleModify` and the value rights); others stay. Answers all values.
#[utoipa::path(patch,
    path = "/nevisidm/api/core/v1/{clientExtId}/eroles/{extId}/properties",
    tag = "properties",
    security(("bearer" = [])),
    params(EnterpriseRolePath),
    request_body = PropertyPatchDto,
    responses(
        (status = 200, description = "All values after the change.", body = PropertyValuesDto),
        (status = 404, description = "`errors.noRecord`: no such client or enterprise role.",
            body = ErrorEnvelope),
        (status = 422, description = "As for user properties.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn erole_patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<EnterpriseRolePath>,
    Body(PropertyPatchDto(body)): Body<PropertyPatchDto>,
) -> Result<HttpResponse, ApiError> {
    let values = state
        .services
        .patch_erole_properties(&caller, &path.client_ext_id, &path.ext_id, patch_of(body))
        .await?;
    Ok(HttpResponse::Ok().json(values))
}
