//! Connections, the pool and migrations for both backends.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
#[cfg(feature = "postgres")]
use diesel::PgConnection;
use diesel::{Connection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use idm_ports::RepoError;

use crate::E;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// One connection to either backend; queries are written once against it.
#[cfg(feature = "postgres")]
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL.
    Postgresql(PgConnection),
    /// SQLite (bundled library).
    Sqlite(SqliteConnection),
}

/// One connection to the only backend of a build without the `postgres` feature (no libpq).
/// Diesel's `MultiConnection` derive copies no `#[cfg]` from variants, hence a second enum
/// rather than a gated variant; queries stay written once against `DbConnection`.
#[cfg(not(feature = "postgres"))]
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// SQLite (bundled library).
    Sqlite(SqliteConnection),
}

/// The database kind, chosen from the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://PATH`, `sqlite::memory:` or a bare path.
    Sqlite,
    /// `postgres://` or `postgresql://`.
    Postgres,
}

impl Backend {
    /// The backend a URL selects.
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// Default pool size: SQLite serialises writers anyway, PostgreSQL benefits from more.
    pub fn default_pool_size(self) -> u32 {
        match self {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        }
    }
}

/// See [`PoolSettings::in_place_read_limit`]: a database on the same host or rack answers a
/// point read well within it; across a network the reads stay on the blocking pool.
pub const DEFAULT_IN_PLACE_READ_LIMIT: Duration = Duration::from_micros(250);

/// How to open the pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Database URL.
    pub url: String,
    /// Maximum connections; `None` = backend default.
    pub pool_size: Option<u32>,
    /// How long a request waits for a free connection before the database counts as
    /// unavailable.
    pub checkout_timeout: Duration,
    /// SQLite `busy_timeout`.
    pub sqlite_busy_timeout: Duration,
    /// PostgreSQL: a point read runs on the calling async worker, without the two thread
    /// hand-offs of the blocking pool, while the fastest recent point read took less than
    /// this (the database is close). Zero: never.
    pub in_place_read_limit: Duration,
    /// PostgreSQL: how many reads may run in place at once, process-wide. Each async worker
    /// runs at most one anyway; fewer than the workers keeps some free should the database
    /// stop answering.
    pub in_place_reads_max: u32,
    /// PostgreSQL: point reads of one statement go over a pipelined asynchronous connection
    /// per async worker (`crate::pipeline`) instead of a pooled libpq connection.
    pub pipelined_reads: bool,
}

impl PoolSettings {
    /// Settings with defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        PoolSettings {
            url: url.into(),
            pool_size: None,
            checkout_timeout: crate::DEFAULT_CHECKOUT_TIMEOUT,
            sqlite_busy_timeout: Duration::from_secs(5),
            in_place_read_limit: DEFAULT_IN_PLACE_READ_LIMIT,
            in_place_reads_max: u32::MAX,
            pipelined_reads: true,
        }
    }
}

/// Pool gauges and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Configured maximum.
    pub max_size: u32,
    /// Open connections.
    pub connections: u32,
    /// Of which idle.
    pub idle: u32,
    /// Successful checkouts since start.
    pub checkouts: u64,
    /// Total time requests waited for a connection, in microseconds.
    pub wait_micros_total: u64,
    /// Checkouts that gave up after the checkout timeout.
    pub timeouts: u64,
    /// Statements started on pooled connections (Diesel `StartQuery` events); the SQLite
    /// pragmas run when a connection is opened are not counted.
    pub statements_total: u64,
    /// Statements prepared and put into a connection's prepared-statement cache (Diesel
    /// `CacheQuery` events). Flat once the cache is warm; growth on a warm instance means a
    /// query is being re-prepared.
    pub prepares_total: u64,
    /// SQLite: transactions that committed two or more queued writes together (a write alone
    /// in the queue commits on its own and is not counted).
    pub group_commits_total: u64,
    /// SQLite: the writes those transactions committed.
    pub group_committed_writes_total: u64,
    /// PostgreSQL: audit records chained after their write committed.
    pub audit_sealed_records_total: u64,
    /// Statements run to chain them (not in `statements_total` nor, when prepared, in
    /// `prepares_total`: those stay the requests' own).
    pub audit_seal_statements_total: u64,
    /// PostgreSQL: point reads run on the calling thread instead of the blocking pool.
    pub reads_in_place_total: u64,
    /// PostgreSQL: point reads answered over a worker's pipelined connection.
    pub reads_pipelined_total: u64,
    /// PostgreSQL: the fastest of the last window of point reads, in microseconds (they run
    /// in place while it stays below `database.in_place_read_limit_us`); `None` before the
    /// first window.
    pub point_read_floor_micros: Option<u64>,
}

