//! Several `idm serve` OS processes on one database: the unit tree under concurrent writes from
//! two processes (move ∥ child create, nested moves, opposite moves), instances starting at
//! once, `serve --no-migrate`, and `/ready` while a stop drains.
//!
//! Every test runs on SQLite and on PostgreSQL (`<name>::sqlite` / `<name>::postgres`); the
//! PostgreSQL variant needs `IDM_TEST_DATABASE_URL` and fails with `IDM_REQUIRE_POSTGRES=1`
//! when it is missing, else it prints SKIPPED.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde_json::{json, Value};

const CORE: &str = "/nevisidm/api/core/v1";
const SECRET: &str = "multiprocess-test-secret-0123456789";
const ADMIN_PASSWORD: &str = "Admin-Passw0rd-1";
/// Trials per race family.
const TRIALS: usize = 30;

#[path = "../../idm-testing/src/dual.rs"]
mod dual;
use dual::Backend;

/// A fresh database: a SQLite file in a scratch directory or a PostgreSQL schema; removed on
/// drop together with the scratch directory.
struct Db {
    backend: Backend,
    url: String,
    dir: PathBuf,
    schema: Option<(String, String)>,
}

impl Db {
    fn fresh(backend: Backend) -> Option<Db> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("idm-mp-{id}"));
        std::fs::create_dir_all(&dir).unwrap();
        match backend {
            Backend::Sqlite => Some(Db {
                backend,
                url: format!("sqlite://{}", dir.join("idm.db").display()),
                dir,
                schema: None,
            }),
            Backend::Postgres => {
                let base = match std::env::var("IDM_TEST_DATABASE_URL") {
                    Ok(u) if !u.is_empty() => u,
                    _ => {
                        assert_ne!(
                            std::env::var("IDM_REQUIRE_POSTGRES").as_deref(),
                            Ok("1"),
                            "IDM_REQUIRE_POSTGRES=1 but IDM_TEST_DATABASE_URL is not set"
                        );
                        eprintln!("SKIPPED (PostgreSQL): IDM_TEST_DATABASE_URL is not set");
                        let _ = std::fs::remove_dir_all(&dir);
                        return None;
                    }
                };
                let schema = format!("mp_{id}");
                let mut c = PgConnection::establish(&base).unwrap();
                diesel::connection::SimpleConnection::batch_execute(
                    &mut c,
                    &format!("CREATE SCHEMA {schema}"),
                )
                .unwrap();
                let sep = if base.contains('?') { '&' } else { '?' };
                Some(Db {
                    backend,
                    url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
                    dir,
                    schema: Some((base, schema)),
                })
            }
        }
    }

    /// Every unit row, read behind the API.
    fn units(&self) -> Vec<UnitRow> {
        let q = diesel::sql_query(
            "SELECT id, parent_id, ext_id, path, hierarchical_name FROM units ORDER BY id",
        );
        match self.backend {
            Backend::Sqlite => {
                let mut c =
                    SqliteConnection::establish(self.url.trim_start_matches("sqlite://")).unwrap();
                q.load(&mut c).unwrap()
            }
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.url).unwrap();
                q.load(&mut c).unwrap()
            }
        }
    }

    /// Runs SQL behind the servers' backs (tampering).
    fn exec(&self, sql: &str) {
        use diesel::connection::SimpleConnection;
        match self.backend {
            Backend::Sqlite => {
                SqliteConnection::establish(self.url.trim_start_matches("sqlite://"))
                    .unwrap()
                    .batch_execute(sql)
                    .unwrap();
            }
            Backend::Postgres => {
                PgConnection::establish(&self.url)
                    .unwrap()
                    .batch_execute(sql)
                    .unwrap();
            }
        }
    }

    /// One count from SQL.
    fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let q = diesel::sql_query(sql);
        let rows: Vec<N> = match self.backend {
            Backend::Sqlite => {
                let mut c =
                    SqliteConnection::establish(self.url.trim_start_matches("sqlite://")).unwrap();
                q.load(&mut c).unwrap()
            }
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.url).unwrap();
                q.load(&mut c).unwrap()
            }
        };
        rows[0].n
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.schema {
            if let Ok(mut c) = PgConnection::establish(base) {
                let _ = diesel::connection::SimpleConnection::batch_execute(
                    &mut c,
                    &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
                );
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(QueryableByName, Debug, Clone)]
struct UnitRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    parent_id: Option<i64>,
    #[diesel(sql_type = Text)]
    ext_id: String,
    #[diesel(sql_type = Text)]
    path: String,
    #[diesel(sql_type = Text)]
    hierarchical_name: String,
}

