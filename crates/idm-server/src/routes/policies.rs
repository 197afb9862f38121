//! Policy configurations: `core/:c/policies`, `core/:c/policies/:extId`,
//! `core/clients/:extId/policies`.

use std::collections::BTreeMap;
use validator::Validate;

use actix_web::{web, HttpResponse};
use idm_domain::model::PolicyConfig;
use idm_service::policies::PolicyInput;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::paths::{ClientItemPath, ClientPath, PolicyPath};
use crate::doc::{Api, AuthErrors, BodyErrors, ErrorEnvelope, PageParams};
use crate::dto::{created, ok_tagged, MetaDto, PageDto, CORE};
use crate::error::ApiError;
use crate::extract::{AuthCaller, Body, IfMatch, Params};
use crate::state::AppState;

/// Registers (and documents) the policy routes; the literal `core/clients/...` list first.
pub fn routes(api: &mut Api) {
    api.add(__path_list, list)
        .add(__path_create, create)
        .add(__path_get, get)
        .add(__path_patch, patch)
        .add(__path_delete, delete);
}

/// The policy types idm understands (documentation of `policyType`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PolicyType)]
#[allow(dead_code, clippy::enum_variant_names)]
pub enum PolicyTypeDoc {
    /// Password rules (`minLength`, `maxLength`, `minLetters`, `minDigits`, `minUpper`,
    /// `minLower`, `minNonAlnum`) and the lockout / reset keys (`maxCredFailureCount`,
    /// `tmpLockingThreshold`, `tmpLockingDuration`, `tmpLockingMode`, `resetCodeEnabled`,
    /// `history`).
    PwdPolicy,
    /// One per client: `validation.user.{name,firstname,email,mobile,sex,country}.mandatory`,
    /// `validation.user.phone.regex`, `allowed.user.languages` (`[de, en]`), `loginId.regex`.
    ClientPolicy,
    /// The identifier naming rule inside the client: `regex`, `maxLength`.
    IdentifierPolicy,
}

/// A policy configuration as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Policy)]
pub struct PolicyDto {
    #[serde(flatten)]
    meta: MetaDto,
    ext_id: String,
    client_ext_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[schema(value_type = PolicyTypeDoc)]
    policy_type: String,
    /// The default policy of its type in the client (the one applied).
    default_policy: bool,
    /// Parameter name → value (values are strings).
    parameters: BTreeMap<String, String>,
}

impl From<PolicyConfig> for PolicyDto {
    fn from(p: PolicyConfig) -> Self {
        PolicyDto {
            meta: MetaDto::from(&p.meta),
            ext_id: p.meta.ext_id,
            client_ext_id: p.client_ext_id,
            name: p.name,
            description: p.description,
            policy_type: p.policy_type.as_str().to_owned(),
            default_policy: p.default_policy,
            parameters: p.parameters,
        }
    }
}

/// Body of `POST` and `PATCH core/:c/policies[/:extId]`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(rename_all = "camelCase")]
pub struct PolicyBody {
    /// Create: generated when absent. Patch: if present, must equal the addressed extId.
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    ext_id: Option<String>,
    #[schema(max_length = 255)]
    #[validate(length(max = 255))]
    name: Option<String>,
    #[schema(max_length = 4000)]
    #[validate(length(max = 4000))]
    description: Option<String>,
    /// Required on create; cannot change.
    #[schema(value_type = Option<PolicyTypeDoc>)]
    policy_type: Option<String>,
    default_policy: Option<bool>,
    /// Parameter name → string value; on PATCH the whole map is replaced.
    #[validate(custom(function = "crate::validate::text_map"))]
    #[schema(value_type = Option<BTreeMap<String, crate::validate::MapValueText>>)]
    parameters: Option<BTreeMap<String, String>>,
    /// Patch: the version read; alternatively `If-Match: "<version>"`.
    version: Option<i64>,
}

impl PolicyBody {
    fn into_input(self, if_match: Option<i64>) -> PolicyInput {
        PolicyInput {
            ext_id: self.ext_id,
            name: self.name,
            description: self.description,
            policy_type: self.policy_type,
            default_policy: self.default_policy,
            parameters: self.parameters,
            version: self.version.or(if_match),
        }
    }
}

