//! # idm-domain
//!
//! The innermost layer of idm: entities and value objects, the nevisIDM error codes, and the
//! policy engine (identifier and password policies, roles → rights, permission expressions,
//! datarooms).
//!
//! Layer rule: this crate performs no I/O and depends on no async runtime, web framework or
//! ORM, so other Rust services can embed it as it is.

pub mod access;
pub mod error;
pub mod error_code;
pub mod model;
pub mod policy;
pub mod rights;
pub mod roles;
pub mod values;

pub use error::{DomainError, ErrorEntry, ErrorEnvelope, PolicyViolation};
pub use error_code::ErrorCode;
