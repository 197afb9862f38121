//! SQLite group commit: the writes of one process go to one writer thread, which commits the
//! writes that queued up meanwhile in one transaction.
//!
//! Why: SQLite admits one writer at a time, so this process's writes run one after the other
//! anyway. Each commit appends every page the write touched to the WAL: a user's create,
//! update or delete touches ~46 pages (sixteen `users` indexes, the audit record and the
//! chain's head), and at ~2,500 commits/s the writer spent its time copying pages, not
//! deciding anything (docs/performance.md). Writes that commit together share the pages they
//! both touch (the audit head, the right edge of the indexes they append to, the table's last
//! page) and one commit's bookkeeping.
//!
//! What a writer sees does not change:
//! - Each write runs inside a savepoint of the shared transaction. A write that fails rolls
//!   back to its savepoint and reports its own error; the others commit.
//! - Every write answers only after the shared commit, so an answer never describes a write
//!   that is not durable. If the commit fails, every write of the batch gets that error.
//! - A write alone in the queue runs exactly as before, in its own transaction: under light
//!   load nothing is added to a request's path, not even a savepoint.
//! - Should the shared transaction itself die (SQLite rolls a transaction back on its own
//!   after a full disk or an I/O error), the writes that had run in it answer 503, nothing of
//!   them stays, and the ones not yet run go into the next transaction.
//! - A writer that gives up before its write started (busy timeout, or the request was
//!   dropped) is skipped: its write never happens. Once started, it is waited for.
//!
//! Writers of other processes on the same file still meet in SQLite's busy handler: the
//! shared transaction starts with `BEGIN IMMEDIATE`, so it waits for them there, up to the
//! busy timeout, before any write runs.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::SqliteConnection;
use idm_ports::RepoError;

use crate::pool::{Pool, PoolCounters};
use crate::{DbConnection, E, R};

/// Most writes one transaction takes: bounds what a failed commit takes with it and how long
/// the first write of a batch waits for the last.
const MAX_BATCH: usize = 64;

/// A write's claim: who decided first, the writer thread (it runs the write) or the waiting
/// request (it gave up).
const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const ABANDONED: u8 = 2;

/// A write after it ran: whether it failed, and how to answer its request once the shared
/// commit's outcome is known.
struct Ran {
    failed: bool,
    /// Unavailable / Other: the connection may be unusable (see `use_connection`).
    suspicious: bool,
    answer: Box<dyn FnOnce(Result<(), RepoError>) + Send>,
}

/// A queued write: given a connection it runs; given an error (no connection, or the
/// shared transaction could not start) it does not run and answers with that error.
type Job = Box<dyn FnOnce(Result<&mut DbConnection, RepoError>) -> Ran + Send>;

struct Queued {
    job: Job,
    claim: Arc<AtomicU8>,
    /// The request's span, entered while its write runs (request id on the writer's logs).
    span: tracing::Span,
    /// False for a write that manages its own transactions and must run alone (the seed).
    shareable: bool,
}

/// The handle requests submit their writes through. Cheap to clone; the writer thread ends
/// when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct Committer {
    queue: mpsc::Sender<Queued>,
    /// How long a write waits to be started before it fails as "database is locked" (503): the
    /// busy timeout, as a write waiting inside SQLite would.
    wait: Duration,
    /// Writes sent and not yet taken by the writer.
    queued: Arc<AtomicUsize>,
}

impl Committer {
    /// Starts the writer thread for `pool`.
    pub(crate) fn start(
        pool: Pool,
        counters: Arc<PoolCounters>,
        wait: Duration,
        path: String,
    ) -> Result<Self, RepoError> {
        let (queue, inbox) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        // One nudge waiting is enough: it means "there is something to checkpoint".
        let (nudge, nudges) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("idm-sqlite-checkpoint".into())
            .spawn(move || checkpoint(&path, &nudges))
            .map_err(|e| RepoError::Other(format!("cannot start the SQLite checkpointer: {e}")))?;
        let writer = Writer {
            pool,
            counters,
            queued: queued.clone(),
            nudge,
        };
        std::thread::Builder::new()
            .name("idm-sqlite-writer".into())
            .spawn(move || writer.serve(&inbox))
            .map_err(|e| RepoError::Other(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Committer {
            queue,
            wait,
            queued,
        })
    }

    /// Writes waiting for the writer to take them.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Runs the write `f` on the writer thread and answers with its result once it is
    /// committed. `shareable = false` runs it alone, outside any shared transaction.
    pub(crate) async fn submit<T, F>(&self, shareable: bool, f: F) -> Result<T, RepoError>
    where
        F: FnOnce(&mut DbConnection) -> R<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, RepoError>>();
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Ok(conn) => catch_unwind(AssertUnwindSafe(|| f(conn)))
                    .unwrap_or_else(|_| Err(E(RepoError::Other("a write panicked".into()))))
                    .map_err(|E(e)| e),
                Err(e) => Err(e),
            };
            Ran {
                failed: result.is_err(),
                suspicious: matches!(result, Err(RepoError::Unavailable(_) | RepoError::Other(_))),
                answer: Box::new(move |committed| {
                    // The request may have gone away meanwhile; nobody is left to tell.
                    let _ = reply.send(committed.and(result));
                }),
            }
        });
        let claim = Arc::new(AtomicU8::new(QUEUED));
        // Dropping the request (client gone) before its write started cancels the write.
        let _cancel_if_dropped = Abandon(claim.clone());
        self.queued.fetch_add(1, Ordering::AcqRel);
        self.queue
            .send(Queued {
                job,
                claim: claim.clone(),
                span: tracing::Span::current(),
                shareable,
            })
            .map_err(|_| RepoError::Other("the SQLite writer has stopped".into()))?;
        let mut answer = answer;
        let stopped = |_| RepoError::Other("the SQLite writer dropped a write".into());
        match tokio::time::timeout(self.wait, &mut answer).await {
            Ok(done) => done.map_err(stopped)?,
            Err(_) if give_up(&claim) => Err(RepoError::Unavailable(
                "database is locked: another write took too long".into(),
            )),
            // Already running: its outcome is on the way, and it must be the answer.
            Err(_) => answer.await.map_err(stopped)?,
        }
    }
}

