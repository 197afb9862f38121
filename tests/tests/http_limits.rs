//! HTTP-layer limits (issue 15, items 3, 5 and 7): what the request guard refuses before any
//! handler or database call, always with the nevisIDM error envelope, and the body read
//! deadline. Requests the guard refuses are sent without a bearer token where the route needs
//! one: a 401 would mean a handler ran first.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use idm_tests::{dual_test, spawn_with, Backend, Reply, TestApp, CORE};
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const USERS: &str = "/nevisidm/api/core/v1/clients/Default/users";

/// A request without credentials.
async fn anonymous(app: &TestApp, method: Method, path_and_query: &str) -> Reply {
    app.send(
        app.http
            .request(method, format!("{}{path_and_query}", app.base)),
    )
    .await
}

/// `127.0.0.1:PORT` of the app.
fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// What came back on a raw connection: status, body as JSON (or `Null`), and whether the
/// server closed the connection.
#[derive(Debug)]
struct RawReply {
    status: u16,
    body: Value,
    head: String,
}

/// Sends `bytes` and reads until the server closes the connection (at most `wait`).
async fn raw(app: &TestApp, bytes: &[u8], wait: Duration) -> RawReply {
    let mut s = TcpStream::connect(addr(app)).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(wait, s.read_to_end(&mut out))
        .await
        .expect("the server closed the connection in time")
        .unwrap();
    parse(&out)
}

fn parse(out: &[u8]) -> RawReply {
    let text = String::from_utf8_lossy(out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    RawReply {
        status,
        body,
        head: head.to_ascii_lowercase(),
    }
}

fn assert_raw_error(r: &RawReply, status: u16, code: &str, message: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(r.body["errors"][0]["code"], code, "{r:?}");
    assert_eq!(r.body["errors"][0]["message"], message, "{r:?}");
}

dual_test!(
    a_url_over_8192_bytes_is_414_invalid_uri_before_authentication,
    |app| {
        let path = "/health?pad=";
        let at_limit = format!("{path}{}", "x".repeat(8192 - path.len()));
        let r = anonymous(&app, Method::GET, &at_limit).await;
        assert_eq!(
            r.status, 200,
            "a URL of exactly 8192 bytes is served: {}",
            r.body
        );

        let path = format!("{USERS}?extId=");
        let over = format!("{path}{}", "x".repeat(8193 - path.len()));
        let r = anonymous(&app, Method::GET, &over).await;
        r.assert_error(
            414,
            "errors.invalidUri",
            "The request URL exceeds the limit of 8192 bytes.",
        );
    }
);

dual_test!(
    more_than_100_query_parameters_are_400_invalid_parameter_before_authentication,
    |app| {
        let query = |n: usize| {
            (0..n)
                .map(|i| format!("p{i}=v"))
                .collect::<Vec<_>>()
                .join("&")
        };
        let r = anonymous(&app, Method::GET, &format!("/health?{}", query(100))).await;
        assert_eq!(r.status, 200, "100 parameters are served: {}", r.body);

        let r = anonymous(&app, Method::GET, &format!("{USERS}?{}", query(101))).await;
        r.assert_error(
            400,
            "errors.invalidParameter",
            "The request has more than 100 query parameters.",
        );
    }
);

dual_test!(
    headers_over_32_kib_in_total_are_431_invalid_data_before_authentication,
    |app| {
        let r = app
            .send(
                app.req(Method::GET, USERS)
                    .header("x-padding", "p".repeat(16 * 1024)),
            )
            .await;
        assert_eq!(r.status, 200, "16 KiB of headers are served: {}", r.body);

        let r = app
            .send(
                app.http
                    .get(format!("{}{USERS}", app.base))
                    .header("x-padding-1", "p".repeat(20 * 1024))
                    .header("x-padding-2", "p".repeat(13 * 1024)),
            )
            .await;
        r.assert_error(
            431,
            "errors.invalidData",
            "The request headers exceed the limit of 32768 bytes.",
        );
    }
);

dual_test!(
    a_declared_content_length_over_the_body_limit_is_413_before_the_body_is_read,
    |app| {
        // No body follows the head: the answer cannot have waited for it.
        let started = Instant::now();
        let r = raw(
            &app,
            format!(
                "POST {USERS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 Content-Length: 1048577\r\n\r\n"
            )
            .as_bytes(),
            Duration::from_secs(4),
        )
        .await;
        assert_raw_error(
            &r,
            413,
            "errors.invalidData",
            "The request body exceeds the limit of 1048576 bytes.",
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(r.head.contains("connection: close"), "{}", r.head);
    }
);

dual_test!(
    a_nul_in_a_query_value_is_422_naming_the_parameter_and_never_reaches_the_database,
    |app| {
        let r = app.get(&format!("{USERS}?loginId=%00")).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: loginId",
        );
        let r = app
            .get(&format!("{USERS}?limit=2&continuationToken=1_%00"))
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: continuationToken",
        );
        let r = app.get(&format!("{CORE}/applications?name=a%00b")).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: name",
        );
        // Without a token too: the guard answers before authentication.
        let r = anonymous(&app, Method::GET, &format!("{USERS}?loginId=x%00")).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: loginId",
        );
        // The same parameters without the NUL work on this backend.
        let r = app.get(&format!("{USERS}?loginId=admin")).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
);

