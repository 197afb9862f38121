//! # idm-domain
//!
//! The innermost layer of idm: entities and value objects, the nevisIDM error codes, and the
//! policy engine (identifier and password policies, roles → rights, permission expressions,
//! datarooms).
//!
//! Layer rule: this crate performs no I/O and depends on no async runtime, web framework or
//! ORM, so other Rust services can embed it as it is.
//!
//! ## May caller X do right R on this object?
//!
//! Asked from what the REST API shows (extIds, unit extId paths, role names), answered with
//! nevisIDM's own 403 when the answer is no; see [`access::Subject`]:
//!
//! ```
//! use idm_domain::access::{Authorization, Object, Subject};
//!
//! let alice = Subject::new("Default", "alice")
//!     .with(Authorization::role("UserAdmin").in_unit(["Default-root", "sales"]));
//! let bob = Object::in_units("Default", [["Default-root", "sales"]]);
//! assert!(alice.may("AccessControl.UserModify", &bob)?.is_allowed());
//! # Ok::<(), idm_domain::access::QuestionError>(())
//! ```

#![deny(missing_docs)]

#[macro_use]
mod wire;

pub mod access;
pub mod audit;
pub mod credential;
pub mod eroles;
pub mod error;
pub mod error_code;
pub mod fido2;
pub mod model;
pub mod otp;
pub mod policy;
pub mod policy_config;
pub mod properties;
pub mod recovery_code;
pub mod rights;
pub mod roles;
pub mod values;

// The README's examples run as doctests, so the crate's front page cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use error::{DomainError, ErrorEntry, ErrorEnvelope, ErrorIdentifier, PolicyViolation};
pub use error_code::ErrorCode;

#[cfg(test)]
mod layer_rule {
    /// The domain must stay embeddable: no async runtime, web framework or ORM among its
    /// dependencies (the same check as `cargo tree -p idm-domain`, without needing cargo).
    #[test]
    fn domain_crate_depends_on_no_runtime_framework_or_orm() {
        let manifest = include_str!("../Cargo.toml");
        let deps = manifest
            .split("[dependencies]")
            .nth(1)
            .unwrap_or_default()
            .split("\n[")
            .next()
            .unwrap_or_default();
        for forbidden in [
            "tokio",
            "actix",
            "diesel",
            "async-std",
            "sqlx",
            "hyper",
            "reqwest",
        ] {
            assert!(
                !deps.contains(forbidden),
                "idm-domain depends on {forbidden}"
            );
        }
    }
}