/// Counters fed by r2d2's event hooks: how long requests wait for a connection is the first
/// sign of an undersized pool or a struggling database.
#[derive(Debug, Default)]
pub(crate) struct PoolCounters {
    pub(crate) checkouts: std::sync::atomic::AtomicU64,
    pub(crate) wait_micros: std::sync::atomic::AtomicU64,
    pub(crate) timeouts: std::sync::atomic::AtomicU64,
    pub(crate) statements: std::sync::atomic::AtomicU64,
    pub(crate) prepares: std::sync::atomic::AtomicU64,
    pub(crate) group_commits: std::sync::atomic::AtomicU64,
    pub(crate) group_committed_writes: std::sync::atomic::AtomicU64,
    pub(crate) sealed_records: std::sync::atomic::AtomicU64,
    pub(crate) seal_statements: std::sync::atomic::AtomicU64,
    pub(crate) reads_in_place: std::sync::atomic::AtomicU64,
    pub(crate) reads_pipelined: std::sync::atomic::AtomicU64,
}

impl PoolCounters {
    /// Counts one shared SQLite transaction that committed `writes` writes.
    pub(crate) fn note_batch(&self, writes: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.group_commits.fetch_add(1, Relaxed);
        self.group_committed_writes.fetch_add(writes, Relaxed);
    }
}

/// Counts what every pooled connection executes, so a request's cost in statements (and any
/// re-preparing) is visible on `/metrics` and measurable in tests.
///
/// Diesel reports `CacheQuery` only when a statement is prepared *into* the cache. A cache hit
/// and a statement that cannot be cached (`sql_query`, `IN` lists of varying length on SQLite)
/// look the same from here: a `StartQuery` with no `CacheQuery`. `RUST_LOG=idm::sql=trace`
/// logs both events with their SQL to tell them apart (the SQL is only rendered then).
struct StatementCounter {
    counters: std::sync::Arc<PoolCounters>,
    /// SQL this connection has prepared into its cache; only filled while `idm::sql` tracing
    /// is on, to log whether each statement is served from the cache.
    traced_cache: std::collections::HashSet<String>,
}

impl diesel::connection::Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        use diesel::connection::InstrumentationEvent as Ev;
        use std::sync::atomic::Ordering::Relaxed;
        match event {
            Ev::StartQuery { query, .. } => {
                if crate::audit::sealing() {
                    self.counters.seal_statements.fetch_add(1, Relaxed);
                } else {
                    self.counters.statements.fetch_add(1, Relaxed);
                }
                if tracing::enabled!(target: "idm::sql", tracing::Level::TRACE) {
                    let text = query.to_string();
                    let sql = text.split(" -- binds:").next().unwrap_or_default();
                    // Before its first run a cacheable statement is not in the set yet; after
                    // that `cached = false` means it is prepared again on every run.
                    let cached = self.traced_cache.contains(sql);
                    tracing::trace!(target: "idm::sql", cached, sql = %text, "statement");
                }
            }
            Ev::CacheQuery { sql, .. } => {
                // The sealer's prepares are its own too: `prepares_total` tells about requests.
                if !crate::audit::sealing() {
                    self.counters.prepares.fetch_add(1, Relaxed);
                }
                if tracing::enabled!(target: "idm::sql", tracing::Level::TRACE) {
                    self.traced_cache.insert(sql.to_owned());
                    tracing::trace!(target: "idm::sql", sql, "prepared into the statement cache");
                }
            }
            _ => {}
        }
    }
}

