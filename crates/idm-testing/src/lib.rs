//! # idm-testing
//!
//! Test harness for services that talk to [idm](https://example.invalid/idm), the nevisIDM
//! REST API server: each test starts the real server in-process on port 0, on a throw-away
//! database (one temp SQLite file, or one PostgreSQL schema with the `postgres` feature), with
//! the `Default` client, its Root admin and that admin's bearer token ready. Tests talk HTTP;
//! the seeding helpers go through the same ports the server uses. Dropping the [`TestApp`]
//! stops the server and removes the database.
//!
//! ```no_run
//! use idm_testing::{json, Backend, TestApp, CORE};
//!
//! # async fn demo() {
//! let app = TestApp::builder()
//!     .backend(Backend::Sqlite)
//!     .settings(|s| s.xtoken.ttl_seconds = 60)
//!     .start()
//!     .await
//!     .expect("SQLite is always available");
//!
//! // As the bootstrapped admin (client `Default`, user `admin`).
//! let created = app
//!     .post(&format!("{CORE}/clients/Default/users"), json!({
//!         "extId": "alice", "loginId": "alice",
//!         "name": {"firstName": "Alice", "familyName": "Example"},
//!     }))
//!     .await;
//! assert_eq!(created.status, 201, "{}", created.body);
//!
//! // As any user: a bearer token minted with the server's own key.
//! let token = app.token_for("Default", "alice");
//! let me = app.send(app.req_as(&token, idm_testing::Method::GET, "/nevisidm/api/principal/v1/me")).await;
//! # let _ = me;
//! # }
//! ```
//!
//! ## Features
//!
//! - `postgres` (off by default): [`Backend::Postgres`] runs on a fresh schema in the database
//!   named by `IDM_TEST_DATABASE_URL`. This links libpq (through Diesel). Without the feature,
//!   or without the variable, a PostgreSQL start returns `None` and prints `SKIPPED`, unless
//!   `IDM_REQUIRE_POSTGRES=1`, which turns that into a panic (for CI).
//!
//! ## Dual-backend tests
//!
//! [`dual_test!`] declares one body that runs as `<name>::sqlite` and `<name>::postgres`. It
//! expands to `#[tokio::test(flavor = "multi_thread")]` in the calling crate, so that crate
//! needs `tokio` (features `rt-multi-thread`, `macros`) as a dev-dependency.
//!
//! ## Not yet here
//!
//! Known data at start: `TestApp::builder().fixtures("tests/fixtures/small.yaml")` loads a
//! fixtures file (the format of `idm serve --fixtures` and `idm export`); or seed with
//! [`TestApp::seed_user`], [`TestApp::create_client`] or plain API calls.

// A harness meant for tests: a failed set-up step is reported by panicking, which is what a
// test runner shows best, so unwrap/expect are allowed throughout this crate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use idm_server::{Running, StartOptions};
use idm_service::Services;
use reqwest::{RequestBuilder, Response};
use serde_json::Value;

pub use idm_server::settings::{Secret, Settings};
pub use reqwest::Method;
pub use serde_json::json;

mod dual;
pub use dual::Backend;

/// HS256 secret of every test server's bearer tokens.
pub const BEARER_SECRET: &str = "test-bearer-secret-0123456789";
/// X-Token secret of every test server.
pub const XTOKEN_SECRET: &str = "test-xtoken-secret-0123456789";
/// `credentials.encryption_key` of every test server (base64 of 32 bytes), so OATH works on
/// a [`TestApp::second_instance`] too.
pub const CREDENTIALS_KEY: &str = "dGVzdC1jcmVkZW50aWFscy1rZXktMzItYnl0ZXMtISE=";
/// Password of the bootstrapped admin (client `Default`, login/extId `admin`).
pub const ADMIN_PASSWORD: &str = "Admin-Passw0rd";
/// Core API base path.
pub const CORE: &str = "/nevisidm/api/core/v1";
/// Principal API base path.
pub const PRINCIPAL: &str = "/nevisidm/api/principal/v1";

/// Drops the per-test database when the test ends.
enum Guard {
    Dir(PathBuf),
    #[cfg(feature = "postgres")]
    Schema {
        url: String,
        schema: String,
    },
}

