//! Credentials: the list of a user's credentials of every type, the password lifecycle
//! (create, read, patch, delete, reset, unlock), password login and login-info.
//!
//! Neither a password nor its hash leaves this module (not in results, not in logs). Every
//! state change goes through the domain's state machine
//! ([`idm_domain::credential::transition`]); login counters are written with a conditional
//! UPDATE that is retried on a lost race, so concurrent attempts all count.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use idm_domain::access::{Access, Caller, Requirement};
use idm_domain::credential::{
    self, Credential, CredentialEvent, CredentialState, CredentialType, LoginState, LoginStatus,
    StateChangeReason,
};
use idm_domain::model::Meta;
use idm_domain::rights::Right;
use idm_domain::values::{check_ext_id, new_ext_id, now_millis, Validity};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::credentials::{CredentialDetail, Epoch, NewCredential};
use idm_ports::locate::Address;
use idm_ports::{Page, PageRequest, RepoError};

use crate::admit::Gate;
use crate::auth::verify_password;
use crate::clients::{check_same_ext_id, check_version};
use crate::{AppError, AppResult, Services};

const LIST: Requirement = Requirement::all(&[&[Right::CredentialView]]).or_self_admin();
const CREATE: Requirement =
    Requirement::all(&[&[Right::CredentialCreate], &[Right::CredentialChangeState]])
        .or_self_admin();
const VIEW: Requirement = Requirement::all(&[&[Right::CredentialView]]).or_self_admin();
const MODIFY: Requirement =
    Requirement::all(&[&[Right::CredentialView], &[Right::CredentialModify]]);
const DELETE: Requirement = Requirement::all(&[&[Right::CredentialDelete]]).or_self_admin();
const RESET: Requirement =
    Requirement::all(&[&[Right::CredentialView], &[Right::CredentialModify]]).or_self_admin();
const UNLOCK: Requirement =
    Requirement::all(&[&[Right::CredentialView], &[Right::CredentialModify]]);
const LOGIN: Requirement = Requirement::all(&[&[Right::CredentialView]]);
const LOGIN_INFO: Requirement = Requirement::all(&[
    &[Right::CredentialModify],
    &[Right::UserModify],
    &[Right::UserView],
    &[Right::CredentialView],
]);

/// How often a login attempt re-reads and retries after losing the race for the counter
/// update. Every lost race means another attempt was recorded, so this bounds contention,
/// not correctness.
const LOGIN_RETRIES: usize = 64;

/// Input of `POST .../password`, as the client sent it.
#[derive(Default)]
pub struct NewPassword {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// The policy's extId, stored as given.
    pub policy_ext_id: Option<String>,
    /// Initial state; `active` when a password is given, `initial` when generated.
    pub state_name: Option<String>,
    /// The password; must be absent when the policy generates passwords.
    pub password: Option<String>,
}

// Hand-written so the password never reaches a log through `{:?}`.
impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPassword")
            .field("ext_id", &self.ext_id)
            .field("policy_ext_id", &self.policy_ext_id)
            .field("state_name", &self.state_name)
            .finish_non_exhaustive()
    }
}

/// A partial update of a credential's common fields: only present fields change.
#[derive(Debug, Clone, Default)]
pub struct CredentialPatch {
    /// extId in the body: must equal the credential's if present.
    pub ext_id: Option<String>,
    /// New state (through the state machine).
    pub state_name: Option<String>,
    /// Reason to record instead of the one the transition implies.
    pub state_change_reason: Option<String>,
    /// Free-text detail of the state change.
    pub state_change_detail: Option<String>,
    /// Comment on this modification.
    pub modification_comment: Option<String>,
    /// New validity period.
    pub validity: Option<Validity>,
    /// The version the client read (body `version` or `If-Match`).
    pub version: Option<i64>,
}

/// A created or reset password: the credential and, when the policy generates passwords, the
/// generated password (`passwordFragment`), shown this once.
pub struct IssuedPassword {
    /// The credential as stored.
    pub credential: Credential,
    /// The generated password, if the policy generates them.
    pub fragment: Option<String>,
}

impl std::fmt::Debug for IssuedPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedPassword")
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

