//! Look-ups that turn a missing entity into nevisIDM's exact 404 message.

use idm_domain::access::Target;
use idm_domain::model::{Client, Profile, Unit, User};
use idm_domain::DomainError;

use crate::{AppResult, Services};

impl Services {
    /// The client, or 404 `Client doesn't exist with extId '...'`.
    ///
    /// # Errors
    /// 404, or a repository failure.
    pub async fn require_client(&self, ext_id: &str) -> AppResult<Client> {
        self.repo
            .client_by_ext_id(ext_id)
            .await?
            .ok_or_else(|| client_not_found(ext_id))
    }

    /// The user of the client, or 404 `A user with extId '...' doesn't exist on client with
    /// name ...` (`suffix` is `"."` on the endpoints whose reference page ends the sentence).
    ///
    /// # Errors
    /// 404, or a repository failure.
    pub async fn require_user(
        &self,
        client: &Client,
        ext_id: &str,
        suffix: &str,
    ) -> AppResult<User> {
        self.repo
            .user_by_ext_id(client.meta.id, ext_id)
            .await?
            .ok_or_else(|| {
                DomainError::NotFound(format!(
                    "A user with extId '{ext_id}' doesn't exist on client with name {}{suffix}",
                    client.name
                ))
                .into()
            })
    }

    /// The unit of the client, or 404 `Unit doesn't exist with extId '...'`.
    ///
    /// # Errors
    /// 404, or a repository failure.
    pub async fn require_unit(&self, client: &Client, ext_id: &str) -> AppResult<Unit> {
        self.repo
            .unit_by_ext_id(client.meta.id, ext_id)
            .await?
            .ok_or_else(|| {
                DomainError::NotFound(format!("Unit doesn't exist with extId '{ext_id}'")).into()
            })
    }

    /// The profile of the client, or 404 `Profile doesn't exist with extId '...'`.
    ///
    /// # Errors
    /// 404, or a repository failure.
    pub async fn require_profile(&self, client: &Client, ext_id: &str) -> AppResult<Profile> {
        self.repo
            .profile_by_ext_id(client.meta.id, ext_id)
            .await?
            .ok_or_else(|| profile_not_found(ext_id))
    }

    /// Unit paths of the user's profiles: with [`Target::units`] and `owned_by` they place the
    /// user in the datarooms (a user without profiles is covered only by unit-global grants).
    ///
    /// # Errors
    /// A repository failure.
    pub async fn user_unit_paths(&self, user: &User) -> AppResult<Vec<String>> {
        Ok(self.repo.user_unit_paths(user.meta.id).await?)
    }
}

/// The dataroom target of a profile: its unit, owned by its user (for the self-admin path).
/// Borrows the profile's unit path, so building it allocates nothing.
pub fn profile_target(profile: &Profile) -> Target<'_> {
    Target::units(profile.client_id, std::slice::from_ref(&profile.unit_path))
        .owned_by(profile.user_id)
}

impl Services {
    /// The profile of `client_ext_id`, checked against `req`: rights first, then the client and
    /// profile 404s, then the dataroom of the profile's unit. Returns how access was granted
    /// (self-admin mode may need an X-Token).
    ///
    /// # Errors
    /// 403, 404, or a repository failure.
    pub(crate) async fn authorized_profile(
        &self,
        caller: &idm_domain::access::Caller,
        req: &idm_domain::access::Requirement,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<(Profile, idm_domain::access::Access)> {
        crate::clients::precheck(caller, req)?;
        let client = self.require_client(client_ext_id).await?;
        let profile = self.require_profile(&client, ext_id).await?;
        let access = Self::authorize(caller, req, &profile_target(&profile))?;
        Ok((profile, access))
    }
}

/// The dataroom target of a user object: its client, its profiles' units, and its owner (for
/// the self-admin path).
pub fn user_target<'a>(user: &User, unit_paths: &'a [String]) -> Target<'a> {
    Target::units(user.client_id, unit_paths).owned_by(user.meta.id)
}

/// 404 `Client doesn't exist with extId '...'` (seeds 000–004).
pub(crate) fn client_not_found(ext_id: &str) -> crate::AppError {
    DomainError::NotFound(format!("Client doesn't exist with extId '{ext_id}'")).into()
}

/// 404 `Profile doesn't exist with extId '...'` (seed 004).
pub(crate) fn profile_not_found(ext_id: &str) -> crate::AppError {
    DomainError::NotFound(format!("Profile doesn't exist with extId '{ext_id}'")).into()
}