impl Drop for Guard {
    fn drop(&mut self) {
        match self {
            Guard::Dir(d) => {
                let _ = std::fs::remove_dir_all(d);
            }
            #[cfg(feature = "postgres")]
            Guard::Schema { url, schema } => {
                if let Ok(mut c) = diesel::PgConnection::establish(url) {
                    let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            }
        }
    }
}

/// A running server with an admin token.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// HTTP client (sends no credentials by itself; see [`TestApp::admin_client`]).
    pub http: reqwest::Client,
    /// The server's use cases (token minting, seeding).
    pub services: Services,
    /// Bearer token of the bootstrapped Root admin (client `Default`, user `admin`); empty
    /// when the settings configure no HS256 key.
    pub admin_token: String,
    /// The database URL the server uses.
    pub database_url: String,
    /// The backend.
    pub backend: Backend,
    admin_http: reqwest::Client,
    running: Option<Running>,
    /// What this instance was started with; a second instance gets the same.
    settings: Settings,
    _guard: Arc<Guard>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            let handle = r.handle.clone();
            // Stop without waiting: the runtime is going away with the test anyway.
            drop(handle.stop(false));
        }
    }
}

/// Prints (or, with `IDM_REQUIRE_POSTGRES=1`, panics with) why PostgreSQL is unavailable.
fn postgres_unavailable(why: &str) {
    if std::env::var("IDM_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        panic!("IDM_REQUIRE_POSTGRES=1 but {why}");
    }
    eprintln!("SKIPPED (PostgreSQL): {why}");
}

/// The PostgreSQL URL for tests, or `None` (with a visible message) when PostgreSQL tests
/// should be skipped. Panics when `IDM_REQUIRE_POSTGRES=1` and no URL is set.
pub fn postgres_url() -> Option<String> {
    match std::env::var("IDM_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            postgres_unavailable(
                "IDM_TEST_DATABASE_URL is not set; set it to run this test on PostgreSQL",
            );
            None
        }
    }
}

#[cfg(feature = "postgres")]
fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

/// Settings of a test server on `database_url`.
pub fn test_settings(database_url: &str) -> Settings {
    let mut s = Settings::default();
    s.server.host = "127.0.0.1".into();
    s.server.port = 0;
    s.server.workers = Some(2);
    s.server.shutdown_timeout_seconds = 5;
    s.database.url = Secret(database_url.to_owned());
    s.database.pool_size = Some(4);
    s.database.checkout_timeout_ms = 2000;
    s.auth.hs256_secret = Some(Secret(BEARER_SECRET.into()));
    // The caller cache is on, with entries that outlive any test: a write that forgets to evict
    // a caller it changed fails the test that looks, instead of passing after a short TTL.
    // Tests that change callers behind the server's back go through `TestApp::sql`, which
    // empties the cache afterwards.
    s.auth.caller_cache_ttl_ms = 600_000;
    s.xtoken.secret = Some(Secret(XTOKEN_SECRET.into()));
    s.bootstrap.admin_password = Some(Secret(ADMIN_PASSWORD.into()));
    s.credentials.encryption_key = Some(Secret(CREDENTIALS_KEY.into()));
    s
}

/// A fresh, empty database for `backend`: its URL and the guard that removes it.
fn fresh_database(backend: Backend) -> Option<(String, Guard)> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("idm-test-{id}"));
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{}", dir.join("idm.db").display());
            Some((url, Guard::Dir(dir)))
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let base = postgres_url()?;
            let schema = format!("t_{id}");
            let mut c = diesel::PgConnection::establish(&base)
                .unwrap_or_else(|e| panic!("cannot connect to IDM_TEST_DATABASE_URL: {e}"));
            c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
            Some((
                with_search_path(&base, &schema),
                Guard::Schema { url: base, schema },
            ))
        }
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => {
            postgres_unavailable("idm-testing was built without its `postgres` feature");
            None
        }
    }
}

/// Starts a server on a fresh database; `None` when the backend is skipped.
pub async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::builder().backend(backend).start().await
}

/// Like [`spawn`], with a chance to adjust the settings first.
pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    launch(backend, adjust).await
}

/// A settings override queued on a [`TestAppBuilder`].
type Adjust = Box<dyn FnOnce(&mut Settings) + Send>;

/// Configures a [`TestApp`] before it starts; from [`TestApp::builder`].
///
/// Defaults: SQLite, [`test_settings`] (port 0, HS256 bearer key [`BEARER_SECRET`], X-Token
/// key [`XTOKEN_SECRET`], caller cache off, admin password [`ADMIN_PASSWORD`]).
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct TestAppBuilder {
    backend: Backend,
    adjust: Vec<Adjust>,
    fixtures: Vec<std::path::PathBuf>,
}

