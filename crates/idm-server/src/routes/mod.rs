//! Route table. Each resource module registers its own paths; order matters only where a
//! literal segment (`clients`) could be read as a `:clientExtId`.

use actix_web::{web, HttpResponse, Resource};

use crate::error::ApiError;

pub mod applications;
pub mod clients;
pub mod credentials;
pub mod devices;
pub mod ops;
pub mod personal_questions;
pub mod principal;
pub mod profiles;
pub mod terms;
pub mod units;
pub mod users;

/// A resource whose unmatched methods answer 405 with the error envelope.
pub fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

/// Unknown paths: 404 with the error envelope.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    ops::configure(cfg);
    principal::configure(cfg);
    clients::configure(cfg);
    applications::configure(cfg);
    terms::configure(cfg);
    units::configure(cfg);
    users::configure(cfg);
    profiles::configure(cfg);
    personal_questions::configure(cfg);
    devices::configure(cfg);
    credentials::configure(cfg);
}
