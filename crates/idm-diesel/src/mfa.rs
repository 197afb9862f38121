//! Second-factor details adapter: recovery codes, OATH parameters, FIDO2 authenticators, on
//! top of the common `credentials` rows of [`crate::credentials`].

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::credential::{Credential, CredentialType};
use idm_domain::fido2::Fido2Details;
use idm_domain::model::FidoUafCredential;
use idm_domain::otp::OtpParams;
use idm_domain::values::now_millis;
use idm_ports::credentials::NewCredential;
use idm_ports::mfa::{MfaRepo, OathDetail, Owner};
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::credentials::{insert_credential, CredentialRow};
use crate::devices::{fido_into_domain, FidoRow};
use crate::rows::{cursor_of, keyset, parse, Db};
use crate::schema::{
    credentials, fido2_credentials, fido_uaf_credentials, oath_credentials, recovery_codes, users,
};
use crate::{DbConnection, Store, E, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = oath_credentials)]
struct OathRow {
    method: String,
    algorithm: String,
    digits: i32,
    period: i64,
    last_used: Option<i64>,
}

impl OathRow {
    fn into_domain(self) -> R<OathDetail> {
        Ok(OathDetail {
            params: OtpParams {
                method: parse(&self.method, "OATH method")?,
                algorithm: parse(&self.algorithm, "OATH algorithm")?,
                digits: u32::try_from(self.digits)
                    .map_err(|_| E(RepoError::Other("corrupt OATH digits".into())))?,
                period: u64::try_from(self.period)
                    .map_err(|_| E(RepoError::Other("corrupt OATH period".into())))?,
            },
            last_used: self.last_used.and_then(|v| u64::try_from(v).ok()),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = fido2_credentials, treat_none_as_default_value = false)]
struct Fido2Row {
    credential_id: i64,
    client_id: i64,
    aaguid: String,
    authenticator: String,
    authenticator_attachment: Option<String>,
    attestation_conveyance_preference: String,
    hashed_credential_id: String,
    rp_id: String,
    resident_key_requirement: String,
    user_agent: Option<String>,
    user_friendly_name: Option<String>,
    user_verification_requirement: String,
}

impl Fido2Row {
    fn of(credential_id: i64, client_id: i64, d: &Fido2Details) -> Self {
        Fido2Row {
            credential_id,
            client_id,
            aaguid: d.aaguid.clone(),
            authenticator: d.authenticator.clone(),
            authenticator_attachment: d.authenticator_attachment.map(|a| a.as_str().to_owned()),
            attestation_conveyance_preference: d
                .attestation_conveyance_preference
                .as_str()
                .to_owned(),
            hashed_credential_id: d.hashed_credential_id.clone(),
            rp_id: d.rp_id.clone(),
            resident_key_requirement: d.resident_key_requirement.as_str().to_owned(),
            user_agent: d.user_agent.clone(),
            user_friendly_name: d.user_friendly_name.clone(),
            user_verification_requirement: d.user_verification_requirement.as_str().to_owned(),
        }
    }

    fn into_domain(self) -> R<Fido2Details> {
        let bad = |what: &str| {
            E(RepoError::Other(format!(
                "corrupt FIDO2 {what} in database"
            )))
        };
        Ok(Fido2Details {
            aaguid: self.aaguid,
            authenticator: self.authenticator,
            authenticator_attachment: match self.authenticator_attachment {
                None => None,
                Some(a) => Some(a.parse().map_err(|()| bad("attachment"))?),
            },
            attestation_conveyance_preference: self
                .attestation_conveyance_preference
                .parse()
                .map_err(|()| bad("attestation preference"))?,
            hashed_credential_id: self.hashed_credential_id,
            rp_id: self.rp_id,
            resident_key_requirement: self
                .resident_key_requirement
                .parse()
                .map_err(|()| bad("resident key requirement"))?,
            user_agent: self.user_agent,
            user_friendly_name: self.user_friendly_name,
            user_verification_requirement: self
                .user_verification_requirement
                .parse()
                .map_err(|()| bad("user verification requirement"))?,
        })
    }
}

fn insert_codes(conn: &mut DbConnection, credential_id: i64, hashes: &[String]) -> R<()> {
    // One statement per code: the multi-backend connection has no batch insert, and 16 rows
    // inside the caller's transaction cost little.
    for h in hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::credential_id.eq(credential_id),
                recovery_codes::code_hash.eq(h.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Reads one credential back with its user's extId (after a detail write in the same
/// transaction).
fn reload(conn: &mut DbConnection, id: i64) -> R<Credential> {
    let (row, user_ext_id) = credentials::table
        .inner_join(users::table)
        .filter(credentials::id.eq(id))
        .select((CredentialRow::as_select(), users::ext_id))
        .get_result::<(CredentialRow, String)>(conn)?;
    row.into_domain(user_ext_id)
}

/// The versioned part of every second-factor modification: bumps version and
/// `last_modified` only while the version is still the one read, else `StaleVersion`.
fn bump_version(conn: &mut DbConnection, c: &Credential) -> R<()> {
    let n = diesel::update(
        credentials::table
            .filter(credentials::id.eq(c.meta.id))
            .filter(credentials::version.eq(c.meta.version)),
    )
    .set((
        credentials::version.eq(c.meta.version + 1),
        credentials::last_modified.eq(now_millis()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(RepoError::StaleVersion.into());
    }
    Ok(())
}

fn to_i64(v: u64) -> R<i64> {
    i64::try_from(v).map_err(|_| E(RepoError::Other("OATH factor out of range".into())))
}

#[async_trait]
impl MfaRepo for Store {
    async fn create_recovery_codes(
        &self,
        new: NewCredential,
        hashes: &[String],
    ) -> RepoResult<Credential> {
        let hashes = hashes.to_vec();
        self.tx(move |conn| {
            let written = insert_credential(conn, &new.credential, new.secret.as_deref())?;
            insert_codes(conn, written.meta.id, &hashes)?;
            Ok(written)
        })
        .await
    }

    async fn create_oath(&self, new: NewCredential, detail: OathDetail) -> RepoResult<Credential> {
        self.tx(move |conn| {
            let written = insert_credential(conn, &new.credential, new.secret.as_deref())?;
            let p = detail.params;
            diesel::insert_into(oath_credentials::table)
                .values((
                    oath_credentials::credential_id.eq(written.meta.id),
                    oath_credentials::method.eq(p.method.as_str()),
                    oath_credentials::algorithm.eq(p.algorithm.as_str()),
                    oath_credentials::digits.eq(i32::try_from(p.digits)
                        .map_err(|_| E(RepoError::Other("OATH digits out of range".into())))?),
                    oath_credentials::period.eq(to_i64(p.period)?),
                    oath_credentials::last_used.eq(detail.last_used.map(to_i64).transpose()?),
                ))
                .execute(conn)?;
            Ok(written)
        })
        .await
    }

    async fn create_fido2(
        &self,
        new: NewCredential,
        details: &Fido2Details,
    ) -> RepoResult<Credential> {
        let details = details.clone();
        self.tx(move |conn| {
            let written = insert_credential(conn, &new.credential, new.secret.as_deref())?;
            diesel::insert_into(fido2_credentials::table)
                .values(Fido2Row::of(written.meta.id, written.client_id, &details))
                .execute(conn)?;
            Ok(written)
        })
        .await
    }

    async fn replace_recovery_codes(
        &self,
        credential: &Credential,
        salt: &str,
        hashes: &[String],
    ) -> RepoResult<Credential> {
        let (c, salt, hashes) = (credential.clone(), salt.to_owned(), hashes.to_vec());
        self.tx(move |conn| {
            bump_version(conn, &c)?;
            diesel::update(credentials::table.filter(credentials::id.eq(c.meta.id)))
                .set(credentials::secret.eq(Some(salt.as_str())))
                .execute(conn)?;
            diesel::delete(
                recovery_codes::table.filter(recovery_codes::credential_id.eq(c.meta.id)),
            )
            .execute(conn)?;
            insert_codes(conn, c.meta.id, &hashes)?;
            reload(conn, c.meta.id)
        })
        .await
    }

    async fn unused_recovery_codes(&self, credential_id: i64) -> RepoResult<i64> {
        self.run(move |conn| {
            Ok(recovery_codes::table
                .filter(recovery_codes::credential_id.eq(credential_id))
                .filter(recovery_codes::used_at.is_null())
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
    }

    async fn use_recovery_code(
        &self,
        credential_id: i64,
        code_hash: &str,
        now: NaiveDateTime,
    ) -> RepoResult<bool> {
        let code_hash = code_hash.to_owned();
        self.write(move |conn| {
            // One conditional statement: of concurrent uses only one UPDATE finds the row
            // still unused, on either backend (row lock on PostgreSQL, writer lock on SQLite).
            let n = diesel::update(
                recovery_codes::table
                    .filter(recovery_codes::credential_id.eq(credential_id))
                    .filter(recovery_codes::code_hash.eq(&code_hash))
                    .filter(recovery_codes::used_at.is_null()),
            )
            .set(recovery_codes::used_at.eq(Some(now)))
            .execute(conn)?;
            Ok(n == 1)
        })
        .await
    }

    async fn oath_detail(&self, credential_id: i64) -> RepoResult<Option<OathDetail>> {
        self.run(move |conn| {
            oath_credentials::table
                .filter(oath_credentials::credential_id.eq(credential_id))
                .select(OathRow::as_select())
                .get_result::<OathRow>(conn)
                .optional()?
                .map(OathRow::into_domain)
                .transpose()
        })
        .await
    }

    async fn advance_oath(
        &self,
        credential_id: i64,
        read: Option<u64>,
        next: u64,
    ) -> RepoResult<bool> {
        self.write(move |conn| {
            use oath_credentials as o;
            let next = to_i64(next)?;
            let row = o::table.filter(o::credential_id.eq(credential_id));
            // Conditional on the value read: of two logins racing with codes of the same or
            // different steps, only the first UPDATE still finds the old value.
            let n = match read {
                None => diesel::update(row.filter(o::last_used.is_null()))
                    .set(o::last_used.eq(Some(next)))
                    .execute(conn)?,
                Some(r) => diesel::update(row.filter(o::last_used.eq(to_i64(r)?)))
                    .set(o::last_used.eq(Some(next)))
                    .execute(conn)?,
            };
            Ok(n == 1)
        })
        .await
    }

    async fn fido2_details(
        &self,
        credential_ids: &[i64],
    ) -> RepoResult<HashMap<i64, Fido2Details>> {
        let ids = credential_ids.to_vec();
        self.run(move |conn| {
            if ids.is_empty() {
                return Ok(HashMap::new());
            }
            fido2_credentials::table
                .filter(fido2_credentials::credential_id.eq_any(ids))
                .select(Fido2Row::as_select())
                .load::<Fido2Row>(conn)?
                .into_iter()
                .map(|r| Ok((r.credential_id, r.into_domain()?)))
                .collect()
        })
        .await
    }

    async fn update_fido2(
        &self,
        credential: &Credential,
        details: &Fido2Details,
    ) -> RepoResult<Credential> {
        let (c, d) = (credential.clone(), details.clone());
        self.tx(move |conn| {
            bump_version(conn, &c)?;
            let l = &c.login;
            diesel::update(credentials::table.filter(credentials::id.eq(c.meta.id)))
                .set((
                    credentials::state.eq(l.state.as_str()),
                    credentials::state_change_reason.eq(l.reason.map(|r| r.as_str())),
                    credentials::locked_until.eq(l.locked_until),
                    credentials::modification_comment.eq(c.modification_comment.as_deref()),
                ))
                .execute(conn)?;
            diesel::update(
                fido2_credentials::table.filter(fido2_credentials::credential_id.eq(c.meta.id)),
            )
            .set((
                fido2_credentials::authenticator.eq(&d.authenticator),
                fido2_credentials::user_friendly_name.eq(d.user_friendly_name.as_deref()),
            ))
            .execute(conn)?;
            reload(conn, c.meta.id)
        })
        .await
    }

    async fn list_credentials_of_type(
        &self,
        owner: Owner,
        kind: CredentialType,
        page: PageRequest,
    ) -> RepoResult<Page<Credential>> {
        self.run(move |conn| {
            let query = credentials::table
                .inner_join(users::table)
                .filter(credentials::cred_type.eq(kind.as_str()))
                .select((CredentialRow::as_select(), users::ext_id))
                .into_boxed::<Db>();
            let query = match owner {
                Owner::User(id) => query.filter(credentials::user_id.eq(id)),
                Owner::Client(id) => query.filter(credentials::client_id.eq(id)),
            };
            let rows: Vec<(CredentialRow, String)> =
                keyset!(query, credentials, page).load(conn)?;
            let items = rows
                .into_iter()
                .map(|(row, user)| row.into_domain(user))
                .collect::<R<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |c| {
                cursor_of(&c.meta)
            }))
        })
        .await
    }

    async fn list_client_fido_uaf(
        &self,
        client_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<FidoUafCredential>> {
        self.run(move |conn| {
            let query = fido_uaf_credentials::table
                .filter(fido_uaf_credentials::client_id.eq(client_id))
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
}
