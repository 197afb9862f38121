//! The audit trail in the adapter: the request's draft travels with the request, and every
//! write transaction made on its behalf adds one record before it commits.
//!
//! Why here and not as a port call: a record must exist exactly when its write committed. Only
//! the transaction that writes can promise that, and no transaction handle crosses the ports.
//! So the HTTP layer puts an [`AuditDraft`] into the request's task ([`scope`]), fills it in as
//! it learns the route, the caller and the body ([`update`]), and [`crate::Store`]'s write
//! entry points ([`crate::Store::tx`], [`crate::Store::write`]) hand a copy to the blocking
//! thread, where [`recorded`] runs the write and then adds the record — in the same
//! transaction, so a failed write leaves no record and a record never describes a write that
//! rolled back.
//!
//! Where the record goes ([`Append`]):
//! - **SQLite** chains it in the write's transaction: lock the chain's head row (an UPDATE),
//!   insert the linked record, move the head. Writes run one at a time there anyway.
//! - **PostgreSQL** inserts it into `audit_pending`; after the commit a task of this process
//!   ([`Sealer`]) chains the pending records, oldest first, many per transaction ([`seal`]).
//!   The insert rides in the write's own statement where it can ([`WithRecord`], offered to
//!   the write's first statement run through [`RecordedWrite`]), so a write of one statement
//!   needs no `BEGIN`/`COMMIT` at all ([`crate::Store::write_one`]).
//!   Chaining in the write's transaction held the head row from the write's end to its commit,
//!   so every write of a client queued on that one row (measured: 11 of 16 connections waiting
//!   on it, lifecycle 0.9k calls/s against 1.7k without the trail). Reads of the trail chain
//!   what is pending first, so a reader on any instance sees every committed write; records
//!   left pending by a stopped instance are chained by the next write or read of their chain.

use std::cell::Cell;
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use diesel::prelude::*;
use idm_domain::audit::{AuditEntry, GENESIS};
use idm_ports::audit::{AuditDraft, AuditFilter, AuditRecord, AuditRepo, ChainHead};
use idm_ports::{RepoError, RepoResult};

use crate::rows::Db;
use crate::schema::{audit_heads, audit_pending, audit_records};
use crate::{DbConnection, Store, E, R};

tokio::task_local! {
    static DRAFT: Arc<Mutex<AuditDraft>>;
}

thread_local! {
    /// Versions seen by the first versioned update of the write running on this blocking
    /// thread (set by `versioned_update!`, read by [`recorded`]).
    static VERSIONS: Cell<Option<(i64, i64)>> = const { Cell::new(None) };
}

/// A shared, fillable draft for one request.
pub type DraftCell = Arc<Mutex<AuditDraft>>;

/// Runs `fut` (the whole handling of one write request) with `draft` as the audit context of
/// every write it makes. Outside such a scope, writes are not audited (bootstrap, seed, import,
/// reads, and the login endpoints, which are not object writes).
pub async fn scope<F: Future>(draft: DraftCell, fut: F) -> F::Output {
    DRAFT.scope(draft, fut).await
}

/// [`scope`] for the synchronous part of starting a request.
pub fn sync_scope<R>(draft: DraftCell, f: impl FnOnce() -> R) -> R {
    DRAFT.sync_scope(draft, f)
}

/// Changes the current request's draft; does nothing outside a [`scope`].
pub fn update(f: impl FnOnce(&mut AuditDraft)) {
    let _ = DRAFT.try_with(|cell| {
        // A poisoned lock only means a panic elsewhere while filling in a draft: the draft
        // itself is plain data, still usable.
        let mut draft = cell
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut draft);
    });
}

/// The draft a write made now should record: `None` outside a scope, or while no caller is
/// resolved (then there is no chain and no one to name).
pub(crate) fn current() -> Option<AuditDraft> {
    DRAFT
        .try_with(|cell| {
            let draft = cell
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (draft.caller_user.is_some() && draft.chain().is_some()).then(|| draft.clone())
        })
        .ok()
        .flatten()
}

/// Notes the versions of a versioned update (the first one of a write wins: it is the
/// addressed object; later ones are side effects such as a subtree's paths).
pub(crate) fn saw_update(before: i64) {
    VERSIONS.with(|v| {
        if v.get().is_none() {
            v.set(Some((before, before + 1)));
        }
    });
}

/// Where a write's record goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Append {
    /// Into the chain, in the write's own transaction (SQLite: writes run one at a time
    /// anyway, so the head row's lock costs no one a wait).
    InTransaction,
    /// Into `audit_pending`, in the write's own transaction; [`seal`] chains it after the
    /// commit (PostgreSQL: the head row's lock, held to each write's commit, made the writes
    /// of one client run one at a time — see the `audit_pending` migration).
    Pending,
}

/// Runs the write `f` and, when it succeeds, adds the record of `draft` as `append` says — to
/// be called inside the write's transaction.
///
/// With [`Append::Pending`] the record is first offered to the write's statements: the first
/// one run through [`RecordedWrite`] carries it in itself ([`WithRecord`]), which saves the
/// separate `INSERT INTO audit_pending` round trip. A record no statement took is inserted
/// after `f`, still inside the transaction.
pub(crate) fn recorded<T>(
    conn: &mut DbConnection,
    draft: Option<&AuditDraft>,
    append: Append,
    f: impl FnOnce(&mut DbConnection) -> R<T>,
) -> R<T> {
    let Some(draft) = draft else {
        return f(conn);
    };
    if append == Append::Pending {
        let (out, left) = offering(conn, draft, f)?;
        if let Some(entry) = left {
            insert_pending(conn, &entry)?;
        }
        return Ok(out);
    }
    VERSIONS.with(|v| v.set(None));
    let out = f(conn)?;
    let versions = VERSIONS.with(Cell::take);
    let Some(entry) = unchained(draft, versions) else {
        return Ok(out);
    };
    match append {
        Append::InTransaction => {
            if let Some(entry) = defer(entry) {
                let head = lock_head(conn, &entry.chain)?;
                chain_entries(conn, head, vec![entry])?;
            }
        }
        Append::Pending => insert_pending(conn, &entry)?,
    }
    Ok(out)
}

