//! Users: `core/:c/users`, `core/:c/users/:extId`, `core/clients/:extId/users`.

use actix_web::{web, HttpResponse};
use idm_domain::model::User;
use idm_domain::values::{Language, UserState, Validity};
use std::collections::BTreeMap;
use validator::Validate;

use idm_service::properties::WithProperties;
use idm_service::users::UserInput;

use super::properties::patch_of;
use crate::validate::MapValueText;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paths::{ClientItemPath, ClientPath, UserPath};
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope, ListParams, PageParams};
use crate::dto::ValidityDto;
use crate::dto::{created, ok_tagged, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params, XToken};
use crate::listing;
use crate::state::AppState;

/// Registers (and documents) the user routes. The literal `core/clients/{extId}/users` comes
/// first so that `clients` is never read as a client extId.
pub fn routes(api: &mut Api) {
    api.add(__path_list, list)
        .add(__path_create, create)
        .add(__path_get, get)
        .add(__path_patch, patch)
        .add(__path_delete, delete);
}

/// State of a user on the wire (documentation of `UserState`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = UserState)]
#[allow(dead_code)]
pub enum UserStateDoc {
    /// May log in and be managed.
    Active,
    /// Kept but may not log in.
    Disabled,
    /// Retired; kept for history only (cannot be modified any more).
    Archived,
}

/// A language code on the wire (documentation of `Language`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Language)]
#[allow(dead_code, clippy::upper_case_acronyms)]
pub enum LanguageDoc {
    /// English.
    EN,
    /// German.
    DE,
    /// French.
    FR,
    /// Italian.
    IT,
}

/// `sex` and `gender` values accepted by the server.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Sex)]
#[allow(dead_code)]
pub enum SexDoc {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Other.
    Other,
}

/// Filters of `GET core/clients/{extId}/users` (all optional, AND-combined). Text fields also
/// take `<field>_SW` (starts with) and `<field>_IEQ` (equals), both ignoring case. Sort fields
/// (`sortBy`): `extId`, `loginId`, `isTechnicalUser`, `name.title`, `name.firstName`,
/// `name.familyName`, `birthDate`, `address.*`, `contacts.*`, `validity.from`, `validity.to`,
/// `remarks`, `version`, `created`, `lastModified`; an absent address field sorts as empty.
/// `properties.<name>=value` matches users holding that value of the `USER_GLOBAL` property
/// `<name>` (an unknown name is 422). Any other parameter is 422 `errors.invalidParameter`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UserListFilter {
    /// extId.
    #[param(rename = "extId")]
    ext_id: Option<String>,
    /// loginId.
    #[param(rename = "loginId")]
    login_id: Option<String>,
    /// `active`, `disabled` or `archived`; another value is 422 `errors.invalidParameter`.
    #[param(rename = "userState", value_type = Option<UserStateDoc>)]
    user_state: Option<String>,
    /// `EN`, `DE`, `FR` or `IT`, any case (`en` = `EN`).
    #[param(rename = "languageCode")]
    language_code: Option<String>,
    /// `true` / `false`.
    #[param(rename = "isTechnicalUser")]
    is_technical_user: Option<bool>,
    /// Title.
    #[param(rename = "name.title")]
    name_title: Option<String>,
    /// First name.
    #[param(rename = "name.firstName")]
    name_first_name: Option<String>,
    /// Family name.
    #[param(rename = "name.familyName")]
    name_family_name: Option<String>,
    /// Sex.
    #[param(rename = "sex")]
    sex: Option<String>,
    /// Gender.
    #[param(rename = "gender")]
    gender: Option<String>,
    /// Birth date as stored (`YYYY-MM-DD`).
    #[param(rename = "birthDate")]
    birth_date: Option<String>,
    /// Country code; index-served (with `sortBy=address.countryCode`).
    #[param(rename = "address.countryCode")]
    address_country_code: Option<String>,
    /// City; index-served, also `_IEQ` (and `_SW` on PostgreSQL).
    #[param(rename = "address.city")]
    address_city: Option<String>,
    /// Postal code; index-served.
    #[param(rename = "address.postalCode")]
    address_postal_code: Option<String>,
    /// Address line 1.
    #[param(rename = "address.addressline1")]
    address_addressline1: Option<String>,
    /// Address line 2.
    #[param(rename = "address.addressline2")]
    address_addressline2: Option<String>,
    /// Street.
    #[param(rename = "address.street")]
    address_street: Option<String>,
    /// House number.
    #[param(rename = "address.houseNumber")]
    address_house_number: Option<String>,
    /// Dwelling number.
    #[param(rename = "address.dwellingNumber")]
    address_dwelling_number: Option<String>,
    /// Post-office box text.
    #[param(rename = "address.postOfficeBoxText")]
    address_post_office_box_text: Option<String>,
    /// Post-office box number.
    #[param(rename = "address.postOfficeBoxNumber")]
    address_post_office_box_number: Option<String>,
    /// Locality.
    #[param(rename = "address.locality")]
    address_locality: Option<String>,
    /// Telephone.
    #[param(rename = "contacts.telephone")]
    contacts_telephone: Option<String>,
    /// Telefax.
    #[param(rename = "contacts.telefax")]
    contacts_telefax: Option<String>,
    /// E-mail; `contacts.email_SW=ann` finds every address starting with `ann` (any case), index-served.
    #[param(rename = "contacts.email")]
    contacts_email: Option<String>,
    /// Mobile.
    #[param(rename = "contacts.mobile")]
    contacts_mobile: Option<String>,
    /// Start of validity (RFC 3339).
    #[param(rename = "validity.from")]
    validity_from: Option<String>,
    /// End of validity (RFC 3339).
    #[param(rename = "validity.to")]
    validity_to: Option<String>,
    /// Remarks.
    #[param(rename = "remarks")]
    remarks: Option<String>,
    /// Modification comment.
    #[param(rename = "modificationComment")]
    modification_comment: Option<String>,
    /// Version.
    #[param(rename = "version")]
    version: Option<i64>,
    /// Creation time (RFC 3339).
    #[param(rename = "created")]
    created: Option<String>,
    /// Last change (RFC 3339).
    #[param(rename = "lastModified")]
    last_modified: Option<String>,
    /// Only users with a profile in this unit.
    #[param(rename = "unitExtId")]
    unit_ext_id: Option<String>,
}

