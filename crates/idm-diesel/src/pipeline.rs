//! PostgreSQL: point reads pipelined over one asynchronous connection per async worker.
//!
//! With libpq, a read blocks its thread from the moment it sends the statement until the
//! answer arrives: the PostgreSQL backend is woken for every statement, and so is the reading
//! thread. Under the ★ read that round trip was ~40 % of idm's CPU and about half of
//! PostgreSQL's (docs/performance.md, fourteenth session). A tokio-postgres connection (through
//! `diesel-async`, so the statements are the same Diesel queries, prepared once per
//! connection) lets the worker serve its other requests meanwhile, and the reads of one worker
//! that are in flight together travel in one write and are answered back to back, without the
//! backend going to sleep between them.
//!
//! Each async worker thread has one such connection per store, opened in the background on
//! the first read that wants it; until it is up, and whenever it fails, reads take the
//! blocking path ([`crate::Store::lookup`]) as before. A connection that fails is dropped and
//! reopened at most once per [`RETRY_AFTER`]. A URL that tokio-postgres cannot parse, or that
//! asks for TLS or may get it ([`plain_allowed`]), gets no pipeline: its reads stay on libpq.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection};

/// How long a worker waits after a failed connection before it tries to open another.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(1);

/// One worker's connection to one store's database.
enum Slot {
    /// Never opened on this worker.
    Closed,
    /// Being opened in the background; reads take the blocking path meanwhile.
    Connecting,
    Ready(Arc<AsyncPgConnection>),
    /// The last attempt, or the connection, failed at this instant.
    Failed(Instant),
}

thread_local! {
    /// Per worker thread, per store (by [`Pipeline::id`]).
    static SLOTS: RefCell<HashMap<u64, Arc<Mutex<Slot>>>> = RefCell::new(HashMap::new());
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// What a store needs to open its workers' pipelined connections.
#[derive(Debug)]
pub(crate) struct Pipeline {
    id: u64,
    url: String,
    counters: Arc<crate::pool::PoolCounters>,
    /// How long a read waits for its answer here before the connection counts as failed and
    /// the read goes to the pool (the pool's checkout timeout).
    patience: Duration,
}

/// A worker's open connection, lent to one read.
pub(crate) struct Lease<'a> {
    pipeline: &'a Pipeline,
    conn: Arc<AsyncPgConnection>,
    slot: Arc<Mutex<Slot>>,
}

impl Lease<'_> {
    /// The connection, for `diesel_async::RunQueryDsl` (`&mut lease.conn()`).
    pub(crate) fn conn(&self) -> &AsyncPgConnection {
        &self.conn
    }

    /// The result of `read`, a query on [`Lease::conn`], counted as pipelined; `None` when it
    /// failed or took longer than the pipeline's patience (a connection that stops answering
    /// would otherwise hold every read of its worker until TCP gives up). Then the connection
    /// is dropped from its worker, so a read after [`RETRY_AFTER`] opens a new one; reads in
    /// flight on it finish or fail on their own, and a newer connection is left alone.
    pub(crate) async fn answer<T>(
        &self,
        read: impl std::future::Future<Output = diesel::QueryResult<T>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.pipeline.patience, read).await {
            Ok(Ok(answer)) => {
                self.pipeline.counters.reads_pipelined.fetch_add(1, Relaxed);
                return Some(answer);
            }
            Ok(Err(e)) => tracing::debug!(error = %e, "pipelined read failed; retried on libpq"),
            Err(_) => tracing::warn!(
                "a pipelined read waited too long; its connection is dropped and the read \
                 retried on libpq"
            ),
        }
        let mut state = lock(&self.slot);
        if matches!(&*state, Slot::Ready(c) if Arc::ptr_eq(c, &self.conn)) {
            *state = Slot::Failed(Instant::now());
        }
        None
    }
}