/// The instrumentation every connection of a store counts its statements with (the pipelined
/// reads' connections too, so the counts stay per request whichever path a read takes).
pub(crate) fn statement_counter(
    counters: std::sync::Arc<PoolCounters>,
) -> impl diesel::connection::Instrumentation {
    StatementCounter {
        counters,
        traced_cache: std::collections::HashSet::new(),
    }
}

#[derive(Debug)]
struct PoolEvents(std::sync::Arc<PoolCounters>);

impl r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: r2d2::event::CheckoutEvent) {
        use std::sync::atomic::Ordering::Relaxed;
        self.0.checkouts.fetch_add(1, Relaxed);
        let micros = u64::try_from(event.duration().as_micros()).unwrap_or(u64::MAX);
        self.0.wait_micros.fetch_add(micros, Relaxed);
    }

    fn handle_timeout(&self, _event: r2d2::event::TimeoutEvent) {
        self.0
            .timeouts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

pub(crate) type Pool = r2d2::Pool<Manager>;

/// Opens connections by URL scheme and applies the SQLite pragmas on each new connection.
#[derive(Debug)]
pub(crate) struct Manager {
    backend: Backend,
    target: String,
    busy_timeout_ms: u128,
    counters: std::sync::Arc<PoolCounters>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ManagerError {
    #[error("{0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("{0}")]
    Query(#[from] diesel::result::Error),
}

/// A pooled connection plus what the adapter learned about its health while using it.
///
/// Instead of a `SELECT 1` round trip on every checkout (a measurable share of a short
/// request), a connection is dropped from the pool as soon as a query on it fails the way a
/// dead connection fails.
pub(crate) struct Pooled {
    pub(crate) conn: DbConnection,
    pub(crate) broken: bool,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = ManagerError;

    fn connect(&self) -> Result<Pooled, ManagerError> {
        let mut conn = self.connect_raw()?;
        conn.set_instrumentation(statement_counter(self.counters.clone()));
        Ok(Pooled {
            conn,
            broken: false,
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), ManagerError> {
        pooled.conn.batch_execute("SELECT 1")?;
        Ok(())
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.broken
    }
}

impl Manager {
    fn connect_raw(&self) -> Result<DbConnection, ManagerError> {
        match self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres => Ok(DbConnection::Postgresql(PgConnection::establish(
                &self.target,
            )?)),
            // `build` refuses PostgreSQL URLs in such a build, so no manager is ever made.
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => Err(ManagerError::Connection(
                diesel::ConnectionError::BadConnection(NO_POSTGRES.into()),
            )),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target)?;
                // busy_timeout first, so everything after it waits for locks instead of
                // failing; foreign keys are off by default in SQLite and the cascades depend
                // on them. WAL is a property of the file, set once when the pool is built.
                // Statement journals (a multi-row UPDATE or DELETE inside a transaction) go to
                // memory: on disk each was a temp file created and unlinked, five system
                // calls per such statement. Pages are read through a memory map
                // ([`SQLITE_MMAP_BYTES`]). The writer's commits leave checkpoints to the
                // checkpointer thread (`commit::checkpoint`) up to a fallback size.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
                     PRAGMA mmap_size = {SQLITE_MMAP_BYTES}; \
                     PRAGMA wal_autocheckpoint = {};",
                    self.busy_timeout_ms,
                    crate::commit::SQLITE_AUTOCHECKPOINT_PAGES
                ))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// How much of an SQLite file each connection reads through a memory map instead of `read`
/// calls into its own page cache (2 MB by default). With 100,000 users the ★ read's pages no
/// longer fit that cache, and every read asked the kernel for its index and table pages, a
/// copy each. Measured (docs/performance.md, twelfth session): ★ read at 100,000 users +25 %,
/// its p50 11 % / 3 % above the 1,000-user one instead of 27 % / 17 %; the SQLite lifecycle
/// −6 %, which an identity server's read-heavy load pays gladly. The map shares the kernel's
/// page cache among the connections and costs address space, not memory; beyond it SQLite
/// reads as before. Writes still go through the WAL.
pub const SQLITE_MMAP_BYTES: u64 = 1 << 30;

/// Why a PostgreSQL URL fails in a build without the `postgres` feature.
#[cfg(not(feature = "postgres"))]
const NO_POSTGRES: &str = "database.url selects PostgreSQL, but this build of idm has no \
                           PostgreSQL support (cargo feature `postgres` of idm-diesel is off)";

/// The SQLite file path of a URL, without the scheme.
pub(crate) fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

pub(crate) fn build(
    settings: &PoolSettings,
    counters: std::sync::Arc<PoolCounters>,
) -> Result<(Pool, Backend), RepoError> {
    let backend = Backend::from_url(&settings.url);
    let target = match backend {
        #[cfg(feature = "postgres")]
        Backend::Postgres => settings.url.clone(),
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => return Err(RepoError::Other(NO_POSTGRES.into())),
        Backend::Sqlite => {
            let path = sqlite_path(&settings.url);
            if path.is_empty() {
                return Err(RepoError::Other("empty SQLite path in database.url".into()));
            }
            if path != ":memory:" {
                if let Some(dir) = PathBuf::from(path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            RepoError::Other(format!(
                                "cannot create database directory {}: {e}",
                                dir.display()
                            ))
                        })?;
                    }
                }
            }
            if path != ":memory:" {
                // WAL lets readers run beside the one writer. Switching needs a moment of
                // exclusive access, so it is done once here rather than by every pooled
                // connection racing the others.
                let mut conn = SqliteConnection::establish(path)
                    .map_err(|e| RepoError::Unavailable(format!("cannot open SQLite file: {e}")))?;
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL;",
                    settings.sqlite_busy_timeout.as_millis()
                ))
                .map_err(|e| RepoError::Unavailable(format!("cannot enable WAL: {e}")))?;
            }
            path.to_string()
        }
    };
    let manager = Manager {
        backend,
        target,
        busy_timeout_ms: settings.sqlite_busy_timeout.as_millis(),
        counters: counters.clone(),
    };
    let size = settings
        .pool_size
        .unwrap_or_else(|| backend.default_pool_size())
        .max(1);
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(backend.min_idle()))
        // Health is tracked by `Pooled::broken`; see there.
        .test_on_check_out(false)
        .event_handler(Box::new(PoolEvents(counters)))
        .connection_timeout(settings.checkout_timeout)
        .build_unchecked(manager);
    Ok((pool, backend))
}

