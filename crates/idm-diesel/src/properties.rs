//! Property definitions and values adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::{EnterpriseRole, Profile, Unit, User};
use idm_domain::properties::{AllowedValue, PropertyDef};
use idm_ports::properties::{OwnedValue, Owner, PropertyRepo, StoredValue, ValueWrites};
use idm_ports::users::{UserAdmin, UserRepo};
use idm_ports::{RepoError, RepoResult};

use crate::rows::parse;
use crate::schema::{clients, property_definitions as pd, property_values as pv};
use crate::versioned::{columns_of, versioned_update};
use crate::{DbConnection, Store, E, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = pd)]
struct DefRow {
    id: i64,
    client_id: Option<i64>,
    name: String,
    description: Option<String>,
    property_type: String,
    scope: String,
    encrypted: bool,
    propagated: bool,
    mandatory_on_gui: bool,
    string_max_len: Option<i32>,
    string_regex: Option<String>,
    access_create: String,
    access_modify: String,
    uniqueness_scope: Option<String>,
    gui_precedence: Option<i32>,
    allowed_values: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

/// Allowed values as stored: `[{"id":1,"value":"gold"}]`.
fn allowed_from_json(text: &str) -> R<Vec<AllowedValue>> {
    let corrupt = || {
        E(RepoError::Other(
            "corrupt allowed values in database".into(),
        ))
    };
    let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|_| corrupt())?;
    items
        .into_iter()
        .map(|v| {
            Ok(AllowedValue {
                id: v
                    .get("id")
                    .and_then(serde_json::Value::as_i64)
                    .ok_or_else(corrupt)?,
                value: v
                    .get("value")
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(corrupt)?
                    .to_owned(),
            })
        })
        .collect()
}

fn allowed_to_json(values: &[AllowedValue]) -> String {
    serde_json::Value::Array(
        values
            .iter()
            .map(|a| serde_json::json!({"id": a.id, "value": a.value}))
            .collect(),
    )
    .to_string()
}

impl DefRow {
    fn into_domain(self, client_ext_id: Option<String>) -> R<PropertyDef> {
        let allowed_values = allowed_from_json(&self.allowed_values)?;
        Ok(PropertyDef {
            id: self.id,
            created: self.created,
            last_modified: self.last_modified,
            version: self.version,
            name: self.name,
            description: self.description,
            property_type: parse(&self.property_type, "property type")?,
            scope: parse(&self.scope, "property scope")?,
            client_id: self.client_id,
            client_ext_id,
            encrypted: self.encrypted,
            propagated: self.propagated,
            mandatory_on_gui: self.mandatory_on_gui,
            string_max_len: self.string_max_len,
            string_regex: self.string_regex,
            access_create: parse(&self.access_create, "property access")?,
            access_modify: parse(&self.access_modify, "property access")?,
            uniqueness_scope: self
                .uniqueness_scope
                .as_deref()
                .map(|u| parse(u, "uniqueness scope"))
                .transpose()?,
            gui_precedence: self.gui_precedence,
            allowed_values,
        })
    }
}

/// Changeable columns of a definition.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = pd, treat_none_as_null = true, treat_none_as_default_value = false)]
struct DefValues<'a> {
    name: &'a str,
    description: Option<&'a str>,
    property_type: &'a str,
    scope: &'a str,
    encrypted: bool,
    propagated: bool,
    mandatory_on_gui: bool,
    string_max_len: Option<i32>,
    string_regex: Option<&'a str>,
    access_create: &'a str,
    access_modify: &'a str,
    uniqueness_scope: Option<&'a str>,
    gui_precedence: Option<i32>,
    allowed_values: String,
}

impl<'a> DefValues<'a> {
    fn of(d: &'a PropertyDef) -> Self {
        DefValues {
            name: &d.name,
            description: d.description.as_deref(),
            property_type: d.property_type.as_str(),
            scope: d.scope.as_str(),
            encrypted: d.encrypted,
            propagated: d.propagated,
            mandatory_on_gui: d.mandatory_on_gui,
            string_max_len: d.string_max_len,
            string_regex: d.string_regex.as_deref(),
            access_create: d.access_create.as_str(),
            access_modify: d.access_modify.as_str(),
            uniqueness_scope: d.uniqueness_scope.map(|u| u.as_str()),
            gui_precedence: d.gui_precedence,
            allowed_values: allowed_to_json(&d.allowed_values),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = pd, treat_none_as_default_value = false)]
struct NewDef<'a> {
    client_id: Option<i64>,
    client_key: i64,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    #[diesel(embed)]
    values: DefValues<'a>,
}

fn client_ext_id(conn: &mut DbConnection, client_id: Option<i64>) -> R<Option<String>> {
    match client_id {
        None => Ok(None),
        Some(id) => Ok(clients::table
            .filter(clients::id.eq(id))
            .select(clients::ext_id)
            .get_result::<String>(conn)
            .optional()?),
    }
}

