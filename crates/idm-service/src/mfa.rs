//! Second-factor credentials on the common credential model: recovery codes, OATH (TOTP/HOTP)
//! and FIDO2 authenticators, their logins, and the client-wide FIDO lists.
//!
//! Secrets: recovery codes are shown once and stored as salted hashes; an OATH secret is shown
//! once inside the `otpauth://` URI and stored sealed with `credentials.encryption_key`. No
//! result type of this module carries a stored secret.

use idm_domain::access::{Caller, Requirement};
use idm_domain::credential::{
    Credential, CredentialEvent, CredentialState, CredentialType, LoginState, LoginStatus,
};
use idm_domain::fido2::{Fido2Details, Fido2Draft};
use idm_domain::model::{Client, FidoUafCredential, Meta, User};
use idm_domain::otp::{self, OtpAlgorithm, OtpMethod, OtpParams};
use idm_domain::recovery_code;
use idm_domain::rights::Right;
use idm_domain::values::{check_ext_id, new_ext_id, now_millis, Validity};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::credentials::{CredentialDetail, Epoch, NewCredential};
use idm_ports::locate::Address;
use idm_ports::mfa::{OathDetail, Owner};
use idm_ports::{Page, PageRequest, RepoError};

use crate::admit::Gate;
use crate::clients::{check_same_ext_id, check_version};
use crate::error::deleted;
use crate::mfa_secrets::{fresh_oath_secret, fresh_recovery_codes, oath_context, require_sealer};
use crate::{AppError, AppResult, Services};

const RECOVERY_CREATE: Requirement =
    Requirement::all(&[&[Right::CredentialCreate], &[Right::CredentialModify]]).or_self_admin();
const VIEW: Requirement = Requirement::all(&[&[Right::CredentialView]]).or_self_admin();
const DELETE: Requirement = Requirement::all(&[&[Right::CredentialDelete]]).or_self_admin();
const LOGIN: Requirement = Requirement::all(&[&[Right::CredentialView]]);
const OATH_CREATE: Requirement = Requirement::all(&[
    &[Right::CredentialCreate],
    &[Right::CredentialView],
    &[Right::PolicyConfigurationView],
])
.or_self_admin();
const MODIFY: Requirement =
    Requirement::all(&[&[Right::CredentialModify], &[Right::CredentialView]]).or_self_admin();
const FIDO2_CREATE: Requirement = Requirement::all(&[
    &[Right::CredentialCreate],
    &[Right::CredentialChangeState],
    &[Right::CredentialView],
]);
const CLIENT_LIST: Requirement =
    Requirement::all(&[&[Right::ClientView], &[Right::CredentialView]]);

/// How often a login re-reads a credential another login changed meanwhile before giving up
/// (each retry means some other attempt was recorded, so this bounds only extreme contention).
const MAX_LOGIN_RETRIES: usize = 64;

/// A freshly created set of recovery codes: the credential and the codes, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedRecoveryCodes {
    /// The credential.
    pub credential: Credential,
    /// The 16 codes in clear, `xxxx-xxxx-xxxx-xxxx`.
    pub codes: Vec<String>,
}

/// A recovery-code credential with the number of unused codes.
#[derive(Debug, Clone)]
pub struct RecoveryCodes {
    /// The credential.
    pub credential: Credential,
    /// Codes not used yet.
    pub unused_codes: i64,
}

/// Input of OATH creation, as the client sent it.
#[derive(Debug, Clone, Default)]
pub struct NewOath {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// Optional policy extId (stored; per-client OATH policies do not exist yet).
    pub policy_ext_id: Option<String>,
    /// Required: the label shown by the authenticator app.
    pub label: Option<String>,
    /// Initial state; `active` when absent.
    pub state_name: Option<String>,
    /// idm extension until OATH policies exist: `TOTP` (default) or `HOTP`.
    pub method: Option<String>,
    /// idm extension: `SHA1` (default), `SHA256`, `SHA512`.
    pub algorithm: Option<String>,
    /// idm extension: 6 (default), 7 or 8.
    pub digits: Option<u32>,
    /// idm extension: seconds per step, 30 by default.
    pub period: Option<u64>,
}

