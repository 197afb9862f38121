//! The `idm` binary: `bootstrap` is idempotent and `token` output authenticates against a
//! running `idm serve`. Every subprocess is bounded in time and killed at the end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const SECRET: &str = "cli-test-bearer-secret-0123456789";
const CORE: &str = "/nevisidm/api/core/v1";

/// A temp directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("idm-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn db_url(&self) -> String {
        format!("sqlite://{}", self.0.join("idm.db").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `idm` with a clean environment: no inherited `IDM__*` settings, run in the temp dir so no
/// `config/default.toml` is picked up.
fn idm(dir: &Path, db_url: &str, hs256: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idm"));
    for (k, _) in std::env::vars() {
        if k.starts_with("IDM__") {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(dir)
        .env("IDM__DATABASE__URL", db_url)
        .env("IDM__XTOKEN__SECRET", "cli-test-xtoken-secret")
        .env("IDM__BOOTSTRAP__ADMIN_PASSWORD", "Cli-Admin-Passw0rd")
        .env("IDM__LOG__LEVEL", "warn");
    if hs256 {
        cmd.env("IDM__AUTH__HS256_SECRET", SECRET);
    }
    cmd
}

/// Runs to completion within `limit`, else kills it and fails.
fn run(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "idm did not finish within {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "idm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A running `idm serve`, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(dir: &Path, db_url: &str) -> Server {
    let port = free_port();
    let mut cmd = idm(dir, db_url, true);
    cmd.arg("serve")
        .env("IDM__SERVER__HOST", "127.0.0.1")
        .env("IDM__SERVER__PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let server = Server {
        child: cmd.spawn().unwrap(),
        port,
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if http_get(port, "/health", None).is_some_and(|(s, _)| s == 200) {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("idm serve did not become healthy within 60 s");
}

/// A minimal HTTP/1.1 GET: (status, body), `None` if the server is not reachable.
fn http_get(port: u16, path: &str, bearer: Option<&str>) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

fn token(dir: &Path, db_url: &str, client: &str, user: &str) -> String {
    let mut cmd = idm(dir, db_url, true);
    cmd.args([
        "token",
        "--client-ext-id",
        client,
        "--user-ext-id",
        user,
        "--ttl",
        "600",
    ]);
    let out = run(cmd, Duration::from_secs(30));
    assert!(
        out.status.success(),
        "idm token failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn bootstrap_twice_leaves_one_set_of_builtins_and_one_admin() {
    let tmp = TempDir::new();
    let url = tmp.db_url();
    let bootstrap = || {
        let mut cmd = idm(&tmp.0, &url, false);
        cmd.args([
            "bootstrap",
            "--client-ext-id",
            "Acme",
            "--client-name",
            "Acme",
            "--admin-ext-id",
            "boss",
            "--admin-login",
            "boss",
            "--admin-password",
            "Boss-Passw0rd",
            "--json",
        ]);
        stdout_json(&run(cmd, Duration::from_secs(60)))
    };
    let first = bootstrap();
    let second = bootstrap();
    assert_eq!(first["applicationExtId"], "nevisIdm");
    assert_eq!(first["roles"].as_array().unwrap().len(), 5);
    assert_eq!(
        first["roles"], second["roles"],
        "the same roles, not new ones"
    );
    assert_eq!(first["admin"]["created"], true);
    assert_eq!(second["admin"]["created"], false);
    assert_eq!(
        first["admin"]["profileExtId"],
        second["admin"]["profileExtId"]
    );

    // Row counts, through the API of a server on the same database.
    let server = serve(&tmp.0, &url);
    let t = token(&tmp.0, &url, "Acme", "boss");
    let (status, body) = http_get(server.port, &format!("{CORE}/applications"), Some(&t)).unwrap();
    assert_eq!(status, 200, "{body}");
    let apps: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = apps["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["nevisIdm"]);
    let (status, body) = http_get(
        server.port,
        &format!("{CORE}/applications/nevisIdm/roles"),
        Some(&t),
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let roles: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(roles["items"].as_array().unwrap().len(), 5, "{body}");
    let (status, body) = http_get(
        server.port,
        &format!("{CORE}/Acme/profiles/boss-profile/authorizations"),
        Some(&t),
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let grants: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(grants["items"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(grants["items"][0]["roleExtId"], "nevisIdm.Root");
}

#[test]
fn idm_token_output_authenticates_against_a_running_server() {
    let tmp = TempDir::new();
    let url = tmp.db_url();
    // `serve` on an empty database bootstraps client `Default` with admin `admin`.
    let server = serve(&tmp.0, &url);
    let t = token(&tmp.0, &url, "Default", "admin");
    assert_eq!(t.split('.').count(), 3, "a JWT: {t}");
    let (status, body) =
        http_get(server.port, &format!("{CORE}/clients/Default"), Some(&t)).unwrap();
    assert_eq!(status, 200, "{body}");
    let client: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(client["extId"], "Default");
    // Control: without the token the same request is refused.
    let (status, _) = http_get(server.port, &format!("{CORE}/clients/Default"), None).unwrap();
    assert_eq!(status, 401);
}

#[test]
fn idm_token_without_an_hs256_key_fails_with_a_clear_message() {
    let tmp = TempDir::new();
    let mut cmd = idm(&tmp.0, &tmp.db_url(), false);
    cmd.args([
        "token",
        "--client-ext-id",
        "Default",
        "--user-ext-id",
        "admin",
    ]);
    let out = run(cmd, Duration::from_secs(30));
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no token printed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no HS256 key configured") && stderr.contains("auth.hs256_secret"),
        "stderr: {stderr}"
    );
}