/// Name parts on the wire.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema, Validate)]
#[schema(as = PersonName)]
#[serde(rename_all = "camelCase")]
pub struct NameDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    family_name: Option<String>,
}

/// Contacts on the wire.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema, Validate)]
#[schema(as = Contacts)]
#[serde(rename_all = "camelCase")]
pub struct ContactsDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    telephone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    telefax: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    mobile: Option<String>,
    /// Must contain `@` (at most 320 characters); empty clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[validate(length(max = 320))]
    #[schema(max_length = 320)]
    email: Option<String>,
}

/// Address on the wire (nevisIDM field names). In responses only the stored fields appear;
/// on patch the fields present replace the stored ones.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema, Validate)]
#[schema(as = Address)]
#[serde(rename_all = "camelCase")]
pub struct AddressDto {
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    addressline1: Option<String>,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    addressline2: Option<String>,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    postal_code: Option<String>,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    city: Option<String>,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    street: Option<String>,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    house_number: Option<String>,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    country_code: Option<String>,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    dwelling_number: Option<String>,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    post_office_box_text: Option<String>,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    post_office_box_number: Option<String>,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    locality: Option<String>,
}

impl AddressDto {
    /// The present fields as a JSON object (absent ones are left unchanged on patch).
    fn into_map(self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => {
                m.into_iter().filter(|(_, v)| !v.is_null()).collect()
            }
            _ => serde_json::Map::new(),
        }
    }
}

/// User as sent to clients (reference notes §4).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = User)]
pub struct UserDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    client_ext_id: String,
    #[schema(value_type = UserStateDoc)]
    user_state: UserState,
    login_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<LanguageDoc>)]
    language_code: Option<Language>,
    is_technical_user: bool,
    name: NameDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<SexDoc>)]
    sex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<SexDoc>)]
    gender: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    birth_date: Option<String>,
    #[schema(value_type = AddressDto)]
    address: serde_json::Map<String, serde_json::Value>,
    contacts: ContactsDto,
    validity: ValidityDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    modification_comment: Option<String>,
    /// Custom property values, name → value; left out when the caller may not read them
    /// (`PropertyValueView`).
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<BTreeMap<String, String>>,
}

