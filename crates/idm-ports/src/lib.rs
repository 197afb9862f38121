//! # idm-ports
//!
//! The seam between use cases and persistence: one repository trait per aggregate, plus
//! [`RepoError`]. Layer rule: depends on `idm-domain` only — no Diesel, no web framework — so
//! an adapter can be swapped without touching a use case.
//!
//! Every trait is implemented by one adapter object; [`Repository`] bundles them so the service
//! layer holds a single `Arc<dyn Repository>`. Methods that change several rows are atomic:
//! the adapter runs them in one transaction (no transaction handle crosses this seam).

mod error;
mod page;

pub mod applications;
pub mod audit;
pub mod caller;
pub mod clients;
pub mod credentials;
pub mod devices;
pub mod eroles;
pub mod locate;
pub mod mfa;
pub mod personal_questions;
pub mod policies;
pub mod profiles;
pub mod properties;
pub mod query;
pub mod revocation;
pub mod terms;
pub mod units;
pub mod users;

pub use error::RepoError;
pub use page::{Cursor, Page, PageRequest};

/// Result type of every port method.
pub type RepoResult<T> = Result<T, RepoError>;

/// All repositories of idm, implemented by one adapter.
pub trait Repository:
    clients::ClientRepo
    + units::UnitRepo
    + units::UnitAdmin
    + users::UserRepo
    + users::UserAdmin
    + profiles::ProfileRepo
    + profiles::ProfileAdmin
    + applications::ApplicationRepo
    + credentials::CredentialRepo
    + mfa::MfaRepo
    + caller::CallerRepo
    + terms::TermsRepo
    + personal_questions::PersonalQuestionRepo
    + policies::PolicyRepo
    + devices::DeviceRepo
    + properties::PropertyRepo
    + eroles::EnterpriseRoleRepo
    + locate::Locator
    + revocation::Announcer
    + audit::AuditRepo
    + Send
    + Sync
{
}

impl<T> Repository for T where
    T: clients::ClientRepo
        + units::UnitRepo
        + units::UnitAdmin
        + users::UserRepo
        + users::UserAdmin
        + profiles::ProfileRepo
        + profiles::ProfileAdmin
        + applications::ApplicationRepo
        + credentials::CredentialRepo
        + mfa::MfaRepo
        + caller::CallerRepo
        + terms::TermsRepo
        + personal_questions::PersonalQuestionRepo
        + policies::PolicyRepo
        + devices::DeviceRepo
        + properties::PropertyRepo
        + eroles::EnterpriseRoleRepo
        + locate::Locator
        + revocation::Announcer
        + audit::AuditRepo
        + Send
        + Sync
{
}
