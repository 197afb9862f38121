//! `DomainError` and the wire error envelope of nevisIDM (`API.md` §2).

use serde::Serialize;

use crate::error_code::ErrorCode;

/// One entry of `policyViolations[]`: which policy element failed and with what values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyViolation {
    /// Human-readable name of the policy element, e.g. `Regex policy violation`.
    pub display_name: String,
    /// The configuration of the element (a regex, a length, a character class).
    pub config_string: String,
    /// The value the client supplied (never a secret: password policies put a mask here).
    pub supplied_value: String,
    /// The limit the element enforces.
    pub limit_value: i64,
    /// The measured value that broke the limit.
    pub actual_value: String,
}

/// One entry of `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorEntry {
    /// The wire code, e.g. `errors.noRecord`.
    pub code: ErrorCode,
    /// The human-readable message, exactly as nevisIDM words it.
    pub message: String,
    /// The entity the error refers to, when that helps the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
}

/// The body of every 4xx/5xx response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEnvelope {
    /// At least one error.
    pub errors: Vec<ErrorEntry>,
    /// Present only when a policy failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policy_violations: Vec<PolicyViolation>,
}

impl ErrorEnvelope {
    /// An envelope with one error and no policy violations.
    pub fn single(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            errors: vec![ErrorEntry {
                code,
                message: message.into(),
                identifier: None,
            }],
            policy_violations: Vec::new(),
        }
    }
}

/// A failure a client caused or may be told about. Each variant has one HTTP status, chosen in
/// exactly one place (the server's error mapping).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The caller could not be authenticated (401).
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this (403): a missing right or a dataroom denial.
    #[error("{code}: {message}")]
    Forbidden {
        /// `errors.insufficientRightsFunction` or `errors.combinedDataroomDenied` usually.
        code: ErrorCode,
        /// The nevisIDM wording.
        message: String,
    },
    /// A referenced entity does not exist (404, `errors.noRecord`).
    #[error("not found: {0}")]
    NotFound(String),
    /// The stored version differs from the one the client read (409).
    #[error("stale version")]
    StaleVersion,
    /// Concurrent writers kept the database from completing the write (deadlock or
    /// serialization failure, retried a bounded number of times): 409, the client may retry.
    #[error("lock contention")]
    LockContention,
    /// The request is well-formed but breaks a rule (422).
    #[error("{code}: {message}")]
    Unprocessable {
        /// The specific code.
        code: ErrorCode,
        /// The nevisIDM wording.
        message: String,
        /// The entity the error refers to, if any.
        identifier: Option<String>,
        /// Failed policy elements, if a policy failed.
        violations: Vec<PolicyViolation>,
    },
}

impl DomainError {
    /// 422 with a code and a message.
    pub fn unprocessable(code: ErrorCode, message: impl Into<String>) -> Self {
        DomainError::Unprocessable {
            code,
            message: message.into(),
            identifier: None,
            violations: Vec::new(),
        }
    }

    /// 422 `errors.invalidParameter` naming the invalid fields, nevisIDM style.
    pub fn invalid_fields<S: AsRef<str>>(fields: &[S]) -> Self {
        let names: Vec<&str> = fields.iter().map(AsRef::as_ref).collect();
        Self::unprocessable(
            ErrorCode::InvalidParameter,
            format!("The following fields are not valid: {}", names.join(", ")),
        )
    }

    /// 409 message used by nevisIDM for every optimistic-locking failure.
    pub const STALE_VERSION_MESSAGE: &'static str =
        "Row was already updated or deleted by another transaction";

    /// 409 message of [`DomainError::LockContention`].
    pub const LOCK_CONTENTION_MESSAGE: &'static str =
        "The data is locked by another transaction, please retry later";

    /// The envelope a client receives for this error.
    pub fn envelope(&self) -> ErrorEnvelope {
        match self {
            DomainError::Unauthenticated(_) => {
                ErrorEnvelope::single(ErrorCode::InvalidJWTToken, "Invalid JWT token.")
            }
            DomainError::Forbidden { code, message } => {
                ErrorEnvelope::single(*code, message.clone())
            }
            DomainError::NotFound(message) => {
                ErrorEnvelope::single(ErrorCode::NoRecord, message.clone())
            }
            DomainError::StaleVersion => ErrorEnvelope::single(
                ErrorCode::OptimisticLockingFailure,
                Self::STALE_VERSION_MESSAGE,
            ),
            DomainError::LockContention => ErrorEnvelope::single(
                ErrorCode::PessimisticLockingFailure,
                Self::LOCK_CONTENTION_MESSAGE,
            ),
            DomainError::Unprocessable {
                code,
                message,
                identifier,
                violations,
            } => ErrorEnvelope {
                errors: vec![ErrorEntry {
                    code: *code,
                    message: message.clone(),
                    identifier: identifier.clone(),
                }],
                policy_violations: violations.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_omits_identifier_and_policy_violations_when_empty() {
        let json = serde_json::to_value(DomainError::NotFound("x".into()).envelope()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"errors":[{"code":"errors.noRecord","message":"x"}]})
        );
    }

    #[test]
    fn invalid_fields_lists_the_names_comma_separated() {
        let e = DomainError::invalid_fields(&["name", "stateName"]);
        assert_eq!(
            e.envelope().errors[0].message,
            "The following fields are not valid: name, stateName"
        );
    }
}
