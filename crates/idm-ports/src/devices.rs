//! Dispatch targets, app attestations and FIDO UAF credentials.

use async_trait::async_trait;

/// Persistence of the mobile-authentication model.
#[async_trait]
pub trait DeviceRepo {}
