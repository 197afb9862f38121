//! The one error type of every port.

/// Why a repository call failed. Adapters translate their driver errors into this at the seam.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// The addressed row does not exist.
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write.
    #[error("constraint violated: {constraint}")]
    Conflict {
        /// What refused the write: the constraint or column names as the adapter knows them
        /// (e.g. `unique:users.login_id`, `foreign_key`).
        constraint: String,
    },
    /// A conditional update found another version than the one read: someone else wrote first.
    #[error("stale version")]
    StaleVersion,
    /// The database gave up on a transaction because of lock contention (deadlock,
    /// serialization failure) even after the adapter's bounded retries: try again later.
    #[error("lock contention: {0}")]
    LockFailure(String),
    /// The database cannot be reached (pool exhausted past its timeout, connection refused).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the text is for the log only.
    #[error("repository failure: {0}")]
    Other(String),
}

impl RepoError {
    /// True for a unique-constraint conflict whose description mentions `needle`.
    pub fn is_unique_on(&self, needle: &str) -> bool {
        matches!(self, RepoError::Conflict { constraint } if constraint.starts_with("unique") && constraint.contains(needle))
    }

    /// True for any unique-constraint conflict.
    pub fn is_unique(&self) -> bool {
        matches!(self, RepoError::Conflict { constraint } if constraint.starts_with("unique"))
    }
}
