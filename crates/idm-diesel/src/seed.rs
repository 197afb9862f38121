//! Bulk seeding for benchmarks and load tests: clients with a small unit tree, users with one
//! profile and one authorization each, and active terms — written as multi-row `INSERT`s of
//! `batch_size` rows, one transaction per batch, on both backends.
//!
//! Everything is deterministic so a load generator can address random rows without asking the
//! database first:
//!
//! - client `i` (1-based): extId and name `c{i}`, root unit `c{i}-root`, child units
//!   `c{i}-ou{k}` (k = 1..=3) and grandchildren `c{i}-ou{k}-{l}` (l = 1..=3);
//! - user `j` of client `i`: extId and loginId `c{i}-u{j}`, state `active`, no password;
//!   profile `c{i}-u{j}-p` in the non-root unit number `(j-1) % 12` (children first, then
//!   grandchildren in order); authorization `c{i}-u{j}-p-a` for role `nevisIdm` `UserAdmin`
//!   when `j % 10 == 1`, else `SelfAdmin` (both scoped to the profile's unit);
//! - every user `j` of client `i` has the value `E{i}-{j}` of the global `USER_GLOBAL` STRING
//!   property `employeeNumber` (created if missing), so `properties.employeeNumber=E1-500`
//!   matches exactly one user at every size;
//! - term `k`: extId `t{k}`, name `Bench terms {k}`, active, `termsVersion` `1.0`;
//! - user `j` of client `i` is created at [`SEED_EPOCH_MILLIS`] `+ (i-1)·M + (j-1)`
//!   milliseconds (M = users per client), so the keyset continuation token of the page after
//!   user `j` is `{that millis}_c{i}-u{j}` (see [`SeedPlan::user_created_millis`]).
//!
//! Keys are assigned explicitly (continuing after the current maximum) so that profiles and
//! authorizations can reference the rows of their batch without a round trip; PostgreSQL
//! sequences are moved past them at the end. Run it while nothing else inserts rows (before
//! the server starts): it is a loading tool, not a use case.
//!
//! The text of every statement is built from generated values only (digits and the fixed
//! extId patterns above); [`quote`] still escapes quotes, so a future caller passing other
//! text cannot break out of a literal.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use idm_ports::RepoError;

use crate::schema::{
    applications, authorizations, clients, profiles, property_definitions, roles, terms, units,
    users,
};
use crate::{Backend, DbConnection, Store, E, R};

/// Creation time of the first seeded user: 2020-01-01T00:00:00Z in Unix milliseconds.
pub const SEED_EPOCH_MILLIS: i64 = 1_577_836_800_000;

/// Child units per client (each with [`GRANDCHILDREN`] children of its own).
const CHILDREN: u32 = 3;
/// Grandchildren per child unit.
const GRANDCHILDREN: u32 = 3;

/// What to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedPlan {
    /// Number of clients `c1..=cN`.
    pub clients: u32,
    /// Users (each with a profile and an authorization) per client.
    pub users_per_client: u32,
    /// Active terms `t1..=tK`.
    pub terms: u32,
    /// Rows per `INSERT` statement and per transaction.
    pub batch_size: u32,
    /// Whether to create the `employeeNumber` definition and give every user a value. `false`
    /// gives a database where no property definition applies, so a benchmark can measure what
    /// the property path costs (A/B against `true`).
    pub properties: bool,
}

impl Default for SeedPlan {
    fn default() -> Self {
        SeedPlan {
            clients: 1,
            users_per_client: 1000,
            terms: 3,
            batch_size: 1000,
            properties: true,
        }
    }
}

impl SeedPlan {
    /// Unix milliseconds of the `created` of user `j` (1-based) of client `i` (1-based).
    pub fn user_created_millis(&self, client: u32, user: u32) -> i64 {
        SEED_EPOCH_MILLIS
            + i64::from(client.saturating_sub(1)) * i64::from(self.users_per_client)
            + i64::from(user.saturating_sub(1))
    }

    /// The continuation token that starts page `page` (1-based; `None` for page 1) of the
    /// users of client `client` at `limit` items per page.
    pub fn users_page_token(&self, client: u32, page: u32, limit: u32) -> Option<String> {
        let last_before = page.checked_sub(1)?.checked_mul(limit)?;
        if last_before == 0 {
            return None;
        }
        Some(format!(
            "{}_c{client}-u{last_before}",
            self.user_created_millis(client, last_before)
        ))
    }

    /// Units per client: the root, its children and their children.
    pub fn units_per_client(&self) -> u32 {
        1 + CHILDREN + CHILDREN * GRANDCHILDREN
    }
}

