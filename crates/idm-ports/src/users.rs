//! Users of a client.

use async_trait::async_trait;
use idm_domain::model::User;

use crate::RepoResult;

/// Persistence of users.
#[async_trait]
pub trait UserRepo {
    /// The user with this extId in the client, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn user_by_ext_id(&self, client_id: i64, ext_id: &str) -> RepoResult<Option<User>>;

    /// The user with this loginId in the client, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn user_by_login_id(&self, client_id: i64, login_id: &str) -> RepoResult<Option<User>>;

    /// Stores a new user.
    ///
    /// # Errors
    /// `Conflict { "unique:users.login_id" | "unique:users.ext_id" }` on a duplicate.
    async fn create_user(&self, user: User) -> RepoResult<User>;

    /// Id paths of the units of the user's profiles (the user's place in datarooms).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn user_unit_paths(&self, user_id: i64) -> RepoResult<Vec<String>>;
}
