//! Credentials adapter: the common `credentials` row and the detail tables keyed by it.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::credential::{Credential, CredentialState, CredentialType, LoginState};
use idm_domain::values::{now_millis, Validity};
use idm_ports::credentials::{CredentialDetail, CredentialRepo, Epoch, NewCredential};
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::rows::{cursor_of, keyset, meta, parse, Db};
use crate::schema::{credential_epochs, credentials, password_history, users};
use crate::versioned::{columns_of, joined, versioned_update};
use crate::{Store, E, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = credentials)]
pub(crate) struct CredentialRow {
    id: i64,
    client_id: i64,
    user_id: i64,
    ext_id: String,
    cred_type: String,
    policy_ext_id: Option<String>,
    state: String,
    state_change_reason: Option<String>,
    state_change_detail: Option<String>,
    success_count: i64,
    last_success: Option<NaiveDateTime>,
    failure_count: i64,
    last_failure: Option<NaiveDateTime>,
    locked_until: Option<NaiveDateTime>,
    reset_count: i64,
    modification_comment: Option<String>,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
    context: Option<String>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl CredentialRow {
    pub(crate) fn into_domain(self, user_ext_id: String) -> R<Credential> {
        Ok(Credential {
            meta: meta(
                self.id,
                self.ext_id,
                self.created,
                self.last_modified,
                self.version,
            ),
            client_id: self.client_id,
            user_id: self.user_id,
            user_ext_id,
            kind: parse(&self.cred_type, "credential type")?,
            policy_ext_id: self.policy_ext_id,
            login: LoginState {
                state: parse(&self.state, "credential state")?,
                // A reason this code does not know (written by a newer version) reads as none
                // rather than failing every read of the credential.
                reason: self.state_change_reason.and_then(|r| r.parse().ok()),
                success_count: self.success_count,
                last_success: self.last_success,
                failure_count: self.failure_count,
                last_failure: self.last_failure,
                locked_until: self.locked_until,
                reset_count: self.reset_count,
            },
            state_change_detail: self.state_change_detail,
            modification_comment: self.modification_comment,
            validity: Validity {
                from: self.valid_from.map(|t| t.and_utc()),
                to: self.valid_to.map(|t| t.and_utc()),
            },
            context: self.context,
        })
    }
}

/// The state and counter columns: written by every transition, including logins.
#[derive(AsChangeset)]
#[diesel(table_name = credentials, treat_none_as_null = true)]
struct LoginValues<'a> {
    state: &'a str,
    state_change_reason: Option<&'a str>,
    success_count: i64,
    last_success: Option<NaiveDateTime>,
    failure_count: i64,
    last_failure: Option<NaiveDateTime>,
    locked_until: Option<NaiveDateTime>,
    reset_count: i64,
}

impl<'a> LoginValues<'a> {
    fn of(l: &'a LoginState) -> Self {
        LoginValues {
            state: l.state.as_str(),
            state_change_reason: l.reason.map(|r| r.as_str()),
            success_count: l.success_count,
            last_success: l.last_success,
            failure_count: l.failure_count,
            last_failure: l.last_failure,
            locked_until: l.locked_until,
            reset_count: l.reset_count,
        }
    }
}

/// The columns an update of the common fields may change; also the body of an insert.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = credentials, treat_none_as_null = true, treat_none_as_default_value = false)]
struct CredentialValues<'a> {
    policy_ext_id: Option<&'a str>,
    state: &'a str,
    state_change_reason: Option<&'a str>,
    state_change_detail: Option<&'a str>,
    success_count: i64,
    last_success: Option<NaiveDateTime>,
    failure_count: i64,
    last_failure: Option<NaiveDateTime>,
    locked_until: Option<NaiveDateTime>,
    reset_count: i64,
    modification_comment: Option<&'a str>,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
    context: Option<&'a str>,
}

impl<'a> CredentialValues<'a> {
    fn of(c: &'a Credential) -> Self {
        let l = &c.login;
        CredentialValues {
            policy_ext_id: c.policy_ext_id.as_deref(),
            state: l.state.as_str(),
            state_change_reason: l.reason.map(|r| r.as_str()),
            state_change_detail: c.state_change_detail.as_deref(),
            success_count: l.success_count,
            last_success: l.last_success,
            failure_count: l.failure_count,
            last_failure: l.last_failure,
            locked_until: l.locked_until,
            reset_count: l.reset_count,
            modification_comment: c.modification_comment.as_deref(),
            valid_from: c.validity.from.map(|t| t.naive_utc()),
            valid_to: c.validity.to.map(|t| t.naive_utc()),
            context: c.context.as_deref(),
        }
    }
}

