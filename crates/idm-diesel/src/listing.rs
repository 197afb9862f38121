//! SQL for [`ListQuery`]: filters, sort, keyset or offset start, totals — one implementation
//! for every filterable list. Each list supplies a column map (wire field → [`Column`]).
//!
//! Sort keys are NOT NULL expressions (`COALESCE(col, '')` for nullable text) so that both
//! backends order, compare and page the same way (SQLite sorts NULLs first, PostgreSQL last),
//! and so that the migration `2026-11-25-000300_list_indexes` can index the very expression.

use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
use diesel::BoolExpressionMethods;
use idm_ports::query::{Condition, Direction, FieldValue, ListQuery, Match, Start};
use idm_ports::RepoError;

use crate::pool::Backend;
use crate::rows::Db;
use crate::E;

/// A boxed SQL condition usable in the `WHERE` of any boxed query.
pub(crate) type Cond<QS> = Box<dyn BoxableExpression<QS, Db, SqlType = Bool>>;

/// How a wire field is stored.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Column {
    /// A NOT NULL column (any type), compared and sorted as is.
    Plain(&'static str),
    /// A nullable text column, compared and sorted as `COALESCE(col, '')`.
    Text(&'static str),
    /// A nullable timestamp, sorted with absent values first.
    Time(&'static str),
    /// A text field inside a JSON object stored as text (column, key), compared and sorted as
    /// `COALESCE(<the key's text>, '')` like a nullable text column. The key is a constant of
    /// the column map, never client input, so it is inlined.
    Json(&'static str, &'static str),
    /// A filter only: `<prefix> ? <suffix>` with the value bound as text.
    Subquery(&'static str, &'static str),
    /// The owner of property values (wire field `properties`): the `property_values` column
    /// pointing at the listed entity and the entity's qualified id column.
    PropertyOwner(&'static str, &'static str),
}

impl Column {
    /// The NOT NULL expression sorted and compared.
    fn key(self, backend: Backend) -> Result<String, E> {
        Ok(match self {
            Column::Plain(c) => c.to_owned(),
            Column::Text(c) => format!("COALESCE({c}, '')"),
            Column::Time(c) => match backend {
                // Diesel stores SQLite timestamps as text in this format.
                Backend::Sqlite => format!("COALESCE({c}, '0001-01-01 00:00:00')"),
                Backend::Postgres => format!("COALESCE({c}, TIMESTAMP '0001-01-01 00:00:00')"),
            },
            Column::Json(..) => format!("COALESCE({}, '')", self.raw(backend)?),
            Column::Subquery(..) | Column::PropertyOwner(..) => return Err(unsortable()),
        })
    }

    /// The raw column (or JSON member), for the case-insensitive comparisons. The JSON
    /// expressions are written exactly as the migration `2026-11-26-000300` indexes them.
    fn raw(self, backend: Backend) -> Result<String, E> {
        match self {
            Column::Plain(c) | Column::Text(c) => Ok(c.to_owned()),
            Column::Json(c, key) => Ok(match backend {
                Backend::Sqlite => format!("json_extract({c}, '$.{key}')"),
                Backend::Postgres => format!("({c}::jsonb ->> '{key}')"),
            }),
            Column::Time(_) | Column::Subquery(..) | Column::PropertyOwner(..) => Err(unsortable()),
        }
    }
}

fn unsortable() -> E {
    E(RepoError::Other(
        "list query names a field its kind does not allow here".into(),
    ))
}

/// `<expr> <op> ?` with the value bound with its own SQL type.
fn cmp<QS: 'static>(expr: &str, op: &str, value: &FieldValue) -> Cond<QS> {
    bound(&format!("{expr} {op} "), value, "")
}

fn bound<QS: 'static>(before: &str, value: &FieldValue, after: &str) -> Cond<QS> {
    let lit = sql::<Bool>(before);
    match value {
        FieldValue::Text(s) => Box::new(lit.bind::<Text, _>(s.clone()).sql(after)),
        FieldValue::Int(i) => Box::new(lit.bind::<BigInt, _>(*i).sql(after)),
        FieldValue::Bool(b) => Box::new(lit.bind::<Bool, _>(*b).sql(after)),
        FieldValue::Time(t) => {
            // Absent timestamps compare as the minimum (see `Column::key`).
            let t = if *t == FieldValue::NO_TIME {
                chrono::NaiveDate::from_ymd_opt(1, 1, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .unwrap_or(*t)
            } else {
                *t
            };
            Box::new(lit.bind::<Timestamp, _>(t).sql(after))
        }
    }
}

/// Escapes LIKE wildcards so a prefix is matched literally (escape character `\`).
fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for ch in prefix.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// The SQL of one filter.
fn condition<QS: 'static>(c: &Condition, col: Column, backend: Backend) -> Result<Cond<QS>, E> {
    if let Column::Subquery(prefix, suffix) = col {
        return Ok(bound(prefix, &c.value, suffix));
    }
    let text = match &c.value {
        FieldValue::Text(s) => Some(s.as_str()),
        _ => None,
    };
    Ok(match (c.op, text, backend) {
        (Match::Exact, _, _) => cmp(&col.key(backend)?, "=", &c.value),
        // SQLite serves these from the `COLLATE NOCASE` index (its LIKE is case-insensitive
        // for ASCII and index-served only on a NOCASE column); PostgreSQL from the
        // `lower(col) text_pattern_ops` index.
        (Match::StartsWith, Some(s), Backend::Sqlite) => bound(
            &format!("{} LIKE ", col.raw(backend)?),
            &FieldValue::Text(like_prefix(s)),
            " ESCAPE '\\'",
        ),
        (Match::IgnoreCase, Some(_), Backend::Sqlite) => cmp(
            &format!("{} COLLATE NOCASE", col.raw(backend)?),
            "=",
            &c.value,
        ),
        (Match::StartsWith, Some(s), _) => bound(
            &format!("lower({}) LIKE ", col.raw(backend)?),
            &FieldValue::Text(like_prefix(&s.to_lowercase())),
            " ESCAPE '\\'",
        ),
        (Match::IgnoreCase, Some(s), _) => cmp(
            &format!("lower({})", col.raw(backend)?),
            "=",
            &FieldValue::Text(s.to_lowercase()),
        ),
        (_, None, _) => return Err(unsortable()),
    })
}

