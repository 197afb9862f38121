//! The documented route table and the documentation types route modules share.
//!
//! One source for both serving and documenting: a route module never names a path or a method
//! twice. It annotates a handler with `#[utoipa::path(get, path = "...", ...)]` and adds it
//! with `api.add(__path_handler, handler)`; the path and method actix serves are read from
//! that annotation, and the same entry feeds `/openapi.json`. A handler cannot be served
//! without being documented. See `docs/openapi.md`.
//!
//! This module depends on neither `routes` nor `openapi`: route modules use it, and
//! `openapi` (which assembles the document) uses it and the routes, so there is no cycle.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::Method;
use actix_web::{guard, web, FromRequest, Handler, HttpResponse, Resource, Responder, Route};
use serde::Serialize;
use utoipa::openapi::path::{HttpMethod, Paths};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Schema};
use utoipa::{IntoParams, IntoResponses, ToSchema};
use utoipa_actix_web::OpenApiFactory;

use crate::error::ApiError;

/// One served and documented operation.
struct Op {
    path: String,
    /// Builds the actix route: the client-scoped ones are registered twice (see
    /// [`Api::register`]), and an actix `Route` is not `Clone`.
    route: Box<dyn Fn() -> Route>,
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

/// The route table. Route modules add their annotated handlers; the app registers them and
/// `/openapi.json` documents exactly the same list.
#[derive(Default)]
pub struct Api {
    ops: Vec<Op>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.ops.iter().map(|o| &o.path))
            .finish()
    }
}