/// Creates a policy configuration of the client.
///
/// Requires `AccessControl.PolicyCreate`.
#[utoipa::path(post, path = "/nevisidm/api/core/v1/{clientExtId}/policies", tag = "policies",
    security(("bearer" = [])),
    params(ClientPath),
    request_body = PolicyBody,
    responses(
        (status = 201, description = "Created; `Location` names the new policy.",
            headers(("Location" = String, description = "URL of the new policy"))),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (`policyType` missing or \
            unknown, `parameters.<name>` unknown or of the wrong kind), \
            `errors.policyInconsistency` (an unsatisfiable password policy), \
            `errors.pcyconf.multipleClientPolicy` (the client has a ClientPolicy) or \
            `errors.duplicateValue` (extId taken).", body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn create(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientPath>,
    Body(body): Body<PolicyBody>,
) -> Result<HttpResponse, ApiError> {
    let ClientPath { client_ext_id } = path.into_inner();
    let p = state
        .services
        .create_policy(&caller, &client_ext_id, body.into_input(None))
        .await?;
    Ok(created(format!(
        "{CORE}/{client_ext_id}/policies/{}",
        p.meta.ext_id
    )))
}

/// Lists the client's policy configurations, keyset-paged.
///
/// Requires `AccessControl.ClientView` and `AccessControl.PolicyConfigurationView`.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/clients/{extId}/policies", tag = "policies",
    security(("bearer" = [])),
    params(ClientItemPath, PageParams),
    responses(
        (status = 200, description = "A page of policies.", body = PageDto<PolicyDto>),
        (status = 404, description = "`errors.noRecord`: no such client.", body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter`: bad `limit` or \
            `continuationToken`.", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn list(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<ClientItemPath>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let page = params.page()?;
    let limit = page.limit;
    let result = state
        .services
        .list_policies(&caller, &path.ext_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDto::of(result, limit, PolicyDto::from)))
}

/// Reads one policy configuration; `ETag` carries its version.
///
/// Requires `AccessControl.PolicyView`.
#[utoipa::path(get, path = "/nevisidm/api/core/v1/{clientExtId}/policies/{extId}", tag = "policies",
    security(("bearer" = [])),
    params(PolicyPath),
    responses(
        (status = 200, description = "The policy.", body = PolicyDto,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or policy.",
            body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn get(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<PolicyPath>,
) -> Result<HttpResponse, ApiError> {
    let PolicyPath {
        client_ext_id,
        ext_id,
    } = path.into_inner();
    let p = state
        .services
        .get_policy(&caller, &client_ext_id, &ext_id)
        .await?;
    Ok(ok_tagged(p.meta.version, &PolicyDto::from(p)))
}

/// Changes name, description and `defaultPolicy`, and replaces the whole `parameters` map
/// (optimistic locking by `version` or `If-Match`).
///
/// Requires `AccessControl.PolicyView` and `AccessControl.PolicyModify`.
#[utoipa::path(patch, path = "/nevisidm/api/core/v1/{clientExtId}/policies/{extId}", tag = "policies",
    security(("bearer" = [])),
    params(PolicyPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    request_body = PolicyBody,
    responses(
        (status = 200, description = "The changed policy.", body = PolicyDto,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, description = "`errors.noRecord`: no such client or policy.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.invalidParameter` (a parameter, a changed \
            `policyType` or `If-Match`), `errors.policyInconsistency` or `errors.modifyExtId`.",
            body = ErrorEnvelope),
        BodyErrors, AuthErrors,
    ))]
async fn patch(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<PolicyPath>,
    IfMatch(if_match): IfMatch,
    Body(body): Body<PolicyBody>,
) -> Result<HttpResponse, ApiError> {
    let PolicyPath {
        client_ext_id,
        ext_id,
    } = path.into_inner();
    let p = state
        .services
        .patch_policy(&caller, &client_ext_id, &ext_id, body.into_input(if_match))
        .await?;
    Ok(ok_tagged(p.meta.version, &PolicyDto::from(p)))
}

/// Deletes a policy configuration that no credential references.
///
/// Requires `AccessControl.PolicyDelete`.
#[utoipa::path(delete, path = "/nevisidm/api/core/v1/{clientExtId}/policies/{extId}", tag = "policies",
    security(("bearer" = [])),
    params(PolicyPath,
        ("If-Match" = Option<String>, Header, description = "`\"<version>\"` read before")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`errors.noRecord`: no such client or policy.",
            body = ErrorEnvelope),
        (status = 409, description = "`errors.optimisticLockingFailure`: the version is stale.",
            body = ErrorEnvelope),
        (status = 422, description = "`errors.undeletedDependencies` (credentials reference \
            the policy) or `errors.invalidParameter` (`If-Match`).", body = ErrorEnvelope),
        AuthErrors,
    ))]
async fn delete(
    state: web::Data<AppState>,
    AuthCaller(caller): AuthCaller,
    path: web::Path<PolicyPath>,
    IfMatch(if_match): IfMatch,
) -> Result<HttpResponse, ApiError> {
    let PolicyPath {
        client_ext_id,
        ext_id,
    } = path.into_inner();
    state
        .services
        .delete_policy(&caller, &client_ext_id, &ext_id, if_match)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