/// A new credential row: owner, identity and secret columns plus [`CredentialValues`].
#[derive(Insertable)]
#[diesel(table_name = credentials, treat_none_as_default_value = false)]
struct NewCredentialRow<'a> {
    client_id: i64,
    user_id: i64,
    ext_id: &'a str,
    cred_type: &'a str,
    secret: Option<&'a str>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    #[diesel(embed)]
    values: CredentialValues<'a>,
}

impl<'a> NewCredentialRow<'a> {
    fn of(c: &'a Credential, secret: Option<&'a str>) -> Self {
        NewCredentialRow {
            client_id: c.client_id,
            user_id: c.user_id,
            ext_id: &c.meta.ext_id,
            cred_type: c.kind.as_str(),
            secret,
            created: c.meta.created,
            last_modified: c.meta.last_modified,
            version: c.meta.version,
            values: CredentialValues::of(c),
        }
    }
}

/// What RETURNING hands back for a credential: its row and its user's extId.
macro_rules! credential_returning {
    () => {
        (
            columns_of::<CredentialRow>(),
            joined!(users::ext_id, credentials::user_id),
        )
    };
}

fn returned((row, user_ext_id): (CredentialRow, String)) -> R<Credential> {
    row.into_domain(user_ext_id)
}

/// Inserts a common row (also used by the FIDO UAF adapter inside its own transaction).
pub(crate) fn insert_credential(
    conn: &mut crate::DbConnection,
    c: &Credential,
    secret: Option<&str>,
) -> R<Credential> {
    returned(
        diesel::insert_into(credentials::table)
            .values(NewCredentialRow::of(c, secret))
            .returning(credential_returning!())
            .get_result(conn)?,
    )
}

/// Credentials joined with their user's extId, boxed so callers add filters and order.
macro_rules! with_user {
    () => {
        credentials::table
            .inner_join(users::table)
            .select((CredentialRow::as_select(), users::ext_id))
            .into_boxed::<Db>()
    };
}

fn load(rows: Vec<(CredentialRow, String)>) -> R<Vec<Credential>> {
    rows.into_iter().map(returned).collect()
}

/// Inserts the password history entry for `old` and trims the history to `keep` entries.
fn push_history(
    conn: &mut crate::DbConnection,
    credential_id: i64,
    old: Option<String>,
    keep: usize,
) -> R<()> {
    use password_history as h;
    if let (Some(old), true) = (old, keep > 0) {
        diesel::insert_into(h::table)
            .values((
                h::credential_id.eq(credential_id),
                h::hash.eq(old),
                h::created.eq(now_millis()),
            ))
            .execute(conn)?;
    }
    let keep_ids: Vec<i64> = h::table
        .filter(h::credential_id.eq(credential_id))
        .order(h::id.desc())
        .limit(i64::try_from(keep).unwrap_or(i64::MAX))
        .select(h::id)
        .load(conn)?;
    diesel::delete(
        h::table
            .filter(h::credential_id.eq(credential_id))
            .filter(h::id.ne_all(keep_ids)),
    )
    .execute(conn)?;
    Ok(())
}

