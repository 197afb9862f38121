//! Shipping the binary (issue 16): `idm healthcheck`, start-up refusing bad configuration with
//! exit code 2, secrets from the environment or stdin, and the container files naming only
//! real settings and subcommands. Every subprocess is bounded in time and killed at the end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use idm_server::Settings;

/// A temp directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("idm-ship-{}", uuid::Uuid::new_v4().simple()));
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

/// `idm` with no inherited `IDM*` settings, run in `dir` so no `config/default.toml` is used.
fn idm(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idm"));
    for (k, _) in std::env::vars() {
        if k.starts_with("IDM_") {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(dir)
        .env("IDM__XTOKEN__SECRET", "ship-test-xtoken-secret")
        .env("IDM__LOG__LEVEL", "warn")
        .stdin(Stdio::null());
    cmd
}

/// Runs to completion within `limit`, else kills it and fails.
fn run(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait(&mut child, limit);
    child.wait_with_output().unwrap()
}

fn wait(child: &mut Child, limit: Duration) {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("idm did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
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

fn serve(tmp: &TempDir) -> Server {
    let port = free_port();
    let mut cmd = idm(&tmp.0);
    cmd.arg("serve")
        .env("IDM__DATABASE__URL", tmp.db_url())
        .env("IDM__BOOTSTRAP__ADMIN_PASSWORD", "Ship-Admin-Passw0rd")
        .env("IDM__SERVER__PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let server = Server {
        child: cmd.spawn().unwrap(),
        port,
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if idm_server::healthcheck::check(
            &format!("http://127.0.0.1:{port}/ready"),
            Duration::from_secs(2),
        )
        .is_ok()
        {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("idm serve did not become ready within 60 s");
}

// ---------------------------------------------------------------------------------------------
// idm healthcheck

#[test]
fn healthcheck_exits_0_against_a_running_server() {
    let tmp = TempDir::new();
    let server = serve(&tmp);
    let mut cmd = idm(&tmp.0);
    cmd.args([
        "healthcheck",
        "--url",
        &format!("http://127.0.0.1:{}/ready", server.port),
    ]);
    let out = run(cmd, Duration::from_secs(30));
    assert!(out.status.success(), "stderr: {}", stderr(&out));

    // Without --url it asks the configured listener, a wildcard host on loopback (as in the
    // container, where IDM__SERVER__HOST=0.0.0.0).
    let mut cmd = idm(&tmp.0);
    cmd.arg("healthcheck")
        .env("IDM__SERVER__HOST", "0.0.0.0")
        .env("IDM__SERVER__PORT", server.port.to_string());
    let out = run(cmd, Duration::from_secs(30));
    assert!(out.status.success(), "stderr: {}", stderr(&out));
}

#[test]
fn healthcheck_exits_non_zero_against_a_closed_port() {
    let tmp = TempDir::new();
    let port = free_port(); // bound and released: nothing listens there now
    let mut cmd = idm(&tmp.0);
    cmd.args([
        "healthcheck",
        "--timeout",
        "2",
        "--url",
        &format!("http://127.0.0.1:{port}/ready"),
    ]);
    let out = run(cmd, Duration::from_secs(30));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not healthy"),
        "stderr: {}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// Configuration mistakes stop start-up with exit code 2

#[test]
fn a_typo_in_the_config_file_stops_serve_with_exit_code_2_naming_the_key() {
    let tmp = TempDir::new();
    let file = tmp.0.join("idm.toml");
    std::fs::write(&file, "[server]\nprot = 9000\n").unwrap();
    let mut cmd = idm(&tmp.0);
    cmd.arg("serve").arg("--config").arg(&file);
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("prot"), "stderr: {}", stderr(&out));
}

#[test]
fn an_unknown_idm_environment_key_stops_serve_with_exit_code_2_naming_the_key() {
    let tmp = TempDir::new();
    let mut cmd = idm(&tmp.0);
    cmd.arg("serve").env("IDM__DATABASE__ULR", tmp.db_url());
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("ulr"), "stderr: {}", stderr(&out));
}

#[test]
fn an_unknown_database_scheme_stops_serve_with_exit_code_2_and_creates_no_file() {
    let tmp = TempDir::new();
    let mut cmd = idm(&tmp.0);
    cmd.arg("serve")
        .env("IDM__DATABASE__URL", "postgress://postgres@127.0.0.1/idm");
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("postgress"),
        "stderr: {}",
        stderr(&out)
    );
    let left: Vec<_> = std::fs::read_dir(&tmp.0).unwrap().collect();
    assert!(left.is_empty(), "nothing created: {left:?}");
}

#[test]
fn the_config_file_can_be_named_by_idm_config() {
    let tmp = TempDir::new();
    let file = tmp.0.join("idm.toml");
    std::fs::write(&file, "[server]\nprot = 9000\n").unwrap();
    // The typo proves the file was read.
    let mut cmd = idm(&tmp.0);
    cmd.arg("migrate").env("IDM_CONFIG", &file);
    let out = run(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("prot"), "stderr: {}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// The bootstrap password without a command-line argument

fn bootstrap(tmp: &TempDir) -> Command {
    let mut cmd = idm(&tmp.0);
    cmd.env("IDM__DATABASE__URL", tmp.db_url()).args([
        "bootstrap",
        "--client-ext-id",
        "Acme",
        "--client-name",
        "Acme",
        "--admin-ext-id",
        "boss",
        "--admin-login",
        "boss",
        "--json",
    ]);
    cmd
}

fn admin_created(out: &Output) -> bool {
    assert!(out.status.success(), "stderr: {}", stderr(out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["admin"]["created"] == true
}

#[test]
fn bootstrap_takes_the_admin_password_from_idm_admin_password() {
    let tmp = TempDir::new();
    let mut cmd = bootstrap(&tmp);
    cmd.env("IDM_ADMIN_PASSWORD", "Boss-Passw0rd");
    assert!(admin_created(&run(cmd, Duration::from_secs(60))));
}

#[test]
fn bootstrap_takes_the_admin_password_from_stdin() {
    let tmp = TempDir::new();
    let mut cmd = bootstrap(&tmp);
    cmd.arg("--admin-password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Boss-Passw0rd\n")
        .unwrap();
    wait(&mut child, Duration::from_secs(60));
    assert!(admin_created(&child.wait_with_output().unwrap()));
}

#[test]
fn bootstrap_of_a_client_without_any_admin_password_fails_saying_where_to_put_it() {
    let tmp = TempDir::new();
    let out = run(bootstrap(&tmp), Duration::from_secs(60));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("IDM_ADMIN_PASSWORD"),
        "stderr: {}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// Dockerfile and compose.yaml

fn repo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `IDM__...` name in `text` with the value written after it (`KEY=value` in a
/// Dockerfile, `KEY: value` in YAML).
fn idm_variables(text: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    let mut rest = text;
    while let Some(i) = rest.find("IDM__") {
        rest = &rest[i..];
        let end = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(rest.len());
        let name = rest[..end].to_owned();
        rest = &rest[end..];
        let value = rest
            .strip_prefix('=')
            .or_else(|| rest.strip_prefix(':'))
            .map(|v| {
                let line = v.lines().next().unwrap_or_default().trim();
                line.trim_matches(|c| c == '"' || c == '\'').to_owned()
            })
            .unwrap_or_default();
        vars.insert(name, value);
    }
    vars
}

#[test]
fn every_idm_variable_in_the_dockerfile_and_compose_file_is_a_real_setting() {
    for file in ["Dockerfile", "compose.yaml"] {
        let vars = idm_variables(&repo_file(file));
        assert!(!vars.is_empty(), "{file} sets no IDM__ variable");
        // Unknown keys are errors, and the values are validated too.
        Settings::load_from(None, None, Some(vars.clone()))
            .unwrap_or_else(|e| panic!("{file}: {e} (variables: {:?})", vars.keys()));
    }
    let compose = idm_variables(&repo_file("compose.yaml"));
    for shared in ["IDM__XTOKEN__SECRET", "IDM__DATABASE__URL"] {
        assert!(compose.contains_key(shared), "compose.yaml sets {shared}");
    }
}

/// The `["idm", "sub", ...]` exec form after `instruction` in the Dockerfile.
fn exec_form(dockerfile: &str, instruction: &str) -> Vec<String> {
    let line = dockerfile
        .lines()
        .find(|l| l.starts_with(instruction))
        .unwrap_or_else(|| panic!("no {instruction} line"));
    let json = &line[line.find('[').unwrap()..];
    serde_json::from_str(json).unwrap()
}

#[test]
fn the_dockerfile_cmd_and_healthcheck_run_real_subcommands() {
    let dockerfile = repo_file("Dockerfile");
    let tmp = TempDir::new();
    for instruction in ["CMD", "HEALTHCHECK"] {
        let argv = exec_form(&dockerfile, instruction);
        assert_eq!(argv[0], "idm", "{instruction}: {argv:?}");
        let mut cmd = idm(&tmp.0);
        cmd.args(&argv[1..]).arg("--help");
        let out = run(cmd, Duration::from_secs(30));
        assert!(
            out.status.success(),
            "{instruction} {argv:?}: {}",
            stderr(&out)
        );
    }
    // Control: clap refuses a subcommand that does not exist.
    let mut cmd = idm(&tmp.0);
    cmd.args(["healthcheckk", "--help"]);
    assert!(!run(cmd, Duration::from_secs(30)).status.success());
}