impl TestAppBuilder {
    /// The database to start on (default [`Backend::Sqlite`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Adjusts the server settings after the test defaults and the database URL are set;
    /// overrides apply in the order given.
    pub fn settings(mut self, adjust: impl FnOnce(&mut Settings) + Send + 'static) -> Self {
        self.adjust.push(Box::new(adjust));
        self
    }

    /// Loads a fixtures file (JSON or YAML, the format of `idm serve --fixtures` and
    /// `idm export`) once the server has started; several files load in the order given.
    pub fn fixtures(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.fixtures.push(path.into());
        self
    }

    /// Creates the database, starts the server (migrations and bootstrap of the `Default`
    /// client with its Root admin included), loads the fixtures and mints the admin token.
    /// `None` when the backend is unavailable (see the crate docs on PostgreSQL).
    ///
    /// # Panics
    /// When the database cannot be created, the server does not start or a fixtures file
    /// does not load (the message names the file and the entry).
    pub async fn start(self) -> Option<TestApp> {
        let adjust = self.adjust;
        let app = launch(self.backend, move |s| adjust.into_iter().for_each(|a| a(s))).await?;
        for file in &self.fixtures {
            if let Err(e) = idm_server::ship::load(
                &app.services,
                file,
                idm_service::transfer::ImportMode::KeepExisting,
            )
            .await
            {
                panic!("fixtures {}: {e:#}", file.display());
            }
        }
        Some(app)
    }
}

/// Creates the database, starts the server on it and mints the admin token.
async fn launch(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    let (url, guard) = fresh_database(backend)?;
    let mut settings = test_settings(&url);
    adjust(&mut settings);
    Some(start_on(settings, backend, url, Arc::new(guard)).await)
}

/// Starts a server with `settings` on the database `url` (already created) and mints the
/// admin token; the database lives as long as the last app holding `guard`.
async fn start_on(settings: Settings, backend: Backend, url: String, guard: Arc<Guard>) -> TestApp {
    let running = idm_server::start(
        &settings,
        StartOptions {
            handle_signals: false,
            bootstrap_default_admin: true,
            migrate: true,
        },
    )
    .await
    .expect("server starts");
    let services = running.services.clone();
    // Empty when the test configured no HS256 key (RS/ES-only servers mint their own tokens).
    let admin_token = services
        .mint_bearer("Default", "admin", 3600)
        .unwrap_or_default();
    TestApp {
        base: format!("http://{}", running.addr),
        http: reqwest::Client::new(),
        admin_http: admin_client(&admin_token),
        services,
        admin_token,
        database_url: url,
        backend,
        running: Some(running),
        settings,
        _guard: guard,
    }
}

impl TestApp {
    /// A second server instance on the same database, with its own pool and caller cache, as
    /// a second stateless deployment would have: for races where two instances could
    /// disagree. Same settings (secrets, cache TTL, …), so tokens and X-Tokens work on both.
    pub async fn second_instance(&self) -> TestApp {
        start_on(
            self.settings.clone(),
            self.backend,
            self.database_url.clone(),
            self._guard.clone(),
        )
        .await
    }
}

/// A client that sends the admin's bearer token with every request (none when it is empty).
fn admin_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if !token.is_empty() {
        let mut value = reqwest::header::HeaderValue::try_from(format!("Bearer {token}"))
            .expect("a JWT is a valid header value");
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("HTTP client builds")
}

/// A response read completely: status, headers and JSON body (Null when empty).
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body as JSON (`Value::Null` for an empty body, a string for non-JSON).
    pub body: Value,
}

impl Reply {
    /// Reads a response.
    pub async fn read(r: Response) -> Reply {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first error's code.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or("")
    }

    /// The first error's message.
    pub fn message(&self) -> &str {
        self.body["errors"][0]["message"].as_str().unwrap_or("")
    }

    /// Asserts status, code and message of an error response.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.code(), code, "body: {}", self.body);
        assert_eq!(self.message(), message, "body: {}", self.body);
    }

    /// The `Location` header.
    pub fn location(&self) -> &str {
        self.header("location").unwrap_or("")
    }
}