thread_local! {
    /// The records of the SQLite writes that share one transaction, in the order the writes
    /// ran, while the writer thread runs such a batch ([`Deferred`]); `None` otherwise.
    static DEFERRED: std::cell::RefCell<Option<Vec<AuditEntry>>> =
        const { std::cell::RefCell::new(None) };
}

/// Keeps `entry` for the batch's end when a batch is running on this thread; else hands it
/// back to be chained at once.
fn defer(entry: AuditEntry) -> Option<AuditEntry> {
    DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(kept) => {
            kept.push(entry);
            None
        }
        None => Some(entry),
    })
}

/// SQLite's group commit: the records of the writes that share one transaction are chained
/// once, at its end, instead of each write locking the head, inserting its record and moving
/// the head (three statements per write, ~27 % of the one writer's time in the lifecycle;
/// docs/performance.md, thirteenth session).
///
/// The writer thread starts it before the batch's first write and calls [`Deferred::chain`]
/// before the commit. A write that fails after its record was kept rolls back to its
/// savepoint; [`Deferred::rewind`] drops its record with it. The records are chained in the
/// order their writes ran, which is the order they commit in. Dropping it (also on a panic)
/// ends the deferral; the records of a transaction that did not commit go with it.
pub(crate) struct Deferred(());

impl Deferred {
    /// Starts keeping the records of this thread's audited writes.
    pub(crate) fn start() -> Self {
        DEFERRED.with(|d| *d.borrow_mut() = Some(Vec::new()));
        Deferred(())
    }

    /// How many records are kept: the mark to [`Deferred::rewind`] to should the next write
    /// roll back.
    pub(crate) fn mark(&self) -> usize {
        DEFERRED.with(|d| d.borrow().as_ref().map_or(0, Vec::len))
    }

    /// Drops the records kept after `mark` (those of a write that rolled back).
    pub(crate) fn rewind(&self, mark: usize) {
        DEFERRED.with(|d| {
            if let Some(kept) = d.borrow_mut().as_mut() {
                kept.truncate(mark);
            }
        });
    }

    /// Chains the kept records, chain by chain, in the order their writes ran; to be called
    /// in the shared transaction, before its commit.
    pub(crate) fn chain(&self, conn: &mut DbConnection) -> R<()> {
        let mut kept = DEFERRED
            .with(|d| d.borrow_mut().as_mut().map(std::mem::take))
            .unwrap_or_default();
        while let Some(first) = kept.first() {
            let chain = first.chain.clone();
            let (this, rest): (Vec<_>, Vec<_>) = kept.into_iter().partition(|e| e.chain == chain);
            kept = rest;
            let head = lock_head(conn, &chain)?;
            chain_entries(conn, head, this)?;
        }
        Ok(())
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        DEFERRED.with(|d| *d.borrow_mut() = None);
    }
}

/// PostgreSQL, a write of exactly one statement outside any transaction ([`crate::Store::write_one`]):
/// runs `f`, whose statement takes the record of `draft` into itself through [`RecordedWrite`],
/// so the write and its record commit together without `BEGIN`/`COMMIT`.
///
/// A write whose statement did not take the record is a bug of its call site (every caller
/// of `write_one` runs its statement through [`RecordedWrite`], and the tests of each prove
/// its record exists): debug builds fail on it; release builds insert the record right after
/// the write and log the error, so the trail still gets it.
pub(crate) fn in_statement<T>(
    conn: &mut DbConnection,
    draft: &AuditDraft,
    f: impl FnOnce(&mut DbConnection) -> R<T>,
) -> R<T> {
    let (out, left) = offering(conn, draft, f)?;
    if let Some(entry) = left {
        debug_assert!(false, "a one-statement write did not take its audit record");
        tracing::error!(
            operation = %entry.operation,
            "audit: a one-statement write did not carry its record; inserted after it"
        );
        insert_pending(conn, &entry)?;
    }
    Ok(out)
}

/// Runs `f` with the record of `draft` on offer; returns its result and the record when no
/// statement took it (with the versions of the write's first versioned update).
fn offering<T>(
    conn: &mut DbConnection,
    draft: &AuditDraft,
    f: impl FnOnce(&mut DbConnection) -> R<T>,
) -> R<(T, Option<AuditEntry>)> {
    VERSIONS.with(|v| v.set(None));
    let Some(offer) = Offer::of(draft) else {
        return Ok((f(conn)?, None));
    };
    let out = f(conn)?;
    Ok((out, offer.left()))
}

thread_local! {
    /// PostgreSQL: the record the write running on this blocking thread offers to its first
    /// statement run through [`RecordedWrite`] (set and cleared by [`Offer`]).
    static OFFERED: std::cell::RefCell<Option<AuditEntry>> = const { std::cell::RefCell::new(None) };
}

/// A record on offer for the duration of one write; dropping it withdraws the offer, so an
/// error or a panic inside the write never leaves it to the next write on the thread.
struct Offer;

impl Offer {
    /// Offers the record of `draft` (`None`, and nothing offered, when it names no chain).
    fn of(draft: &AuditDraft) -> Option<Offer> {
        let entry = unchained(draft, None)?;
        OFFERED.with(|o| *o.borrow_mut() = Some(entry));
        Some(Offer)
    }

