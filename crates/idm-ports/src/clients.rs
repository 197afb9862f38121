//! Clients (tenants).

use async_trait::async_trait;
use idm_domain::model::{Client, Unit};

use crate::{Page, PageRequest, RepoResult};

/// Persistence of clients.
#[async_trait]
pub trait ClientRepo {
    /// The client with this extId, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn client_by_ext_id(&self, ext_id: &str) -> RepoResult<Option<Client>>;

    /// One keyset page of all clients in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_clients(&self, page: PageRequest) -> RepoResult<Page<Client>>;

    /// True if at least one client exists (decides whether `serve` bootstraps an admin).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn any_client_exists(&self) -> RepoResult<bool>;

    /// Stores a new client and its root unit in one transaction. `meta.id` and the unit's
    /// `client_id`, `path` and `hierarchical_name` are assigned by the adapter.
    ///
    /// # Errors
    /// `Conflict { "unique:clients.name" | "unique:clients.ext_id" }` on a duplicate.
    async fn create_client(&self, client: Client, root_unit: Unit) -> RepoResult<(Client, Unit)>;

    /// Writes `name`, `display_name`, `remarks` of `client` if the stored version still equals
    /// `client.meta.version`; bumps the version and `last_modified`.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone; `Conflict` on a duplicate
    /// name.
    async fn update_client(&self, client: &Client) -> RepoResult<Client>;

    /// Deletes the client and everything in it, in one transaction.
    ///
    /// # Errors
    /// `NotFound` if it does not exist.
    async fn delete_client(&self, client_id: i64) -> RepoResult<()>;
}
