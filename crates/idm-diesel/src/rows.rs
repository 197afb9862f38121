//! Shared conversions between rows and domain values.

use chrono::NaiveDateTime;
use idm_domain::model::Meta;
use idm_domain::values::LanguageMap;
use idm_ports::RepoError;

use crate::E;

/// The backend type of [`crate::DbConnection`], for boxed queries.
pub(crate) type Db = <crate::DbConnection as diesel::Connection>::Backend;

pub(crate) fn meta(
    id: i64,
    ext_id: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
) -> Meta {
    Meta {
        id,
        ext_id,
        created,
        last_modified,
        version,
    }
}

/// Reads a stored language map; stored data that no longer parses is a server fault, not a
/// client's.
pub(crate) fn lang(text: &str) -> Result<LanguageMap, E> {
    LanguageMap::from_storage(text).map_err(|e| {
        E(RepoError::Other(format!(
            "corrupt language map in database: {e}"
        )))
    })
}

/// Parses a stored enum-like text column.
pub(crate) fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, E> {
    text.parse::<T>().map_err(|_| {
        E(RepoError::Other(format!(
            "corrupt {what} in database: {text:?}"
        )))
    })
}

/// Applies keyset pagination on (created, ext_id) to a boxed query: items strictly after the
/// cursor, in order, one more than the limit (to learn whether a next page exists).
macro_rules! keyset {
    ($query:expr, $table:ident, $page:expr) => {{
        let page: &idm_ports::PageRequest = &$page;
        let mut q = $query
            .order(($table::created.asc(), $table::ext_id.asc()))
            .limit(i64::try_from(page.limit).unwrap_or(1000) + 1);
        if let Some(c) = &page.after {
            // `created >= t` is a range start both planners use on the (.., created, ext_id)
            // index; the OR only filters rows with equal `created`. Written as a bare
            // `created > t OR (created = t AND ext_id > e)`, PostgreSQL scanned the index from
            // the first row of the client, so page 500 cost nine times page 1.
            q = q.filter(
                $table::created.ge(c.created).and(
                    $table::created
                        .gt(c.created)
                        .or($table::ext_id.gt(c.ext_id.clone())),
                ),
            );
        }
        q
    }};
}
pub(crate) use keyset;

/// The cursor of an entity with `meta`.
pub(crate) fn cursor_of(meta: &Meta) -> idm_ports::Cursor {
    idm_ports::Cursor {
        created: meta.created,
        ext_id: meta.ext_id.clone(),
    }
}