    /// The record when no statement took it, with the versions of the write's first
    /// versioned update.
    fn left(self) -> Option<AuditEntry> {
        let mut entry = OFFERED.with(|o| o.borrow_mut().take())?;
        if let Some((before, after)) = VERSIONS.with(Cell::take) {
            entry.version_before = Some(before);
            entry.version_after = Some(after);
        }
        Some(entry)
    }
}

impl Drop for Offer {
    fn drop(&mut self) {
        OFFERED.with(|o| o.borrow_mut().take());
    }
}

/// Takes the offered record for a statement about to run (`versions`: what the statement
/// moves its row's version from and to, when it is a versioned update).
#[cfg(feature = "postgres")]
fn take_offer(versions: Option<(i64, i64)>) -> Option<AuditEntry> {
    let mut entry = OFFERED.with(|o| o.borrow_mut().take())?;
    entry.version_before = versions.map(|v| v.0);
    entry.version_after = versions.map(|v| v.1);
    Some(entry)
}

/// Puts a taken record back: its statement wrote nothing (no row matched) or failed, so a
/// later statement of the same write, or the fallback after it, must record the write.
#[cfg(feature = "postgres")]
fn restore_offer(entry: AuditEntry) {
    OFFERED.with(|o| *o.borrow_mut() = Some(entry));
}

/// Runs a write statement that returns at most one row, carrying the write's offered audit
/// record in the same statement where the backend allows it. Implemented per backend
/// connection, so it is called inside `native!`:
/// - **PostgreSQL**: with a record on offer and no savepoint open, the statement becomes
///   [`WithRecord`]; otherwise it runs as it is.
/// - **SQLite** runs it as it is: its records are chained in the write's transaction.
pub(crate) trait RecordedWrite<'q, Q, U> {
    /// `write` loaded as at most one row of `U` (`None`: no row matched).
    fn first_recorded(&mut self, write: Q, versions: Option<(i64, i64)>) -> QueryResult<Option<U>>;
}

impl<'q, Q, U> RecordedWrite<'q, Q, U> for diesel::SqliteConnection
where
    Q: diesel::query_dsl::LoadQuery<'q, diesel::SqliteConnection, U> + 'q,
{
    fn first_recorded(&mut self, write: Q, _: Option<(i64, i64)>) -> QueryResult<Option<U>> {
        write.get_result(self).optional()
    }
}

#[cfg(feature = "postgres")]
impl<'q, Q, U> RecordedWrite<'q, Q, U> for diesel::PgConnection
where
    Q: diesel::query_dsl::LoadQuery<'q, diesel::PgConnection, U> + 'q,
    WithRecord<'q, Q>: diesel::query_dsl::LoadQuery<'q, diesel::PgConnection, U>,
{
    fn first_recorded(&mut self, write: Q, versions: Option<(i64, i64)>) -> QueryResult<Option<U>> {
        write_with(self, write, Vec::new(), versions)
    }
}

/// Statements that ride along in a write's statement (PostgreSQL), each `(name, statement)`
/// rendered as `name AS (statement)` after `written`. A side effect that must not happen when
/// the write matched no row (a stale version) filters on `EXISTS (SELECT 1 FROM written)`.
#[cfg(feature = "postgres")]
pub(crate) type Sides<'a> = Vec<(
    &'static str,
    Box<dyn diesel::query_builder::QueryFragment<diesel::pg::Pg> + 'a>,
)>;

/// Fixed SQL text of type `ST` that names the statement's own CTEs (`written`), which Diesel's
/// DSL cannot name: `EXISTS (SELECT 1 FROM written)` in a side's filter, say.
///
/// Why not `diesel::dsl::sql`: Diesel marks every statement holding an `sql` literal as unsafe
/// to cache, so PostgreSQL parsed and planned the whole write (a CTE of several statements)
/// afresh on every run. A `&'static str` is part of the statement's SQL text, by which Diesel
/// keys statements that have no static query id, so caching stays exact.
#[cfg(feature = "postgres")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fixed<ST>(&'static str, std::marker::PhantomData<ST>);

/// [`Fixed`] SQL of type `ST`.
#[cfg(feature = "postgres")]
pub(crate) const fn fixed<ST>(sql: &'static str) -> Fixed<ST> {
    Fixed(sql, std::marker::PhantomData)
}

/// `EXISTS (SELECT 1 FROM written)`: whether the write matched its row. A side effect that
/// must not happen for a stale version filters on it.
#[cfg(feature = "postgres")]
pub(crate) const WRITTEN: Fixed<diesel::sql_types::Bool> = fixed("EXISTS (SELECT 1 FROM written)");

#[cfg(feature = "postgres")]
impl<ST> diesel::query_builder::QueryId for Fixed<ST> {
    // No static id: two texts of one type must not share a cache entry.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

#[cfg(feature = "postgres")]
impl<ST> diesel::expression::Expression for Fixed<ST>
where
    ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
{
    type SqlType = ST;
}

#[cfg(feature = "postgres")]
impl<ST, DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for Fixed<ST> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql(self.0);
        Ok(())
    }
}

#[cfg(feature = "postgres")]
impl<ST, QS> diesel::expression::AppearsOnTable<QS> for Fixed<ST> where
    Self: diesel::expression::Expression
{
}

#[cfg(feature = "postgres")]
impl<ST, QS> diesel::expression::SelectableExpression<QS> for Fixed<ST> where
    Self: diesel::expression::Expression
{
}

