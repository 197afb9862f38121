//! The credential model shared by every credential type (password, recovery codes, OATH, FIDO
//! UAF, FIDO2): types, the eight states, state-change reasons, login counters, and the state
//! machine as one pure function of (state, event, lockout policy, now).

use chrono::{Duration, NaiveDateTime, TimeZone, Utc};

use crate::error::DomainError;
use crate::error_code::ErrorCode;
use crate::model::Meta;
use crate::policy::{LockoutPolicy, TmpLockingMode};
use crate::values::Validity;

wire_enum! {
    /// The credential types idm stores (wire strings of the reference's `type` enum).
    CredentialType, parse: "CredentialType" {
        /// The user's password (at most one per user).
        Password => "Password",
        /// A set of single-use recovery codes.
        RecoveryCode => "Recovery Code",
        /// A TOTP/HOTP token.
        Oath => "OATH",
        /// A FIDO UAF authenticator registration.
        FidoUaf => "FIDO UAF Authenticator",
        /// A FIDO2 (WebAuthn) authenticator registration.
        Fido2 => "FIDO2 Authenticator",
    }
}

wire_enum! {
    /// The state of a credential.
    CredentialState, parse: "CredentialState" {
        /// Created or reset; usable, but the user should change it.
        Initial => "initial",
        /// The normal state.
        Active => "active",
        /// Locked by login failures until `locked_until`.
        TmpLocked => "tmp-locked",
        /// Locked by login failures until an administrator unlocks or resets it.
        FailLocked => "fail-locked",
        /// Waiting for a reset code (policies with `resetCodeEnabled`).
        ResetCode => "reset-code",
        /// Changed by an administrator.
        AdminChanged => "admin-changed",
        /// Switched off.
        Disabled => "disabled",
        /// Retired; no further change.
        Archived => "archived",
    }
}

wire_enum! {
    /// Why a credential last changed state (`GET core/system/credential-state-change-reasons`,
    /// in the reference's order).
    StateChangeReason, parse: "StateChangeReason" {
        /// A site-specific reason.
        Customized => "customized-reason-code",
        /// Created.
        Initialized => "initialized",
        /// Activated.
        Activated => "activated",
        /// Locked by login failures.
        TooManyLoginFailures => "too-many-login-failures",
        /// Reset by an administrator.
        ResetByAdmin => "reset-by-admin",
        /// Changed by an administrator.
        ChangedByAdmin => "changed-by-admin",
        /// Changed by its owner.
        ChangedByUser => "changed-by-user",
        /// Owner logged in with a strong credential.
        LoggedInWithStrongCred => "logged-in-with-strong-cred",
        /// Certificate uploaded.
        CertUploaded => "cert-uploaded",
        /// A policy check failed.
        PolicyCheckFailed => "policy-check-failed",
        /// Renewed.
        Renewal => "renewal",
        /// Reset (self-service).
        Reset => "reset",
        /// Certificate revoked.
        CertRevoked => "cert-revoked",
        /// Unlocked.
        Unlock => "unlock",
        /// Changed by a batch job.
        ChangedByBatchjob => "changed-by-batchjob",
    }
}

/// The outcome a login reports in `statusCode` (nevisIDM's login status table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginStatus {
    /// 5: the secret was right.
    Ok,
    /// 2: wrong, and the next failure does not lock yet.
    Failed,
    /// 3: wrong; the next failure locks (temporarily or for good).
    LockWarning,
    /// 9: wrong; the credential is now temporarily locked.
    TmpLocked,
    /// 4: wrong; the credential is now locked until an administrator acts.
    Locked,
}

impl LoginStatus {
    /// The numeric `statusCode`.
    pub const fn code(self) -> i32 {
        match self {
            LoginStatus::Ok => 5,
            LoginStatus::Failed => 2,
            LoginStatus::LockWarning => 3,
            LoginStatus::TmpLocked => 9,
            LoginStatus::Locked => 4,
        }
    }

    /// The `description` sent with the code.
    pub const fn description(self) -> &'static str {
        match self {
            LoginStatus::Ok => "Login Ok",
            LoginStatus::Failed => "Failed",
            LoginStatus::LockWarning => "Failed (lock warning)",
            LoginStatus::TmpLocked => "Failed (now temporarily locked)",
            LoginStatus::Locked => "Failed (now locked)",
        }
    }
}

