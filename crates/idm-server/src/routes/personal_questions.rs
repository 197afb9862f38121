//! Personal questions: `core/:clientExtId/personal-questions` (★ POST, seed 003) and
//! `.../:extId`.

use actix_web::{web, HttpResponse};
use idm_domain::model::PersonalQuestion;
use idm_domain::values::LanguageMap;
use idm_service::personal_questions::{NewPersonalQuestion, PersonalQuestionPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::paths::{ClientPath, PersonalQuestionPath};
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope, LanguageMapDoc, PageParams};
use crate::dto::{created, ok_tagged, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::state::AppState;

/// Registers (and documents) the personal-question routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create, create)
        .add(__path_list, list)
        .add(__path_get, get)
        .add(__path_patch, patch)
        .add(__path_delete, delete);
}

/// The states of a personal question, as on the wire (documentation only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
#[schema(as = PersonalQuestionState)]
pub enum PersonalQuestionStateDoc {
    /// Offered to users.
    Active,
    /// Temporarily not offered.
    Disabled,
    /// Withdrawn for good.
    Revoked,
}

/// Personal question as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PersonalQuestion)]
pub struct PersonalQuestionDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    client_ext_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[schema(value_type = PersonalQuestionStateDoc)]
    state_name: String,
    #[schema(value_type = LanguageMapDoc)]
    display_name: LanguageMap,
    /// The question text.
    #[schema(value_type = LanguageMapDoc)]
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
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateQuestionBody {
    /// Generated when absent; must satisfy the identifier naming policy (at most 129
    /// characters by default).
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    description: Option<String>,
    /// Required: the initial state.
    #[schema(required = true, value_type = Option<PersonalQuestionStateDoc>)]
    state_name: Option<String>,
    #[schema(value_type = Option<LanguageMapDoc>)]
    #[validate(custom(function = "crate::validate::language_map"))]
    display_name: Option<LanguageMap>,
    /// The question text.
    #[schema(value_type = Option<LanguageMapDoc>)]
    #[validate(custom(function = "crate::validate::language_map"))]
    content: Option<LanguageMap>,
}

/// Body of `PATCH core/:c/personal-questions/:extId`: only the fields present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchQuestionBody {
    /// If present, must equal the addressed extId.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    description: Option<String>,
    #[schema(value_type = Option<PersonalQuestionStateDoc>)]
    state_name: Option<String>,
    #[schema(value_type = Option<LanguageMapDoc>)]
    #[validate(custom(function = "crate::validate::language_map"))]
    display_name: Option<LanguageMap>,
    #[schema(value_type = Option<LanguageMapDoc>)]
    #[validate(custom(function = "crate::validate::language_map"))]
    content: Option<LanguageMap>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// ★ Creates a personal question of the client (seed 003).
///
/// Requires `AccessControl.ClientView` and `AccessControl.PersonalQuestionCreate` (403
/// `errors.insufficientRightsFunction` `Permission denied: Caller does not have the required
/// right 'AccessControl.ClientView' to perform this action`, or
/// `errors.combinedDataroomDenied` `Permission denied: AccessControl.ClientView` for a client
/// outside the caller's dataroom).
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/personal-questions", tag = "personal_questions",
    security(("bearer" = [])),
    params(ClientPath),
    request_body = CreateQuestionBody,
    responses(
        (status = 201, description = "Created; `Location` names the new personal question.",
            headers(("Location" = String, description = "URL of the new personal question"))),
        (status = 404, description = "`errors.noRecord`: `Client doesn't exist with extId \
            '...'`.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (`The following fields are \
            not valid: ...` for a missing `stateName` or an invalid field, or `Invalid \
            PersonalQuestionState name '...'`), `errors.identifierPolicyViolated` (the extId \
            breaks the naming policy) or `errors.duplicateValue` (extId taken).",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientPath>,
    Body(body): Body<CreateQuestionBody>,
) -> Result<HttpResponse, ApiError> {
    let ClientPath { client_ext_id } = path.into_inner();
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

/// Lists the client's personal questions, keyset-paged.
///
/// Requires `AccessControl.ClientView` and `AccessControl.PersonalQuestionView`.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/personal-questions", tag = "personal_questions",
    security(("bearer" = [])),
    params(ClientPath, PageParams),
    responses(
        (status = 200, description = "A page of personal questions.",
            body = PageDto<PersonalQuestionDto>),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_personal_questions(&caller, &path.client_ext_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, PersonalQuestionDto::from)))
}

/// Reads one personal question; `ETag` carries its version.
///
/// Requires `AccessControl.PersonalQuestionView`.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/personal-questions/{extId}", tag = "personal_questions",
    security(("bearer" = [])),
    params(PersonalQuestionPath),
    responses(
        (status = 200, description = "The personal question.", body = PersonalQuestionDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or personal question.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<PersonalQuestionPath>,
) -> Result<HttpResponse, ApiError> {
    let PersonalQuestionPath {
        client_ext_id,
        ext_id,
    } = path.into_inner();
    let q = state
        .services
        .get_personal_question(&caller, &client_ext_id, &ext_id)
        .await?;
    Ok(ok_tagged(q.meta.version, &PersonalQuestionDto::from(q)))
}

/// Changes the fields present in the body (optimistic locking by `version` or `If-Match`).
///
/// Requires `AccessControl.PersonalQuestionView` and `AccessControl.PersonalQuestionModify`.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/personal-questions/{extId}", tag = "personal_questions",
    security(("bearer" = [])),
    params(PersonalQuestionPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchQuestionBody,
    responses(
        (status = 200, description = "The changed personal question.",
            body = PersonalQuestionDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or personal question.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a field or `If-Match` is not \
            valid, or `Invalid PersonalQuestionState name '...'`) or `errors.modifyExtId` \
            (body extId differs).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<PersonalQuestionPath>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PatchQuestionBody>,
) -> Result<HttpResponse, ApiError> {
    let PersonalQuestionPath {
        client_ext_id,
        ext_id,
    } = path.into_inner();
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

/// Deletes a personal question (`If-Match`, when sent, must name the current version).
///
/// Requires `AccessControl.PersonalQuestionDelete`.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/personal-questions/{extId}", tag = "personal_questions",
    security(("bearer" = [])),
    params(PersonalQuestionPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`errors.noRecord`: no such client or personal question.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale \
            (or it changed concurrently).", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: `If-Match` is not valid.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<PersonalQuestionPath>,
    IfMatch(if_match): IfMatch,
) -> Result<HttpResponse, ApiError> {
    let PersonalQuestionPath {
        client_ext_id,
        ext_id,
    } = path.into_inner();
    state
        .services
        .delete_personal_question(&caller, &client_ext_id, &ext_id, if_match)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
