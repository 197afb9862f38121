//! Units: the organisation tree of a client.

use async_trait::async_trait;
use idm_domain::model::Unit;

use crate::query::{ListQuery, Listed};
use crate::{Page, PageRequest, RepoResult};

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
    /// The name must be unique under the parent (or among the client's root units); the
    /// check and the insert run in one transaction that first locks the parent (or client) row.
    ///
    /// # Errors
    /// `NotFound` if the parent vanished; `Conflict` on a duplicate extId;
    /// `Conflict { "unique:units.name" }` on a duplicate name under the parent.
    async fn create_unit(&self, unit: Unit) -> RepoResult<Unit>;
}

/// Unit operations beyond look-up and creation (listing, change, move, delete).
#[async_trait]
pub trait UnitAdmin {
    /// One keyset page of the direct children of `parent_id`.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_unit_children(&self, parent_id: i64, page: PageRequest)
        -> RepoResult<Page<Unit>>;

    /// One page of the direct children of `parent_id` matching `query` ([`crate::query::UNIT_FIELDS`]).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn query_unit_children(
        &self,
        parent_id: i64,
        query: ListQuery,
    ) -> RepoResult<Listed<Unit>>;

    /// Writes the changeable fields of `unit` if the stored version still equals
    /// `unit.meta.version`; bumps the version. Checks name uniqueness under the parent in the
    /// same transaction.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first; `Conflict { "unique:units.name" }` if a
    /// sibling already has the name.
    async fn update_unit(&self, unit: &Unit) -> RepoResult<Unit>;

    /// Deletes a unit without children or profiles, in one transaction with that check.
    ///
    /// # Errors
    /// `Conflict { "dependencies" }` while children or profiles exist; `NotFound` if gone.
    async fn delete_unit(&self, unit_id: i64) -> RepoResult<()>;

    /// Moves the unit `unit_id` (with its whole subtree) under `new_parent_id`: rewrites
    /// `parent_id`, `path` and `hierarchical_name` of every unit of the subtree in one
    /// transaction.
    ///
    /// # Errors
    /// `Conflict { "cycle" }` if the new parent is the unit or one of its descendants;
    /// `Conflict { "unique:units.name" }` if the new parent already has a child of that name;
    /// `NotFound` if either unit vanished.
    async fn move_unit(&self, unit_id: i64, new_parent_id: i64) -> RepoResult<Unit>;
}
