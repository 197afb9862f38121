//! Units: `core/:c/units`, `core/:c/units/:extId`, children and move.

use actix_web::{web, HttpResponse};
use idm_domain::model::Unit;
use idm_domain::values::{LanguageMap, UnitState, Validity};
use idm_service::units::{NewUnit, UnitPatch};
use serde::{Deserialize, Serialize};

use super::resource;
use crate::dto::{created, given, ok_tagged, require, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::state::AppState;

/// Registers the unit routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(&format!("{CORE}/{{c}}/units")).route(web::post().to(create)))
        .service(
            resource(&format!("{CORE}/{{c}}/units/{{extId}}"))
                .route(web::get().to(get))
                .route(web::patch().to(patch))
                .route(web::delete().to(delete)),
        )
        .service(
            resource(&format!("{CORE}/{{c}}/units/{{extId}}/children"))
                .route(web::get().to(children)),
        )
        .service(
            resource(&format!("{CORE}/{{c}}/units/{{extId}}/children/{{child}}"))
                .route(web::put().to(move_child)),
        );
}

/// `validity` as sent to clients: absent ends are omitted.
#[derive(Debug, Serialize)]
pub struct ValidityDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
}

impl From<Validity> for ValidityDto {
    fn from(v: Validity) -> Self {
        let f =
            |t: chrono::DateTime<chrono::Utc>| idm_domain::values::format_timestamp(t.naive_utc());
        ValidityDto {
            from: v.from.map(f),
            to: v.to.map(f),
        }
    }
}

/// Unit as sent to clients (seed 004 shape).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_unit_ext_id: Option<String>,
    client_ext_id: String,
    hierarchical_name: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    state: UnitState,
    display_name: LanguageMap,
    abbreviation: LanguageMap,
    profileless: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    modification_comment: Option<String>,
    validity: ValidityDto,
}

impl From<Unit> for UnitDto {
    fn from(u: Unit) -> Self {
        UnitDto {
            meta: MetaDto::from(&u.meta),
            ext_id: u.meta.ext_id,
            parent_unit_ext_id: u.parent_ext_id,
            client_ext_id: u.client_ext_id,
            hierarchical_name: u.hierarchical_name,
            name: u.name,
            location: u.location,
            description: u.description,
            state: u.state,
            display_name: u.display_name,
            abbreviation: u.abbreviation,
            profileless: u.profileless,
            modification_comment: u.modification_comment,
            validity: u.validity.into(),
        }
    }
}

/// Body of `POST core/:c/units`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUnitBody {
    ext_id: Option<String>,
    parent_unit_ext_id: Option<String>,
    name: Option<String>,
    location: Option<String>,
    description: Option<String>,
    state: Option<UnitState>,
    #[serde(default)]
    display_name: LanguageMap,
    #[serde(default)]
    abbreviation: LanguageMap,
    profileless: Option<bool>,
    modification_comment: Option<String>,
    #[serde(default)]
    validity: Validity,
}

/// Body of `PATCH core/:c/units/:extId`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchUnitBody {
    ext_id: Option<String>,
    name: Option<String>,
    location: Option<String>,
    description: Option<String>,
    state: Option<UnitState>,
    display_name: Option<LanguageMap>,
    abbreviation: Option<LanguageMap>,
    profileless: Option<bool>,
    modification_comment: Option<String>,
    validity: Option<Validity>,
    version: Option<i64>,
}

async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
    Body(body): Body<CreateUnitBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[
        ("name", given(&body.name)),
        ("profileless", body.profileless.is_some()),
    ])?;
    let unit = state
        .services
        .create_unit(
            &caller,
            &path,
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
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{}/units/{}",
        unit.client_ext_id, unit.meta.ext_id
    )))
}

async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (c, e) = path.into_inner();
    let unit = state.services.get_unit(&caller, &c, &e).await?;
    Ok(ok_tagged(unit.meta.version, &UnitDto::from(unit)))
}

async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PatchUnitBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, e) = path.into_inner();
    let unit = state
        .services
        .patch_unit(
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
        )
        .await?;
    Ok(ok_tagged(unit.meta.version, &UnitDto::from(unit)))
}

async fn delete(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (c, e) = path.into_inner();
    state.services.delete_unit(&caller, &c, &e).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn children(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (c, e) = path.into_inner();
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_unit_children(&caller, &c, &e, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, UnitDto::from)))
}

async fn move_child(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (c, parent, child) = path.into_inner();
    state
        .services
        .move_unit(&caller, &c, &parent, &child)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
