//! Profiles: a user's membership in a unit.

use async_trait::async_trait;
use idm_domain::model::Profile;

use crate::RepoResult;

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
