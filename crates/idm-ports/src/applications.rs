//! Applications, their roles, and authorizations (role grants on profiles).

use async_trait::async_trait;
use idm_domain::model::{Application, Authorization, Role};

use crate::query::{ListQuery, Listed};
use crate::{Page, PageRequest, RepoResult};

/// Persistence of applications, roles and authorizations.
#[async_trait]
pub trait ApplicationRepo {
    /// The application with this extId, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn application_by_ext_id(&self, ext_id: &str) -> RepoResult<Option<Application>>;

    /// The application with this name, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn application_by_name(&self, name: &str) -> RepoResult<Option<Application>>;

    /// Stores a new application.
    ///
    /// # Errors
    /// `Conflict { "unique:applications.name" | "unique:applications.ext_id" }` on a duplicate.
    async fn create_application(&self, application: Application) -> RepoResult<Application>;

    /// The role with this name in the application, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn role_by_name(&self, application_id: i64, name: &str) -> RepoResult<Option<Role>>;

    /// Stores a new role.
    ///
    /// # Errors
    /// `Conflict { "unique:roles.name" | "unique:roles.ext_id" }` on a duplicate.
    async fn create_role(&self, role: Role) -> RepoResult<Role>;

    /// Stores a new authorization.
    ///
    /// # Errors
    /// `Conflict { "unique:authorizations.role" }` if the profile already has the role.
    async fn create_authorization(&self, authorization: Authorization)
        -> RepoResult<Authorization>;

    /// One keyset page of all applications in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_applications(&self, page: PageRequest) -> RepoResult<Page<Application>>;

    /// One page of the applications matching `query` ([`crate::query::APPLICATION_FIELDS`]).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn query_applications(&self, query: ListQuery) -> RepoResult<Listed<Application>>;

    /// The role with this extId (roles are global), if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn role_by_ext_id(&self, ext_id: &str) -> RepoResult<Option<Role>>;

    /// One keyset page of the roles of an application in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_roles(&self, application_id: i64, page: PageRequest) -> RepoResult<Page<Role>>;

    /// One page of the roles of an application matching `query` ([`crate::query::ROLE_FIELDS`]).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn query_roles(&self, application_id: i64, query: ListQuery) -> RepoResult<Listed<Role>>;

    /// One keyset page of the authorizations of a profile in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_authorizations(
        &self,
        profile_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<Authorization>>;

    /// Deletes an authorization.
    ///
    /// # Errors
    /// `NotFound` if it no longer exists.
    async fn delete_authorization(&self, id: i64) -> RepoResult<()>;

    /// Writes name, description, url, displayed and display name if the stored version is
    /// still `application.meta.version`.
    ///
    /// # Errors
    /// `StaleVersion` otherwise; `Conflict { "unique:applications.name" }` on a duplicate name.
    async fn update_application(&self, application: &Application) -> RepoResult<Application>;

    /// Deletes an application with its roles, unless one of its roles is granted to a profile
    /// or is a member of an enterprise role; the check and the delete are one transaction.
    ///
    /// # Errors
    /// `Conflict { "dependencies" }` while a role of it is assigned; `NotFound` if it is gone.
    async fn delete_application(&self, id: i64) -> RepoResult<()>;

    /// Writes the dataroom flags and validity if the stored version is still
    /// `authorization.meta.version`.
    ///
    /// # Errors
    /// `StaleVersion` otherwise.
    async fn update_authorization(
        &self,
        authorization: &Authorization,
    ) -> RepoResult<Authorization>;
}
