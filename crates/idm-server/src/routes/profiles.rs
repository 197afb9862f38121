//! Profiles: `core/:c/users/:u/profiles`, `core/:c/profiles/:extId`, ★ `.../unit` (seed 004).

use actix_web::{web, HttpResponse};
use idm_domain::model::Profile;
use idm_domain::values::{ProfileState, Validity};
use idm_service::profiles::ProfileInput;
use serde::{Deserialize, Serialize};

use super::resource;
use super::units::{UnitDto, ValidityDto};
use crate::dto::{created, given, ok_tagged, require, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::state::AppState;

/// Registers the profile routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&format!("{CORE}/{{c}}/users/{{u}}/profiles"))
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        resource(&format!("{CORE}/{{c}}/profiles/{{extId}}"))
            .route(web::get().to(get))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete)),
    )
    .service(resource(&format!("{CORE}/{{c}}/profiles/{{extId}}/unit")).route(web::get().to(unit)))
    .service(
        resource(&format!("{CORE}/{{c}}/profiles/{{extId}}/unit/{{unit}}"))
            .route(web::put().to(assign_unit)),
    );
}

/// Profile as sent to clients (reference notes §5).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    user_ext_id: String,
    unit_ext_id: String,
    client_ext_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    profile_state: ProfileState,
    is_default_profile: bool,
    validity: ValidityDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    modification_comment: Option<String>,
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
        }
    }
}

/// Body of profile create and patch.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileBody {
    ext_id: Option<String>,
    unit_ext_id: Option<String>,
    name: Option<String>,
    profile_state: Option<ProfileState>,
    is_default_profile: Option<bool>,
    remarks: Option<String>,
    modification_comment: Option<String>,
    validity: Option<Validity>,
    version: Option<i64>,
}

impl ProfileBody {
    fn into_input(self, if_match: Option<i64>) -> ProfileInput {
        ProfileInput {
            ext_id: self.ext_id,
            unit_ext_id: self.unit_ext_id,
            name: self.name,
            state: self.profile_state,
            is_default_profile: self.is_default_profile,
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
    path: web::Path<(String, String)>,
    Body(body): Body<ProfileBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, u) = path.into_inner();
    require(&[("unitExtId", given(&body.unit_ext_id))])?;
    let p = state
        .services
        .create_profile(&caller, &c, &u, body.into_input(None))
        .await?;
    Ok(created(format!(
        "{CORE}/{}/profiles/{}",
        p.client_ext_id, p.meta.ext_id
    )))
}

async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (c, u) = path.into_inner();
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_user_profiles(&caller, &c, &u, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, ProfileDto::from)))
}

async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (c, e) = path.into_inner();
    let p = state.services.get_profile(&caller, &c, &e).await?;
    Ok(ok_tagged(p.meta.version, &ProfileDto::from(p)))
}

async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<ProfileBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, e) = path.into_inner();
    let p = state
        .services
        .patch_profile(&caller, &c, &e, body.into_input(if_match))
        .await?;
    Ok(ok_tagged(p.meta.version, &ProfileDto::from(p)))
}

async fn delete(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (c, e) = path.into_inner();
    state.services.delete_profile(&caller, &c, &e).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn unit(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (c, e) = path.into_inner();
    let u = state.services.get_profile_unit(&caller, &c, &e).await?;
    Ok(ok_tagged(u.meta.version, &UnitDto::from(u)))
}

async fn assign_unit(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (c, e, u) = path.into_inner();
    state
        .services
        .assign_profile_unit(&caller, &c, &e, &u)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