/// An OATH credential with its parameters.
#[derive(Debug, Clone)]
pub struct Oath {
    /// The common fields (the label is `context`).
    pub credential: Credential,
    /// Parameters and replay guard.
    pub detail: OathDetail,
}

/// A created OATH credential and the one-time provisioning URI.
#[derive(Debug, Clone)]
pub struct CreatedOath {
    /// The credential.
    pub oath: Oath,
    /// `otpauth://…` with the secret: returned by this response only.
    pub otpauth_uri: String,
}

/// A partial update of an OATH credential.
#[derive(Debug, Clone, Default)]
pub struct OathPatch {
    /// Must equal the addressed extId if present.
    pub ext_id: Option<String>,
    /// New state.
    pub state_name: Option<String>,
    /// New policy extId.
    pub policy_ext_id: Option<String>,
    /// New label.
    pub label: Option<String>,
    /// New modification comment.
    pub modification_comment: Option<String>,
    /// The version read (body or `If-Match`).
    pub version: Option<i64>,
}

/// A FIDO2 credential with its authenticator details.
#[derive(Debug, Clone)]
pub struct Fido2 {
    /// The common fields.
    pub credential: Credential,
    /// The registered authenticator.
    pub details: Fido2Details,
}

/// Input of FIDO2 creation.
#[derive(Debug, Clone, Default)]
pub struct NewFido2 {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// Initial state; `active` when absent.
    pub state_name: Option<String>,
    /// The authenticator fields as sent.
    pub draft: Fido2Draft,
}

/// A partial update of a FIDO2 credential.
#[derive(Debug, Clone, Default)]
pub struct Fido2Patch {
    /// Must equal the addressed extId if present.
    pub ext_id: Option<String>,
    /// New authenticator data.
    pub authenticator: Option<String>,
    /// New display name.
    pub user_friendly_name: Option<String>,
    /// New state.
    pub state_name: Option<String>,
    /// New modification comment.
    pub modification_comment: Option<String>,
    /// The version read (body or `If-Match`).
    pub version: Option<i64>,
}

/// A partial update of a FIDO UAF credential's common fields.
#[derive(Debug, Clone, Default)]
pub struct FidoUafPatch {
    /// Must equal the addressed extId if present.
    pub ext_id: Option<String>,
    /// New state.
    pub state_name: Option<String>,
    /// New modification comment.
    pub modification_comment: Option<String>,
    /// The version read (body or `If-Match`).
    pub version: Option<i64>,
}

fn login_failed() -> AppError {
    DomainError::unprocessable(ErrorCode::UserLoginFailed, "Login failed.").into()
}

fn no_credential(
    kind: CredentialType,
    ext_id: Option<&str>,
    user: &User,
    client: &Client,
) -> AppError {
    let what = match ext_id {
        Some(e) => format!("No {} credential found with extId '{e}'", kind.as_str()),
        None => format!("No {} credential found", kind.as_str()),
    };
    DomainError::NotFound(format!(
        "{what} for user with extId '{}' on client with name '{}'",
        user.meta.ext_id, client.name
    ))
    .into()
}

fn state_or_active(state_name: Option<&str>) -> AppResult<CredentialState> {
    match state_name.map(str::trim) {
        None | Some("") => Ok(CredentialState::Active),
        Some(s) => Ok(s.parse()?),
    }
}

fn checked_ext_id(services: &Services, ext_id: Option<String>) -> AppResult<String> {
    match ext_id {
        Some(e) => {
            services.config.identifier_policy.check(&e)?;
            check_ext_id(&e)?;
            Ok(e)
        }
        None => Ok(new_ext_id()),
    }
}

fn new_credential(
    kind: CredentialType,
    ext_id: String,
    client: &Client,
    user: &User,
    state: CredentialState,
    policy_ext_id: Option<String>,
    context: Option<String>,
) -> Credential {
    let now = now_millis();
    Credential {
        meta: Meta::new(ext_id, now),
        client_id: client.meta.id,
        user_id: user.meta.id,
        user_ext_id: user.meta.ext_id.clone(),
        kind,
        policy_ext_id,
        login: LoginState::new(state),
        state_change_detail: None,
        modification_comment: None,
        validity: Validity::default(),
        context,
    }
}

