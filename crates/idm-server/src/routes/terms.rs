//! Routes of this resource.

use actix_web::web;

/// Registers the routes of this resource.
pub fn configure(_cfg: &mut web::ServiceConfig) {}