#[cfg(feature = "postgres")]
impl<ST, GB> diesel::expression::ValidGrouping<GB> for Fixed<ST> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// [`RecordedWrite::first_recorded`] on PostgreSQL with `sides` in the same statement: the
/// write, its side effects and its offered record commit or fail together.
#[cfg(feature = "postgres")]
pub(crate) fn write_with<'q, Q, U>(
    conn: &mut diesel::PgConnection,
    write: Q,
    sides: Sides<'q>,
    versions: Option<(i64, i64)>,
) -> QueryResult<Option<U>>
where
    Q: diesel::query_dsl::LoadQuery<'q, diesel::PgConnection, U> + 'q,
    WithRecord<'q, Q>: diesel::query_dsl::LoadQuery<'q, diesel::PgConnection, U>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    // Inside a savepoint the statement could be rolled back while the write goes on and
    // commits: the record stays with the write's own transaction then.
    let depth = AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .map_or(0, std::num::NonZeroU32::get);
    let mut entry = (depth <= 1).then(|| take_offer(versions)).flatten();
    let record = match entry.as_ref().map(PendingRow::of) {
        Some(Ok(record)) => Some(record),
        // Unreadable fields: leave the record to the fallback, which reports it.
        Some(Err(_)) => {
            if let Some(entry) = entry.take() {
                restore_offer(entry);
            }
            None
        }
        None => None,
    };
    if record.is_none() && sides.is_empty() {
        return write.get_result(conn).optional();
    }
    let found = WithRecord {
        write,
        sides,
        record,
    }
    .get_result(conn)
    .optional();
    if !matches!(found, Ok(Some(_))) {
        if let Some(entry) = entry {
            restore_offer(entry);
        }
    }
    found
}

/// `WITH written AS (<write>), recorded AS (INSERT INTO audit_pending (…) SELECT … WHERE
/// EXISTS (SELECT 1 FROM written)) SELECT * FROM written` (PostgreSQL): a write and its audit
/// record in one statement. A statement is atomic, so the record exists exactly when the
/// write's row does, and a write that matched no row (a stale version) records nothing.
/// `write` must have a RETURNING clause: its rows are the statement's rows.
/// With [`Sides`], they come between `written` and `recorded`; without a record on offer,
/// `recorded` is left out.
#[cfg(feature = "postgres")]
pub(crate) struct WithRecord<'a, Q> {
    write: Q,
    sides: Sides<'a>,
    record: Option<PendingRow>,
}

#[cfg(feature = "postgres")]
impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for WithRecord<'_, Q> {
    type SqlType = Q::SqlType;
}

#[cfg(feature = "postgres")]
impl<Q> diesel::query_builder::QueryId for WithRecord<'_, Q> {
    // No static id: cached by SQL text, which is the write's text plus a fixed tail.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

#[cfg(feature = "postgres")]
impl<Q> RunQueryDsl<diesel::PgConnection> for WithRecord<'_, Q> {}

#[cfg(feature = "postgres")]
impl<Q> diesel::query_builder::QueryFragment<diesel::pg::Pg> for WithRecord<'_, Q>
where
    Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Nullable, Text};
        out.push_sql("WITH written AS (");
        self.write.walk_ast(out.reborrow())?;
        out.push_sql(")");
        for (name, side) in &self.sides {
            out.push_sql(", ");
            out.push_sql(name);
            out.push_sql(" AS (");
            side.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        let Some(r) = &self.record else {
            out.push_sql(" SELECT * FROM written");
            return Ok(());
        };
        out.push_sql(
            ", recorded AS (INSERT INTO audit_pending (chain, at_millis, caller_client, \
             caller_user, request_id, operation, object_type, object_ext_id, version_before, \
             version_after, fields) SELECT ",
        );
        out.push_bind_param::<Text, _>(&r.chain)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&r.at_millis)?;
        for text in [
            &r.caller_client,
            &r.caller_user,
            &r.request_id,
            &r.operation,
            &r.object_type,
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.object_ext_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&r.version_before)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&r.version_after)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.fields)?;
        out.push_sql(" WHERE EXISTS (SELECT 1 FROM written)) SELECT * FROM written");
        Ok(())
    }
}

fn insert_pending(conn: &mut DbConnection, entry: &AuditEntry) -> R<()> {
    let row = PendingRow::of(entry)?;
    native!(conn, |conn| diesel::insert_into(audit_pending::table)
        .values(&row)
        .execute(conn))?;
    Ok(())
}

/// The record of `draft` before it has a place in its chain (`seq` 0, no `prev_hash`);
/// `None` when the draft names no chain.
fn unchained(draft: &AuditDraft, versions: Option<(i64, i64)>) -> Option<AuditEntry> {
    let chain = draft.chain()?;
    let (object_type, object_ext_id) = draft.object();
    Some(AuditEntry {
        chain: chain.to_owned(),
        seq: 0,
        at_millis: idm_domain::values::now_millis()
            .and_utc()
            .timestamp_millis(),
        caller_client: draft.caller_client.clone().unwrap_or_default(),
        caller_user: draft.caller_user.clone().unwrap_or_default(),
        request_id: draft.request_id.clone(),
        operation: draft.operation.clone(),
        object_type: object_type.to_owned(),
        object_ext_id: object_ext_id.map(str::to_owned),
        version_before: versions.map(|v| v.0),
        version_after: versions.map(|v| v.1),
        fields: draft.fields.clone(),
        prev_hash: String::new(),
    })
}

