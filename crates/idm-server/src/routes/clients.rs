//! Clients: `core/clients` and `core/clients/:extId` (★ PATCH, seed 001).

use actix_web::{web, HttpResponse};
use idm_domain::model::Client;
use idm_domain::values::LanguageMap;
use idm_service::clients::{ClientPatch, NewClient};
use serde::{Deserialize, Serialize};

use super::resource;
use crate::dto::{created, given, ok_tagged, require, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::state::AppState;

/// Registers the client routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&format!("{CORE}/clients"))
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        resource(&format!("{CORE}/clients/{{extId}}"))
            .route(web::get().to(get))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete)),
    );
}

/// Client as sent to clients.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    name: String,
    display_name: LanguageMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}

impl From<Client> for ClientDto {
    fn from(c: Client) -> Self {
        ClientDto {
            meta: MetaDto::from(&c.meta),
            ext_id: c.meta.ext_id,
            name: c.name,
            display_name: c.display_name,
            remarks: c.remarks,
        }
    }
}

/// Body of `POST core/clients`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateClientBody {
    ext_id: Option<String>,
    name: Option<String>,
    #[serde(default)]
    display_name: LanguageMap,
    remarks: Option<String>,
}

/// Body of `PATCH core/clients/:extId`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchClientBody {
    ext_id: Option<String>,
    name: Option<String>,
    display_name: Option<LanguageMap>,
    remarks: Option<String>,
    version: Option<i64>,
}

async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    Body(body): Body<CreateClientBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[("name", given(&body.name))])?;
    let client = state
        .services
        .create_client(
            &caller,
            NewClient {
                ext_id: body.ext_id,
                name: body.name.unwrap_or_default(),
                display_name: body.display_name,
                remarks: body.remarks,
            },
        )
        .await?;
    Ok(created(format!("{CORE}/clients/{}", client.meta.ext_id)))
}

async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state.services.list_clients(&caller, page).await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, ClientDto::from)))
}

async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let client = state.services.get_client(&caller, &path).await?;
    Ok(ok_tagged(client.meta.version, &ClientDto::from(client)))
}

async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PatchClientBody>,
) -> Result<HttpResponse, ApiError> {
    let client = state
        .services
        .patch_client(
            &caller,
            &path,
            ClientPatch {
                ext_id: body.ext_id,
                name: body.name,
                display_name: body.display_name,
                remarks: body.remarks.map(Some),
                version: body.version.or(if_match),
            },
        )
        .await?;
    Ok(ok_tagged(client.meta.version, &ClientDto::from(client)))
}

async fn delete(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.services.delete_client(&caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
