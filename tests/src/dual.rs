//! The dual-backend test macro now lives in `idm-testing` (crates/idm-testing/src/dual.rs).
//! This file stays so code that includes it by path keeps compiling: the repository contract
//! tests of `idm-diesel` do `#[path = "../../../tests/src/dual.rs"] mod dual;` (they cannot
//! depend on `idm-testing`, which builds the whole server). A `#[path]` here is relative to
//! this file's directory, whoever includes it.

#[path = "../../crates/idm-testing/src/dual.rs"]
mod imp;
pub use imp::*;