/// The part of a credential the state machine reads and writes: state and login counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginState {
    /// Stored state.
    pub state: CredentialState,
    /// Why the state last changed.
    pub reason: Option<StateChangeReason>,
    /// Successful logins since creation, reset or unlock.
    pub success_count: i64,
    /// Last successful login.
    pub last_success: Option<NaiveDateTime>,
    /// Failed logins since the last success, reset or unlock.
    pub failure_count: i64,
    /// Last failed login.
    pub last_failure: Option<NaiveDateTime>,
    /// End of a temporary lock (only meaningful in `tmp-locked`).
    pub locked_until: Option<NaiveDateTime>,
    /// How often the credential was reset.
    pub reset_count: i64,
}

impl LoginState {
    /// A fresh credential in `state`, reason `initialized`.
    pub fn new(state: CredentialState) -> Self {
        LoginState {
            state,
            reason: Some(StateChangeReason::Initialized),
            success_count: 0,
            last_success: None,
            failure_count: 0,
            last_failure: None,
            locked_until: None,
            reset_count: 0,
        }
    }

    /// The state as clients see it at `now`: a temporary lock that has run out reads as
    /// `active` (it is only written back by the next login or change).
    pub fn effective_state(&self, now: NaiveDateTime) -> CredentialState {
        match (self.state, self.locked_until) {
            (CredentialState::TmpLocked, Some(until)) if until <= now => CredentialState::Active,
            (s, _) => s,
        }
    }
}

/// What happens to a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialEvent {
    /// A login attempt whose secret was right (`true`) or wrong (`false`).
    Login(bool),
    /// `POST .../reset`: back to `initial`, counters 0.
    Reset,
    /// `POST .../unlock`: `active`, counters 0.
    Unlock,
    /// An administrator sets the state (`PATCH stateName`).
    SetState(CredentialState),
}

/// A successful transition: the new state and counters, and for logins the status to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// State and counters to store.
    pub next: LoginState,
    /// For [`CredentialEvent::Login`]: what the login reports.
    pub status: Option<LoginStatus>,
}

/// 422 `errors.credentialNotActive`: the credential cannot be used now (not counted).
pub fn not_active() -> DomainError {
    DomainError::unprocessable(
        ErrorCode::CredentialNotActive,
        "The credential is not active or outside its validity period.",
    )
}

/// 422 `errors.modifyArchivedCredential`: archived credentials do not change any more.
pub fn archived() -> DomainError {
    DomainError::unprocessable(
        ErrorCode::ModifyArchivedCredential,
        "An archived credential cannot be modified.",
    )
}

/// Whether `failures` failed logins reach the temporary lock under `policy`.
fn reaches_tmp_lock(failures: i64, policy: &LockoutPolicy) -> bool {
    let threshold = i64::from(policy.tmp_locking_threshold);
    if threshold <= 0 {
        return false;
    }
    match policy.tmp_locking_mode {
        // After the first lock, every further failure locks again.
        TmpLockingMode::Strict => failures >= threshold,
        // Each lock is followed by `threshold` more tries.
        TmpLockingMode::Threshold => failures % threshold == 0,
    }
}

/// Whether `failures` failed logins reach the permanent lock under `policy`.
fn reaches_lock(failures: i64, policy: &LockoutPolicy) -> bool {
    let max = i64::from(policy.max_failure_count);
    max > 0 && failures >= max
}

