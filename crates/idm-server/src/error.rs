//! The one place errors become HTTP responses.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use idm_domain::{DomainError, ErrorCode, ErrorEnvelope};
use idm_service::AppError;

/// Every failure a handler or extractor can produce.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A use-case failure.
    #[error(transparent)]
    App(#[from] AppError),
    /// No route matches the path.
    #[error("no route")]
    RouteNotFound,
    /// The path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A body with a content type other than JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A body that is not JSON at all.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A body over the configured limit.
    #[error("payload too large (limit {0} bytes)")]
    PayloadTooLarge(usize),
    /// A request target (path and query) over `server.max_url_bytes`.
    #[error("URL too long (limit {0} bytes)")]
    UrlTooLong(usize),
    /// More query parameters than `server.max_query_parameters`.
    #[error("too many query parameters (limit {0})")]
    TooManyQueryParameters(usize),
    /// Header section over `server.max_header_bytes`.
    #[error("request headers too large (limit {0} bytes)")]
    HeadersTooLarge(usize),
    /// A header value that is not visible text (a NUL byte).
    #[error("invalid header {0}")]
    InvalidHeader(String),
    /// The body did not arrive within `server.client_request_timeout_ms`.
    #[error("request body timed out after {0} ms")]
    BodyTimeout(u64),
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::App(AppError::Domain(e))
    }
}

impl ApiError {
    /// Status and body. Exhaustive on purpose: a new error variant cannot ship without a
    /// decided status.
    pub fn parts(&self) -> (StatusCode, ErrorEnvelope) {
        fn single(code: ErrorCode, message: impl Into<String>) -> ErrorEnvelope {
            ErrorEnvelope::single(code, message)
        }
        match self {
            ApiError::App(AppError::Domain(d)) => {
                let status = match d {
                    DomainError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                    DomainError::Forbidden { .. } => StatusCode::FORBIDDEN,
                    DomainError::NotFound(_) => StatusCode::NOT_FOUND,
                    DomainError::StaleVersion | DomainError::LockContention => StatusCode::CONFLICT,
                    DomainError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                    DomainError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                };
                (status, d.envelope())
            }
            ApiError::App(AppError::Unavailable(cause)) => {
                tracing::error!(cause = %cause, "database unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    single(
                        ErrorCode::FatalError,
                        "The service is temporarily unavailable, please retry later.",
                    ),
                )
            }
            ApiError::App(AppError::Internal(cause)) => {
                tracing::error!(cause = %cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    single(ErrorCode::FatalError, "An unexpected error occurred."),
                )
            }
            ApiError::RouteNotFound => (
                StatusCode::NOT_FOUND,
                single(ErrorCode::InvalidUri, "No resource exists at this path."),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                single(
                    ErrorCode::UnsupportedOperation,
                    "This method is not supported on this path.",
                ),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                single(
                    ErrorCode::UnsupportedMediaType,
                    "The request body must be application/json.",
                ),
            ),
            ApiError::MalformedJson(_) => (
                StatusCode::BAD_REQUEST,
                single(
                    ErrorCode::JsonProcessingError,
                    "The request body is not valid JSON.",
                ),
            ),
            ApiError::PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                single(
                    ErrorCode::InvalidData,
                    format!("The request body exceeds the limit of {limit} bytes."),
                ),
            ),
            ApiError::UrlTooLong(limit) => (
                StatusCode::URI_TOO_LONG,
                single(
                    ErrorCode::InvalidUri,
                    format!("The request URL exceeds the limit of {limit} bytes."),
                ),
            ),
            ApiError::TooManyQueryParameters(limit) => (
                StatusCode::BAD_REQUEST,
                single(
                    ErrorCode::InvalidParameter,
                    format!("The request has more than {limit} query parameters."),
                ),
            ),
            ApiError::HeadersTooLarge(limit) => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                single(
                    ErrorCode::InvalidData,
                    format!("The request headers exceed the limit of {limit} bytes."),
                ),
            ),
            ApiError::InvalidHeader(name) => (
                StatusCode::BAD_REQUEST,
                single(
                    ErrorCode::InvalidData,
                    format!("The value of header '{name}' is not valid."),
                ),
            ),
            ApiError::BodyTimeout(ms) => (
                StatusCode::REQUEST_TIMEOUT,
                single(
                    ErrorCode::InvalidData,
                    format!("The request body was not received within {ms} ms."),
                ),
            ),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, envelope) = self.parts();
        let mut response = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let ApiError::App(AppError::Domain(DomainError::TooManyAttempts { retry_after_secs })) =
            self
        {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if matches!(self, ApiError::BodyTimeout(_)) {
            // The rest of the body may still arrive: the connection cannot carry another
            // request, and a stalled client must not keep its socket.
            response.force_close();
        }
        response.json(envelope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_variants() -> Vec<ApiError> {
        let domain = [
            DomainError::Unauthenticated("x".into()),
            DomainError::Forbidden {
                code: ErrorCode::InsufficientRightsFunction,
                message: "m".into(),
            },
            DomainError::NotFound("m".into()),
            DomainError::StaleVersion,
            DomainError::unprocessable(ErrorCode::InvalidParameter, "m"),
        ];
        let mut v: Vec<ApiError> = domain.into_iter().map(ApiError::from).collect();
        v.push(ApiError::App(AppError::Unavailable("secret cause".into())));
        v.push(ApiError::App(AppError::Internal("secret cause".into())));
        v.push(ApiError::RouteNotFound);
        v.push(ApiError::MethodNotAllowed);
        v.push(ApiError::UnsupportedMediaType);
        v.push(ApiError::MalformedJson("secret cause".into()));
        v.push(ApiError::PayloadTooLarge(10));
        v.push(ApiError::UrlTooLong(10));
        v.push(ApiError::TooManyQueryParameters(10));
        v.push(ApiError::HeadersTooLarge(10));
        v.push(ApiError::InvalidHeader("x-a".into()));
        v.push(ApiError::BodyTimeout(10));
        v
    }

    #[test]
    fn every_error_variant_maps_to_its_status_and_never_leaks_the_cause() {
        let expected = [
            401, 403, 404, 409, 422, 503, 500, 404, 405, 415, 400, 413, 414, 400, 431, 400, 408,
        ];
        for (e, status) in all_variants().iter().zip(expected) {
            let (s, env) = e.parts();
            assert_eq!(s.as_u16(), status, "{e:?}");
            let body = serde_json::to_string(&env).unwrap();
            assert!(!body.contains("secret cause"), "{body}");
            assert!(!env.errors.is_empty());
        }
    }
}
