//! Personal questions of a client (★ create, seed 003): create, list, read, patch, delete.

use idm_domain::access::{Caller, Requirement};
use idm_domain::model::{Meta, PersonalQuestion};
use idm_domain::rights::Right;
use idm_domain::values::{
    check_ext_id, new_ext_id, now_millis, LanguageMap, PersonalQuestionState,
};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::{Page, PageRequest};

use idm_ports::locate::{Address, ItemKey};

use crate::admit::Gate;
use crate::clients::{check_same_ext_id, check_version};
use crate::{AppResult, Services};

const CREATE: Requirement =
    Requirement::all(&[&[Right::ClientView], &[Right::PersonalQuestionCreate]]);
const LIST: Requirement = Requirement::all(&[&[Right::ClientView], &[Right::PersonalQuestionView]]);
const VIEW: Requirement = Requirement::all(&[&[Right::PersonalQuestionView]]);
const MODIFY: Requirement = Requirement::all(&[
    &[Right::PersonalQuestionView],
    &[Right::PersonalQuestionModify],
]);
const DELETE: Requirement = Requirement::all(&[&[Right::PersonalQuestionDelete]]);

/// Input of personal-question creation, as the client sent it (validated by the use case).
#[derive(Debug, Clone, Default)]
pub struct NewPersonalQuestion {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Required state name (`active`, `disabled`, `revoked`).
    pub state_name: Option<String>,
    /// Display name.
    pub display_name: LanguageMap,
    /// Question text.
    pub content: LanguageMap,
}

/// A partial update of a personal question: only present fields change.
#[derive(Debug, Clone, Default)]
pub struct PersonalQuestionPatch {
    /// extId in the body: must equal the addressed one if present.
    pub ext_id: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New state name.
    pub state_name: Option<String>,
    /// New display name.
    pub display_name: Option<LanguageMap>,
    /// New question text.
    pub content: Option<LanguageMap>,
    /// The version the client read (body `version` or `If-Match`).
    pub version: Option<i64>,
}

/// Free texts may not carry NUL: PostgreSQL cannot store it, and no client needs it.
fn check_texts(
    description: Option<&str>,
    display_name: Option<&LanguageMap>,
    content: Option<&LanguageMap>,
) -> AppResult<()> {
    let bad = |m: Option<&LanguageMap>| m.is_some_and(|m| m.0.values().any(|t| t.contains('\0')));
    let mut invalid = Vec::new();
    if description.is_some_and(|d| d.contains('\0')) {
        invalid.push("description");
    }
    if bad(display_name) {
        invalid.push("displayName");
    }
    if bad(content) {
        invalid.push("content");
    }
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(DomainError::invalid_fields(&invalid).into())
    }
}

impl Services {
    /// Creates a personal question (★ seed 003).
    ///
    /// # Errors
    /// 403 (right or dataroom), 404 for the client, 422 for a missing or unknown `stateName`,
    /// an extId that breaks the naming policy, or a duplicate extId.
    pub async fn create_personal_question(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        input: NewPersonalQuestion,
    ) -> AppResult<PersonalQuestion> {
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let admitted = self
            .admit(caller, Gate::new(&CREATE), Address::client(client_ext_id))
            .await?;
        let client = admitted.client()?;
        let state_name = match input.state_name.as_deref().map(str::trim) {
            None | Some("") => return Err(DomainError::invalid_fields(&["stateName"]).into()),
            Some(s) => s,
        };
        let state: PersonalQuestionState = state_name.parse()?;
        let ext_id = match input.ext_id {
            Some(e) => {
                // The seed page answers a too-long identifier with the naming policy's
                // violation, so the policy is applied before the extId character rules.
                self.identifier_policy_for(client.meta.id)
                    .await?
                    .check(&e)?;
                check_ext_id(&e)?;
                e
            }
            None => new_ext_id(),
        };
        check_texts(
            input.description.as_deref(),
            Some(&input.display_name),
            Some(&input.content),
        )?;
        let now = now_millis();
        let question = PersonalQuestion {
            meta: Meta::new(ext_id.clone(), now),
            client_id: client.meta.id,
            client_ext_id: client.meta.ext_id.clone(),
            description: input.description,
            state,
            display_name: input.display_name,
            content: input.content,
        };
        match self.repo.create_personal_question(question).await {
            Ok(q) => Ok(q),
            Err(e) if e.is_unique() => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!("A personal question with extId '{ext_id}' already exists."),
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists the client's personal questions.
    ///
    /// # Errors
    /// 403, 404 for the client.
    pub async fn list_personal_questions(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<PersonalQuestion>> {
        let admitted = self
            .admit(caller, Gate::new(&LIST), Address::client(client_ext_id))
            .await?;
        let client = admitted.client()?;
        Ok(self
            .repo
            .list_personal_questions(client.meta.id, page)
            .await?)
    }

    /// Reads one personal question.
    ///
    /// # Errors
    /// 403, 404 for the client or the question.
    pub async fn get_personal_question(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<PersonalQuestion> {
        self.admit(
            caller,
            Gate::new(&VIEW),
            Address::client(client_ext_id).with_item(ItemKey::PersonalQuestion(ext_id.to_owned())),
        )
        .await?
        .into_personal_question()
    }

    /// Partially updates a personal question with optimistic locking.
    ///
    /// # Errors
    /// 403, 404, 409 on a stale or racing version, 422 on an unknown state or a changed extId.
    pub async fn patch_personal_question(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        patch: PersonalQuestionPatch,
    ) -> AppResult<PersonalQuestion> {
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let mut q = self
            .admit(
                caller,
                Gate::new(&MODIFY),
                Address::client(client_ext_id)
                    .with_item(ItemKey::PersonalQuestion(ext_id.to_owned())),
            )
            .await?
            .into_personal_question()?;
        check_same_ext_id(patch.ext_id.as_deref(), ext_id)?;
        check_version(patch.version, q.meta.version)?;
        check_texts(
            patch.description.as_deref(),
            patch.display_name.as_ref(),
            patch.content.as_ref(),
        )?;
        if let Some(s) = patch.state_name {
            q.state = s.trim().parse()?;
        }
        patch_fields!(q, patch, { description: Some, display_name, content });
        Ok(self.repo.update_personal_question(&q).await?)
    }

    /// Deletes a personal question (409 if it changed since the version the client read).
    ///
    /// # Errors
    /// 403, 404, 409.
    pub async fn delete_personal_question(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        version: Option<i64>,
    ) -> AppResult<()> {
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let q = self
            .admit(
                caller,
                Gate::new(&DELETE),
                Address::client(client_ext_id)
                    .with_item(ItemKey::PersonalQuestion(ext_id.to_owned())),
            )
            .await?
            .into_personal_question()?;
        check_version(version, q.meta.version)?;
        Ok(self
            .repo
            .delete_personal_question(q.meta.id, q.meta.version)
            .await?)
    }
}