fn lock(slot: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Pipeline {
    /// A pipeline for `url`, or `None` where the reads must stay on libpq: a URL that
    /// tokio-postgres cannot parse, or one that asks for TLS or may get it.
    pub(crate) fn for_url(
        url: &str,
        counters: Arc<crate::pool::PoolCounters>,
        patience: Duration,
    ) -> Option<Self> {
        let usable = url
            .parse::<tokio_postgres::Config>()
            .map_err(|e| e.to_string())
            .and_then(|config| {
                if plain_allowed(&config) {
                    Ok(())
                } else {
                    Err("the URL asks for TLS or may get it, which pipelined connections do not speak".into())
                }
            });
        if let Err(why) = usable {
            tracing::info!(%why, "PostgreSQL reads are not pipelined; they all use the libpq pool");
            return None;
        }
        Some(Pipeline {
            id: NEXT_ID.fetch_add(1, Relaxed),
            url: url.to_owned(),
            counters,
            patience,
        })
    }

    /// This thread's connection, if it is open; otherwise `None`, after starting to open one
    /// when none is being opened and the last failure is older than [`RETRY_AFTER`].
    pub(crate) fn connection(&self) -> Option<Lease<'_>> {
        let slot = SLOTS.with(|slots| {
            slots
                .borrow_mut()
                .entry(self.id)
                .or_insert_with(|| Arc::new(Mutex::new(Slot::Closed)))
                .clone()
        });
        let mut state = lock(&slot);
        match &*state {
            Slot::Ready(conn) => Some(Lease {
                pipeline: self,
                conn: conn.clone(),
                slot: slot.clone(),
            }),
            Slot::Connecting => None,
            Slot::Failed(at) if at.elapsed() < RETRY_AFTER => None,
            Slot::Closed | Slot::Failed(_) => {
                // Outside a runtime (a blocking caller) there is no worker to pipeline on.
                let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                    return None;
                };
                *state = Slot::Connecting;
                drop(state);
                let url = self.url.clone();
                let counters = self.counters.clone();
                runtime.spawn(async move {
                    let next = match open(&url).await {
                        Ok(mut conn) => {
                            conn.set_instrumentation(crate::pool::statement_counter(counters));
                            Slot::Ready(Arc::new(conn))
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "no pipelined PostgreSQL connection; reads stay on libpq");
                            Slot::Failed(Instant::now())
                        }
                    };
                    *lock(&slot) = next;
                });
                None
            }
        }
    }
}

/// Opens a pipelined connection to `url`, named in `pg_stat_activity` after the URL's
/// `application_name` with [`APPLICATION_SUFFIX`] (or [`APPLICATION_NAME`]), so an operator
/// can tell them from the pool's.
async fn open(url: &str) -> Result<AsyncPgConnection, String> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
    let name = match config.get_application_name() {
        Some(name) => format!("{name}{APPLICATION_SUFFIX}"),
        None => APPLICATION_NAME.to_owned(),
    };
    config.application_name(name);
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("{e}"))?;
    AsyncPgConnection::try_from_client_and_connection(client, connection)
        .await
        .map_err(|e| format!("{e}"))
}

/// `application_name` of the pipelined connections when the URL names none.
pub(crate) const APPLICATION_NAME: &str = "idm (pipelined reads)";

/// Appended to the URL's `application_name` for the pipelined connections.
pub(crate) const APPLICATION_SUFFIX: &str = " (pipelined reads)";

/// Whether a connection without TLS gives what the pool's libpq connection would: the URL
/// says `sslmode=disable`, or `prefer` (libpq's default) towards a Unix socket or loopback,
/// where there is no network to protect. With `prefer` towards another host libpq would
/// encrypt if the server offers it, so the reads stay on libpq rather than go in the clear.
fn plain_allowed(config: &tokio_postgres::Config) -> bool {
    use tokio_postgres::config::{Host, SslMode};
    let local = |host: &Host| match host {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    };
    match config.get_ssl_mode() {
        SslMode::Disable => true,
        SslMode::Prefer => {
            !config.get_hosts().is_empty()
                && config.get_hostaddrs().is_empty()
                && config.get_hosts().iter().all(local)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::plain_allowed;

    #[test]
    fn pipelined_connections_go_without_tls_only_where_libpq_would_not_encrypt_either() {
        let allowed = |url: &str| plain_allowed(&url.parse().unwrap());
        assert!(allowed("postgres://idm@db.internal/idm?sslmode=disable"));
        assert!(allowed("postgres://idm@127.0.0.1:5432/idm"));
        assert!(allowed("postgres://idm@localhost/idm?sslmode=prefer"));
        assert!(allowed("postgres://idm@[::1]/idm"));
        assert!(allowed("postgres://idm@%2Fvar%2Frun%2Fpostgresql/idm"));
        // libpq would encrypt here if the server offers TLS, or refuse without it.
        assert!(!allowed("postgres://idm@db.internal/idm"));
        assert!(!allowed("postgres://idm@db.internal/idm?sslmode=prefer"));
        assert!(!allowed("postgres://idm@127.0.0.1/idm?sslmode=require"));
        assert!(!allowed("postgres://idm@10.0.0.5/idm"));
    }
}