/// The answer of `POST .../login-info`.
#[derive(Debug, Clone)]
pub struct LoginInfo {
    /// 0 (`Login successful.`) on success, else the password-login status code.
    pub status_code: i32,
    /// Human-readable status.
    pub description: String,
    /// The user's extId.
    pub user_ext_id: String,
    /// The client's extId.
    pub client_ext_id: String,
    /// The credential, when the request named one.
    pub credential: Option<Credential>,
    /// When the login was recorded.
    pub at: chrono::NaiveDateTime,
    /// Whether it was a success.
    pub success: bool,
}

/// What a password login attempt came to.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// The user has no password (the time of a verification was spent anyway).
    NoCredential,
    /// Recorded, with this status.
    Recorded(LoginStatus),
}

/// A random password of `length` characters from letters, digits and a few symbols that
/// survive copying from e-mails and terminals.
pub(crate) fn random_secret(length: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!+=";
    let n = u32::try_from(CHARS.len()).unwrap_or(u32::MAX);
    (0..length)
        .map(|_| {
            // Rejection sampling: no bias towards the first characters.
            let limit = u32::MAX - u32::MAX % n;
            let v = loop {
                let v = OsRng.next_u32();
                if v < limit {
                    break v;
                }
            };
            let i = usize::try_from(v % n).unwrap_or(0);
            char::from(CHARS.get(i).copied().unwrap_or(b'x'))
        })
        .collect()
}

fn no_password(user_ext_id: &str) -> AppError {
    DomainError::NotFound(format!(
        "User with extId '{user_ext_id}' has no Password credential"
    ))
    .into()
}

impl Services {
    /// A password that passes `policy`, generated.
    fn generate_password(&self, policy: &idm_domain::policy::PasswordPolicy) -> AppResult<String> {
        let length = policy.min_length.max(16).min(policy.max_length);
        for _ in 0..1000 {
            let candidate = random_secret(length);
            if policy.check(&candidate).is_ok() {
                return Ok(candidate);
            }
        }
        Err(AppError::Internal(
            "no generated password satisfies the password policy".into(),
        ))
    }

    /// The user's password credential, or 404.
    async fn password_of(&self, user_id: i64, user_ext_id: &str) -> AppResult<Credential> {
        self.repo
            .credential_of_type(user_id, CredentialType::Password)
            .await?
            .ok_or_else(|| no_password(user_ext_id))
    }