impl UserDto {
    /// The user with the property values its reader may see.
    fn with(w: WithProperties<User>) -> Self {
        UserDto {
            properties: w.properties,
            ..UserDto::from(w.entity)
        }
    }
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        UserDto {
            meta: MetaDto::from(&u.meta),
            ext_id: u.meta.ext_id,
            client_ext_id: u.client_ext_id,
            user_state: u.state,
            login_id: u.login_id,
            language_code: u.language_code,
            is_technical_user: u.is_technical_user,
            name: NameDto {
                title: u.name.title,
                first_name: u.name.first_name,
                family_name: u.name.family_name,
            },
            sex: u.sex,
            gender: u.gender,
            birth_date: u.birth_date,
            address: u.address,
            contacts: ContactsDto {
                telephone: u.contacts.telephone,
                telefax: u.contacts.telefax,
                mobile: u.contacts.mobile,
                email: u.contacts.email,
            },
            validity: u.validity.into(),
            remarks: u.remarks,
            modification_comment: u.modification_comment,
            properties: None,
        }
    }
}

/// Body of `POST core/:c/users` and `PATCH core/:c/users/:extId`: on patch only the fields
/// present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct UserBody {
    /// Create: generated when absent. Patch: if present, must equal the addressed extId.
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    ext_id: Option<String>,
    /// Required on create; unique in the client; 1..=300 characters, not blank.
    #[validate(length(max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    login_id: Option<String>,
    #[schema(value_type = Option<UserStateDoc>)]
    user_state: Option<UserState>,
    #[schema(value_type = Option<LanguageDoc>)]
    language_code: Option<Language>,
    /// `true` needs `UserCreateTechUser` on create.
    is_technical_user: Option<bool>,
    #[validate(nested)]
    name: Option<NameDto>,
    #[schema(value_type = Option<SexDoc>)]
    sex: Option<String>,
    #[schema(value_type = Option<SexDoc>)]
    gender: Option<String>,
    /// `YYYY-MM-DD`.
    #[validate(length(max = 32))]
    #[schema(format = Date, max_length = 32)]
    birth_date: Option<String>,
    #[validate(nested)]
    address: Option<AddressDto>,
    #[validate(nested)]
    contacts: Option<ContactsDto>,
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    remarks: Option<String>,
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    modification_comment: Option<String>,
    #[schema(value_type = Option<ValidityDto>)]
    validity: Option<Validity>,
    /// Patch: the version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
    /// Custom property values, name → value. Create: mandatory properties are required.
    /// Patch: only the names sent change; `null` or `""` removes a value.
    #[validate(custom(function = "crate::validate::text_map"))]
    #[schema(value_type = Option<BTreeMap<String, MapValueText>>)]
    properties: Option<BTreeMap<String, Option<String>>>,
}

impl UserBody {
    pub(crate) fn into_input(self, if_match: Option<i64>) -> UserInput {
        let name = self.name.unwrap_or_default();
        let contacts = self.contacts.unwrap_or_default();
        UserInput {
            ext_id: self.ext_id,
            login_id: self.login_id,
            state: self.user_state,
            language_code: self.language_code,
            is_technical_user: self.is_technical_user,
            title: name.title,
            first_name: name.first_name,
            family_name: name.family_name,
            sex: self.sex,
            gender: self.gender,
            birth_date: self.birth_date,
            telephone: contacts.telephone,
            telefax: contacts.telefax,
            mobile: contacts.mobile,
            email: contacts.email,
            address: self.address.map(AddressDto::into_map),
            remarks: self.remarks,
            modification_comment: self.modification_comment,
            validity: self.validity,
            version: self.version.or(if_match),
        }
    }
}

