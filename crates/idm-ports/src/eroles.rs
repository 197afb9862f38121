//! Enterprise roles, their member roles, and enterprise authorizations on profiles.

use async_trait::async_trait;
use idm_domain::model::{EnterpriseAuthorization, EnterpriseRole, Role};
use idm_domain::values::Validity;

use crate::{Page, PageRequest, RepoResult};

/// Everything through which a profile reaches roles, each with the validity of its grant: the
/// input of `idm_domain::eroles::effective_roles`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileRoleGrants {
    /// Direct authorizations: one role each.
    pub direct: Vec<(Validity, Role)>,
    /// Enterprise authorizations: the enterprise role's current members.
    pub enterprise: Vec<(Validity, Vec<Role>)>,
}

/// Persistence of enterprise roles and enterprise authorizations.
#[async_trait]
pub trait EnterpriseRoleRepo {
    /// The enterprise role with this extId in the client, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn erole_by_ext_id(
        &self,
        client_id: i64,
        ext_id: &str,
    ) -> RepoResult<Option<EnterpriseRole>>;

    /// Stores a new (empty) enterprise role.
    ///
    /// # Errors
    /// `Conflict { "unique:…name…" | "unique:…ext_id…" }` on a duplicate.
    async fn create_erole(&self, erole: EnterpriseRole) -> RepoResult<EnterpriseRole>;

    /// One keyset page of the client's enterprise roles in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_eroles(
        &self,
        client_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<EnterpriseRole>>;

    /// Writes name, description and display name if the stored version is still
    /// `erole.meta.version`.
    ///
    /// # Errors
    /// `StaleVersion` otherwise; `Conflict { "unique:…name…" }` on a duplicate name.
    async fn update_erole(&self, erole: &EnterpriseRole) -> RepoResult<EnterpriseRole>;

    /// Deletes an enterprise role with its memberships and enterprise authorizations.
    ///
    /// # Errors
    /// `StaleVersion` if its version is no longer `version` (or it is gone).
    async fn delete_erole(&self, id: i64, version: i64) -> RepoResult<()>;

    /// Makes a role a member; an existing membership is left as it is.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn add_erole_member(&self, erole_id: i64, role_id: i64) -> RepoResult<()>;

    /// Removes a membership.
    ///
    /// # Errors
    /// `NotFound` if the role was not a member.
    async fn remove_erole_member(&self, erole_id: i64, role_id: i64) -> RepoResult<()>;

    /// The enterprise authorization with this extId on the profile, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn eauthorization_by_ext_id(
        &self,
        profile_id: i64,
        ext_id: &str,
    ) -> RepoResult<Option<EnterpriseAuthorization>>;

    /// Stores a new enterprise authorization.
    ///
    /// # Errors
    /// `Conflict { "unique:…enterprise_role_id…" }` if the profile already has the enterprise
    /// role, `Conflict { "unique:…ext_id…" }` on a duplicate extId.
    async fn create_eauthorization(
        &self,
        eauthorization: EnterpriseAuthorization,
    ) -> RepoResult<EnterpriseAuthorization>;

    /// One keyset page of the profile's enterprise authorizations in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_eauthorizations(
        &self,
        profile_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<EnterpriseAuthorization>>;

    /// Writes the validity if the stored version is still `eauthorization.meta.version`.
    ///
    /// # Errors
    /// `StaleVersion` otherwise.
    async fn update_eauthorization(
        &self,
        eauthorization: &EnterpriseAuthorization,
    ) -> RepoResult<EnterpriseAuthorization>;

    /// Deletes an enterprise authorization.
    ///
    /// # Errors
    /// `NotFound` if it no longer exists.
    async fn delete_eauthorization(&self, id: i64) -> RepoResult<()>;

    /// Every grant through which the profile reaches roles with its current member roles (one
    /// transaction; each membership change is one statement, so it is seen whole or not at
    /// all).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn profile_role_grants(&self, profile_id: i64) -> RepoResult<ProfileRoleGrants>;
}