/// Everything a list adapter needs to build its statements.
pub(crate) struct Plan<QS> {
    /// The filters (conditions only; no start, no order).
    pub filters: Vec<Cond<QS>>,
    /// The keyset start condition, if any.
    pub after: Option<Cond<QS>>,
    /// `ORDER BY` text.
    pub order: String,
    /// `OFFSET`, if any.
    pub offset: Option<i64>,
    /// `LIMIT` (one more than the page).
    pub limit: i64,
}

/// Builds the statement parts of `query`. `columns` maps a wire field to its column; `ext_id`
/// is the qualified extId column (the tie-breaker).
pub(crate) fn plan<QS: 'static>(
    query: &ListQuery,
    columns: fn(&str) -> Option<Column>,
    ext_id: &'static str,
    backend: Backend,
) -> Result<Plan<QS>, E> {
    let column = |name: &str| {
        columns(name).ok_or_else(|| E(RepoError::Other(format!("unmapped list field {name}"))))
    };
    let mut filters = query
        .conditions
        .iter()
        .map(|c| condition(c, column(c.field)?, backend))
        .collect::<Result<Vec<_>, E>>()?;
    if !query.property_keys.is_empty() {
        let Column::PropertyOwner(owner, id) = column("properties")? else {
            return Err(unsortable());
        };
        for (property_id, value_key) in &query.property_keys {
            // The definition id comes from the database (an i64), so inlining it is safe; the
            // value key is bound.
            let prefix = format!(
                "EXISTS (SELECT 1 FROM property_values pv WHERE pv.property_id = {property_id} \
                 AND pv.{owner} = {id} AND pv.value_key = "
            );
            filters.push(bound(&prefix, &FieldValue::Text(value_key.clone()), ")"));
        }
    }
    let key = column(query.sort.field)?.key(backend)?;
    let (dir, gt) = match query.sort.direction {
        Direction::Asc => ("ASC", ">"),
        Direction::Desc => ("DESC", "<"),
    };
    let order = format!("{key} {dir}, {ext_id} {dir}");
    let (after, offset) = match &query.start {
        Start::First => (None, None),
        Start::Offset(n) => (None, Some(i64::try_from(*n).unwrap_or(i64::MAX))),
        Start::After {
            key: value,
            ext_id: last,
        } => {
            // `key >= v AND (key > v OR ext_id > e)`: the first part is a range start both
            // planners seek to on a (.., key, ..) index (see `keyset!`).
            let ge = if gt == ">" { ">=" } else { "<=" };
            let tie = cmp::<QS>(ext_id, gt, &FieldValue::Text(last.clone()));
            let cond: Cond<QS> =
                Box::new(cmp::<QS>(&key, ge, value).and(cmp::<QS>(&key, gt, value).or(tie)));
            (Some(cond), None)
        }
    };
    Ok(Plan {
        filters,
        after,
        order,
        offset,
        limit: i64::try_from(query.limit).unwrap_or(1000) + 1,
    })
}

/// Runs a list: `$base` is a boxed query (evaluated twice when a total is asked), `$row` the
/// loaded row type. Yields `R<Listed<$row>>`.
macro_rules! listed {
    ($conn:expr, $base:expr, $row:ty, $query:expr, $columns:expr, $ext_id:expr, $backend:expr) => {{
        use diesel::dsl::sql;
        let query: &idm_ports::query::ListQuery = &$query;
        let total = if query.total {
            let counted = crate::listing::plan(query, $columns, $ext_id, $backend)?;
            let mut q = $base.select(sql::<diesel::sql_types::BigInt>("COUNT(*)"));
            for f in counted.filters {
                q = q.filter(f);
            }
            let n: i64 = q.get_result($conn)?;
            Some(u64::try_from(n).unwrap_or(0))
        } else {
            None
        };
        let plan = crate::listing::plan(query, $columns, $ext_id, $backend)?;
        let mut q = $base;
        for f in plan.filters {
            q = q.filter(f);
        }
        if let Some(a) = plan.after {
            q = q.filter(a);
        }
        let mut q = q
            .order(sql::<diesel::sql_types::Text>(&plan.order))
            .limit(plan.limit);
        if let Some(o) = plan.offset {
            q = q.offset(o);
        }
        let rows: Vec<$row> = q.load($conn)?;
        let limit = usize::try_from(plan.limit - 1).unwrap_or(0);
        Ok::<_, crate::E>(idm_ports::query::Listed::from_overfetch(rows, limit, total))
    }};
}
pub(crate) use listed;

#[cfg(test)]
mod tests {
    use super::like_prefix;

    #[test]
    fn like_wildcards_in_a_prefix_match_literally() {
        assert_eq!(like_prefix("a%b_c\\"), "a\\%b\\_c\\\\%");
    }
}