/// Creates a user (a technical user needs `UserCreateTechUser` too).
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/users", tag = "users",
    security(("bearer" = [])),
    params(ClientPath),
    request_body = UserBody,
    responses(
        (status = 201, description = "Created; `Location` names the new user.",
            headers(("Location" = String, description = "URL of the new user"))),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (`loginId` missing, or \
            `extId`, `loginId`, `sex`, `gender`, `birthDate`, `contacts.email` or another \
            field not valid), `errors.invalidDateInterval` (validity from after to) or \
            `errors.duplicateValue` (loginId or extId taken).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientPath>,
    Body(mut body): Body<UserBody>,
) -> Result<HttpResponse, ApiError> {
    let properties = patch_of(body.properties.take().unwrap_or_default());
    let user = state
        .services
        .create_user_with(
            &caller,
            &path.client_ext_id,
            body.into_input(None),
            Some(properties),
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{}/users/{}",
        user.client_ext_id, user.meta.ext_id
    )))
}

/// Reads one user (`UserView`, or the user itself); `ETag` carries its version.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}", tag = "users",
    security(("bearer" = [])),
    params(UserPath),
    responses(
        (status = 200, description = "The user.", body = UserDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: e,
    } = path.into_inner();
    let user = state.services.get_user_with(&caller, &c, &e).await?;
    Ok(ok_tagged(user.entity.meta.version, &UserDto::with(user)))
}

/// Changes the fields present in the body (optimistic locking by `version` or `If-Match`);
/// disabling or archiving the user does the same to its profiles.
///
/// Requires `AccessControl.UserModify` or the SelfAdmin role on the caller's own user. In
/// self-admin mode, changing a protected attribute (default `loginId`, `userState`,
/// `contacts.email`, `contacts.mobile`; setting `policy.self_protected_attributes`) needs a
/// valid `X-Token`, and `validity` / `isTechnicalUser` are refused (403).
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}", tag = "users",
    security(("bearer" = [])),
    params(UserPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before"),
        ("X-Token" = Option<String>, Header, description = "Self-admin mode: proof of a \
            recent password entry, needed to change a protected attribute")),
    request_body = UserBody,
    responses(
        (status = 200, description = "The changed user.", body = UserDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a field or `If-Match` is not \
            valid), `errors.modifyExtId` (body extId differs), `errors.modifyArchivedUser` \
            (the user is archived), `errors.invalidDateInterval`, `errors.duplicateValue` \
            (loginId taken), `errors.unsupportedOperation` (a caller disabling or archiving \
            itself) or `errors.invalidJWTToken` (self-admin mode changing a protected \
            attribute without a valid X-Token).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
    IfMatch(if_match): IfMatch,
    XToken(xtoken): XToken,
    Body(mut body): Body<UserBody>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: e,
    } = path.into_inner();
    let properties = patch_of(body.properties.take().unwrap_or_default());
    let user = state
        .services
        .patch_user_with(
            &caller,
            &c,
            &e,
            body.into_input(if_match),
            Some(properties),
            xtoken.as_deref(),
        )
        .await?;
    Ok(ok_tagged(user.entity.meta.version, &UserDto::with(user)))
}

/// Deletes a user with everything that belongs to it.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}", tag = "users",
    security(("bearer" = [])),
    params(UserPath),
    responses(
        (status = 204, description = "Deleted (also when it did not exist any more)."),
        (status = 404, description = "`errors.noRecord`: no such client or user.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.unsupportedOperation`: the caller addressed its own user.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: e,
    } = path.into_inner();
    state.services.delete_user(&caller, &c, &e).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists the users of a client the caller may view, filtered and keyset-paged.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/clients/{extId}/users", tag = "users",
    security(("bearer" = [])),
    params(ClientItemPath,
        UserListFilter, ListParams, PageParams),
    responses(
        (status = 200, description = "A page of users.", body = PageDto<UserDto>),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: an unknown query parameter or `sortBy` field, or a \
            malformed value (`limit`, `offset`, `continuationToken`, a filter), named in the \
            message.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientItemPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let query = params.list(&listing::USERS)?;
    let result = state
        .services
        .list_users_with(&caller, &path.ext_id, query.clone())
        .await?;
    Ok(HttpResponse::Ok().json(listing::page_dto_of(
        result,
        &query,
        &listing::USERS,
        |w| &w.entity,
        UserDto::with,
    )))
}