/// The state machine of every credential: what `event` does to `current` at `now`.
///
/// Logins are refused (422 `errors.credentialNotActive`, nothing counted) unless the
/// credential is `active` or `initial`, or `tmp-locked` with its lock run out; a refusal
/// leaves the credential untouched, which is why it is an `Err`. Archived credentials refuse
/// every change (`errors.modifyArchivedCredential`); a disabled credential is neither reset
/// nor unlocked (an unlock must not switch a credential on that an administrator switched off).
///
/// # Errors
/// The refusals above.
pub fn transition(
    current: &LoginState,
    event: CredentialEvent,
    policy: &LockoutPolicy,
    now: NaiveDateTime,
) -> Result<Outcome, DomainError> {
    use CredentialState as S;
    let effective = current.effective_state(now);
    match event {
        CredentialEvent::Login(ok) => {
            if !matches!(effective, S::Active | S::Initial) {
                return Err(not_active());
            }
            // A run-out temporary lock ends here; `initial` stays until the password changes.
            let (state, reason) = if current.state == S::TmpLocked {
                (S::Active, current.reason)
            } else {
                (current.state, current.reason)
            };
            if ok {
                let next = LoginState {
                    state,
                    reason,
                    success_count: current.success_count + 1,
                    last_success: Some(now),
                    failure_count: 0,
                    locked_until: None,
                    ..current.clone()
                };
                return Ok(Outcome {
                    next,
                    status: Some(LoginStatus::Ok),
                });
            }
            let failures = current.failure_count + 1;
            let mut next = LoginState {
                state,
                reason,
                failure_count: failures,
                last_failure: Some(now),
                locked_until: None,
                ..current.clone()
            };
            let status = if reaches_lock(failures, policy) {
                next.state = S::FailLocked;
                next.reason = Some(StateChangeReason::TooManyLoginFailures);
                LoginStatus::Locked
            } else if reaches_tmp_lock(failures, policy) {
                next.state = S::TmpLocked;
                next.reason = Some(StateChangeReason::TooManyLoginFailures);
                let ms = i64::try_from(policy.tmp_locking_duration_ms).unwrap_or(i64::MAX);
                next.locked_until = now.checked_add_signed(Duration::milliseconds(ms));
                LoginStatus::TmpLocked
            } else if reaches_lock(failures + 1, policy) || reaches_tmp_lock(failures + 1, policy) {
                LoginStatus::LockWarning
            } else {
                LoginStatus::Failed
            };
            Ok(Outcome {
                next,
                status: Some(status),
            })
        }
        CredentialEvent::Reset | CredentialEvent::Unlock => {
            match current.state {
                S::Archived => return Err(archived()),
                S::Disabled => return Err(not_active()),
                _ => {}
            }
            let (state, reason, resets) = if event == CredentialEvent::Reset {
                (
                    S::Initial,
                    StateChangeReason::ResetByAdmin,
                    current.reset_count + 1,
                )
            } else {
                (S::Active, StateChangeReason::Unlock, current.reset_count)
            };
            Ok(Outcome {
                next: LoginState {
                    state,
                    reason: Some(reason),
                    success_count: 0,
                    failure_count: 0,
                    locked_until: None,
                    reset_count: resets,
                    ..current.clone()
                },
                status: None,
            })
        }
        CredentialEvent::SetState(to) => {
            if current.state == S::Archived {
                return Err(archived());
            }
            let locked_until = if to == S::TmpLocked {
                let ms = i64::try_from(policy.tmp_locking_duration_ms).unwrap_or(i64::MAX);
                now.checked_add_signed(Duration::milliseconds(ms))
            } else {
                None
            };
            let reason = if to == current.state {
                current.reason
            } else {
                Some(StateChangeReason::ChangedByAdmin)
            };
            Ok(Outcome {
                next: LoginState {
                    state: to,
                    reason,
                    locked_until,
                    ..current.clone()
                },
                status: None,
            })
        }
    }
}

/// A stored credential of any type: the common fields of the reference's credential DTO.
/// Secrets are not part of it (the adapter hands them out separately, on purpose).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning user.
    pub user_id: i64,
    /// The owner's extId.
    pub user_ext_id: String,
    /// Which type.
    pub kind: CredentialType,
    /// The policy the credential was created under, if any.
    pub policy_ext_id: Option<String>,
    /// State and login counters.
    pub login: LoginState,
    /// Free text detail of the last state change.
    pub state_change_detail: Option<String>,
    /// Comment on the last modification.
    pub modification_comment: Option<String>,
    /// When the credential may be used.
    pub validity: Validity,
    /// Label (OATH) or context (context passwords).
    pub context: Option<String>,
}

impl Credential {
    /// Whether `now` lies inside the validity period.
    pub fn is_valid_at(&self, now: NaiveDateTime) -> bool {
        self.validity.contains(Utc.from_utc_datetime(&now))
    }

    /// [`transition`] for this credential, refusing logins outside the validity period too.
    ///
    /// # Errors
    /// As [`transition`]; 422 `errors.credentialNotActive` for a login outside the validity.
    pub fn apply(
        &self,
        event: CredentialEvent,
        policy: &LockoutPolicy,
        now: NaiveDateTime,
    ) -> Result<Outcome, DomainError> {
        if matches!(event, CredentialEvent::Login(_)) && !self.is_valid_at(now) {
            return Err(not_active());
        }
        transition(&self.login, event, policy, now)
    }
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use CredentialState as S;

