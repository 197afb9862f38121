//! The real binary as a throw-away test dependency and as an operated product:
//! `serve --ephemeral --fixtures --admin-token-file --ready-file`, `export`, `import`,
//! `backup`, and how bad inputs are refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const CORE: &str = "/nevisidm/api/core/v1";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

/// A scratch directory, removed at the end of the test.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("idm-{tag}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn db(&self, name: &str) -> String {
        format!("sqlite://{}", self.path(name).display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary, run in `dir` (so no config/default.toml of the checkout applies).
fn idm(dir: &Scratch, db: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_idm"));
    c.current_dir(&dir.0)
        .env_remove("IDM__AUTH__HS256_SECRET")
        .env("IDM__LOG__LEVEL", "warn");
    if let Some(url) = db {
        c.env("IDM__DATABASE__URL", url);
    }
    c
}

fn run(mut c: Command) -> Output {
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn get(base: &str, token: &str, path: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

async fn ephemeral_serve_reads_fixtures_and_cleans_up(file: &str) {
    let dir = Scratch::new("ephemeral");
    let token_file = dir.path("admin.token");
    let ready_file = dir.path("ready.json");
    let started = Instant::now();
    let mut child = idm(&dir, None)
        .args(["serve", "--ephemeral", "--port", "0", "--fixtures"])
        .arg(fixture(file))
        .arg("--admin-token-file")
        .arg(&token_file)
        .arg("--ready-file")
        .arg(&ready_file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready_file.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!("exited early with {status}: {}", stderr(&out));
        }
        assert!(Instant::now() < deadline, "no ready file");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ready_after = started.elapsed();
    let ready: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ready_file).unwrap()).unwrap();
    // Written before the ready file, so complete now.
    let token = std::fs::read_to_string(&token_file).unwrap();
    let token = token.trim();
    let base = ready["baseUrl"].as_str().unwrap().to_owned();
    assert_ne!(ready["port"], 0);
    let db_dir = PathBuf::from(ready["ephemeralDir"].as_str().unwrap());
    assert!(db_dir.join("idm.db").exists());
    eprintln!("{file}: start to ready in {} ms", ready_after.as_millis());

    let (s, client) = get(&base, token, &format!("{CORE}/clients/acme")).await;
    assert_eq!(s, 200, "{client}");
    assert_eq!(client["name"], "Acme");
    assert_eq!(client["displayName"]["DE"], "Acme AG");
    let (s, user) = get(&base, token, &format!("{CORE}/acme/users/alice")).await;
    assert_eq!(s, 200, "{user}");
    assert_eq!(user["loginId"], "alice");
    assert_eq!(user["contacts"]["email"], "alice@acme.example");
    let (s, profile) = get(&base, token, &format!("{CORE}/acme/profiles/bob-p")).await;
    assert_eq!(s, 200, "{profile}");
    assert_eq!(profile["unitExtId"], "acme-sales-emea");
    let (s, unit) = get(&base, token, &format!("{CORE}/acme/units/acme-sales-emea")).await;
    assert_eq!(s, 200, "{unit}");
    assert_eq!(unit["parentUnitExtId"], "acme-sales");
    assert_eq!(unit["location"], "Zurich");
    let (s, auth) = get(
        &base,
        token,
        &format!("{CORE}/acme/profiles/alice-p/authorizations/alice-p-admin"),
    )
    .await;
    assert_eq!(s, 200, "{auth}");
    assert_eq!(auth["roleExtId"], "nevisIdm.UserAdmin");
    assert_eq!(auth["unitGlobal"], true);

    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let out = child.wait_with_output().unwrap();
    assert!(status.success(), "{status}: {}", stderr(&out));
    assert!(!db_dir.exists(), "{} still exists", db_dir.display());
    assert!(!ready_file.exists(), "the ready file outlived the server");
}

#[tokio::test]
async fn ephemeral_serve_with_yaml_fixtures_serves_them_with_the_admin_token_and_removes_its_database_on_sigterm(
) {
    ephemeral_serve_reads_fixtures_and_cleans_up("small.yaml").await;
}

#[tokio::test]
async fn ephemeral_serve_with_json_fixtures_behaves_the_same() {
    ephemeral_serve_reads_fixtures_and_cleans_up("small.json").await;
}

#[test]
fn the_yaml_and_json_example_fixtures_hold_the_same_data() {
    let yaml: idm_server::fixtures::Fixture =
        serde_yaml::from_str(&std::fs::read_to_string(fixture("small.yaml")).unwrap()).unwrap();
    let json: idm_server::fixtures::Fixture =
        serde_json::from_str(&std::fs::read_to_string(fixture("small.json")).unwrap()).unwrap();
    assert_eq!(yaml, json);
}

#[test]
fn a_fixture_conflicting_with_the_bootstrapped_client_stops_serve_with_exit_2_naming_file_and_entry(
) {
    let dir = Scratch::new("conflict");
    let file = dir.path("bad.yaml");
    std::fs::write(
        &file,
        "clients:\n  - extId: Default\n    name: NotDefault\n",
    )
    .unwrap();
    let out = run({
        let mut c = idm(&dir, None);
        c.args(["serve", "--ephemeral", "--port", "0", "--fixtures"])
            .arg(&file);
        c
    });
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("bad.yaml"), "{err}");
    assert!(err.contains("clients[0] (extId 'Default')"), "{err}");
    assert!(err.contains("name"), "{err}");
}

