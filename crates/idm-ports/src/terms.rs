//! Terms and consents.

use async_trait::async_trait;

/// Persistence of terms and consents.
#[async_trait]
pub trait TermsRepo {}