dual_test!(
    a_nul_in_a_query_parameter_name_is_422_naming_it_as_sent,
    |app| {
        let r = app.get(&format!("{USERS}?login%00Id=x")).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: login%00Id",
        );
    }
);

dual_test!(
    a_raw_nul_in_a_header_value_or_the_request_line_is_400_and_the_server_keeps_serving,
    |app| {
        // actix-http's parser refuses control bytes in the head before any service runs (its
        // bare 400, no envelope): the guard's own header check is the second line.
        let r = raw(
            &app,
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Probe: a\x00b\r\n\r\n",
            Duration::from_secs(4),
        )
        .await;
        assert_eq!(r.status, 400, "{r:?}");
        let r = raw(
            &app,
            b"GET /health?a=\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
            Duration::from_secs(4),
        )
        .await;
        assert_eq!(r.status, 400, "{r:?}");
        assert_eq!(app.get("/health").await.status, 200);
    }
);

/// A server whose body deadline is 500 ms.
async fn impatient(backend: Backend) -> Option<TestApp> {
    spawn_with(backend, |s| s.server.client_request_timeout_ms = 500).await
}

dual_test!(
    a_client_that_stalls_mid_body_gets_408_with_the_envelope_and_the_connection_is_closed,
    setup = impatient,
    |app: TestApp| {
        let head = format!(
            "POST {CORE}/Default/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"extId\":",
            app.admin_token
        );
        let started = Instant::now();
        let r = raw(&app, head.as_bytes(), Duration::from_secs(5)).await;
        let waited = started.elapsed();
        assert_raw_error(
            &r,
            408,
            "errors.invalidData",
            "The request body was not received within 500 ms.",
        );
        assert!(r.head.contains("connection: close"), "{}", r.head);
        assert!(
            waited >= Duration::from_millis(450) && waited < Duration::from_secs(3),
            "{waited:?}"
        );
        // A whole body sent in time is served as usual.
        let r = app
            .post(
                &format!("{CORE}/Default/users"),
                idm_tests::json!({"extId": "in-time", "loginId": "in-time",
                    "name": {"firstName": "In", "familyName": "Time"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
);

dual_test!(
    a_client_that_trickles_its_body_is_cut_off_at_the_deadline_too,
    setup = impatient,
    |app: TestApp| {
        let mut s = TcpStream::connect(addr(&app)).await.unwrap();
        let head = format!(
            "POST {CORE}/Default/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n",
            app.admin_token
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        // One byte every 100 ms: never idle for long, never finished.
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            assert!(started.elapsed() < Duration::from_secs(5), "never cut off");
            let _ = s.write_all(b" ").await;
            match tokio::time::timeout(Duration::from_millis(100), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        let r = parse(&out);
        assert_raw_error(
            &r,
            408,
            "errors.invalidData",
            "The request body was not received within 500 ms.",
        );
    }
);
