//! Profiles: a user's membership in a unit.

use async_trait::async_trait;
use idm_domain::model::Profile;

use crate::query::{ListQuery, Listed};
use crate::{Page, PageRequest, RepoResult};

/// Persistence of profiles.
#[async_trait]
pub trait ProfileRepo {
    /// The profile with this extId in the client, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn profile_by_ext_id(&self, client_id: i64, ext_id: &str) -> RepoResult<Option<Profile>>;

    /// Stores a new profile.
    ///
    /// # Errors
    /// `Conflict` on a duplicate extId; `Conflict { "foreign_key" }` if user or unit vanished.
    async fn create_profile(&self, profile: Profile) -> RepoResult<Profile>;
}

/// Profile operations beyond look-up and creation.
#[async_trait]
pub trait ProfileAdmin {
    /// One keyset page of the profiles of a user.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_user_profiles(
        &self,
        user_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<Profile>>;

    /// One page of the profiles of a user matching `query` ([`crate::query::PROFILE_FIELDS`]).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn query_user_profiles(
        &self,
        user_id: i64,
        query: ListQuery,
    ) -> RepoResult<Listed<Profile>>;

    /// Writes the changeable fields of `profile` (including `unit_id`) if the stored version
    /// still equals `profile.meta.version`; bumps the version.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first; `Conflict { "foreign_key" }` if the unit
    /// vanished.
    async fn update_profile(&self, profile: &Profile) -> RepoResult<Profile>;

    /// Deletes the profile and its authorizations.
    ///
    /// # Errors
    /// `NotFound` if it does not exist.
    async fn delete_profile(&self, profile_id: i64) -> RepoResult<()>;
}
