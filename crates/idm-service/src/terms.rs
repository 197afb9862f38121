//! Terms (global), consents (★ seed 002) and pending terms of a user.

use std::collections::BTreeMap;

use idm_domain::access::{Caller, Requirement, Target};
use idm_domain::model::{Consent, Meta, Terms};
use idm_domain::rights::Right;
use idm_domain::values::{check_ext_id, new_ext_id, now_millis, Language};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::query::{ListQuery, Listed};
use idm_ports::{Page, PageRequest, RepoError};

use idm_ports::locate::Address;

use crate::admit::Gate;
use crate::clients::{check_same_ext_id, check_version};

use crate::{AppError, AppResult, Services};

const TERMS_CREATE: Requirement = Requirement::all(&[&[Right::TermsCreate]]);
const TERMS_VIEW: Requirement = Requirement::all(&[&[Right::TermsView]]);
const TERMS_MODIFY: Requirement = Requirement::all(&[&[Right::TermsView], &[Right::TermsModify]]);
const CONSENT_CREATE: Requirement = Requirement::all(&[&[Right::ConsentCreate]]);
const CONSENT_VIEW: Requirement = Requirement::all(&[&[Right::ConsentView]]).or_self_admin();
const PENDING_VIEW: Requirement =
    Requirement::all(&[&[Right::ConsentView], &[Right::TermsView]]).or_self_admin();

/// Longest `name` / `termsVersion` the data model stores.
const TEXT_MAX: usize = 255;

/// Input of terms creation (required fields already known to be present).
#[derive(Debug, Clone, Default)]
pub struct NewTerms {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// Unique name.
    pub name: String,
    /// Whether the terms can be accepted.
    pub active: bool,
    /// Accepted without asking the user.
    pub silent_acceptance: bool,
    /// The first version string.
    pub terms_version: String,
    /// Document URLs keyed by language.
    pub urls: BTreeMap<String, String>,
    /// Applications to link the terms to.
    pub application_ext_ids: Vec<String>,
}

/// A partial update of terms: only present fields change.
#[derive(Debug, Clone, Default)]
pub struct TermsPatch {
    /// extId in the body: must equal the addressed one if present.
    pub ext_id: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New active flag.
    pub active: Option<bool>,
    /// A new version string (publishing it lets users consent again).
    pub terms_version: Option<String>,
    /// New URLs (replace the old map).
    pub urls: Option<BTreeMap<String, String>>,
    /// New application links (replace the old set).
    pub application_ext_ids: Option<Vec<String>>,
    /// The version the client read (body `version` or `If-Match`).
    pub version: Option<i64>,
}

/// Validates a required text field: non-blank, no NUL, at most [`TEXT_MAX`] characters.
fn text_ok(value: &str) -> bool {
    !value.trim().is_empty() && !value.contains('\0') && value.chars().count() <= TEXT_MAX
}

/// URL maps are keyed by language; the reference shows lower-case keys (`en`), so both cases
/// are accepted and lower case is stored.
fn normalize_urls(urls: BTreeMap<String, String>) -> AppResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (key, url) in urls {
        let lang: Language = key
            .to_ascii_uppercase()
            .parse()
            .map_err(|_| DomainError::invalid_fields(&["urls"]))?;
        if url.contains('\0')
            || out
                .insert(lang.as_str().to_ascii_lowercase(), url)
                .is_some()
        {
            return Err(DomainError::invalid_fields(&["urls"]).into());
        }
    }
    Ok(out)
}

fn duplicate_name(name: &str) -> AppError {
    DomainError::unprocessable(
        ErrorCode::DuplicateName,
        format!("Terms with name '{name}' already exist."),
    )
    .into()
}

fn terms_not_found(ext_id: &str) -> AppError {
    DomainError::NotFound(format!("Terms doesn't exist with extId '{ext_id}'")).into()
}

fn application_not_found(ext_id: &str) -> AppError {
    DomainError::NotFound(format!("Application doesn't exist with extId '{ext_id}'")).into()
}

