//! Terms and consents.

use async_trait::async_trait;
use idm_domain::model::{Consent, Terms};

use crate::query::{ListQuery, Listed};
use crate::{Page, PageRequest, RepoResult};

/// Persistence of terms (global) and of users' consents to them.
#[async_trait]
pub trait TermsRepo {
    /// The terms with this extId, with their application extIds, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn terms_by_ext_id(&self, ext_id: &str) -> RepoResult<Option<Terms>>;

    /// One keyset page of all terms in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_terms(&self, page: PageRequest) -> RepoResult<Page<Terms>>;

    /// One page of the terms matching `query` ([`crate::query::TERMS_FIELDS`]).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn query_terms(&self, query: ListQuery) -> RepoResult<Listed<Terms>>;

    /// Stores new terms and links them to the applications with the given internal ids, in
    /// one transaction. `meta.id` is assigned by the adapter; `application_ext_ids` of the
    /// input is ignored (the result carries the stored links).
    ///
    /// # Errors
    /// `Conflict { "unique:terms.name..." | "unique:terms.ext_id..." }` on a duplicate;
    /// `Conflict { "foreign_key..." }` if an application vanished meanwhile.
    async fn create_terms(&self, terms: Terms, application_ids: Vec<i64>) -> RepoResult<Terms>;

    /// Writes `name`, `active`, `silent_acceptance`, `terms_version` and `urls` if the stored
    /// version still equals `terms.meta.version` (bumping it), and, when `application_ids` is
    /// given, replaces the application links — all in one transaction.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone; `Conflict` on a
    /// duplicate name or a vanished application.
    async fn update_terms(
        &self,
        terms: &Terms,
        application_ids: Option<Vec<i64>>,
    ) -> RepoResult<Terms>;

    /// Records a consent of user `consent.user_id` (of client `client_id`) to the terms with
    /// internal id `terms_id`. One statement: the unique index on (user, terms, version)
    /// decides between racing requests.
    ///
    /// # Errors
    /// `Conflict { "unique:...terms_version..." }` if the user already accepted that version.
    async fn create_consent(
        &self,
        client_id: i64,
        terms_id: i64,
        consent: Consent,
    ) -> RepoResult<Consent>;

    /// Every consent of the user, oldest first.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn consents_of_user(&self, user_id: i64) -> RepoResult<Vec<Consent>>;

    /// One keyset page of the active terms whose current version the user has not accepted.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn pending_terms(&self, user_id: i64, page: PageRequest) -> RepoResult<Page<Terms>>;
}
