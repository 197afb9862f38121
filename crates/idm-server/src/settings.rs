//! Typed, layered configuration: built-in defaults → `config/default.toml` (if present) →
//! `--config FILE` → `IDM__SECTION__KEY` environment variables. Validated once at start-up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use idm_domain::policy::{LockoutPolicy, PasswordPolicy};
use serde::Deserialize;

/// A secret value: usable, but never printed by `Debug` (so never logged by accident).
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// All settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// HTTP listener.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Bearer-token verification.
    pub auth: AuthSettings,
    /// X-Token issuing and checking.
    pub xtoken: XTokenSettings,
    /// Identifier and password policies.
    pub policy: PolicySettings,
    /// Credential secrets: hashing cost and encryption at rest.
    pub credentials: CredentialSettings,
    /// Default admin creation.
    pub bootstrap: BootstrapSettings,
    /// Logging.
    pub log: LogSettings,
    /// Custom properties.
    pub properties: PropertySettings,
    /// `[audit]`
    pub audit: AuditSettings,
}

/// `[properties]`
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PropertySettings {
    /// Base64 of 32 bytes: seals the values of encrypted properties and keys the hash that
    /// makes them unique and searchable. Unset: definitions with `encrypted: true` are refused
    /// (422 `errors.invalidConfig`) and stored encrypted values cannot be read or written.
    pub encryption_key: Option<Secret>,
}

/// `[server]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen host.
    pub host: String,
    /// Listen port; 0 picks a free one.
    pub port: u16,
    /// Larger request bodies get 413.
    pub body_limit_bytes: usize,
    /// Longer request targets (path and query, as sent) get 414.
    pub max_url_bytes: usize,
    /// More query parameters than this get 400.
    pub max_query_parameters: usize,
    /// Request headers larger than this in total (names, values and separators, as on the
    /// wire) get 431. Above 128 KiB actix-http itself refuses the head (431, no envelope).
    pub max_header_bytes: usize,
    /// Milliseconds a client gets to send the request head (actix's `client_request_timeout`)
    /// and, from the server's first read of it, the whole body; a body still incomplete then
    /// gets 408 and the connection is closed. 0 turns both deadlines off.
    pub client_request_timeout_ms: u64,
    /// Open connections the server accepts at most, over all workers; more wait in the
    /// listen backlog. Default: the file-descriptor limit (RLIMIT_NOFILE) less a reserve for
    /// the database pool, files and logs, so connections alone can never exhaust it.
    pub max_connections: Option<usize>,
    /// Seconds in-flight requests get after a stop signal.
    pub shutdown_timeout_seconds: u64,
    /// After a stop signal, how long the instance keeps serving (with `/ready` already
    /// answering 503) before it stops accepting connections: time for a load balancer's
    /// readiness probe to take it out of rotation. 0 = stop accepting at once.
    pub drain_delay_ms: u64,
    /// HTTP worker threads; default: one per core, two per core on PostgreSQL while point
    /// reads run on the workers (`app::default_workers`).
    pub workers: Option<usize>,
    /// Test hook: serve `GET /debug/slow?ms=N` (graceful-shutdown tests). Never enable in
    /// production; clients cannot turn it on.
    pub debug_slow_endpoint: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            host: "127.0.0.1".into(),
            port: 8080,
            body_limit_bytes: 1024 * 1024,
            max_url_bytes: 8192,
            max_query_parameters: 100,
            max_header_bytes: 32 * 1024,
            client_request_timeout_ms: 5000,
            max_connections: None,
            shutdown_timeout_seconds: 30,
            drain_delay_ms: 0,
            workers: None,
            debug_slow_endpoint: false,
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://...`.
    pub url: Secret,
    /// Pool size; default depends on the backend.
    pub pool_size: Option<u32>,
    /// How long a request waits for a pooled connection.
    pub checkout_timeout_ms: u64,
    /// SQLite busy timeout.
    pub sqlite_busy_timeout_ms: u64,
    /// PostgreSQL: point reads run on the async worker while the fastest recent one took
    /// less than this many microseconds (0 = always on the blocking pool).
    pub in_place_read_limit_us: u64,
    /// PostgreSQL: how many point reads may run on async workers at once (default: one per
    /// worker).
    pub in_place_reads_max: Option<u32>,
    /// PostgreSQL: look-ups of one statement (the ★ read's; a client's, a unit's, a user's,
    /// also before a user write) go over one pipelined connection per async worker; off:
    /// every read uses the libpq pool.
    pub pipelined_reads: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: Secret("sqlite://data/idm.db".into()),
            pool_size: None,
            checkout_timeout_ms: 5000,
            sqlite_busy_timeout_ms: 5000,
            in_place_read_limit_us: u64::try_from(
                idm_diesel::DEFAULT_IN_PLACE_READ_LIMIT.as_micros(),
            )
            .unwrap_or(u64::MAX),
            in_place_reads_max: None,
            pipelined_reads: true,
        }
    }
}

