//! Dispatch targets (★ DELETE, seed 000), app attestations and FIDO UAF authenticators under
//! `core/:clientExtId/users/:userExtId/...`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use idm_domain::model::{AppAttestation, DispatchTarget, FidoUafCredential};
use idm_service::devices::{AppAttestationPatch, NewAppAttestation, NewDispatchTarget, NewFidoUaf};
use serde::{Deserialize, Serialize};

use super::resource;
use crate::dto::{created, ok_tagged, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params, XToken};
use crate::state::AppState;

/// Registers the device routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let user = format!("{CORE}/{{clientExtId}}/users/{{userExtId}}");
    cfg.service(
        resource(&format!("{user}/dispatch-targets"))
            .route(web::post().to(create_target))
            .route(web::get().to(list_targets)),
    )
    .service(
        resource(&format!("{user}/dispatch-targets/{{dtExtId}}"))
            .route(web::get().to(get_target))
            .route(web::delete().to(delete_target)),
    )
    .service(
        resource(&format!(
            "{user}/dispatch-targets/{{dtExtId}}/app-attestation"
        ))
        .route(web::post().to(create_attestation))
        .route(web::get().to(get_attestation))
        .route(web::patch().to(patch_attestation))
        .route(web::delete().to(delete_attestation)),
    )
    .service(
        resource(&format!("{user}/fido-authenticators"))
            .route(web::post().to(create_fido))
            .route(web::get().to(list_fido)),
    )
    .service(
        resource(&format!("{user}/fido-authenticators/{{extId}}"))
            .route(web::get().to(get_fido))
            .route(web::delete().to(delete_fido)),
    )
    .service(
        resource(&format!(
            "{user}/fido-authenticators/{{extId}}/dispatch-target/{{dtExtId}}"
        ))
        .route(web::delete().to(unlink_fido)),
    );
}

/// App attestation as sent to clients.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppAttestationDto {
    #[serde(flatten)]
    meta: MetaDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    counter: i64,
    receipt: String,
    public_key: String,
    device_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<String>,
}

impl From<AppAttestation> for AppAttestationDto {
    fn from(a: AppAttestation) -> Self {
        AppAttestationDto {
            meta: MetaDto::from(&a.meta),
            name: a.name,
            counter: a.counter,
            receipt: a.receipt,
            public_key: a.public_key,
            device_id: a.device_id,
            environment: a.environment,
        }
    }
}

/// Dispatch target as sent to clients, with its attestation if it has one.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DispatchTargetDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    #[serde(rename = "type")]
    target_type: String,
    device_id: String,
    target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    dispatcher: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_key: Option<String>,
    signing_key: String,
    app_id: String,
    name: String,
    state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_attestation: Option<AppAttestationDto>,
}

impl From<(DispatchTarget, Option<AppAttestation>)> for DispatchTargetDto {
    fn from((t, a): (DispatchTarget, Option<AppAttestation>)) -> Self {
        DispatchTargetDto {
            meta: MetaDto::from(&t.meta),
            ext_id: t.meta.ext_id,
            target_type: t.target_type,
            device_id: t.device_id,
            target: t.target,
            dispatcher: t.dispatcher,
            user_agent: t.user_agent,
            encryption_key: t.encryption_key,
            signing_key: t.signing_key,
            app_id: t.app_id,
            name: t.name,
            state: t.state.as_str().to_owned(),
            app_attestation: a.map(AppAttestationDto::from),
        }
    }
}

/// FIDO UAF credential as sent to clients.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FidoUafDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    state_name: String,
    aaid: String,
    key_id: String,
    authenticator_version: String,
    public_key: String,
    public_key_algorithm: String,
    app_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dispatch_target_ext_id: Option<String>,
}

impl From<FidoUafCredential> for FidoUafDto {
    fn from(c: FidoUafCredential) -> Self {
        FidoUafDto {
            meta: MetaDto::from(&c.meta),
            ext_id: c.meta.ext_id,
            state_name: c.state,
            aaid: c.aaid,
            key_id: c.key_id,
            authenticator_version: c.authenticator_version,
            public_key: c.public_key,
            public_key_algorithm: c.public_key_algorithm,
            app_id: c.app_id,
            device_id: c.device_id,
            dispatch_target_ext_id: c.dispatch_target_ext_id,
        }
    }
}

/// Body of an app attestation (nested in a dispatch target, or `POST .../app-attestation`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppAttestationBody {
    name: Option<String>,
    counter: Option<i64>,
    receipt: Option<String>,
    public_key: Option<String>,
    device_id: Option<String>,
    environment: Option<String>,
}

impl From<AppAttestationBody> for NewAppAttestation {
    fn from(b: AppAttestationBody) -> Self {
        NewAppAttestation {
            name: b.name,
            counter: b.counter,
            receipt: b.receipt,
            public_key: b.public_key,
            device_id: b.device_id,
            environment: b.environment,
        }
    }
}

/// Body of `PATCH .../app-attestation`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchAppAttestationBody {
    name: Option<String>,
    counter: Option<i64>,
    receipt: Option<String>,
    public_key: Option<String>,
    device_id: Option<String>,
    environment: Option<String>,
    version: Option<i64>,
}

/// Body of `POST .../dispatch-targets`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDispatchTargetBody {
    ext_id: Option<String>,
    #[serde(rename = "type")]
    target_type: Option<String>,
    device_id: Option<String>,
    target: Option<String>,
    dispatcher: Option<String>,
    user_agent: Option<String>,
    encryption_key: Option<String>,
    signing_key: Option<String>,
    app_id: Option<String>,
    name: Option<String>,
    state: Option<String>,
    app_attestation: Option<AppAttestationBody>,
}

