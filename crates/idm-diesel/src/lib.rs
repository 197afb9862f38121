//! # idm-diesel
//!
//! The persistence adapter: Diesel 2 over SQLite (bundled) and PostgreSQL behind one
//! `#[derive(MultiConnection)]`, an r2d2 pool, embedded migrations, and the implementations of
//! every `idm-ports` trait. Layer rule: no web framework here, and nothing Diesel leaves this
//! crate — driver errors become [`RepoError`] at the seam.
//!
//! Diesel is synchronous, so every port call is one `spawn_blocking` that checks a connection
//! out of the pool ([`Store::run`]). The one exception is a point read on SQLite
//! ([`Store::lookup`]), which runs on the async worker itself when a connection is idle: it is
//! CPU work in this process that never waits for a lock, cheaper than the hand-off.

/// Runs `$body` with `$c` bound to the backend's own connection instead of the
/// `MultiConnection`: the body is written once and compiled once per backend.
///
/// Why: Diesel's derived `MultiConnection` renders a query's whole SQL text twice on every run
/// (for the statement-cache check and again for the binds), even when the prepared statement
/// is cached — 19 % of the server's CPU under the ★ read (docs/performance.md). The native
/// connections key their cache by the query's static type and render nothing on a hit, and
/// they cache `… RETURNING` statements, which through the `MultiConnection` were prepared
/// afresh every time. Used on the hot statements (the locate shapes, the versioned update,
/// the user insert, the audit trail); elsewhere the multi-backend query is simpler to write
/// and fast enough.
macro_rules! native {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            #[cfg(feature = "postgres")]
            $crate::DbConnection::Postgresql($c) => $body,
            $crate::DbConnection::Sqlite($c) => $body,
        }
    };
}

mod applications;
pub mod audit;
mod backup;
mod cached;
mod caller;
mod clients;
mod commit;
mod credentials;
mod devices;
mod eroles;
mod in_place;
mod listing;
mod locate;
mod mfa;
mod personal_questions;
#[cfg(feature = "postgres")]
mod pipeline;
mod policies;
mod pool;
mod profiles;
mod properties;
mod revocation;
mod rows;
pub mod schema;
pub mod seed;
mod terms;
mod units;
mod users;
mod versioned;

use std::time::Duration;

use idm_ports::RepoError;

pub use pool::{Backend, DbConnection, PoolSettings, PoolStats, DEFAULT_IN_PLACE_READ_LIMIT};
pub use revocation::BusState;

/// Error type inside adapter closures: lets `?` turn Diesel errors into [`RepoError`] and lets
/// a closure abort a transaction with a port-level error (e.g. a stale version).
#[derive(Debug)]
pub(crate) struct E(pub RepoError);

impl From<diesel::result::Error> for E {
    fn from(e: diesel::result::Error) -> Self {
        E(translate(e))
    }
}

impl From<RepoError> for E {
    fn from(e: RepoError) -> Self {
        E(e)
    }
}

pub(crate) type R<T> = Result<T, E>;

/// Translates a Diesel error into the port error. Unique and foreign-key violations carry the
/// constraint text of either backend (`users.login_id` on SQLite, `users_client_id_login_id_key`
/// on PostgreSQL) so services can tell which uniqueness failed.
pub(crate) fn translate(e: diesel::result::Error) -> RepoError {
    use diesel::result::{DatabaseErrorKind as K, Error};
    match e {
        Error::NotFound => RepoError::NotFound,
        Error::DatabaseError(kind, info) => {
            let text = format!(
                "{} {}",
                info.constraint_name().unwrap_or_default(),
                info.message()
            );
            match kind {
                K::UniqueViolation => RepoError::Conflict {
                    constraint: format!("unique:{text}"),
                },
                K::ForeignKeyViolation => RepoError::Conflict {
                    constraint: format!("foreign_key:{text}"),
                },
                K::ClosedConnection | K::ReadOnlyTransaction => RepoError::Unavailable(text),
                K::SerializationFailure => RepoError::LockFailure(text),
                _ if pool::is_deadlock(info.message()) => RepoError::LockFailure(text),
                _ if is_busy(info.message()) => RepoError::Unavailable(text),
                _ => RepoError::Other(format!("{kind:?}: {text}")),
            }
        }
        Error::RollbackTransaction => RepoError::Other("transaction rolled back".into()),
        other => {
            let text = other.to_string();
            if is_busy(&text) {
                RepoError::Unavailable(text)
            } else {
                RepoError::Other(text)
            }
        }
    }
}

