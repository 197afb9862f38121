//! Dispatch targets, app attestations and FIDO UAF adapter.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::{AppAttestation, DispatchTarget, FidoUafCredential};
use idm_domain::values::now_millis;
use idm_ports::devices::{DeviceRepo, TargetWithAttestation};
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::rows::{cursor_of, keyset, meta, parse, Db};
use crate::schema::{app_attestations, dispatch_targets, fido_uaf_credentials};
use crate::versioned::{columns_of, versioned_update};
use crate::{DbConnection, Store, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = dispatch_targets)]
pub(crate) struct TargetRow {
    id: i64,
    client_id: i64,
    user_id: i64,
    ext_id: String,
    target_type: String,
    device_id: String,
    target: String,
    dispatcher: Option<String>,
    user_agent: Option<String>,
    encryption_key: Option<String>,
    signing_key: String,
    app_id: String,
    name: String,
    state: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl TargetRow {
    pub(crate) fn into_domain(self) -> R<DispatchTarget> {
        Ok(DispatchTarget {
            state: parse(&self.state, "dispatch target state")?,
            meta: meta(
                self.id,
                self.ext_id,
                self.created,
                self.last_modified,
                self.version,
            ),
            client_id: self.client_id,
            user_id: self.user_id,
            target_type: self.target_type,
            device_id: self.device_id,
            target: self.target,
            dispatcher: self.dispatcher,
            user_agent: self.user_agent,
            encryption_key: self.encryption_key,
            signing_key: self.signing_key,
            app_id: self.app_id,
            name: self.name,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = dispatch_targets, treat_none_as_default_value = false)]
struct NewTarget<'a> {
    client_id: i64,
    user_id: i64,
    ext_id: &'a str,
    target_type: &'a str,
    device_id: &'a str,
    target: &'a str,
    dispatcher: Option<&'a str>,
    user_agent: Option<&'a str>,
    encryption_key: Option<&'a str>,
    signing_key: &'a str,
    app_id: &'a str,
    name: &'a str,
    state: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl<'a> NewTarget<'a> {
    fn of(t: &'a DispatchTarget) -> Self {
        NewTarget {
            client_id: t.client_id,
            user_id: t.user_id,
            ext_id: &t.meta.ext_id,
            target_type: &t.target_type,
            device_id: &t.device_id,
            target: &t.target,
            dispatcher: t.dispatcher.as_deref(),
            user_agent: t.user_agent.as_deref(),
            encryption_key: t.encryption_key.as_deref(),
            signing_key: &t.signing_key,
            app_id: &t.app_id,
            name: &t.name,
            state: t.state.as_str(),
            created: t.meta.created,
            last_modified: t.meta.last_modified,
            version: 1,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = app_attestations)]
pub(crate) struct AttestationRow {
    id: i64,
    client_id: i64,
    user_id: i64,
    dispatch_target_id: i64,
    ext_id: String,
    name: Option<String>,
    counter: i64,
    receipt: String,
    public_key: String,
    device_id: String,
    environment: Option<String>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl AttestationRow {
    pub(crate) fn into_domain(self) -> AppAttestation {
        AppAttestation {
            meta: meta(
                self.id,
                self.ext_id,
                self.created,
                self.last_modified,
                self.version,
            ),
            client_id: self.client_id,
            user_id: self.user_id,
            dispatch_target_id: self.dispatch_target_id,
            name: self.name,
            counter: self.counter,
            receipt: self.receipt,
            public_key: self.public_key,
            device_id: self.device_id,
            environment: self.environment,
        }
    }
}

/// The columns an attestation update may change; also the body of its insert.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = app_attestations, treat_none_as_null = true, treat_none_as_default_value = false)]
struct AttestationValues<'a> {
    name: Option<&'a str>,
    counter: i64,
    receipt: &'a str,
    public_key: &'a str,
    device_id: &'a str,
    environment: Option<&'a str>,
}

impl<'a> AttestationValues<'a> {
    fn of(a: &'a AppAttestation) -> Self {
        AttestationValues {
            name: a.name.as_deref(),
            counter: a.counter,
            receipt: &a.receipt,
            public_key: &a.public_key,
            device_id: &a.device_id,
            environment: a.environment.as_deref(),
        }
    }
}

/// A new attestation row: owner and identity columns plus [`AttestationValues`].
#[derive(Insertable)]
#[diesel(table_name = app_attestations, treat_none_as_default_value = false)]
struct NewAttestation<'a> {
    client_id: i64,
    user_id: i64,
    dispatch_target_id: i64,
    ext_id: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    #[diesel(embed)]
    values: AttestationValues<'a>,
}

/// The common credential row of a FIDO UAF registration (same extId, state and times).
fn fido_common(c: &FidoUafCredential) -> R<idm_domain::credential::Credential> {
    use idm_domain::credential::{Credential, CredentialType, LoginState};
    Ok(Credential {
        meta: c.meta.clone(),
        client_id: c.client_id,
        user_id: c.user_id,
        user_ext_id: String::new(),
        kind: CredentialType::FidoUaf,
        policy_ext_id: None,
        login: LoginState::new(crate::rows::parse(&c.state, "FIDO UAF state")?),
        state_change_detail: None,
        modification_comment: None,
        validity: idm_domain::values::Validity::default(),
        context: None,
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = fido_uaf_credentials)]
pub(crate) struct FidoRow {
    id: i64,
    client_id: i64,
    user_id: i64,
    dispatch_target_id: Option<i64>,
    ext_id: String,
    aaid: String,
    key_id: String,
    authenticator_version: String,
    public_key: String,
    public_key_algorithm: String,
    app_id: String,
    device_id: Option<String>,
    state: String,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl FidoRow {
    pub(crate) fn into_domain(self, dispatch_target_ext_id: Option<String>) -> FidoUafCredential {
        FidoUafCredential {
            meta: meta(
                self.id,
                self.ext_id,
                self.created,
                self.last_modified,
                self.version,
            ),
            client_id: self.client_id,
            user_id: self.user_id,
            dispatch_target_id: self.dispatch_target_id,
            dispatch_target_ext_id,
            aaid: self.aaid,
            key_id: self.key_id,
            authenticator_version: self.authenticator_version,
            public_key: self.public_key,
            public_key_algorithm: self.public_key_algorithm,
            app_id: self.app_id,
            device_id: self.device_id,
            state: self.state,
        }
    }
}

/// A new FIDO UAF credential row. There is no changeset: the only update is unlinking it from
/// its dispatch target.
#[derive(Insertable)]
#[diesel(table_name = fido_uaf_credentials, treat_none_as_default_value = false)]
struct NewFido<'a> {
    client_id: i64,
    user_id: i64,
    dispatch_target_id: Option<i64>,
    ext_id: &'a str,
    aaid: &'a str,
    key_id: &'a str,
    authenticator_version: &'a str,
    public_key: &'a str,
    public_key_algorithm: &'a str,
    app_id: &'a str,
    device_id: Option<&'a str>,
    state: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    credential_id: Option<i64>,
}

impl<'a> NewFido<'a> {
    fn of(c: &'a FidoUafCredential) -> Self {
        NewFido {
            client_id: c.client_id,
            user_id: c.user_id,
            dispatch_target_id: c.dispatch_target_id,
            ext_id: &c.meta.ext_id,
            aaid: &c.aaid,
            key_id: &c.key_id,
            authenticator_version: &c.authenticator_version,
            public_key: &c.public_key,
            public_key_algorithm: &c.public_key_algorithm,
            app_id: &c.app_id,
            device_id: c.device_id.as_deref(),
            state: &c.state,
            created: c.meta.created,
            last_modified: c.meta.last_modified,
            version: 1,
            credential_id: None,
        }
    }
}

fn insert_attestation(conn: &mut DbConnection, a: &AppAttestation) -> R<AppAttestation> {
    Ok(diesel::insert_into(app_attestations::table)
        .values(NewAttestation {
            client_id: a.client_id,
            user_id: a.user_id,
            dispatch_target_id: a.dispatch_target_id,
            ext_id: &a.meta.ext_id,
            created: a.meta.created,
            last_modified: a.meta.last_modified,
            version: 1,
            values: AttestationValues::of(a),
        })
        .returning(columns_of::<AttestationRow>())
        .get_result::<AttestationRow>(conn)?
        .into_domain())
}

/// The extIds of the given dispatch targets, in one indexed look-up (primary keys).
fn target_ext_ids(conn: &mut DbConnection, ids: Vec<i64>) -> R<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(dispatch_targets::table
        .filter(dispatch_targets::id.eq_any(ids))
        .select((dispatch_targets::id, dispatch_targets::ext_id))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

pub(crate) fn fido_into_domain(
    conn: &mut DbConnection,
    rows: Vec<FidoRow>,
) -> R<Vec<FidoUafCredential>> {
    let ids = rows.iter().filter_map(|r| r.dispatch_target_id).collect();
    let ext_ids = target_ext_ids(conn, ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let ext = r
                .dispatch_target_id
                .and_then(|id| ext_ids.get(&id).cloned());
            r.into_domain(ext)
        })
        .collect())
}

#[async_trait]
impl DeviceRepo for Store {
    async fn list_dispatch_targets(
        &self,
        user_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<TargetWithAttestation>> {
        self.run(move |conn| {
            let query = dispatch_targets::table
                .filter(dispatch_targets::user_id.eq(user_id))
                .select(TargetRow::as_select())
                .into_boxed::<Db>();
            let rows: Vec<TargetRow> = keyset!(query, dispatch_targets, page).load(conn)?;
            let targets = rows
                .into_iter()
                .map(TargetRow::into_domain)
                .collect::<R<Vec<_>>>()?;
            let ids: Vec<i64> = targets.iter().map(|t| t.meta.id).collect();
            // One look-up for the whole page (unique index on dispatch_target_id).
            let mut attestations: HashMap<i64, AppAttestation> = app_attestations::table
                .filter(app_attestations::dispatch_target_id.eq_any(ids))
                .select(AttestationRow::as_select())
                .load::<AttestationRow>(conn)?
                .into_iter()
                .map(|a| (a.dispatch_target_id, a.into_domain()))
                .collect();
            let items = targets
                .into_iter()
                .map(|t| {
                    let a = attestations.remove(&t.meta.id);
                    (t, a)
                })
                .collect();
            Ok(Page::from_overfetch(items, page.limit, |(t, _)| {
                cursor_of(&t.meta)
            }))
        })
        .await
    }

    async fn create_dispatch_target(
        &self,
        target: DispatchTarget,
        attestation: Option<AppAttestation>,
    ) -> RepoResult<TargetWithAttestation> {
        self.tx(move |conn| {
            let stored = diesel::insert_into(dispatch_targets::table)
                .values(NewTarget::of(&target))
                .returning(columns_of::<TargetRow>())
                .get_result::<TargetRow>(conn)?
                .into_domain()?;
            let attestation = match attestation {
                Some(a) => Some(insert_attestation(
                    conn,
                    &AppAttestation {
                        dispatch_target_id: stored.meta.id,
                        ..a
                    },
                )?),
                None => None,
            };
            Ok((stored, attestation))
        })
        .await
    }

    async fn delete_dispatch_target(&self, dispatch_target_id: i64) -> RepoResult<()> {
        self.tx(move |conn| {
            use fido_uaf_credentials as f;
            // Credentials outlive the target: they only lose the link (and record the change),
            // which must happen first because their foreign key does not cascade.
            let now = now_millis();
            diesel::update(f::table.filter(f::dispatch_target_id.eq(dispatch_target_id)))
                .set((
                    f::dispatch_target_id.eq(None::<i64>),
                    f::last_modified.eq(now),
                    f::version.eq(f::version + 1),
                ))
                .execute(conn)?;
            diesel::delete(
                app_attestations::table
                    .filter(app_attestations::dispatch_target_id.eq(dispatch_target_id)),
            )
            .execute(conn)?;
            let n = diesel::delete(
                dispatch_targets::table.filter(dispatch_targets::id.eq(dispatch_target_id)),
            )
            .execute(conn)?;
            if n == 0 {
                return Err(RepoError::NotFound.into());
            }
            Ok(())
        })
        .await
    }

    async fn create_app_attestation(
        &self,
        attestation: AppAttestation,
    ) -> RepoResult<AppAttestation> {
        self.write(move |conn| insert_attestation(conn, &attestation))
            .await
    }

    async fn update_app_attestation(
        &self,
        attestation: &AppAttestation,
    ) -> RepoResult<AppAttestation> {
        let a = attestation.clone();
        // One statement: no explicit transaction needed.
        self.write(move |conn| {
            Ok(versioned_update!(
                conn,
                app_attestations,
                a.meta.id,
                a.meta.version,
                AttestationValues::of(&a),
                columns_of::<AttestationRow>() => AttestationRow,
            )?
            .into_domain())
        })
        .await
    }

    async fn delete_app_attestation(&self, id: i64) -> RepoResult<()> {
        self.write(move |conn| {
            let n = diesel::delete(app_attestations::table.filter(app_attestations::id.eq(id)))
                .execute(conn)?;
            if n == 0 {
                return Err(RepoError::NotFound.into());
            }
            Ok(())
        })
        .await
    }

    async fn list_fido_uaf(
        &self,
        user_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<FidoUafCredential>> {
        self.run(move |conn| {
            let query = fido_uaf_credentials::table
                .filter(fido_uaf_credentials::user_id.eq(user_id))
                .select(FidoRow::as_select())
                .into_boxed::<Db>();
            let rows: Vec<FidoRow> = keyset!(query, fido_uaf_credentials, page).load(conn)?;
            let items = fido_into_domain(conn, rows)?;
            Ok(Page::from_overfetch(items, page.limit, |c| {
                cursor_of(&c.meta)
            }))
        })
        .await
    }

    async fn create_fido_uaf(&self, c: FidoUafCredential) -> RepoResult<FidoUafCredential> {
        self.tx(move |conn| {
            // The common credential row first: the registration hangs from it.
            let common = crate::credentials::insert_credential(conn, &fido_common(&c)?, None)?;
            let row: FidoRow = diesel::insert_into(fido_uaf_credentials::table)
                .values(NewFido {
                    credential_id: Some(common.meta.id),
                    ..NewFido::of(&c)
                })
                .returning(columns_of::<FidoRow>())
                .get_result(conn)?;
            // The target's extId lives in another table (nullable link): one look-up by key.
            let mut written = fido_into_domain(conn, vec![row])?;
            written
                .pop()
                .ok_or_else(|| RepoError::Other("written credential vanished".into()).into())
        })
        .await
    }

    async fn delete_fido_uaf(&self, id: i64) -> RepoResult<()> {
        self.tx(move |conn| {
            use crate::schema::credentials;
            let common: Option<Option<i64>> = fido_uaf_credentials::table
                .filter(fido_uaf_credentials::id.eq(id))
                .select(fido_uaf_credentials::credential_id)
                .get_result(conn)
                .optional()?;
            let n =
                diesel::delete(fido_uaf_credentials::table.filter(fido_uaf_credentials::id.eq(id)))
                    .execute(conn)?;
            if n == 0 {
                return Err(RepoError::NotFound.into());
            }
            if let Some(Some(cid)) = common {
                diesel::delete(credentials::table.filter(credentials::id.eq(cid))).execute(conn)?;
            }
            Ok(())
        })
        .await
    }

    async fn unlink_fido_uaf(&self, c: &FidoUafCredential) -> RepoResult<FidoUafCredential> {
        let c = c.clone();
        // One statement: no explicit transaction needed.
        self.write(move |conn| {
            use fido_uaf_credentials as f;
            let row = versioned_update!(
                conn,
                fido_uaf_credentials,
                c.meta.id,
                c.meta.version,
                f::dispatch_target_id.eq(None::<i64>),
                columns_of::<FidoRow>() => FidoRow,
            )?;
            // Unlinked: there is no target extId to look up.
            Ok(row.into_domain(None))
        })
        .await
    }
}
