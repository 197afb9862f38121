//! Applications, roles and authorizations adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::{Application, Authorization, Role};
use idm_domain::values::Validity;
use idm_ports::applications::ApplicationRepo;
use idm_ports::query::{ListQuery, Listed};
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::listing::{listed, Column};
use crate::rows::{cursor_of, keyset, lang, meta, Db};
use crate::schema::{applications, authorizations, enterprise_role_members, roles};
use crate::versioned::{columns_of, joined, versioned_update};
use crate::{DbConnection, Store, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = applications)]
pub(crate) struct ApplicationRow {
    id: i64,
    ext_id: String,
    name: String,
    description: Option<String>,
    url: Option<String>,
    displayed: bool,
    display_name: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl ApplicationRow {
    pub(crate) fn into_domain(self) -> R<Application> {
        Ok(Application {
            display_name: lang(&self.display_name)?,
            name: self.name,
            description: self.description,
            url: self.url,
            displayed: self.displayed,
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

#[derive(Queryable, Selectable)]
#[diesel(table_name = roles)]
pub(crate) struct RoleRow {
    id: i64,
    application_id: i64,
    ext_id: String,
    name: String,
    description: Option<String>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl RoleRow {
    pub(crate) fn into_domain(self, app_ext_id: String, app_name: String) -> Role {
        Role {
            application_id: self.application_id,
            application_ext_id: app_ext_id,
            application_name: app_name,
            name: self.name,
            description: self.description,
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

#[derive(Queryable, Selectable)]
#[diesel(table_name = authorizations)]
pub(crate) struct AuthorizationRow {
    id: i64,
    client_id: i64,
    profile_id: i64,
    role_id: i64,
    ext_id: String,
    client_global: bool,
    unit_global: bool,
    app_global: bool,
    enterprise_role_global: bool,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl AuthorizationRow {
    pub(crate) fn into_domain(self, role_ext_id: String) -> Authorization {
        Authorization {
            client_id: self.client_id,
            profile_id: self.profile_id,
            role_id: self.role_id,
            role_ext_id,
            client_global: self.client_global,
            unit_global: self.unit_global,
            app_global: self.app_global,
            enterprise_role_global: self.enterprise_role_global,
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
        }
    }
}

/// The columns an application update may change.
#[derive(AsChangeset)]
#[diesel(table_name = applications, treat_none_as_null = true)]
struct ApplicationValues<'a> {
    name: &'a str,
    description: Option<&'a str>,
    url: Option<&'a str>,
    displayed: bool,
    display_name: String,
}

/// The columns an authorization update may change (the role and the profile never change).
#[derive(AsChangeset)]
#[diesel(table_name = authorizations, treat_none_as_null = true)]
struct AuthorizationValues {
    client_global: bool,
    unit_global: bool,
    app_global: bool,
    enterprise_role_global: bool,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
}

/// A new application row.
#[derive(Insertable)]
#[diesel(table_name = applications, treat_none_as_default_value = false)]
struct NewApplication<'a> {
    ext_id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    url: Option<&'a str>,
    displayed: bool,
    display_name: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl<'a> NewApplication<'a> {
    fn of(a: &'a Application) -> Self {
        NewApplication {
            ext_id: &a.meta.ext_id,
            name: &a.name,
            description: a.description.as_deref(),
            url: a.url.as_deref(),
            displayed: a.displayed,
            display_name: a.display_name.to_storage(),
            created: a.meta.created,
            last_modified: a.meta.last_modified,
            version: 1,
        }
    }
}

/// A new role row.
#[derive(Insertable)]
#[diesel(table_name = roles, treat_none_as_default_value = false)]
struct NewRole<'a> {
    application_id: i64,
    ext_id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl<'a> NewRole<'a> {
    fn of(r: &'a Role) -> Self {
        NewRole {
            application_id: r.application_id,
            ext_id: &r.meta.ext_id,
            name: &r.name,
            description: r.description.as_deref(),
            created: r.meta.created,
            last_modified: r.meta.last_modified,
            version: 1,
        }
    }
}

/// A new authorization row.
#[derive(Insertable)]
#[diesel(table_name = authorizations, treat_none_as_default_value = false)]
struct NewAuthorization<'a> {
    client_id: i64,
    profile_id: i64,
    role_id: i64,
    ext_id: &'a str,
    client_global: bool,
    unit_global: bool,
    app_global: bool,
    enterprise_role_global: bool,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl<'a> NewAuthorization<'a> {
    fn of(a: &'a Authorization) -> Self {
        NewAuthorization {
            client_id: a.client_id,
            profile_id: a.profile_id,
            role_id: a.role_id,
            ext_id: &a.meta.ext_id,
            client_global: a.client_global,
            unit_global: a.unit_global,
            app_global: a.app_global,
            enterprise_role_global: a.enterprise_role_global,
            valid_from: a.validity.from.map(|t| t.naive_utc()),
            valid_to: a.validity.to.map(|t| t.naive_utc()),
            created: a.meta.created,
            last_modified: a.meta.last_modified,
            version: a.meta.version,
        }
    }
}

pub(crate) fn find_application(
    conn: &mut DbConnection,
    filter_ext_id: Option<&str>,
    filter_name: Option<&str>,
) -> R<Option<Application>> {
    let mut q = applications::table
        .select(ApplicationRow::as_select())
        .into_boxed();
    if let Some(e) = filter_ext_id {
        q = q.filter(applications::ext_id.eq(e.to_owned()));
    }
    if let Some(n) = filter_name {
        q = q.filter(applications::name.eq(n.to_owned()));
    }
    q.get_result(conn)
        .optional()?
        .map(ApplicationRow::into_domain)
        .transpose()
}

pub(crate) fn find_role(conn: &mut DbConnection, ext_id: &str) -> R<Option<Role>> {
    Ok(roles::table
        .inner_join(applications::table)
        .filter(roles::ext_id.eq(ext_id))
        .select((
            RoleRow::as_select(),
            applications::ext_id,
            applications::name,
        ))
        .get_result::<(RoleRow, String, String)>(conn)
        .optional()?
        .map(|(r, e, n)| r.into_domain(e, n)))
}

#[async_trait]
impl ApplicationRepo for Store {
    async fn application_by_ext_id(&self, ext_id: &str) -> RepoResult<Option<Application>> {
        let ext_id = ext_id.to_owned();
        self.lookup(move |conn| find_application(conn, Some(&ext_id), None))
            .await
    }

    async fn application_by_name(&self, name: &str) -> RepoResult<Option<Application>> {
        let name = name.to_owned();
        self.lookup(move |conn| find_application(conn, None, Some(&name)))
            .await
    }

    async fn create_application(&self, a: Application) -> RepoResult<Application> {
        self.write(move |conn| {
            diesel::insert_into(applications::table)
                .values(NewApplication::of(&a))
                .returning(columns_of::<ApplicationRow>())
                .get_result::<ApplicationRow>(conn)?
                .into_domain()
        })
        .await
    }

    async fn role_by_name(&self, application_id: i64, name: &str) -> RepoResult<Option<Role>> {
        let name = name.to_owned();
        self.run(move |conn| {
            Ok(roles::table
                .inner_join(applications::table)
                .filter(roles::application_id.eq(application_id))
                .filter(roles::name.eq(&name))
                .select((
                    RoleRow::as_select(),
                    applications::ext_id,
                    applications::name,
                ))
                .get_result::<(RoleRow, String, String)>(conn)
                .optional()?
                .map(|(r, e, n)| r.into_domain(e, n)))
        })
        .await
    }

    async fn create_role(&self, r: Role) -> RepoResult<Role> {
        self.write(move |conn| {
            let (row, app_ext_id, app_name) = diesel::insert_into(roles::table)
                .values(NewRole::of(&r))
                .returning((
                    columns_of::<RoleRow>(),
                    joined!(applications::ext_id, roles::application_id),
                    joined!(applications::name, roles::application_id),
                ))
                .get_result::<(RoleRow, String, String)>(conn)?;
            Ok(row.into_domain(app_ext_id, app_name))
        })
        .await
    }

    async fn create_authorization(&self, a: Authorization) -> RepoResult<Authorization> {
        self.write(move |conn| {
            let (row, role_ext_id) = diesel::insert_into(authorizations::table)
                .values(NewAuthorization::of(&a))
                .returning((
                    columns_of::<AuthorizationRow>(),
                    joined!(roles::ext_id, authorizations::role_id),
                ))
                .get_result::<(AuthorizationRow, String)>(conn)?;
            Ok(row.into_domain(role_ext_id))
        })
        .await
    }

    async fn query_applications(&self, query: ListQuery) -> RepoResult<Listed<Application>> {
        let backend = self.backend();
        self.run(move |conn| {
            let listed = listed!(
                conn,
                applications::table
                    .select(ApplicationRow::as_select())
                    .into_boxed::<Db>(),
                ApplicationRow,
                query,
                application_column,
                "applications.ext_id",
                backend
            )?;
            Ok(Listed {
                items: listed
                    .items
                    .into_iter()
                    .map(ApplicationRow::into_domain)
                    .collect::<R<Vec<_>>>()?,
                more: listed.more,
                total: listed.total,
            })
        })
        .await
    }

    async fn query_roles(&self, application_id: i64, query: ListQuery) -> RepoResult<Listed<Role>> {
        let backend = self.backend();
        self.run(move |conn| {
            let listed = listed!(
                conn,
                roles::table
                    .inner_join(applications::table)
                    .filter(roles::application_id.eq(application_id))
                    .select((
                        RoleRow::as_select(),
                        applications::ext_id,
                        applications::name,
                    ))
                    .into_boxed::<Db>(),
                (RoleRow, String, String),
                query,
                role_column,
                "roles.ext_id",
                backend
            )?;
            Ok(Listed {
                items: listed
                    .items
                    .into_iter()
                    .map(|(r, e, n)| r.into_domain(e, n))
                    .collect(),
                more: listed.more,
                total: listed.total,
            })
        })
        .await
    }

    async fn list_applications(&self, page: PageRequest) -> RepoResult<Page<Application>> {
        self.run(move |conn| {
            let query = applications::table
                .select(ApplicationRow::as_select())
                .into_boxed::<Db>();
            let rows: Vec<ApplicationRow> = keyset!(query, applications, page).load(conn)?;
            let items = rows
                .into_iter()
                .map(ApplicationRow::into_domain)
                .collect::<R<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |a| {
                cursor_of(&a.meta)
            }))
        })
        .await
    }

    async fn role_by_ext_id(&self, ext_id: &str) -> RepoResult<Option<Role>> {
        let ext_id = ext_id.to_owned();
        self.lookup(move |conn| find_role(conn, &ext_id)).await
    }

    async fn list_roles(&self, application_id: i64, page: PageRequest) -> RepoResult<Page<Role>> {
        self.run(move |conn| {
            let query = roles::table
                .inner_join(applications::table)
                .filter(roles::application_id.eq(application_id))
                .select((
                    RoleRow::as_select(),
                    applications::ext_id,
                    applications::name,
                ))
                .into_boxed::<Db>();
            let rows: Vec<(RoleRow, String, String)> = keyset!(query, roles, page).load(conn)?;
            let items: Vec<Role> = rows
                .into_iter()
                .map(|(r, e, n)| r.into_domain(e, n))
                .collect();
            Ok(Page::from_overfetch(items, page.limit, |r| {
                cursor_of(&r.meta)
            }))
        })
        .await
    }

    async fn list_authorizations(
        &self,
        profile_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<Authorization>> {
        self.run(move |conn| {
            let query = authorizations::table
                .inner_join(roles::table.on(roles::id.eq(authorizations::role_id)))
                .filter(authorizations::profile_id.eq(profile_id))
                .select((AuthorizationRow::as_select(), roles::ext_id))
                .into_boxed::<Db>();
            let rows: Vec<(AuthorizationRow, String)> =
                keyset!(query, authorizations, page).load(conn)?;
            let items: Vec<Authorization> =
                rows.into_iter().map(|(a, r)| a.into_domain(r)).collect();
            Ok(Page::from_overfetch(items, page.limit, |a| {
                cursor_of(&a.meta)
            }))
        })
        .await
    }

    async fn delete_authorization(&self, id: i64) -> RepoResult<()> {
        self.write(move |conn| {
            let n = diesel::delete(authorizations::table.filter(authorizations::id.eq(id)))
                .execute(conn)?;
            if n == 0 {
                return Err(RepoError::NotFound.into());
            }
            Ok(())
        })
        .await
    }

    async fn update_application(&self, a: &Application) -> RepoResult<Application> {
        let a = a.clone();
        self.write(move |conn| {
            versioned_update!(
                conn,
                applications,
                a.meta.id,
                a.meta.version,
                ApplicationValues {
                    name: &a.name,
                    description: a.description.as_deref(),
                    url: a.url.as_deref(),
                    displayed: a.displayed,
                    display_name: a.display_name.to_storage(),
                },
                columns_of::<ApplicationRow>() => ApplicationRow,
            )?
            .into_domain()
        })
        .await
    }

    async fn delete_application(&self, id: i64) -> RepoResult<()> {
        self.tx(move |conn| {
            let app_roles = roles::table
                .filter(roles::application_id.eq(id))
                .select(roles::id);
            let granted: i64 = authorizations::table
                .filter(authorizations::role_id.eq_any(app_roles))
                .count()
                .get_result(conn)?;
            let bundled: i64 = enterprise_role_members::table
                .filter(
                    enterprise_role_members::role_id.eq_any(
                        roles::table
                            .filter(roles::application_id.eq(id))
                            .select(roles::id),
                    ),
                )
                .count()
                .get_result(conn)?;
            if granted + bundled > 0 {
                return Err(RepoError::Conflict {
                    constraint: "dependencies".into(),
                }
                .into());
            }
            let n = diesel::delete(applications::table.filter(applications::id.eq(id)))
                .execute(conn)?;
            if n == 0 {
                return Err(RepoError::NotFound.into());
            }
            Ok(())
        })
        .await
    }

    async fn update_authorization(&self, a: &Authorization) -> RepoResult<Authorization> {
        let a = a.clone();
        self.write(move |conn| {
            let (row, role_ext_id) = versioned_update!(
                conn,
                authorizations,
                a.meta.id,
                a.meta.version,
                AuthorizationValues {
                    client_global: a.client_global,
                    unit_global: a.unit_global,
                    app_global: a.app_global,
                    enterprise_role_global: a.enterprise_role_global,
                    valid_from: a.validity.from.map(|t| t.naive_utc()),
                    valid_to: a.validity.to.map(|t| t.naive_utc()),
                },
                (
                    columns_of::<AuthorizationRow>(),
                    joined!(roles::ext_id, authorizations::role_id),
                ) => (AuthorizationRow, String),
            )?;
            Ok(row.into_domain(role_ext_id))
        })
        .await
    }
}

/// Where the wire fields of [`idm_ports::query::APPLICATION_FIELDS`] live.
fn application_column(field: &str) -> Option<Column> {
    Some(match field {
        "extId" => Column::Plain("applications.ext_id"),
        "name" => Column::Plain("applications.name"),
        "version" => Column::Plain("applications.version"),
        "created" => Column::Plain("applications.created"),
        "lastModified" => Column::Plain("applications.last_modified"),
        _ => return None,
    })
}

/// Where the wire fields of [`idm_ports::query::ROLE_FIELDS`] live.
fn role_column(field: &str) -> Option<Column> {
    Some(match field {
        "extId" => Column::Plain("roles.ext_id"),
        "name" => Column::Plain("roles.name"),
        "version" => Column::Plain("roles.version"),
        "created" => Column::Plain("roles.created"),
        "lastModified" => Column::Plain("roles.last_modified"),
        _ => return None,
    })
}

#[cfg(test)]
mod list_tests {
    #[test]
    fn every_declared_field_has_a_column() {
        for f in idm_ports::query::APPLICATION_FIELDS {
            assert!(super::application_column(f.name).is_some(), "{}", f.name);
        }
        for f in idm_ports::query::ROLE_FIELDS {
            assert!(super::role_column(f.name).is_some(), "{}", f.name);
        }
    }
}
