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

/// Whether a write of a credential advances its user's credential epoch, in the same
/// transaction. The epoch is what X-Tokens are checked against: advancing it ends every
/// X-Token of the user issued before the write. The use case decides, because whether a write
/// is a credential change depends on what it did (a password's state moved) and on who did it
/// (see `docs/credentials.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Epoch {
    /// The write is a credential change: X-Tokens issued before it stop working.
    Advance,
    /// The write leaves the user's X-Tokens alone.
    Keep,
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

    /// The user's credential epoch (0 for a user whose password never changed). One read by
    /// primary key: it is on the admission path of every request that needs an X-Token.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn credential_epoch(&self, user_id: i64) -> RepoResult<i64>;

    /// Sets (creates or replaces) the user's password hash, for bootstrap, import and test
    /// fixtures: the REST lifecycle goes through [`CredentialRepo::create_credential`].
    /// Advances the user's credential epoch in the same transaction.
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

    /// Stores a new credential: the common row and its detail rows in one transaction; a new
    /// password also advances its user's credential epoch there.
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
    /// the version and `last_modified`; advances the user's credential epoch in the same
    /// transaction when `epoch` says so.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone.
    async fn update_credential(
        &self,
        credential: &Credential,
        epoch: Epoch,
    ) -> RepoResult<Credential>;

    /// [`CredentialRepo::update_credential`] plus a new secret, in one transaction; the old
    /// secret goes to the password history, of which the newest `keep_history` entries are
    /// kept (0 = none). A new secret is a credential change: the user's credential epoch
    /// advances in the same transaction.
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

    /// Deletes a credential with its detail rows; advances the user's credential epoch in the
    /// same transaction when `epoch` says so.
    ///
    /// # Errors
    /// `NotFound` if it is already gone.
    async fn delete_credential(&self, credential_id: i64, epoch: Epoch) -> RepoResult<()>;

    /// Records a login attempt atomically: writes `next` (state, counters, dates, lock) in
    /// one conditional UPDATE that only matches while the row still holds what `read` holds
    /// (version, state, both counters). `None` means another attempt or change came first:
    /// the caller re-reads and decides again, so concurrent failures all count and a race can
    /// never undo a lock. Logins do not bump `version` (they are not modifications). A login
    /// that moves a password into a locked state (`tmp-locked`, `fail-locked`) advances the
    /// user's credential epoch in the same statement's transaction.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn record_login(
        &self,
        read: &Credential,
        next: &LoginState,
    ) -> RepoResult<Option<Credential>>;
}