/// What a seed run created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeedReport {
    /// Clients created.
    pub clients: u64,
    /// Units created (root included).
    pub units: u64,
    /// Users created.
    pub users: u64,
    /// Profiles created.
    pub profiles: u64,
    /// Authorizations created.
    pub authorizations: u64,
    /// Terms created.
    pub terms: u64,
    /// Property values created (one `employeeNumber` per user).
    pub property_values: u64,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl SeedReport {
    /// All rows written.
    pub fn rows(&self) -> u64 {
        self.clients
            + self.units
            + self.users
            + self.profiles
            + self.authorizations
            + self.terms
            + self.property_values
    }
}

/// A SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A timestamp literal in the text form Diesel itself writes, so that SQLite's text
/// comparisons (keyset paging) order seeded and API-written rows alike.
fn ts(millis: i64) -> R<String> {
    let at: NaiveDateTime = DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| {
            E(RepoError::Other(format!(
                "timestamp out of range: {millis}"
            )))
        })?
        .naive_utc();
    Ok(quote(&at.format("%F %T%.f").to_string()))
}

/// Next free key of a table (explicit keys let a batch reference its own rows).
fn next_ids(conn: &mut DbConnection) -> R<[i64; 6]> {
    use diesel::dsl::max;
    let c: Option<i64> = clients::table.select(max(clients::id)).get_result(conn)?;
    let u: Option<i64> = units::table.select(max(units::id)).get_result(conn)?;
    let us: Option<i64> = users::table.select(max(users::id)).get_result(conn)?;
    let p: Option<i64> = profiles::table.select(max(profiles::id)).get_result(conn)?;
    let a: Option<i64> = authorizations::table
        .select(max(authorizations::id))
        .get_result(conn)?;
    let t: Option<i64> = terms::table.select(max(terms::id)).get_result(conn)?;
    Ok([c, u, us, p, a, t].map(|m| m.unwrap_or(0) + 1))
}

/// Name of the seeded user property.
pub const SEED_PROPERTY: &str = "employeeNumber";

/// Key of the global `employeeNumber` user property, created on first use.
fn seed_property(conn: &mut DbConnection, at: &str) -> R<i64> {
    let find = |conn: &mut DbConnection| {
        property_definitions::table
            .filter(property_definitions::scope.eq("USER_GLOBAL"))
            .filter(property_definitions::client_key.eq(0))
            .filter(property_definitions::name.eq(SEED_PROPERTY))
            .select(property_definitions::id)
            .get_result::<i64>(conn)
            .optional()
    };
    if let Some(id) = find(conn)? {
        return Ok(id);
    }
    conn.batch_execute(&format!(
        "INSERT INTO property_definitions (client_key, name, property_type, scope, \
         access_create, access_modify, created, last_modified) VALUES (0, '{SEED_PROPERTY}', \
         'STRING', 'USER_GLOBAL', 'READ_WRITE', 'READ_WRITE', {at}, {at})"
    ))?;
    Ok(find(conn)?.unwrap_or_default())
}

/// Key of a built-in `nevisIdm` role; bootstrap must have run.
fn role_id(conn: &mut DbConnection, name: &str) -> R<i64> {
    roles::table
        .inner_join(applications::table)
        .filter(applications::name.eq(idm_domain::roles::NEVIS_IDM_APPLICATION))
        .filter(roles::name.eq(name))
        .select(roles::id)
        .get_result::<i64>(conn)
        .optional()?
        .ok_or_else(|| {
            E(RepoError::Other(format!(
                "role nevisIdm/{name} missing: run bootstrap before seeding"
            )))
        })
}

/// The units of one client, in the order profiles are spread over them (root excluded).
struct Tree {
    /// Keys of the non-root units.
    leaves: Vec<i64>,
}

