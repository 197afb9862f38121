//! Operations endpoints (no authentication): liveness and readiness.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::resource;
use crate::state::AppState;

/// Registers `/health` and `/ready`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/health").route(web::get().to(health)))
        .service(resource("/ready").route(web::get().to(ready)));
}

/// 200 while the process runs.
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "up"}))
}

/// 200 when the database answers, 503 otherwise.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.store.ping().await {
        HttpResponse::Ok().json(json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable().json(idm_domain::ErrorEnvelope::single(
            idm_domain::ErrorCode::FatalError,
            "The database is not reachable.",
        ))
    }
}
