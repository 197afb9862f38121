//! Users: `core/:c/users`, `core/:c/users/:extId`, `core/clients/:extId/users`.

use actix_web::{web, HttpResponse};
use idm_domain::model::User;
use idm_domain::values::{Language, UserState, Validity};
use idm_ports::users::UserFilter;
use idm_service::users::UserInput;
use serde::{Deserialize, Serialize};

use super::resource;
use super::units::ValidityDto;
use crate::dto::{created, ok_tagged, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::state::AppState;

/// Registers the user routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(&format!("{CORE}/clients/{{extId}}/users")).route(web::get().to(list)))
        .service(resource(&format!("{CORE}/{{c}}/users")).route(web::post().to(create)))
        .service(
            resource(&format!("{CORE}/{{c}}/users/{{extId}}"))
                .route(web::get().to(get))
                .route(web::patch().to(patch))
                .route(web::delete().to(delete)),
        );
}

/// Name parts on the wire.
#[derive(Debug, Default, Serialize, Deserialize)]
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
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactsDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    telephone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    telefax: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mobile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

/// Address on the wire (nevisIDM field names).
#[derive(Debug, Default, Serialize, Deserialize)]
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    client_ext_id: String,
    user_state: UserState,
    login_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    language_code: Option<Language>,
    is_technical_user: bool,
    name: NameDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    sex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
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

/// Body of `POST core/:c/users` and `PATCH core/:c/users/:extId`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserBody {
    ext_id: Option<String>,
    login_id: Option<String>,
    user_state: Option<UserState>,
    language_code: Option<Language>,
    is_technical_user: Option<bool>,
    name: Option<NameDto>,
    sex: Option<String>,
    gender: Option<String>,
    birth_date: Option<String>,
    address: Option<AddressDto>,
    contacts: Option<ContactsDto>,
    remarks: Option<String>,
    modification_comment: Option<String>,
    validity: Option<Validity>,
    version: Option<i64>,
}

impl UserBody {
    fn into_input(self, if_match: Option<i64>) -> UserInput {
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

async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
    Body(body): Body<UserBody>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .services
        .create_user(&caller, &path, body.into_input(None))
        .await?;
    Ok(created(format!(
        "{CORE}/{}/users/{}",
        user.client_ext_id, user.meta.ext_id
    )))
}

async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (c, e) = path.into_inner();
    let user = state.services.get_user(&caller, &c, &e).await?;
    Ok(ok_tagged(user.meta.version, &UserDto::from(user)))
}

async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<UserBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, e) = path.into_inner();
    let user = state
        .services
        .patch_user(&caller, &c, &e, body.into_input(if_match))
        .await?;
    Ok(ok_tagged(user.meta.version, &UserDto::from(user)))
}

async fn delete(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (c, e) = path.into_inner();
    state.services.delete_user(&caller, &c, &e).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
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
        .list_users(&caller, &path, filter, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, UserDto::from)))
}
