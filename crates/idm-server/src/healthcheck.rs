//! `idm healthcheck`: one `GET /ready` over a plain TCP connection, for container
//! `HEALTHCHECK`s. Deliberately no HTTP client library and no async runtime: it runs every few
//! seconds in a slim image and must start, ask and exit in milliseconds.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::settings::Settings;

/// Why the check failed, worded for `docker inspect`.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The URL is not `http://HOST[:PORT][/PATH]`.
    #[error("unsupported URL {0:?} (expected http://HOST[:PORT][/PATH])")]
    BadUrl(String),
    /// No connection, or no complete answer in time.
    #[error("{url}: {source}")]
    Io {
        /// The URL asked.
        url: String,
        /// The cause.
        source: std::io::Error,
    },
    /// An answer that is not a 200.
    #[error("{url}: not ready: {status_line}")]
    NotReady {
        /// The URL asked.
        url: String,
        /// The first line of the answer.
        status_line: String,
    },
}

/// The readiness URL of the configured listener. A wildcard listen address is asked on the
/// loopback of the same family, which is where a check inside the container reaches it.
pub fn default_url(settings: &Settings) -> String {
    let host = match settings.server.host.as_str() {
        "0.0.0.0" | "" => "127.0.0.1".to_owned(),
        "::" | "[::]" => "[::1]".to_owned(),
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.to_owned(),
    };
    format!("http://{host}:{}/ready", settings.server.port)
}

/// Asks `url` once; `Ok` with the status line when it answers 200.
///
/// # Errors
/// A URL that is not plain `http://`, no connection within `timeout`, or any other status.
pub fn check(url: &str, timeout: Duration) -> Result<String, HealthError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| HealthError::BadUrl(url.to_owned()))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/ready"),
    };
    if authority.is_empty() {
        return Err(HealthError::BadUrl(url.to_owned()));
    }
    let with_port = if authority.ends_with(']') || !authority.contains(':') {
        format!("{authority}:80")
    } else {
        authority.to_owned()
    };
    let io = |source| HealthError::Io {
        url: url.to_owned(),
        source,
    };
    let addrs: Vec<SocketAddr> = with_port.to_socket_addrs().map_err(io)?.collect();
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = e,
        }
    }
    let mut stream = stream.ok_or_else(|| io(last))?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    // HTTP/1.0: the server closes after one answer, so reading to the end is the whole reply.
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: idm-healthcheck\r\n\r\n"
    )
    .map_err(io)?;
    let mut reply = Vec::new();
    // Only the status line matters; a bounded read keeps a misbehaving peer from feeding us.
    stream.take(64 * 1024).read_to_end(&mut reply).map_err(io)?;
    let text = String::from_utf8_lossy(&reply);
    let status_line = text.lines().next().unwrap_or_default().trim().to_owned();
    let status = status_line.split_whitespace().nth(1);
    if status == Some("200") {
        Ok(status_line)
    } else {
        Err(HealthError::NotReady {
            url: url.to_owned(),
            status_line: if status_line.is_empty() {
                "empty answer".into()
            } else {
                status_line
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_listen_address_is_checked_on_loopback() {
        let mut s = Settings::default();
        s.server.host = "0.0.0.0".into();
        s.server.port = 8081;
        assert_eq!(default_url(&s), "http://127.0.0.1:8081/ready");
        s.server.host = "::".into();
        assert_eq!(default_url(&s), "http://[::1]:8081/ready");
    }

    #[test]
    fn an_https_url_is_refused_as_unsupported() {
        assert!(matches!(
            check("https://127.0.0.1/ready", Duration::from_secs(1)),
            Err(HealthError::BadUrl(_))
        ));
    }
}