    /// Verifies `password` against the credential's stored hash; without one, spends the same
    /// time and answers false.
    async fn verify_secret(&self, c: &Credential, password: &str) -> AppResult<bool> {
        match self.repo.credential_secret(c.meta.id).await {
            Ok(Some(hash)) => verify_password(password.to_owned(), hash).await,
            Ok(None) | Err(RepoError::NotFound) => {
                self.hasher.verify_dummy(password).await?;
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records a login with `ok` on `c` through the state machine, atomically: on a lost race
    /// the credential is re-read and the outcome decided again. `recheck` re-verifies the
    /// password when the credential was changed (reset) meanwhile.
    ///
    /// # Errors
    /// 422 `errors.credentialNotActive` (nothing recorded), 404 if the credential vanished,
    /// 503 if the retries run out.
    pub(crate) async fn record_credential_login(
        &self,
        mut c: Credential,
        mut ok: bool,
        recheck: Option<&str>,
    ) -> AppResult<(LoginStatus, Credential)> {
        // The client's PwdPolicy lockout keys, else the configured ones.
        let policy = self.password_policy_for(c.client_id).await?.lockout;
        let mut verified_version = c.meta.version;
        for _ in 0..LOGIN_RETRIES {
            if c.meta.version != verified_version {
                if let Some(password) = recheck {
                    ok = self.verify_secret(&c, password).await?;
                }
                verified_version = c.meta.version;
            }
            let outcome = c.apply(CredentialEvent::Login(ok), &policy, now_millis())?;
            let status = outcome.status.unwrap_or(LoginStatus::Failed);
            if let Some(written) = self.repo.record_login(&c, &outcome.next).await? {
                return Ok((status, written));
            }
            c = self
                .repo
                .credential_by_ext_id(c.client_id, &c.meta.ext_id)
                .await?
                .ok_or_else(|| no_password(&c.user_ext_id))?;
        }
        Err(AppError::Unavailable(
            "too much contention on one credential's login counters".into(),
        ))
    }

    /// One password login attempt for a user: refused before hashing when the credential
    /// cannot be used, otherwise verified and recorded.
    ///
    /// # Errors
    /// 422 `errors.credentialNotActive` (not counted); database failures.
    pub(crate) async fn password_attempt(
        &self,
        user_id: i64,
        password: &str,
    ) -> AppResult<Attempt> {
        let Some(c) = self
            .repo
            .credential_of_type(user_id, CredentialType::Password)
            .await?
        else {
            self.hasher.verify_dummy(password).await?;
            return Ok(Attempt::NoCredential);
        };
        // A locked, disabled or expired credential is refused without counting; checking
        // first also spares the hashing.
        c.apply(
            CredentialEvent::Login(true),
            &self.password_policy_for(c.client_id).await?.lockout,
            now_millis(),
        )?;
        let ok = self.verify_secret(&c, password).await?;
        let (status, _) = self.record_credential_login(c, ok, Some(password)).await?;
        Ok(Attempt::Recorded(status))
    }

    /// Lists a user's credentials of every type (`GET core/:c/users/:u/credentials`).
    ///
    /// # Errors
    /// 403 without `CredentialView` (and not self-admin on own data); 404 client or user.
    pub async fn list_credentials(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<Credential>> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&LIST),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let user = admitted.user()?;
        Ok(self.repo.list_credentials(user.meta.id, page).await?)
    }

    /// Creates the user's password (`POST .../password`).
    ///
    /// # Errors
    /// 403, 404; 422 `errors.invalidJWTToken` in self-admin mode without a valid X-Token,
    /// `errors.passwordExists`, `errors.pwdPolicyViolated` with `policyViolations`,
    /// `errors.invalidParameter` (password missing, or sent although the policy generates it;
    /// unknown `stateName`), `errors.duplicateValue` (extId taken).
    pub async fn create_password(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        input: NewPassword,
        xtoken: Option<&str>,
    ) -> AppResult<IssuedPassword> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = self
            .admit(
                caller,
                Gate::new(&CREATE).xtoken(xtoken),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let client = admitted.client()?;
        let user = admitted.user()?;
        crate::users::refuse_archived(user)?;
        let policy = &self.password_policy_for(client.meta.id).await?;
        let (password, generated) = match (policy.reset_code_enabled, input.password) {
            (true, Some(_)) => return Err(DomainError::invalid_fields(&["password"]).into()),
            (true, None) => (self.generate_password(policy)?, true),
            (false, Some(p)) if !p.is_empty() => (p, false),
            (false, _) => return Err(DomainError::invalid_fields(&["password"]).into()),
        };
        let state = match input.state_name.as_deref().map(str::trim) {
            Some(s) => s.parse::<CredentialState>()?,
            None if generated => CredentialState::Initial,
            None => CredentialState::Active,
        };
        let ext_id = match input.ext_id {
            Some(e) => {
                self.config.identifier_policy.check(&e)?;
                check_ext_id(&e)?;
                e
            }
            None => new_ext_id(),
        };
        let password_exists = || -> AppError {
            DomainError::unprocessable(
                ErrorCode::PasswordExists,
                format!("User with extId '{user_ext_id}' already has a Password credential"),
            )
            .into()
        };
        // The body is judged before the stored state: a weak password is the answer whether
        // or not one exists.
        policy.check(&password)?;
        if self
            .repo
            .credential_of_type(user.meta.id, CredentialType::Password)
            .await?
            .is_some()
        {
            return Err(password_exists());
        }
        let hash = self.hasher.hash(password.clone()).await?;
        let now = now_millis();
        let new = NewCredential {
            credential: Credential {
                meta: Meta::new(ext_id.clone(), now),
                client_id: client.meta.id,
                user_id: user.meta.id,
                user_ext_id: user.meta.ext_id.clone(),
                kind: CredentialType::Password,
                policy_ext_id: input.policy_ext_id,
                login: LoginState::new(state),
                state_change_detail: None,
                modification_comment: None,
                validity: Validity::default(),
                context: None,
            },
            secret: Some(hash),
            detail: CredentialDetail::None,
        };
        match self.repo.create_credential(new).await {
            Ok(credential) => Ok(IssuedPassword {
                credential,
                fragment: generated.then_some(password),
            }),
            Err(e) if e.is_unique_on("ext_id") => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!("A credential with extId '{ext_id}' already exists."),
            )
            .into()),
            // The other uniqueness is one password per user: a concurrent create won.
            Err(e) if e.is_unique() => Err(password_exists()),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads the user's password credential (never the hash).
    ///
    /// # Errors
    /// 403, 404 client, user or password.
    pub async fn get_password(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
    ) -> AppResult<Credential> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&VIEW),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        self.password_of(admitted.user()?.meta.id, user_ext_id)
            .await
    }

