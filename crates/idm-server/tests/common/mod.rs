//! One `idm serve` process for the tests that need the real binary (signals, sockets): started
//! in a fresh temp dir (so no `config/default.toml` of the checkout is read) on a fresh SQLite
//! file and a free loopback port, logging JSON to `stderr.log`, killed and cleaned up on drop.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server process.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Server {
    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only matters if the test failed before the process exited.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `idm serve` with the HS256 `secret` and the extra environment `env`, and waits until
/// `/health` answers 200 (at most `up_within`).
pub async fn start(
    name: &str,
    secret: &str,
    env: &[(&str, String)],
    up_within: Duration,
) -> Server {
    let dir = std::env::temp_dir().join(format!("idm-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.join("stderr.log")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_idm"));
    command
        .arg("serve")
        .current_dir(&dir)
        .env("IDM__SERVER__PORT", port.to_string())
        .env(
            "IDM__DATABASE__URL",
            format!("sqlite://{}", dir.join("idm.db").display()),
        )
        .env("IDM__AUTH__HS256_SECRET", secret)
        .env("IDM__BOOTSTRAP__ADMIN_PASSWORD", "Admin-Passw0rd")
        .env("IDM__LOG__FORMAT", "json");
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command.stdout(Stdio::null()).stderr(log).spawn().unwrap();
    let server = Server { child, port, dir };
    let deadline = Instant::now() + up_within;
    loop {
        if let Ok(r) = reqwest::get(format!("{}/health", server.base())).await {
            if r.status() == 200 {
                return server;
            }
        }
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
