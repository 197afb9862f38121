//! Caller resolution: everything the policy engine needs about the caller, in one round trip.

use async_trait::async_trait;
use idm_domain::values::UserState;

use crate::RepoResult;

/// One authorization of one active profile of the caller, with what datarooms need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// Name of the role's application (`nevisIdm` for built-in rights).
    pub application_name: String,
    /// Name of the role.
    pub role_name: String,
    /// Client of the profile.
    pub client_id: i64,
    /// Id path of the profile's unit.
    pub unit_path: String,
    /// Dataroom flag.
    pub client_global: bool,
    /// Dataroom flag.
    pub unit_global: bool,
}

/// The caller's user, client and grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerRecord {
    /// User key.
    pub user_id: i64,
    /// User extId.
    pub user_ext_id: String,
    /// Login id.
    pub login_id: String,
    /// User state; only `active` callers are admitted.
    pub state: UserState,
    /// E-mail, for `principal/me`.
    pub email: Option<String>,
    /// First and family name, for `principal/me`.
    pub full_name: Option<String>,
    /// Preferred language, for `principal/me`.
    pub language_code: Option<String>,
    /// Client key.
    pub client_id: i64,
    /// Client extId.
    pub client_ext_id: String,
    /// Client name.
    pub client_name: String,
    /// The first active profile (the login profile), if any.
    pub profile_ext_id: Option<String>,
    /// Its unit's extId.
    pub unit_ext_id: Option<String>,
    /// Authorizations of all active profiles.
    pub grants: Vec<GrantRecord>,
    /// The earliest `validity.to` of the user, profiles and authorizations this record was
    /// built from: past it the record grants too much and must not be reused.
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Loads callers.
#[async_trait]
pub trait CallerRepo {
    /// The user `user_ext_id` of client `client_ext_id` with its active profiles'
    /// authorizations, in one query; `None` if either does not exist or the user is outside
    /// its validity. Profiles and authorizations outside their validity are left out.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn load_caller(
        &self,
        client_ext_id: &str,
        user_ext_id: &str,
    ) -> RepoResult<Option<CallerRecord>>;
}
