//! Clients adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::{Client, Unit};
use idm_ports::clients::ClientRepo;
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::rows::{cursor_of, keyset, lang, meta, Db};
use crate::schema::clients;
use crate::versioned::{columns_of, versioned_update};
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

/// The columns a client update may change; also the body of its insert.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = clients, treat_none_as_null = true, treat_none_as_default_value = false)]
struct ClientValues<'a> {
    name: &'a str,
    display_name: String,
    remarks: Option<&'a str>,
}

impl<'a> ClientValues<'a> {
    fn of(c: &'a Client) -> Self {
        ClientValues {
            name: &c.name,
            display_name: c.display_name.to_storage(),
            remarks: c.remarks.as_deref(),
        }
    }
}

/// A new client row: the identity columns plus [`ClientValues`].
#[derive(Insertable)]
#[diesel(table_name = clients, treat_none_as_default_value = false)]
struct NewClient<'a> {
    ext_id: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    #[diesel(embed)]
    values: ClientValues<'a>,
}

impl<'a> NewClient<'a> {
    fn of(c: &'a Client) -> Self {
        NewClient {
            ext_id: &c.meta.ext_id,
            created: c.meta.created,
            last_modified: c.meta.last_modified,
            version: c.meta.version,
            values: ClientValues::of(c),
        }
    }
}

pub(crate) fn find(conn: &mut crate::DbConnection, ext_id: &str) -> R<Option<Client>> {
    crate::locate::client(conn, ext_id)?
        .map(ClientRow::into_domain)
        .transpose()
}

#[async_trait]
impl ClientRepo for Store {
    async fn client_by_ext_id(&self, ext_id: &str) -> RepoResult<Option<Client>> {
        let ext_id = ext_id.to_owned();
        self.lookup(move |conn| find(conn, &ext_id)).await
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
            Ok(
                diesel::select(diesel::dsl::exists(clients::table.select(clients::id)))
                    .get_result::<bool>(conn)?,
            )
        })
        .await
    }

    async fn create_client(&self, client: Client, root_unit: Unit) -> RepoResult<(Client, Unit)> {
        self.tx(move |conn| {
            let stored = diesel::insert_into(clients::table)
                .values(NewClient::of(&client))
                .returning(columns_of::<ClientRow>())
                .get_result::<ClientRow>(conn)?
                .into_domain()?;
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
        // One statement: no explicit transaction needed.
        self.write(move |conn| {
            versioned_update!(
                conn,
                clients,
                client.meta.id,
                client.meta.version,
                ClientValues::of(&client),
                columns_of::<ClientRow>() => ClientRow,
            )?
            .into_domain()
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