fn insert_client(conn: &mut DbConnection, i: u32, id: i64, unit_id: i64, at: &str) -> R<Tree> {
    let ext = format!("c{i}");
    conn.batch_execute(&format!(
        "INSERT INTO clients (id, ext_id, name, display_name, remarks, created, last_modified, version) \
         VALUES ({id}, {e}, {e}, '{{}}', 'seeded', {at}, {at}, 1)",
        e = quote(&ext)
    ))?;
    // Root, children, grandchildren: keys are known up front, so each path is too.
    let mut sql = String::from(
        "INSERT INTO units (id, client_id, parent_id, ext_id, path, hierarchical_name, name, \
         description, state, display_name, abbreviation, profileless, created, last_modified, \
         version) VALUES ",
    );
    let root_ext = format!("{ext}-root");
    let _ = write!(
        sql,
        "({unit_id}, {id}, NULL, {re}, '/{unit_id}/', {re}, {e}, 'Root unit of client {ext}', \
         'active', '{{}}', '{{}}', FALSE, {at}, {at}, 1)",
        re = quote(&root_ext),
        e = quote(&ext)
    );
    let mut leaves = Vec::new();
    let mut next = unit_id + 1;
    let mut grand = Vec::new();
    for k in 1..=CHILDREN {
        let child = next;
        next += 1;
        let cext = format!("{ext}-ou{k}");
        let chname = format!("{root_ext}/{cext}");
        let _ = write!(
            sql,
            ", ({child}, {id}, {unit_id}, {ce}, '/{unit_id}/{child}/', {hn}, {ce}, NULL, \
             'active', '{{}}', '{{}}', FALSE, {at}, {at}, 1)",
            ce = quote(&cext),
            hn = quote(&chname)
        );
        leaves.push(child);
        for l in 1..=GRANDCHILDREN {
            grand.push((child, format!("{cext}-{l}"), chname.clone()));
        }
    }
    for (parent, gext, parent_hname) in grand {
        let g = next;
        next += 1;
        let _ = write!(
            sql,
            ", ({g}, {id}, {parent}, {ge}, '/{unit_id}/{parent}/{g}/', {hn}, {ge}, NULL, \
             'active', '{{}}', '{{}}', FALSE, {at}, {at}, 1)",
            ge = quote(&gext),
            hn = quote(&format!("{parent_hname}/{gext}"))
        );
        leaves.push(g);
    }
    conn.batch_execute(&sql)?;
    Ok(Tree { leaves })
}

/// Keys of one user batch.
struct Keys {
    client: i64,
    user: i64,
    profile: i64,
    authorization: i64,
    user_admin_role: i64,
    self_admin_role: i64,
    /// The `employeeNumber` definition, `None` when the plan seeds no properties.
    property: Option<i64>,
}

/// Users `from..=to` of client `i`, with their profiles, authorizations and property values:
/// four statements (three without properties).
fn insert_users(
    conn: &mut DbConnection,
    plan: &SeedPlan,
    i: u32,
    from: u32,
    to: u32,
    tree: &Tree,
    keys: &Keys,
) -> R<()> {
    let rows = (to - from + 1) as usize;
    let mut u = String::with_capacity(rows * 260 + 300);
    let mut p = String::with_capacity(rows * 160 + 300);
    let mut a = String::with_capacity(rows * 160 + 300);
    let mut v = String::with_capacity(rows * 110 + 100);
    u.push_str(
        "INSERT INTO users (id, client_id, ext_id, login_id, state, is_technical_user, \
         first_name, family_name, email, address, created, last_modified, version) VALUES ",
    );
    p.push_str(
        "INSERT INTO profiles (id, client_id, user_id, user_ext_id, unit_id, ext_id, name, \
         state, is_default_profile, created, last_modified, version) VALUES ",
    );
    a.push_str(
        "INSERT INTO authorizations (id, client_id, profile_id, role_id, ext_id, client_global, \
         unit_global, app_global, enterprise_role_global, created, last_modified, version) VALUES ",
    );
    v.push_str("INSERT INTO property_values (property_id, user_id, value, value_key) VALUES ");
    let c = keys.client;
    for (n, j) in (from..=to).enumerate() {
        let sep = if n == 0 { "" } else { ", " };
        let off = i64::from(j - from);
        let (uid, pid, aid) = (
            keys.user + off,
            keys.profile + off,
            keys.authorization + off,
        );
        let at = ts(plan.user_created_millis(i, j))?;
        let ext = format!("c{i}-u{j}");
        let leaf = tree.leaves[(j as usize - 1) % tree.leaves.len()];
        let role = if j % 10 == 1 {
            keys.user_admin_role
        } else {
            keys.self_admin_role
        };
        let _ = write!(
            u,
            "{sep}({uid}, {c}, '{ext}', '{ext}', 'active', FALSE, 'First{j}', 'User{j}', \
             '{ext}@bench.invalid', '{{}}', {at}, {at}, 1)"
        );
        let _ = write!(
            p,
            "{sep}({pid}, {c}, {uid}, '{ext}', {leaf}, '{ext}-p', 'Default profile', 'active', \
             TRUE, {at}, {at}, 1)"
        );
        let _ = write!(
            a,
            "{sep}({aid}, {c}, {pid}, {role}, '{ext}-p-a', FALSE, FALSE, FALSE, FALSE, \
             {at}, {at}, 1)"
        );
        if let Some(property) = keys.property {
            let employee = format!("E{i}-{j}");
            let _ = write!(
                v,
                "{sep}({property}, {uid}, '{employee}', '{}')",
                idm_domain::properties::plain_value_key(&employee)
            );
        }
    }
    conn.batch_execute(&u)?;
    conn.batch_execute(&p)?;
    conn.batch_execute(&a)?;
    if keys.property.is_some() {
        conn.batch_execute(&v)?;
    }
    Ok(())
}

