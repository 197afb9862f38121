//! The request guard: limits on what a client may send, checked in the outermost middleware
//! before any handler, extractor or database call runs, and answered with the same error
//! envelope as every other error (through [`ApiError`]).
//!
//! | what | limit (setting) | answer |
//! |---|---|---|
//! | request target (path and query) | `server.max_url_bytes` | 414 `errors.invalidUri` |
//! | header section (names, values, `": "`, CRLF) | `server.max_header_bytes` | 431 `errors.invalidData` |
//! | NUL in a header value | — | 400 `errors.invalidData` |
//! | NUL in the path | — | 404 `errors.noRecord` |
//! | number of query parameters | `server.max_query_parameters` | 400 `errors.invalidParameter` |
//! | NUL (`%00` or raw) in a query parameter name or value | — | 422 `errors.invalidParameter` naming it |
//! | declared `Content-Length` | `server.body_limit_bytes` | 413 `errors.invalidData` |
//! | body not complete in time (from the server's first read of it) | `server.client_request_timeout_ms` | 408 `errors.invalidData`, connection closed |
//!
//! What actix-http refuses while parsing, before this guard can run, it answers itself without
//! a body: heads over [`PARSER_HEAD_LIMIT`] or with more than 96 headers (431), raw NUL or other
//! control bytes in the request line or a header (400), and a head not complete within
//! `server.client_request_timeout_ms` (408).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures::Stream;
use idm_domain::DomainError;

use crate::error::ApiError;
use crate::settings::ServerSettings;

/// The request-head size actix-http parses at most (its `MAX_BUFFER_SIZE`); larger heads are
/// refused by the parser with a bare 431, so limits above it could not be enforced here.
pub const PARSER_HEAD_LIMIT: usize = 131_072;

/// The limits the guard enforces, taken once from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `server.max_url_bytes`.
    pub max_url_bytes: usize,
    /// `server.max_query_parameters`.
    pub max_query_parameters: usize,
    /// `server.max_header_bytes`.
    pub max_header_bytes: usize,
    /// `server.body_limit_bytes`.
    pub body_limit_bytes: usize,
    /// `server.client_request_timeout_ms`; `None` when 0 (off).
    pub body_timeout: Option<Duration>,
}

impl Limits {
    /// The limits of these settings.
    pub fn from_settings(server: &ServerSettings) -> Self {
        Limits {
            max_url_bytes: server.max_url_bytes,
            max_query_parameters: server.max_query_parameters,
            max_header_bytes: server.max_header_bytes,
            body_limit_bytes: server.body_limit_bytes,
            body_timeout: (server.client_request_timeout_ms > 0)
                .then(|| Duration::from_millis(server.client_request_timeout_ms)),
        }
    }
}

/// Checks the request head against the limits and, when the request has a body, puts the body
/// under its read deadline. `Err` is the answer to send instead of calling the service.
///
/// # Errors
/// The first limit the request breaks, in the order of the table in the module docs.
pub fn guard(req: &mut ServiceRequest, limits: &Limits) -> Result<(), ApiError> {
    check_head(req, limits)?;
    if let Some(timeout) = limits.body_timeout {
        if has_body(req) {
            let payload = req.take_payload();
            let deadline = BodyDeadline::new(payload, timeout);
            let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
                Box::pin(deadline);
            req.set_payload(Payload::from(boxed));
        }
    }
    Ok(())
}