fn actix_method(m: &HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

impl Api {
    /// An empty table.
    pub fn new() -> Self {
        Api::default()
    }

    /// Serves `handler` at the path and method(s) of its `#[utoipa::path]` annotation
    /// (`doc` is the `__path_<handler>` value that annotation generates) and documents it.
    pub fn add<P, F, Args>(&mut self, doc: P, handler: F) -> &mut Self
    where
        P: utoipa::Path + OpenApiFactory,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let mut schemas = Vec::new();
        doc.schemas(&mut schemas);
        let mut paths = doc.paths();
        qualify_operation_ids(&mut paths);
        for method in P::methods() {
            let handler = handler.clone();
            self.ops.push(Op {
                path: P::path(),
                route: Box::new(move || {
                    web::route()
                        .method(actix_method(&method))
                        .to(handler.clone())
                }),
                paths: paths.clone(),
                schemas: schemas.clone(),
            });
        }
        self
    }

    /// Every (path, method) served, in registration order.
    pub fn operations(&self) -> Vec<(String, String)> {
        self.ops
            .iter()
            .flat_map(|o| {
                o.paths.paths.iter().flat_map(|(path, item)| {
                    [
                        ("GET", item.get.is_some()),
                        ("PUT", item.put.is_some()),
                        ("POST", item.post.is_some()),
                        ("DELETE", item.delete.is_some()),
                        ("OPTIONS", item.options.is_some()),
                        ("HEAD", item.head.is_some()),
                        ("PATCH", item.patch.is_some()),
                        ("TRACE", item.trace.is_some()),
                    ]
                    .into_iter()
                    .filter(|(_, present)| *present)
                    .map(|(m, _)| (path.clone(), m.to_owned()))
                    .collect::<Vec<_>>()
                })
            })
            .collect()
    }

    /// The distinct paths, in the order they were first added (= actix matching order).
    pub fn patterns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for op in &self.ops {
            if !out.contains(&op.path) {
                out.push(op.path.clone());
            }
        }
        out
    }

    /// Registers every operation: one actix resource per path (so unmatched methods on a known
    /// path answer the 405 envelope). The paths below `/nevisidm/api/core/v1/{clientExtId}/
    /// <family>` are served from one scope per (literal) family inside one client scope.
    ///
    /// Why: actix tries services one after the other, each a regular expression over the whole
    /// path. The order is
    /// 1. the paths outside `/nevisidm/api/core/v1/` (`/health`, the principal API, …);
    /// 2. the client scope, guarded: only for a request whose segment after `core/v1/` is not
    ///    one of the literal first segments of the core paths (`clients`, `terms`, …);
    /// 3. the core paths with a literal first segment (`/clients/{extId}/…`), in the order
    ///    they were added;
    /// 4. the client scope again, unguarded.
    ///
    /// So a client-scoped request (`/core/v1/c1/profiles/…`, the ★ read) tries one scope
    /// instead of every literal core path first; with those tried first, their expressions
    /// were a sixth of the server's CPU under the ★ read.
    ///
    /// What a path means is unchanged. Where a literal core path and a client-scoped one both
    /// fit (`/core/v1/clients/users`: the client `users`, or the users of the client
    /// `clients`), the guard fails and the literal one still wins in step 3, as JAX-RS prefers
    /// literal segments; a request of the client `clients` that no literal path fits reaches
    /// step 4. The groups are told apart by literal prefixes, so nothing in step 1 can match
    /// a core path. A miss inside a scope falls to the app's default service (the 404
    /// envelope), as a flat miss did.
    pub fn register(self, cfg: &mut web::ServiceConfig) {
        let mut groups: Vec<(String, Vec<Op>)> = Vec::new();
        for op in self.ops {
            match groups.iter_mut().find(|(p, _)| *p == op.path) {
                Some((_, ops)) => ops.push(op),
                None => groups.push((op.path.clone(), vec![op])),
            }
        }
        let mut families: Vec<(String, Vec<Member>)> = Vec::new();
        let mut core: Vec<(String, Vec<Op>)> = Vec::new();
        for (path, ops) in groups {
            if let Some((family, rest)) = client_family(&path) {
                let member = (rest.to_owned(), path.clone(), ops);
                match families.iter_mut().find(|(f, _)| f == family) {
                    Some((_, members)) => members.push(member),
                    None => families.push((family.to_owned(), vec![member])),
                }
            } else if path.starts_with(CORE_PREFIX) {
                core.push((path, ops));
            } else {
                cfg.service(served(&path, &path, &ops));
            }
        }
        let literals: BTreeSet<String> = core
            .iter()
            .filter_map(|(path, _)| literal_first_segment(path))
            .map(str::to_owned)
            .collect();
        let client_scope = || {
            families
                .iter()
                .fold(web::scope(CLIENT_SCOPE), |client, (family, members)| {
                    client.service(members.iter().fold(
                        web::scope(&format!("/{family}")),
                        |scope, (rest, path, ops)| scope.service(served(rest, path, ops)),
                    ))
                })
        };
        cfg.service(client_scope().guard(guard::fn_guard(move |ctx| {
            no_literal_could_fit(ctx.head().uri.path(), &literals)
        })));
        // Every core path is in a family or has a literal first segment (test
        // `every_core_path_is_in_a_client_family_or_starts_with_a_literal`): the guarded scope
        // cannot take a request that a later core path would have served.
        for (path, ops) in &core {
            cfg.service(served(path, path, ops));
        }
        cfg.service(client_scope());
    }

    /// The documentation of each operation: its path item(s) and the schemas they name.
    pub(crate) fn documented(&self) -> impl Iterator<Item = (&Paths, &[(String, RefOr<Schema>)])> {
        self.ops.iter().map(|o| (&o.paths, o.schemas.as_slice()))
    }
}

/// A path of a client-scoped family: the rest below the family, the full path, its operations.
type Member = (String, String, Vec<Op>);

/// The prefix of the core API's paths.
const CORE_PREFIX: &str = "/nevisidm/api/core/v1/";

/// The prefix of the client-scoped paths (see [`Api::register`]).
const CLIENT_SCOPE: &str = "/nevisidm/api/core/v1/{clientExtId}";

/// The literal first segment below `core/v1/` of a core path: `…/v1/clients/{extId}` →
/// `clients`; `None` for a client-scoped path.
fn literal_first_segment(path: &str) -> Option<&str> {
    first_core_segment(path).filter(|segment| !segment.is_empty() && !segment.contains('{'))
}

/// Whether no core path with a literal first segment can fit the request path `path` (the
/// guard of the first client scope, see [`Api::register`]). A segment with a `%` escape may
/// decode to a literal, so it counts as one that could fit.
fn no_literal_could_fit(path: &str, literals: &BTreeSet<String>) -> bool {
    first_core_segment(path)
        .is_some_and(|segment| !segment.contains('%') && !literals.contains(segment))
}