/// Runs `f` on the checked-out `conn`; a connection that failed like a dead one goes back to
/// the pool marked broken, so the pool drops it instead of handing it out again.
fn use_connection<T>(
    mut conn: r2d2::PooledConnection<pool::Manager>,
    f: impl FnOnce(&mut DbConnection) -> R<T>,
) -> Result<T, RepoError> {
    let result = f(&mut conn.conn).map_err(|E(e)| e);
    if matches!(result, Err(RepoError::Unavailable(_))) {
        conn.broken = true;
    }
    result
}

/// SQLite reports lock contention past `busy_timeout` as an ordinary error; it means "try
/// later", not "your data is wrong".
fn is_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

/// The adapter: a pool plus the backend it talks to. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: pool::Pool,
    backend: Backend,
    /// For connections outside the pool (the start-up lock).
    url: String,
    counters: std::sync::Arc<pool::PoolCounters>,
    bus: std::sync::Arc<revocation::Bus>,
    /// SQLite only: this process's one writer, which group-commits (see [`commit`]).
    committer: Option<commit::Committer>,
    /// One permit per pooled connection: a task takes one before it goes to the blocking pool.
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    /// How long a task waits for a permit (the pool's checkout timeout).
    checkout_timeout: Duration,
    /// PostgreSQL: the chains whose records wait to be chained ([`audit::Append::Pending`]).
    sealer: std::sync::Arc<audit::Sealer>,
    /// PostgreSQL: whether a short read may run on the calling thread ([`in_place`]).
    in_place: std::sync::Arc<in_place::InPlace>,
    /// PostgreSQL: the workers' pipelined connections for point reads ([`pipeline`]).
    #[cfg(feature = "postgres")]
    pipeline: Option<std::sync::Arc<pipeline::Pipeline>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Opens a pool for `settings.url` (`sqlite://PATH`, a bare path, or `postgres://...`).
    /// Connections are made lazily, so this succeeds even while the database is down.
    ///
    /// # Errors
    /// An unusable URL or SQLite directory.
    pub fn open(settings: &PoolSettings) -> Result<Self, RepoError> {
        let counters = std::sync::Arc::new(pool::PoolCounters::default());
        let (pool, backend) = pool::build(settings, counters.clone())?;
        let committer = match backend {
            Backend::Sqlite => Some(commit::Committer::start(
                pool.clone(),
                counters.clone(),
                settings.sqlite_busy_timeout,
                pool::sqlite_path(&settings.url).to_owned(),
            )?),
            Backend::Postgres => None,
        };
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(pool.max_size() as usize));
        #[cfg(feature = "postgres")]
        let pipeline = if backend == Backend::Postgres && settings.pipelined_reads {
            pipeline::Pipeline::for_url(&settings.url, counters.clone(), settings.checkout_timeout)
                .map(std::sync::Arc::new)
        } else {
            None
        };
        Ok(Store {
            pool,
            backend,
            url: settings.url.clone(),
            counters,
            bus: std::sync::Arc::new(revocation::Bus::new(&settings.url, backend)),
            committer,
            permits,
            checkout_timeout: settings.checkout_timeout,
            sealer: std::sync::Arc::default(),
            in_place: std::sync::Arc::new(in_place::InPlace::new(
                settings.in_place_read_limit,
                settings.in_place_reads_max,
            )),
            #[cfg(feature = "postgres")]
            pipeline,
        })
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Pool gauges for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        let state = self.pool.state();
        let read = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        PoolStats {
            max_size: self.pool.max_size(),
            connections: state.connections,
            idle: state.idle_connections,
            checkouts: read(&self.counters.checkouts),
            wait_micros_total: read(&self.counters.wait_micros),
            timeouts: read(&self.counters.timeouts),
            statements_total: read(&self.counters.statements),
            prepares_total: read(&self.counters.prepares),
            group_commits_total: read(&self.counters.group_commits),
            group_committed_writes_total: read(&self.counters.group_committed_writes),
            audit_sealed_records_total: read(&self.counters.sealed_records),
            audit_seal_statements_total: read(&self.counters.seal_statements),
            reads_in_place_total: read(&self.counters.reads_in_place),
            reads_pipelined_total: read(&self.counters.reads_pipelined),
            point_read_floor_micros: self
                .in_place
                .floor()
                .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        }
    }

    /// Applies the pending migrations of this backend's tree; returns the versions applied.
    ///
    /// # Errors
    /// `Unavailable` if the database cannot be reached, `Other` if a migration fails.
    pub async fn migrate(&self) -> Result<Vec<String>, RepoError> {
        self.run(|conn| pool::run_migrations(conn).map_err(E)).await
    }

    /// Whether migrations of this build are still to be applied (`serve --no-migrate`
    /// refuses to serve a schema older than the code).
    ///
    /// # Errors
    /// `Unavailable` if the database cannot be reached.
    pub async fn has_pending_migrations(&self) -> Result<bool, RepoError> {
        self.run(|conn| pool::has_pending_migrations(conn).map_err(E))
            .await
    }

    /// Takes the start-up lock: on PostgreSQL a session advisory lock on a connection of its
    /// own (outside the pool), held until the returned guard drops, so instances starting at
    /// once migrate and bootstrap one after the other and the later ones find the work done.
    /// A crashed holder releases it with its session. On SQLite, whose database lock would
    /// also shut out the pool of the holder itself, an exclusive transaction on a small
    /// companion file (`<database>.startup-lock`) plays the advisory lock.
    ///
    /// # Errors
    /// `Unavailable` if the database (or the SQLite lock file) cannot be reached.
    pub async fn startup_lock(&self) -> Result<StartupLock, RepoError> {
        let (backend, url) = (self.backend, self.url.clone());
        tokio::task::spawn_blocking(move || pool::take_startup_lock(backend, &url))
            .await
            .map_err(|e| RepoError::Other(format!("blocking task failed: {e}")))?
            .map(StartupLock)
    }

    /// True when the database answers a trivial query (readiness).
    pub async fn ping(&self) -> bool {
        self.run(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
        .is_ok()
    }

    /// Runs `f` with a pooled connection on the blocking thread pool. Everything Diesel does
    /// goes through here, [`Store::run_write`] or [`Store::lookup`].
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        self.on_blocking_pool(f).await
    }

    /// Like [`Store::run`] for a write: on SQLite it goes to this process's one writer, which
    /// may commit it together with the writes queued beside it ([`commit`]).
    pub(crate) async fn run_write<T, F>(&self, f: F) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        self.write_on_writer(true, f).await
    }

    /// [`Store::run_write`] for a write that commits in steps of its own (the seed): on
    /// SQLite it runs alone on the writer, never inside a shared transaction.
    pub(crate) async fn run_write_alone<T, F>(&self, f: F) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        self.write_on_writer(false, f).await
    }

    async fn write_on_writer<T, F>(&self, shareable: bool, f: F) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        match &self.committer {
            Some(committer) => committer.submit(shareable, f).await,
            None => self.on_blocking_pool(f).await,
        }
    }

    /// Waits, in arrival order, for one of the pool's permits, then runs `f` on the blocking
    /// pool with a connection.
    ///
    /// Why the permits: with more requests than connections, the surplus used to wait inside
    /// the pool's checkout, each on a blocking thread of its own, and the pool wakes waiters in
    /// no particular order — under saturation some waited hundreds of milliseconds while later
    /// ones went first (PostgreSQL ★ read p99 0.2–0.8 s at full load). A fair semaphore with
    /// one permit per connection queues them without a thread each and serves them in order.
    async fn on_blocking_pool<T, F>(&self, f: F) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        let permit =
            tokio::time::timeout(self.checkout_timeout, self.permits.clone().acquire_owned())
                .await
                .map_err(|_| {
                    RepoError::Unavailable(
                        "connection pool: timed out waiting for a connection".into(),
                    )
                })?
                .map_err(|e| RepoError::Other(format!("connection pool: {e}")))?;
        let pool = self.pool.clone();
        // The blocking thread has no span of its own; entering the caller's keeps the request
        // id on everything logged below (driver errors, slow-statement traces).
        let span = tracing::Span::current();
        let joined = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let _permit = permit;
            let conn = pool
                .get()
                .map_err(|e| RepoError::Unavailable(format!("connection pool: {e}")))?;
            use_connection(conn, f)
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(join) => Err(RepoError::Other(format!("blocking task failed: {join}"))),
        }
    }

    /// Runs the short read `f` (a look-up by key, a few rows) on the calling thread where
    /// that is cheaper than the blocking pool, else like [`Store::run`].
    ///
    /// Why: handing a point read to the blocking pool and back (two thread wake-ups) costs
    /// more than the read itself. On SQLite a point read is a few microseconds of CPU in this
    /// process, and in WAL mode a reader never waits for a lock, so it runs in place whenever
    /// a pooled connection is idle (a quarter of the server's CPU under the ★ read went to the
    /// hand-offs, docs/performance.md). On PostgreSQL the read waits for the database, which
    /// stalls the worker's other requests meanwhile; [`in_place`] lets it do so only while
    /// the database is measured close. Lists and anything that writes or may wait
    /// for a lock use [`Store::run`].
    pub(crate) async fn lookup<T, F>(&self, f: F) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        match self.backend {
            Backend::Sqlite => {
                if let Some(conn) = self.pool.try_get() {
                    return use_connection(conn, f);
                }
                self.run(f).await
            }
            Backend::Postgres => {
                if let Some(_slot) = self.in_place.try_enter() {
                    if let Some(conn) = self.pool.try_get() {
                        self.counters
                            .reads_in_place
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return self.in_place.time(|| use_connection(conn, f));
                    }
                }
                // Timed on the blocking pool too: that is how a recovered database is noticed.
                let in_place = self.in_place.clone();
                self.run(move |conn| in_place.time(|| f(conn))).await
            }
        }
    }

    /// Runs the write `f` inside one transaction on a pooled connection; under a request's
    /// audit draft ([`audit::scope`]) the transaction also appends the audit record.
    pub(crate) async fn tx<T, F>(&self, f: F) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        self.audited_tx(audit::current(), f).await
    }

    /// A write of one statement: no transaction of its own (the statement is atomic), unless
    /// the request is audited — then the record joins it in one transaction.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        match audit::current() {
            None => self.run_write(f).await,
            draft => self.audited_tx(draft, f).await,
        }
    }

    /// A write of exactly one statement, run through [`audit::RecordedWrite`]: on PostgreSQL
    /// under an audit draft the statement carries its own record ([`audit::WithRecord`]), so
    /// it runs without `BEGIN`/`COMMIT` — one round trip where [`Store::write`] makes four.
    /// Elsewhere it is [`Store::write`].
    pub(crate) async fn write_one<T, F>(&self, f: F) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.append() != audit::Append::Pending {
            return self.write(f).await;
        }
        // One statement either way: without a record to carry it needs no transaction.
        let Some(draft) = audit::current() else {
            return self.run_write(f).await;
        };
        let chain = draft.chain().map(str::to_owned);
        let out = self
            .run_write(move |conn| audit::in_statement(conn, &draft, f))
            .await?;
        self.seal_soon(audit::Append::Pending, chain);
        Ok(out)
    }

    /// One transaction running `f` and then, with a draft, adding its record.
    async fn audited_tx<T, F>(
        &self,
        draft: Option<idm_ports::audit::AuditDraft>,
        f: F,
    ) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        let chain = draft.as_ref().and_then(|d| d.chain().map(str::to_owned));
        let append = self.append();
        let out = self
            .run_write(move |conn| {
                use diesel::Connection;
                conn.transaction(|conn| audit::recorded(conn, draft.as_ref(), append, f))
            })
            .await?;
        self.seal_soon(append, chain);
        Ok(out)
    }

    /// How this backend adds a write's audit record ([`audit::Append`]).
    fn append(&self) -> audit::Append {
        match self.backend {
            Backend::Sqlite => audit::Append::InTransaction,
            Backend::Postgres => audit::Append::Pending,
        }
    }

    /// After a write that left a pending record in `chain`: makes sure a task will chain it.
    /// The answer does not wait for it; every read of the trail chains what is pending first.
    fn seal_soon(&self, append: audit::Append, chain: Option<String>) {
        let Some(chain) = chain.filter(|_| append == audit::Append::Pending) else {
            return;
        };
        if self.sealer.mark(&chain) {
            let store = self.clone();
            tokio::spawn(async move {
                loop {
                    // Sealing a chain is eight statements however many records it takes, so
                    // the task lets the records of a busy moment gather first (see
                    // `audit::SEAL_LINGER`). Nobody waits for it: reads seal first.
                    tokio::time::sleep(audit::SEAL_LINGER).await;
                    let Some(chains) = store.sealer.next() else {
                        break;
                    };
                    for chain in chains {
                        // A failure leaves the records pending, not lost: the chain's next
                        // write or read seals them.
                        if let Err(e) = store.seal_pending(Some(chain.clone())).await {
                            tracing::warn!(%chain, error = %e, "audit: chaining pending records failed; they stay pending until the chain is next written or read");
                        }
                    }
                }
            });
        }
    }

    /// Chains the pending audit records of `chain` (or of every chain); returns how many.
    pub(crate) async fn seal_pending(&self, chain: Option<String>) -> Result<u64, RepoError> {
        let sealed = self
            .run_write(move |conn| audit::seal(conn, chain.as_deref()))
            .await?;
        self.counters
            .sealed_records
            .fetch_add(sealed, std::sync::atomic::Ordering::Relaxed);
        Ok(sealed)
    }

    /// Runs the reads of `f` in one transaction (one consistent snapshot); never audited.
    pub(crate) async fn read_tx<T, F>(&self, f: F) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| {
            use diesel::Connection;
            conn.transaction(f)
        })
        .await
    }

    /// Runs the write `f` in one transaction and, when the database aborts it for lock
    /// contention (deadlock, serialization failure), runs it again from the start, a bounded
    /// number of times (see [`pool::retrying`]). `f` must therefore read everything it decides
    /// on inside the transaction. Audited like [`Store::tx`].
    pub(crate) async fn tx_retrying<T, F>(&self, f: F) -> Result<T, RepoError>
    where
        F: Fn(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        let draft = audit::current();
        let chain = draft.as_ref().and_then(|d| d.chain().map(str::to_owned));
        let append = self.append();
        let out = self
            .run_write(move |conn| {
                use diesel::Connection;
                pool::retrying(|| {
                    conn.transaction(|conn| audit::recorded(conn, draft.as_ref(), append, &f))
                })
            })
            .await?;
        self.seal_soon(append, chain);
        Ok(out)
    }
}

