//! # idm-service
//!
//! The use cases of idm: resolve the caller, authorize with the domain policy, validate, and
//! call the ports. One module per resource. Layer rule: no HTTP types and no SQL here — the
//! web layer hands in plain values and gets domain values or an [`AppError`] back.

/// Copies every field a partial update carries onto its target, so a PATCH use case lists
/// its fields once: `patch_fields!(unit, patch, { name, location: Some, title => name.title })`
/// sets `unit.name = v` for `patch.name == Some(v)`, wraps in `Some` where the target is
/// optional, and writes to another path where the names differ. Validate before applying.
macro_rules! patch_fields {
    ($target:expr, $patch:expr, { $($src:ident $(=> $($dst:ident).+)? $(: $wrap:path)?),* $(,)? }) => {
        $(
            if let Some(v) = $patch.$src {
                patch_fields!(@set ($target) [$src] [$($($dst).+)?] v [$($wrap)?]);
            }
        )*
    };
    (@set ($t:expr) [$src:ident] [] $v:ident [$($wrap:path)?]) => {
        $t.$src = $($wrap)?($v)
    };
    (@set ($t:expr) [$src:ident] [$($dst:ident).+] $v:ident [$($wrap:path)?]) => {
        $t.$($dst).+ = $($wrap)?($v)
    };
}

mod admit;
mod error;

pub mod applications;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod clients;
pub mod credentials;
pub mod devices;
pub mod eroles;
pub mod identity;
pub mod mfa;
mod mfa_secrets;
pub mod personal_questions;
pub mod policies;
pub mod principal;
pub mod profiles;
pub mod properties;
pub mod remote_keys;
mod revocation;
pub mod sealing;
pub mod terms;
pub mod throttle;
pub mod transfer;
pub mod units;
pub mod users;

use std::sync::Arc;

use idm_domain::access::{authorize, Access, Caller, Requirement, Target};
use idm_domain::policy::{IdentifierPolicy, PasswordPolicy};
use idm_ports::Repository;

pub use auth::{AuthConfig, KeySource};
pub use error::AppError;
pub use remote_keys::{KeyRefresher, KeySetError, KeySetFetcher, RemoteKeysConfig};

/// Result of every use case.
pub type AppResult<T> = Result<T, AppError>;

/// Everything the use cases are configured with.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Bearer-token and X-Token verification.
    pub auth: AuthConfig,
    /// Naming policy for client, unit, application and role names.
    pub identifier_policy: IdentifierPolicy,
    /// Password policy (password rules and the lockout keys of every credential type).
    pub password_policy: PasswordPolicy,
    /// Brute-force brakes on password checks.
    pub throttle: throttle::ThrottleConfig,
    /// `properties.encryption_key`: seals encrypted property values; `None` refuses
    /// encrypted definitions.
    pub property_key: Option<properties::PropertyKey>,
    /// User attributes (wire names) a self-admin may change only with a valid X-Token.
    pub self_protected_attributes: Vec<String>,
    /// argon2id cost of password hashes.
    pub hashing: auth::HashingParams,
    /// Seals OATH secrets at rest (`credentials.encryption_key`); `None` refuses OATH create.
    pub sealer: Option<sealing::Sealer>,
    /// `issuer` of `otpauth://` URIs (`credentials.oath_issuer`).
    pub oath_issuer: Option<String>,
}

/// The use cases, sharing one repository and configuration. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    repo: Arc<dyn Repository>,
    config: Arc<ServiceConfig>,
    verifier: Arc<auth::TokenVerifier>,
    callers: Arc<auth::CallerCache>,
    throttle: Arc<throttle::Throttle>,
    props: Arc<properties::PropertyState>,
    hasher: Arc<auth::Hasher>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

impl Services {
    /// Wires the use cases to a repository.
    ///
    /// # Errors
    /// Unusable key material in `config.auth`.
    pub fn new(repo: Arc<dyn Repository>, config: ServiceConfig) -> AppResult<Self> {
        let verifier = auth::TokenVerifier::new(&config.auth)?;
        let callers = auth::CallerCache::new(config.auth.caller_cache_ttl_ms);
        let throttle = throttle::Throttle::new(config.throttle);
        let props = properties::PropertyState::new(
            config.property_key.as_ref(),
            config.auth.caller_cache_ttl_ms,
        )?;
        let hasher = auth::Hasher::new(config.hashing)?;
        Ok(Services {
            props: Arc::new(props),
            hasher: Arc::new(hasher),
            repo,
            config: Arc::new(config),
            verifier: Arc::new(verifier),
            callers: Arc::new(callers),
            throttle: Arc::new(throttle),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// The repository (for the server's readiness check and tools).
    pub fn repo(&self) -> &Arc<dyn Repository> {
        &self.repo
    }

    /// Applies the policy engine; a denial becomes the exact nevisIDM 403.
    pub(crate) fn authorize(
        caller: &Caller,
        req: &Requirement,
        target: &Target<'_>,
    ) -> AppResult<Access> {
        authorize(caller, req, target).map_err(|d| AppError::Domain(d.into()))
    }
}
