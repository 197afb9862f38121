//! Policy configurations adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::PolicyConfig;
use idm_domain::policy_config::{Parameters, PolicyType};
use idm_ports::policies::PolicyRepo;
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::rows::{cursor_of, keyset, meta, parse, Db};
use crate::schema::{clients, policies};
use crate::versioned::{columns_of, joined, versioned_update};
use crate::{Store, E, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = policies)]
pub(crate) struct PolicyRow {
    id: i64,
    client_id: i64,
    ext_id: String,
    name: Option<String>,
    description: Option<String>,
    policy_type: String,
    default_policy: bool,
    parameters: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

/// Stored policy parameters (a JSON object of strings).
pub(crate) fn parameters(text: &str) -> R<Parameters> {
    serde_json::from_str(text).map_err(|e| {
        E(RepoError::Other(format!(
            "corrupt policy parameters in database: {e}"
        )))
    })
}

/// The parameters of a client's `ClientPolicy` (at most one: `policies_one_client_policy`).
pub(crate) fn client_policy(
    conn: &mut crate::DbConnection,
    client_id: i64,
) -> R<Option<Parameters>> {
    native!(conn, |conn| policies::table
        .filter(policies::client_id.eq(client_id))
        .filter(policies::policy_type.eq(PolicyType::ClientPolicy.as_str()))
        .select(policies::parameters)
        .get_result::<String>(conn)
        .optional())?
    .map(|p| parameters(&p))
    .transpose()
}

impl PolicyRow {
    fn into_domain(self, client_ext_id: String) -> R<PolicyConfig> {
        let parameters = parameters(&self.parameters)?;
        Ok(PolicyConfig {
            client_id: self.client_id,
            client_ext_id,
            name: self.name,
            description: self.description,
            policy_type: parse(&self.policy_type, "policy type")?,
            default_policy: self.default_policy,
            parameters,
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

/// The columns a policy update may change; also the body of its insert.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = policies, treat_none_as_null = true, treat_none_as_default_value = false)]
struct PolicyValues<'a> {
    name: Option<&'a str>,
    description: Option<&'a str>,
    default_policy: bool,
    parameters: String,
}

impl<'a> PolicyValues<'a> {
    fn of(p: &'a PolicyConfig) -> R<Self> {
        Ok(PolicyValues {
            name: p.name.as_deref(),
            description: p.description.as_deref(),
            default_policy: p.default_policy,
            parameters: serde_json::to_string(&p.parameters)
                .map_err(|e| E(RepoError::Other(format!("policy parameters: {e}"))))?,
        })
    }
}

/// A new policy row: owner, identity and type columns plus [`PolicyValues`].
#[derive(Insertable)]
#[diesel(table_name = policies, treat_none_as_default_value = false)]
struct NewPolicy<'a> {
    client_id: i64,
    ext_id: &'a str,
    policy_type: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    #[diesel(embed)]
    values: PolicyValues<'a>,
}

macro_rules! policy_returning {
    () => {
        (
            columns_of::<PolicyRow>(),
            joined!(clients::ext_id, policies::client_id),
        )
    };
}

fn returned((row, client_ext_id): (PolicyRow, String)) -> R<PolicyConfig> {
    row.into_domain(client_ext_id)
}

#[async_trait]
impl PolicyRepo for Store {
    async fn list_policies(
        &self,
        client_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<PolicyConfig>> {
        self.run(move |conn| {
            let query = policies::table
                .inner_join(clients::table)
                .filter(policies::client_id.eq(client_id))
                .select((PolicyRow::as_select(), clients::ext_id))
                .into_boxed::<Db>();
            let rows: Vec<(PolicyRow, String)> = keyset!(query, policies, page).load(conn)?;
            let items = rows.into_iter().map(returned).collect::<R<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |p| {
                cursor_of(&p.meta)
            }))
        })
        .await
    }

    async fn policy_by_ext_id(
        &self,
        client_id: i64,
        ext_id: &str,
    ) -> RepoResult<Option<PolicyConfig>> {
        let ext_id = ext_id.to_owned();
        self.lookup(move |conn| {
            native!(conn, |conn| policies::table
                .inner_join(clients::table)
                .filter(policies::client_id.eq(client_id))
                .filter(policies::ext_id.eq(&ext_id))
                .select((PolicyRow::as_select(), clients::ext_id))
                .get_result::<(PolicyRow, String)>(conn)
                .optional())?
            .map(returned)
            .transpose()
        })
        .await
    }

    async fn effective_policy(
        &self,
        client_id: i64,
        policy_type: PolicyType,
    ) -> RepoResult<Option<PolicyConfig>> {
        // Runs on every user write: a short read (`lookup`) on the backend's own connection.
        self.lookup(move |conn| {
            native!(conn, |conn| policies::table
                .inner_join(clients::table)
                .filter(policies::client_id.eq(client_id))
                .filter(policies::policy_type.eq(policy_type.as_str()))
                .order((
                    policies::default_policy.desc(),
                    policies::created.asc(),
                    policies::id.asc(),
                ))
                .select((PolicyRow::as_select(), clients::ext_id))
                // The first of several by the order above. A client has a handful of policies
                // of one type, so all of them are read and the first kept: a bound `LIMIT ?`
                // would make SQLite compile the statement afresh on every run (clippy.toml).
                .load::<(PolicyRow, String)>(conn))?
            .into_iter()
            .next()
            .map(returned)
            .transpose()
        })
        .await
    }

    async fn create_policy(&self, p: PolicyConfig) -> RepoResult<PolicyConfig> {
        self.write(move |conn| {
            returned(
                diesel::insert_into(policies::table)
                    .values(NewPolicy {
                        client_id: p.client_id,
                        ext_id: &p.meta.ext_id,
                        policy_type: p.policy_type.as_str(),
                        created: p.meta.created,
                        last_modified: p.meta.last_modified,
                        version: p.meta.version,
                        values: PolicyValues::of(&p)?,
                    })
                    .returning(policy_returning!())
                    .get_result(conn)?,
            )
        })
        .await
    }

    async fn update_policy(&self, p: &PolicyConfig) -> RepoResult<PolicyConfig> {
        let p = p.clone();
        self.write(move |conn| {
            let values = PolicyValues::of(&p)?;
            returned(versioned_update!(
                conn,
                policies,
                p.meta.id,
                p.meta.version,
                values,
                policy_returning!() => (PolicyRow, String),
            )?)
        })
        .await
    }

    async fn policy_references(&self, policy_id: i64) -> RepoResult<u64> {
        use crate::schema::credentials;
        self.run(move |conn| {
            // Credentials name their policy by extId within their client.
            let Some((client_id, ext_id)) = policies::table
                .filter(policies::id.eq(policy_id))
                .select((policies::client_id, policies::ext_id))
                .get_result::<(i64, String)>(conn)
                .optional()?
            else {
                return Ok(0);
            };
            let n: i64 = credentials::table
                .filter(credentials::client_id.eq(client_id))
                .filter(credentials::policy_ext_id.eq(ext_id))
                .count()
                .get_result(conn)?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }

    async fn delete_policy(&self, id: i64, version: i64) -> RepoResult<()> {
        self.write(move |conn| {
            let n = diesel::delete(
                policies::table
                    .filter(policies::id.eq(id))
                    .filter(policies::version.eq(version)),
            )
            .execute(conn)?;
            if n == 0 {
                return Err(RepoError::StaleVersion.into());
            }
            Ok(())
        })
        .await
    }
}
