//! Prepared-statement caching for the statements Diesel never caches: every `UPDATE`.
//!
//! Why: Diesel marks every UPDATE as unsafe to cache, because a changeset of optional fields
//! gives one statement type many SQL texts. So SQLite compiled each UPDATE afresh on every run.
//! Under the admin lifecycle that compiling (the parser, plus the RETURNING clause turned into
//! a trigger program) was a quarter of the SQLite writer's time (docs/performance.md).
//!
//! [`update`] builds the same statement as `diesel::update(..).set(..).filter(..)` but leaves it
//! cacheable. Diesel then keys it by its SQL text, which is exact even for a changeset of
//! optional fields. The number of distinct changesets is bounded process-wide
//! ([`MAX_SHAPES`]): a client sending ever new field combinations cannot grow every
//! connection's cache without limit. Past the bound, a new shape is compiled for the one run,
//! as before.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, OnceLock};

use diesel::backend::Backend;
use diesel::expression::Expression;
use diesel::query_builder::{AsChangeset, AstPass, Query, QueryBuilder, QueryFragment, QueryId};
use diesel::query_source::QuerySource;
use diesel::QueryResult;

/// The most changeset shapes the process lets the connections cache. A handful of tables and
/// the field combinations real clients patch fit far below it; a prepared UPDATE costs a few
/// kilobytes per connection.
pub(crate) const MAX_SHAPES: usize = 256;

static SHAPES: Shapes = Shapes::new(MAX_SHAPES);

/// A bounded set of admitted statement shapes (by hash).
struct Shapes {
    admitted: Mutex<Option<HashSet<u64>>>,
    max: usize,
}

impl Shapes {
    const fn new(max: usize) -> Self {
        Shapes {
            admitted: Mutex::new(None),
            max,
        }
    }

    /// Whether the shape `key` may be cached: it was admitted before, or there is room.
    fn admit(&self, key: u64) -> bool {
        // A poisoned lock only means a panic elsewhere while inserting a hash: still a valid
        // set.
        let mut admitted = self
            .admitted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let admitted = admitted.get_or_insert_with(HashSet::new);
        admitted.contains(&key) || (admitted.len() < self.max && admitted.insert(key))
    }
}

/// `UPDATE <table> SET <set> WHERE <filter> [RETURNING <columns>]`, cacheable (see the
/// module docs). Built by [`update`].
pub(crate) struct Update<T: QuerySource, S, W, R> {
    from: T::FromClause,
    set: S,
    filter: W,
    returning: R,
    /// Whether this statement's shape may be cached, decided once per statement value (Diesel
    /// walks a statement several times per run).
    admitted: OnceLock<bool>,
}

/// No RETURNING clause: run with `execute`.
pub(crate) struct NoReturning;

/// `RETURNING <columns>`: run with `get_result`.
pub(crate) struct Returning<E>(E);

/// `UPDATE table SET set WHERE filter`: `diesel::update(table.filter(filter)).set(set)`, but
/// cacheable.
pub(crate) fn update<T, S, W>(
    table: T,
    set: S,
    filter: W,
) -> Update<T, S::Changeset, W, NoReturning>
where
    T: QuerySource,
    S: AsChangeset<Target = T>,
{
    Update {
        from: table.from_clause(),
        set: set.as_changeset(),
        filter,
        returning: NoReturning,
        admitted: OnceLock::new(),
    }
}

impl<T: QuerySource, S, W> Update<T, S, W, NoReturning> {
    /// Adds `RETURNING columns`.
    pub(crate) fn returning<E: Expression>(self, columns: E) -> Update<T, S, W, Returning<E>> {
        Update {
            from: self.from,
            set: self.set,
            filter: self.filter,
            returning: Returning(columns),
            admitted: self.admitted,
        }
    }
}

impl<T: QuerySource, S, W, R> QueryId for Update<T, S, W, R> {
    // No static id: the cache key must be the SQL text, which tells the shapes apart.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<T: QuerySource, S, W, E: Expression> Query for Update<T, S, W, Returning<E>> {
    type SqlType = E::SqlType;
}

impl<T: QuerySource, S, W, R, Conn> diesel::RunQueryDsl<Conn> for Update<T, S, W, R> {}

impl<DB: Backend> QueryFragment<DB> for NoReturning {
    fn walk_ast<'b>(&'b self, _: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        Ok(())
    }
}