impl TestApp {
    /// A builder: `TestApp::builder().backend(Backend::Sqlite).settings(|s| ..).start().await`.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            backend: Backend::Sqlite,
            adjust: Vec::new(),
            fixtures: Vec::new(),
        }
    }

    /// An HTTP client that authenticates every request as the bootstrapped admin; for code
    /// under test that takes a `reqwest::Client` and URLs (see [`TestApp::url`]).
    pub fn admin_client(&self) -> reqwest::Client {
        self.admin_http.clone()
    }

    /// Full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request with the admin token.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.admin_token)
    }

    /// A request with another bearer token.
    pub fn req_as(&self, token: &str, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(token)
    }

    /// Sends and reads.
    pub async fn send(&self, rb: RequestBuilder) -> Reply {
        Reply::read(rb.send().await.unwrap()).await
    }

    /// GET as admin.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.req(Method::GET, path)).await
    }

    /// POST JSON as admin.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.req(Method::POST, path).json(&body)).await
    }

    /// PATCH JSON as admin.
    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(self.req(Method::PATCH, path).json(&body)).await
    }

    /// PUT as admin (no body).
    pub async fn put(&self, path: &str) -> Reply {
        self.send(self.req(Method::PUT, path)).await
    }

    /// DELETE as admin.
    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.req(Method::DELETE, path)).await
    }

    /// A bearer token (valid one hour) for any user, by client and user extId, signed with the
    /// server's own HS256 key. Panics when the settings configure no HS256 key.
    pub fn token_for(&self, client_ext_id: &str, user_ext_id: &str) -> String {
        self.services
            .mint_bearer(client_ext_id, user_ext_id, 3600)
            .unwrap()
    }

    /// Runs SQL directly against the test database (fault injection, corruption), then empties
    /// every instance's caller cache, as a write through the API would have where it matters.
    pub fn sql(&self, statements: &str) {
        self.sql_behind_the_cache(statements);
        let everyone = idm_ports::revocation::Reach::Everyone;
        (self.services.revocation_sink())(everyone);
        self.services.repo().announce(everyone);
    }

    /// Runs SQL directly, leaving cached callers as they are (tests of the cache itself).
    pub fn sql_behind_the_cache(&self, statements: &str) {
        match self.backend {
            Backend::Sqlite => {
                let path = self.database_url.trim_start_matches("sqlite://");
                let mut c = diesel::SqliteConnection::establish(path).unwrap();
                c.batch_execute(statements).unwrap();
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let mut c = diesel::PgConnection::establish(&self.database_url).unwrap();
                c.batch_execute(statements).unwrap();
            }
            // A PostgreSQL TestApp only exists with the feature (`fresh_database`).
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => unreachable!("no PostgreSQL TestApp without the feature"),
        }
    }

    /// Runs a query directly against the test database and returns its one text column,
    /// which the query must name `t` (e.g. `SELECT value AS t FROM property_values`): tests
    /// that check what is stored, bypassing the server.
    pub fn sql_texts(&self, query: &str) -> Vec<String> {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            t: String,
        }
        match self.backend {
            Backend::Sqlite => {
                let path = self.database_url.trim_start_matches("sqlite://");
                let mut c = diesel::SqliteConnection::establish(path).unwrap();
                diesel::sql_query(query)
                    .load::<Row>(&mut c)
                    .unwrap()
                    .into_iter()
                    .map(|r| r.t)
                    .collect()
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let mut c = diesel::PgConnection::establish(&self.database_url).unwrap();
                diesel::sql_query(query)
                    .load::<Row>(&mut c)
                    .unwrap()
                    .into_iter()
                    .map(|r| r.t)
                    .collect()
            }
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => unreachable!("no PostgreSQL TestApp without the feature"),
        }
    }

    /// The server's database counters from `/metrics`: (statements run, statements prepared
    /// into a connection's statement cache). Reading them runs no statement.
    pub async fn db_counters(&self) -> (u64, u64) {
        let text = self.metrics_text().await;
        (
            metric_in(&text, "idm_db_statements_total"),
            metric_in(&text, "idm_db_statement_prepares_total"),
        )
    }

    /// One counter or gauge without labels from `/metrics` (e.g. `idm_db_reads_pipelined_total`).
    pub async fn metric(&self, name: &str) -> u64 {
        metric_in(&self.metrics_text().await, name)
    }

    async fn metrics_text(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Statements and prepares the server ran while `f` ran (anything else in flight on the
    /// server counts too): `(f's output, statements, prepares)`.
    pub async fn statements_during<F: std::future::Future>(&self, f: F) -> (F::Output, u64, u64) {
        let (s0, p0) = self.db_counters().await;
        let out = f.await;
        let (s1, p1) = self.db_counters().await;
        (out, s1 - s0, p1 - p0)
    }

    /// Creates a client over the API and returns its extId.
    pub async fn create_client(&self, ext_id: &str, name: &str) -> String {
        let r = self
            .post(
                &format!("{CORE}/clients"),
                json!({"extId": ext_id, "name": name}),
            )
            .await;
        assert_eq!(r.status, 201, "create client: {}", r.body);
        ext_id.to_owned()
    }
}

/// The value of the unlabelled metric `name` in a `/metrics` text.
fn metric_in(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{text}"))
        .parse()
        .unwrap()
}

/// A user created directly through the ports, with a password and role grants.
#[derive(Debug, Clone)]
pub struct SeededUser {
    /// Client extId.
    pub client_ext_id: String,
    /// User extId (also the loginId).
    pub ext_id: String,
    /// Password.
    pub password: String,
    /// Bearer token.
    pub token: String,
    /// extId of the user's profile.
    pub profile_ext_id: String,
}

/// Password of every seeded user.
pub const SEEDED_PASSWORD: &str = "Seeded-Passw0rd";

impl TestApp {
    /// Creates user `ext_id` (loginId = extId) in `client_ext_id` with a password, one active
    /// profile in `unit_ext_id` (default: the client's root unit) and one authorization per
    /// built-in role name in `roles`, with the given dataroom flags.
    pub async fn seed_user(
        &self,
        client_ext_id: &str,
        ext_id: &str,
        roles: &[&str],
        client_global: bool,
        unit_global: bool,
        unit_ext_id: Option<&str>,
    ) -> SeededUser {
        use idm_domain::model::{Authorization, Meta, Profile, User};
        use idm_domain::values::{now_millis, ProfileState, UserState, Validity};
        let repo = self.services.repo();
        let client = repo
            .client_by_ext_id(client_ext_id)
            .await
            .unwrap()
            .expect("client exists");
        let unit_ext = unit_ext_id
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{client_ext_id}-root"));
        let unit = repo
            .unit_by_ext_id(client.meta.id, &unit_ext)
            .await
            .unwrap()
            .expect("unit exists");
        let meta = |e: String| {
            let now = now_millis();
            Meta::new(e, now)
        };
        let user = repo
            .create_user(User {
                meta: meta(ext_id.to_owned()),
                client_id: client.meta.id,
                client_ext_id: client.meta.ext_id.clone(),
                login_id: ext_id.to_owned(),
                state: UserState::Active,
                language_code: None,
                is_technical_user: false,
                name: Default::default(),
                sex: None,
                gender: None,
                birth_date: None,
                contacts: Default::default(),
                address: Default::default(),
                remarks: None,
                modification_comment: None,
                validity: Validity::default(),
            })
            .await
            .unwrap();
        let hash = idm_service::auth::hash_password(SEEDED_PASSWORD.into())
            .await
            .unwrap();
        repo.set_password_hash(client.meta.id, user.meta.id, &format!("{ext_id}-pw"), &hash)
            .await
            .unwrap();
        let profile = repo
            .create_profile(Profile {
                meta: meta(format!("{ext_id}-profile")),
                client_id: client.meta.id,
                client_ext_id: client.meta.ext_id.clone(),
                user_id: user.meta.id,
                user_ext_id: user.meta.ext_id.clone(),
                unit_id: unit.meta.id,
                unit_ext_id: unit.meta.ext_id.clone(),
                unit_path: unit.path.clone(),
                name: None,
                state: ProfileState::Active,
                is_default_profile: true,
                remarks: None,
                modification_comment: None,
                validity: Validity::default(),
                deputed_profile_ext_id: None,
            })
            .await
            .unwrap();
        let app = repo.application_by_name("nevisIdm").await.unwrap().unwrap();
        for role_name in roles {
            let role = repo
                .role_by_name(app.meta.id, role_name)
                .await
                .unwrap()
                .expect("role");
            repo.create_authorization(Authorization {
                meta: meta(format!("{ext_id}-{role_name}")),
                client_id: client.meta.id,
                profile_id: profile.meta.id,
                role_id: role.meta.id,
                role_ext_id: role.meta.ext_id.clone(),
                client_global,
                unit_global,
                app_global: false,
                enterprise_role_global: false,
                validity: Validity::default(),
            })
            .await
            .unwrap();
        }
        SeededUser {
            client_ext_id: client_ext_id.to_owned(),
            ext_id: ext_id.to_owned(),
            password: SEEDED_PASSWORD.to_owned(),
            token: self.token_for(client_ext_id, ext_id),
            profile_ext_id: profile.meta.ext_id,
        }
    }

    /// A fresh X-Token for a seeded user (password confirmed through the use case).
    pub async fn xtoken_for(&self, user: &SeededUser) -> String {
        let caller = self.services.resolve_caller(&user.token).await.unwrap();
        self.services
            .issue_xtoken(&caller, &user.ext_id, &user.password, "password")
            .await
            .unwrap()
            .access_token
    }
}