/// The tree as `parent_id` says it is: for each extId, the id path and hierarchical name
/// derived from the parent chain. Panics on a cycle or a missing parent.
fn derived_tree(rows: &[UnitRow]) -> HashMap<String, (String, String)> {
    let by_id: HashMap<i64, &UnitRow> = rows.iter().map(|r| (r.id, r)).collect();
    let mut out = HashMap::new();
    for row in rows {
        let mut chain = vec![row];
        let mut cur = row;
        while let Some(pid) = cur.parent_id {
            cur = by_id
                .get(&pid)
                .unwrap_or_else(|| panic!("unit {} has a missing parent {pid}", cur.ext_id));
            assert!(
                chain.len() <= rows.len(),
                "cycle through unit {}",
                row.ext_id
            );
            chain.push(cur);
        }
        chain.reverse();
        let path = format!(
            "/{}/",
            chain
                .iter()
                .map(|u| u.id.to_string())
                .collect::<Vec<_>>()
                .join("/")
        );
        let hname = chain
            .iter()
            .map(|u| u.ext_id.as_str())
            .collect::<Vec<_>>()
            .join("/");
        out.insert(row.ext_id.clone(), (path, hname));
    }
    out
}

/// Asserts that every stored `path` and `hierarchicalName` is the one `parent_id` implies;
/// returns the derived tree.
fn assert_tree_consistent(db: &Db, context: &str) -> HashMap<String, (String, String)> {
    let rows = db.units();
    let derived = derived_tree(&rows);
    let stale: Vec<String> = rows
        .iter()
        .filter(|r| derived[&r.ext_id] != (r.path.clone(), r.hierarchical_name.clone()))
        .map(|r| {
            format!(
                "{}: stored ({}, {}), derived {:?}",
                r.ext_id, r.path, r.hierarchical_name, derived[&r.ext_id]
            )
        })
        .collect();
    assert!(
        stale.is_empty(),
        "{context}: inconsistent units: {stale:#?}"
    );
    derived
}