impl Services {
    /// The terms, or 404 `Terms doesn't exist with extId '...'`.
    ///
    /// # Errors
    /// 404, or a repository failure.
    pub async fn require_terms(&self, ext_id: &str) -> AppResult<Terms> {
        self.repo
            .terms_by_ext_id(ext_id)
            .await?
            .ok_or_else(|| terms_not_found(ext_id))
    }

    /// Internal ids of the applications, or 404 for the first unknown one.
    async fn application_ids(&self, ext_ids: &[String]) -> AppResult<Vec<i64>> {
        let mut ids = Vec::with_capacity(ext_ids.len());
        for ext_id in ext_ids {
            let app = self
                .repo
                .application_by_ext_id(ext_id)
                .await?
                .ok_or_else(|| application_not_found(ext_id))?;
            ids.push(app.meta.id);
        }
        Ok(ids)
    }

    /// Creates terms and links them to applications (one transaction).
    ///
    /// # Errors
    /// 403 without `TermsCreate`; 404 for an unknown application; 422 on invalid fields or a
    /// duplicate name/extId.
    pub async fn create_terms(&self, caller: &Caller, input: NewTerms) -> AppResult<Terms> {
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        Self::authorize(caller, &TERMS_CREATE, &Target::global())?;
        let mut invalid = Vec::new();
        if !text_ok(&input.name) {
            invalid.push("name");
        }
        if !text_ok(&input.terms_version) {
            invalid.push("termsVersion");
        }
        if !invalid.is_empty() {
            return Err(DomainError::invalid_fields(&invalid).into());
        }
        let ext_id = match input.ext_id {
            Some(e) => {
                check_ext_id(&e)?;
                e
            }
            None => new_ext_id(),
        };
        let urls = normalize_urls(input.urls)?;
        let app_ids = self.application_ids(&input.application_ext_ids).await?;
        let now = now_millis();
        let terms = Terms {
            meta: Meta::new(ext_id.clone(), now),
            name: input.name.clone(),
            active: input.active,
            silent_acceptance: input.silent_acceptance,
            terms_version: input.terms_version,
            urls,
            application_ext_ids: Vec::new(),
        };
        match self.repo.create_terms(terms, app_ids).await {
            Ok(t) => Ok(t),
            Err(e) if e.is_unique_on("ext_id") => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!("Terms with extId '{ext_id}' already exist."),
            )
            .into()),
            Err(e) if e.is_unique() => Err(duplicate_name(&input.name)),
            Err(RepoError::Conflict { .. }) => Err(DomainError::NotFound(
                "An application of the terms no longer exists".into(),
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists all terms.
    ///
    /// # Errors
    /// 403 without `TermsView`.
    pub async fn list_terms(&self, caller: &Caller, query: ListQuery) -> AppResult<Listed<Terms>> {
        Self::authorize(caller, &TERMS_VIEW, &Target::global())?;
        Ok(self.repo.query_terms(query).await?)
    }

    /// Reads terms with their application extIds.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_terms(&self, caller: &Caller, ext_id: &str) -> AppResult<Terms> {
        Self::authorize(caller, &TERMS_VIEW, &Target::global())?;
        self.require_terms(ext_id).await
    }

    /// Partially updates terms (e.g. publishes a new `termsVersion`) with optimistic locking.
    ///
    /// # Errors
    /// 403, 404 (terms or application), 409 on a stale or racing version, 422 on invalid
    /// fields, a duplicate name or a changed extId.
    pub async fn patch_terms(
        &self,
        caller: &Caller,
        ext_id: &str,
        patch: TermsPatch,
    ) -> AppResult<Terms> {
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        Self::authorize(caller, &TERMS_MODIFY, &Target::global())?;
        let mut terms = self.require_terms(ext_id).await?;
        check_same_ext_id(patch.ext_id.as_deref(), ext_id)?;
        check_version(patch.version, terms.meta.version)?;
        let mut invalid = Vec::new();
        if patch.name.as_deref().is_some_and(|n| !text_ok(n)) {
            invalid.push("name");
        }
        if patch.terms_version.as_deref().is_some_and(|v| !text_ok(v)) {
            invalid.push("termsVersion");
        }
        if !invalid.is_empty() {
            return Err(DomainError::invalid_fields(&invalid).into());
        }
        patch_fields!(terms, patch, { name, active, terms_version });
        if let Some(urls) = patch.urls {
            terms.urls = normalize_urls(urls)?;
        }
        let app_ids = match &patch.application_ext_ids {
            Some(ext_ids) => Some(self.application_ids(ext_ids).await?),
            None => None,
        };
        match self.repo.update_terms(&terms, app_ids).await {
            Ok(t) => Ok(t),
            Err(e) if e.is_unique() => Err(duplicate_name(&terms.name)),
            Err(RepoError::Conflict { .. }) => Err(DomainError::NotFound(
                "An application of the terms no longer exists".into(),
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Records the user's acceptance of the terms' current version (★ seed 002).
    ///
    /// # Errors
    /// 403 (right or dataroom); 404 for client, user or terms; 422 for inactive terms or a
    /// consent to this version that already exists (decided by the unique index, so racing
    /// requests cannot both succeed).
    pub async fn create_consent(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        terms_ext_id: &str,
    ) -> AppResult<Consent> {
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let admitted = self
            .admit(
                caller,
                Gate::new(&CONSENT_CREATE).user_404_period(),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let client = admitted.client()?;
        let user = admitted.user()?;
        if terms_ext_id.trim().is_empty() {
            return Err(DomainError::invalid_fields(&["termsExtId"]).into());
        }
        let terms = self.require_terms(terms_ext_id).await?;
        if !terms.active {
            return Err(DomainError::unprocessable(
                ErrorCode::InvalidData,
                format!(
                    "The terms with extId '{terms_ext_id}' are not active and cannot be accepted."
                ),
            )
            .into());
        }
        let now = now_millis();
        let consent = Consent {
            meta: Meta::new(new_ext_id(), now),
            user_id: user.meta.id,
            terms_ext_id: terms.meta.ext_id.clone(),
            terms_version: terms.terms_version.clone(),
            acceptance_date: now,
        };
        match self
            .repo
            .create_consent(client.meta.id, terms.meta.id, consent)
            .await
        {
            Ok(c) => Ok(c),
            Err(e) if e.is_unique_on("terms_version") => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!(
                    "A consent for userExtId: '{}', termsExtId: '{}' and termsVersion: '{}' already exists.",
                    user.meta.ext_id, terms.meta.ext_id, terms.terms_version
                ),
            )
            .into()),
            // The terms or the user were deleted between the look-up and the insert.
            Err(RepoError::Conflict { constraint }) if constraint.starts_with("foreign_key") => {
                Err(terms_not_found(terms_ext_id))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every consent of the user, oldest first (a bare list, as in nevisIDM).
    ///
    /// # Errors
    /// 403, 404 for client or user.
    pub async fn list_consents(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
    ) -> AppResult<Vec<Consent>> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&CONSENT_VIEW),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let user = admitted.user()?;
        Ok(self.repo.consents_of_user(user.meta.id).await?)
    }

    /// One consent of the user (what the `Location` of a created consent names).
    ///
    /// # Errors
    /// 403, 404 for client, user or consent.
    pub async fn get_consent(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<Consent> {
        // A user has one consent per accepted terms version: a handful, so reading them all
        // costs less than another port method.
        self.list_consents(caller, client_ext_id, user_ext_id)
            .await?
            .into_iter()
            .find(|c| c.meta.ext_id == ext_id)
            .ok_or_else(|| {
                DomainError::NotFound(format!("Consent doesn't exist with extId '{ext_id}'")).into()
            })
    }

    /// The active terms whose current version the user has not accepted yet.
    ///
    /// # Errors
    /// 403, 404 for client or user.
    pub async fn pending_terms(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<Terms>> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&PENDING_VIEW),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let user = admitted.user()?;
        Ok(self.repo.pending_terms(user.meta.id, page).await?)
    }
}
