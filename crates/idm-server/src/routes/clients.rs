//! Clients: `core/clients` and `core/clients/:extId` (★ PATCH, seed 001).

use actix_web::{web, HttpResponse};
use idm_domain::model::Client;
use idm_domain::values::LanguageMap;
use idm_service::clients::{ClientPatch, NewClient};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::paths::ClientItemPath;
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope, LanguageMapDoc, PageParams};
use crate::dto::{created, given, ok_tagged, require, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::state::AppState;

/// Registers (and documents) the client routes.
pub fn routes(api: &mut Api) {
    api.add(__path_create, create)
        .add(__path_list, list)
        .add(__path_get, get)
        .add(__path_patch, patch)
        .add(__path_delete, delete);
}

/// Client as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Client)]
pub struct ClientDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    name: String,
    #[schema(value_type = LanguageMapDoc)]
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
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct CreateClientBody {
    /// Generated when absent.
    #[schema(max_length = 250)]
    #[validate(length(max = 250))]
    ext_id: Option<String>,
    /// Required; unique; identifier naming policy (`policy.identifier_regex`, by default
    /// letters, digits, space and `-@./_:(){}[]=!~+`, at most 129 characters; the
    /// naming policy decides below the column's 255).
    #[validate(length(max = 255))]
    #[schema(required = true, min_length = 1, max_length = 255)]
    name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<LanguageMapDoc>)]
    #[validate(custom(function = "crate::validate::language_map"))]
    display_name: LanguageMap,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    remarks: Option<String>,
}

/// Body of `PATCH core/clients/:extId`: only the fields present change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PatchClientBody {
    /// If present, must equal the addressed extId.
    #[schema(max_length = 250)]
    #[validate(length(max = 250))]
    ext_id: Option<String>,
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    name: Option<String>,
    #[schema(value_type = Option<LanguageMapDoc>)]
    #[validate(custom(function = "crate::validate::language_map"))]
    display_name: Option<LanguageMap>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    remarks: Option<String>,
    /// The version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

/// Creates a client (and its root unit).
#[utoipa::path(post, path = "/nevisidm/api/core/v1/clients", tag = "clients",
    security(("bearer" = [])),
    request_body = CreateClientBody,
    responses(
        (status = 201, description = "Created; `Location` names the new client.",
            headers(("Location" = String, description = "URL of the new client"))),
        (status = 422, description = "`errors.invalidParameter` (a field is missing or not \
            valid), `errors.identifierPolicyViolated` (name breaks the naming policy), \
            `errors.duplicateName` (name taken) or `errors.duplicateValue` (extId taken).",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
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

/// Lists clients, keyset-paged.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/clients", tag = "clients",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of clients.", body = PageDto<ClientDto>),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
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

/// Reads one client; `ETag` carries its version.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/clients/{extId}", tag = "clients",
    security(("bearer" = [])),
    params(ClientItemPath),
    responses(
        (status = 200, description = "The client.", body = ClientDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientItemPath>,
) -> Result<HttpResponse, ApiError> {
    let client = state.services.get_client(&caller, &path.ext_id).await?;
    Ok(ok_tagged(client.meta.version, &ClientDto::from(client)))
}

/// Changes the fields present in the body (optimistic locking by `version` or `If-Match`).
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/clients/{extId}", tag = "clients",
    security(("bearer" = [])),
    params(ClientItemPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PatchClientBody,
    responses(
        (status = 200, description = "The changed client.", body = ClientDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a field or `If-Match` is not \
            valid), `errors.modifyExtId` (body extId differs), \
            `errors.identifierPolicyViolated` or `errors.duplicateName`.", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientItemPath>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PatchClientBody>,
) -> Result<HttpResponse, ApiError> {
    let client = state
        .services
        .patch_client(
            &caller,
            &path.ext_id,
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

/// Deletes a client and everything in it.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/clients/{extId}", tag = "clients",
    security(("bearer" = [])),
    params(ClientItemPath),
    responses(
        (status = 204, description = "Deleted (also when it did not exist any more)."),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.deleteDefaultEntityFailure`: the caller's own \
            (default) client cannot be deleted.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientItemPath>,
) -> Result<HttpResponse, ApiError> {
    state.services.delete_client(&caller, &path.ext_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
