//! Policy configurations of a client.

use async_trait::async_trait;
use idm_domain::model::PolicyConfig;
use idm_domain::policy_config::PolicyType;

use crate::{Page, PageRequest, RepoResult};

/// Persistence of policy configurations.
#[async_trait]
pub trait PolicyRepo {
    /// One keyset page of the client's policies in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_policies(
        &self,
        client_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<PolicyConfig>>;

    /// The client's policy with this extId, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn policy_by_ext_id(
        &self,
        client_id: i64,
        ext_id: &str,
    ) -> RepoResult<Option<PolicyConfig>>;

    /// The policy of `policy_type` that applies in the client: its default one, else the
    /// oldest; `None` when the client has none (the configured defaults apply).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn effective_policy(
        &self,
        client_id: i64,
        policy_type: PolicyType,
    ) -> RepoResult<Option<PolicyConfig>>;

    /// Stores a new policy; `meta.id` is assigned by the adapter.
    ///
    /// # Errors
    /// `Conflict { "unique:...ext_id..." }` on a duplicate extId,
    /// `Conflict { "unique:...policies_one_client_policy..." }` on a second `ClientPolicy`.
    async fn create_policy(&self, policy: PolicyConfig) -> RepoResult<PolicyConfig>;

    /// Writes name, description, defaultPolicy and the whole parameter map if the stored
    /// version still equals `policy.meta.version`; bumps the version.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone.
    async fn update_policy(&self, policy: &PolicyConfig) -> RepoResult<PolicyConfig>;

    /// How many credentials reference the policy (a referenced policy cannot be deleted).
    /// Credentials do not reference policies yet, so this is 0 until they do.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn policy_references(&self, policy_id: i64) -> RepoResult<u64>;

    /// Deletes the policy if its stored version still equals `version`.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone.
    async fn delete_policy(&self, id: i64, version: i64) -> RepoResult<()>;
}