/// The head checks of [`guard`], without touching the body.
///
/// # Errors
/// The first limit the request breaks.
pub fn check_head(req: &ServiceRequest, limits: &Limits) -> Result<(), ApiError> {
    let uri = req.uri();
    let target_len = uri.path_and_query().map_or(0, |pq| pq.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len());
    if target_len > limits.max_url_bytes {
        return Err(ApiError::UrlTooLong(limits.max_url_bytes));
    }
    let mut header_bytes = 0usize;
    for (name, value) in req.headers().iter() {
        // As on the wire: `name: value\r\n`.
        header_bytes += name.as_str().len() + value.len() + 4;
        if value.as_bytes().contains(&0) {
            // The `http` crate's HeaderValue refuses NUL and actix-http's parser answers 400
            // before this runs; checked anyway so no other front end (HTTP/2, a future parser)
            // can carry one to a handler or into PostgreSQL.
            return Err(ApiError::InvalidHeader(name.as_str().to_owned()));
        }
    }
    if header_bytes > limits.max_header_bytes {
        return Err(ApiError::HeadersTooLarge(limits.max_header_bytes));
    }
    let path = req.path();
    if path.contains("%00") || path.contains('\0') {
        // No resource has a NUL in its extId (and PostgreSQL cannot even compare one), so
        // such a path names nothing.
        return Err(DomainError::NotFound("No record exists with this identifier.".into()).into());
    }
    check_query(req.query_string(), limits.max_query_parameters)?;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.body_limit_bytes as u64) {
        return Err(ApiError::PayloadTooLarge(limits.body_limit_bytes));
    }
    Ok(())
}

/// Counts the query parameters and refuses NUL in any name or value.
///
/// # Errors
/// Too many parameters (400), or 422 `errors.invalidParameter` naming the first parameter with
/// a NUL (PostgreSQL cannot take one as text: it used to surface as a 500).
pub fn check_query(query: &str, max_parameters: usize) -> Result<(), ApiError> {
    let pairs = query.split('&').filter(|p| !p.is_empty());
    if pairs.clone().count() > max_parameters {
        return Err(ApiError::TooManyQueryParameters(max_parameters));
    }
    for pair in pairs {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let nul_in = |s: &str| s.contains("%00") || s.contains('\0');
        if nul_in(name) || nul_in(value) {
            // A name that itself holds the NUL is shown as sent (still percent-encoded), so
            // the message names something printable.
            let shown = if nul_in(name) {
                name.replace('\0', "%00")
            } else {
                // As the list parser will read it (`+` a space, `%XX` a byte).
                form_urlencoded::parse(pair.as_bytes())
                    .next()
                    .map_or_else(|| name.to_owned(), |(decoded, _)| decoded.into_owned())
            };
            return Err(DomainError::invalid_fields(&[shown]).into());
        }
    }
    Ok(())
}

/// Whether the request announces a body (a non-zero `Content-Length`, or chunked).
fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

/// The error a body stream yields when its deadline passed; [`payload_error`] turns it into
/// 408.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDeadlineElapsed(pub u64);

impl std::fmt::Display for BodyDeadlineElapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request body not complete within {} ms", self.0)
    }
}

impl std::error::Error for BodyDeadlineElapsed {}

/// The answer to a failed body read: 408 when the body deadline passed, else 400 (a body that
/// broke off or was not valid transfer encoding cannot be JSON).
pub fn payload_error(e: PayloadError) -> ApiError {
    if let PayloadError::Io(io) = &e {
        if let Some(elapsed) = io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<BodyDeadlineElapsed>())
        {
            return ApiError::BodyTimeout(elapsed.0);
        }
    }
    ApiError::MalformedJson(e.to_string())
}

/// A request body that must be complete within a fixed time of the server's first read of it.
/// actix's `client_request_timeout` covers only the head: without this, a client that sends
/// the head and part of the body holds its connection (and its file descriptor) for as long
/// as it likes. A whole-body deadline rather than an idle timeout, so trickling one byte at a
/// time does not keep it open either. The clock starts at the first read, not at the head,
/// so time the server itself spends before reading (waiting for a pooled connection while
/// resolving the caller) is not charged to the client.
struct BodyDeadline {
    inner: Payload,
    timeout: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    expired: bool,
}

impl BodyDeadline {
    fn new(inner: Payload, timeout: Duration) -> Self {
        BodyDeadline {
            inner,
            timeout,
            sleep: None,
            expired: false,
        }
    }
}

impl Stream for BodyDeadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        let timeout = self.timeout;
        if self.sleep.is_none() {
            self.sleep = Some(Box::pin(tokio::time::sleep(timeout)));
        }
        // Data that has arrived is delivered even at the deadline; only waiting is cut off.
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        let elapsed = self
            .sleep
            .as_mut()
            .is_some_and(|sleep| sleep.as_mut().poll(cx).is_ready());
        if !elapsed {
            return Poll::Pending;
        }
        self.expired = true;
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            BodyDeadlineElapsed(ms),
        )))))
    }
}

