//! Route table. Each resource module registers its own paths; order matters only where a
//! literal segment (`clients`) could be read as a `:clientExtId`.

use actix_web::HttpResponse;

use crate::doc::Api;
use crate::error::ApiError;

pub mod applications;
pub mod attestations;
pub mod audit;
pub mod clients;
pub mod credentials;
pub mod dispatch_targets;
pub mod eroles;
pub mod fido_uaf;
pub mod identity;
pub mod mfa;
pub mod ops;
pub mod paths;
pub mod personal_questions;
pub mod policies;
pub mod principal;
pub mod profiles;
pub mod properties;
pub mod terms;
pub mod units;
pub mod users;

/// Unknown paths: 404 with the error envelope.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

/// Adds every documented route to the route table (registered and documented from the same
/// entries; see `docs/openapi.md`). Order = matching order.
pub fn api(api: &mut Api) {
    ops::routes(api);
    clients::routes(api);
    properties::routes(api);
    principal::routes(api);
    applications::routes(api);
    terms::routes(api);
    units::routes(api);
    users::routes(api);
    identity::routes(api);
    profiles::routes(api);
    personal_questions::routes(api);
    policies::routes(api);
    dispatch_targets::routes(api);
    attestations::routes(api);
    fido_uaf::routes(api);
    credentials::routes(api);
    eroles::routes(api);
    mfa::routes(api);
    audit::routes(api);
}