/// `[auth]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// HS256 secret (development).
    pub hs256_secret: Option<Secret>,
    /// PEM public keys (RS256/ES256).
    pub public_key_files: Vec<PathBuf>,
    /// Accepted algorithms; default derived from the keys.
    pub algorithms: Vec<String>,
    /// Required `iss`.
    pub issuer: Option<String>,
    /// Required `aud`.
    pub audience: Option<String>,
    /// Clock leeway, at most 30 s.
    pub leeway_seconds: u64,
    /// Milliseconds a resolved caller is reused for the same token (0 = off).
    pub caller_cache_ttl_ms: u64,
    /// JWKS document of RS256/ES256 verification keys, chosen by `kid`.
    pub jwks_url: Option<String>,
    /// OpenID Connect issuer: its discovery document names the JWKS, and `iss` must equal it.
    pub oidc_issuer: Option<String>,
    /// Seconds between scheduled JWKS refreshes.
    pub jwks_refresh_seconds: u64,
    /// Least seconds between two fetches caused by unknown `kid`s (rate limit).
    pub jwks_min_refetch_seconds: u64,
    /// Claim holding the caller's user extId.
    pub user_claim: String,
    /// Claim holding the caller's client extId.
    pub client_claim: String,
    /// Password checks per account per minute before 429 (0 = no limit).
    pub login_attempts_per_minute_per_account: u32,
    /// Password checks per source address per minute before 429 (0 = no limit).
    pub login_attempts_per_minute_per_source: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            hs256_secret: None,
            public_key_files: Vec::new(),
            algorithms: Vec::new(),
            issuer: None,
            audience: None,
            leeway_seconds: 5,
            caller_cache_ttl_ms: 1000,
            jwks_url: None,
            oidc_issuer: None,
            jwks_refresh_seconds: 300,
            jwks_min_refetch_seconds: 10,
            user_claim: "sub".into(),
            client_claim: "clientExtId".into(),
            login_attempts_per_minute_per_account: 10,
            login_attempts_per_minute_per_source: 100,
        }
    }
}

/// `[xtoken]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct XTokenSettings {
    /// HS256 secret of X-Tokens; generated at start if unset.
    pub secret: Option<Secret>,
    /// Lifetime in seconds.
    pub ttl_seconds: u64,
}

impl Default for XTokenSettings {
    fn default() -> Self {
        XTokenSettings {
            secret: None,
            ttl_seconds: 3600,
        }
    }
}

/// `[policy]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicySettings {
    /// Identifier naming policy regex.
    pub identifier_regex: String,
    /// Identifier maximum length.
    pub identifier_max_length: usize,
    /// Password policy.
    pub password: PasswordPolicy,
    /// User attributes a self-admin may change only with a valid X-Token (wire names).
    pub self_protected_attributes: Vec<String>,
    /// Login-failure locking of every credential type (`[policy.credential]`).
    pub credential: LockoutPolicy,
}

impl PolicySettings {
    /// The one password policy type, carrying the password rules and the lockout keys.
    pub fn password_policy(&self) -> PasswordPolicy {
        let mut p = self.password.clone();
        p.lockout = self.credential;
        p
    }
}

/// `[credentials]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialSettings {
    /// Base64 of 32 random bytes sealing OATH secrets at rest (`openssl rand -base64 32`).
    /// Unset: creating an OATH credential is refused (422 `errors.invalidConfig`), because a
    /// key generated at start would make every stored secret unreadable after a restart and
    /// on the other instances; `idm serve --ephemeral` generates one (its data dies with it).
    pub encryption_key: Option<Secret>,
    /// `issuer` shown by authenticator apps in `otpauth://` URIs (the OathPolicy's `issuer`);
    /// unset: URIs carry no issuer.
    pub oath_issuer: Option<String>,
    /// argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id iterations.
    pub argon2_iterations: u32,
    /// argon2id lanes.
    pub argon2_parallelism: u32,
}