    fn t0() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .unwrap()
            .naive_utc()
    }

    fn policy() -> LockoutPolicy {
        LockoutPolicy::default()
    }

    /// A credential in `state` with one failure behind it and a lock that ends in 60 s.
    fn in_state(state: S) -> LoginState {
        LoginState {
            state,
            reason: Some(StateChangeReason::Initialized),
            success_count: 4,
            last_success: None,
            failure_count: 1,
            last_failure: None,
            locked_until: (state == S::TmpLocked).then(|| t0() + Duration::seconds(60)),
            reset_count: 0,
        }
    }

    /// Compact rendering of an outcome: `state f=<failures> s=<successes> [code]` or the error.
    fn render(r: Result<Outcome, DomainError>) -> String {
        match r {
            Ok(o) => format!(
                "{} f={} s={}{}",
                o.next.state,
                o.next.failure_count,
                o.next.success_count,
                o.status
                    .map(|s| format!(" {}", s.code()))
                    .unwrap_or_default()
            ),
            Err(DomainError::Unprocessable { code, .. }) => code.to_string(),
            Err(e) => format!("unexpected {e}"),
        }
    }

    #[test]
    fn the_state_machine_answers_every_state_and_event_pair_as_tabled() {
        use CredentialEvent as E;
        let na = "errors.credentialNotActive";
        let arch = "errors.modifyArchivedCredential";
        // Per state: Login(ok), Login(wrong), Reset, Unlock (SetState is tabled separately).
        // Every state starts with failures=1, successes=4; tmp-locked is still locked.
        let table: [(S, [&str; 4]); 8] = [
            (
                S::Initial,
                [
                    "initial f=0 s=5 5",
                    "tmp-locked f=2 s=4 9",
                    "initial f=0 s=0",
                    "active f=0 s=0",
                ],
            ),
            (
                S::Active,
                [
                    "active f=0 s=5 5",
                    "tmp-locked f=2 s=4 9",
                    "initial f=0 s=0",
                    "active f=0 s=0",
                ],
            ),
            (S::TmpLocked, [na, na, "initial f=0 s=0", "active f=0 s=0"]),
            (S::FailLocked, [na, na, "initial f=0 s=0", "active f=0 s=0"]),
            (S::ResetCode, [na, na, "initial f=0 s=0", "active f=0 s=0"]),
            (
                S::AdminChanged,
                [na, na, "initial f=0 s=0", "active f=0 s=0"],
            ),
            (S::Disabled, [na, na, na, na]),
            (S::Archived, [na, na, arch, arch]),
        ];
        assert_eq!(table.len(), S::ALL.len());
        for (state, expected) in table {
            let events = [E::Login(true), E::Login(false), E::Reset, E::Unlock];
            for (event, want) in events.into_iter().zip(expected) {
                let got = render(transition(&in_state(state), event, &policy(), t0()));
                assert_eq!(got, want, "{state} + {event:?}");
            }
            // An administrator may set any state, except on an archived credential.
            for to in S::ALL.iter().copied() {
                let got = render(transition(
                    &in_state(state),
                    E::SetState(to),
                    &policy(),
                    t0(),
                ));
                let want = if state == S::Archived {
                    arch.to_owned()
                } else {
                    format!("{to} f=1 s=4")
                };
                assert_eq!(got, want, "{state} + SetState({to})");
            }
        }
    }

    #[test]
    fn the_default_lockout_walks_from_warning_to_temporary_lock_to_lock() {
        let p = policy();
        let mut c = LoginState::new(S::Active);
        let o = transition(&c, CredentialEvent::Login(false), &p, t0()).unwrap();
        assert_eq!(o.status, Some(LoginStatus::LockWarning));
        c = o.next;
        let o = transition(&c, CredentialEvent::Login(false), &p, t0()).unwrap();
        assert_eq!(o.status, Some(LoginStatus::TmpLocked));
        assert_eq!(o.next.state, S::TmpLocked);
        assert_eq!(o.next.reason, Some(StateChangeReason::TooManyLoginFailures));
        c = o.next;
        // During the lock: refused, nothing changes.
        let during = t0() + Duration::milliseconds(59_999);
        assert_eq!(c.effective_state(during), S::TmpLocked);
        assert!(transition(&c, CredentialEvent::Login(true), &p, during).is_err());
        // After it, strict mode allows one try; it reaches maxCredFailureCount.
        let after = t0() + Duration::milliseconds(60_000);
        assert_eq!(c.effective_state(after), S::Active);
        let o = transition(&c, CredentialEvent::Login(false), &p, after).unwrap();
        assert_eq!(o.status, Some(LoginStatus::Locked));
        assert_eq!(o.next.state, S::FailLocked);
        assert_eq!(o.next.failure_count, 3);
    }

    #[test]
    fn a_right_password_after_a_run_out_lock_activates_and_clears_the_failures() {
        let mut c = in_state(S::TmpLocked);
        c.failure_count = 2;
        let after = t0() + Duration::seconds(61);
        let o = transition(&c, CredentialEvent::Login(true), &policy(), after).unwrap();
        assert_eq!(o.next.state, S::Active);
        assert_eq!(o.next.failure_count, 0);
        assert_eq!(o.next.last_success, Some(after));
        assert_eq!(o.next.locked_until, None);
    }

    #[test]
    fn threshold_mode_grants_threshold_tries_after_each_temporary_lock() {
        let p = LockoutPolicy {
            max_failure_count: 10,
            tmp_locking_threshold: 2,
            tmp_locking_mode: TmpLockingMode::Threshold,
            ..LockoutPolicy::default()
        };
        let codes: Vec<i32> = (0..6)
            .scan(LoginState::new(S::Active), |c, i| {
                // Each try comes after any lock has run out.
                let at = t0() + Duration::minutes(2 * i);
                let o = transition(c, CredentialEvent::Login(false), &p, at).unwrap();
                *c = o.next;
                o.status.map(LoginStatus::code)
            })
            .collect();
        assert_eq!(codes, [3, 9, 3, 9, 3, 9]);
        let strict = LockoutPolicy {
            tmp_locking_mode: TmpLockingMode::Strict,
            ..p
        };
        let codes: Vec<i32> = (0..4)
            .scan(LoginState::new(S::Active), |c, i| {
                let at = t0() + Duration::minutes(2 * i);
                let o = transition(c, CredentialEvent::Login(false), &strict, at).unwrap();
                *c = o.next;
                o.status.map(LoginStatus::code)
            })
            .collect();
        assert_eq!(codes, [3, 9, 9, 9]);
    }

    #[test]
    fn disabled_lock_counters_never_lock() {
        let p = LockoutPolicy {
            max_failure_count: -1,
            tmp_locking_threshold: -1,
            ..LockoutPolicy::default()
        };
        let mut c = LoginState::new(S::Active);
        for _ in 0..50 {
            let o = transition(&c, CredentialEvent::Login(false), &p, t0()).unwrap();
            assert_eq!(o.status, Some(LoginStatus::Failed));
            c = o.next;
        }
        assert_eq!(c.failure_count, 50);
        assert_eq!(c.state, S::Active);
    }

    #[test]
    fn a_login_outside_the_validity_period_is_refused_as_not_active() {
        let c = Credential {
            meta: Meta {
                id: 1,
                ext_id: "c".into(),
                created: t0(),
                last_modified: t0(),
                version: 1,
            },
            client_id: 1,
            user_id: 1,
            user_ext_id: "u".into(),
            kind: CredentialType::Password,
            policy_ext_id: None,
            login: LoginState::new(S::Active),
            state_change_detail: None,
            modification_comment: None,
            validity: Validity {
                from: None,
                to: Some(Utc.from_utc_datetime(&(t0() - Duration::seconds(1)))),
            },
            context: None,
        };
        let err = c
            .apply(CredentialEvent::Login(true), &policy(), t0())
            .unwrap_err();
        assert_eq!(render(Err(err)), "errors.credentialNotActive");
        assert!(c.apply(CredentialEvent::Unlock, &policy(), t0()).is_ok());
    }

    #[test]
    fn wire_names_round_trip_and_unknown_names_are_invalid_parameters() {
        for s in S::ALL {
            assert_eq!(s.as_str().parse::<S>().unwrap(), *s);
        }
        assert_eq!(S::ALL.len(), 8);
        assert_eq!(
            serde_json::to_string(&S::TmpLocked).unwrap(),
            "\"tmp-locked\""
        );
        assert_eq!(
            "FIDO UAF Authenticator".parse::<CredentialType>().unwrap(),
            CredentialType::FidoUaf
        );
        assert_eq!(StateChangeReason::ALL.len(), 15);
        assert_eq!(
            render(Err("locked".parse::<S>().unwrap_err())),
            "errors.invalidParameter"
        );
    }
}