    /// Changes the password credential's state, reason, comment or validity (optimistic
    /// locking).
    ///
    /// # Errors
    /// 403, 404, 409 stale version, 422 `errors.modifyArchivedCredential`,
    /// `errors.modifyExtId`, `errors.invalidParameter` (unknown state or reason),
    /// `errors.invalidDateInterval`.
    pub async fn patch_password(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        patch: CredentialPatch,
    ) -> AppResult<Credential> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = self
            .admit(
                caller,
                Gate::new(&MODIFY),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let c = self
            .password_of(admitted.user()?.meta.id, user_ext_id)
            .await?;
        self.patch_credential(c, patch).await
    }

    /// Applies a [`CredentialPatch`] to any credential (shared by every credential type).
    ///
    /// # Errors
    /// As [`Services::patch_password`] after admission.
    pub(crate) async fn patch_credential(
        &self,
        mut c: Credential,
        patch: CredentialPatch,
    ) -> AppResult<Credential> {
        check_same_ext_id(patch.ext_id.as_deref(), &c.meta.ext_id)?;
        check_version(patch.version, c.meta.version)?;
        if c.login.state == CredentialState::Archived {
            return Err(credential::archived().into());
        }
        if let Some(v) = &patch.validity {
            v.check()?;
        }
        let state_before = c.login.state;
        if [&patch.state_change_detail, &patch.modification_comment]
            .iter()
            .any(|t| t.as_deref().is_some_and(|t| t.contains('\0')))
        {
            return Err(DomainError::invalid_fields(&["modificationComment"]).into());
        }
        if let Some(s) = patch.state_name.as_deref() {
            let to: CredentialState = s.trim().parse()?;
            c.login = c
                .apply(
                    CredentialEvent::SetState(to),
                    &self.password_policy_for(c.client_id).await?.lockout,
                    now_millis(),
                )?
                .next;
        }
        if let Some(r) = patch.state_change_reason.as_deref() {
            c.login.reason = Some(r.trim().parse::<StateChangeReason>()?);
        }
        patch_fields!(c, patch, {
            state_change_detail: Some,
            modification_comment: Some,
            validity,
        });
        // A password whose state moved is a credential change; its comment, validity or
        // reason alone is not (docs/credentials.md).
        let epoch = if c.kind == CredentialType::Password && c.login.state != state_before {
            Epoch::Advance
        } else {
            Epoch::Keep
        };
        Ok(self.repo.update_credential(&c, epoch).await?)
    }

