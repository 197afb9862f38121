//! Operations endpoints (no authentication): liveness, readiness, metrics, the OpenAPI
//! document and its interactive page (Swagger UI, vendored: no internet needed).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::doc::{Api, ErrorEnvelope};
use crate::metrics::Metrics;
use crate::state::AppState;

/// Registers the operations endpoints.
pub fn routes(api: &mut Api) {
    api.add(__path_health, health)
        .add(__path_ready, ready)
        .add(__path_metrics, metrics)
        .add(__path_openapi_json, openapi_json)
        .add(__path_docs, docs)
        .add(__path_docs_css, docs_css)
        .add(__path_docs_js, docs_js);
}

/// Registers `GET /debug/slow` (only when `server.debug_slow_endpoint = true`: a test hook
/// for graceful shutdown, never enabled by default).
pub fn debug_routes(api: &mut Api) {
    api.add(__path_debug_slow, debug_slow);
}

/// `{"status": ...}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusDto {
    /// `up` or `ready`.
    status: String,
    /// `/ready` only: the revocation bus between instances — `up`, `down` (revocations then
    /// reach other instances only when their cache entries expire), or `not-needed` (SQLite).
    #[serde(skip_serializing_if = "Option::is_none")]
    revocations: Option<&'static str>,
}

/// The rendered OpenAPI document, built once at start.
#[derive(Debug)]
pub struct Document(pub String);

/// 200 while the process runs.
#[utoipa::path(get, path = "/health", tag = "ops",
    responses((status = 200, description = "The process is up.", body = StatusDto)))]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(StatusDto {
        status: "up".into(),
        revocations: None,
    })
}

/// 200 when the database answers; 503 when it does not, or once the server is stopping.
#[utoipa::path(get, path = "/ready", tag = "ops",
    responses(
        (status = 200, description = "The database answers.", body = StatusDto),
        (status = 503, description = "`errors.fatalError`: the database is not reachable, or the server is shutting down.", body = ErrorEnvelope),
    ))]
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.stopping.is_set() {
        // Draining: in-flight requests finish, but no load balancer should send more.
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::CONNECTION, "close"))
            .json(idm_domain::ErrorEnvelope::single(
                idm_domain::ErrorCode::FatalError,
                "The server is shutting down.",
            ));
    }
    if state.store.ping().await {
        let revocations = match state.store.bus_state() {
            idm_diesel::BusState::NotNeeded => "not-needed",
            idm_diesel::BusState::Idle => "idle",
            idm_diesel::BusState::Up => "up",
            idm_diesel::BusState::Down => "down",
        };
        HttpResponse::Ok().json(StatusDto {
            status: "ready".into(),
            revocations: Some(revocations),
        })
    } else {
        HttpResponse::ServiceUnavailable().json(idm_domain::ErrorEnvelope::single(
            idm_domain::ErrorCode::FatalError,
            "The database is not reachable.",
        ))
    }
}

/// Prometheus metrics (text exposition format 0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Request counters and latency by route template, \
        method and status; database pool gauges; build info.", body = String,
        content_type = "text/plain")))]
async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(metrics.render(&state.store.pool_stats(), state.services.caller_loads()))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI 3.1 document of this server.",
        body = Object, content_type = "application/json")))]
async fn openapi_json(doc: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

const DOCS_HTML: &str = include_str!("../../assets/docs.html");
const SWAGGER_CSS: &str = include_str!("../../assets/swagger-ui/swagger-ui.css");
const SWAGGER_JS: &str = include_str!("../../assets/swagger-ui/swagger-ui-bundle.js");

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// The interactive API page (Swagger UI, served by this binary).
#[utoipa::path(get, path = "/docs", tag = "ops",
    responses((status = 200, description = "Swagger UI for /openapi.json.", body = String,
        content_type = "text/html")))]
async fn docs() -> HttpResponse {
    asset("text/html; charset=utf-8", DOCS_HTML)
}

/// Stylesheet of the API page.
#[utoipa::path(get, path = "/docs/swagger-ui.css", tag = "ops",
    responses((status = 200, description = "Vendored Swagger UI stylesheet.", body = String,
        content_type = "text/css")))]
async fn docs_css() -> HttpResponse {
    asset("text/css; charset=utf-8", SWAGGER_CSS)
}

/// Script of the API page.
#[utoipa::path(get, path = "/docs/swagger-ui-bundle.js", tag = "ops",
    responses((status = 200, description = "Vendored Swagger UI bundle.", body = String,
        content_type = "text/javascript")))]
async fn docs_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SWAGGER_JS)
}

/// Query of `GET /debug/slow`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlowQuery {
    /// How long to take, in milliseconds (at most 60000; default 1000).
    ms: Option<u64>,
}

/// Answers after `ms` milliseconds (test hook for graceful shutdown).
#[utoipa::path(get, path = "/debug/slow", tag = "ops", params(SlowQuery),
    responses((status = 200, description = "Slept.", body = StatusDto)))]
async fn debug_slow(query: web::Query<SlowQuery>) -> HttpResponse {
    let ms = query.ms.unwrap_or(1000).min(60_000);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    HttpResponse::Ok().json(StatusDto {
        status: "slept".into(),
        revocations: None,
    })
}