/// The segment right after `core/v1/` of a path (a pattern or a request path); `None` outside
/// the core API.
fn first_core_segment(path: &str) -> Option<&str> {
    path.strip_prefix(CORE_PREFIX)?.split('/').next()
}

/// `(family, rest)` of a client-scoped path whose family segment is literal:
/// `…/{clientExtId}/users/{userExtId}` → `("users", "/{userExtId}")`.
fn client_family(path: &str) -> Option<(&str, &str)> {
    let below = path.strip_prefix(CLIENT_SCOPE)?.strip_prefix('/')?;
    let (family, rest) = below.split_at(below.find('/').unwrap_or(below.len()));
    (!family.is_empty() && !family.contains('{')).then_some((family, rest))
}

/// The resource for `pattern` (relative to its scope), named after its full `path`: the
/// metrics middleware reads the matched route through `match_name` (a borrowed `&str`)
/// instead of `match_pattern`, which builds a new `String` on every request.
fn served(pattern: &str, path: &str, ops: &[Op]) -> Resource {
    ops.iter()
        .fold(resource(pattern).name(path), |r, op| r.route((op.route)()))
}

/// A resource whose unmatched methods answer 405 with the error envelope.
pub fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

/// utoipa names an operation after its handler (`get`, `list`), which repeats across route
/// modules; operation ids must be unique, so they are qualified by the first tag
/// (`clients_get`).
fn qualify_operation_ids(paths: &mut Paths) {
    for item in paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            let tag = op.tags.as_ref().and_then(|t| t.first()).cloned();
            if let (Some(tag), Some(id)) = (tag, op.operation_id.as_mut()) {
                if !id.starts_with(&format!("{tag}_")) {
                    *id = format!("{tag}_{id}");
                }
            }
        }
    }
}

/// The body of every 4xx/5xx response (mirrors `idm_domain::ErrorEnvelope`, which stays free
/// of documentation dependencies).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEnvelope {
    /// At least one error.
    pub errors: Vec<ErrorEntry>,
    /// Present only when a policy (password, identifier) failed.
    #[schema(required = false)]
    pub policy_violations: Vec<PolicyViolation>,
}

/// One entry of `errors[]`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEntry {
    /// The wire code, e.g. `errors.noRecord`.
    pub code: String,
    /// The human-readable message.
    pub message: String,
    /// The identifier of the entity related to the error, only used in certain error cases
    /// for bulk actions (an object, as in nevisIDM).
    #[schema(required = false)]
    pub identifier: ErrorIdentifierDoc,
}

/// `errors[].identifier`: the entity an error refers to; only the members that apply are sent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ErrorIdentifier)]
pub struct ErrorIdentifierDoc {
    /// The external identifier of the client.
    #[schema(required = false)]
    pub client_ext_id: String,
    /// The external identifier of the user.
    #[schema(required = false)]
    pub user_ext_id: String,
    /// The external identifier of the credential.
    #[schema(required = false)]
    pub credential_ext_id: String,
    /// The key identifier of the authenticator registered key.
    #[schema(required = false)]
    pub key_id: String,
    /// The authenticator attestation identifier of the FIDO UAF credential.
    #[schema(required = false)]
    pub aaid: String,
}

/// One entry of `policyViolations[]`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyViolation {
    /// Name of the policy element.
    pub display_name: String,
    /// Configuration of the element.
    pub config_string: String,
    /// The value supplied (masked for secrets).
    pub supplied_value: String,
    /// The limit the element enforces.
    pub limit_value: i64,
    /// The measured value.
    pub actual_value: String,
}

/// A language-dependent text: keys `EN`, `DE`, `FR`, `IT` only; each text at most 1,000
/// characters (`crate::validate::LANGUAGE_TEXT_MAX`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LanguageMap)]
pub struct LanguageMapDoc {
    /// English.
    #[serde(rename = "EN")]
    #[schema(required = false, max_length = 1000)]
    pub en: String,
    /// German.
    #[serde(rename = "DE")]
    #[schema(required = false, max_length = 1000)]
    pub de: String,
    /// French.
    #[serde(rename = "FR")]
    #[schema(required = false, max_length = 1000)]
    pub fr: String,
    /// Italian.
    #[serde(rename = "IT")]
    #[schema(required = false, max_length = 1000)]
    pub it: String,
}

