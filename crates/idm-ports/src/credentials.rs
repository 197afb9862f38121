//! Password credentials.

use async_trait::async_trait;

use crate::RepoResult;

/// Persistence of password hashes (never the password).
#[async_trait]
pub trait CredentialRepo {
    /// The stored PHC hash string of the user's password, if one is set.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn password_hash(&self, user_id: i64) -> RepoResult<Option<String>>;

    /// Sets (creates or replaces) the user's password hash.
    ///
    /// # Errors
    /// `Conflict { "foreign_key" }` if the user vanished.
    async fn set_password_hash(
        &self,
        client_id: i64,
        user_id: i64,
        ext_id: &str,
        hash: &str,
    ) -> RepoResult<()>;
}
