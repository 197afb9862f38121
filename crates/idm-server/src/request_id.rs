//! Request ids: a client's `X-Request-Id` is kept when it is short and plain, otherwise a
//! UUID v4 is generated. The id is echoed in the response header and carried by the
//! request's tracing span, so every log line of the request names it.

use actix_web::HttpMessage;

/// The header name.
pub const HEADER: &str = "x-request-id";
/// Longest accepted client-supplied id.
pub const MAX_LEN: usize = 128;

/// The id of the current request (in the request extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Keeps a supplied id only if it is 1..=MAX_LEN characters of `[A-Za-z0-9._:-]`: anything
/// else could forge log lines or blow up log storage.
pub fn sanitize(supplied: Option<&str>) -> Option<String> {
    let v = supplied?.trim();
    let ok = !v.is_empty()
        && v.len() <= MAX_LEN
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    ok.then(|| v.to_owned())
}

/// The id for `req`: the sanitized header or a new UUID v4; stored in the extensions.
pub fn assign(req: &actix_web::dev::ServiceRequest) -> String {
    let supplied = req.headers().get(HEADER).and_then(|v| v.to_str().ok());
    let id = sanitize(supplied).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_are_kept_and_anything_else_is_replaced() {
        assert_eq!(
            sanitize(Some("abc-123_x.y:z")).as_deref(),
            Some("abc-123_x.y:z")
        );
        assert_eq!(sanitize(Some("  abc  ")).as_deref(), Some("abc"));
        assert_eq!(sanitize(Some("")), None);
        assert_eq!(sanitize(Some("a b")), None);
        assert_eq!(sanitize(Some("a\nb")), None);
        assert_eq!(
            sanitize(Some(&"x".repeat(MAX_LEN))).map(|s| s.len()),
            Some(MAX_LEN)
        );
        assert_eq!(sanitize(Some(&"x".repeat(MAX_LEN + 1))), None);
        assert_eq!(sanitize(None), None);
    }
}
