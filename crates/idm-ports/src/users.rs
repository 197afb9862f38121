//! Users of a client.

use async_trait::async_trait;
use idm_domain::model::{Profile, User};
use idm_domain::values::UserState;

use crate::query::{ListQuery, Listed};
use crate::{Page, PageRequest, RepoResult};

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

/// Filters of the user list; every filter is an equality on an indexed column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Exact loginId.
    pub login_id: Option<String>,
    /// Exact extId.
    pub ext_id: Option<String>,
    /// Exact state.
    pub state: Option<UserState>,
}

/// User operations beyond look-up and creation.
#[async_trait]
pub trait UserAdmin {
    /// One keyset page of the users of a client matching `filter`.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_users(
        &self,
        client_id: i64,
        filter: UserFilter,
        page: PageRequest,
    ) -> RepoResult<Page<User>>;

    /// One page of the users of a client matching `query` (fields of
    /// [`crate::query::USER_FIELDS`]).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn query_users(&self, client_id: i64, query: ListQuery) -> RepoResult<Listed<User>>;

    /// Writes the fields of `user` that differ from `before` if the stored version still equals
    /// `user.meta.version`; bumps the version. `before` is the user as read at that version
    /// (the adapter sets only the columns that changed). When the state changes from
    /// `before.state` to `disabled` (`archived`), the user's profiles are disabled (archived) in
    /// the same transaction; an unchanged state leaves profiles alone (a profile may be
    /// re-activated on its own).
    ///
    /// # Errors
    /// `StaleVersion` if another write came first; `Conflict { "unique:...login_id" }` on a
    /// duplicate loginId.
    async fn update_user(&self, user: &User, before: &User) -> RepoResult<User>;

    /// Stores a new user and its first profile in one transaction: if either insert fails,
    /// neither exists. The profile's `user_id` / `user_ext_id` are taken from the stored user.
    ///
    /// # Errors
    /// `Conflict { "unique:...login_id" | "unique:users...ext_id" }` for the user,
    /// `Conflict { "unique:profiles..." }` for the profile, `Conflict { "foreign_key" }` if the
    /// unit vanished.
    async fn create_user_with_profile(
        &self,
        user: User,
        profile: Profile,
    ) -> RepoResult<(User, Profile)>;

    /// Archives the user (read at `user.meta.version`) in one transaction: the user's state
    /// becomes `archived` (version bumped), every profile is archived and loses its
    /// authorizations, and every credential of the user is deleted (password, FIDO UAF
    /// credentials, dispatch targets with their attestations). Returns the archived user.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first.
    async fn archive_user(&self, user: &User) -> RepoResult<User>;

    /// Deletes the user with its profiles, authorizations, credentials and devices, in one
    /// transaction.
    ///
    /// # Errors
    /// `NotFound` if it does not exist.
    async fn delete_user(&self, user_id: i64) -> RepoResult<()>;
}
