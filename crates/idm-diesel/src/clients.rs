//! Clients adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::{Client, Unit};
use idm_ports::clients::ClientRepo;
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::rows::{cursor_of, keyset, lang, meta, Db};
use crate::schema::clients;
use crate::{Store, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = clients)]
pub(crate) struct ClientRow {
    id: i64,
    ext_id: String,
    name: String,
    display_name: String,
    remarks: Option<String>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl ClientRow {
    pub(crate) fn into_domain(self) -> R<Client> {
        Ok(Client {
            display_name: lang(&self.display_name)?,
            meta: meta(
                self.id,
                self.ext_id,
                self.created,
                self.last_modified,
                self.version,
            ),
            name: self.name,
            remarks: self.remarks,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = clients)]
struct NewClient<'a> {
    ext_id: &'a str,
    name: &'a str,
    display_name: String,
    remarks: Option<&'a str>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

pub(crate) fn find(conn: &mut crate::DbConnection, ext_id: &str) -> R<Option<Client>> {
    clients::table
        .filter(clients::ext_id.eq(ext_id))
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?
        .map(ClientRow::into_domain)
        .transpose()
}

#[async_trait]
impl ClientRepo for Store {
    async fn client_by_ext_id(&self, ext_id: &str) -> RepoResult<Option<Client>> {
        let ext_id = ext_id.to_owned();
        self.run(move |conn| find(conn, &ext_id)).await
    }

    async fn list_clients(&self, page: PageRequest) -> RepoResult<Page<Client>> {
        self.run(move |conn| {
            let query = clients::table
                .select(ClientRow::as_select())
                .into_boxed::<Db>();
            let rows: Vec<ClientRow> = keyset!(query, clients, page).load(conn)?;
            let items = rows
                .into_iter()
                .map(ClientRow::into_domain)
                .collect::<R<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |c| {
                cursor_of(&c.meta)
            }))
        })
        .await
    }

    async fn any_client_exists(&self) -> RepoResult<bool> {
        self.run(|conn| {
            let found: Option<i64> = clients::table.select(clients::id).first(conn).optional()?;
            Ok(found.is_some())
        })
        .await
    }

    async fn create_client(&self, client: Client, root_unit: Unit) -> RepoResult<(Client, Unit)> {
        self.tx(move |conn| {
            diesel::insert_into(clients::table)
                .values(NewClient {
                    ext_id: &client.meta.ext_id,
                    name: &client.name,
                    display_name: client.display_name.to_storage(),
                    remarks: client.remarks.as_deref(),
                    created: client.meta.created,
                    last_modified: client.meta.last_modified,
                    version: 1,
                })
                .execute(conn)?;
            let stored = find(conn, &client.meta.ext_id)?.ok_or(RepoError::NotFound)?;
            let unit = crate::units::insert(
                conn,
                Unit {
                    client_id: stored.meta.id,
                    client_ext_id: stored.meta.ext_id.clone(),
                    ..root_unit
                },
            )?;
            Ok((stored, unit))
        })
        .await
    }

    async fn update_client(&self, client: &Client) -> RepoResult<Client> {
        let client = client.clone();
        self.tx(move |conn| {
            let now = idm_domain::values::now_millis();
            let changed = diesel::update(
                clients::table
                    .filter(clients::id.eq(client.meta.id))
                    .filter(clients::version.eq(client.meta.version)),
            )
            .set((
                clients::name.eq(&client.name),
                clients::display_name.eq(client.display_name.to_storage()),
                clients::remarks.eq(client.remarks.as_deref()),
                clients::last_modified.eq(now),
                clients::version.eq(client.meta.version + 1),
            ))
            .execute(conn)?;
            if changed == 0 {
                return Err(RepoError::StaleVersion.into());
            }
            Ok(find(conn, &client.meta.ext_id)?.ok_or(RepoError::StaleVersion)?)
        })
        .await
    }

    async fn delete_client(&self, client_id: i64) -> RepoResult<()> {
        self.tx(move |conn| {
            // Rows that reference each other inside the client go first, so the cascade from
            // `clients` never trips a non-cascading foreign key.
            use crate::schema::{fido_uaf_credentials as f, profiles as p, units as u};
            diesel::delete(f::table.filter(f::client_id.eq(client_id))).execute(conn)?;
            diesel::delete(p::table.filter(p::client_id.eq(client_id))).execute(conn)?;
            diesel::update(u::table.filter(u::client_id.eq(client_id)))
                .set(u::parent_id.eq(None::<i64>))
                .execute(conn)?;
            let n =
                diesel::delete(clients::table.filter(clients::id.eq(client_id))).execute(conn)?;
            if n == 0 {
                return Err(RepoError::NotFound.into());
            }
            Ok(())
        })
        .await
    }
}