fn load_defs(conn: &mut DbConnection, id: Option<i64>) -> R<Vec<PropertyDef>> {
    let mut q = pd::table
        .left_join(clients::table)
        .select((DefRow::as_select(), clients::ext_id.nullable()))
        .order(pd::id.asc())
        .into_boxed::<crate::rows::Db>();
    if let Some(id) = id {
        q = q.filter(pd::id.eq(id));
    }
    q.load::<(DefRow, Option<String>)>(conn)?
        .into_iter()
        .map(|(row, c)| row.into_domain(c))
        .collect()
}

/// Applies `writes` to the values of `owner`: removed and replaced values are deleted, then
/// the new ones inserted; a value breaking its uniqueness scope fails the insert on the
/// `property_values_unique_key` index.
fn write_values(conn: &mut DbConnection, owner: Owner, writes: &ValueWrites) -> R<()> {
    let ids: Vec<i64> = writes
        .remove
        .iter()
        .copied()
        .chain(writes.set.iter().map(|s| s.property_id))
        .collect();
    if !ids.is_empty() {
        let scoped = pv::table.filter(pv::property_id.eq_any(ids));
        match owner {
            Owner::User(id) => diesel::delete(scoped.filter(pv::user_id.eq(id))).execute(conn)?,
            Owner::Profile(id) => {
                diesel::delete(scoped.filter(pv::profile_id.eq(id))).execute(conn)?
            }
            Owner::Unit(id) => diesel::delete(scoped.filter(pv::unit_id.eq(id))).execute(conn)?,
            Owner::EnterpriseRole(id) => {
                diesel::delete(scoped.filter(pv::enterprise_role_id.eq(id))).execute(conn)?
            }
        };
    }
    if writes.set.is_empty() {
        return Ok(());
    }
    let (user_id, profile_id, unit_id, erole_id) = match owner {
        Owner::User(id) => (Some(id), None, None, None),
        Owner::Profile(id) => (None, Some(id), None, None),
        Owner::Unit(id) => (None, None, Some(id), None),
        Owner::EnterpriseRole(id) => (None, None, None, Some(id)),
    };
    // One INSERT per value: the multi-backend connection has no batch insert, and an entity
    // carries a handful of properties.
    for s in &writes.set {
        let s: &StoredValue = s;
        diesel::insert_into(pv::table)
            .values((
                pv::property_id.eq(s.property_id),
                pv::user_id.eq(user_id),
                pv::profile_id.eq(profile_id),
                pv::unit_id.eq(unit_id),
                pv::enterprise_role_id.eq(erole_id),
                pv::value.eq(&s.value),
                pv::value_key.eq(&s.value_key),
                pv::unique_key.eq(s.unique_key.as_deref()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[async_trait]
impl PropertyRepo for Store {
    async fn create_property(&self, def: PropertyDef) -> RepoResult<PropertyDef> {
        self.tx(move |conn| {
            let row: DefRow = diesel::insert_into(pd::table)
                .values(NewDef {
                    client_id: def.client_id,
                    client_key: def.client_id.unwrap_or(0),
                    created: def.created,
                    last_modified: def.last_modified,
                    version: def.version,
                    values: DefValues::of(&def),
                })
                .returning(columns_of::<DefRow>())
                .get_result(conn)?;
            let c = client_ext_id(conn, row.client_id)?;
            row.into_domain(c)
        })
        .await
    }

    async fn property_by_id(&self, id: i64) -> RepoResult<Option<PropertyDef>> {
        self.lookup(move |conn| Ok(load_defs(conn, Some(id))?.into_iter().next()))
            .await
    }

    async fn list_properties(&self) -> RepoResult<Vec<PropertyDef>> {
        // Read on every user and profile write: a handful of rows, a short read.
        self.lookup(move |conn| load_defs(conn, None)).await
    }

    async fn update_property(
        &self,
        def: &PropertyDef,
        drop_values: bool,
    ) -> RepoResult<PropertyDef> {
        let def = def.clone();
        self.tx(move |conn| {
            let row: DefRow = versioned_update!(
                conn,
                pd,
                def.id,
                def.version,
                DefValues::of(&def),
                columns_of::<DefRow>() => DefRow,
            )?;
            if drop_values {
                diesel::delete(pv::table.filter(pv::property_id.eq(def.id))).execute(conn)?;
            }
            let c = client_ext_id(conn, row.client_id)?;
            row.into_domain(c)
        })
        .await
    }

    async fn property_values(&self, owner: Owner) -> RepoResult<Vec<OwnedValue>> {
        // The values of one owner, read on its every write and GET: a short read.
        self.lookup(move |conn| owner_values(conn, owner)).await
    }

    async fn users_property_values(&self, user_ids: &[i64]) -> RepoResult<Vec<(i64, OwnedValue)>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = user_ids.to_vec();
        self.run(move |conn| {
            let rows: Vec<(Option<i64>, i64, String)> = pv::table
                .filter(pv::user_id.eq_any(&ids))
                .select((pv::user_id, pv::property_id, pv::value))
                .order((pv::user_id.asc(), pv::property_id.asc()))
                .load(conn)?;
            Ok(rows
                .into_iter()
                .filter_map(|(user, property_id, value)| {
                    Some((user?, OwnedValue { property_id, value }))
                })
                .collect())
        })
        .await
    }

    async fn users_with_property_value(
        &self,
        property_id: i64,
        value_key: &str,
    ) -> RepoResult<Vec<i64>> {
        let value_key = value_key.to_owned();
        self.run(move |conn| {
            Ok(pv::table
                .filter(pv::property_id.eq(property_id))
                .filter(pv::value_key.eq(&value_key))
                .filter(pv::user_id.is_not_null())
                .select(pv::user_id.assume_not_null())
                .load::<i64>(conn)?)
        })
        .await
    }

    async fn create_user_with_properties(
        &self,
        user: User,
        writes: ValueWrites,
    ) -> RepoResult<User> {
        if writes.is_empty() {
            // One statement (on PostgreSQL without BEGIN/COMMIT): see `Store::write_one`.
            return self.create_user(user).await;
        }
        self.tx(move |conn| {
            let u = crate::users::insert(conn, &user)?;
            write_values(conn, Owner::User(u.meta.id), &writes)?;
            Ok(u)
        })
        .await
    }

    async fn update_user_with_properties(
        &self,
        user: &User,
        before: &User,
        writes: ValueWrites,
    ) -> RepoResult<User> {
        if writes.is_empty() {
            return self.update_user(user, before).await;
        }
        let (user, before) = (user.clone(), before.clone());
        self.tx(move |conn| {
            let u = crate::users::update(conn, &user, &before)?;
            write_values(conn, Owner::User(u.meta.id), &writes)?;
            Ok(u)
        })
        .await
    }

    async fn create_profile_with_properties(
        &self,
        profile: Profile,
        writes: ValueWrites,
    ) -> RepoResult<Profile> {
        self.tx(move |conn| {
            let p = crate::profiles::insert(conn, &profile)?;
            write_values(conn, Owner::Profile(p.meta.id), &writes)?;
            Ok(p)
        })
        .await
    }

    async fn update_profile_with_properties(
        &self,
        profile: &Profile,
        writes: ValueWrites,
    ) -> RepoResult<Profile> {
        let profile = profile.clone();
        self.tx(move |conn| {
            let p = crate::profiles::update(conn, &profile)?;
            write_values(conn, Owner::Profile(p.meta.id), &writes)?;
            Ok(p)
        })
        .await
    }

    async fn create_unit_with_properties(
        &self,
        unit: Unit,
        writes: ValueWrites,
    ) -> RepoResult<Unit> {
        self.tx(move |conn| {
            let u = crate::units::insert(conn, unit)?;
            write_values(conn, Owner::Unit(u.meta.id), &writes)?;
            Ok(u)
        })
        .await
    }

    async fn update_unit_with_properties(
        &self,
        unit: &Unit,
        writes: ValueWrites,
    ) -> RepoResult<Unit> {
        let unit = unit.clone();
        self.tx(move |conn| {
            let u = crate::units::update(conn, &unit)?;
            write_values(conn, Owner::Unit(u.meta.id), &writes)?;
            Ok(u)
        })
        .await
    }

    async fn create_erole_with_properties(
        &self,
        erole: EnterpriseRole,
        writes: ValueWrites,
    ) -> RepoResult<EnterpriseRole> {
        self.tx(move |conn| {
            let e = crate::eroles::insert(conn, &erole)?;
            write_values(conn, Owner::EnterpriseRole(e.meta.id), &writes)?;
            Ok(e)
        })
        .await
    }

    async fn update_erole_with_properties(
        &self,
        erole: &EnterpriseRole,
        writes: ValueWrites,
    ) -> RepoResult<EnterpriseRole> {
        let erole = erole.clone();
        self.tx(move |conn| {
            let e = crate::eroles::update(conn, &erole)?;
            write_values(conn, Owner::EnterpriseRole(e.meta.id), &writes)?;
            Ok(e)
        })
        .await
    }
}

/// The property values of one owner, ordered by definition id.
pub(crate) fn owner_values(conn: &mut DbConnection, owner: Owner) -> R<Vec<OwnedValue>> {
    let rows: Vec<(i64, String)> = native!(conn, |conn| {
        let q = pv::table
            .select((pv::property_id, pv::value))
            .order(pv::property_id.asc());
        match owner {
            Owner::User(id) => q.filter(pv::user_id.eq(id)).load(conn),
            Owner::Profile(id) => q.filter(pv::profile_id.eq(id)).load(conn),
            Owner::Unit(id) => q.filter(pv::unit_id.eq(id)).load(conn),
            Owner::EnterpriseRole(id) => q.filter(pv::enterprise_role_id.eq(id)).load(conn),
        }
    })?;
    Ok(rows
        .into_iter()
        .map(|(property_id, value)| OwnedValue { property_id, value })
        .collect())
}
