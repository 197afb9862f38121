//! Applications (`core/applications`), their roles (`core/applications/:extId/roles`) and
//! authorizations (`core/:c/profiles/:p/authorizations`).

use actix_web::{web, HttpResponse};
use idm_domain::model::{Application, Authorization, Role};
use idm_domain::values::{LanguageMap, Validity};
use idm_service::applications::{NewApplication, NewAuthorization, NewRole};
use serde::{Deserialize, Serialize};

use super::resource;
use crate::dto::{created, given, ok_tagged, require, ts, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, Params};
use crate::state::AppState;

/// Registers the application, role and authorization routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&format!("{CORE}/applications"))
            .route(web::post().to(create_application))
            .route(web::get().to(list_applications)),
    )
    .service(
        resource(&format!("{CORE}/applications/{{extId}}")).route(web::get().to(get_application)),
    )
    .service(
        resource(&format!("{CORE}/applications/{{extId}}/roles"))
            .route(web::post().to(create_role))
            .route(web::get().to(list_roles)),
    )
    .service(
        resource(&format!(
            "{CORE}/{{clientExtId}}/profiles/{{profileExtId}}/authorizations"
        ))
        .route(web::post().to(create_authorization))
        .route(web::get().to(list_authorizations)),
    )
    .service(
        resource(&format!(
            "{CORE}/{{clientExtId}}/profiles/{{profileExtId}}/authorizations/{{extId}}"
        ))
        .route(web::get().to(get_authorization))
        .route(web::delete().to(delete_authorization)),
    );
}

/// Application as sent to clients.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    displayed: bool,
    display_name: LanguageMap,
}

impl From<Application> for ApplicationDto {
    fn from(a: Application) -> Self {
        ApplicationDto {
            meta: MetaDto::from(&a.meta),
            ext_id: a.meta.ext_id,
            name: a.name,
            description: a.description,
            url: a.url,
            displayed: a.displayed,
            display_name: a.display_name,
        }
    }
}

/// Role as sent to clients.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    application_ext_id: String,
    application_name: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        RoleDto {
            meta: MetaDto::from(&r.meta),
            ext_id: r.meta.ext_id,
            application_ext_id: r.application_ext_id,
            application_name: r.application_name,
            name: r.name,
            description: r.description,
        }
    }
}

/// Validity as sent to clients (RFC 3339 with `Z`).
#[derive(Debug, Serialize)]
pub struct ValidityDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
}

impl From<Validity> for ValidityDto {
    fn from(v: Validity) -> Self {
        ValidityDto {
            from: v.from.map(|t| ts(t.naive_utc())),
            to: v.to.map(|t| ts(t.naive_utc())),
        }
    }
}

/// Authorization as sent to clients.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    role_ext_id: String,
    client_global: bool,
    unit_global: bool,
    app_global: bool,
    enterprise_role_global: bool,
    validity: ValidityDto,
}

impl From<Authorization> for AuthorizationDto {
    fn from(a: Authorization) -> Self {
        AuthorizationDto {
            meta: MetaDto::from(&a.meta),
            ext_id: a.meta.ext_id,
            role_ext_id: a.role_ext_id,
            client_global: a.client_global,
            unit_global: a.unit_global,
            app_global: a.app_global,
            enterprise_role_global: a.enterprise_role_global,
            validity: ValidityDto::from(a.validity),
        }
    }
}

/// Body of `POST core/applications`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateApplicationBody {
    ext_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    url: Option<String>,
    displayed: Option<bool>,
    #[serde(default)]
    display_name: LanguageMap,
}

/// Body of `POST core/applications/:extId/roles`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRoleBody {
    ext_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
}

/// Body of `POST core/:c/profiles/:p/authorizations`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAuthorizationBody {
    ext_id: Option<String>,
    role_ext_id: Option<String>,
    #[serde(default)]
    client_global: bool,
    #[serde(default)]
    unit_global: bool,
    #[serde(default)]
    app_global: bool,
    #[serde(default)]
    enterprise_role_global: bool,
    #[serde(default)]
    validity: Validity,
}

async fn create_application(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    Body(body): Body<CreateApplicationBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[
        ("name", given(&body.name)),
        ("displayed", body.displayed.is_some()),
    ])?;
    let app = state
        .services
        .create_application(
            &caller,
            NewApplication {
                ext_id: body.ext_id,
                name: body.name.unwrap_or_default(),
                description: body.description,
                url: body.url,
                displayed: body.displayed.unwrap_or_default(),
                display_name: body.display_name,
            },
        )
        .await?;
    Ok(created(format!("{CORE}/applications/{}", app.meta.ext_id)))
}

async fn list_applications(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state.services.list_applications(&caller, page).await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, ApplicationDto::from)))
}

async fn get_application(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = state.services.get_application(&caller, &path).await?;
    Ok(ok_tagged(app.meta.version, &ApplicationDto::from(app)))
}

async fn create_role(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
    Body(body): Body<CreateRoleBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[("name", given(&body.name))])?;
    let role = state
        .services
        .create_role(
            &caller,
            &path,
            NewRole {
                ext_id: body.ext_id,
                name: body.name.unwrap_or_default(),
                description: body.description,
            },
        )
        .await?;
    Ok(created(format!(
        "{CORE}/applications/{}/roles/{}",
        role.application_ext_id, role.meta.ext_id
    )))
}

async fn list_roles(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state.services.list_roles(&caller, &path, page).await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, RoleDto::from)))
}

async fn create_authorization(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
    Body(body): Body<CreateAuthorizationBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[("roleExtId", given(&body.role_ext_id))])?;
    let (client, profile) = path.into_inner();
    let authorization = state
        .services
        .create_authorization(
            &caller,
            &client,
            &profile,
            NewAuthorization {
                ext_id: body.ext_id,
                role_ext_id: body.role_ext_id.unwrap_or_default(),
                client_global: body.client_global,
                unit_global: body.unit_global,
                app_global: body.app_global,
                enterprise_role_global: body.enterprise_role_global,
                validity: body.validity,
            },
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{client}/profiles/{profile}/authorizations/{}",
        authorization.meta.ext_id
    )))
}

async fn list_authorizations(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (client, profile) = path.into_inner();
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_authorizations(&caller, &client, &profile, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, AuthorizationDto::from)))
}

async fn get_authorization(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (client, profile, ext_id) = path.into_inner();
    let a = state
        .services
        .get_authorization(&caller, &client, &profile, &ext_id)
        .await?;
    Ok(ok_tagged(a.meta.version, &AuthorizationDto::from(a)))
}

async fn delete_authorization(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (client, profile, ext_id) = path.into_inner();
    state
        .services
        .delete_authorization(&caller, &client, &profile, &ext_id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
