//! Enterprise roles adapter: enterprise roles, their members, enterprise authorizations.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::{EnterpriseAuthorization, EnterpriseRole, Role};
use idm_domain::values::Validity;
use idm_ports::eroles::{EnterpriseRoleRepo, ProfileRoleGrants};
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::applications::{AuthorizationRow, RoleRow};
use crate::rows::{cursor_of, keyset, lang, meta, Db};
use crate::schema::{
    applications, authorizations, clients, enterprise_authorizations, enterprise_role_members,
    enterprise_roles, roles,
};
use crate::versioned::{columns_of, joined, versioned_update};
use crate::{DbConnection, Store, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = enterprise_roles)]
pub(crate) struct EroleRow {
    id: i64,
    client_id: i64,
    ext_id: String,
    name: String,
    description: Option<String>,
    display_name: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl EroleRow {
    fn into_domain(self, client_ext_id: String) -> R<EnterpriseRole> {
        Ok(EnterpriseRole {
            client_id: self.client_id,
            client_ext_id,
            name: self.name,
            description: self.description,
            display_name: lang(&self.display_name)?,
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

/// The columns an enterprise-role update may change; also the body of its insert.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = enterprise_roles, treat_none_as_null = true, treat_none_as_default_value = false)]
struct EroleValues<'a> {
    name: &'a str,
    description: Option<&'a str>,
    display_name: String,
}

impl<'a> EroleValues<'a> {
    fn of(e: &'a EnterpriseRole) -> Self {
        EroleValues {
            name: &e.name,
            description: e.description.as_deref(),
            display_name: e.display_name.to_storage(),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = enterprise_roles, treat_none_as_default_value = false)]
struct NewErole<'a> {
    client_id: i64,
    ext_id: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    #[diesel(embed)]
    values: EroleValues<'a>,
}

macro_rules! erole_returning {
    () => {
        (
            columns_of::<EroleRow>(),
            joined!(clients::ext_id, enterprise_roles::client_id),
        )
    };
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = enterprise_authorizations)]
pub(crate) struct EauthRow {
    id: i64,
    client_id: i64,
    profile_id: i64,
    enterprise_role_id: i64,
    ext_id: String,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl EauthRow {
    fn into_domain(self, erole_ext_id: String) -> EnterpriseAuthorization {
        EnterpriseAuthorization {
            client_id: self.client_id,
            profile_id: self.profile_id,
            enterprise_role_id: self.enterprise_role_id,
            enterprise_role_ext_id: erole_ext_id,
            validity: validity(self.valid_from, self.valid_to),
            meta: meta(
                self.id,
                self.ext_id,
                self.created,
                self.last_modified,
                self.version,
            ),
        }
    }
}

fn validity(from: Option<NaiveDateTime>, to: Option<NaiveDateTime>) -> Validity {
    Validity {
        from: from.map(|t| t.and_utc()),
        to: to.map(|t| t.and_utc()),
    }
}

/// The columns an enterprise-authorization update may change.
#[derive(AsChangeset)]
#[diesel(table_name = enterprise_authorizations, treat_none_as_null = true)]
struct EauthValues {
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
}

impl EauthValues {
    fn of(v: &Validity) -> Self {
        EauthValues {
            valid_from: v.from.map(|t| t.naive_utc()),
            valid_to: v.to.map(|t| t.naive_utc()),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = enterprise_authorizations, treat_none_as_default_value = false)]
struct NewEauth<'a> {
    client_id: i64,
    profile_id: i64,
    enterprise_role_id: i64,
    ext_id: &'a str,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

macro_rules! eauth_returning {
    () => {
        (
            columns_of::<EauthRow>(),
            joined!(
                enterprise_roles::ext_id,
                enterprise_authorizations::enterprise_role_id
            ),
        )
    };
}

/// Inserts an enterprise role (also inside the transaction of its property values).
pub(crate) fn insert(conn: &mut DbConnection, e: &EnterpriseRole) -> R<EnterpriseRole> {
    let (row, client_ext_id) = diesel::insert_into(enterprise_roles::table)
        .values(NewErole {
            client_id: e.client_id,
            ext_id: &e.meta.ext_id,
            created: e.meta.created,
            last_modified: e.meta.last_modified,
            version: e.meta.version,
            values: EroleValues::of(e),
        })
        .returning(erole_returning!())
        .get_result::<(EroleRow, String)>(conn)?;
    row.into_domain(client_ext_id)
}

/// Writes name, description and display name if the version is still the one read, bumping
/// it (also inside the transaction of its property values).
pub(crate) fn update(conn: &mut DbConnection, e: &EnterpriseRole) -> R<EnterpriseRole> {
    let (row, client_ext_id) = versioned_update!(
        conn,
        enterprise_roles,
        e.meta.id,
        e.meta.version,
        EroleValues::of(e),
        erole_returning!() => (EroleRow, String),
    )?;
    row.into_domain(client_ext_id)
}

#[async_trait]
impl EnterpriseRoleRepo for Store {
    async fn erole_by_ext_id(
        &self,
        client_id: i64,
        ext_id: &str,
    ) -> RepoResult<Option<EnterpriseRole>> {
        let ext_id = ext_id.to_owned();
        self.run(move |conn| {
            enterprise_roles::table
                .inner_join(clients::table)
                .filter(enterprise_roles::client_id.eq(client_id))
                .filter(enterprise_roles::ext_id.eq(&ext_id))
                .select((EroleRow::as_select(), clients::ext_id))
                .get_result::<(EroleRow, String)>(conn)
                .optional()?
                .map(|(r, c)| r.into_domain(c))
                .transpose()
        })
        .await
    }

    async fn create_erole(&self, e: EnterpriseRole) -> RepoResult<EnterpriseRole> {
        self.write(move |conn| insert(conn, &e)).await
    }

    async fn list_eroles(
        &self,
        client_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<EnterpriseRole>> {
        self.run(move |conn| {
            let query = enterprise_roles::table
                .inner_join(clients::table)
                .filter(enterprise_roles::client_id.eq(client_id))
                .select((EroleRow::as_select(), clients::ext_id))
                .into_boxed::<Db>();
            let rows: Vec<(EroleRow, String)> =
                keyset!(query, enterprise_roles, page).load(conn)?;
            let items = rows
                .into_iter()
                .map(|(r, c)| r.into_domain(c))
                .collect::<R<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |e| {
                cursor_of(&e.meta)
            }))
        })
        .await
    }

    async fn update_erole(&self, e: &EnterpriseRole) -> RepoResult<EnterpriseRole> {
        let e = e.clone();
        self.write(move |conn| update(conn, &e)).await
    }

    async fn delete_erole(&self, id: i64, version: i64) -> RepoResult<()> {
        self.write(move |conn| {
            let n = diesel::delete(
                enterprise_roles::table
                    .filter(enterprise_roles::id.eq(id))
                    .filter(enterprise_roles::version.eq(version)),
            )
            .execute(conn)?;
            if n == 0 {
                return Err(RepoError::StaleVersion.into());
            }
            Ok(())
        })
        .await
    }

    async fn add_erole_member(&self, erole_id: i64, role_id: i64) -> RepoResult<()> {
        self.write(move |conn| {
            // In a savepoint: on PostgreSQL a unique violation aborts the enclosing
            // transaction, and an audited write still has its record to append after it.
            let inserted = conn
                .transaction(|conn| {
                    diesel::insert_into(enterprise_role_members::table)
                        .values((
                            enterprise_role_members::enterprise_role_id.eq(erole_id),
                            enterprise_role_members::role_id.eq(role_id),
                        ))
                        .execute(conn)
                })
                .map_err(crate::translate);
            match inserted {
                // A racing PUT of the same member already did the work.
                Ok(_) => Ok(()),
                Err(e) if e.is_unique() => Ok(()),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn remove_erole_member(&self, erole_id: i64, role_id: i64) -> RepoResult<()> {
        self.write(move |conn| {
            let n = diesel::delete(
                enterprise_role_members::table
                    .filter(enterprise_role_members::enterprise_role_id.eq(erole_id))
                    .filter(enterprise_role_members::role_id.eq(role_id)),
            )
            .execute(conn)?;
            if n == 0 {
                return Err(RepoError::NotFound.into());
            }
            Ok(())
        })
        .await
    }

    async fn eauthorization_by_ext_id(
        &self,
        profile_id: i64,
        ext_id: &str,
    ) -> RepoResult<Option<EnterpriseAuthorization>> {
        let ext_id = ext_id.to_owned();
        self.run(move |conn| {
            Ok(enterprise_authorizations::table
                .inner_join(enterprise_roles::table)
                .filter(enterprise_authorizations::profile_id.eq(profile_id))
                .filter(enterprise_authorizations::ext_id.eq(&ext_id))
                .select((EauthRow::as_select(), enterprise_roles::ext_id))
                .get_result::<(EauthRow, String)>(conn)
                .optional()?
                .map(|(r, e)| r.into_domain(e)))
        })
        .await
    }

    async fn create_eauthorization(
        &self,
        a: EnterpriseAuthorization,
    ) -> RepoResult<EnterpriseAuthorization> {
        self.write(move |conn| {
            let (row, erole_ext_id) = diesel::insert_into(enterprise_authorizations::table)
                .values(NewEauth {
                    client_id: a.client_id,
                    profile_id: a.profile_id,
                    enterprise_role_id: a.enterprise_role_id,
                    ext_id: &a.meta.ext_id,
                    valid_from: a.validity.from.map(|t| t.naive_utc()),
                    valid_to: a.validity.to.map(|t| t.naive_utc()),
                    created: a.meta.created,
                    last_modified: a.meta.last_modified,
                    version: a.meta.version,
                })
                .returning(eauth_returning!())
                .get_result::<(EauthRow, String)>(conn)?;
            Ok(row.into_domain(erole_ext_id))
        })
        .await
    }

    async fn list_eauthorizations(
        &self,
        profile_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<EnterpriseAuthorization>> {
        self.run(move |conn| {
            let query = enterprise_authorizations::table
                .inner_join(enterprise_roles::table)
                .filter(enterprise_authorizations::profile_id.eq(profile_id))
                .select((EauthRow::as_select(), enterprise_roles::ext_id))
                .into_boxed::<Db>();
            let rows: Vec<(EauthRow, String)> =
                keyset!(query, enterprise_authorizations, page).load(conn)?;
            let items: Vec<EnterpriseAuthorization> =
                rows.into_iter().map(|(r, e)| r.into_domain(e)).collect();
            Ok(Page::from_overfetch(items, page.limit, |a| {
                cursor_of(&a.meta)
            }))
        })
        .await
    }

    async fn update_eauthorization(
        &self,
        a: &EnterpriseAuthorization,
    ) -> RepoResult<EnterpriseAuthorization> {
        let a = a.clone();
        self.write(move |conn| {
            let (row, erole_ext_id) = versioned_update!(
                conn,
                enterprise_authorizations,
                a.meta.id,
                a.meta.version,
                EauthValues::of(&a.validity),
                eauth_returning!() => (EauthRow, String),
            )?;
            Ok(row.into_domain(erole_ext_id))
        })
        .await
    }

    async fn delete_eauthorization(&self, id: i64) -> RepoResult<()> {
        self.write(move |conn| {
            let n = diesel::delete(
                enterprise_authorizations::table.filter(enterprise_authorizations::id.eq(id)),
            )
            .execute(conn)?;
            if n == 0 {
                return Err(RepoError::NotFound.into());
            }
            Ok(())
        })
        .await
    }

    async fn profile_role_grants(&self, profile_id: i64) -> RepoResult<ProfileRoleGrants> {
        self.read_tx(move |conn| {
            let direct: Vec<(AuthorizationRow, RoleRow, String, String)> = authorizations::table
                .inner_join(roles::table.on(roles::id.eq(authorizations::role_id)))
                .inner_join(applications::table.on(applications::id.eq(roles::application_id)))
                .filter(authorizations::profile_id.eq(profile_id))
                .select((
                    AuthorizationRow::as_select(),
                    RoleRow::as_select(),
                    applications::ext_id,
                    applications::name,
                ))
                .load(conn)?;
            let direct = direct
                .into_iter()
                .map(|(a, r, app_ext_id, app_name)| {
                    let a = a.into_domain(String::new());
                    (a.validity, r.into_domain(app_ext_id, app_name))
                })
                .collect();
            let grants: Vec<(i64, Option<NaiveDateTime>, Option<NaiveDateTime>)> =
                enterprise_authorizations::table
                    .filter(enterprise_authorizations::profile_id.eq(profile_id))
                    .select((
                        enterprise_authorizations::enterprise_role_id,
                        enterprise_authorizations::valid_from,
                        enterprise_authorizations::valid_to,
                    ))
                    .load(conn)?;
            let erole_ids: Vec<i64> = grants.iter().map(|g| g.0).collect();
            let members: Vec<(i64, RoleRow, String, String)> = enterprise_role_members::table
                .inner_join(roles::table.on(roles::id.eq(enterprise_role_members::role_id)))
                .inner_join(applications::table.on(applications::id.eq(roles::application_id)))
                .filter(enterprise_role_members::enterprise_role_id.eq_any(&erole_ids))
                .select((
                    enterprise_role_members::enterprise_role_id,
                    RoleRow::as_select(),
                    applications::ext_id,
                    applications::name,
                ))
                .load(conn)?;
            let mut by_erole: std::collections::HashMap<i64, Vec<Role>> =
                std::collections::HashMap::new();
            for (erole_id, r, app_ext_id, app_name) in members {
                by_erole
                    .entry(erole_id)
                    .or_default()
                    .push(r.into_domain(app_ext_id, app_name));
            }
            let enterprise = grants
                .into_iter()
                .map(|(erole_id, from, to)| {
                    (
                        validity(from, to),
                        by_erole.get(&erole_id).cloned().unwrap_or_default(),
                    )
                })
                .collect();
            Ok(ProfileRoleGrants { direct, enterprise })
        })
        .await
    }
}