impl Backend {
    /// Connections r2d2 keeps idle, opening them on its own worker thread.
    ///
    /// SQLite: one, so a point read finds an idle connection to run on in place
    /// ([`crate::Store::lookup`]); without the spare, more reads fell back to the blocking
    /// pool (one A/B: ★ read 25–26k vs 29–31k req/s, docs/performance.md). PostgreSQL: none.
    /// A process that exits
    /// while libpq is connecting on r2d2's thread crashes in OpenSSL's exit handler
    /// (diesel-rs/diesel#3441; seen here as a SIGSEGV after a test binary's last test), so
    /// PostgreSQL connections open only on a checkout that waits for them.
    pub(crate) fn min_idle(self) -> u32 {
        match self {
            Backend::Sqlite => 1,
            Backend::Postgres => 0,
        }
    }
}

/// PostgreSQL's wording of SQLSTATE 40P01, which Diesel does not classify.
pub(crate) fn is_deadlock(message: &str) -> bool {
    message.contains("deadlock detected")
}

/// How often a transaction aborted for lock contention is attempted in all.
pub(crate) const LOCK_ATTEMPTS: u32 = 5;

/// Runs `attempt` until it succeeds, fails otherwise than with
/// [`RepoError::LockFailure`], or has run [`LOCK_ATTEMPTS`] times; the last failure is
/// returned (and answers 409 `errors.pessimisticLockingFailure`, never 500). The pause grows
/// with each attempt and is jittered so that two losers of the same deadlock do not collide
/// again in lock step.
pub(crate) fn retrying<T>(mut attempt: impl FnMut() -> crate::R<T>) -> crate::R<T> {
    let mut tries = 1;
    loop {
        match attempt() {
            Err(E(RepoError::LockFailure(cause))) if tries < LOCK_ATTEMPTS => {
                tracing::debug!(%cause, tries, "transaction aborted by lock contention; retrying");
                let jitter = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::from(d.subsec_nanos() % 8));
                std::thread::sleep(Duration::from_millis(u64::from(tries) * 5 + jitter));
                tries += 1;
            }
            other => return other,
        }
    }
}

