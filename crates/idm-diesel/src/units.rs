//! Units adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::Unit;
use idm_domain::values::Validity;
use idm_ports::query::{ListQuery, Listed};
use idm_ports::units::{UnitAdmin, UnitRepo};
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::listing::{listed, Column};
use crate::rows::{cursor_of, keyset, lang, meta, parse, Db};
use crate::schema::{clients, units};
use crate::versioned::{columns_of, joined, versioned_update};
use crate::{DbConnection, Store, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = units)]
pub(crate) struct UnitRow {
    id: i64,
    client_id: i64,
    parent_id: Option<i64>,
    ext_id: String,
    path: String,
    hierarchical_name: String,
    name: String,
    location: Option<String>,
    description: Option<String>,
    state: String,
    display_name: String,
    abbreviation: String,
    profileless: bool,
    modification_comment: Option<String>,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl UnitRow {
    pub(crate) fn into_domain(self, client_ext_id: String) -> R<Unit> {
        // extIds cannot contain '/', so the parent's extId is the second-to-last segment of the
        // hierarchical name: no self-join needed.
        let parent_ext_id = self.parent_id.and_then(|_| {
            let mut segments = self.hierarchical_name.rsplit('/');
            segments.next();
            segments.next().map(str::to_owned)
        });
        Ok(Unit {
            client_id: self.client_id,
            client_ext_id,
            parent_id: self.parent_id,
            parent_ext_id,
            path: self.path,
            hierarchical_name: self.hierarchical_name,
            name: self.name,
            location: self.location,
            description: self.description,
            state: parse(&self.state, "unit state")?,
            display_name: lang(&self.display_name)?,
            abbreviation: lang(&self.abbreviation)?,
            profileless: self.profileless,
            modification_comment: self.modification_comment,
            validity: Validity {
                from: self.valid_from.map(|t| t.and_utc()),
                to: self.valid_to.map(|t| t.and_utc()),
            },
            meta: meta(
                self.id,
                self.ext_id,
                self.created,
                self.last_modified,
                self.version,
            ),
        })
    }
}

/// The columns a unit update may change; also the body of its insert.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = units, treat_none_as_null = true, treat_none_as_default_value = false)]
struct UnitValues<'a> {
    name: &'a str,
    location: Option<&'a str>,
    description: Option<&'a str>,
    state: &'a str,
    display_name: String,
    abbreviation: String,
    profileless: bool,
    modification_comment: Option<&'a str>,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
}

impl<'a> UnitValues<'a> {
    fn of(u: &'a Unit) -> Self {
        UnitValues {
            name: &u.name,
            location: u.location.as_deref(),
            description: u.description.as_deref(),
            state: u.state.as_str(),
            display_name: u.display_name.to_storage(),
            abbreviation: u.abbreviation.to_storage(),
            profileless: u.profileless,
            modification_comment: u.modification_comment.as_deref(),
            valid_from: u.validity.from.map(|t| t.naive_utc()),
            valid_to: u.validity.to.map(|t| t.naive_utc()),
        }
    }
}

/// A new unit row: placement and identity columns plus [`UnitValues`].
#[derive(Insertable)]
#[diesel(table_name = units, treat_none_as_default_value = false)]
struct NewUnit<'a> {
    client_id: i64,
    parent_id: Option<i64>,
    ext_id: &'a str,
    path: &'a str,
    hierarchical_name: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    #[diesel(embed)]
    values: UnitValues<'a>,
}

/// What RETURNING hands back for a unit: its row and its client's extId (a correlated
/// subselect on the primary key, so the written row comes back whole in one statement).
macro_rules! unit_returning {
    () => {
        (
            columns_of::<UnitRow>(),
            joined!(clients::ext_id, units::client_id),
        )
    };
}

fn returned((row, client_ext_id): (UnitRow, String)) -> R<Unit> {
    row.into_domain(client_ext_id)
}

/// The unit with this extId in the client, with the client's extId filled in.
pub(crate) fn find(conn: &mut DbConnection, client_id: i64, ext_id: &str) -> R<Option<Unit>> {
    units::table
        .inner_join(clients::table)
        .filter(units::client_id.eq(client_id))
        .filter(units::ext_id.eq(ext_id))
        .select((UnitRow::as_select(), clients::ext_id))
        .get_result::<(UnitRow, String)>(conn)
        .optional()?
        .map(|(row, client_ext_id)| row.into_domain(client_ext_id))
        .transpose()
}