/// Marks a write abandoned if it has not started.
fn give_up(claim: &AtomicU8) -> bool {
    claim
        .compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
}

/// Gives up the write when the waiting request is dropped before it started.
struct Abandon(Arc<AtomicU8>);

impl Drop for Abandon {
    fn drop(&mut self) {
        give_up(&self.0);
    }
}

struct Writer {
    pool: Pool,
    counters: Arc<PoolCounters>,
    queued: Arc<AtomicUsize>,
    /// Tells the checkpointer that a commit added to the WAL; dropped with the writer, which
    /// ends the checkpointer too.
    nudge: mpsc::SyncSender<()>,
}

/// How long the checkpointer lets commits gather after the first nudge before it copies the
/// WAL into the database file. Measured on the SQLite lifecycle: 20 ms ran ahead of 5 ms (a
/// checkpoint that runs more often finds the WAL fully copied less often, so the commits' own
/// fallback ran more) and level with 50 ms (docs/performance.md, thirteenth session).
const CHECKPOINT_GATHER: Duration = Duration::from_millis(20);

/// The WAL size (pages) at which a committing connection checkpoints by itself, inside its
/// commit, as SQLite does at 1,000 pages by default. Only a fallback: the checkpointer copies
/// the WAL long before, unless it cannot keep up (or a reader pins an old snapshot meanwhile).
pub(crate) const SQLITE_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// The checkpointer thread: copies committed WAL frames into the database file beside the
/// writer instead of inside its commits.
///
/// Why: SQLite checkpoints in the commit that crosses its WAL threshold, so the one writer of
/// this process spent ~4 % of its time copying pages and syncing the file (profile of the
/// lifecycle, docs/performance.md thirteenth session) while every other write waited. A
/// `PASSIVE` checkpoint takes no lock a writer or a reader needs; the writer restarts the WAL
/// at its next transaction once everything is copied.
///
/// It has a connection of its own, not a pooled one: it takes no request's connection, and
/// its statements are not the requests' (`idm_db_statements_total`).
fn checkpoint(path: &str, nudges: &mpsc::Receiver<()>) {
    use diesel::Connection;
    let mut conn: Option<SqliteConnection> = None;
    // `Err`: the writer is gone, the store was dropped.
    while nudges.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_GATHER);
        while nudges.try_recv().is_ok() {}
        // A failed checkpoint loses nothing (the frames stay in the WAL, and the commits'
        // own fallback still applies); the next nudge tries again, on a new connection.
        if conn.is_none() {
            conn = SqliteConnection::establish(path)
                .inspect_err(|e| tracing::debug!(error = %e, "SQLite checkpointer cannot connect"))
                .ok();
        }
        if let Some(Err(e)) = conn
            .as_mut()
            .map(|c| c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)"))
        {
            conn = None;
            tracing::debug!(error = %e, "SQLite checkpoint failed; the next one retries");
        }
    }
}

impl Writer {
    fn serve(&self, inbox: &mpsc::Receiver<Queued>) {
        // Writes taken out of the queue but not yet run (a lone write's successors, or the
        // rest of a batch whose transaction died).
        let mut carried: VecDeque<Queued> = VecDeque::new();
        loop {
            // `None`: every handle is gone, the store was dropped.
            let Some(first) = self.next(&mut carried, inbox, true) else {
                return;
            };
            let mut batch = Vec::new();
            if claim(&first) {
                batch.push(first);
            }
            while batch.len() < MAX_BATCH && batch.first().is_none_or(|q| q.shareable) {
                let Some(next) = self.next(&mut carried, inbox, false) else {
                    break;
                };
                if !next.shareable && !batch.is_empty() {
                    carried.push_front(next);
                    break;
                }
                if claim(&next) {
                    batch.push(next);
                }
            }
            if batch.is_empty() {
                continue;
            }
            let mut conn = match self.pool.get() {
                Ok(conn) => conn,
                Err(e) => {
                    let cause = format!("connection pool: {e}");
                    for q in batch {
                        let ran = (q.job)(Err(RepoError::Unavailable(cause.clone())));
                        (ran.answer)(Ok(()));
                    }
                    continue;
                }
            };
            let broken = if batch.len() == 1 {
                alone(&mut conn.conn, batch.remove(0))
            } else {
                self.together(&mut conn.conn, batch, &mut carried)
            };
            if broken {
                conn.broken = true;
            }
            // Full: a nudge is already waiting; nothing to add.
            let _ = self.nudge.try_send(());
        }
    }

