//! The black-box suite's harness is the publishable `idm-testing` crate; this crate re-exports
//! it whole so the suite's `use idm_tests::*` (and `idm_tests::dual_test!`) keep working.

pub use idm_testing::*;
