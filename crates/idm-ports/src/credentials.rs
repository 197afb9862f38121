//! Credentials of every type: the common row (state, counters, validity, secret) and the
//! type-specific detail rows keyed by it.

use async_trait::async_trait;
use idm_domain::credential::{Credential, CredentialType, LoginState};

use crate::{Page, PageRequest, RepoResult};

/// Type-specific rows created together with the common row, in the same transaction.
/// Credential types add their variants here (the adapter matches exhaustively, so a new
/// variant cannot be forgotten there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialDetail {
    /// The type keeps everything in the common row (passwords: the hash is `secret`).
    None,
}

/// What [`CredentialRepo::create_credential`] stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// The common fields; `meta.id` is assigned by the adapter.
    pub credential: Credential,
    /// The secret as stored (a PHC hash, or sealed bytes): never returned by list or get.
    pub secret: Option<String>,
    /// Type-specific rows.
    pub detail: CredentialDetail,
}

/// Persistence of credentials.
#[async_trait]
pub trait CredentialRepo {
    /// The stored PHC hash string of the user's password, if one is set.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn password_hash(&self, user_id: i64) -> RepoResult<Option<String>>;

    /// Sets (creates or replaces) the user's password hash, for bootstrap, import and test
    /// fixtures: the REST lifecycle goes through [`CredentialRepo::create_credential`].
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

    /// Stores a new credential: the common row and its detail rows in one transaction.
    ///
    /// # Errors
    /// `Conflict { "unique:..." }` on a duplicate extId or a second password of the user
    /// (`credentials_one_password` / `credentials.user_id` in the constraint text).
    async fn create_credential(&self, new: NewCredential) -> RepoResult<Credential>;

    /// The user's (oldest) credential of `kind`.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn credential_of_type(
        &self,
        user_id: i64,
        kind: CredentialType,
    ) -> RepoResult<Option<Credential>>;

    /// All of the user's credentials of `kind`, oldest first.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn credentials_of_type(
        &self,
        user_id: i64,
        kind: CredentialType,
    ) -> RepoResult<Vec<Credential>>;

    /// The client's credential with this extId.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn credential_by_ext_id(
        &self,
        client_id: i64,
        ext_id: &str,
    ) -> RepoResult<Option<Credential>>;

    /// One keyset page of the user's credentials of every type, in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_credentials(
        &self,
        user_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<Credential>>;

    /// The stored secret of a credential.
    ///
    /// # Errors
    /// `NotFound` if the credential is gone.
    async fn credential_secret(&self, credential_id: i64) -> RepoResult<Option<String>>;

    /// Writes the common fields (policy, state, reason, detail, counters, lock, comment,
    /// validity, context) if the stored version still equals `credential.meta.version`; bumps
    /// the version and `last_modified`.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone.
    async fn update_credential(&self, credential: &Credential) -> RepoResult<Credential>;

    /// [`CredentialRepo::update_credential`] plus a new secret, in one transaction; the old
    /// secret goes to the password history, of which the newest `keep_history` entries are
    /// kept (0 = none).
    ///
    /// # Errors
    /// `StaleVersion` as for `update_credential`.
    async fn replace_secret(
        &self,
        credential: &Credential,
        secret: &str,
        keep_history: usize,
    ) -> RepoResult<Credential>;

    /// The newest `n` previous secrets of a credential (password history), newest first.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn secret_history(&self, credential_id: i64, n: usize) -> RepoResult<Vec<String>>;

    /// Deletes a credential with its detail rows.
    ///
    /// # Errors
    /// `NotFound` if it is already gone.
    async fn delete_credential(&self, credential_id: i64) -> RepoResult<()>;

    /// Records a login attempt atomically: writes `next` (state, counters, dates, lock) in
    /// one conditional UPDATE that only matches while the row still holds what `read` holds
    /// (version, state, both counters). `None` means another attempt or change came first:
    /// the caller re-reads and decides again, so concurrent failures all count and a race can
    /// never undo a lock. Logins do not bump `version` (they are not modifications).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn record_login(
        &self,
        read: &Credential,
        next: &LoginState,
    ) -> RepoResult<Option<Credential>>;
}