/// The unit with this key.
pub(crate) fn find_by_id(conn: &mut DbConnection, id: i64) -> R<Option<Unit>> {
    units::table
        .inner_join(clients::table)
        .filter(units::id.eq(id))
        .select((UnitRow::as_select(), clients::ext_id))
        .get_result::<(UnitRow, String)>(conn)
        .optional()?
        .map(|(row, client_ext_id)| row.into_domain(client_ext_id))
        .transpose()
}

/// Inserts a unit under `unit.parent_id`, deriving `path` and `hierarchical_name` from the
/// parent. Must run inside the caller's transaction (two statements).
pub(crate) fn insert(conn: &mut DbConnection, unit: Unit) -> R<Unit> {
    lock_tree(conn, unit.client_id)?;
    lock_siblings(conn, unit.client_id, unit.parent_id)?;
    check_unique_name(conn, unit.client_id, unit.parent_id, &unit.name, None)?;
    let (parent_path, parent_hname) = match unit.parent_id {
        Some(pid) => {
            let (path, hname): (String, String) = units::table
                .filter(units::id.eq(pid))
                .select((units::path, units::hierarchical_name))
                .get_result(conn)
                .optional()?
                .ok_or(RepoError::NotFound)?;
            (path, format!("{hname}/"))
        }
        None => ("/".to_owned(), String::new()),
    };
    let hname = format!("{parent_hname}{}", unit.meta.ext_id);
    let id: i64 = diesel::insert_into(units::table)
        .values(NewUnit {
            client_id: unit.client_id,
            parent_id: unit.parent_id,
            ext_id: &unit.meta.ext_id,
            // The id is not known before the insert; the real path is written right after.
            path: &parent_path,
            hierarchical_name: &hname,
            created: unit.meta.created,
            last_modified: unit.meta.last_modified,
            version: unit.meta.version,
            values: UnitValues::of(&unit),
        })
        .returning(units::id)
        .get_result(conn)?;
    returned(
        diesel::update(units::table.filter(units::id.eq(id)))
            .set(units::path.eq(format!("{parent_path}{id}/")))
            .returning(unit_returning!())
            .get_result(conn)?,
    )
}

/// The tree lock of one client: every write that places a unit (create, move, rename, delete)
/// takes it first, so they all lock in one global order (client row, then units) and each
/// reads paths only after the previous writer of the tree committed. Without it, on
/// PostgreSQL a child created under a unit being moved took its path from the pre-move row,
/// and opposite moves locked each other's rows in opposite orders (deadlock, then 500).
///
/// A no-op UPDATE of the client row: a row lock on PostgreSQL, the database write lock on
/// SQLite, the same statement on both. The client row is only written by client PATCH and
/// root-unit creation, which take it anyway.
fn lock_tree(conn: &mut DbConnection, client_id: i64) -> R<()> {
    diesel::update(clients::table.filter(clients::id.eq(client_id)))
        .set(clients::version.eq(clients::version))
        .execute(conn)?;
    Ok(())
}

/// [`lock_tree`] for the client of unit `unit_id`, named by the unit (one statement, so on
/// SQLite the transaction still begins with a write). `false` when the unit does not exist.
fn lock_tree_of_unit(conn: &mut DbConnection, unit_id: i64) -> R<bool> {
    let owner = units::table
        .filter(units::id.eq(unit_id))
        .select(units::client_id)
        .single_value();
    let n = diesel::update(clients::table.filter(clients::id.nullable().eq(owner)))
        .set(clients::version.eq(clients::version))
        .execute(conn)?;
    Ok(n > 0)
}

/// Serialises writers that decide on the names under one parent: a no-op UPDATE of the parent
/// unit (or, for root units, of the client) takes its row lock on PostgreSQL and the write lock
/// on SQLite, so a concurrent check-then-insert under the same parent waits for this one.
/// The versioned update of a unit with its sibling-name check; run inside a transaction.
pub(crate) fn update(conn: &mut DbConnection, unit: &Unit) -> R<Unit> {
    lock_siblings(conn, unit.client_id, unit.parent_id)?;
    check_unique_name(
        conn,
        unit.client_id,
        unit.parent_id,
        &unit.name,
        Some(unit.meta.id),
    )?;
    returned(versioned_update!(
        conn,
        units,
        unit.meta.id,
        unit.meta.version,
        UnitValues::of(unit),
        unit_returning!() => (UnitRow, String),
    )?)
}

