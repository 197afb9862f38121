//! Slow clients against the real binary (issue 15, item 7): as many connections as the server's
//! connection cap allows send their head and part of a body, then stall. `/health` on a fresh
//! connection must still answer within 1 s, and every stalled connection must get 408 with the
//! error envelope and be closed once `server.client_request_timeout_ms` has passed.
//!
//! Before the body deadline and the cap, such connections were never closed: about 19,000 of
//! them exhausted the process's file descriptors (RLIMIT_NOFILE 20,000 here) and `/health`
//! stopped answering. Only 127.0.0.1; bounded in count (the cap) and time (< 60 s).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "slow-clients-test-secret-0123456789";
/// The body deadline of the server under test: long enough for every connection to be open
/// before the first one is cut off.
const BODY_TIMEOUT_MS: u64 = 25_000;
/// Connections below the cap left for the `/health` probes.
const HEADROOM: usize = 16;
/// Time to open connections in: on a loaded machine fewer than the cap may open in it (the
/// count is printed and must still be in the thousands); the checks then still run before
/// the first deadline and the whole test stays under 60 s.
const OPENING_BUDGET: Duration = Duration::from_secs(15);

mod common;

use common::Server;

/// The total connection cap the server logged at start.
fn connection_cap(server: &Server) -> usize {
    server
        .log()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["fields"]["message"] == "connection cap")
        .and_then(|l| l["fields"]["total"].as_u64())
        .unwrap_or_else(|| panic!("no connection cap logged:\n{}", server.log())) as usize
}

async fn start() -> Server {
    common::start(
        "slow",
        SECRET,
        &[
            // One resolved caller for the whole run: thousands of requests arriving at once
            // must not queue for the database pool before they reach their body.
            ("IDM__AUTH__CALLER_CACHE_TTL_MS", "600000".into()),
            ("IDM__SERVER__WORKERS", "2".into()),
            (
                "IDM__SERVER__CLIENT_REQUEST_TIMEOUT_MS",
                BODY_TIMEOUT_MS.to_string(),
            ),
            // Per-request lines for ~19,000 requests would only slow the run down.
            ("RUST_LOG", "warn,idm_server::app=info".into()),
        ],
        Duration::from_secs(30),
    )
    .await
}

fn token() -> String {
    let exp = chrono::Utc::now().timestamp() + 3600;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({"sub": "admin", "clientExtId": "Default", "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// `GET /health` on a fresh connection: the time to the whole answer, and the status line.
async fn health(port: u16) -> (Duration, String) {
    let started = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    (
        started.elapsed(),
        text.lines().next().unwrap_or("").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_stalled_bodies_leave_health_answering_and_are_closed_with_408() {
    let test_started = Instant::now();
    let server = start().await;
    let port = server.port;
    let cap = connection_cap(&server);
    // This process needs a descriptor per connection too.
    let own_limit = idm_server::limits::raise_nofile_limit().unwrap_or(1024) as usize;
    let wanted = cap
        .saturating_sub(HEADROOM)
        .min(own_limit.saturating_sub(64));
    assert!(wanted >= 1000, "cap {cap}, own limit {own_limit}");

    // The admin's caller is resolved once, before the flood.
    let bearer = token();
    let warm = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/nevisidm/api/core/v1/clients/Default"
        ))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);

    // Head and 9 of 100 announced body bytes, then nothing.
    let request = format!(
        "POST /nevisidm/api/core/v1/Default/users HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {bearer}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"extId\":"
    );
    let opening = Instant::now();
    let results: Vec<std::io::Result<TcpStream>> = futures::stream::iter(0..wanted)
        .take_while(|_| std::future::ready(opening.elapsed() < OPENING_BUDGET))
        .map(|_| {
            let request = request.clone();
            async move {
                let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
                s.write_all(request.as_bytes()).await?;
                Ok(s)
            }
        })
        .buffer_unordered(128)
        .collect()
        .await;
    let open_time = opening.elapsed();
    let mut stalled = Vec::with_capacity(results.len());
    let mut failed = 0usize;
    for r in results {
        match r {
            Ok(s) => stalled.push(s),
            Err(_) => failed += 1,
        }
    }
    let opened = stalled.len();
    println!(
        "connection cap {cap} (own fd limit {own_limit}); opened {opened} of {wanted} \
         stalled-body connections in {open_time:?} ({failed} failed to open)"
    );
    assert_eq!(failed, 0, "every connection below the cap opens");
    assert!(opened >= 2000, "only {opened} opened in {OPENING_BUDGET:?}");

    // Let the server read every head; all connections are now in a handler awaiting a body.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..3 {
        let (took, status) = tokio::time::timeout(Duration::from_secs(5), health(port))
            .await
            .expect("/health answered at all");
        println!("/health on a fresh connection with {opened} stalled open: {status} in {took:?}");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
    assert!(
        opening.elapsed() < Duration::from_millis(BODY_TIMEOUT_MS),
        "the checks ran after the first deadline: nothing was proven"
    );

    // Every stalled connection gets 408 with the envelope, then EOF.
    let waiting = Instant::now();
    let give_up = Duration::from_millis(BODY_TIMEOUT_MS) + Duration::from_secs(15);
    let answers: Vec<Result<String, String>> = futures::stream::iter(stalled)
        .map(|mut s| async move {
            let mut out = Vec::new();
            match tokio::time::timeout(give_up, s.read_to_end(&mut out)).await {
                Ok(Ok(_)) => Ok(String::from_utf8_lossy(&out).into_owned()),
                Ok(Err(e)) => Err(format!("read error: {e}")),
                Err(_) => Err("not closed in time".into()),
            }
        })
        .buffer_unordered(opened.max(1))
        .collect()
        .await;
    let closed_after = waiting.elapsed();
    let envelope = format!(
        r#"{{"errors":[{{"code":"errors.invalidData","message":"The request body was not received within {BODY_TIMEOUT_MS} ms."}}]}}"#
    );
    let timed_out = answers
        .iter()
        .filter(|a| {
            a.as_ref().is_ok_and(|t| {
                t.starts_with("HTTP/1.1 408")
                    && t.contains("connection: close")
                    && t.contains(&envelope)
            })
        })
        .count();
    println!(
        "{timed_out} of {opened} stalled connections answered 408 and closed, the last \
         {closed_after:?} after the /health checks; whole test {:?}",
        test_started.elapsed()
    );
    if let Some(other) = answers
        .iter()
        .find(|a| !a.as_ref().is_ok_and(|t| t.starts_with("HTTP/1.1 408")))
    {
        panic!("a stalled connection ended otherwise: {other:?}");
    }
    assert_eq!(timed_out, opened);
    // And the server is still serving.
    let (took, status) = health(port).await;
    assert_eq!(status, "HTTP/1.1 200 OK", "{took:?}");
    assert!(test_started.elapsed() < Duration::from_secs(60));
}