impl CredentialSettings {
    /// The argon2id parameters.
    pub fn hashing(&self) -> idm_service::auth::HashingParams {
        idm_service::auth::HashingParams {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        }
    }
}

impl Default for CredentialSettings {
    fn default() -> Self {
        let d = idm_service::auth::HashingParams::default();
        CredentialSettings {
            encryption_key: None,
            oath_issuer: None,
            argon2_memory_kib: d.memory_kib,
            argon2_iterations: d.iterations,
            argon2_parallelism: d.parallelism,
        }
    }
}

impl Default for PolicySettings {
    fn default() -> Self {
        let p = idm_domain::policy::IdentifierPolicy::default();
        PolicySettings {
            identifier_regex: p.regex_source().to_owned(),
            identifier_max_length: p.max_length(),
            password: PasswordPolicy::default(),
            self_protected_attributes: idm_service::users::DEFAULT_SELF_PROTECTED
                .iter()
                .map(|a| (*a).to_owned())
                .collect(),
            credential: LockoutPolicy::default(),
        }
    }
}

/// `[bootstrap]`
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct BootstrapSettings {
    /// Default admin password on an empty database; generated and printed once if unset.
    pub admin_password: Option<Secret>,
}

/// `[audit]`: the hash-chained audit trail of core API writes (idm extension).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// Append a record to the client's chain in the transaction of every successful write of
    /// the core API. Off saves three statements per write (and the per-client ordering of
    /// writers at commit), at the price of no trail.
    pub enabled: bool,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { enabled: true }
    }
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// Default level filter; `RUST_LOG` overrides.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

