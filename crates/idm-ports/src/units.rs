//! Units: the organisation tree of a client.

use async_trait::async_trait;
use idm_domain::model::Unit;

use crate::RepoResult;

/// Persistence of units.
#[async_trait]
pub trait UnitRepo {
    /// The unit with this extId in the client, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn unit_by_ext_id(&self, client_id: i64, ext_id: &str) -> RepoResult<Option<Unit>>;

    /// Stores a new unit under `unit.parent_id` (or as a root); the adapter assigns `id`,
    /// `path` and `hierarchical_name` from the parent.
    ///
    /// # Errors
    /// `NotFound` if the parent vanished; `Conflict` on a duplicate extId.
    async fn create_unit(&self, unit: Unit) -> RepoResult<Unit>;
}