fn duplicate(e: RepoError, ext_id: &str) -> AppError {
    if e.is_unique() {
        let message = match &e {
            RepoError::Conflict { constraint } if constraint.contains("hashed_credential_id") => {
                "A FIDO2 credential with this hashedCredentialId already exists.".to_owned()
            }
            _ => format!("A credential with extId '{ext_id}' already exists."),
        };
        DomainError::unprocessable(ErrorCode::DuplicateValue, message).into()
    } else {
        e.into()
    }
}

/// Texts may not carry NUL (PostgreSQL cannot store it).
fn check_no_nul(fields: &[(&'static str, Option<&str>)]) -> AppResult<()> {
    let bad: Vec<&str> = fields
        .iter()
        .filter(|(_, v)| v.is_some_and(|v| v.contains('\0')))
        .map(|(n, _)| *n)
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(DomainError::invalid_fields(&bad).into())
    }
}

impl Services {
    /// Admits the caller to the addressed user (404s, dataroom, SelfAdmin, X-Token as `gate`
    /// says) and returns that user's credential `ext_id` of type `kind` — the prologue of every
    /// single-credential use case here.
    async fn admitted_credential(
        &self,
        caller: &Caller,
        gate: Gate<'_>,
        (client_ext_id, user_ext_id): (&str, &str),
        kind: CredentialType,
        ext_id: &str,
    ) -> AppResult<Credential> {
        let admitted = self
            .admit(
                caller,
                gate,
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        self.typed_credential(admitted.client()?, admitted.user()?, kind, ext_id)
            .await
    }

    /// The user's credential of `kind` with this extId, or the 404.
    async fn typed_credential(
        &self,
        client: &Client,
        user: &User,
        kind: CredentialType,
        ext_id: &str,
    ) -> AppResult<Credential> {
        match self
            .repo
            .credential_by_ext_id(client.meta.id, ext_id)
            .await?
        {
            Some(c) if c.user_id == user.meta.id && c.kind == kind => Ok(c),
            _ => Err(no_credential(kind, Some(ext_id), user, client)),
        }
    }

    /// Records a login attempt's outcome through the state machine, re-reading and deciding
    /// again whenever another attempt changed the credential first. `Ok(None)` for a
    /// success that found the credential locked meanwhile by concurrent failures: the factor
    /// was already consumed while the credential was usable, so the success stands.
    async fn record_attempt(
        &self,
        mut cred: Credential,
        ok: bool,
    ) -> AppResult<Option<LoginStatus>> {
        let policy = &self.password_policy_for(cred.client_id).await?.lockout;
        for _ in 0..MAX_LOGIN_RETRIES {
            let now = now_millis();
            let outcome = match cred.apply(CredentialEvent::Login(ok), policy, now) {
                Ok(o) => o,
                Err(_) if ok => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            if self
                .repo
                .record_login(&cred, &outcome.next)
                .await?
                .is_some()
            {
                return Ok(outcome.status);
            }
            match self
                .repo
                .credential_by_ext_id(cred.client_id, &cred.meta.ext_id)
                .await?
            {
                Some(c) => cred = c,
                // Deleted meanwhile: the attempt has nothing left to count against.
                None if ok => return Ok(None),
                None => return Err(login_failed()),
            }
        }
        Err(AppError::Internal(
            "login attempt not recorded: too much contention".into(),
        ))
    }

    // ----- recovery codes ---------------------------------------------------------------

    /// Creates the user's recovery-code credential with 16 fresh codes, or regenerates the
    /// codes of the existing one (every old code stops working).
    ///
    /// # Errors
    /// 403, 404 (client, user), 422 `errors.invalidJWTToken` without a valid X-Token in
    /// self-admin mode; 409 when a concurrent regeneration won.
    pub async fn create_recovery_codes(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<CreatedRecoveryCodes> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = self
            .admit(
                caller,
                Gate::new(&RECOVERY_CREATE).xtoken(xtoken),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let (client, user) = (admitted.client()?, admitted.user()?);
        let fresh = fresh_recovery_codes();
        let existing = self
            .repo
            .credential_of_type(user.meta.id, CredentialType::RecoveryCode)
            .await?;
        let credential = match existing {
            Some(c) => {
                self.repo
                    .replace_recovery_codes(&c, &fresh.salt, &fresh.hashes)
                    .await?
            }
            None => {
                let ext_id = new_ext_id();
                let c = new_credential(
                    CredentialType::RecoveryCode,
                    ext_id.clone(),
                    client,
                    user,
                    CredentialState::Active,
                    None,
                    None,
                );
                let new = NewCredential {
                    credential: c,
                    secret: Some(fresh.salt.clone()),
                    detail: CredentialDetail::None,
                };
                match self.repo.create_recovery_codes(new, &fresh.hashes).await {
                    Ok(c) => c,
                    // A concurrent first POST created the set: the codes this one drew were
                    // never stored, so showing them would be a lie.
                    Err(e) if e.is_unique() => return Err(DomainError::StaleVersion.into()),
                    Err(e) => return Err(duplicate(e, &ext_id)),
                }
            }
        };
        Ok(CreatedRecoveryCodes {
            credential,
            codes: fresh.codes,
        })
    }

    /// The user's recovery-code credential and how many codes are unused.
    ///
    /// # Errors
    /// 403, 404 (client, user, no recovery codes), 422 X-Token in self-admin mode.
    pub async fn get_recovery_codes(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<RecoveryCodes> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&VIEW).xtoken(xtoken),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let (client, user) = (admitted.client()?, admitted.user()?);
        let credential = self
            .repo
            .credential_of_type(user.meta.id, CredentialType::RecoveryCode)
            .await?
            .ok_or_else(|| no_credential(CredentialType::RecoveryCode, None, user, client))?;
        let unused_codes = self.repo.unused_recovery_codes(credential.meta.id).await?;
        Ok(RecoveryCodes {
            credential,
            unused_codes,
        })
    }

    /// Deletes the user's recovery-code credential with all its codes.
    ///
    /// # Errors
    /// 403, 404 (client, user, no recovery codes), 422 X-Token in self-admin mode.
    pub async fn delete_recovery_codes(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<()> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = self
            .admit(
                caller,
                Gate::new(&DELETE).xtoken(xtoken),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let (client, user) = (admitted.client()?, admitted.user()?);
        let credential = self
            .repo
            .credential_of_type(user.meta.id, CredentialType::RecoveryCode)
            .await?
            .ok_or_else(|| no_credential(CredentialType::RecoveryCode, None, user, client))?;
        deleted(
            self.repo
                .delete_credential(credential.meta.id, Epoch::Keep)
                .await,
        )
    }

    /// Logs in with a recovery code: consumes it (each code works exactly once).
    ///
    /// # Errors
    /// 403, 404 (client, user, no recovery codes); 422 `errors.credentialNotActive` when the
    /// credential is locked, disabled or outside its validity (not counted); 422
    /// `errors.userLoginFailed` for a wrong or used code (counted toward the lockout).
    pub async fn recovery_code_login(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        code: &str,
    ) -> AppResult<()> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = self
            .admit(
                caller,
                Gate::new(&LOGIN),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let (client, user) = (admitted.client()?, admitted.user()?);
        let cred = self
            .repo
            .credential_of_type(user.meta.id, CredentialType::RecoveryCode)
            .await?
            .ok_or_else(|| no_credential(CredentialType::RecoveryCode, None, user, client))?;
        let now = now_millis();
        // A code is not consumed on a credential that cannot be used now.
        cred.apply(
            CredentialEvent::Login(true),
            &self.password_policy_for(cred.client_id).await?.lockout,
            now,
        )?;
        let ok = match recovery_code::normalize(code) {
            Some(normalized) => {
                let salt = self
                    .repo
                    .credential_secret(cred.meta.id)
                    .await?
                    .unwrap_or_default();
                let hash = recovery_code::hash_code(salt.as_bytes(), &normalized);
                self.repo
                    .use_recovery_code(cred.meta.id, &hash, now)
                    .await?
            }
            None => false,
        };
        self.record_attempt(cred, ok).await?;
        if ok {
            Ok(())
        } else {
            Err(login_failed())
        }
    }

    // ----- OATH -------------------------------------------------------------------------

    /// Creates an OATH credential with a server-generated secret; the secret leaves the
    /// server only inside the returned `otpauth://` URI.
    ///
    /// # Errors
    /// 403, 404, 422 X-Token in self-admin mode, 422 `errors.invalidParameter` (label missing,
    /// bad state or parameters), 422 `errors.duplicateValue` (extId taken), 422
    /// `errors.invalidConfig` when no `credentials.encryption_key` is configured.
    pub async fn create_oath(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        input: NewOath,
        xtoken: Option<&str>,
    ) -> AppResult<CreatedOath> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = self
            .admit(
                caller,
                Gate::new(&OATH_CREATE).xtoken(xtoken),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let (client, user) = (admitted.client()?, admitted.user()?);
        let label = match input.label.as_deref().map(str::trim) {
            Some(l) if !l.is_empty() && l.len() <= 255 => l.to_owned(),
            _ => return Err(DomainError::invalid_fields(&["label"]).into()),
        };
        check_no_nul(&[
            ("label", Some(&label)),
            ("policyExtId", input.policy_ext_id.as_deref()),
        ])?;
        let state = state_or_active(input.state_name.as_deref())?;
        let defaults = OtpParams::default();
        let params = OtpParams {
            method: match input.method.as_deref() {
                Some(m) => m.parse::<OtpMethod>()?,
                None => defaults.method,
            },
            algorithm: match input.algorithm.as_deref() {
                Some(a) => a.parse::<OtpAlgorithm>()?,
                None => defaults.algorithm,
            },
            digits: input.digits.unwrap_or(defaults.digits),
            period: input.period.unwrap_or(defaults.period),
        };
        params.validate()?;
        let sealer = require_sealer(self.config.sealer.as_ref())?;
        let ext_id = checked_ext_id(self, input.ext_id)?;
        let secret = fresh_oath_secret(params.algorithm);
        let sealed = sealer
            .seal(&secret, &oath_context(&client.meta.ext_id, &ext_id))
            .map_err(|e| AppError::Internal(format!("sealing an OATH secret: {e}")))?;
        let credential = new_credential(
            CredentialType::Oath,
            ext_id.clone(),
            client,
            user,
            state,
            input.policy_ext_id,
            Some(label.clone()),
        );
        let detail = OathDetail {
            params,
            last_used: None,
        };
        let written = self
            .repo
            .create_oath(
                NewCredential {
                    credential,
                    secret: Some(sealed),
                    detail: CredentialDetail::None,
                },
                detail,
            )
            .await
            .map_err(|e| duplicate(e, &ext_id))?;
        let otpauth_uri = otp::otpauth_uri(
            &secret,
            &params,
            self.config.oath_issuer.as_deref(),
            &label,
            0,
        );
        Ok(CreatedOath {
            oath: Oath {
                credential: written,
                detail,
            },
            otpauth_uri,
        })
    }

    async fn oath_of(&self, credential: Credential) -> AppResult<Oath> {
        let detail = self
            .repo
            .oath_detail(credential.meta.id)
            .await?
            .ok_or_else(|| AppError::Internal("OATH credential without its detail row".into()))?;
        Ok(Oath { credential, detail })
    }

    /// Lists the user's OATH credentials (never the secret or the URI).
    ///
    /// # Errors
    /// 403, 404 (client, user).
    pub async fn list_oath(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<Oath>> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&VIEW),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let user = admitted.user()?;
        let page = self
            .repo
            .list_credentials_of_type(Owner::User(user.meta.id), CredentialType::Oath, page)
            .await?;
        let mut items = Vec::with_capacity(page.items.len());
        for c in page.items {
            items.push(self.oath_of(c).await?);
        }
        Ok(Page {
            items,
            next: page.next,
        })
    }

    /// Reads one OATH credential (never the secret or the URI).
    ///
    /// # Errors
    /// 403, 404 (client, user, credential).
    pub async fn get_oath(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<Oath> {
        let c = self
            .admitted_credential(
                caller,
                Gate::new(&VIEW),
                (client_ext_id, user_ext_id),
                CredentialType::Oath,
                ext_id,
            )
            .await?;
        self.oath_of(c).await
    }

    /// Changes label, state, policy or comment of an OATH credential.
    ///
    /// # Errors
    /// 403, 404, 409 (stale version), 422 (X-Token in self-admin mode, changed extId, bad
    /// state, empty label, archived credential).
    pub async fn patch_oath(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
        patch: OathPatch,
        xtoken: Option<&str>,
    ) -> AppResult<Oath> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let mut c = self
            .admitted_credential(
                caller,
                Gate::new(&MODIFY).xtoken(xtoken),
                (client_ext_id, user_ext_id),
                CredentialType::Oath,
                ext_id,
            )
            .await?;
        check_same_ext_id(patch.ext_id.as_deref(), ext_id)?;
        check_version(patch.version, c.meta.version)?;
        check_no_nul(&[
            ("label", patch.label.as_deref()),
            ("policyExtId", patch.policy_ext_id.as_deref()),
            ("modificationComment", patch.modification_comment.as_deref()),
        ])?;
        self.apply_common_patch(&mut c, patch.state_name.as_deref())?;
        if let Some(label) = patch.label {
            let label = label.trim().to_owned();
            if label.is_empty() || label.len() > 255 {
                return Err(DomainError::invalid_fields(&["label"]).into());
            }
            c.context = Some(label);
        }
        patch_fields!(c, patch, { policy_ext_id: Some, modification_comment: Some });
        let written = self.repo.update_credential(&c, Epoch::Keep).await?;
        self.oath_of(written).await
    }

    /// A state change through the state machine (archived credentials refuse every change).
    fn apply_common_patch(&self, c: &mut Credential, state_name: Option<&str>) -> AppResult<()> {
        let policy = &self.config.password_policy.lockout;
        let event = match state_name.map(str::trim) {
            Some(s) if !s.is_empty() => CredentialEvent::SetState(s.parse()?),
            // No state change: still refuse to modify an archived credential.
            _ => CredentialEvent::SetState(c.login.state),
        };
        c.login = c.apply(event, policy, now_millis())?.next;
        Ok(())
    }

    /// Deletes an OATH credential.
    ///
    /// # Errors
    /// 403, 404, 422 X-Token in self-admin mode.
    pub async fn delete_oath(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<()> {
        self.delete_typed(
            caller,
            client_ext_id,
            user_ext_id,
            ext_id,
            CredentialType::Oath,
            xtoken,
        )
        .await
    }

    async fn delete_typed(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
        kind: CredentialType,
        xtoken: Option<&str>,
    ) -> AppResult<()> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let c = self
            .admitted_credential(
                caller,
                Gate::new(&DELETE).xtoken(xtoken),
                (client_ext_id, user_ext_id),
                kind,
                ext_id,
            )
            .await?;
        deleted(self.repo.delete_credential(c.meta.id, Epoch::Keep).await)
    }

    /// Checks a one-time password against the user's OATH credential (idm extension of
    /// `auth/v1`): drift ±1 step, and a code is never accepted twice (the last used step or
    /// counter moves forward with a conditional update, so of two concurrent uses one wins).
    ///
    /// # Errors
    /// 403, 404 (client, user, no OATH credential), 422 `errors.credentialNotActive` (no
    /// usable credential; not counted), 422 `errors.invalidConfig` (no encryption key).
    pub async fn oath_login(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        code: &str,
    ) -> AppResult<LoginStatus> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = self
            .admit(
                caller,
                Gate::new(&LOGIN),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let (client, user) = (admitted.client()?, admitted.user()?);
        let all = self
            .repo
            .credentials_of_type(user.meta.id, CredentialType::Oath)
            .await?;
        if all.is_empty() {
            return Err(no_credential(CredentialType::Oath, None, user, client));
        }
        let now = now_millis();
        let policy = &self.config.password_policy.lockout;
        let cred = all
            .into_iter()
            .find(|c| c.apply(CredentialEvent::Login(true), policy, now).is_ok())
            .ok_or_else(|| AppError::Domain(idm_domain::credential::not_active()))?;
        let sealer = require_sealer(self.config.sealer.as_ref())?;
        let sealed = self
            .repo
            .credential_secret(cred.meta.id)
            .await?
            .ok_or_else(|| AppError::Internal("OATH credential without a secret".into()))?;
        let secret = sealer
            .open(
                &sealed,
                &oath_context(&client.meta.ext_id, &cred.meta.ext_id),
            )
            .map_err(|e| AppError::Internal(format!("OATH secret of {}: {e}", cred.meta.ext_id)))?;
        let detail =
            self.repo.oath_detail(cred.meta.id).await?.ok_or_else(|| {
                AppError::Internal("OATH credential without its detail row".into())
            })?;
        let unix = now.and_utc().timestamp();
        let ok = match otp::verify(&secret, &detail.params, code, unix, detail.last_used) {
            Some(factor) => {
                self.repo
                    .advance_oath(cred.meta.id, detail.last_used, factor)
                    .await?
            }
            None => false,
        };
        Ok(self
            .record_attempt(cred, ok)
            .await?
            .unwrap_or(LoginStatus::Ok))
    }

    // ----- FIDO2 ------------------------------------------------------------------------

    /// Stores a registered FIDO2 authenticator.
    ///
    /// # Errors
    /// 403, 404, 422 `errors.invalidParameter` (mandatory field missing, unknown enum value,
    /// bad state), 422 `errors.duplicateValue` (extId or hashedCredentialId taken).
    pub async fn create_fido2(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        input: NewFido2,
    ) -> AppResult<Fido2> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let admitted = self
            .admit(
                caller,
                Gate::new(&FIDO2_CREATE),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let (client, user) = (admitted.client()?, admitted.user()?);
        let details = input.draft.validate()?;
        check_no_nul(&[
            ("aaguid", Some(&details.aaguid)),
            ("authenticator", Some(&details.authenticator)),
            ("hashedCredentialId", Some(&details.hashed_credential_id)),
            ("rpId", Some(&details.rp_id)),
            ("userAgent", details.user_agent.as_deref()),
            ("userFriendlyName", details.user_friendly_name.as_deref()),
        ])?;
        let state = state_or_active(input.state_name.as_deref())?;
        let ext_id = checked_ext_id(self, input.ext_id)?;
        let credential = new_credential(
            CredentialType::Fido2,
            ext_id.clone(),
            client,
            user,
            state,
            None,
            None,
        );
        let written = self
            .repo
            .create_fido2(
                NewCredential {
                    credential,
                    secret: None,
                    detail: CredentialDetail::None,
                },
                &details,
            )
            .await
            .map_err(|e| duplicate(e, &ext_id))?;
        Ok(Fido2 {
            credential: written,
            details,
        })
    }

    async fn with_fido2_details(&self, page: Page<Credential>) -> AppResult<Page<Fido2>> {
        let ids: Vec<i64> = page.items.iter().map(|c| c.meta.id).collect();
        let mut details = self.repo.fido2_details(&ids).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for credential in page.items {
            let d = details.remove(&credential.meta.id).ok_or_else(|| {
                AppError::Internal("FIDO2 credential without its detail row".into())
            })?;
            items.push(Fido2 {
                credential,
                details: d,
            });
        }
        Ok(Page {
            items,
            next: page.next,
        })
    }

    /// Lists the user's FIDO2 credentials.
    ///
    /// # Errors
    /// 403, 404 (client, user).
    pub async fn list_fido2(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<Fido2>> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&VIEW),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let user = admitted.user()?;
        let page = self
            .repo
            .list_credentials_of_type(Owner::User(user.meta.id), CredentialType::Fido2, page)
            .await?;
        self.with_fido2_details(page).await
    }

    /// Lists every FIDO2 credential of a client.
    ///
    /// # Errors
    /// 403, 404 (client).
    pub async fn list_client_fido2(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<Fido2>> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&CLIENT_LIST),
                Address::client(client_ext_id),
            )
            .await?;
        let client = admitted.client()?;
        let page = self
            .repo
            .list_credentials_of_type(Owner::Client(client.meta.id), CredentialType::Fido2, page)
            .await?;
        self.with_fido2_details(page).await
    }

    /// Lists every FIDO UAF credential of a client.
    ///
    /// # Errors
    /// 403, 404 (client).
    pub async fn list_client_fido_uaf(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<FidoUafCredential>> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&CLIENT_LIST),
                Address::client(client_ext_id),
            )
            .await?;
        let client = admitted.client()?;
        Ok(self.repo.list_client_fido_uaf(client.meta.id, page).await?)
    }

    async fn fido2_of(&self, credential: Credential) -> AppResult<Fido2> {
        let mut d = self.repo.fido2_details(&[credential.meta.id]).await?;
        let details = d
            .remove(&credential.meta.id)
            .ok_or_else(|| AppError::Internal("FIDO2 credential without its detail row".into()))?;
        Ok(Fido2 {
            credential,
            details,
        })
    }

    /// Reads one FIDO2 credential.
    ///
    /// # Errors
    /// 403, 404 (client, user, credential).
    pub async fn get_fido2(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<Fido2> {
        let c = self
            .admitted_credential(
                caller,
                Gate::new(&VIEW),
                (client_ext_id, user_ext_id),
                CredentialType::Fido2,
                ext_id,
            )
            .await?;
        self.fido2_of(c).await
    }

    /// Changes authenticator, display name, state or comment of a FIDO2 credential.
    ///
    /// # Errors
    /// 403, 404, 409 (stale version), 422 (X-Token in self-admin mode, changed extId, bad
    /// state, empty authenticator, archived credential).
    pub async fn patch_fido2(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
        patch: Fido2Patch,
        xtoken: Option<&str>,
    ) -> AppResult<Fido2> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let c = self
            .admitted_credential(
                caller,
                Gate::new(&MODIFY).xtoken(xtoken),
                (client_ext_id, user_ext_id),
                CredentialType::Fido2,
                ext_id,
            )
            .await?;
        let Fido2 {
            credential: mut c,
            mut details,
        } = self.fido2_of(c).await?;
        check_same_ext_id(patch.ext_id.as_deref(), ext_id)?;
        check_version(patch.version, c.meta.version)?;
        check_no_nul(&[
            ("authenticator", patch.authenticator.as_deref()),
            ("userFriendlyName", patch.user_friendly_name.as_deref()),
            ("modificationComment", patch.modification_comment.as_deref()),
        ])?;
        if let Some(a) = &patch.authenticator {
            if a.trim().is_empty() || a.len() > idm_domain::fido2::MAX_FIELD_LEN {
                return Err(DomainError::invalid_fields(&["authenticator"]).into());
            }
        }
        self.apply_common_patch(&mut c, patch.state_name.as_deref())?;
        patch_fields!(details, patch, { authenticator, user_friendly_name: Some });
        patch_fields!(c, patch, { modification_comment: Some });
        let written = self.repo.update_fido2(&c, &details).await?;
        Ok(Fido2 {
            credential: written,
            details,
        })
    }

    /// Deletes a FIDO2 credential.
    ///
    /// # Errors
    /// 403, 404, 422 X-Token in self-admin mode.
    pub async fn delete_fido2(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<()> {
        self.delete_typed(
            caller,
            client_ext_id,
            user_ext_id,
            ext_id,
            CredentialType::Fido2,
            xtoken,
        )
        .await
    }

    // ----- FIDO UAF ---------------------------------------------------------------------

    /// Changes the state or comment of a FIDO UAF credential (its common row).
    ///
    /// # Errors
    /// 403, 404, 409 (stale version), 422 (X-Token in self-admin mode, changed extId, bad
    /// state, archived credential).
    pub async fn patch_fido_uaf(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
        patch: FidoUafPatch,
        xtoken: Option<&str>,
    ) -> AppResult<Credential> {
        let write = self.writing();
        write.reaches_nobody(); // callers are never resolved from credentials
        let mut c = self
            .admitted_credential(
                caller,
                Gate::new(&MODIFY).xtoken(xtoken),
                (client_ext_id, user_ext_id),
                CredentialType::FidoUaf,
                ext_id,
            )
            .await?;
        check_same_ext_id(patch.ext_id.as_deref(), ext_id)?;
        check_version(patch.version, c.meta.version)?;
        check_no_nul(&[("modificationComment", patch.modification_comment.as_deref())])?;
        self.apply_common_patch(&mut c, patch.state_name.as_deref())?;
        patch_fields!(c, patch, { modification_comment: Some });
        Ok(self.repo.update_credential(&c, Epoch::Keep).await?)
    }
}
