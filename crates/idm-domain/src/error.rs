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

/// The entity an error entry refers to, as nevisIDM words it for bulk operations: an object
/// whose members name a client, user or credential (or a FIDO UAF key), never a bare string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorIdentifier {
    /// The external identifier of the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ext_id: Option<String>,
    /// The external identifier of the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_ext_id: Option<String>,
    /// The external identifier of the credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_ext_id: Option<String>,
    /// The key identifier of the authenticator registered key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The authenticator attestation identifier of the FIDO UAF credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aaid: Option<String>,
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
    pub identifier: Option<ErrorIdentifier>,
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
        /// The entity the error refers to, if any (boxed: most errors carry none, and every
        /// `Result` of the domain pays for the largest variant).
        identifier: Option<Box<ErrorIdentifier>>,
        /// Failed policy elements, if a policy failed.
        violations: Vec<PolicyViolation>,
    },
    /// Too many password attempts for an account or from a source (429, with `Retry-After`).
    #[error("too many attempts; retry after {retry_after_secs} s")]
    TooManyAttempts {
        /// Seconds until the next attempt is accepted.
        retry_after_secs: u64,
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
                    identifier: identifier.as_deref().cloned(),
                }],
                policy_violations: violations.clone(),
            },
            DomainError::TooManyAttempts { retry_after_secs } => ErrorEnvelope::single(
                ErrorCode::ReportingTooManyRequests,
                format!("Too many attempts, retry after {retry_after_secs} seconds."),
            ),
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
    fn an_identifier_is_an_object_with_only_the_members_that_are_set() {
        let e = DomainError::Unprocessable {
            code: ErrorCode::CredentialNotActive,
            message: "m".into(),
            identifier: Some(Box::new(ErrorIdentifier {
                user_ext_id: Some("u1".into()),
                credential_ext_id: Some("c1".into()),
                ..ErrorIdentifier::default()
            })),
            violations: Vec::new(),
        };
        let json = serde_json::to_value(e.envelope()).unwrap();
        assert_eq!(
            json["errors"][0]["identifier"],
            serde_json::json!({"userExtId": "u1", "credentialExtId": "c1"})
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