/// A configuration problem, worded for the operator.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Settings {
    /// Loads the layers. `file` is `--config FILE`.
    ///
    /// # Errors
    /// A file that cannot be read or parsed, an unknown key (in a file or an `IDM__` variable),
    /// a value of the wrong type, or a value that fails validation.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Settings::load_from(Some(Path::new("config/default.toml")), file, None)
    }

    /// [`Settings::load`] with every input explicit: the defaults file (optional, may be
    /// missing), `--config FILE` (must exist) and the environment (`None` = the process
    /// environment; a map replaces it, for tests and for checking deployment files).
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_from(
        defaults: Option<&Path>,
        file: Option<&Path>,
        env: Option<HashMap<String, String>>,
    ) -> Result<Settings, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(d) = defaults {
            builder = builder.add_source(config::File::from(d.to_path_buf()).required(false));
        }
        if let Some(f) = file {
            builder = builder.add_source(config::File::from(f.to_path_buf()).required(true));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("IDM")
                .prefix_separator("__")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("auth.public_key_files")
                .with_list_parse_key("auth.algorithms")
                .try_parsing(true)
                .source(env),
        );
        let settings: Settings = builder
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(|e| ConfigError(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that parse but make no sense.
    ///
    /// # Errors
    /// The first offending key, named.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError(m));
        if self.server.body_limit_bytes == 0 {
            return bad("server.body_limit_bytes must be > 0".into());
        }
        for (key, value) in [
            ("server.max_url_bytes", self.server.max_url_bytes),
            (
                "server.max_query_parameters",
                self.server.max_query_parameters,
            ),
            ("server.max_header_bytes", self.server.max_header_bytes),
        ] {
            if value == 0 {
                return bad(format!("{key} must be > 0"));
            }
        }
        // actix-http refuses heads over 128 KiB itself, without the error envelope; a larger
        // setting would promise what is never enforced.
        if self.server.max_header_bytes > crate::limits::PARSER_HEAD_LIMIT
            || self.server.max_url_bytes > crate::limits::PARSER_HEAD_LIMIT
        {
            return bad(format!(
                "server.max_header_bytes and server.max_url_bytes must be at most {} (the HTTP parser's own limit)",
                crate::limits::PARSER_HEAD_LIMIT
            ));
        }
        if self.server.max_connections == Some(0) {
            return bad("server.max_connections must be > 0".into());
        }
        if self.database.url.0.trim().is_empty() {
            return bad("database.url must not be empty".into());
        }
        check_database_url(&self.database.url.0)?;
        if is_in_memory_sqlite(&self.database.url.0) {
            return bad(
                "database.url: an in-memory SQLite database (sqlite::memory:) is not \
                supported: every pooled connection would open its own empty database. For a \
                throw-away database use `idm serve --ephemeral` (a temp file, removed on exit)"
                    .into(),
            );
        }
        if self.database.pool_size == Some(0) {
            return bad("database.pool_size must be > 0".into());
        }
        if self.auth.leeway_seconds > 30 {
            return bad("auth.leeway_seconds must be at most 30".into());
        }
        if let Some(s) = &self.auth.hs256_secret {
            if s.0.len() < 16 {
                return bad("auth.hs256_secret must be at least 16 bytes".into());
            }
        }
        if let Some(s) = &self.xtoken.secret {
            if s.0.len() < 16 {
                return bad("xtoken.secret must be at least 16 bytes".into());
            }
        }
        if let Some(k) = &self.properties.encryption_key {
            if idm_service::sealing::Sealer::from_base64(&k.0).is_err() {
                return bad("properties.encryption_key must be base64 of 32 bytes".into());
            }
        }
        if let Err(e) = self.policy.credential.validate() {
            return bad(format!("policy.credential: {e}"));
        }
        let c = &self.credentials;
        if let Err(e) = c.hashing().validate() {
            return bad(format!("credentials.argon2_*: {e}"));
        }
        if self.xtoken.ttl_seconds == 0 {
            return bad("xtoken.ttl_seconds must be > 0".into());
        }
        for alg in &self.auth.algorithms {
            if !matches!(alg.as_str(), "HS256" | "RS256" | "ES256") {
                return bad(format!(
                    "auth.algorithms: unsupported algorithm {alg:?} (HS256, RS256, ES256)"
                ));
            }
        }
        for (key, url) in [
            ("auth.jwks_url", &self.auth.jwks_url),
            ("auth.oidc_issuer", &self.auth.oidc_issuer),
        ] {
            if let Some(u) = url {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return bad(format!(
                        "{key} must be an http:// or https:// URL, not {u:?}"
                    ));
                }
            }
        }
        if self.auth.jwks_url.is_some() && self.auth.oidc_issuer.is_some() {
            return bad(
                "set auth.jwks_url or auth.oidc_issuer, not both (the issuer names its JWKS)"
                    .into(),
            );
        }
        if self.auth.jwks_refresh_seconds == 0 {
            return bad("auth.jwks_refresh_seconds must be > 0".into());
        }
        for (key, claim) in [
            ("auth.user_claim", &self.auth.user_claim),
            ("auth.client_claim", &self.auth.client_claim),
        ] {
            if claim.trim().is_empty() {
                return bad(format!("{key} must not be empty"));
            }
        }
        if self.log.format != "text" && self.log.format != "json" {
            return bad(format!(
                "log.format must be \"text\" or \"json\", not {:?}",
                self.log.format
            ));
        }
        if let Some(key) = &self.credentials.encryption_key {
            idm_service::sealing::Sealer::from_base64(&key.0).map_err(|_| {
                ConfigError("credentials.encryption_key must be base64 of 32 bytes".into())
            })?;
        }
        idm_domain::policy::IdentifierPolicy::new(
            &self.policy.identifier_regex,
            self.policy.identifier_max_length,
        )
        .map_err(|e| ConfigError(format!("policy.identifier_regex: {e}")))?;
        self.policy
            .password
            .validate()
            .map_err(|e| ConfigError(format!("policy.password: {e}")))?;
        for a in &self.policy.self_protected_attributes {
            if !idm_service::users::SELF_PROTECTABLE.contains(&a.as_str()) {
                return bad(format!(
                    "policy.self_protected_attributes: unknown attribute {a:?} (one of {})",
                    idm_service::users::SELF_PROTECTABLE.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// Accepts `sqlite://PATH`, `sqlite:...`, `postgres://`, `postgresql://` and bare paths. Any
/// other scheme is refused: the store would otherwise take `postgress://host/db` for a file
/// name and quietly create a local SQLite database.
fn check_database_url(url: &str) -> Result<(), ConfigError> {
    let Some((scheme, _)) = url.split_once(':') else {
        return Ok(());
    };
    let looks_like_scheme = scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    // A one-letter "scheme" is a Windows drive (`C:\data\idm.db`); no `//` after a word is a
    // file name with a colon in it, unless the word is `sqlite` (`sqlite::memory:`).
    let is_url =
        looks_like_scheme && (url[scheme.len()..].starts_with("://") || scheme == "sqlite");
    if !is_url || matches!(scheme, "sqlite" | "postgres" | "postgresql") {
        return Ok(());
    }
    Err(ConfigError(format!(
        "database.url: unknown scheme {scheme:?} (use sqlite://PATH, a bare path, postgres:// or postgresql://)"
    )))
}

/// `sqlite::memory:`, `sqlite://:memory:`, `:memory:` and SQLite URI forms with
/// `mode=memory`.
fn is_in_memory_sqlite(url: &str) -> bool {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return false;
    }
    url.contains(":memory:") || url.contains("mode=memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_localhost_8080_with_sqlite_in_data() {
        let s = Settings::default();
        assert_eq!((s.server.host.as_str(), s.server.port), ("127.0.0.1", 8080));
        assert_eq!(s.database.url.0, "sqlite://data/idm.db");
        assert_eq!(s.server.body_limit_bytes, 1_048_576);
        s.validate().unwrap();
    }

    #[test]
    fn request_limits_default_to_the_documented_values_and_bad_ones_are_refused_by_name() {
        let s = Settings::default().server;
        assert_eq!(
            (
                s.max_url_bytes,
                s.max_query_parameters,
                s.max_header_bytes,
                s.client_request_timeout_ms,
                s.max_connections
            ),
            (8192, 100, 32768, 5000, None)
        );
        for (key, value) in [
            ("IDM__SERVER__MAX_URL_BYTES", "0"),
            ("IDM__SERVER__MAX_QUERY_PARAMETERS", "0"),
            ("IDM__SERVER__MAX_HEADER_BYTES", "0"),
            ("IDM__SERVER__MAX_HEADER_BYTES", "131073"),
            ("IDM__SERVER__MAX_URL_BYTES", "131073"),
            ("IDM__SERVER__MAX_CONNECTIONS", "0"),
        ] {
            let name = key.trim_start_matches("IDM__SERVER__").to_ascii_lowercase();
            let err = Settings::load_from(None, None, env(&[(key, value)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("server.{name}")),
                "{key}={value}: {err}"
            );
        }
        let s = Settings::load_from(
            None,
            None,
            env(&[
                ("IDM__SERVER__MAX_CONNECTIONS", "500"),
                ("IDM__SERVER__CLIENT_REQUEST_TIMEOUT_MS", "0"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.max_connections, Some(500));
        assert_eq!(s.server.client_request_timeout_ms, 0);
    }

    #[test]
    fn a_config_file_overrides_the_defaults() {
        let dir = std::env::temp_dir().join(format!("idm-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("idm.toml");
        std::fs::write(&file, "[server]\nport = 9999\n[database]\npool_size = 3\n").unwrap();
        let s = Settings::load_from(None, Some(&file), Some(HashMap::new())).unwrap();
        assert_eq!(s.server.port, 9999);
        assert_eq!(s.database.pool_size, Some(3));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_bad_value_is_rejected_with_a_message_naming_the_key() {
        let mut s = Settings::default();
        s.auth.leeway_seconds = 120;
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("auth.leeway_seconds"));
        let mut s = Settings::default();
        s.policy.identifier_regex = "([".into();
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("policy.identifier_regex"));
        let mut s = Settings::default();
        s.log.format = "xml".into();
        assert!(s.validate().unwrap_err().to_string().contains("log.format"));
    }

    #[test]
    fn a_credentials_encryption_key_that_is_not_32_bytes_of_base64_is_refused_by_name() {
        for bad in ["c2hvcnQ=", "not base64 at all"] {
            let env = HashMap::from([(
                "IDM__CREDENTIALS__ENCRYPTION_KEY".to_owned(),
                bad.to_owned(),
            )]);
            let e = Settings::load_from(None, None, Some(env))
                .unwrap_err()
                .to_string();
            assert!(e.contains("credentials.encryption_key"), "{bad}: {e}");
            assert!(!e.contains(bad), "the key must not be echoed: {e}");
        }
        let key = idm_service::sealing::Sealer::generate_key();
        let env = HashMap::from([("IDM__CREDENTIALS__ENCRYPTION_KEY".to_owned(), key.clone())]);
        let s = Settings::load_from(None, None, Some(env)).unwrap();
        assert!(
            !format!("{s:?}").contains(&key),
            "Debug must not print the key"
        );
        assert_eq!(s.credentials.encryption_key, Some(Secret(key)));
    }

    #[test]
    fn an_in_memory_sqlite_url_is_refused_with_a_message_pointing_to_ephemeral() {
        for url in ["sqlite::memory:", "sqlite://:memory:", ":memory:"] {
            let mut s = Settings::default();
            s.database.url = Secret(url.into());
            let e = s.validate().unwrap_err().to_string();
            assert!(
                e.contains("database.url") && e.contains("--ephemeral"),
                "{url}: {e}"
            );
        }
    }

    #[test]
    fn secrets_are_not_printed_by_debug() {
        let mut s = Settings::default();
        s.auth.hs256_secret = Some(Secret("super-secret-value-123".into()));
        assert!(!format!("{s:?}").contains("super-secret-value-123"));
    }

    #[test]
    fn a_malformed_config_file_is_an_error_not_a_panic() {
        let dir = std::env::temp_dir().join(format!("idm-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bad.toml");
        std::fs::write(&file, "[server]\nport = \"not a number\"\n").unwrap();
        assert!(Settings::load_from(None, Some(&file), Some(HashMap::new())).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Writes `text` to a fresh temp file; the directory is removed by the caller.
    fn temp_file(name: &str, text: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("idm-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        (dir, file)
    }

    fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn loading_config_default_toml_gives_exactly_the_built_in_defaults() {
        let defaults = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/default.toml");
        assert!(defaults.exists(), "{}", defaults.display());
        let loaded = Settings::load_from(Some(&defaults), None, env(&[])).unwrap();
        assert_eq!(loaded, Settings::default());
    }

    #[test]
    fn an_unknown_key_in_a_config_file_is_an_error_naming_the_key() {
        let (dir, file) = temp_file("typo.toml", "[server]\nprot = 9000\n");
        let err = Settings::load_from(None, Some(&file), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("prot"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_unknown_password_policy_key_is_an_error_naming_the_key() {
        let (dir, file) = temp_file("typo.toml", "[policy.password]\nmin_lenght = 12\n");
        let err = Settings::load_from(None, Some(&file), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("min_lenght"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_unknown_section_in_a_config_file_is_an_error_naming_it() {
        let (dir, file) = temp_file("typo.toml", "[databse]\nurl = \"sqlite://x.db\"\n");
        let err = Settings::load_from(None, Some(&file), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("databse"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_unknown_idm_environment_key_is_an_error_naming_the_key() {
        let err = Settings::load_from(None, None, env(&[("IDM__SERVER__PROT", "9000")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("prot"), "{err}");
    }

    #[test]
    fn known_idm_environment_keys_are_applied() {
        let s = Settings::load_from(
            None,
            None,
            env(&[
                ("IDM__SERVER__PORT", "9000"),
                ("IDM__AUTH__USER_CLAIM", "preferred_username"),
                ("IDM__AUTH__ALGORITHMS", "RS256,ES256"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9000);
        assert_eq!(s.auth.user_claim, "preferred_username");
        assert_eq!(s.auth.algorithms, vec!["RS256", "ES256"]);
    }

    #[test]
    fn a_database_url_with_an_unknown_scheme_is_an_error_naming_the_scheme() {
        for (url, scheme) in [
            ("postgress://u@h/db", "postgress"),
            ("mysql://u@h/db", "mysql"),
            ("sqlit://data/idm.db", "sqlit"),
        ] {
            let mut s = Settings::default();
            s.database.url = Secret(url.into());
            let err = s.validate().unwrap_err().to_string();
            assert!(
                err.contains("database.url") && err.contains(scheme),
                "{url}: {err}"
            );
        }
    }

    #[test]
    fn sqlite_urls_bare_paths_and_postgres_urls_are_accepted() {
        for url in [
            "sqlite://data/idm.db",
            "data/idm.db",
            "/var/lib/idm/idm.db",
            "C:\\idm\\idm.db",
            "postgres://u@h:5432/db",
            "postgresql://u@h/db?sslmode=require",
        ] {
            let mut s = Settings::default();
            s.database.url = Secret(url.into());
            s.validate().unwrap_or_else(|e| panic!("{url}: {e}"));
        }
    }
}
