//! The error of every use case.

use idm_domain::DomainError;
use idm_ports::RepoError;

/// Why a use case failed: something the client may be told ([`DomainError`]), the database
/// being unreachable, or an internal fault whose text goes to the log only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// A failure the client caused or may know about.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The database cannot be reached (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// An unexpected fault (500); the text is for the log.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<RepoError> for AppError {
    /// The default translation; use cases map `NotFound`, `Conflict` and `StaleVersion` to
    /// specific client errors before falling back on this.
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::StaleVersion => AppError::Domain(DomainError::StaleVersion),
            RepoError::Unavailable(m) => AppError::Unavailable(m),
            RepoError::LockFailure(m) => {
                tracing::warn!(cause = %m, "transaction abandoned after lock contention");
                AppError::Domain(DomainError::LockContention)
            }
            RepoError::NotFound => AppError::Internal("row vanished during the request".into()),
            RepoError::Conflict { constraint } => {
                AppError::Internal(format!("unexpected constraint violation: {constraint}"))
            }
            RepoError::Other(m) => AppError::Internal(m),
        }
    }
}

/// The outcome of a delete: a row someone else deleted in between is the outcome the caller
/// asked for, not an error.
pub(crate) fn deleted(result: Result<(), RepoError>) -> Result<(), AppError> {
    match result {
        Ok(()) | Err(RepoError::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