fn lock_siblings(conn: &mut DbConnection, client_id: i64, parent_id: Option<i64>) -> R<()> {
    match parent_id {
        Some(pid) => {
            diesel::update(units::table.filter(units::id.eq(pid)))
                .set(units::version.eq(units::version))
                .execute(conn)?;
        }
        None => {
            diesel::update(clients::table.filter(clients::id.eq(client_id)))
                .set(clients::version.eq(clients::version))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Refuses a name a sibling already has (`except` = the unit being renamed or moved).
fn check_unique_name(
    conn: &mut DbConnection,
    client_id: i64,
    parent_id: Option<i64>,
    name: &str,
    except: Option<i64>,
) -> R<()> {
    let mut q = units::table
        .filter(units::client_id.eq(client_id))
        .filter(units::name.eq(name))
        .select(units::id)
        .into_boxed::<Db>();
    q = match parent_id {
        Some(pid) => q.filter(units::parent_id.eq(pid)),
        None => q.filter(units::parent_id.is_null()),
    };
    if let Some(id) = except {
        q = q.filter(units::id.ne(id));
    }
    // Any one sibling of that name will do; the statement is boxed, so never cached anyway.
    let clash: Option<i64> = q.limit(1).get_result(conn).optional()?;
    if clash.is_some() {
        return Err(RepoError::Conflict {
            constraint: "unique:units.name".into(),
        }
        .into());
    }
    Ok(())
}

#[async_trait]
impl UnitAdmin for Store {
    async fn query_unit_children(
        &self,
        parent_id: i64,
        query: ListQuery,
    ) -> RepoResult<Listed<Unit>> {
        let backend = self.backend();
        self.run(move |conn| {
            let listed = listed!(
                conn,
                units::table
                    .inner_join(clients::table)
                    .filter(units::parent_id.eq(parent_id))
                    .select((UnitRow::as_select(), clients::ext_id))
                    .into_boxed::<Db>(),
                (UnitRow, String),
                query,
                unit_column,
                "units.ext_id",
                backend
            )?;
            let items = listed
                .items
                .into_iter()
                .map(|(r, c)| r.into_domain(c))
                .collect::<R<Vec<_>>>()?;
            Ok(Listed {
                items,
                more: listed.more,
                total: listed.total,
            })
        })
        .await
    }

    async fn list_unit_children(
        &self,
        parent_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<Unit>> {
        self.run(move |conn| {
            let query = units::table
                .inner_join(clients::table)
                .filter(units::parent_id.eq(parent_id))
                .select((UnitRow::as_select(), clients::ext_id))
                .into_boxed::<Db>();
            let rows: Vec<(UnitRow, String)> = keyset!(query, units, page).load(conn)?;
            let items = rows
                .into_iter()
                .map(|(r, c)| r.into_domain(c))
                .collect::<R<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |u| {
                cursor_of(&u.meta)
            }))
        })
        .await
    }

    async fn update_unit(&self, unit: &Unit) -> RepoResult<Unit> {
        let unit = unit.clone();
        self.tx_retrying(move |conn| {
            lock_tree(conn, unit.client_id)?;
            lock_siblings(conn, unit.client_id, unit.parent_id)?;
            check_unique_name(
                conn,
                unit.client_id,
                unit.parent_id,
                &unit.name,
                Some(unit.meta.id),
            )?;
            returned(versioned_update!(
                conn,
                units,
                unit.meta.id,
                unit.meta.version,
                UnitValues::of(&unit),
                unit_returning!() => (UnitRow, String),
            )?)
        })
        .await
    }

    async fn delete_unit(&self, unit_id: i64) -> RepoResult<()> {
        use crate::schema::profiles;
        self.tx_retrying(move |conn| {
            if !lock_tree_of_unit(conn, unit_id)? {
                return Err(RepoError::NotFound.into());
            }
            // Lock the unit too: profiles are added without the tree lock.
            let n = diesel::update(units::table.filter(units::id.eq(unit_id)))
                .set(units::version.eq(units::version))
                .execute(conn)?;
            if n == 0 {
                return Err(RepoError::NotFound.into());
            }
            let child = diesel::select(diesel::dsl::exists(
                units::table.filter(units::parent_id.eq(unit_id)),
            ))
            .get_result::<bool>(conn)?;
            let profile = diesel::select(diesel::dsl::exists(
                profiles::table.filter(profiles::unit_id.eq(unit_id)),
            ))
            .get_result::<bool>(conn)?;
            if child || profile {
                return Err(RepoError::Conflict {
                    constraint: "dependencies".into(),
                }
                .into());
            }
            diesel::delete(units::table.filter(units::id.eq(unit_id))).execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn move_unit(&self, unit_id: i64, new_parent_id: i64) -> RepoResult<Unit> {
        self.tx_retrying(move |conn| {
            // Write first: SQLite takes the write lock now, not on a later upgrade. Everything
            // below is read after the tree lock, so the subtree is rewritten from committed,
            // locked paths, not from the ones the service saw before the transaction.
            if !lock_tree_of_unit(conn, unit_id)? {
                return Err(RepoError::NotFound.into());
            }
            lock_siblings(conn, 0, Some(new_parent_id))?;
            let unit = find_by_id(conn, unit_id)?.ok_or(RepoError::NotFound)?;
            let parent = find_by_id(conn, new_parent_id)?.ok_or(RepoError::NotFound)?;
            if parent.client_id != unit.client_id || parent.path.starts_with(&unit.path) {
                return Err(RepoError::Conflict {
                    constraint: "cycle".into(),
                }
                .into());
            }
            check_unique_name(
                conn,
                unit.client_id,
                Some(parent.meta.id),
                &unit.name,
                Some(unit.meta.id),
            )?;
            let new_path = format!("{}{}/", parent.path, unit.meta.id);
            let new_hname = format!("{}/{}", parent.hierarchical_name, unit.meta.ext_id);
            let now = idm_domain::values::now_millis();
            let subtree: Vec<(i64, String, String, i64)> = units::table
                .filter(units::client_id.eq(unit.client_id))
                .filter(units::path.like(format!("{}%", unit.path)))
                .select((
                    units::id,
                    units::path,
                    units::hierarchical_name,
                    units::version,
                ))
                .load(conn)?;
            for (id, path, hname, version) in subtree {
                // Prefix replacement: everything below the moved unit keeps its relative place.
                let path = format!("{new_path}{}", &path[unit.path.len().min(path.len())..]);
                let hname = format!(
                    "{new_hname}{}",
                    hname.get(unit.hierarchical_name.len()..).unwrap_or("")
                );
                diesel::update(units::table.filter(units::id.eq(id)))
                    .set((
                        units::path.eq(path),
                        units::hierarchical_name.eq(hname),
                        units::last_modified.eq(now),
                        units::version.eq(version + 1),
                    ))
                    .execute(conn)?;
            }
            returned(
                diesel::update(units::table.filter(units::id.eq(unit_id)))
                    .set(units::parent_id.eq(Some(new_parent_id)))
                    .returning(unit_returning!())
                    .get_result(conn)?,
            )
        })
        .await
    }
}

#[async_trait]
impl UnitRepo for Store {
    async fn unit_by_ext_id(&self, client_id: i64, ext_id: &str) -> RepoResult<Option<Unit>> {
        let ext_id = ext_id.to_owned();
        self.lookup(move |conn| find(conn, client_id, &ext_id))
            .await
    }

    async fn create_unit(&self, unit: Unit) -> RepoResult<Unit> {
        self.tx_retrying(move |conn| insert(conn, unit.clone()))
            .await
    }
}

/// Where the wire fields of [`idm_ports::query::UNIT_FIELDS`] live.
fn unit_column(field: &str) -> Option<Column> {
    Some(match field {
        "extId" => Column::Plain("units.ext_id"),
        "name" => Column::Plain("units.name"),
        "state" => Column::Plain("units.state"),
        "location" => Column::Text("units.location"),
        "version" => Column::Plain("units.version"),
        "created" => Column::Plain("units.created"),
        "lastModified" => Column::Plain("units.last_modified"),
        "properties" => Column::PropertyOwner("unit_id", "units.id"),
        _ => return None,
    })
}

#[cfg(test)]
mod list_tests {
    #[test]
    fn every_declared_field_has_a_column() {
        for f in idm_ports::query::UNIT_FIELDS {
            assert!(super::unit_column(f.name).is_some(), "{}", f.name);
        }
    }
}