    /// Deletes the user's password; a self-admin proves a recent password entry (X-Token).
    ///
    /// # Errors
    /// 403, 404, 422 `errors.invalidJWTToken`.
    pub async fn delete_password(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<()> {
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let admitted = self
            .admit(
                caller,
                Gate::new(&DELETE).xtoken(xtoken),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let c = self
            .password_of(admitted.user()?.meta.id, user_ext_id)
            .await?;
        // The owner deleting his own password (self-admin, with an X-Token) keeps his X-Tokens:
        // one password per user makes delete-then-create his only way to change it, and
        // without a password he could not get a new X-Token for the create. That create
        // advances the epoch. An administrator's delete ends them at once.
        let epoch = match admitted.access {
            Access::SelfAdmin => Epoch::Keep,
            Access::ByRights => Epoch::Advance,
        };
        crate::error::deleted(self.repo.delete_credential(c.meta.id, epoch).await)
    }

    /// Resets the password: a new generated password, state `initial`, counters 0; the
    /// generated password is returned only when the policy has `resetCodeEnabled`.
    ///
    /// # Errors
    /// 403, 404, 409 on a concurrent change, 422 `errors.modifyArchivedCredential` /
    /// `errors.credentialNotActive` (disabled) / `errors.invalidJWTToken`.
    pub async fn reset_password(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<IssuedPassword> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = self
            .admit(
                caller,
                Gate::new(&RESET).xtoken(xtoken),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let user = admitted.user()?;
        let mut c = self.password_of(user.meta.id, user_ext_id).await?;
        let policy = &self.password_policy_for(user.client_id).await?;
        c.login = c
            .apply(CredentialEvent::Reset, &policy.lockout, now_millis())?
            .next;
        if caller.user_id == user.meta.id {
            c.login.reason = Some(StateChangeReason::Reset);
        }
        let password = self.generate_password(policy)?;
        let hash = self.hasher.hash(password.clone()).await?;
        let credential = self.repo.replace_secret(&c, &hash, policy.history).await?;
        Ok(IssuedPassword {
            credential,
            fragment: policy.reset_code_enabled.then_some(password),
        })
    }

    /// Unlocks the password: state `active`, both counters 0.
    ///
    /// # Errors
    /// 403, 404, 409 on a concurrent change, 422 `errors.modifyArchivedCredential` /
    /// `errors.credentialNotActive` (disabled).
    pub async fn unlock_password(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
    ) -> AppResult<Credential> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = self
            .admit(
                caller,
                Gate::new(&UNLOCK),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let mut c = self
            .password_of(admitted.user()?.meta.id, user_ext_id)
            .await?;
        c.login = c
            .apply(
                CredentialEvent::Unlock,
                &self.password_policy_for(c.client_id).await?.lockout,
                now_millis(),
            )?
            .next;
        Ok(self.repo.update_credential(&c, Epoch::Advance).await?)
    }

    /// Checks a password (`POST auth/v1/:c/users/:u/password/login`) and counts the attempt.
    ///
    /// A missing user or password costs the time of one verification, like a wrong password.
    ///
    /// # Errors
    /// 403 without `CredentialView`; 404 client, user or password; 422
    /// `errors.credentialNotActive` (locked, disabled, outside validity: not counted).
    pub async fn password_login(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        password: &str,
    ) -> AppResult<LoginStatus> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = match self
            .admit(
                caller,
                Gate::new(&LOGIN),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await
        {
            Ok(a) => a,
            Err(e @ AppError::Domain(DomainError::NotFound(_))) => {
                self.hasher.verify_dummy(password).await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        match self
            .password_attempt(admitted.user()?.meta.id, password)
            .await?
        {
            Attempt::NoCredential => Err(no_password(user_ext_id)),
            Attempt::Recorded(status) => Ok(status),
        }
    }

    /// Records a login that happened elsewhere (`POST core/:c/users/:u/login-info`); with a
    /// credential, counts it through the state machine like a login.
    ///
    /// # Errors
    /// 403, 404 client, user or credential; 422 `errors.credentialNotActive`.
    pub async fn record_login_info(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        success: bool,
        credential_ext_id: Option<&str>,
    ) -> AppResult<LoginInfo> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = self
            .admit(
                caller,
                Gate::new(&LOGIN_INFO),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let client = admitted.client()?;
        let user = admitted.user()?;
        let (status, credential) = match credential_ext_id {
            Some(ext) => {
                let c = self
                    .repo
                    .credential_by_ext_id(client.meta.id, ext)
                    .await?
                    .filter(|c| c.user_id == user.meta.id)
                    .ok_or_else(|| {
                        AppError::from(DomainError::NotFound(format!(
                            "Credential doesn't exist with extId '{ext}'"
                        )))
                    })?;
                let (status, written) = self.record_credential_login(c, success, None).await?;
                (Some(status), Some(written))
            }
            None => (None, None),
        };
        let (status_code, description) = match (success, status) {
            (true, _) => (0, "Login successful.".to_owned()),
            (false, Some(s)) => (s.code(), s.description().to_owned()),
            (false, None) => (
                LoginStatus::Failed.code(),
                LoginStatus::Failed.description().to_owned(),
            ),
        };
        Ok(LoginInfo {
            status_code,
            description,
            user_ext_id: user.meta.ext_id.clone(),
            client_ext_id: client.meta.ext_id.clone(),
            at: credential
                .as_ref()
                .and_then(|c| {
                    if success {
                        c.login.last_success
                    } else {
                        c.login.last_failure
                    }
                })
                .unwrap_or_else(now_millis),
            credential,
            success,
        })
    }
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn random_secrets_have_the_asked_length_and_differ() {
        let a = random_secret(24);
        let b = random_secret(24);
        assert_eq!(a.chars().count(), 24);
        assert_ne!(a, b);
    }
}