fn insert_terms(conn: &mut DbConnection, count: u32, first_id: i64) -> R<()> {
    if count == 0 {
        return Ok(());
    }
    let mut sql = String::from(
        "INSERT INTO terms (id, ext_id, name, active, silent_acceptance, terms_version, urls, \
         created, last_modified, version) VALUES ",
    );
    for k in 1..=count {
        let sep = if k == 1 { "" } else { ", " };
        let at = ts(SEED_EPOCH_MILLIS + i64::from(k))?;
        let id = first_id + i64::from(k - 1);
        let _ = write!(
            sql,
            "{sep}({id}, 't{k}', 'Bench terms {k}', TRUE, FALSE, '1.0', '{{}}', {at}, {at}, 1)"
        );
    }
    conn.batch_execute(&sql)?;
    Ok(())
}

/// Moves PostgreSQL's sequences past the explicit keys and refreshes planner statistics.
fn finish_postgres(conn: &mut DbConnection) -> R<()> {
    let mut sql = String::new();
    for t in [
        "clients",
        "units",
        "users",
        "profiles",
        "authorizations",
        "terms",
    ] {
        let _ = write!(
            sql,
            "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t})); "
        );
    }
    sql.push_str(
        "ANALYZE clients, units, users, profiles, authorizations, terms, property_values;",
    );
    conn.batch_execute(&sql)?;
    Ok(())
}

impl Store {
    /// Seeds `plan` into the database (see the module docs for what and how). The built-in
    /// roles must exist (run bootstrap first) and the extIds `c1..`/`t1..` must be free.
    ///
    /// # Errors
    /// `Conflict` when a seeded extId already exists, `Unavailable`/`Other` on database
    /// failures. Batches committed before a failure stay.
    pub async fn seed(&self, plan: SeedPlan) -> Result<SeedReport, RepoError> {
        let backend = self.backend();
        self.run_write_alone(move |conn| {
            let started = Instant::now();
            let batch = plan.batch_size.max(1);
            let mut report = SeedReport::default();
            let user_admin_role = role_id(conn, "UserAdmin")?;
            let self_admin_role = role_id(conn, "SelfAdmin")?;
            let property = if plan.properties {
                Some(seed_property(conn, &ts(plan.user_created_millis(1, 1))?)?)
            } else {
                None
            };
            let [mut client_id, mut unit_id, mut user_id, mut profile_id, mut auth_id, term_id] =
                next_ids(conn)?;
            for i in 1..=plan.clients {
                let at = ts(plan.user_created_millis(i, 1))?;
                let tree = conn.transaction(|c| insert_client(c, i, client_id, unit_id, &at))?;
                report.clients += 1;
                report.units += u64::from(plan.units_per_client());
                unit_id += i64::from(plan.units_per_client());
                let mut from = 1;
                while from <= plan.users_per_client {
                    let to = (from + batch - 1).min(plan.users_per_client);
                    let keys = Keys {
                        client: client_id,
                        user: user_id,
                        profile: profile_id,
                        authorization: auth_id,
                        user_admin_role,
                        self_admin_role,
                        property,
                    };
                    conn.transaction(|c| insert_users(c, &plan, i, from, to, &tree, &keys))?;
                    let n = u64::from(to - from + 1);
                    report.users += n;
                    report.profiles += n;
                    report.authorizations += n;
                    if plan.properties {
                        report.property_values += n;
                    }
                    let n = i64::from(to - from + 1);
                    user_id += n;
                    profile_id += n;
                    auth_id += n;
                    if report.users % 100_000 < u64::from(batch) {
                        tracing::info!(
                            users = report.users,
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "seeding"
                        );
                    }
                    from = to + 1;
                }
                client_id += 1;
            }
            conn.transaction(|c| insert_terms(c, plan.terms, term_id))?;
            report.terms = u64::from(plan.terms);
            if backend == Backend::Postgres {
                finish_postgres(conn)?;
            }
            report.elapsed = started.elapsed();
            Ok(report)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_follow_the_seeded_creation_times() {
        let plan = SeedPlan {
            clients: 2,
            users_per_client: 1000,
            terms: 1,
            batch_size: 100,
            properties: true,
        };
        assert_eq!(plan.users_page_token(1, 1, 100), None);
        assert_eq!(
            plan.users_page_token(1, 2, 100).as_deref(),
            Some("1577836800099_c1-u100")
        );
        assert_eq!(
            plan.users_page_token(2, 3, 100).as_deref(),
            Some("1577836801199_c2-u200")
        );
    }

    #[test]
    fn timestamps_are_written_as_diesel_writes_them() {
        assert_eq!(
            ts(SEED_EPOCH_MILLIS + 1).ok(),
            Some("'2020-01-01 00:00:00.001'".to_owned())
        );
        assert_eq!(quote("it's"), "'it''s'");
    }
}