impl<E: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Returning<E> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(" RETURNING ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<T, S, W, R, DB> QueryFragment<DB> for Update<T, S, W, R>
where
    DB: Backend + Default,
    DB::QueryBuilder: Default,
    T: QuerySource,
    T::FromClause: QueryFragment<DB>,
    S: QueryFragment<DB>,
    W: QueryFragment<DB>,
    R: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // Only the pass that asks "may this be cached?" listens to this call.
        if !*self.admitted.get_or_init(|| self.shape_admitted()) {
            out.unsafe_to_cache_prepared();
        }
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.set.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())?;
        self.returning.walk_ast(out.reborrow())
    }
}

impl<T, S, W, R> Update<T, S, W, R>
where
    T: QuerySource,
{
    /// The shape is the table and the SET clause (which columns a changeset of optional fields
    /// sets); the rest of the text is fixed per call site.
    fn shape_admitted<DB>(&self) -> bool
    where
        DB: Backend + Default,
        DB::QueryBuilder: Default,
        S: QueryFragment<DB>,
    {
        let mut set = DB::QueryBuilder::default();
        if self.set.to_sql(&mut set, &DB::default()).is_err() {
            return false;
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::any::type_name::<T>().hash(&mut hasher);
        set.finish().hash(&mut hasher);
        SHAPES.admit(hasher.finish())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
    use diesel::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    diesel::table! {
        cached_probe (id) {
            id -> BigInt,
            n -> BigInt,
        }
    }

    /// Counts the statements a connection prepares into its statement cache.
    pub(crate) struct Prepares(pub(crate) Arc<AtomicUsize>);

    impl Instrumentation for Prepares {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            if let InstrumentationEvent::CacheQuery { .. } = event {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Runs an UPDATE three times plainly and three times built by [`update`] on `$conn`;
    /// evaluates to the statements prepared into the cache by each. (A macro: the bounds of
    /// a function generic over the connection would be longer than the body.)
    macro_rules! prepared_by_plain_and_cached {
        ($conn:expr) => {{
            let conn = $conn;
            let count = Arc::new(AtomicUsize::new(0));
            conn.set_instrumentation(Prepares(count.clone()));
            conn.batch_execute(PROBE).unwrap();
            let update = || {
                diesel::update(cached_probe::table.filter(cached_probe::id.eq(1_i64)))
                    .set(cached_probe::n.eq(cached_probe::n + 1_i64))
            };
            for _ in 0..3 {
                assert_eq!(update().execute(conn).unwrap(), 1);
            }
            let plain = count.swap(0, Ordering::Relaxed);
            for _ in 0..3 {
                let cached = super::update(
                    cached_probe::table,
                    cached_probe::n.eq(cached_probe::n + 1_i64),
                    cached_probe::id.eq(1_i64),
                );
                assert_eq!(cached.execute(conn).unwrap(), 1);
            }
            (plain, count.load(Ordering::Relaxed))
        }};
    }

    const PROBE: &str =
        "CREATE TEMPORARY TABLE cached_probe (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); \
                         INSERT INTO cached_probe VALUES (1, 0);";

    /// A bare connection of `backend` (SQLite in memory, or the test database).
    pub(crate) async fn probe_connection(backend: crate::Backend) -> Option<crate::DbConnection> {
        Some(match backend {
            crate::Backend::Sqlite => crate::DbConnection::Sqlite(
                diesel::SqliteConnection::establish(":memory:").unwrap(),
            ),
            #[cfg(feature = "postgres")]
            crate::Backend::Postgres => {
                let url = std::env::var("IDM_TEST_DATABASE_URL")
                    .ok()
                    .filter(|u| !u.is_empty())?;
                crate::DbConnection::Postgresql(diesel::PgConnection::establish(&url).unwrap())
            }
            #[cfg(not(feature = "postgres"))]
            crate::Backend::Postgres => return None,
        })
    }

    crate::dual_test!(
        an_update_is_compiled_on_every_run_but_once_when_cached,
        setup = probe_connection,
        |conn: crate::DbConnection| {
            let mut conn = conn;
            let prepared = native!(&mut conn, |c| prepared_by_plain_and_cached!(c));
            assert_eq!(prepared, (0, 1));
        }
    );

    #[test]
    fn texts_are_admitted_until_the_bound_and_admitted_ones_stay_admitted() {
        let shapes = Shapes::new(3);
        for key in 0..3 {
            assert!(shapes.admit(key));
        }
        assert!(!shapes.admit(3), "past the bound");
        assert!(shapes.admit(0), "an admitted shape stays admitted");
    }
}