pub(crate) fn has_pending_migrations(conn: &mut DbConnection) -> Result<bool, RepoError> {
    let pending = match conn {
        #[cfg(feature = "postgres")]
        DbConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    };
    pending.map_err(|e| RepoError::Other(format!("cannot read the migration state: {e}")))
}

/// How long an instance waits for another one's migrations and bootstrap on SQLite.
const SQLITE_STARTUP_WAIT_MS: u32 = 300_000;

/// Opens a dedicated connection and waits for the start-up lock on it; `None` for an
/// in-memory SQLite database, which no other process can open.
pub(crate) fn take_startup_lock(
    backend: Backend,
    url: &str,
) -> Result<Option<DbConnection>, RepoError> {
    let failed = |e: &dyn std::fmt::Display| {
        RepoError::Unavailable(format!("cannot take the start-up lock: {e}"))
    };
    match backend {
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let mut conn = PgConnection::establish(url).map_err(|e| failed(&e))?;
            // Keyed by the schema idm works in: instances on one schema take turns, idm
            // databases side by side in other schemas (tests, tenants) do not wait for each
            // other.
            conn.batch_execute(
                "SELECT pg_advisory_lock(hashtext('idm.startup'), hashtext(current_schema()))",
            )
            .map_err(|e| failed(&e))?;
            Ok(Some(DbConnection::Postgresql(conn)))
        }
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => Err(RepoError::Other(NO_POSTGRES.into())),
        Backend::Sqlite => {
            let path = sqlite_path(url);
            if path == ":memory:" {
                return Ok(None);
            }
            let mut conn = SqliteConnection::establish(&format!("{path}.startup-lock"))
                .map_err(|e| failed(&e))?;
            // The transaction stays open until the connection is dropped with the guard.
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {SQLITE_STARTUP_WAIT_MS}; BEGIN EXCLUSIVE;"
            ))
            .map_err(|e| failed(&e))?;
            Ok(Some(DbConnection::Sqlite(conn)))
        }
    }
}

pub(crate) fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, RepoError> {
    let applied = match conn {
        #[cfg(feature = "postgres")]
        DbConnection::Postgresql(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect()),
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect()),
    };
    applied.map_err(|e| RepoError::Other(format!("migration failed: {e}")))
}

impl From<E> for RepoError {
    fn from(E(e): E) -> Self {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(dir: &str) -> Vec<String> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/");
        let mut names: Vec<String> = std::fs::read_dir(format!("{root}{dir}"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn both_migration_trees_have_the_same_version_names() {
        let sqlite = versions("sqlite");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, versions("postgres"));
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn a_postgres_url_is_refused_at_start_without_the_postgres_feature() {
        match build(&PoolSettings::new("postgres://u@h/db"), Default::default()) {
            Err(RepoError::Other(m)) => assert!(m.contains("feature `postgres`"), "{m}"),
            Err(e) => panic!("unexpected error {e:?}"),
            Ok(_) => panic!("a PostgreSQL pool was built without PostgreSQL support"),
        }
    }

    #[test]
    fn backend_is_chosen_from_the_url_scheme() {
        assert_eq!(Backend::from_url("postgres://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::from_url("postgresql://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::from_url("sqlite://data/idm.db"), Backend::Sqlite);
        assert_eq!(Backend::from_url("data/idm.db"), Backend::Sqlite);
        assert_eq!(sqlite_path("sqlite://data/idm.db"), "data/idm.db");
    }
}