/// File descriptors kept free of connections: the database pool, SQLite's files, logs, the
/// listeners and the runtime's own (epoll, eventfd, blocking threads). A twentieth of the
/// limit, at least 256.
pub fn fd_reserve(nofile: u64) -> u64 {
    (nofile / 20).max(256)
}

/// The connections each of `workers` workers may hold (actix's `max_connections` is per
/// worker) so that all of them together stay below `nofile` less [`fd_reserve`]. At least 1.
pub fn connections_per_worker(nofile: u64, workers: usize) -> usize {
    let total = nofile.saturating_sub(fd_reserve(nofile));
    let per = total / (workers.max(1) as u64);
    usize::try_from(per).unwrap_or(usize::MAX).max(1)
}

/// Raises the soft file-descriptor limit to the hard one and returns the limit now in force,
/// or `None` where it cannot be read.
pub fn raise_nofile_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
            tracing::warn!(error = %e, "cannot raise the file-descriptor limit");
        }
        rlimit::getrlimit(rlimit::Resource::NOFILE)
            .ok()
            .map(|(soft, _)| soft)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_leaves_a_twentieth_of_the_descriptors_and_at_least_256() {
        assert_eq!(connections_per_worker(20_000, 2), 9_500);
        assert_eq!(connections_per_worker(1024, 1), 768);
        assert_eq!(connections_per_worker(100, 4), 1);
        assert_eq!(connections_per_worker(1_048_576, 0), 996_148);
    }

    #[test]
    fn a_nul_in_a_query_value_names_the_decoded_parameter() {
        let e = check_query("a=1&login%49d=%00", 100).unwrap_err();
        let (status, env) = e.parts();
        assert_eq!(status.as_u16(), 422);
        assert_eq!(
            env.errors[0].message,
            "The following fields are not valid: loginId"
        );
    }

    #[test]
    fn a_nul_in_a_query_name_is_named_as_sent() {
        let e = check_query("a%00b=1", 100).unwrap_err();
        assert_eq!(
            e.parts().1.errors[0].message,
            "The following fields are not valid: a%00b"
        );
    }

    fn payload(stream: impl Stream<Item = Result<Bytes, PayloadError>> + 'static) -> Payload {
        let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(stream);
        Payload::from(boxed)
    }

    #[tokio::test]
    async fn the_body_clock_starts_at_the_first_read_so_server_delays_are_not_charged() {
        use futures::StreamExt;
        let body = payload(futures::stream::iter([Ok(Bytes::from_static(b"{}"))]));
        let mut guarded = BodyDeadline::new(body, Duration::from_millis(50));
        // The server is busy for longer than the deadline before it reads the body.
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(
            guarded.next().await.unwrap().unwrap(),
            Bytes::from_static(b"{}")
        );
        assert!(guarded.next().await.is_none());
    }

    #[tokio::test]
    async fn a_body_that_never_comes_ends_in_the_408_error_once_and_then_nothing() {
        use futures::StreamExt;
        let mut guarded = BodyDeadline::new(
            payload(futures::stream::pending()),
            Duration::from_millis(50),
        );
        let started = std::time::Instant::now();
        let err = guarded.next().await.unwrap().unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(50));
        let (status, env) = payload_error(err).parts();
        assert_eq!(status.as_u16(), 408);
        assert_eq!(
            env.errors[0].message,
            "The request body was not received within 50 ms."
        );
        assert!(guarded.next().await.is_none());
        // Any other broken body stays a 400.
        assert_eq!(
            payload_error(PayloadError::Incomplete(None))
                .parts()
                .0
                .as_u16(),
            400
        );
    }

    #[test]
    fn empty_segments_do_not_count_as_parameters() {
        assert!(check_query("a=1&&b=2&", 2).is_ok());
        assert!(check_query("a=1&b=2&c", 2).is_err());
    }
}
