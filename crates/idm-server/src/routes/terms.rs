//! Terms (`core/terms`), consents (★ POST, seed 002) and pending terms of a user.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use idm_domain::model::{Consent, Terms};
use idm_service::terms::{NewTerms, TermsPatch};
use serde::{Deserialize, Deserializer, Serialize};

use super::resource;
use crate::dto::{created, given, ok_tagged, require, ts, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::state::AppState;

/// Registers the terms, consent and pending-terms routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&format!("{CORE}/terms"))
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        resource(&format!("{CORE}/terms/{{extId}}"))
            .route(web::get().to(get))
            .route(web::patch().to(patch)),
    )
    .service(
        resource(&format!(
            "{CORE}/{{clientExtId}}/users/{{userExtId}}/consents"
        ))
        .route(web::post().to(create_consent))
        .route(web::get().to(list_consents)),
    )
    .service(
        resource(&format!(
            "{CORE}/{{clientExtId}}/users/{{userExtId}}/terms-pending"
        ))
        .route(web::get().to(pending)),
    );
}

/// Terms as sent to clients.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TermsDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    name: String,
    active: bool,
    silent_acceptance: bool,
    terms_version: String,
    urls: BTreeMap<String, String>,
    application_ext_ids: Vec<String>,
}

impl From<Terms> for TermsDto {
    fn from(t: Terms) -> Self {
        TermsDto {
            meta: MetaDto::from(&t.meta),
            ext_id: t.meta.ext_id,
            name: t.name,
            active: t.active,
            silent_acceptance: t.silent_acceptance,
            terms_version: t.terms_version,
            urls: t.urls,
            application_ext_ids: t.application_ext_ids,
        }
    }
}

/// One entry of the (bare-array) consents list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentDto {
    terms_ext_id: String,
    terms_version: String,
    acceptance_date: String,
}

impl From<Consent> for ConsentDto {
    fn from(c: Consent) -> Self {
        ConsentDto {
            terms_ext_id: c.terms_ext_id,
            terms_version: c.terms_version,
            acceptance_date: ts(c.acceptance_date),
        }
    }
}

/// `termsVersion` is a string, but the reference's own example sends a number; accept both.
fn version_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(serde::de::Error::custom("termsVersion must be a string")),
    }
}

/// Body of `POST core/terms`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTermsBody {
    ext_id: Option<String>,
    name: Option<String>,
    active: Option<bool>,
    silent_acceptance: Option<bool>,
    #[serde(default, deserialize_with = "version_text")]
    terms_version: Option<String>,
    urls: Option<BTreeMap<String, String>>,
    application_ext_ids: Option<Vec<String>>,
}

/// Body of `PATCH core/terms/:extId` (`silentAcceptance` is not patchable, as in nevisIDM).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchTermsBody {
    ext_id: Option<String>,
    name: Option<String>,
    active: Option<bool>,
    #[serde(default, deserialize_with = "version_text")]
    terms_version: Option<String>,
    urls: Option<BTreeMap<String, String>>,
    application_ext_ids: Option<Vec<String>>,
    version: Option<i64>,
}

/// Body of `POST core/:c/users/:u/consents`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateConsentBody {
    terms_ext_id: Option<String>,
}

async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    Body(body): Body<CreateTermsBody>,
) -> Result<HttpResponse, ApiError> {
    require(&[
        ("name", given(&body.name)),
        ("active", body.active.is_some()),
        ("silentAcceptance", body.silent_acceptance.is_some()),
        ("termsVersion", given(&body.terms_version)),
    ])?;
    let terms = state
        .services
        .create_terms(
            &caller,
            NewTerms {
                ext_id: body.ext_id,
                name: body.name.unwrap_or_default(),
                active: body.active.unwrap_or_default(),
                silent_acceptance: body.silent_acceptance.unwrap_or_default(),
                terms_version: body.terms_version.unwrap_or_default(),
                urls: body.urls.unwrap_or_default(),
                application_ext_ids: body.application_ext_ids.unwrap_or_default(),
            },
        )
        .await?;
    Ok(created(format!("{CORE}/terms/{}", terms.meta.ext_id)))
}

async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state.services.list_terms(&caller, page).await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, TermsDto::from)))
}

async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let terms = state.services.get_terms(&caller, &path).await?;
    Ok(ok_tagged(terms.meta.version, &TermsDto::from(terms)))
}

async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PatchTermsBody>,
) -> Result<HttpResponse, ApiError> {
    let terms = state
        .services
        .patch_terms(
            &caller,
            &path,
            TermsPatch {
                ext_id: body.ext_id,
                name: body.name,
                active: body.active,
                terms_version: body.terms_version,
                urls: body.urls,
                application_ext_ids: body.application_ext_ids,
                version: body.version.or(if_match),
            },
        )
        .await?;
    Ok(ok_tagged(terms.meta.version, &TermsDto::from(terms)))
}

async fn create_consent(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
    Body(body): Body<CreateConsentBody>,
) -> Result<HttpResponse, ApiError> {
    let (client_ext_id, user_ext_id) = path.into_inner();
    let consent = state
        .services
        .create_consent(
            &caller,
            &client_ext_id,
            &user_ext_id,
            body.terms_ext_id.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{client_ext_id}/users/{user_ext_id}/consents/{}",
        consent.meta.ext_id
    )))
}

async fn list_consents(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (client_ext_id, user_ext_id) = path.into_inner();
    let consents = state
        .services
        .list_consents(&caller, &client_ext_id, &user_ext_id)
        .await?;
    let items: Vec<ConsentDto> = consents.into_iter().map(ConsentDto::from).collect();
    Ok(HttpResponse::Ok().json(items))
}

async fn pending(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let (client_ext_id, user_ext_id) = path.into_inner();
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .pending_terms(&caller, &client_ext_id, &user_ext_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, TermsDto::from)))
}
