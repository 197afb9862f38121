//! Applications, roles and authorizations adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::{Application, Authorization, Role};
use idm_domain::values::Validity;
use idm_ports::applications::ApplicationRepo;
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::rows::{cursor_of, keyset, lang, meta, Db};
use crate::schema::{applications, authorizations, roles};
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
    q.first(conn)
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
        .first::<(RoleRow, String, String)>(conn)
        .optional()?
        .map(|(r, e, n)| r.into_domain(e, n)))
}

pub(crate) fn find_authorization(
    conn: &mut DbConnection,
    client_id: i64,
    ext_id: &str,
) -> R<Option<Authorization>> {
    Ok(authorizations::table
        .inner_join(roles::table.on(roles::id.eq(authorizations::role_id)))
        .filter(authorizations::client_id.eq(client_id))
        .filter(authorizations::ext_id.eq(ext_id))
        .select((AuthorizationRow::as_select(), roles::ext_id))
        .first::<(AuthorizationRow, String)>(conn)
        .optional()?
        .map(|(a, r)| a.into_domain(r)))
}

#[async_trait]
impl ApplicationRepo for Store {
    async fn application_by_ext_id(&self, ext_id: &str) -> RepoResult<Option<Application>> {
        let ext_id = ext_id.to_owned();
        self.run(move |conn| find_application(conn, Some(&ext_id), None))
            .await
    }

    async fn application_by_name(&self, name: &str) -> RepoResult<Option<Application>> {
        let name = name.to_owned();
        self.run(move |conn| find_application(conn, None, Some(&name)))
            .await
    }

    async fn create_application(&self, a: Application) -> RepoResult<Application> {
        self.tx(move |conn| {
            diesel::insert_into(applications::table)
                .values((
                    applications::ext_id.eq(&a.meta.ext_id),
                    applications::name.eq(&a.name),
                    applications::description.eq(a.description.as_deref()),
                    applications::url.eq(a.url.as_deref()),
                    applications::displayed.eq(a.displayed),
                    applications::display_name.eq(a.display_name.to_storage()),
                    applications::created.eq(a.meta.created),
                    applications::last_modified.eq(a.meta.last_modified),
                    applications::version.eq(1_i64),
                ))
                .execute(conn)?;
            Ok(find_application(conn, Some(&a.meta.ext_id), None)?.ok_or(RepoError::NotFound)?)
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
                .first::<(RoleRow, String, String)>(conn)
                .optional()?
                .map(|(r, e, n)| r.into_domain(e, n)))
        })
        .await
    }

    async fn create_role(&self, r: Role) -> RepoResult<Role> {
        self.tx(move |conn| {
            diesel::insert_into(roles::table)
                .values((
                    roles::application_id.eq(r.application_id),
                    roles::ext_id.eq(&r.meta.ext_id),
                    roles::name.eq(&r.name),
                    roles::description.eq(r.description.as_deref()),
                    roles::created.eq(r.meta.created),
                    roles::last_modified.eq(r.meta.last_modified),
                    roles::version.eq(1_i64),
                ))
                .execute(conn)?;
            Ok(find_role(conn, &r.meta.ext_id)?.ok_or(RepoError::NotFound)?)
        })
        .await
    }

    async fn create_authorization(&self, a: Authorization) -> RepoResult<Authorization> {
        self.tx(move |conn| {
            diesel::insert_into(authorizations::table)
                .values((
                    authorizations::client_id.eq(a.client_id),
                    authorizations::profile_id.eq(a.profile_id),
                    authorizations::role_id.eq(a.role_id),
                    authorizations::ext_id.eq(&a.meta.ext_id),
                    authorizations::client_global.eq(a.client_global),
                    authorizations::unit_global.eq(a.unit_global),
                    authorizations::app_global.eq(a.app_global),
                    authorizations::enterprise_role_global.eq(a.enterprise_role_global),
                    authorizations::valid_from.eq(a.validity.from.map(|t| t.naive_utc())),
                    authorizations::valid_to.eq(a.validity.to.map(|t| t.naive_utc())),
                    authorizations::created.eq(a.meta.created),
                    authorizations::last_modified.eq(a.meta.last_modified),
                    authorizations::version.eq(1_i64),
                ))
                .execute(conn)?;
            Ok(
                find_authorization(conn, a.client_id, &a.meta.ext_id)?
                    .ok_or(RepoError::NotFound)?,
            )
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
        self.run(move |conn| find_role(conn, &ext_id)).await
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

    async fn authorization_of_profile(
        &self,
        profile_id: i64,
        ext_id: &str,
    ) -> RepoResult<Option<Authorization>> {
        let ext_id = ext_id.to_owned();
        self.run(move |conn| {
            Ok(authorizations::table
                .inner_join(roles::table.on(roles::id.eq(authorizations::role_id)))
                .filter(authorizations::profile_id.eq(profile_id))
                .filter(authorizations::ext_id.eq(&ext_id))
                .select((AuthorizationRow::as_select(), roles::ext_id))
                .first::<(AuthorizationRow, String)>(conn)
                .optional()?
                .map(|(a, r)| a.into_domain(r)))
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
        self.run(move |conn| {
            let n = diesel::delete(authorizations::table.filter(authorizations::id.eq(id)))
                .execute(conn)?;
            if n == 0 {
                return Err(RepoError::NotFound.into());
            }
            Ok(())
        })
        .await
    }
}