/// Locks the head row of `chain` and returns its last record's sequence number and hash —
/// `(0, GENESIS)` for a chain without records, whose head row this inserts.
///
/// `MultiConnection` has no `ON CONFLICT`, so a new chain's head is inserted in a savepoint;
/// when a concurrent first write of the same client inserted it first, only the savepoint rolls
/// back and the UPDATE is repeated, now finding (and waiting for) the row.
fn lock_head(conn: &mut DbConnection, chain: &str) -> R<(i64, String)> {
    // Run by every audited write on SQLite: on the backend's own connection (`native!`).
    // `cached::update`: Diesel itself never caches an UPDATE. Setting `seq` to itself takes
    // the row lock and reads the head in one statement.
    let lock = |conn: &mut DbConnection| {
        native!(conn, |conn| crate::cached::update(
            audit_heads::table,
            audit_heads::seq.eq(audit_heads::seq),
            audit_heads::chain.eq(chain),
        )
        .returning((audit_heads::seq, audit_heads::hash))
        .get_result::<(i64, String)>(conn)
        .optional())
    };
    if let Some(found) = lock(conn)? {
        return Ok(found);
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(audit_heads::table)
            .values((
                audit_heads::chain.eq(chain),
                audit_heads::seq.eq(0_i64),
                audit_heads::hash.eq(GENESIS),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok((0, GENESIS.to_owned())),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => lock(conn)?.ok_or_else(|| E(RepoError::Other("audit head row vanished".into()))),
        Err(e) => Err(e.into()),
    }
}

/// Places `entries`, in order, at the end of their chain (all of one chain, whose head the
/// transaction has locked: `head` is what [`lock_head`] returned): links and hashes each entry,
/// inserts them and moves the head to the last.
fn chain_entries(conn: &mut DbConnection, head: (i64, String), entries: Vec<AuditEntry>) -> R<()> {
    let Some(chain) = entries.first().map(|e| e.chain.clone()) else {
        return Ok(());
    };
    let (mut seq, mut prev_hash) = head;
    let mut rows = Vec::with_capacity(entries.len());
    for mut entry in entries {
        seq += 1;
        entry.seq = seq;
        entry.prev_hash = prev_hash;
        prev_hash = entry.hash();
        rows.push(RecordRow::of(entry, prev_hash.clone())?);
    }
    // One record (every write on SQLite) is a cached statement; a sealed batch is one
    // multi-row statement instead of a round trip per record.
    match rows.as_slice() {
        [row] => native!(conn, |conn| diesel::insert_into(audit_records::table)
            .values(row)
            .execute(conn))?,
        rows => native!(conn, |conn| diesel::insert_into(audit_records::table)
            .values(rows)
            .execute(conn))?,
    };
    native!(conn, |conn| crate::cached::update(
        audit_heads::table,
        (audit_heads::seq.eq(seq), audit_heads::hash.eq(&prev_hash)),
        audit_heads::chain.eq(&chain),
    )
    .execute(conn))?;
    Ok(())
}

/// How long the sealing task lets pending records gather before it chains them: one pass
/// costs the same eight statements for one record or hundreds. Measured on the PostgreSQL
/// lifecycle (docs/performance.md, tenth session): sealing right after each commit took a
/// handful of records per pass. Records wait in `audit_pending` meanwhile, durable, and every
/// read of the trail chains what is pending first, so no reader sees the delay.
pub(crate) const SEAL_LINGER: std::time::Duration = std::time::Duration::from_millis(10);

/// Most pending records one sealing transaction chains: bounds its statement and how long it
/// holds the head row.
const SEAL_BATCH: i64 = 256;

thread_local! {
    /// Set while this thread seals, so the statement counter books the sealer's statements
    /// apart from the requests' (`idm_db_statements_total` stays the cost of requests).
    static SEALING: Cell<bool> = const { Cell::new(false) };
}

/// Whether the statement now starting on this thread is the sealer's.
pub(crate) fn sealing() -> bool {
    SEALING.with(Cell::get)
}

/// Chains every pending record of `chain` (or of every chain), oldest first, in transactions
/// of at most [`SEAL_BATCH`] records; returns how many it chained.
///
/// Safe beside other sealers, in this process or another instance: each transaction locks the
/// head row before it reads the pending records, so a second sealer waits and then finds
/// only what the first left; records are removed by id, so a record that commits meanwhile
/// is never removed unchained.
pub(crate) fn seal(conn: &mut DbConnection, chain: Option<&str>) -> R<u64> {
    struct Flag;
    impl Drop for Flag {
        fn drop(&mut self) {
            SEALING.with(|s| s.set(false));
        }
    }
    SEALING.with(|s| s.set(true));
    let _flag = Flag;
    let chains: Vec<String> = match chain {
        Some(c) => {
            let any = native!(conn, |conn| diesel::select(diesel::dsl::exists(
                audit_pending::table.filter(audit_pending::chain.eq(c))
            ))
            .get_result::<bool>(conn))?;
            if any {
                vec![c.to_owned()]
            } else {
                Vec::new()
            }
        }
        None => audit_pending::table
            .select(audit_pending::chain)
            .distinct()
            .load(conn)?,
    };
    let mut sealed = 0;
    for chain in chains {
        loop {
            let n = crate::pool::retrying(|| conn.transaction(|conn| seal_batch(conn, &chain)))?;
            sealed += n;
            if n < SEAL_BATCH.unsigned_abs() {
                break;
            }
        }
    }
    Ok(sealed)
}

/// One sealing transaction's work: the oldest pending records of `chain`, chained.
fn seal_batch(conn: &mut DbConnection, chain: &str) -> R<u64> {
    // The head first: see [`seal`].
    let head = lock_head(conn, chain)?;
    let pending: Vec<PendingRow> = native!(conn, |conn| audit_pending::table
        .filter(audit_pending::chain.eq(chain))
        .order(audit_pending::id.asc())
        .limit(SEAL_BATCH)
        .select(PendingRow::as_select())
        .load(conn))?;
    let ids: Vec<i64> = pending.iter().map(|p| p.id).collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let n = ids.len() as u64;
    chain_entries(
        conn,
        head,
        pending.into_iter().map(PendingRow::into_entry).collect(),
    )?;
    native!(conn, |conn| diesel::delete(
        audit_pending::table.filter(audit_pending::id.eq_any(&ids))
    )
    .execute(conn))?;
    Ok(n)
}

/// Which chains have records waiting for the sealer, and whether a sealing task runs: so a
/// burst of writes starts one task, which seals what the burst left, many per transaction.
#[derive(Debug, Default)]
pub(crate) struct Sealer {
    state: Mutex<SealerState>,
}

#[derive(Debug, Default)]
struct SealerState {
    dirty: std::collections::BTreeSet<String>,
    running: bool,
}

impl Sealer {
    fn state(&self) -> std::sync::MutexGuard<'_, SealerState> {
        // Plain data: a panic elsewhere while holding it leaves it usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes that `chain` has a pending record; true when no task is sealing, so the caller
    /// must start one (which then owns the flag until [`Sealer::next`] finds nothing).
    pub(crate) fn mark(&self, chain: &str) -> bool {
        let mut state = self.state();
        if !state.dirty.contains(chain) {
            state.dirty.insert(chain.to_owned());
        }
        !std::mem::replace(&mut state.running, true)
    }

    /// The chains marked since the last call; `None` — and the task's end — when there are
    /// none. Deciding both under one lock means a mark is never left without a task.
    pub(crate) fn next(&self) -> Option<Vec<String>> {
        let mut state = self.state();
        if state.dirty.is_empty() {
            state.running = false;
            return None;
        }
        Some(std::mem::take(&mut state.dirty).into_iter().collect())
    }
}

/// `treat_none_as_default_value = false`: a `None` is bound as NULL, so the INSERT's text is
/// the same for every record and stays in the statement cache (with `DEFAULT` for `None`, Diesel
/// prepares it afresh each time).
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_pending, treat_none_as_default_value = false)]
struct PendingRow {
    #[diesel(skip_insertion)]
    id: i64,
    chain: String,
    at_millis: i64,
    caller_client: String,
    caller_user: String,
    request_id: String,
    operation: String,
    object_type: String,
    object_ext_id: Option<String>,
    version_before: Option<i64>,
    version_after: Option<i64>,
    fields: String,
}