/// Advances the user's credential epoch inside the caller's transaction, creating the row
/// (at 1) for a user who has none.
///
/// Diesel's `MultiConnection` offers no `ON CONFLICT`, so: update, and when there was no row,
/// insert in a savepoint; if a concurrent transaction inserted the row first, the savepoint
/// alone rolls back and the update is repeated, which now finds the row.
pub(crate) fn advance_epoch(conn: &mut crate::DbConnection, user_id: i64) -> R<()> {
    use credential_epochs as ce;
    let bump = |conn: &mut crate::DbConnection| {
        diesel::update(ce::table.filter(ce::user_id.eq(user_id)))
            .set(ce::epoch.eq(ce::epoch + 1))
            .execute(conn)
    };
    if bump(conn)? > 0 {
        return Ok(());
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(ce::table)
            .values((ce::user_id.eq(user_id), ce::epoch.eq(1_i64)))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => match bump(conn)? {
            0 => Err(RepoError::Other("credential epoch row vanished".into()).into()),
            _ => Ok(()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Whether a recorded login moved a password into a locked state: such a login is a
/// credential change (the owner's X-Tokens must not outlive the lock).
fn login_locks(read: &Credential, next: &LoginState) -> bool {
    let locked =
        |s: CredentialState| matches!(s, CredentialState::TmpLocked | CredentialState::FailLocked);
    read.kind == CredentialType::Password && locked(next.state) && !locked(read.login.state)
}

#[async_trait]
impl CredentialRepo for Store {
    async fn credential_epoch(&self, user_id: i64) -> RepoResult<i64> {
        self.run(move |conn| {
            Ok(credential_epochs::table
                .find(user_id)
                .select(credential_epochs::epoch)
                .get_result::<i64>(conn)
                .optional()?
                .unwrap_or(0))
        })
        .await
    }

    async fn password_hash(&self, user_id: i64) -> RepoResult<Option<String>> {
        self.run(move |conn| {
            Ok(credentials::table
                .filter(credentials::user_id.eq(user_id))
                .filter(credentials::cred_type.eq(CredentialType::Password.as_str()))
                .select(credentials::secret)
                .get_result::<Option<String>>(conn)
                .optional()?
                .flatten())
        })
        .await
    }

    async fn set_password_hash(
        &self,
        client_id: i64,
        user_id: i64,
        ext_id: &str,
        hash: &str,
    ) -> RepoResult<()> {
        let (ext_id, hash) = (ext_id.to_owned(), hash.to_owned());
        self.tx(move |conn| {
            let now = now_millis();
            // Replace in place when a password exists: keeps the credential's extId stable.
            let updated = diesel::update(
                credentials::table
                    .filter(credentials::user_id.eq(user_id))
                    .filter(credentials::cred_type.eq(CredentialType::Password.as_str())),
            )
            .set((
                credentials::secret.eq(&hash),
                credentials::last_modified.eq(now),
                credentials::version.eq(credentials::version + 1),
            ))
            .execute(conn)?;
            if updated == 0 {
                let c = Credential {
                    meta: meta(0, ext_id, now, now, 1),
                    client_id,
                    user_id,
                    user_ext_id: String::new(),
                    kind: CredentialType::Password,
                    policy_ext_id: None,
                    login: LoginState::new(CredentialState::Active),
                    state_change_detail: None,
                    modification_comment: None,
                    validity: Validity::default(),
                    context: None,
                };
                diesel::insert_into(credentials::table)
                    .values(NewCredentialRow::of(&c, Some(&hash)))
                    .execute(conn)?;
            }
            advance_epoch(conn, user_id)
        })
        .await
    }

    async fn create_credential(&self, new: NewCredential) -> RepoResult<Credential> {
        self.tx(move |conn| {
            let written = insert_credential(conn, &new.credential, new.secret.as_deref())?;
            match new.detail {
                CredentialDetail::None => {}
            }
            if written.kind == CredentialType::Password {
                advance_epoch(conn, written.user_id)?;
            }
            Ok(written)
        })
        .await
    }

    async fn credential_of_type(
        &self,
        user_id: i64,
        kind: CredentialType,
    ) -> RepoResult<Option<Credential>> {
        self.run(move |conn| {
            let rows = with_user!()
                .filter(credentials::user_id.eq(user_id))
                .filter(credentials::cred_type.eq(kind.as_str()))
                .order((credentials::created.asc(), credentials::ext_id.asc()))
                // A user has one or a few credentials of a type: all are read and the first
                // kept, because a bound `LIMIT ?` makes SQLite re-compile the statement on
                // every run (clippy.toml) and this is on the login path.
                .load(conn)?;
            Ok(load(rows)?.into_iter().next())
        })
        .await
    }

    async fn credentials_of_type(
        &self,
        user_id: i64,
        kind: CredentialType,
    ) -> RepoResult<Vec<Credential>> {
        self.run(move |conn| {
            let rows = with_user!()
                .filter(credentials::user_id.eq(user_id))
                .filter(credentials::cred_type.eq(kind.as_str()))
                .order((credentials::created.asc(), credentials::ext_id.asc()))
                .load(conn)?;
            load(rows)
        })
        .await
    }

    async fn credential_by_ext_id(
        &self,
        client_id: i64,
        ext_id: &str,
    ) -> RepoResult<Option<Credential>> {
        let ext_id = ext_id.to_owned();
        self.run(move |conn| {
            let rows = with_user!()
                .filter(credentials::client_id.eq(client_id))
                .filter(credentials::ext_id.eq(ext_id))
                .load(conn)?;
            Ok(load(rows)?.pop())
        })
        .await
    }

    async fn list_credentials(
        &self,
        user_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<Credential>> {
        self.run(move |conn| {
            let query = with_user!().filter(credentials::user_id.eq(user_id));
            let rows: Vec<(CredentialRow, String)> =
                keyset!(query, credentials, page).load(conn)?;
            let items = rows.into_iter().map(returned).collect::<R<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |c| {
                cursor_of(&c.meta)
            }))
        })
        .await
    }

    async fn credential_secret(&self, credential_id: i64) -> RepoResult<Option<String>> {
        self.run(move |conn| {
            Ok(credentials::table
                .filter(credentials::id.eq(credential_id))
                .select(credentials::secret)
                .get_result::<Option<String>>(conn)?)
        })
        .await
    }

    async fn update_credential(&self, c: &Credential, epoch: Epoch) -> RepoResult<Credential> {
        let c = c.clone();
        let write = move |conn: &mut crate::DbConnection| {
            let written = returned(versioned_update!(
                conn,
                credentials,
                c.meta.id,
                c.meta.version,
                CredentialValues::of(&c),
                credential_returning!() => (CredentialRow, String),
            )?)?;
            if epoch == Epoch::Advance {
                advance_epoch(conn, written.user_id)?;
            }
            Ok(written)
        };
        // A transaction only when there are two statements to keep together.
        match epoch {
            Epoch::Advance => self.tx(write).await,
            Epoch::Keep => self.write(write).await,
        }
    }

    async fn replace_secret(
        &self,
        c: &Credential,
        secret: &str,
        keep_history: usize,
    ) -> RepoResult<Credential> {
        let (c, secret) = (c.clone(), secret.to_owned());
        self.tx(move |conn| {
            let old: Option<String> = credentials::table
                .filter(credentials::id.eq(c.meta.id))
                .select(credentials::secret)
                .get_result::<Option<String>>(conn)
                .optional()?
                .flatten();
            let written = returned(versioned_update!(
                conn,
                credentials,
                c.meta.id,
                c.meta.version,
                (CredentialValues::of(&c), credentials::secret.eq(Some(&secret))),
                credential_returning!() => (CredentialRow, String),
            )?)?;
            push_history(conn, c.meta.id, old, keep_history)?;
            advance_epoch(conn, written.user_id)?;
            Ok(written)
        })
        .await
    }

    async fn secret_history(&self, credential_id: i64, n: usize) -> RepoResult<Vec<String>> {
        self.run(move |conn| {
            use password_history as h;
            Ok(h::table
                .filter(h::credential_id.eq(credential_id))
                .order(h::id.desc())
                .limit(i64::try_from(n).unwrap_or(i64::MAX))
                .select(h::hash)
                .load(conn)?)
        })
        .await
    }

    async fn delete_credential(&self, credential_id: i64, epoch: Epoch) -> RepoResult<()> {
        self.tx(move |conn| {
            // Details cascade on both backends; deleted explicitly too, so the outcome does not
            // depend on SQLite's foreign-key pragma.
            diesel::delete(
                password_history::table.filter(password_history::credential_id.eq(credential_id)),
            )
            .execute(conn)?;
            {
                use crate::schema::fido_uaf_credentials as f;
                diesel::delete(f::table.filter(f::credential_id.eq(credential_id)))
                    .execute(conn)?;
            }
            let owner: Option<i64> =
                diesel::delete(credentials::table.filter(credentials::id.eq(credential_id)))
                    .returning(credentials::user_id)
                    .get_result(conn)
                    .optional()?;
            let owner = owner.ok_or(RepoError::NotFound)?;
            if epoch == Epoch::Advance {
                advance_epoch(conn, owner)?;
            }
            Ok(())
        })
        .await
    }

    async fn record_login(
        &self,
        read: &Credential,
        next: &LoginState,
    ) -> RepoResult<Option<Credential>> {
        let (read, next) = (read.clone(), next.clone());
        let locks = login_locks(&read, &next);
        let write = move |conn: &mut crate::DbConnection| {
            let l = &read.login;
            let row = diesel::update(
                credentials::table
                    .filter(credentials::id.eq(read.meta.id))
                    .filter(credentials::version.eq(read.meta.version))
                    .filter(credentials::state.eq(l.state.as_str()))
                    .filter(credentials::failure_count.eq(l.failure_count))
                    .filter(credentials::success_count.eq(l.success_count)),
            )
            .set(LoginValues::of(&next))
            .returning(credential_returning!())
            .get_result::<(CredentialRow, String)>(conn)
            .optional()
            .map_err(E::from)?;
            // Only a login that was recorded (not one that lost the race) locks anything.
            if locks && row.is_some() {
                advance_epoch(conn, read.user_id)?;
            }
            row.map(returned).transpose()
        };
        // Most logins are one statement; the locking one keeps its epoch step with it.
        if locks {
            self.tx(write).await
        } else {
            self.write(write).await
        }
    }
}
