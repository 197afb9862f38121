//! Units adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::Unit;
use idm_domain::values::Validity;
use idm_ports::units::UnitRepo;
use idm_ports::{RepoError, RepoResult};

use crate::rows::{lang, meta, parse};
use crate::schema::{clients, units};
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

#[derive(Insertable)]
#[diesel(table_name = units)]
struct NewUnit<'a> {
    client_id: i64,
    parent_id: Option<i64>,
    ext_id: &'a str,
    path: &'a str,
    hierarchical_name: &'a str,
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
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

/// The unit with this extId in the client, with the client's extId filled in.
pub(crate) fn find(conn: &mut DbConnection, client_id: i64, ext_id: &str) -> R<Option<Unit>> {
    units::table
        .inner_join(clients::table)
        .filter(units::client_id.eq(client_id))
        .filter(units::ext_id.eq(ext_id))
        .select((UnitRow::as_select(), clients::ext_id))
        .first::<(UnitRow, String)>(conn)
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
        .first::<(UnitRow, String)>(conn)
        .optional()?
        .map(|(row, client_ext_id)| row.into_domain(client_ext_id))
        .transpose()
}

/// Inserts a unit under `unit.parent_id`, deriving `path` and `hierarchical_name` from the
/// parent. Must run inside the caller's transaction (two statements).
pub(crate) fn insert(conn: &mut DbConnection, unit: Unit) -> R<Unit> {
    let (parent_path, parent_hname) = match unit.parent_id {
        Some(pid) => {
            let (path, hname): (String, String) = units::table
                .filter(units::id.eq(pid))
                .select((units::path, units::hierarchical_name))
                .first(conn)
                .optional()?
                .ok_or(RepoError::NotFound)?;
            (path, format!("{hname}/"))
        }
        None => ("/".to_owned(), String::new()),
    };
    let hname = format!("{parent_hname}{}", unit.meta.ext_id);
    diesel::insert_into(units::table)
        .values(NewUnit {
            client_id: unit.client_id,
            parent_id: unit.parent_id,
            ext_id: &unit.meta.ext_id,
            // The id is not known before the insert; the real path is written right after.
            path: &parent_path,
            hierarchical_name: &hname,
            name: &unit.name,
            location: unit.location.as_deref(),
            description: unit.description.as_deref(),
            state: unit.state.as_str(),
            display_name: unit.display_name.to_storage(),
            abbreviation: unit.abbreviation.to_storage(),
            profileless: unit.profileless,
            modification_comment: unit.modification_comment.as_deref(),
            valid_from: unit.validity.from.map(|t| t.naive_utc()),
            valid_to: unit.validity.to.map(|t| t.naive_utc()),
            created: unit.meta.created,
            last_modified: unit.meta.last_modified,
            version: 1,
        })
        .execute(conn)?;
    let id: i64 = units::table
        .filter(units::client_id.eq(unit.client_id))
        .filter(units::ext_id.eq(&unit.meta.ext_id))
        .select(units::id)
        .first(conn)?;
    diesel::update(units::table.filter(units::id.eq(id)))
        .set(units::path.eq(format!("{parent_path}{id}/")))
        .execute(conn)?;
    Ok(find_by_id(conn, id)?.ok_or(RepoError::NotFound)?)
}

#[async_trait]
impl UnitRepo for Store {
    async fn unit_by_ext_id(&self, client_id: i64, ext_id: &str) -> RepoResult<Option<Unit>> {
        let ext_id = ext_id.to_owned();
        self.run(move |conn| find(conn, client_id, &ext_id)).await
    }

    async fn create_unit(&self, unit: Unit) -> RepoResult<Unit> {
        self.tx(move |conn| insert(conn, unit)).await
    }
}