#[test]
fn an_invalid_fixture_entry_is_refused_with_exit_2_naming_it() {
    let dir = Scratch::new("invalid");
    let db = dir.db("idm.db");
    for (name, text, needle) in [
        (
            "unknown-field.json",
            r#"{"clients": [{"extId": "x", "name": "X", "colour": "red"}]}"#,
            "colour",
        ),
        (
            "dangling.yaml",
            "clients: [{extId: x, name: X}]\n\
             profiles:\n  - {clientExtId: x, extId: p1, userExtId: nobody, unitExtId: x-root}\n",
            "profiles[0] (extId 'p1'): user 'nobody' does not exist",
        ),
        (
            "role.yaml",
            "authorizations:\n  - {clientExtId: x, profileExtId: p1, extId: a1}\n",
            "authorizations[0] (extId 'a1')",
        ),
        ("data.txt", "{}", "must end in .json, .yaml or .yml"),
    ] {
        let file = dir.path(name);
        std::fs::write(&file, text).unwrap();
        let out = run({
            let mut c = idm(&dir, Some(&db));
            c.arg("import").arg(&file);
            c
        });
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(name), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{name}: {}", stderr(&out));
    }
}

fn export(dir: &Scratch, db: &str, extra: &[&str]) -> String {
    let out = run({
        let mut c = idm(dir, Some(db));
        c.arg("export").args(extra);
        c
    });
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn import(dir: &Scratch, db: &str, file: &Path, extra: &[&str]) -> Output {
    run({
        let mut c = idm(dir, Some(db));
        c.arg("import").arg(file).args(extra);
        c
    })
}

#[test]
fn importing_the_same_fixture_twice_changes_nothing() {
    let dir = Scratch::new("twice");
    let db = dir.db("idm.db");
    let first = import(&dir, &db, &fixture("small.yaml"), &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("created"), "{}", stdout(&first));
    let before = export(&dir, &db, &["--with-secrets"]);
    let second = import(&dir, &db, &fixture("small.yaml"), &[]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains(": 0 created"),
        "{}",
        stdout(&second)
    );
    assert_eq!(before, export(&dir, &db, &["--with-secrets"]));
}

#[test]
fn a_conflicting_import_exits_2_and_override_replaces_the_definition() {
    let dir = Scratch::new("override");
    let db = dir.db("idm.db");
    assert!(import(&dir, &db, &fixture("small.yaml"), &[])
        .status
        .success());
    let changed = dir.path("changed.json");
    std::fs::write(
        &changed,
        r#"{"users": [{"clientExtId": "acme", "extId": "bob", "loginId": "bob",
            "name": {"firstName": "Robert", "familyName": "Builder"}}]}"#,
    )
    .unwrap();
    let refused = import(&dir, &db, &changed, &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("changed.json: users[0] (extId 'bob')"),
        "{}",
        stderr(&refused)
    );
    let replaced = import(&dir, &db, &changed, &["--override"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert!(
        stdout(&replaced).contains("1 replaced"),
        "{}",
        stdout(&replaced)
    );
    let exported: serde_json::Value =
        serde_json::from_str(&export(&dir, &db, &["--client", "acme"])).unwrap();
    let bob = exported["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["extId"] == "bob")
        .unwrap();
    assert_eq!(bob["name"]["firstName"], "Robert");
    assert_eq!(bob["version"], 2);
}

#[test]
fn export_without_secrets_holds_no_password_hashes_and_with_them_round_trips_exactly() {
    let dir = Scratch::new("roundtrip");
    let a = dir.db("a.db");
    let b = dir.db("b.db");
    assert!(import(&dir, &a, &fixture("small.yaml"), &[])
        .status
        .success());
    let plain = export(&dir, &a, &[]);
    assert!(!plain.contains("passwordHash"), "{plain}");
    assert!(!plain.contains("$argon2"), "{plain}");
    let full = export(&dir, &a, &["--with-secrets"]);
    assert!(full.contains("passwordHash"));
    let file = dir.path("export.json");
    std::fs::write(&file, &full).unwrap();
    let loaded = import(&dir, &b, &file, &[]);
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    assert_eq!(export(&dir, &b, &["--with-secrets"]), full);

    // YAML output through --output, and back.
    let yaml = dir.path("export.yaml");
    let out = run({
        let mut c = idm(&dir, Some(&a));
        c.args(["export", "--with-secrets", "--output"]).arg(&yaml);
        c
    });
    assert!(out.status.success(), "{}", stderr(&out));
    let c = dir.db("c.db");
    assert!(import(&dir, &c, &yaml, &[]).status.success());
    assert_eq!(export(&dir, &c, &["--with-secrets"]), full);
}

#[test]
fn backup_copies_a_sqlite_database_and_refuses_postgresql_pointing_to_pg_dump() {
    let dir = Scratch::new("backup");
    let db = dir.db("idm.db");
    assert!(import(&dir, &db, &fixture("small.yaml"), &[])
        .status
        .success());
    let copy = dir.path("copy.db");
    let out = run({
        let mut c = idm(&dir, Some(&db));
        c.args(["backup", "--to"]).arg(&copy);
        c
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        export(
            &dir,
            &format!("sqlite://{}", copy.display()),
            &["--with-secrets"]
        ),
        export(&dir, &db, &["--with-secrets"])
    );
    let again = run({
        let mut c = idm(&dir, Some(&db));
        c.args(["backup", "--to"]).arg(&copy);
        c
    });
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    let pg = run({
        let mut c = idm(&dir, Some("postgres://nobody@127.0.0.1:1/none"));
        c.args(["backup", "--to"]).arg(dir.path("pg.db"));
        c
    });
    assert!(!pg.status.success());
    assert!(stderr(&pg).contains("pg_dump"), "{}", stderr(&pg));
}

#[test]
fn an_in_memory_sqlite_url_is_refused_at_start_with_a_message_pointing_to_ephemeral() {
    let dir = Scratch::new("memory");
    for url in ["sqlite::memory:", "sqlite://:memory:"] {
        let out = run({
            let mut c = idm(&dir, Some(url));
            c.arg("serve");
            c
        });
        assert_eq!(out.status.code(), Some(2), "{url}: {}", stderr(&out));
        assert!(stderr(&out).contains("database.url"), "{}", stderr(&out));
        assert!(stderr(&out).contains("--ephemeral"), "{}", stderr(&out));
    }
}

#[test]
fn an_admin_token_file_without_an_hs256_secret_is_refused_outside_ephemeral_mode() {
    let dir = Scratch::new("nosecret");
    let out = run({
        let mut c = idm(&dir, Some(&dir.db("idm.db")));
        c.args(["serve", "--port", "0", "--admin-token-file"])
            .arg(dir.path("t"));
        c
    });
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("auth.hs256_secret"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path("t").exists());
}
