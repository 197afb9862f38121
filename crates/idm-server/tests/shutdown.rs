//! Graceful shutdown of the real binary: a stop signal during a slow request lets that request
//! finish with 200, refuses new connections, and the process exits 0.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::Server;

async fn start() -> Server {
    common::start(
        "shutdown",
        "shutdown-test-secret-0123456789",
        &[
            ("IDM__SERVER__DEBUG_SLOW_ENDPOINT", "true".into()),
            ("IDM__SERVER__SHUTDOWN_TIMEOUT_SECONDS", "20".into()),
            ("IDM__SERVER__WORKERS", "1".into()),
        ],
        Duration::from_secs(60),
    )
    .await
}

async fn slow_request_survives(signal: &str) {
    let mut server = start().await;
    let url = format!("{}/debug/slow?ms=2000", server.base());
    let slow = tokio::spawn(async move {
        let r = reqwest::Client::new()
            .get(url)
            .header("X-Request-Id", "slow-req-1")
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    // Let the request reach the handler.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = Command::new("kill")
        .args([signal, &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    tokio::time::sleep(Duration::from_millis(300)).await;

    // No new connections while draining.
    let fresh = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
        .get(format!("{}/health", server.base()))
        .send()
        .await;
    assert!(
        fresh.is_err(),
        "accepted a new request after {signal}: {fresh:?}"
    );
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "exited before the in-flight request finished"
    );

    let (status, body) = tokio::time::timeout(Duration::from_secs(15), slow)
        .await
        .expect("slow request finished in time")
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("slept"), "{body}");

    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "process did not exit after {signal}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let log = server.log();
    assert!(exit.success(), "exit status {exit:?}; log:\n{log}");
    assert!(log.contains("database pool closed"), "{log}");

    // log.format = "json": every line is a JSON object; the request's line carries its id.
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let line = lines
        .iter()
        .find(|l| l["fields"]["path"] == "/debug/slow")
        .unwrap_or_else(|| panic!("no request line:\n{log}"));
    assert_eq!(line["fields"]["request_id"], "slow-req-1");
    assert_eq!(line["span"]["request_id"], "slow-req-1");
    assert_eq!(line["fields"]["status"], 200);
}

#[tokio::test]
async fn sigterm_during_a_slow_request_lets_it_complete_with_200_and_the_process_exits_0() {
    slow_request_survives("-TERM").await;
}

#[tokio::test]
async fn sigint_drains_in_flight_requests_like_sigterm() {
    slow_request_survives("-INT").await;
}

#[tokio::test]
async fn the_slow_debug_endpoint_does_not_exist_by_default() {
    let settings = idm_server::Settings::default();
    assert!(!settings.server.debug_slow_endpoint);
    let doc = idm_server::app::openapi_json(&settings).unwrap();
    assert!(!doc.contains("/debug/slow"));
}

#[test]
fn idm_openapi_prints_the_document() {
    let dir = std::env::temp_dir().join(format!("idm-openapi-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_idm"))
        .arg("openapi")
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/nevisidm/api/core/v1/clients/{extId}"]["patch"].is_object());
    assert!(doc["paths"]["/openapi.json"]["get"].is_object());
}

/// The stop-signal handlers are installed before the port is bound: a SIGTERM sent the moment
/// the port accepts connections (a harness that starts and stops idm quickly) still drains and
/// exits 0 instead of killing the process with the signal's default action.
#[test]
fn a_sigterm_the_moment_the_port_opens_stops_gracefully_with_exit_0() {
    let dir = std::env::temp_dir().join(format!("idm-early-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_idm"))
        .arg("serve")
        .current_dir(&dir)
        .env("IDM__SERVER__PORT", port.to_string())
        .env(
            "IDM__DATABASE__URL",
            format!("sqlite://{}", dir.join("idm.db").display()),
        )
        .env("IDM__BOOTSTRAP__ADMIN_PASSWORD", "Admin-Passw0rd")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // A connection from the port to itself is not the server: the port came from the ephemeral
    // range, and with a connect every millisecond while a loaded machine starts the server,
    // one of them now and then picks that very port as its source (TCP self-connect), which
    // succeeds with nobody listening. The SIGTERM then hit the server before its handlers.
    let open = || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .is_ok_and(|s| s.local_addr().is_ok_and(|a| a.port() != port))
    };
    while !open() {
        assert!(Instant::now() < deadline, "server did not come up");
        assert!(child.try_wait().unwrap().is_none(), "server exited early");
        std::thread::sleep(Duration::from_millis(1));
    }
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let exit = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "process did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert!(exit.success(), "exit status {exit:?}");
}
