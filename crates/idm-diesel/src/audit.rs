//! The audit trail in the adapter: the request's draft travels with the request, and every
//! write transaction made on its behalf appends one hash-chained record before it commits.
//!
//! Why here and not as a port call: a record must exist exactly when its write committed. Only
//! the transaction that writes can promise that, and no transaction handle crosses the ports.
//! So the HTTP layer puts an [`AuditDraft`] into the request's task ([`scope`]), fills it in as
//! it learns the route, the caller and the body ([`update`]), and [`crate::Store`]'s write
//! entry points ([`crate::Store::tx`], [`crate::Store::write`]) hand a copy to the blocking
//! thread, where [`recorded`] runs the write and then appends — in the same transaction, so a
//! failed write leaves no record and a record never describes a write that rolled back.
//!
//! Appending locks the chain's head row with its first statement (an UPDATE), at the very end of
//! the transaction: writers of one client take their sequence numbers one after the other,
//! holding the lock only until their commit; writers of different clients do not meet.

use std::cell::Cell;
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use diesel::prelude::*;
use idm_domain::audit::{AuditEntry, GENESIS};
use idm_ports::audit::{AuditDraft, AuditFilter, AuditRecord, AuditRepo, ChainHead};
use idm_ports::{RepoError, RepoResult};

use crate::rows::Db;
use crate::schema::{audit_heads, audit_records};
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

/// Runs the write `f` and, when it succeeds, appends the record of `draft` — to be called
/// inside the write's transaction.
pub(crate) fn recorded<T>(
    conn: &mut DbConnection,
    draft: Option<&AuditDraft>,
    f: impl FnOnce(&mut DbConnection) -> R<T>,
) -> R<T> {
    let Some(draft) = draft else {
        return f(conn);
    };
    VERSIONS.with(|v| v.set(None));
    let out = f(conn)?;
    let versions = VERSIONS.with(Cell::take);
    append(conn, draft, versions)?;
    Ok(out)
}

/// Takes the next sequence number of `chain` and the hash before it, locking the head row.
///
/// `MultiConnection` has no `ON CONFLICT`, so a new chain's head is inserted in a savepoint;
/// when a concurrent first write of the same client inserted it first, only the savepoint rolls
/// back and the UPDATE is repeated, now finding (and waiting for) the row.
fn next_position(conn: &mut DbConnection, chain: &str) -> R<(i64, String)> {
    // Every audited write runs these statements: on the backend's own connection (`native!`).
    // `cached::update`: Diesel itself never caches an UPDATE.
    let advance = |conn: &mut DbConnection| {
        native!(conn, |conn| crate::cached::update(
            audit_heads::table,
            audit_heads::seq.eq(audit_heads::seq + 1_i64),
            audit_heads::chain.eq(chain),
        )
        .returning((audit_heads::seq, audit_heads::hash))
        .get_result::<(i64, String)>(conn)
        .optional())
    };
    if let Some(found) = advance(conn)? {
        return Ok(found);
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(audit_heads::table)
            .values((
                audit_heads::chain.eq(chain),
                audit_heads::seq.eq(1_i64),
                audit_heads::hash.eq(GENESIS),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok((1, GENESIS.to_owned())),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => advance(conn)?.ok_or_else(|| E(RepoError::Other("audit head row vanished".into()))),
        Err(e) => Err(e.into()),
    }
}

fn append(conn: &mut DbConnection, draft: &AuditDraft, versions: Option<(i64, i64)>) -> R<()> {
    let Some(chain) = draft.chain() else {
        return Ok(());
    };
    let (seq, prev_hash) = next_position(conn, chain)?;
    let (object_type, object_ext_id) = draft.object();
    let entry = AuditEntry {
        chain: chain.to_owned(),
        seq,
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
        prev_hash,
    };
    let hash = entry.hash();
    let fields = serde_json::to_string(&entry.fields)
        .map_err(|e| E(RepoError::Other(format!("audit fields: {e}"))))?;
    native!(conn, |conn| diesel::insert_into(audit_records::table)
        .values((
            audit_records::chain.eq(&entry.chain),
            audit_records::seq.eq(entry.seq),
            audit_records::at_millis.eq(entry.at_millis),
            audit_records::caller_client.eq(&entry.caller_client),
            audit_records::caller_user.eq(&entry.caller_user),
            audit_records::request_id.eq(&entry.request_id),
            audit_records::operation.eq(&entry.operation),
            audit_records::object_type.eq(&entry.object_type),
            audit_records::object_ext_id.eq(&entry.object_ext_id),
            audit_records::version_before.eq(entry.version_before),
            audit_records::version_after.eq(entry.version_after),
            audit_records::fields.eq(&fields),
            audit_records::prev_hash.eq(&entry.prev_hash),
            audit_records::hash.eq(&hash),
        ))
        .execute(conn))?;
    native!(conn, |conn| crate::cached::update(
        audit_heads::table,
        audit_heads::hash.eq(&hash),
        audit_heads::chain.eq(chain),
    )
    .execute(conn))?;
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_records)]
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
    /// Fields that do not parse are kept as one unreadable name rather than dropped: the hash
    /// check then reports the record as edited instead of the read failing.
    fn into_record(self) -> AuditRecord {
        let fields = serde_json::from_str::<Vec<String>>(&self.fields)
            .unwrap_or_else(|_| vec![self.fields.clone()]);
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
