//! Personal questions of a client.

use async_trait::async_trait;
use idm_domain::model::PersonalQuestion;

use crate::{Page, PageRequest, RepoResult};

/// Persistence of personal questions.
#[async_trait]
pub trait PersonalQuestionRepo {
    /// One keyset page of the client's personal questions in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_personal_questions(
        &self,
        client_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<PersonalQuestion>>;

    /// Stores a new personal question; `meta.id` is assigned by the adapter.
    ///
    /// # Errors
    /// `Conflict { "unique:personal_questions.ext_id..." }` on a duplicate extId.
    async fn create_personal_question(
        &self,
        question: PersonalQuestion,
    ) -> RepoResult<PersonalQuestion>;

    /// Writes `description`, `state`, `display_name` and `content` if the stored version still
    /// equals `question.meta.version`; bumps the version and `last_modified`.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone.
    async fn update_personal_question(
        &self,
        question: &PersonalQuestion,
    ) -> RepoResult<PersonalQuestion>;

    /// Deletes the personal question if its stored version still equals `version`.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone.
    async fn delete_personal_question(&self, id: i64, version: i64) -> RepoResult<()>;
}