impl PendingRow {
    fn of(entry: &AuditEntry) -> R<Self> {
        Ok(PendingRow {
            id: 0,
            chain: entry.chain.clone(),
            at_millis: entry.at_millis,
            caller_client: entry.caller_client.clone(),
            caller_user: entry.caller_user.clone(),
            request_id: entry.request_id.clone(),
            operation: entry.operation.clone(),
            object_type: entry.object_type.clone(),
            object_ext_id: entry.object_ext_id.clone(),
            version_before: entry.version_before,
            version_after: entry.version_after,
            fields: fields_text(&entry.fields)?,
        })
    }

    fn into_entry(self) -> AuditEntry {
        AuditEntry {
            chain: self.chain,
            seq: 0,
            at_millis: self.at_millis,
            caller_client: self.caller_client,
            caller_user: self.caller_user,
            request_id: self.request_id,
            operation: self.operation,
            object_type: self.object_type,
            object_ext_id: self.object_ext_id,
            version_before: self.version_before,
            version_after: self.version_after,
            fields: fields_of(&self.fields),
            prev_hash: String::new(),
        }
    }
}

fn fields_text(fields: &[String]) -> R<String> {
    serde_json::to_string(fields).map_err(|e| E(RepoError::Other(format!("audit fields: {e}"))))
}

/// Fields that do not parse are kept as one unreadable name rather than dropped: the hash
/// check then reports the record as edited instead of the read failing.
fn fields_of(text: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(text).unwrap_or_else(|_| vec![text.to_owned()])
}

/// `treat_none_as_default_value = false`: see [`PendingRow`].
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_records, treat_none_as_default_value = false)]
struct RecordRow {
    chain: String,
    seq: i64,
    at_millis: i64,
    caller_client: String,
    caller_user: String,
    request_id: String,
    operation: String,
    object_type: String,
    object_ext_id: Option<String>,
    version_before: Option<i64>,
    version_after: Option<i64>,
    fields: String,
    prev_hash: String,
    hash: String,
}

impl RecordRow {
    /// The row of the chained `entry`, whose hash is `hash`.
    fn of(entry: AuditEntry, hash: String) -> R<Self> {
        Ok(RecordRow {
            fields: fields_text(&entry.fields)?,
            chain: entry.chain,
            seq: entry.seq,
            at_millis: entry.at_millis,
            caller_client: entry.caller_client,
            caller_user: entry.caller_user,
            request_id: entry.request_id,
            operation: entry.operation,
            object_type: entry.object_type,
            object_ext_id: entry.object_ext_id,
            version_before: entry.version_before,
            version_after: entry.version_after,
            prev_hash: entry.prev_hash,
            hash,
        })
    }

    fn into_record(self) -> AuditRecord {
        let fields = fields_of(&self.fields);
        AuditRecord {
            entry: AuditEntry {
                chain: self.chain,
                seq: self.seq,
                at_millis: self.at_millis,
                caller_client: self.caller_client,
                caller_user: self.caller_user,
                request_id: self.request_id,
                operation: self.operation,
                object_type: self.object_type,
                object_ext_id: self.object_ext_id,
                version_before: self.version_before,
                version_after: self.version_after,
                fields,
                prev_hash: self.prev_hash,
            },
            hash: self.hash,
        }
    }
}

impl Store {
    /// Read-your-writes across instances: chains what any instance committed before a read.
    /// When that fails the read still shows the chain as it is: a chain that cannot take its
    /// pending records (its head edited, say) is what `idm audit verify` must report, not
    /// fail on.
    async fn seal_before_reading(&self, chain: Option<String>) {
        if let Err(e) = self.seal_pending(chain.clone()).await {
            tracing::warn!(chain = chain.as_deref().unwrap_or("(all)"), error = %e, "audit: chaining pending records before a read failed; reading the chain as it is");
        }
    }
}