    /// The next write: a carried one first, else the queue's next, waited for if `wait`.
    fn next(
        &self,
        carried: &mut VecDeque<Queued>,
        inbox: &mpsc::Receiver<Queued>,
        wait: bool,
    ) -> Option<Queued> {
        if let Some(q) = carried.pop_front() {
            return Some(q);
        }
        let q = if wait {
            inbox.recv().ok()?
        } else {
            inbox.try_recv().ok()?
        };
        self.queued.fetch_sub(1, Ordering::AcqRel);
        Some(q)
    }

    /// Runs `batch` (two or more writes) in one transaction; returns whether the connection
    /// should be discarded.
    fn together(
        &self,
        conn: &mut DbConnection,
        batch: Vec<Queued>,
        carried: &mut VecDeque<Queued>,
    ) -> bool {
        let count = batch.len() as u64;
        if let Err(e) = on_sqlite(conn, |c| {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }) {
            // Nothing ran. Every write gets the answer a lone write would have got (after the
            // busy timeout, "database is locked": 503).
            let e = crate::translate(e);
            for q in batch {
                let ran = (q.job)(Err(e.clone()));
                (ran.answer)(Ok(()));
            }
            return true;
        }
        let mut ran_ok: Vec<Ran> = Vec::with_capacity(batch.len());
        let mut dead = false;
        let mut jobs = batch.into_iter();
        // The writes' audit records are chained once, before the commit.
        let records = crate::audit::Deferred::start();
        for q in jobs.by_ref() {
            if on_sqlite(conn, AnsiTransactionManager::begin_transaction).is_err() {
                carried.push_back(q);
                dead = true;
                break;
            }
            let _entered = q.span.enter();
            let mark = records.mark();
            let ran = (q.job)(Ok(&mut *conn));
            let closed = if ran.failed {
                records.rewind(mark);
                on_sqlite(conn, AnsiTransactionManager::rollback_transaction)
            } else {
                on_sqlite(conn, AnsiTransactionManager::commit_transaction)
            };
            if closed.is_err() {
                // The shared transaction is gone (SQLite rolled it back itself). This write
                // failed, or its success died with the transaction: either way it answers
                // with an error now.
                let failed_as = if ran.failed {
                    Ok(())
                } else {
                    Err(rolled_back())
                };
                (ran.answer)(failed_as);
                dead = true;
                break;
            }
            if ran.suspicious {
                tracing::warn!(
                    "a write failed inside a shared SQLite transaction; the others go on"
                );
            }
            ran_ok.push(ran);
        }
        carried.extend(jobs);
        let committed = if dead {
            let _ = on_sqlite(conn, AnsiTransactionManager::rollback_transaction);
            Err(rolled_back())
        } else {
            // A trail that cannot take the records fails the whole transaction: no write
            // commits without its record.
            records.chain(conn).map_err(|E(e)| e).and_then(|()| {
                on_sqlite(conn, AnsiTransactionManager::commit_transaction)
                    .map_err(crate::translate)
            })
        };
        drop(records);
        if committed.is_ok() {
            self.counters.note_batch(count);
        } else if !dead {
            let _ = on_sqlite(conn, AnsiTransactionManager::rollback_transaction);
        }
        let broken = committed.is_err();
        for ran in ran_ok {
            (ran.answer)(committed.clone());
        }
        broken
    }
}

/// Claims a queued write for running; false when its request gave up first. A write carried
/// over from a transaction that died was claimed already and stays claimed.
fn claim(q: &Queued) -> bool {
    match q
        .claim
        .compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire)
    {
        Ok(_) | Err(STARTED) => true,
        Err(_) => false,
    }
}

/// Runs a lone write as it always ran, in its own transaction (if it opens one); returns
/// whether the connection should be discarded.
fn alone(conn: &mut DbConnection, q: Queued) -> bool {
    let _entered = q.span.enter();
    let ran = (q.job)(Ok(conn));
    let broken = ran.suspicious && ran.failed;
    (ran.answer)(Ok(()));
    broken
}

fn rolled_back() -> RepoError {
    RepoError::Unavailable("the write was rolled back with its transaction; try again".into())
}

fn on_sqlite<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut SqliteConnection) -> diesel::QueryResult<T>,
) -> diesel::QueryResult<T> {
    match conn {
        DbConnection::Sqlite(c) => f(c),
        #[cfg(feature = "postgres")]
        DbConnection::Postgresql(_) => Err(diesel::result::Error::QueryBuilderError(
            "the group committer runs on SQLite only".into(),
        )),
    }
}
