//! The one optimistic-locking update every aggregate uses.
//!
//! `versioned_update!(conn, table, id, version, changeset, returning => Out)` issues
//!
//! ```sql
//! UPDATE table SET <changeset>, version = version + 1, last_modified = ?
//! WHERE id = ? AND version = ?
//! RETURNING <returning>
//! ```
//!
//! and evaluates to `R<Out>`. Zero rows mean the caller's version is no longer the
//! stored one — either another writer got there first or the row is gone; the ports report both
//! as [`idm_ports::RepoError::StaleVersion`], because the service already proved the row existed
//! when it read the version it sends back. RETURNING hands back exactly what was written, so no
//! adapter re-reads a row after updating it. On PostgreSQL the statement also carries the
//! write's audit record when one is on offer ([`crate::audit::RecordedWrite`]).
//!
//! A macro rather than a generic function: Diesel's table, column and statement types make the
//! bounds of a generic version longer than the statement itself, and every table here has the
//! same `id`, `version` and `last_modified` columns by name.

macro_rules! versioned_update {
    ($conn:expr, $table:ident, $id:expr, $version:expr, $changes:expr, $returning:expr => $out:ty $(,)?) => {{
        let version: i64 = $version;
        // On the backend's own connection: through the MultiConnection an UPDATE … RETURNING
        // is rendered twice per run. `first_recorded`: on PostgreSQL the write's audit record
        // rides in the statement.
        crate::versioned::settled(
            native!($conn, |conn| {
                crate::audit::RecordedWrite::<_, $out>::first_recorded(
                    conn,
                    crate::versioned::versioned_statement!(
                        $table, $id, version, $changes, $returning
                    ),
                    Some((version, version + 1)),
                )
            }),
            version,
        )
    }};
}
pub(crate) use versioned_update;

/// [`versioned_update!`] on a `PgConnection` with [`crate::audit::Sides`] in the same
/// statement (each side effect filters on `EXISTS (SELECT 1 FROM written)` so a stale version
/// changes nothing).
#[cfg(feature = "postgres")]
macro_rules! versioned_update_with {
    ($pg:expr, $table:ident, $id:expr, $version:expr, $changes:expr, $returning:expr => $out:ty, $sides:expr $(,)?) => {{
        let version: i64 = $version;
        crate::versioned::settled(
            crate::audit::write_with::<_, $out>(
                $pg,
                crate::versioned::versioned_statement!($table, $id, version, $changes, $returning),
                $sides,
                Some((version, version + 1)),
            ),
            version,
        )
    }};
}
#[cfg(feature = "postgres")]
pub(crate) use versioned_update_with;

/// The outcome of a versioned update from `version`: no row is a stale version (see the
/// module docs); a written row notes its versions for the audit record.
pub(crate) fn settled<T>(row: diesel::QueryResult<Option<T>>, version: i64) -> crate::R<T> {
    row.map_err(crate::E::from)
        .and_then(|row| row.ok_or(crate::E(idm_ports::RepoError::StaleVersion)))
        .inspect(|_| crate::audit::saw_update(version))
}

/// The statement of [`versioned_update!`]. `cached::update`: Diesel itself never caches an
/// UPDATE.
macro_rules! versioned_statement {
    ($table:ident, $id:expr, $version:expr, $changes:expr, $returning:expr) => {{
        use diesel::prelude::*;
        crate::cached::update(
            $table::table,
            (
                $changes,
                $table::version.eq($table::version + 1_i64),
                $table::last_modified.eq(idm_domain::values::now_millis()),
            ),
            $table::id.eq($id).and($table::version.eq($version)),
        )
        .returning($returning)
    }};
}
pub(crate) use versioned_statement;

/// The column list of row struct `T`, for `.returning(..)`.
///
/// `T::as_returning()` cannot be used through `#[derive(MultiConnection)]` in Diesel 2.3: the
/// multi-backend RETURNING clause hands its expression to each backend's own query builder,
/// and `SelectBy<T, MultiBackend>` is a fragment of the multi-backend only. The plain column
/// tuple that `#[derive(Selectable)]` builds is valid on both, and loads into `T` because
/// `Queryable` and `Selectable` are derived over the same fields in the same order.
pub(crate) fn columns_of<T>() -> T::SelectExpression
where
    T: diesel::Selectable<crate::rows::Db>,
{
    T::construct_selection()
}

/// `(SELECT <other>.<col> FROM <other> WHERE <other>.id = <table>.<fk>)`: a joined column for
/// a RETURNING list. Neither backend lets RETURNING name a joined table, but both accept a
/// correlated subselect, which on the primary key costs one index probe inside the same
/// statement. Only for non-nullable foreign keys: the constraint guarantees the subselect finds
/// its row, which is why the result may be read as not null (a NULL would surface as a
/// deserialization error, i.e. a server fault, never as a wrong value).
macro_rules! joined {
    ($other:ident :: $col:ident, $table:ident :: $fk:ident) => {
        $other::table
            .filter($other::id.eq($table::$fk))
            .select($other::$col)
            .single_value()
            .assume_not_null()
    };
}
pub(crate) use joined;