#[async_trait]
impl AuditRepo for Store {
    async fn audit_records(
        &self,
        chain: &str,
        filter: &AuditFilter,
        after_seq: i64,
        limit: usize,
    ) -> RepoResult<Vec<AuditRecord>> {
        let chain = chain.to_owned();
        self.seal_before_reading(Some(chain.clone())).await;
        let filter = filter.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |conn| {
            use audit_records as a;
            let mut query = a::table
                .filter(a::chain.eq(&chain))
                .filter(a::seq.gt(after_seq))
                .select(RecordRow::as_select())
                .order(a::seq.asc())
                .limit(limit)
                .into_boxed::<Db>();
            if let Some(t) = &filter.object_type {
                query = query.filter(a::object_type.eq(t.clone()));
            }
            if let Some(x) = &filter.object_ext_id {
                query = query.filter(a::object_ext_id.eq(x.clone()));
            }
            if let Some(u) = &filter.user_ext_id {
                query = query.filter(a::caller_user.eq(u.clone()));
            }
            if let Some(from) = filter.from {
                query = query.filter(a::at_millis.ge(from.and_utc().timestamp_millis()));
            }
            if let Some(to) = filter.to {
                query = query.filter(a::at_millis.lt(to.and_utc().timestamp_millis()));
            }
            let rows: Vec<RecordRow> = query.load(conn)?;
            Ok(rows.into_iter().map(RecordRow::into_record).collect())
        })
        .await
    }

    async fn audit_chains(&self, only: Option<&str>) -> RepoResult<Vec<ChainHead>> {
        let only = only.map(str::to_owned);
        self.seal_before_reading(only.clone()).await;
        self.run(move |conn| {
            let mut heads = audit_heads::table
                .select((audit_heads::chain, audit_heads::seq, audit_heads::hash))
                .into_boxed::<Db>();
            let mut chains = audit_records::table
                .select(audit_records::chain)
                .distinct()
                .into_boxed::<Db>();
            if let Some(c) = &only {
                heads = heads.filter(audit_heads::chain.eq(c.clone()));
                chains = chains.filter(audit_records::chain.eq(c.clone()));
            }
            let heads: Vec<(String, i64, String)> = heads.load(conn)?;
            let chains: Vec<String> = chains.load(conn)?;
            let mut out: std::collections::BTreeMap<String, Option<(i64, String)>> =
                chains.into_iter().map(|c| (c, None)).collect();
            for (chain, seq, hash) in heads {
                out.insert(chain, Some((seq, hash)));
            }
            Ok(out
                .into_iter()
                .map(|(chain, head)| ChainHead { chain, head })
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::cached::tests::{probe_connection, Prepares};
    use diesel::connection::SimpleConnection;
    use std::sync::atomic::{AtomicUsize, Ordering};

    crate::dual_test!(
        a_record_with_empty_fields_is_inserted_by_one_cached_statement,
        setup = probe_connection,
        |conn: DbConnection| {
            let mut conn = conn;
            // PostgreSQL: a schema of its own, as the shared test database may hold the tables.
            let tables = match &conn {
                DbConnection::Sqlite(_) => [
                    "",
                    include_str!("../../../migrations/sqlite/2026-11-26-000400_audit_trail/up.sql"),
                    include_str!(
                        "../../../migrations/sqlite/2026-11-26-000500_audit_pending/up.sql"
                    ),
                ],
                #[cfg(feature = "postgres")]
                DbConnection::Postgresql(_) => [
                    "CREATE SCHEMA audit_probe; SET LOCAL search_path TO audit_probe;",
                    include_str!(
                        "../../../migrations/postgres/2026-11-26-000400_audit_trail/up.sql"
                    ),
                    include_str!(
                        "../../../migrations/postgres/2026-11-26-000500_audit_pending/up.sql"
                    ),
                ],
            };
            let count = Arc::new(AtomicUsize::new(0));
            native!(&mut conn, |c| c
                .set_instrumentation(Prepares(count.clone())));
            // In a transaction rolled back at the end: the shared test database keeps nothing.
            conn.test_transaction::<_, E, _>(|conn| {
                conn.batch_execute(&tables.concat())?;
                // `None` in every optional field: the case whose text used to vary.
                let entry = AuditEntry {
                    chain: "c".into(),
                    seq: 0,
                    at_millis: 1,
                    caller_client: "c".into(),
                    caller_user: "u".into(),
                    request_id: "r".into(),
                    operation: "DELETE /x".into(),
                    object_type: "users".into(),
                    object_ext_id: None,
                    version_before: None,
                    version_after: None,
                    fields: Vec::new(),
                    prev_hash: String::new(),
                };
                for _ in 0..3 {
                    insert_pending(conn, &entry)?;
                }
                assert_eq!(count.swap(0, Ordering::Relaxed), 1, "the pending INSERT");
                for _ in 0..3 {
                    let head = lock_head(conn, &entry.chain)?;
                    chain_entries(conn, head, vec![entry.clone()])?;
                }
                // Each once: lock the head, insert its row (the chain's first record), insert
                // the record, move the head.
                assert_eq!(count.load(Ordering::Relaxed), 4, "the chaining statements");
                Ok(())
            });
        }
    );

    diesel::table! {
        recorded_probe (id) {
            id -> BigInt,
            n -> BigInt,
        }
    }

    /// The pending-record table and a one-row probe table, in a transaction the caller rolls
    /// back (PostgreSQL: in a schema of its own, as the shared test database may hold the
    /// tables).
    fn recorded_probe_tables(conn: &mut DbConnection) -> QueryResult<()> {
        let setup = match conn {
            DbConnection::Sqlite(_) => String::new(),
            #[cfg(feature = "postgres")]
            DbConnection::Postgresql(_) => {
                "CREATE SCHEMA recorded_probe; SET LOCAL search_path TO recorded_probe;".into()
            }
        };
        let pending = match conn {
            DbConnection::Sqlite(_) => {
                include_str!("../../../migrations/sqlite/2026-11-26-000500_audit_pending/up.sql")
            }
            #[cfg(feature = "postgres")]
            DbConnection::Postgresql(_) => {
                include_str!("../../../migrations/postgres/2026-11-26-000500_audit_pending/up.sql")
            }
        };
        conn.batch_execute(&format!(
            "{setup}{pending}; CREATE TABLE recorded_probe (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); \
             INSERT INTO recorded_probe VALUES (1, 0);"
        ))
    }

    /// Runs `f` on the probe tables with the probe's record on offer, in a transaction rolled
    /// back at the end.
    fn with_offer(mut conn: DbConnection, f: impl FnOnce(&mut DbConnection, Offer) -> R<()>) {
        conn.test_transaction::<_, E, _>(|conn| {
            recorded_probe_tables(conn)?;
            let offer = Offer::of(&probe_draft()).unwrap();
            f(conn, offer)
        });
    }

    fn probe_draft() -> AuditDraft {
        AuditDraft {
            request_id: "req-1".into(),
            operation: "PATCH /probe/{id}".into(),
            chain: Some("acme".into()),
            caller_client: Some("acme".into()),
            caller_user: Some("admin".into()),
            object_type: "probe".into(),
            object_ext_id: Some("1".into()),
            ..AuditDraft::default()
        }
    }

    /// `UPDATE recorded_probe SET n = n + 1 WHERE id = $id RETURNING n`, through
    /// [`RecordedWrite`], as a versioned update from 1 to 2.
    fn bump(conn: &mut DbConnection, id: i64) -> QueryResult<Option<i64>> {
        use recorded_probe as p;
        native!(conn, |c| RecordedWrite::<_, i64>::first_recorded(
            c,
            crate::cached::update(p::table, p::n.eq(p::n + 1_i64), p::id.eq(id)).returning(p::n),
            Some((1, 2)),
        ))
    }

    /// The pending records: (version before, version after, object extId).
    fn pending_rows(conn: &mut DbConnection) -> Vec<(Option<i64>, Option<i64>, Option<String>)> {
        audit_pending::table
            .select((
                audit_pending::version_before,
                audit_pending::version_after,
                audit_pending::object_ext_id,
            ))
            .load(conn)
            .unwrap()
    }

    crate::dual_test!(
        a_write_carries_its_offered_record_in_its_own_statement_on_postgresql_and_leaves_it_on_sqlite,
        setup = probe_connection,
        |conn: DbConnection| {
            let postgres = !matches!(conn, DbConnection::Sqlite(_));
            with_offer(conn, |conn, offer| {
                assert_eq!(bump(conn, 1)?, Some(1));
                let left = offer.left();
                if postgres {
                    assert!(left.is_none(), "the statement took the record");
                    assert_eq!(
                        pending_rows(conn),
                        vec![(Some(1), Some(2), Some("1".to_owned()))],
                        "exactly one record, with the statement's versions"
                    );
                } else {
                    // SQLite chains its records in the write's transaction instead.
                    assert!(left.is_some());
                    assert!(pending_rows(conn).is_empty());
                }
                Ok(())
            });
        }
    );

    crate::dual_test!(
        a_write_that_matches_no_row_records_nothing_and_leaves_the_record_on_offer,
        setup = probe_connection,
        |conn: DbConnection| {
            with_offer(conn, |conn, offer| {
                // A stale version, as the write sees it: no row matches.
                assert_eq!(bump(conn, 99)?, None);
                assert!(pending_rows(conn).is_empty(), "nothing was written");
                // A later statement of the same write (here: the same one, now matching) must
                // still be able to record the write.
                assert_eq!(bump(conn, 1)?, Some(1));
                let left = offer.left();
                match conn {
                    DbConnection::Sqlite(_) => assert!(left.is_some()),
                    #[cfg(feature = "postgres")]
                    DbConnection::Postgresql(_) => {
                        assert!(left.is_none());
                        assert_eq!(pending_rows(conn).len(), 1);
                    }
                }
                Ok(())
            });
        }
    );

    crate::dual_test!(
        a_write_inside_a_savepoint_leaves_the_record_to_the_transaction,
        setup = probe_connection,
        |conn: DbConnection| {
            with_offer(conn, |conn, offer| {
                // The savepoint could roll back while the write goes on: its statement must
                // not carry the record.
                conn.transaction::<_, E, _>(|conn| Ok(bump(conn, 1)?))?;
                assert!(pending_rows(conn).is_empty());
                let left = offer.left().expect("still on offer");
                assert_eq!((left.version_before, left.version_after), (None, None));
                // A withdrawn offer is gone for the next write on the thread.
                assert!(Offer::of(&AuditDraft::default()).is_none());
                assert!(OFFERED.with(|o| o.borrow().is_none()));
                Ok(())
            });
        }
    );

    #[test]
    fn a_burst_of_marks_starts_one_sealing_task_and_no_mark_is_left_without_one() {
        let sealer = Sealer::default();
        assert!(sealer.mark("a"), "the first mark starts a task");
        assert!(!sealer.mark("b"), "a running task takes later marks");
        assert!(!sealer.mark("a"));
        assert_eq!(sealer.next(), Some(vec!["a".to_owned(), "b".to_owned()]));
        // A mark while the task seals: the task's next round takes it.
        assert!(!sealer.mark("c"));
        assert_eq!(sealer.next(), Some(vec!["c".to_owned()]));
        // Nothing left: the task ends, and the next mark must start a new one.
        assert_eq!(sealer.next(), None);
        assert!(sealer.mark("a"));
        assert_eq!(sealer.next(), Some(vec!["a".to_owned()]));
        assert_eq!(sealer.next(), None);
    }
}