/// Held while an instance migrates and bootstraps; see [`Store::startup_lock`]. Dropping it
/// closes its connection, which releases the lock.
pub struct StartupLock(#[allow(dead_code)] Option<DbConnection>);

impl std::fmt::Debug for StartupLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StartupLock")
            .field(&self.0.is_some())
            .finish()
    }
}

/// Default checkout timeout: long enough to ride out a burst, short enough that a dead
/// database turns into a prompt 503.
pub const DEFAULT_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// The one dual-backend test macro (`dual_test!`), included by path as the contract tests do.
/// Its `$crate::Backend` names this crate's own [`Backend`] (same variants), so the copy of
/// the enum that comes with the file goes unused here.
#[cfg(test)]
#[allow(unused_imports, dead_code)]
#[path = "../../../tests/src/dual.rs"]
mod dual;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use diesel::connection::SimpleConnection;

    /// A store on a fresh SQLite file (not migrated: these tests need no schema).
    fn sqlite_store(busy_timeout: Duration) -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("idm-store-{}", uuid::Uuid::new_v4()));
        let mut settings = PoolSettings::new(format!("sqlite://{}", dir.join("t.db").display()));
        settings.sqlite_busy_timeout = busy_timeout;
        (Store::open(&settings).unwrap(), dir)
    }

    /// A store on a fresh SQLite file or on the test database (neither migrated: the
    /// thread test needs no schema); `None` where PostgreSQL is not configured.
    async fn any_store(backend: Backend) -> Option<(Store, Option<std::path::PathBuf>)> {
        match backend {
            Backend::Sqlite => {
                let (store, dir) = sqlite_store(Duration::from_secs(5));
                Some((store, Some(dir)))
            }
            Backend::Postgres => {
                let url = std::env::var("IDM_TEST_DATABASE_URL")
                    .ok()
                    .filter(|u| !u.is_empty())?;
                Some((Store::open(&PoolSettings::new(url)).unwrap(), None))
            }
        }
    }

    /// Removes the SQLite fixture's directory, if there is one.
    fn remove(dir: Option<std::path::PathBuf>) {
        if let Some(dir) = dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// The thread a point read ran on.
    async fn read_thread(store: &Store, took: Duration) -> std::thread::ThreadId {
        store
            .lookup(move |_| {
                std::thread::sleep(took);
                Ok(std::thread::current().id())
            })
            .await
            .unwrap()
    }

    crate::dual_test!(
        a_point_read_runs_on_the_calling_thread_on_sqlite_and_on_postgresql_only_while_reads_are_fast,
        setup = any_store,
        |fixture: (Store, Option<std::path::PathBuf>)| {
            let (store, dir) = fixture;
            // The pool opens connections lazily; once one is idle, reads can take it in place.
            store.run(|_| Ok(())).await.unwrap();
            let here = std::thread::current().id();
            let first = read_thread(&store, Duration::ZERO).await;
            match store.backend() {
                Backend::Sqlite => {
                    assert_eq!(first, here, "the read was handed to another thread");
                }
                Backend::Postgres => {
                    // Unmeasured, the database might be far away: the blocking pool first.
                    assert_ne!(first, here);
                    // Measured fast there, reads come in place.
                    let mut reads = 1;
                    while read_thread(&store, Duration::ZERO).await != here {
                        reads += 1;
                        assert!(reads < 3 * in_place::WINDOW, "fast reads never went in place");
                    }
                    // Slow ones (a database 2 ms away) send them back to the blocking pool.
                    let mut slow = 0;
                    while read_thread(&store, Duration::from_millis(2)).await == here {
                        slow += 1;
                        assert!(slow < 3 * in_place::WINDOW, "slow reads stayed in place");
                    }
                    assert!(store.pool_stats().reads_in_place_total >= 2);
                }
            }
            // A plain run always goes to the blocking pool.
            let pooled = store
                .run(|_| Ok(std::thread::current().id()))
                .await
                .unwrap();
            assert_ne!(pooled, here);
            remove(dir);
        }
    );

    /// [`any_store`] with in-place reads off on PostgreSQL.
    async fn any_store_no_in_place(
        backend: Backend,
    ) -> Option<(Store, Option<std::path::PathBuf>)> {
        let (store, dir) = any_store(backend).await?;
        let mut settings = PoolSettings::new(store.url.clone());
        settings.in_place_read_limit = Duration::ZERO;
        Some((Store::open(&settings).unwrap(), dir))
    }

    crate::dual_test!(
        a_zero_in_place_limit_keeps_postgresql_point_reads_on_the_blocking_pool,
        setup = any_store_no_in_place,
        |fixture: (Store, Option<std::path::PathBuf>)| {
            let (store, dir) = fixture;
            store.run(|_| Ok(())).await.unwrap();
            let here = std::thread::current().id();
            for _ in 0..20 {
                let there = read_thread(&store, Duration::ZERO).await;
                // The limit is PostgreSQL's; a SQLite read never waits for a network.
                assert_eq!(there == here, store.backend() == Backend::Sqlite);
            }
            assert_eq!(store.pool_stats().reads_in_place_total, 0);
            remove(dir);
        }
    );

    /// A store on a fresh SQLite file with table `t (x INTEGER UNIQUE)`.
    async fn sqlite_table(busy_timeout: Duration) -> (Store, std::path::PathBuf) {
        let (store, dir) = sqlite_store(busy_timeout);
        store
            .run(|conn| Ok(conn.batch_execute("CREATE TABLE t (x INTEGER UNIQUE)")?))
            .await
            .unwrap();
        (store, dir)
    }

    async fn values_in_t(store: &Store) -> Vec<i64> {
        store
            .run(|conn| {
                use diesel::prelude::*;
                Ok(
                    diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT x FROM t ORDER BY x")
                        .load::<i64>(conn)?,
                )
            })
            .await
            .unwrap()
    }

    /// Starts a write that holds the writer until `release` is sent, and waits until it runs.
    async fn hold_the_writer(
        store: &Store,
    ) -> (
        std::sync::mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<(), RepoError>>,
    ) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (running, started) = tokio::sync::oneshot::channel::<()>();
        let store = store.clone();
        let holder = tokio::spawn(async move {
            store
                .tx(move |_| {
                    let _ = running.send(());
                    let _ = held.recv();
                    Ok(())
                })
                .await
        });
        started.await.unwrap();
        (release, holder)
    }

    /// Waits until `n` writes sit in the writer's queue.
    async fn until_queued(store: &Store, n: usize) {
        let committer = store.committer.as_ref().unwrap();
        for _ in 0..1000 {
            if committer.queued() == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("{} write(s) queued, expected {n}", committer.queued());
    }

    fn insert(store: &Store, x: i64) -> tokio::task::JoinHandle<Result<(), RepoError>> {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .tx(move |conn| Ok(conn.batch_execute(&format!("INSERT INTO t VALUES ({x})"))?))
                .await
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn writes_committed_together_chain_their_audit_records_at_the_end_without_the_failed_ones(
    ) {
        #[derive(diesel::QueryableByName, Debug, PartialEq)]
        struct Chained {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            seq: i64,
            #[diesel(sql_type = diesel::sql_types::Text)]
            request_id: String,
        }
        let (store, dir) = sqlite_store(Duration::from_secs(5));
        store.migrate().await.unwrap();
        // Audited writes; the one that fails does so after its record was kept.
        let write = |id: &'static str, fails: bool| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .run_write(move |conn| {
                        let draft = idm_ports::audit::AuditDraft {
                            request_id: id.into(),
                            operation: "TEST".into(),
                            chain: Some("c".into()),
                            object_type: "things".into(),
                            ..Default::default()
                        };
                        audit::recorded(conn, Some(&draft), audit::Append::InTransaction, |_| {
                            Ok(())
                        })?;
                        if fails {
                            return Err(E(RepoError::NotFound));
                        }
                        Ok(())
                    })
                    .await
            })
        };
        let (release, holder) = hold_the_writer(&store).await;
        // Queued one after the other: they run, and their records chain, in this order.
        let mut writes = Vec::new();
        for (n, (id, fails)) in [("a", false), ("b", true), ("c", false)]
            .into_iter()
            .enumerate()
        {
            writes.push(write(id, fails));
            until_queued(&store, n + 1).await;
        }
        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        let mut outcomes = Vec::new();
        for w in writes {
            outcomes.push(w.await.unwrap().is_ok());
        }
        assert_eq!(outcomes, [true, false, true]);
        let chained = store
            .run(|conn| {
                Ok(native!(conn, |c| diesel::RunQueryDsl::load::<Chained>(
                    diesel::sql_query(
                        "SELECT seq, request_id FROM audit_records WHERE chain = 'c' ORDER BY seq"
                    ),
                    c
                ))?)
            })
            .await
            .unwrap();
        let expected = [(1, "a"), (2, "c")].map(|(seq, id)| Chained {
            seq,
            request_id: id.into(),
        });
        assert_eq!(chained, expected);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn every_pooled_sqlite_connection_reads_its_file_through_a_memory_map() {
        #[derive(diesel::QueryableByName)]
        struct Mmap {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            mmap_size: i64,
        }
        let (store, dir) = sqlite_store(Duration::from_secs(1));
        // Two connections at once: each pooled connection is set up, not only the first.
        let mut a = store.pool.get().unwrap();
        let mut b = store.pool.get().unwrap();
        let read = |c: &mut DbConnection| {
            native!(c, |c| diesel::RunQueryDsl::get_result::<Mmap>(
                diesel::sql_query("PRAGMA mmap_size"),
                c
            ))
            .unwrap()
            .mmap_size
        };
        let sizes = (read(&mut a.conn), read(&mut b.conn));
        assert_eq!(
            sizes,
            (
                i64::try_from(pool::SQLITE_MMAP_BYTES).unwrap(),
                i64::try_from(pool::SQLITE_MMAP_BYTES).unwrap()
            )
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn committed_sqlite_writes_reach_the_database_file_without_waiting_for_the_wal_to_fill() {
        // SQLite's own trigger is 10,000 WAL pages here (`SQLITE_AUTOCHECKPOINT_PAGES`); three
        // small inserts reach the database file itself only through the checkpointer thread.
        let (store, dir) = sqlite_table(Duration::from_secs(5)).await;
        for x in 1..=3_i64 {
            store
                .run_write(move |conn| {
                    Ok(conn.batch_execute(&format!("INSERT INTO t (x) VALUES ({x})"))?)
                })
                .await
                .unwrap();
        }
        // A copy of the database file alone (no WAL beside it) holds what was checkpointed.
        let in_file = || -> i64 {
            let copy = dir.join("copy.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
            }
            std::fs::copy(dir.join("t.db"), &copy).unwrap();
            let mut conn =
                <diesel::SqliteConnection as diesel::Connection>::establish(copy.to_str().unwrap())
                    .unwrap();
            diesel::RunQueryDsl::get_result::<i64>(
                diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT count(*) FROM t"),
                &mut conn,
            )
            .unwrap_or(0) // the table itself not checkpointed yet
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut rows = in_file();
        while rows < 3 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            rows = in_file();
        }
        assert_eq!(rows, 3, "the writes stayed in the WAL");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_of_one_process_queue_for_the_writer_not_in_sqlites_busy_handler() {
        // With no busy timeout, SQLite refuses a second writer at once ("database is
        // locked"); only the one writer thread keeps these writers from meeting inside SQLite.
        let (mut store, dir) = sqlite_table(Duration::ZERO).await;
        // Writers wait for the writer thread without a limit of their own here (in service the
        // limit is the busy timeout).
        store.committer = Some(
            commit::Committer::start(
                store.pool.clone(),
                store.counters.clone(),
                Duration::from_secs(30),
                pool::sqlite_path(&store.url).to_owned(),
            )
            .unwrap(),
        );
        let writes: Vec<_> = (0..32)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .tx(move |conn| {
                            conn.batch_execute(&format!("INSERT INTO t VALUES ({i})"))?;
                            conn.batch_execute("UPDATE t SET x = x + 100 WHERE x = 0")?;
                            Ok(())
                        })
                        .await
                })
            })
            .collect();
        for write in writes {
            write.await.unwrap().unwrap();
        }
        assert_eq!(values_in_t(&store).await.len(), 32);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn writes_queued_behind_a_running_one_commit_together_and_a_failing_one_rolls_back_alone()
    {
        let (store, dir) = sqlite_table(Duration::from_secs(5)).await;
        insert(&store, 0).await.unwrap().unwrap();
        let (release, holder) = hold_the_writer(&store).await;
        let mut writes: Vec<_> = (1..=5).map(|x| insert(&store, x)).collect();
        // A write that inserts a new row and then breaks the unique constraint.
        let failing = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .tx(move |conn| {
                        conn.batch_execute("INSERT INTO t VALUES (99)")?;
                        conn.batch_execute("INSERT INTO t VALUES (0)")?;
                        Ok(())
                    })
                    .await
            })
        };
        until_queued(&store, 6).await;
        writes.push(insert(&store, 6));
        until_queued(&store, 7).await;
        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        for write in writes {
            write.await.unwrap().unwrap();
        }
        let refused = failing.await.unwrap().unwrap_err();
        assert!(refused.is_unique_on("t.x"), "{refused:?}");
        assert_eq!(values_in_t(&store).await, vec![0, 1, 2, 3, 4, 5, 6]);
        let stats = store.pool_stats();
        assert_eq!(
            (
                stats.group_commits_total,
                stats.group_committed_writes_total
            ),
            (1, 7),
            "the seven queued writes share one transaction"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_write_that_gave_up_before_it_started_never_happens() {
        let (store, dir) = sqlite_table(Duration::from_millis(100)).await;
        let (release, holder) = hold_the_writer(&store).await;
        let given_up = insert(&store, 1).await.unwrap().unwrap_err();
        assert!(
            matches!(&given_up, RepoError::Unavailable(m) if m.contains("database is locked")),
            "{given_up:?}"
        );
        release.send(()).unwrap();
        // The holder had started: it is waited for past the timeout, and it commits.
        holder.await.unwrap().unwrap();
        insert(&store, 2).await.unwrap().unwrap();
        assert_eq!(values_in_t(&store).await, vec![2]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn when_a_shared_transaction_dies_its_writes_answer_503_and_the_rest_run_after_it() {
        let (store, dir) = sqlite_table(Duration::from_secs(5)).await;
        let (release, holder) = hold_the_writer(&store).await;
        let before = insert(&store, 1);
        until_queued(&store, 1).await;
        // Ends the shared transaction under the writer's feet, as SQLite itself does after
        // a full disk or an I/O error.
        let killer = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(|conn| {
                        conn.batch_execute("INSERT INTO t VALUES (2); ROLLBACK")?;
                        Ok(())
                    })
                    .await
            })
        };
        until_queued(&store, 2).await;
        let after = insert(&store, 3);
        until_queued(&store, 3).await;
        release.send(()).unwrap();
        // The held write ran alone, in its own transaction, before the others queued.
        holder.await.unwrap().unwrap();
        for (name, answer) in [
            ("before", before.await.unwrap()),
            ("killer", killer.await.unwrap()),
        ] {
            assert!(
                matches!(answer, Err(RepoError::Unavailable(_))),
                "{name}: {answer:?}"
            );
        }
        after.await.unwrap().unwrap();
        assert_eq!(values_in_t(&store).await, vec![3]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
