//! Personal questions: `core/:clientExtId/personal-questions` (★ POST, seed 003) and
//! `.../:extId`.

use actix_web::{web, HttpResponse};
use idm_domain::model::PersonalQuestion;
use idm_domain::values::LanguageMap;
use idm_service::personal_questions::{NewPersonalQuestion, PersonalQuestionPatch};
use serde::{Deserialize, Serialize};

use super::resource;
use crate::dto::{created, ok_tagged, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::state::AppState;

/// Registers the personal-question routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&format!("{CORE}/{{clientExtId}}/personal-questions"))
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        resource(&format!(
            "{CORE}/{{clientExtId}}/personal-questions/{{extId}}"
        ))
        .route(web::get().to(get))
        .route(web::patch().to(patch))
        .route(web::delete().to(delete)),
    );
}

/// Personal question as sent to clients.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonalQuestionDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    client_ext_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    state_name: String,
    display_name: LanguageMap,
    content: LanguageMap,
}

impl From<PersonalQuestion> for PersonalQuestionDto {
    fn from(q: PersonalQuestion) -> Self {
        PersonalQuestionDto {
            meta: MetaDto::from(&q.meta),
            ext_id: q.meta.ext_id,
            client_ext_id: q.client_ext_id,
            description: q.description,
            state_name: q.state.as_str().to_owned(),
            display_name: q.display_name,
            content: q.content,
        }
    }
}

/// Body of `POST core/:c/personal-questions`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateQuestionBody {
    ext_id: Option<String>,
    description: Option<String>,
    state_name: Option<String>,
    display_name: Option<LanguageMap>,
    content: Option<LanguageMap>,
}

/// Body of `PATCH core/:c/personal-questions/:extId`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchQuestionBody {
    ext_id: Option<String>,
    description: Option<String>,
    state_name: Option<String>,
    display_name: Option<LanguageMap>,
    content: Option<LanguageMap>,
    version: Option<i64>,
}

async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
    Body(body): Body<CreateQuestionBody>,
) -> Result<HttpResponse, ApiError> {
    let client_ext_id = path.into_inner();
    let q = state
        .services
        .create_personal_question(
            &caller,
            &client_ext_id,
            NewPersonalQuestion {
                ext_id: body.ext_id,
                description: body.description,
                state_name: body.state_name,
                display_name: body.display_name.unwrap_or_default(),
                content: body.content.unwrap_or_default(),
            },
        )
        .await?;
    Ok(created(format!(
        "{CORE}/{client_ext_id}/personal-questions/{}",
        q.meta.ext_id
    )))
}

async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_personal_questions(&caller, &path, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, PersonalQuestionDto::from)))
}

async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (client_ext_id, ext_id) = path.into_inner();
    let q = state
        .services
        .get_personal_question(&caller, &client_ext_id, &ext_id)
        .await?;
    Ok(ok_tagged(q.meta.version, &PersonalQuestionDto::from(q)))
}

async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PatchQuestionBody>,
) -> Result<HttpResponse, ApiError> {
    let (client_ext_id, ext_id) = path.into_inner();
    let q = state
        .services
        .patch_personal_question(
            &caller,
            &client_ext_id,
            &ext_id,
            PersonalQuestionPatch {
                ext_id: body.ext_id,
                description: body.description,
                state_name: body.state_name,
                display_name: body.display_name,
                content: body.content,
                version: body.version.or(if_match),
            },
        )
        .await?;
    Ok(ok_tagged(q.meta.version, &PersonalQuestionDto::from(q)))
}

async fn delete(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<(String, String)>,
    IfMatch(if_match): IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (client_ext_id, ext_id) = path.into_inner();
    state
        .services
        .delete_personal_question(&caller, &client_ext_id, &ext_id, if_match)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