/// `offset`, `sortBy` and `returnTotalResultCount` of the filterable lists
/// (`params(ListParams)`, next to `PageParams` and the list's filter parameters). Any other
/// query parameter than the documented ones → 422 `errors.invalidParameter` naming it.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Zero-based position of the first item; wins over `continuationToken` (which is then
    /// ignored). Not a non-negative number: 422.
    #[param(minimum = 0)]
    offset: Option<u64>,
    /// Sort field of the list, optionally suffixed `_ASC` (default) or `_DESC`, e.g.
    /// `name.familyName_DESC`; ties are broken by `extId` in the same direction and the
    /// continuation token carries the sort key. Absent: `created` ascending. A field the list
    /// does not sort by: 422 naming it.
    #[param(rename = "sortBy")]
    sort_by: Option<String>,
    /// `true` adds `_pagination.totalResult` (all matching items; left out for a caller who
    /// sees only part of a client's users). Not `true`/`false`: 422.
    #[param(rename = "returnTotalResultCount")]
    return_total_result_count: Option<bool>,
}

/// Filters of the sub-units list (AND-combined; text fields also take `<field>_SW` = starts
/// with and `<field>_IEQ` = equals, both ignoring case). Sort fields: `extId`, `name`,
/// `location`, `version`, `created`, `lastModified`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UnitListFilter {
    /// extId.
    #[param(rename = "extId")]
    ext_id: Option<String>,
    /// Name.
    name: Option<String>,
    /// `active` or `disabled`.
    state: Option<String>,
    /// Location.
    location: Option<String>,
    /// Version.
    version: Option<i64>,
    /// Creation time (RFC 3339).
    created: Option<String>,
    /// Last change (RFC 3339).
    #[param(rename = "lastModified")]
    last_modified: Option<String>,
}

/// Filters of a user's profiles (AND-combined; text fields also take `_SW` / `_IEQ`). Sort
/// fields: `extId`, `name`, `isDefaultProfile`, `version`, `created`, `lastModified`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ProfileListFilter {
    /// extId.
    #[param(rename = "extId")]
    ext_id: Option<String>,
    /// Name.
    name: Option<String>,
    /// `active`, `disabled` or `archived`.
    #[param(rename = "profileState")]
    profile_state: Option<String>,
    /// Only profiles in this unit.
    #[param(rename = "unitExtId")]
    unit_ext_id: Option<String>,
    /// `true` / `false`.
    #[param(rename = "isDefaultProfile")]
    is_default_profile: Option<bool>,
    /// Version.
    version: Option<i64>,
    /// Creation time (RFC 3339).
    created: Option<String>,
    /// Last change (RFC 3339).
    #[param(rename = "lastModified")]
    last_modified: Option<String>,
}

/// Filters of the applications, roles and terms lists (AND-combined; text fields also take
/// `_SW` / `_IEQ`). Sort fields: `extId`, `name`, `version`, `created`, `lastModified`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct NamedListFilter {
    /// extId.
    #[param(rename = "extId")]
    ext_id: Option<String>,
    /// Name.
    name: Option<String>,
    /// Version.
    version: Option<i64>,
    /// Creation time (RFC 3339).
    created: Option<String>,
    /// Last change (RFC 3339).
    #[param(rename = "lastModified")]
    last_modified: Option<String>,
}

/// `limit` and `continuationToken` of every list operation (`params(PageParams)`).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Page size (1..=1000; absent or 0: 100). Not a number or out of range: 422
    /// `errors.invalidParameter`.
    #[param(rename = "limit", minimum = 0, maximum = 1000)]
    limit: Option<i64>,
    /// Token from `_pagination.continuationToken` of the previous page. Malformed: 422.
    #[param(rename = "continuationToken")]
    continuation_token: Option<String>,
}

/// An error response with the envelope body; `description` names the codes.
pub fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                .build(),
        )
        .build()
        .into()
}

/// The errors of every authenticated operation: 401, 403, 503
/// (`responses(..., AuthErrors)`).
#[derive(Debug)]
pub struct AuthErrors;

