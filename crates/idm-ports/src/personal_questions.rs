//! Personal questions of a client.

use async_trait::async_trait;

/// Persistence of personal questions.
#[async_trait]
pub trait PersonalQuestionRepo {}
