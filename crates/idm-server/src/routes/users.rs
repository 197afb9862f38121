//! Users: `core/:c/users`, `core/:c/users/:extId`, `core/clients/:extId/users`.

use actix_web::{web, HttpResponse};
use idm_domain::model::User;
use idm_domain::values::{Language, UserState, Validity};
use idm_ports::users::UserFilter;
use idm_service::users::UserInput;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paths::{ClientItemPath, ClientPath, UserPath};
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope, PageParams};
use crate::dto::ValidityDto;
use crate::dto::{created, ok_tagged, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params, XToken};
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

/// Filters of `GET core/clients/{extId}/users` (all optional, combined with AND).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UserListFilter {
    /// Only the user with this loginId.
    #[param(rename = "loginId")]
    login_id: Option<String>,
    /// Only the user with this extId.
    #[param(rename = "extId")]
    ext_id: Option<String>,
    /// Only users in this state; another value is 422 `errors.invalidParameter`
    /// (`Invalid UserState name '...'`).
    #[param(rename = "userState", value_type = Option<UserStateDoc>)]
    user_state: Option<String>,
}

/// Name parts on the wire.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = PersonName)]
#[serde(rename_all = "camelCase")]
pub struct NameDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    family_name: Option<String>,
}

/// Contacts on the wire.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = Contacts)]
#[serde(rename_all = "camelCase")]
pub struct ContactsDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    telephone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    telefax: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mobile: Option<String>,
    /// Must contain `@` (at most 320 characters); empty clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 320)]
    email: Option<String>,
}

/// Address on the wire (nevisIDM field names). In responses only the stored fields appear;
/// on patch the fields present replace the stored ones.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = Address)]
#[serde(rename_all = "camelCase")]
pub struct AddressDto {
    addressline1: Option<String>,
    addressline2: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    street: Option<String>,
    house_number: Option<String>,
    country_code: Option<String>,
    dwelling_number: Option<String>,
    post_office_box_text: Option<String>,
    post_office_box_number: Option<String>,
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
        }
    }
}

/// Body of `POST core/:c/users` and `PATCH core/:c/users/:extId`: on patch only the fields
/// present change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserBody {
    /// Create: generated when absent. Patch: if present, must equal the addressed extId.
    ext_id: Option<String>,
    /// Required on create; unique in the client; 1..=300 characters, not blank.
    #[schema(min_length = 1, max_length = 300)]
    login_id: Option<String>,
    #[schema(value_type = Option<UserStateDoc>)]
    user_state: Option<UserState>,
    #[schema(value_type = Option<LanguageDoc>)]
    language_code: Option<Language>,
    /// `true` needs `UserCreateTechUser` on create.
    is_technical_user: Option<bool>,
    name: Option<NameDto>,
    #[schema(value_type = Option<SexDoc>)]
    sex: Option<String>,
    #[schema(value_type = Option<SexDoc>)]
    gender: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    birth_date: Option<String>,
    address: Option<AddressDto>,
    contacts: Option<ContactsDto>,
    remarks: Option<String>,
    modification_comment: Option<String>,
    #[schema(value_type = Option<ValidityDto>)]
    validity: Option<Validity>,
    /// Patch: the version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
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
    Body(body): Body<UserBody>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .services
        .create_user(&caller, &path.client_ext_id, body.into_input(None))
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
    let user = state.services.get_user(&caller, &c, &e).await?;
    Ok(ok_tagged(user.meta.version, &UserDto::from(user)))
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
    Body(body): Body<UserBody>,
) -> Result<HttpResponse, ApiError> {
    let UserPath {
        client_ext_id: c,
        user_ext_id: e,
    } = path.into_inner();
    let user = state
        .services
        .patch_user(
            &caller,
            &c,
            &e,
            body.into_input(if_match),
            xtoken.as_deref(),
        )
        .await?;
    Ok(ok_tagged(user.meta.version, &UserDto::from(user)))
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
        UserListFilter, PageParams),
    responses(
        (status = 200, description = "A page of users.", body = PageDto<UserDto>),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit`, \
            `continuationToken` or `userState`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientItemPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let user_state = params
        .get("userState")
        .map(str::parse::<UserState>)
        .transpose()?;
    let filter = UserFilter {
        login_id: params.get("loginId").map(str::to_owned),
        ext_id: params.get("extId").map(str::to_owned),
        state: user_state,
    };
    let result = state
        .services
        .list_users(&caller, &path.ext_id, filter, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, UserDto::from)))
}