impl IntoResponses for AuthErrors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        BTreeMap::from([
            (
                "401".into(),
                error_response(
                    "`errors.invalidJWTToken`: no, an invalid or an expired bearer token.",
                ),
            ),
            (
                "403".into(),
                error_response(
                    "`errors.insufficientRightsFunction` (a right is missing) or \
                     `errors.combinedDataroomDenied` (the target is outside the caller's \
                     dataroom).",
                ),
            ),
            (
                "503".into(),
                error_response("`errors.fatalError`: the database is unavailable; retry."),
            ),
        ])
    }
}

/// The errors of every operation with a JSON body: 400, 408, 413, 415
/// (`responses(..., BodyErrors)`). 422 is operation-specific and documented by the route.
#[derive(Debug)]
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        BTreeMap::from([
            (
                "400".into(),
                error_response("`errors.jsonProcessingError`: the body is not valid JSON."),
            ),
            (
                "408".into(),
                error_response(
                    "`errors.invalidData`: the body did not arrive within \
                     `server.client_request_timeout_ms`; the connection is closed.",
                ),
            ),
            (
                "413".into(),
                error_response("`errors.invalidData`: the body exceeds `server.body_limit_bytes`."),
            ),
            (
                "415".into(),
                error_response("`errors.unsupportedMediaType`: the body is not application/json."),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::{client_family, literal_first_segment, no_literal_could_fit, Api, CORE_PREFIX};

    #[test]
    fn a_core_path_names_its_literal_first_segment_and_a_client_scoped_one_none() {
        assert_eq!(
            literal_first_segment("/nevisidm/api/core/v1/clients/{extId}/users"),
            Some("clients")
        );
        assert_eq!(
            literal_first_segment("/nevisidm/api/core/v1/terms"),
            Some("terms")
        );
        assert_eq!(
            literal_first_segment("/nevisidm/api/core/v1/{clientExtId}/users"),
            None
        );
        assert_eq!(literal_first_segment("/health"), None);
    }

    #[test]
    fn the_first_client_scope_takes_only_core_requests_no_literal_path_could_fit() {
        let literals = ["clients".to_owned(), "terms".to_owned()].into();
        let fits = |p: &str| no_literal_could_fit(p, &literals);
        assert!(fits("/nevisidm/api/core/v1/c1/profiles/p/unit"));
        assert!(fits("/nevisidm/api/core/v1/client/users"));
        assert!(!fits("/nevisidm/api/core/v1/clients/users"));
        assert!(!fits("/nevisidm/api/core/v1/terms"));
        assert!(!fits("/nevisidm/api/core/v1/%63lients/users"));
        assert!(!fits("/nevisidm/api/auth/v1/c1/users/u/oath/login"));
        assert!(!fits("/health"));
    }

    #[test]
    fn every_core_path_is_in_a_client_family_or_starts_with_a_literal() {
        let mut api = Api::new();
        crate::routes::api(&mut api);
        for path in api.patterns() {
            if path.starts_with(CORE_PREFIX) {
                assert!(
                    client_family(&path).is_some() || literal_first_segment(&path).is_some(),
                    "{path}: the guarded client scope could take its requests"
                );
            }
        }
    }

    #[test]
    fn a_client_scoped_path_splits_into_its_literal_family_and_the_rest() {
        let c = "/nevisidm/api/core/v1/{clientExtId}";
        assert_eq!(
            client_family(&format!("{c}/users/{{userExtId}}/password")),
            Some(("users", "/{userExtId}/password"))
        );
        assert_eq!(client_family(&format!("{c}/users")), Some(("users", "")));
        assert_eq!(client_family(&format!("{c}/audit")), Some(("audit", "")));
    }

    #[test]
    fn paths_outside_the_client_scope_or_without_a_literal_family_stay_flat() {
        assert_eq!(client_family("/nevisidm/api/core/v1/clients/{extId}"), None);
        assert_eq!(client_family("/nevisidm/api/core/v1/{clientExtId}"), None);
        assert_eq!(
            client_family("/nevisidm/api/core/v1/{clientExtId}/{x}"),
            None
        );
        assert_eq!(
            client_family("/nevisidm/api/auth/v1/{clientExtId}/users/{userExtId}/oath/login"),
            None
        );
        assert_eq!(client_family("/health"), None);
    }
}