/// One `idm serve` process.
struct Proc {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn idm(db: &Db) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_idm"));
    // In the scratch directory, so no config/default.toml of the checkout applies.
    c.current_dir(&db.dir)
        .env("IDM__DATABASE__URL", &db.url)
        .env("IDM__DATABASE__POOL_SIZE", "4")
        .env("IDM__AUTH__HS256_SECRET", SECRET)
        .env("IDM__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("IDM__SERVER__WORKERS", "2")
        .env("IDM__LOG__LEVEL", "info")
        .stdout(Stdio::null());
    c
}

/// Spawns `idm serve --port 0 --ready-file …` plus `extra` arguments; does not wait.
fn spawn(db: &Db, tag: &str, extra: &[&str], env: &[(&str, &str)]) -> (Child, PathBuf, PathBuf) {
    let ready = db.dir.join(format!("{tag}.ready"));
    let log = db.dir.join(format!("{tag}.log"));
    let mut c = idm(db);
    c.args(["serve", "--port", "0", "--ready-file"])
        .arg(&ready)
        .args(extra)
        .stderr(std::fs::File::create(&log).unwrap());
    for (k, v) in env {
        c.env(k, v);
    }
    (c.spawn().unwrap(), ready, log)
}

/// Waits for the ready file (or the process' exit, which fails the test with its log).
fn await_ready(mut child: Child, ready: &Path, log: PathBuf) -> Proc {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(text) = std::fs::read_to_string(ready) {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                let base = v["baseUrl"].as_str().unwrap().to_owned();
                return Proc { child, base, log };
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "idm exited with {status} before it was ready:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "idm did not become ready in time"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start(db: &Db, tag: &str, env: &[(&str, &str)]) -> Proc {
    let (child, ready, log) = spawn(db, tag, &[], env);
    await_ready(child, &ready, log)
}

/// Two server processes on `db` ("one" and "two"), with an admin client for each.
fn two_admins(db: &Db) -> ([Proc; 2], [Api; 2]) {
    let procs = [start(db, "one", &[]), start(db, "two", &[])];
    let apis = [Api::new(&procs[0], "admin"), Api::new(&procs[1], "admin")];
    (procs, apis)
}

fn token(user: &str) -> String {
    let exp = chrono::Utc::now().timestamp() + 3600;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"sub": user, "clientExtId": "Default", "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// An HTTP client of one process acting as one user.
#[derive(Clone)]
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    fn new(p: &Proc, user: &str) -> Api {
        Api {
            base: p.base.clone(),
            token: token(user),
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{CORE}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn unit(&self, ext_id: &str, parent: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            "/Default/units",
            Some(json!({"extId": ext_id, "name": ext_id, "parentUnitExtId": parent, "profileless": false})),
        )
        .await
    }

    async fn created_unit(&self, ext_id: &str, parent: &str) {
        let (s, b) = self.unit(ext_id, parent).await;
        assert_eq!(s, 201, "create {ext_id}: {b}");
    }

    /// Creates `user` with a profile in `unit` and the role `nevisIdm.Helpdesk` there.
    async fn created_helpdesk(&self, user: &str, unit: &str) {
        let (s, b) = self
            .call(
                reqwest::Method::POST,
                "/Default/users",
                Some(json!({"extId": user, "loginId": user})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = self
            .call(
                reqwest::Method::POST,
                &format!("/Default/users/{user}/profiles"),
                Some(json!({"extId": format!("{user}-p"), "unitExtId": unit, "name": user})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = self
            .call(
                reqwest::Method::POST,
                &format!("/Default/profiles/{user}-p/authorizations"),
                Some(
                    json!({"extId": format!("{user}-a"), "roleExtId": "nevisIdm.Helpdesk",
                            "unitGlobal": false, "clientGlobal": false}),
                ),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }

    async fn mv(&self, child: &str, new_parent: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::PUT,
            &format!("/Default/units/{new_parent}/children/{child}"),
            None,
        )
        .await
    }
}

fn code(body: &Value) -> (&str, &str) {
    (
        body["errors"][0]["code"].as_str().unwrap_or_default(),
        body["errors"][0]["message"].as_str().unwrap_or_default(),
    )
}

/// Never a 5xx; a 409 only as the lock-contention answer with its code and message.
fn assert_no_server_error(what: &str, status: u16, body: &Value) {
    assert!(status < 500, "{what}: {status} {body}");
    if status == 409 {
        assert_eq!(
            code(body),
            (
                "errors.pessimisticLockingFailure",
                "The data is locked by another transaction, please retry later"
            ),
            "{what}: {body}"
        );
    }
}

/// Two processes on one fresh database, with two unit-local Helpdesk admins: `adm-zp` on
/// top-level unit `zp`, `adm-zq` on `zq`. Each trial builds its units below them.
struct Race {
    db: Db,
    one: Proc,
    two: Proc,
}

impl Race {
    async fn set_up(backend: Backend) -> Option<Race> {
        let db = Db::fresh(backend)?;
        // The cache is off so a rights check right after a move on the *other* process sees
        // it: cross-instance revocation is another part of issue 15, not what is raced here.
        let env = [("IDM__AUTH__CALLER_CACHE_TTL_MS", "0")];
        let one = start(&db, "one", &env);
        let two = start(&db, "two", &env);
        let admin = Api::new(&one, "admin");
        for (unit, user) in [("zp", "adm-zp"), ("zq", "adm-zq")] {
            admin.created_unit(unit, "Default-root").await;
            admin.created_helpdesk(user, unit).await;
        }
        Some(Race { db, one, two })
    }

    /// Runs `trials` of one race family. `build(t)` creates the trial's units through process
    /// one; `race(t)` fires the two writes (the first on process one, the second on process
    /// two) at once and checks their answers; then the tree is checked and the two local
    /// admins' view of `units(t)` must follow it.
    async fn run<B, BF, R, RF>(&self, family: &str, units: &[&str], build: B, race: R)
    where
        B: Fn(Api, usize) -> BF,
        BF: std::future::Future<Output = ()>,
        R: Fn(Api, Api, usize) -> RF,
        RF: std::future::Future<Output = ()>,
    {
        let started = Instant::now();
        let admin_one = Api::new(&self.one, "admin");
        let admin_two = Api::new(&self.two, "admin");
        let viewers = [
            ("zp", Api::new(&self.one, "adm-zp")),
            ("zq", Api::new(&self.two, "adm-zq")),
        ];
        for t in 0..TRIALS {
            build(admin_one.clone(), t).await;
            race(admin_one.clone(), admin_two.clone(), t).await;
            let tree = assert_tree_consistent(&self.db, &format!("{family}, trial {t}"));
            for unit in units {
                let ext = format!("{unit}{t}");
                let unit_path = &tree[&ext].0;
                for (scope, viewer) in &viewers {
                    let sees = unit_path.starts_with(&tree[*scope].0);
                    let (s, b) = viewer
                        .call(reqwest::Method::GET, &format!("/Default/units/{ext}"), None)
                        .await;
                    if sees {
                        assert_eq!(s, 200, "{family} {t}: admin of {scope} on {ext}: {b}");
                    } else {
                        assert_eq!(s, 403, "{family} {t}: admin of {scope} on {ext}: {b}");
                        assert_eq!(
                            code(&b),
                            (
                                "errors.combinedDataroomDenied",
                                "Permission denied: AccessControl.UnitView"
                            )
                        );
                    }
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "{family}: {TRIALS} trials took {:?}",
            started.elapsed()
        );
        for p in [&self.one, &self.two] {
            let log = std::fs::read_to_string(&p.log).unwrap_or_default();
            assert!(!log.contains("internal error"), "{family}: {log}");
        }
    }
}

/// The fixture of every `dual_test!` here: the backend itself. Each test makes its own
/// database(s) with `Db::fresh`, because some start several processes on one.
async fn on(backend: Backend) -> Option<Backend> {
    Some(backend)
}

dual_test!(
    a_subtree_move_racing_a_child_create_in_another_process_leaves_every_path_derived_from_parent_ids,
    setup = on,
    |backend: Backend| {
        let Some(race) = Race::set_up(backend).await else {
            return;
        };
        // zp ─ p{t} ─ a{t} ─ k{t}; zq ─ q{t}. Move a{t} under q{t} while a child of k{t}
        // is created: the child must end up below q{t}, seen by zq's admin only.
        race.run(
            "move ∥ child create",
            &["a", "k", "x"],
            |admin, t| async move {
                admin.created_unit(&format!("p{t}"), "zp").await;
                admin.created_unit(&format!("q{t}"), "zq").await;
                admin.created_unit(&format!("a{t}"), &format!("p{t}")).await;
                admin.created_unit(&format!("k{t}"), &format!("a{t}")).await;
            },
            |one, two, t| async move {
                let (a, q, k, x) = (format!("a{t}"), format!("q{t}"), format!("k{t}"), format!("x{t}"));
                let ((ms, mb), (cs, cb)) = tokio::join!(one.mv(&a, &q), two.unit(&x, &k));
                assert_no_server_error("move", ms, &mb);
                assert_no_server_error("create", cs, &cb);
                assert!(ms == 204 || ms == 409, "move: {ms} {mb}");
                assert!(cs == 201 || cs == 409, "create: {cs} {cb}");
                if cs == 409 {
                    // The unit named in the rights check must exist.
                    one.created_unit(&x, &k).await;
                }
            },
        )
        .await;
    }
);

dual_test!(
    nested_moves_from_two_processes_leave_every_path_derived_from_parent_ids,
    setup = on,
    |backend: Backend| {
        let Some(race) = Race::set_up(backend).await else {
            return;
        };
        // zp ─ p{t} ─ a{t} ─ b{t} ─ c{t}; zq ─ q{t}. Move a{t} under q{t} while b{t} moves
        // under p{t}: whatever the order, a{t} ends below zq and b{t} (with c{t}) below zp.
        race.run(
            "nested moves",
            &["a", "b", "c"],
            |admin, t| async move {
                admin.created_unit(&format!("p{t}"), "zp").await;
                admin.created_unit(&format!("q{t}"), "zq").await;
                admin.created_unit(&format!("a{t}"), &format!("p{t}")).await;
                admin.created_unit(&format!("b{t}"), &format!("a{t}")).await;
                admin.created_unit(&format!("c{t}"), &format!("b{t}")).await;
            },
            |one, two, t| async move {
                let (a, b, p, q) = (
                    format!("a{t}"),
                    format!("b{t}"),
                    format!("p{t}"),
                    format!("q{t}"),
                );
                let ((s1, b1), (s2, b2)) = tokio::join!(one.mv(&a, &q), two.mv(&b, &p));
                assert_no_server_error("outer move", s1, &b1);
                assert_no_server_error("inner move", s2, &b2);
                assert!(s1 == 204 || s1 == 409, "outer move: {s1} {b1}");
                assert!(s2 == 204 || s2 == 409, "inner move: {s2} {b2}");
            },
        )
        .await;
    }
);

dual_test!(
    opposite_moves_from_two_processes_have_one_winner_no_cycle_and_no_500,
    setup = on,
    |backend: Backend| {
        let Some(race) = Race::set_up(backend).await else {
            return;
        };
        // zp ─ p{t}; zq ─ q{t}. p{t} under q{t} ∥ q{t} under p{t}: one wins, the other is a
        // move under its own descendant (422) or, at worst, lock contention (409).
        race.run(
            "opposite moves",
            &["p", "q"],
            |admin, t| async move {
                admin.created_unit(&format!("p{t}"), "zp").await;
                admin.created_unit(&format!("q{t}"), "zq").await;
            },
            |one, two, t| async move {
                let (p, q) = (format!("p{t}"), format!("q{t}"));
                let ((s1, b1), (s2, b2)) = tokio::join!(one.mv(&p, &q), two.mv(&q, &p));
                assert_no_server_error("p under q", s1, &b1);
                assert_no_server_error("q under p", s2, &b2);
                assert!(
                    !(s1 == 204 && s2 == 204),
                    "both opposite moves succeeded: {b1} {b2}"
                );
                for (s, b, parent, child) in [(s1, &b1, &q, &p), (s2, &b2, &p, &q)] {
                    match s {
                        204 | 409 => {}
                        422 => assert_eq!(
                            code(b),
                            (
                                "errors.assignSubunitAsParent",
                                format!(
                                    "The unit with extId '{parent}' is the unit '{child}' itself or one of its sub-units and cannot become its parent."
                                )
                                .as_str()
                            )
                        ),
                        other => panic!("opposite move: {other} {b}"),
                    }
                }
            },
        )
        .await;
    }
);

dual_test!(
    three_instances_starting_at_once_on_one_fresh_database_all_come_up_and_bootstrap_the_admin_once,
    setup = on,
    |backend: Backend| {
        let Some(db) = Db::fresh(backend) else {
            return;
        };
        // Spawned before any is awaited: they migrate and bootstrap at the same moment.
        let spawned: Vec<_> = (0..3)
            .map(|i| spawn(&db, &format!("s{i}"), &[], &[]))
            .collect();
        let procs: Vec<Proc> = spawned
            .into_iter()
            .map(|(child, ready, log)| await_ready(child, &ready, log))
            .collect();
        for p in &procs {
            let r = reqwest::get(format!("{}/ready", p.base)).await.unwrap();
            assert_eq!(r.status(), 200);
            let (s, b) = Api::new(p, "admin")
                .call(reqwest::Method::GET, "/Default/users/admin", None)
                .await;
            assert_eq!(s, 200, "{b}");
        }
        assert_eq!(db.count("SELECT COUNT(*) AS n FROM clients"), 1);
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM users WHERE ext_id = 'admin'"),
            1
        );
        let created = procs
            .iter()
            .filter(|p| {
                std::fs::read_to_string(&p.log)
                    .unwrap_or_default()
                    .contains("empty database: created client 'Default'")
            })
            .count();
        assert_eq!(
            created, 1,
            "the admin was bootstrapped by {created} instances"
        );
    }
);

dual_test!(
    serve_no_migrate_refuses_an_unmigrated_database_and_serves_once_idm_migrate_ran,
    setup = on,
    |backend: Backend| {
        let Some(db) = Db::fresh(backend) else {
            return;
        };
        let (mut child, ready, log) = spawn(&db, "early", &["--no-migrate"], &[]);
        let status = child.wait().unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!status.success(), "served an unmigrated database:\n{text}");
        assert!(text.contains("run `idm migrate` first"), "{text}");
        assert!(!ready.exists());

        let out = idm(&db)
            .arg("migrate")
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("applied"));
        let before = db.count("SELECT COUNT(*) AS n FROM __diesel_schema_migrations");

        let (child, ready, log) = spawn(&db, "late", &["--no-migrate"], &[]);
        let p = await_ready(child, &ready, log);
        let r = reqwest::get(format!("{}/ready", p.base)).await.unwrap();
        assert_eq!(r.status(), 200);
        // It bootstrapped (data), but applied nothing (schema).
        let (s, b) = Api::new(&p, "admin")
            .call(reqwest::Method::GET, "/Default/users/admin", None)
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM __diesel_schema_migrations"),
            before
        );
    }
);

/// Sends one HTTP/1.1 request on `stream` (kept alive) and reads one response: (status,
/// body). The server answers with `Content-Length`, so the response ends where it says.
fn exchange(stream: &mut std::net::TcpStream, path: &str) -> (u16, String) {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: idm\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no status line: {status_line:?}"))
        .parse()
        .unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Waits until `needle` appears in the log file: the process reports having reached that
/// point, so what follows is ordered after it without guessing a delay.
fn await_log(log: &Path, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(log)
        .unwrap_or_default()
        .contains(needle)
    {
        assert!(Instant::now() < deadline, "{needle:?} never logged");
        std::thread::sleep(Duration::from_millis(20));
    }
}

dual_test!(
    ready_answers_503_as_soon_as_a_stop_signal_begins_the_drain,
    setup = on,
    |backend: Backend| {
        let Some(db) = Db::fresh(backend) else {
            return;
        };
        let (child, ready, log) = spawn(
            &db,
            "drain",
            &[],
            &[
                ("IDM__SERVER__WORKERS", "1"),
                // Long enough never to end during the test: the 503 must not depend on it.
                ("IDM__SERVER__DRAIN_DELAY_MS", "60000"),
            ],
        );
        let p = await_ready(child, &ready, log);
        let addr = p.base.trim_start_matches("http://").to_owned();
        // A load balancer's connection, open before the stop begins.
        let mut lb = std::net::TcpStream::connect(&addr).unwrap();
        lb.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(exchange(&mut lb, "/ready").0, 200);

        let sent = Command::new("kill")
            .args(["-TERM", &p.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        // The handler logs after it marked the server as stopping.
        await_log(&p.log, "stop signal");
        let (status, body) = exchange(&mut lb, "/ready");
        assert_eq!(status, 503, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            code(&body),
            ("errors.fatalError", "The server is shutting down.")
        );
    }
);

/// `idm audit verify` on `db`: (exit code, stdout), bounded in time.
fn audit_verify(db: &Db) -> (Option<i32>, String) {
    let mut child = idm(db)
        .args(["audit", "verify"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("idm audit verify did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

dual_test!(
    audit_verify_passes_after_a_mixed_workload_on_two_processes_and_fails_after_one_record_is_edited,
    setup = on,
    |backend: Backend| {
        let Some(db) = Db::fresh(backend) else {
            return;
        };
        let (_servers, apis) = two_admins(&db); // kept alive to the end
        // Creates from both processes at once, then updates, moves and deletes.
        let mut tasks = Vec::new();
        for i in 0..12 {
            let api = apis[i % 2].clone();
            tasks.push(tokio::spawn(async move {
                api.created_unit(&format!("w{i}"), "Default-root").await;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        for i in 0..4 {
            let (s, b) = apis[i % 2]
                .call(
                    reqwest::Method::PATCH,
                    &format!("/Default/units/w{i}"),
                    Some(json!({"name": format!("renamed {i}")})),
                )
                .await;
            assert_eq!(s, 200, "{b}");
        }
        let (s, b) = apis[0].mv("w5", "w4").await;
        assert_eq!(s, 204, "{b}");
        let (s, b) = apis[1]
            .call(reqwest::Method::DELETE, "/Default/units/w6", None)
            .await;
        assert_eq!(s, 204, "{b}");
        // Verifying chains first what is still pending (PostgreSQL chains after the commit).
        let (code, out) = audit_verify(&db);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("Default: ok, 18 record(s)"), "{out}");
        let records = db.count("SELECT COUNT(*) AS n FROM audit_records");
        assert_eq!(records, 12 + 4 + 1 + 1, "one record per write");

        db.exec("UPDATE audit_records SET object_ext_id = 'forged' WHERE chain = 'Default' AND seq = 7");
        let (code, out) = audit_verify(&db);
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.contains("Default: BROKEN after 6 verified record(s): record 7 does not match its hash"),
            "{out}"
        );
    }
);

/// `idm_caller_loads_total` of process `p`: how many callers it looked up in the database.
async fn caller_loads(p: &Proc) -> u64 {
    metric(p, "idm_caller_loads_total").await
}

/// The unlabelled counter `name` from process `p`'s `/metrics`.
async fn metric(p: &Proc, name: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", p.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

dual_test!(
    users_disabled_together_in_one_process_are_each_refused_by_the_other_and_nobody_else_is_evicted,
    setup = on,
    |backend: Backend| {
        let Some(db) = Db::fresh(backend) else {
            return;
        };
        // A one-minute caller cache: a refusal that comes sooner can only come from the
        // revocation bus, which sends what it collects within a few milliseconds as one
        // notification.
        let env = [("IDM__AUTH__CALLER_CACHE_TTL_MS", "60000")];
        let one = start(&db, "one", &env);
        let two = start(&db, "two", &env);
        let ready: Value = reqwest::get(format!("{}/ready", two.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if backend == Backend::Sqlite {
            // One instance per SQLite file is the supported deployment: no bus to report.
            assert_eq!(ready["revocations"], "not-needed", "{ready}");
            return;
        }
        assert_eq!(ready["revocations"], "up", "{ready}");
        let admin = Api::new(&one, "admin");
        admin.created_unit("zb", "Default-root").await;
        let users: Vec<String> = (0..8).map(|i| format!("burst{i}")).collect();
        for user in &users {
            admin.created_helpdesk(user, "zb").await;
        }
        let probe = "/Default/units/zb";
        let on_two: Vec<Api> = users.iter().map(|u| Api::new(&two, u)).collect();
        let admin_two = Api::new(&two, "admin");
        for api in on_two.iter().chain([&admin_two]) {
            let (s, b) = api.call(reqwest::Method::GET, probe, None).await;
            assert_eq!(s, 200, "{b}");
        }
        let before = caller_loads(&two).await;
        let mut disables = tokio::task::JoinSet::new();
        for user in &users {
            let (admin, path) = (admin.clone(), format!("/Default/users/{user}"));
            disables.spawn(async move {
                admin
                    .call(
                        reqwest::Method::PATCH,
                        &path,
                        Some(json!({"userState": "disabled"})),
                    )
                    .await
            });
        }
        while let Some(done) = disables.join_next().await {
            let (s, b) = done.unwrap();
            assert_eq!(s, 200, "{b}");
        }
        let disabled = Instant::now();
        for (user, api) in users.iter().zip(&on_two) {
            loop {
                let (s, b) = api.call(reqwest::Method::GET, probe, None).await;
                if s == 401 {
                    break;
                }
                assert_eq!(s, 200, "{b}");
                assert!(
                    disabled.elapsed() < Duration::from_secs(5),
                    "process two still accepts the disabled user {user}"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        // Each notification named its users: process two's admin, named by none, stayed
        // cached (a batch read as one unreadable announcement would have emptied the cache).
        let (s, b) = admin_two.call(reqwest::Method::GET, probe, None).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            caller_loads(&two).await - before,
            8,
            "one look-up per disabled user, none for the admin"
        );
    }
);

dual_test!(
    patches_of_one_user_version_racing_from_two_processes_let_exactly_one_win_with_one_record_and_its_cascade_only,
    setup = on,
    |backend: Backend| {
        let Some(db) = Db::fresh(backend) else {
            return;
        };
        // One HTTP worker each, so on PostgreSQL one pipelined connection per process takes
        // every look-up of the race once it is open.
        let one_worker = [("IDM__SERVER__WORKERS", "1")];
        let servers = [start(&db, "one", &one_worker), start(&db, "two", &one_worker)];
        let apis = [Api::new(&servers[0], "admin"), Api::new(&servers[1], "admin")];
        apis[0].created_helpdesk("racer", "Default-root").await;
        let profile = |api: Api| async move {
            let (s, b) = api
                .call(reqwest::Method::GET, "/Default/profiles/racer-p", None)
                .await;
            assert_eq!(s, 200, "{b}");
            b
        };
        let before = profile(apis[1].clone()).await;
        const PIPELINED: &str = "idm_db_reads_pipelined_total";
        let mut pipelined_before = [0, 0];
        if backend == Backend::Postgres {
            // Each process reads the user until a read went over its pipelined connection.
            for (i, (server, api)) in servers.iter().zip(&apis).enumerate() {
                let start = Instant::now();
                while metric(server, PIPELINED).await == 0 {
                    assert!(start.elapsed() < Duration::from_secs(10), "{} never pipelined", server.base);
                    let (s, b) = api.call(reqwest::Method::GET, "/Default/users/racer", None).await;
                    assert_eq!(s, 200, "{b}");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                pipelined_before[i] = metric(server, PIPELINED).await;
            }
        }
        // Sixteen writers, eight per process, all deciding on version 1: half disable the
        // user (its profile follows in the same statement on PostgreSQL), half patch remarks.
        let mut tasks = Vec::new();
        for i in 0..16 {
            let api = apis[i % 2].clone();
            let body = if i % 4 < 2 {
                json!({"userState": "disabled", "version": 1})
            } else {
                json!({"remarks": format!("writer {i}"), "version": 1})
            };
            tasks.push(tokio::spawn(async move {
                api.call(reqwest::Method::PATCH, "/Default/users/racer", Some(body))
                    .await
            }));
        }
        let mut won = 0;
        for t in tasks {
            let (s, b) = t.await.unwrap();
            match s {
                200 => won += 1,
                // The losers learn that their version is gone, not that something broke.
                409 => assert_eq!(code(&b).0, "errors.optimisticLockingFailure", "{b}"),
                other => panic!("racing PATCH answered {other}: {b}"),
            }
        }
        assert_eq!(won, 1, "exactly one writer of version 1 wins");
        if backend == Backend::Postgres {
            // The eight look-ups of each process went over its pipelined connection.
            for (server, before) in servers.iter().zip(pipelined_before) {
                let during = metric(server, PIPELINED).await - before;
                assert!(during >= 8, "{}: {during} look-ups pipelined", server.base);
            }
        }
        let (s, user) = apis[0]
            .call(reqwest::Method::GET, "/Default/users/racer", None)
            .await;
        assert_eq!(s, 200, "{user}");
        assert_eq!(user["version"], 2, "{user}");
        let disabled = user["userState"] == "disabled";
        let after = profile(apis[0].clone()).await;
        let expected = if disabled { "disabled" } else { "active" };
        assert_eq!(after["profileState"], expected, "{after}");
        assert_eq!(
            after["version"].as_i64().unwrap(),
            before["version"].as_i64().unwrap() + i64::from(disabled),
            "the profile moved only with a winning disable: {after}"
        );
        // Verifying chains what is still pending first; the winner alone is recorded.
        let (code, out) = audit_verify(&db);
        assert_eq!(code, Some(0), "{out}");
        let records = db.count(
            "SELECT COUNT(*) AS n FROM audit_records \
             WHERE object_ext_id = 'racer' AND operation LIKE 'PATCH%'",
        );
        assert_eq!(records, 1, "one record, the winner's");
    }
);
