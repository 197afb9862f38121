//! Shared application state handed to every handler.

use idm_diesel::Store;
use idm_service::Services;

/// What handlers and extractors reach through `web::Data`.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The use cases.
    pub services: Services,
    /// The store (readiness, pool gauges).
    pub store: Store,
    /// Maximum request body size.
    pub body_limit: usize,
    /// Set once a stop has begun (`/ready` then answers 503).
    pub stopping: crate::app::Stopping,
}