/// Body of `POST .../fido-authenticators`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFidoUafBody {
    ext_id: Option<String>,
    aaid: Option<String>,
    key_id: Option<String>,
    authenticator_version: Option<String>,
    public_key: Option<String>,
    public_key_algorithm: Option<String>,
    app_id: Option<String>,
    device_id: Option<String>,
    state_name: Option<String>,
    dispatch_target_ext_id: Option<String>,
}

type UserPath = web::Path<(String, String)>;
type ItemPath = web::Path<(String, String, String)>;

async fn create_target(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: UserPath,
    Body(b): Body<CreateDispatchTargetBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, u) = path.into_inner();
    let (target, _) = state
        .services
        .create_dispatch_target(
            &caller,
            &c,
            &u,
            NewDispatchTarget {
                ext_id: b.ext_id,
                target_type: b.target_type,
                device_id: b.device_id,
                target: b.target,
                dispatcher: b.dispatcher,
                user_agent: b.user_agent,
                encryption_key: b.encryption_key,
                signing_key: b.signing_key,
                app_id: b.app_id,
                name: b.name,
                state: b.state,
                app_attestation: b.app_attestation.map(NewAppAttestation::from),
            },
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{c}/users/{u}/dispatch-targets/{}",
        target.meta.ext_id
    )))
}

async fn list_targets(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: UserPath,
    XToken(xtoken): XToken,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (c, u) = path.into_inner();
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_dispatch_targets(&caller, &c, &u, xtoken.as_deref(), page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, DispatchTargetDto::from)))
}

async fn get_target(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: ItemPath,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
    let found = state
        .services
        .get_dispatch_target(&caller, &c, &u, &dt, xtoken.as_deref())
        .await?;
    Ok(ok_tagged(
        found.0.meta.version,
        &DispatchTargetDto::from(found),
    ))
}

async fn delete_target(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: ItemPath,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
    state
        .services
        .delete_dispatch_target(&caller, &c, &u, &dt, xtoken.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn create_attestation(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: ItemPath,
    Body(b): Body<AppAttestationBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
    let a = state
        .services
        .create_app_attestation(&caller, &c, &u, &dt, b.into())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{CORE}/{c}/users/{u}/dispatch-targets/{dt}/app-attestation"),
        ))
        .insert_header((header::ETAG, format!("\"{}\"", a.meta.version)))
        .json(AppAttestationDto::from(a)))
}

async fn get_attestation(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: ItemPath,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
    let a = state
        .services
        .get_app_attestation(&caller, &c, &u, &dt, xtoken.as_deref())
        .await?;
    Ok(ok_tagged(a.meta.version, &AppAttestationDto::from(a)))
}

async fn patch_attestation(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: ItemPath,
    XToken(xtoken): XToken,
    IfMatch(if_match): IfMatch,
    Body(b): Body<PatchAppAttestationBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
    let a = state
        .services
        .patch_app_attestation(
            &caller,
            &c,
            &u,
            &dt,
            xtoken.as_deref(),
            AppAttestationPatch {
                name: b.name,
                counter: b.counter,
                receipt: b.receipt,
                public_key: b.public_key,
                device_id: b.device_id,
                environment: b.environment,
                version: b.version.or(if_match),
            },
        )
        .await?;
    Ok(ok_tagged(a.meta.version, &AppAttestationDto::from(a)))
}

async fn delete_attestation(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: ItemPath,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let (c, u, dt) = path.into_inner();
    state
        .services
        .delete_app_attestation(&caller, &c, &u, &dt, xtoken.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn create_fido(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: UserPath,
    Body(b): Body<CreateFidoUafBody>,
) -> Result<HttpResponse, ApiError> {
    let (c, u) = path.into_inner();
    let cred = state
        .services
        .create_fido_uaf(
            &caller,
            &c,
            &u,
            NewFidoUaf {
                ext_id: b.ext_id,
                aaid: b.aaid,
                key_id: b.key_id,
                authenticator_version: b.authenticator_version,
                public_key: b.public_key,
                public_key_algorithm: b.public_key_algorithm,
                app_id: b.app_id,
                device_id: b.device_id,
                state_name: b.state_name,
                dispatch_target_ext_id: b.dispatch_target_ext_id,
            },
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{c}/users/{u}/fido-authenticators/{}",
        cred.meta.ext_id
    )))
}

async fn list_fido(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: UserPath,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (c, u) = path.into_inner();
    let page = params.page()?;
    let limit = page.limit;
    let result = state.services.list_fido_uaf(&caller, &c, &u, page).await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, FidoUafDto::from)))
}

async fn get_fido(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: ItemPath,
) -> Result<HttpResponse, ApiError> {
    let (c, u, id) = path.into_inner();
    let cred = state.services.get_fido_uaf(&caller, &c, &u, &id).await?;
    Ok(ok_tagged(cred.meta.version, &FidoUafDto::from(cred)))
}

async fn delete_fido(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: ItemPath,
    XToken(xtoken): XToken,
) -> Result<HttpResponse, ApiError> {
    let (c, u, id) = path.into_inner();
    state
        .services
        .delete_fido_uaf(&caller, &c, &u, &id, xtoken.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn unlink_fido(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (c, u, id, dt) = path.into_inner();
    state
        .services
        .unlink_fido_uaf(&caller, &c, &u, &id, &dt)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
