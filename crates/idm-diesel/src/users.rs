//! Users adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::{Contacts, PersonName, Profile, User};
use idm_domain::values::UserState;
use idm_domain::values::Validity;
use idm_ports::query::{ListQuery, Listed};
use idm_ports::users::{UserAdmin, UserFilter, UserRepo};
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::listing::{listed, Column};
use crate::rows::{cursor_of, keyset, meta, parse, Db};
use crate::schema::{clients, users};
use crate::versioned::{columns_of, joined, versioned_update};
use crate::{DbConnection, Store, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: i64,
    client_id: i64,
    ext_id: String,
    login_id: String,
    state: String,
    language_code: Option<String>,
    is_technical_user: bool,
    title: Option<String>,
    first_name: Option<String>,
    family_name: Option<String>,
    sex: Option<String>,
    gender: Option<String>,
    birth_date: Option<String>,
    email: Option<String>,
    mobile: Option<String>,
    telephone: Option<String>,
    telefax: Option<String>,
    address: String,
    remarks: Option<String>,
    modification_comment: Option<String>,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

impl UserRow {
    pub(crate) fn into_domain(self, client_ext_id: String) -> R<User> {
        let address = match serde_json::from_str::<serde_json::Value>(&self.address) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(RepoError::Other("corrupt user address in database".into()).into()),
        };
        Ok(User {
            client_id: self.client_id,
            client_ext_id,
            login_id: self.login_id,
            state: parse(&self.state, "user state")?,
            language_code: self
                .language_code
                .as_deref()
                .map(|l| parse(l, "language code"))
                .transpose()?,
            is_technical_user: self.is_technical_user,
            name: PersonName {
                title: self.title,
                first_name: self.first_name,
                family_name: self.family_name,
            },
            sex: self.sex,
            gender: self.gender,
            birth_date: self.birth_date,
            contacts: Contacts {
                telephone: self.telephone,
                telefax: self.telefax,
                mobile: self.mobile,
                email: self.email,
            },
            address,
            remarks: self.remarks,
            modification_comment: self.modification_comment,
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
        })
    }
}

/// Column values of a user as written by insert and update.
///
/// `treat_none_as_default_value = false`: a `None` is bound as NULL (every optional column
/// defaults to NULL anyway), so the INSERT's text is the same for every user and stays in the
/// statement cache; with `DEFAULT` for `None`, PostgreSQL parsed and planned it on every create.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(crate) struct UserValues<'a> {
    login_id: &'a str,
    state: &'a str,
    language_code: Option<&'a str>,
    is_technical_user: bool,
    title: Option<&'a str>,
    first_name: Option<&'a str>,
    family_name: Option<&'a str>,
    sex: Option<&'a str>,
    gender: Option<&'a str>,
    birth_date: Option<&'a str>,
    email: Option<&'a str>,
    mobile: Option<&'a str>,
    telephone: Option<&'a str>,
    telefax: Option<&'a str>,
    address: String,
    remarks: Option<&'a str>,
    modification_comment: Option<&'a str>,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
}

impl<'a> UserValues<'a> {
    pub(crate) fn of(u: &'a User) -> Self {
        UserValues {
            login_id: &u.login_id,
            state: u.state.as_str(),
            language_code: u.language_code.map(|l| l.as_str()),
            is_technical_user: u.is_technical_user,
            title: u.name.title.as_deref(),
            first_name: u.name.first_name.as_deref(),
            family_name: u.name.family_name.as_deref(),
            sex: u.sex.as_deref(),
            gender: u.gender.as_deref(),
            birth_date: u.birth_date.as_deref(),
            email: u.contacts.email.as_deref(),
            mobile: u.contacts.mobile.as_deref(),
            telephone: u.contacts.telephone.as_deref(),
            telefax: u.contacts.telefax.as_deref(),
            address: serde_json::Value::Object(u.address.clone()).to_string(),
            remarks: u.remarks.as_deref(),
            modification_comment: u.modification_comment.as_deref(),
            valid_from: u.validity.from.map(|t| t.naive_utc()),
            valid_to: u.validity.to.map(|t| t.naive_utc()),
        }
    }
}

/// The columns a user update sets: only those whose value differs from the stored row.
///
/// `None` leaves a column out of the `SET` list (Diesel skips it); for nullable columns
/// `Some(None)` writes NULL. Why not [`UserValues`], which sets every column: SQLite maintains
/// an index on every UPDATE whose `SET` list names one of its columns, changed value or not, and
/// `users` carries sixteen secondary indexes for the list filters. A PATCH of `remarks` and
/// `name.firstName` then maintains the two indexes over `first_name` and `last_modified` instead
/// of all sixteen (docs/performance.md, "a user UPDATE sets only what changed").
#[derive(AsChangeset)]
#[diesel(table_name = users)]
pub(crate) struct UserChanges<'a> {
    login_id: Option<&'a str>,
    state: Option<&'a str>,
    language_code: Option<Option<&'a str>>,
    is_technical_user: Option<bool>,
    title: Option<Option<&'a str>>,
    first_name: Option<Option<&'a str>>,
    family_name: Option<Option<&'a str>>,
    sex: Option<Option<&'a str>>,
    gender: Option<Option<&'a str>>,
    birth_date: Option<Option<&'a str>>,
    email: Option<Option<&'a str>>,
    mobile: Option<Option<&'a str>>,
    telephone: Option<Option<&'a str>>,
    telefax: Option<Option<&'a str>>,
    address: Option<String>,
    remarks: Option<Option<&'a str>>,
    modification_comment: Option<Option<&'a str>>,
    valid_from: Option<Option<NaiveDateTime>>,
    valid_to: Option<Option<NaiveDateTime>>,
}

/// `Some(new)` when `new` differs from `old`: the change-set entry of one column.
fn changed<T: PartialEq>(old: T, new: T) -> Option<T> {
    (old != new).then_some(new)
}

impl<'a> UserChanges<'a> {
    /// The columns of `after` that differ from `before`, the stored row at `after`'s version
    /// (the versioned update's `WHERE version = ?` guarantees that the row still is `before`).
    pub(crate) fn between(before: &'a User, after: &'a User) -> Self {
        let (b, a) = (UserValues::of(before), UserValues::of(after));
        UserChanges {
            login_id: changed(b.login_id, a.login_id),
            state: changed(b.state, a.state),
            language_code: changed(b.language_code, a.language_code),
            is_technical_user: changed(b.is_technical_user, a.is_technical_user),
            title: changed(b.title, a.title),
            first_name: changed(b.first_name, a.first_name),
            family_name: changed(b.family_name, a.family_name),
            sex: changed(b.sex, a.sex),
            gender: changed(b.gender, a.gender),
            birth_date: changed(b.birth_date, a.birth_date),
            email: changed(b.email, a.email),
            mobile: changed(b.mobile, a.mobile),
            telephone: changed(b.telephone, a.telephone),
            telefax: changed(b.telefax, a.telefax),
            address: changed(b.address, a.address),
            remarks: changed(b.remarks, a.remarks),
            modification_comment: changed(b.modification_comment, a.modification_comment),
            valid_from: changed(b.valid_from, a.valid_from),
            valid_to: changed(b.valid_to, a.valid_to),
        }
    }
}

/// A new user row: identity columns plus [`UserValues`].
#[derive(Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
struct NewUser<'a> {
    client_id: i64,
    ext_id: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    #[diesel(embed)]
    values: UserValues<'a>,
}

/// What RETURNING hands back for a user: its row and its client's extId.
macro_rules! user_returning {
    () => {
        (
            columns_of::<UserRow>(),
            joined!(clients::ext_id, users::client_id),
        )
    };
}

fn returned((row, client_ext_id): (UserRow, String)) -> R<User> {
    row.into_domain(client_ext_id)
}

pub(crate) fn find(conn: &mut DbConnection, client_id: i64, ext_id: &str) -> R<Option<User>> {
    users::table
        .inner_join(clients::table)
        .filter(users::client_id.eq(client_id))
        .filter(users::ext_id.eq(ext_id))
        .select((UserRow::as_select(), clients::ext_id))
        .get_result::<(UserRow, String)>(conn)
        .optional()?
        .map(|(row, c)| row.into_domain(c))
        .transpose()
}

/// Inserts a user (shared by the plain create and the create with property values).
pub(crate) fn insert(conn: &mut DbConnection, user: &User) -> R<User> {
    let new = NewUser {
        client_id: user.client_id,
        ext_id: &user.meta.ext_id,
        created: user.meta.created,
        last_modified: user.meta.last_modified,
        version: user.meta.version,
        values: UserValues::of(user),
    };
    // INSERT … RETURNING through the MultiConnection is prepared afresh on every run.
    // `first_recorded`: on PostgreSQL the create's audit record rides in the statement.
    let row = native!(conn, |conn| crate::audit::RecordedWrite::<
        _,
        (UserRow, String),
    >::first_recorded(
        conn,
        diesel::insert_into(users::table)
            .values(&new)
            .returning(user_returning!()),
        None,
    ))?;
    returned(
        row.ok_or_else(|| crate::E(RepoError::Other("INSERT … RETURNING gave no row".into())))?,
    )
}

/// The versioned update of a user from `before` (the stored row at `user`'s version) to `user`,
/// with its state cascade. On PostgreSQL one statement (the cascade rides in it); on SQLite
/// two when the state changes, run inside a transaction.
pub(crate) fn update(conn: &mut DbConnection, user: &User, before: &User) -> R<User> {
    use crate::schema::profiles;
    let previous = before.state;
    // The user's state rules its profiles: disabling disables the active ones,
    // archiving archives all (reference notes §4). Always two states to leave (one twice), so
    // the statement's text is fixed: SQLite prepares an `IN` list afresh on every run.
    let cascade = match user.state {
        _ if user.state == previous => None,
        UserState::Disabled => Some(("disabled", ["active", "active"])),
        UserState::Archived => Some(("archived", ["active", "disabled"])),
        UserState::Active => None,
    };
    #[cfg(feature = "postgres")]
    if let (DbConnection::Postgresql(pg), Some((to, from))) = (&mut *conn, &cascade) {
        return returned(crate::versioned::versioned_update_with!(
            pg,
            users,
            user.meta.id,
            user.meta.version,
            UserChanges::between(before, user),
            user_returning!() => (UserRow, String),
            cascade_side(user.meta.id, to, *from),
        )?);
    }
    let written = returned(versioned_update!(
        conn,
        users,
        user.meta.id,
        user.meta.version,
        UserChanges::between(before, user),
        user_returning!() => (UserRow, String),
    )?)?;
    if let Some((to, from)) = cascade {
        let at = written.meta.last_modified;
        native!(conn, |conn| crate::cached::update(
            profiles::table,
            (
                profiles::state.eq(to),
                profiles::last_modified.eq(at),
                profiles::version.eq(profiles::version + 1),
            ),
            cascaded_profiles(user.meta.id, from),
        )
        .execute(conn))?;
    }
    Ok(written)
}

/// The profiles a user's disable or archive takes along: the user's, in one of the two states
/// `from`. Two equalities rather than `IN`: SQLite compiles a statement with an `IN` list
/// afresh on every run (Diesel will not cache it), ~4 % of the one writer's time in the
/// lifecycle's profile.
type CascadedProfiles<'a> = diesel::dsl::And<
    diesel::dsl::Eq<crate::schema::profiles::user_id, i64>,
    diesel::dsl::Or<
        diesel::dsl::Eq<crate::schema::profiles::state, &'a str>,
        diesel::dsl::Eq<crate::schema::profiles::state, &'a str>,
    >,
>;

fn cascaded_profiles(user_id: i64, from: [&str; 2]) -> CascadedProfiles<'_> {
    use crate::schema::profiles;
    profiles::user_id
        .eq(user_id)
        .and(profiles::state.eq(from[0]).or(profiles::state.eq(from[1])))
}

/// The profiles' state cascade of a user's disable or archive, riding in the user's UPDATE
/// (PostgreSQL): it happens only when the UPDATE matched, and stamps the user's new time.
#[cfg(feature = "postgres")]
fn cascade_side<'a>(user_id: i64, to: &'a str, from: [&'a str; 2]) -> crate::audit::Sides<'a> {
    use crate::audit::{fixed, WRITTEN};
    use crate::schema::profiles;
    use diesel::sql_types::Timestamp;
    vec![(
        "cascade",
        Box::new(crate::cached::update(
            profiles::table,
            (
                profiles::state.eq(to),
                profiles::last_modified
                    .eq(fixed::<Timestamp>("(SELECT last_modified FROM written)")),
                profiles::version.eq(profiles::version + 1),
            ),
            cascaded_profiles(user_id, from).and(WRITTEN),
        )),
    )]
}

/// What a user's DELETE takes along in its statement (PostgreSQL).
#[cfg(feature = "postgres")]
fn delete_sides(user_id: i64) -> crate::audit::Sides<'static> {
    use crate::audit::fixed;
    use crate::schema::{fido_uaf_credentials as f, profiles as p};
    use diesel::sql_types::Bool;
    // Credentials point at dispatch targets without a cascade: deleted in the statement,
    // they are gone when the end-of-statement cascade from `users` reaches the targets.
    // Profiles of others that named a deleted profile as deputy name none; a profile of
    // this user itself is left to `gone` (one row must not be deleted and updated by the
    // same statement).
    vec![
        (
            "fido",
            Box::new(diesel::delete(f::table.filter(f::user_id.eq(user_id)))),
        ),
        (
            "gone",
            Box::new(
                diesel::delete(p::table.filter(p::user_id.eq(user_id)))
                    .returning((p::client_id, p::ext_id)),
            ),
        ),
        (
            "deputies",
            Box::new(crate::cached::update(
                p::table,
                (
                    p::deputed_profile_ext_id.eq(None::<String>),
                    p::version.eq(p::version + 1),
                    p::last_modified.eq(idm_domain::values::now_millis()),
                ),
                p::user_id
                    .ne(user_id)
                    // Spelled out so the partial index `profiles_deputed` is provably usable.
                    .and(p::deputed_profile_ext_id.is_not_null())
                    .and(fixed::<Bool>(
                    "(client_id, deputed_profile_ext_id) IN (SELECT client_id, ext_id FROM gone)",
                )),
            )),
        ),
    ]
}

/// Deletes a user with what does not cascade from it. On PostgreSQL one statement; on SQLite
/// several, run inside a transaction.
fn delete(conn: &mut DbConnection, user_id: i64) -> R<()> {
    use crate::schema::{fido_uaf_credentials as f, profiles as p};
    #[cfg(feature = "postgres")]
    if let DbConnection::Postgresql(pg) = conn {
        let gone = crate::audit::write_with::<_, i64>(
            pg,
            diesel::delete(users::table.filter(users::id.eq(user_id))).returning(users::id),
            delete_sides(user_id),
            None,
        )?;
        return gone.map(|_| ()).ok_or_else(|| RepoError::NotFound.into());
    }
    // Credentials point at dispatch targets without a cascade: they go first; the rest
    // (authorizations, passwords, consents, devices) cascades from profiles and users.
    diesel::delete(f::table.filter(f::user_id.eq(user_id))).execute(conn)?;
    let gone: Vec<(i64, String)> = diesel::delete(p::table.filter(p::user_id.eq(user_id)))
        .returning((p::client_id, p::ext_id))
        .get_results(conn)?;
    if let Some((client_id, _)) = gone.first() {
        let ext_ids: Vec<String> = gone.iter().map(|(_, e)| e.clone()).collect();
        crate::profiles::clear_deputies(conn, *client_id, &ext_ids)?;
    }
    let n = diesel::delete(users::table.filter(users::id.eq(user_id))).execute(conn)?;
    if n == 0 {
        return Err(RepoError::NotFound.into());
    }
    Ok(())
}

#[async_trait]
impl UserRepo for Store {
    async fn user_by_ext_id(&self, client_id: i64, ext_id: &str) -> RepoResult<Option<User>> {
        let ext_id = ext_id.to_owned();
        self.lookup(move |conn| find(conn, client_id, &ext_id))
            .await
    }

    async fn user_by_login_id(&self, client_id: i64, login_id: &str) -> RepoResult<Option<User>> {
        let login_id = login_id.to_owned();
        self.run(move |conn| {
            users::table
                .inner_join(clients::table)
                .filter(users::client_id.eq(client_id))
                .filter(users::login_id.eq(&login_id))
                .select((UserRow::as_select(), clients::ext_id))
                .get_result::<(UserRow, String)>(conn)
                .optional()?
                .map(|(row, c)| row.into_domain(c))
                .transpose()
        })
        .await
    }

    async fn create_user(&self, user: User) -> RepoResult<User> {
        self.write_one(move |conn| insert(conn, &user)).await
    }

    async fn user_unit_paths(&self, user_id: i64) -> RepoResult<Vec<String>> {
        use crate::schema::{profiles, units};
        self.run(move |conn| {
            Ok(profiles::table
                .inner_join(units::table.on(units::id.eq(profiles::unit_id)))
                .filter(profiles::user_id.eq(user_id))
                .select(units::path)
                .load::<String>(conn)?)
        })
        .await
    }
}

/// Where the wire fields of [`idm_ports::query::USER_FIELDS`] live.
fn user_column(field: &str) -> Option<Column> {
    Some(match field {
        "extId" => Column::Plain("users.ext_id"),
        "userState" => Column::Plain("users.state"),
        "loginId" => Column::Plain("users.login_id"),
        "languageCode" => Column::Text("users.language_code"),
        "isTechnicalUser" => Column::Plain("users.is_technical_user"),
        "name.title" => Column::Text("users.title"),
        "name.firstName" => Column::Text("users.first_name"),
        "name.familyName" => Column::Text("users.family_name"),
        "sex" => Column::Text("users.sex"),
        "gender" => Column::Text("users.gender"),
        "birthDate" => Column::Text("users.birth_date"),
        // The address is one JSON object; its wire field names are its keys.
        "address.countryCode" => Column::Json("users.address", "countryCode"),
        "address.city" => Column::Json("users.address", "city"),
        "address.postalCode" => Column::Json("users.address", "postalCode"),
        "address.addressline1" => Column::Json("users.address", "addressline1"),
        "address.addressline2" => Column::Json("users.address", "addressline2"),
        "address.street" => Column::Json("users.address", "street"),
        "address.houseNumber" => Column::Json("users.address", "houseNumber"),
        "address.dwellingNumber" => Column::Json("users.address", "dwellingNumber"),
        "address.postOfficeBoxText" => Column::Json("users.address", "postOfficeBoxText"),
        "address.postOfficeBoxNumber" => Column::Json("users.address", "postOfficeBoxNumber"),
        "address.locality" => Column::Json("users.address", "locality"),
        "contacts.telephone" => Column::Text("users.telephone"),
        "contacts.telefax" => Column::Text("users.telefax"),
        "contacts.email" => Column::Text("users.email"),
        "contacts.mobile" => Column::Text("users.mobile"),
        "validity.from" => Column::Time("users.valid_from"),
        "validity.to" => Column::Time("users.valid_to"),
        "remarks" => Column::Text("users.remarks"),
        "modificationComment" => Column::Text("users.modification_comment"),
        "version" => Column::Plain("users.version"),
        "created" => Column::Plain("users.created"),
        "lastModified" => Column::Plain("users.last_modified"),
        // Served by `profiles_unit` and the units' (client_id, ext_id) key.
        "unitExtId" => Column::Subquery(
            "users.id IN (SELECT p.user_id FROM profiles p WHERE p.unit_id IN \
             (SELECT un.id FROM units un WHERE un.client_id = users.client_id AND un.ext_id = ",
            "))",
        ),
        "properties" => Column::PropertyOwner("user_id", "users.id"),
        _ => return None,
    })
}

#[async_trait]
impl UserAdmin for Store {
    async fn query_users(&self, client_id: i64, query: ListQuery) -> RepoResult<Listed<User>> {
        let backend = self.backend();
        self.run(move |conn| {
            let listed = listed!(
                conn,
                // The client's extId as a scalar subquery, not a join: with a join in FROM,
                // SQLite drove the plan from `clients` and sorted the whole client instead of
                // walking a (client_id, key, ext_id) index (EXPLAIN QUERY PLAN).
                users::table
                    .filter(users::client_id.eq(client_id))
                    .select((
                        UserRow::as_select(),
                        diesel::dsl::sql::<diesel::sql_types::Text>(
                            "(SELECT c.ext_id FROM clients c WHERE c.id = users.client_id)",
                        ),
                    ))
                    .into_boxed::<Db>(),
                (UserRow, String),
                query,
                user_column,
                "users.ext_id",
                backend
            )?;
            let items = listed
                .items
                .into_iter()
                .map(|(r, c)| r.into_domain(c))
                .collect::<R<Vec<_>>>()?;
            Ok(Listed {
                items,
                more: listed.more,
                total: listed.total,
            })
        })
        .await
    }

    async fn create_user_with_profile(
        &self,
        user: User,
        mut profile: Profile,
    ) -> RepoResult<(User, Profile)> {
        self.tx(move |conn| {
            let user = insert(conn, &user)?;
            profile.user_id = user.meta.id;
            profile.user_ext_id = user.meta.ext_id.clone();
            let profile = crate::profiles::insert(conn, &profile)?;
            Ok((user, profile))
        })
        .await
    }

    async fn list_users(
        &self,
        client_id: i64,
        filter: UserFilter,
        page: PageRequest,
    ) -> RepoResult<Page<User>> {
        self.run(move |conn| {
            let mut query = users::table
                .inner_join(clients::table)
                .filter(users::client_id.eq(client_id))
                .select((UserRow::as_select(), clients::ext_id))
                .into_boxed::<Db>();
            // Each filter hits a unique or paging index: (client_id, login_id),
            // (client_id, ext_id), (client_id, state, created, ext_id).
            if let Some(l) = &filter.login_id {
                query = query.filter(users::login_id.eq(l.clone()));
            }
            if let Some(e) = &filter.ext_id {
                query = query.filter(users::ext_id.eq(e.clone()));
            }
            if let Some(s) = filter.state {
                query = query.filter(users::state.eq(s.as_str()));
            }
            let rows: Vec<(UserRow, String)> = keyset!(query, users, page).load(conn)?;
            let items = rows
                .into_iter()
                .map(|(r, c)| r.into_domain(c))
                .collect::<R<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |u| {
                cursor_of(&u.meta)
            }))
        })
        .await
    }

    async fn update_user(&self, user: &User, before: &User) -> RepoResult<User> {
        let (user, before) = (user.clone(), before.clone());
        // One statement on PostgreSQL, and on SQLite without a state change (no cascade).
        if user.state == before.state || self.backend() == crate::Backend::Postgres {
            return self
                .write_one(move |conn| update(conn, &user, &before))
                .await;
        }
        self.tx(move |conn| update(conn, &user, &before)).await
    }

    async fn archive_user(&self, user: &User) -> RepoResult<User> {
        use crate::schema::{
            authorizations as a, credentials as cr, dispatch_targets as d,
            fido_uaf_credentials as f, profiles as p,
        };
        let mut user = user.clone();
        user.state = UserState::Archived;
        self.tx(move |conn| {
            let written = returned(versioned_update!(
                conn,
                users,
                user.meta.id,
                user.meta.version,
                UserValues::of(&user),
                user_returning!() => (UserRow, String),
            )?)?;
            let profile_ids = p::table.filter(p::user_id.eq(user.meta.id)).select(p::id);
            diesel::delete(a::table.filter(a::profile_id.eq_any(profile_ids))).execute(conn)?;
            diesel::update(
                p::table
                    .filter(p::user_id.eq(user.meta.id))
                    .filter(p::state.ne("archived")),
            )
            .set((
                p::state.eq("archived"),
                p::last_modified.eq(written.meta.last_modified),
                p::version.eq(p::version + 1),
            ))
            .execute(conn)?;
            // Every credential table of the user; FIDO UAF credentials point at dispatch
            // targets without a cascade, so they go first.
            diesel::delete(f::table.filter(f::user_id.eq(user.meta.id))).execute(conn)?;
            diesel::delete(d::table.filter(d::user_id.eq(user.meta.id))).execute(conn)?;
            // Every credential type's detail row cascades from its common row.
            diesel::delete(cr::table.filter(cr::user_id.eq(user.meta.id))).execute(conn)?;
            // The password went with them: a credential change like any other delete of it.
            crate::credentials::advance_epoch(conn, user.meta.id)?;
            Ok(written)
        })
        .await
    }

    async fn delete_user(&self, user_id: i64) -> RepoResult<()> {
        if self.backend() == crate::Backend::Postgres {
            return self.write_one(move |conn| delete(conn, user_id)).await;
        }
        self.tx(move |conn| delete(conn, user_id)).await
    }
}

#[cfg(test)]
mod list_tests {
    #[test]
    fn every_declared_user_field_has_a_column() {
        for f in idm_ports::query::USER_FIELDS {
            assert!(super::user_column(f.name).is_some(), "{}", f.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idm_domain::model::Meta;

    /// Every side a user's write takes along renders as cacheable SQL: PostgreSQL parses and
    /// plans the whole statement once per connection instead of on every run (a `dsl::sql`
    /// literal anywhere in it made Diesel send it unnamed, planned afresh each time).
    #[cfg(feature = "postgres")]
    #[test]
    fn the_sides_of_a_users_disable_and_delete_leave_their_statements_cacheable_on_postgresql() {
        use diesel::query_builder::QueryFragment;
        let pg = diesel::pg::Pg;
        let sides = cascade_side(7, "disabled", ["active", "active"])
            .into_iter()
            .chain(delete_sides(7));
        for (name, side) in sides {
            assert!(
                side.is_safe_to_cache_prepared(&pg).unwrap(),
                "the {name} side makes its statement uncacheable"
            );
        }
        // The check itself tells: a literal makes it false.
        let literal = diesel::dsl::sql::<diesel::sql_types::Bool>("TRUE");
        assert!(!literal.is_safe_to_cache_prepared(&pg).unwrap());
    }

    #[test]
    fn a_users_profile_cascade_is_prepared_once_per_sqlite_connection() {
        use crate::cached::tests::Prepares;
        use crate::schema::profiles;
        use diesel::Connection;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let mut conn =
            DbConnection::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap());
        crate::pool::run_migrations(&mut conn).unwrap();
        let prepared = std::sync::Arc::new(AtomicUsize::new(0));
        conn.set_instrumentation(Prepares(prepared.clone()));
        for (user_id, from) in [(7, ["active", "active"]), (8, ["active", "disabled"])] {
            let cascade = crate::cached::update(
                profiles::table,
                profiles::version.eq(profiles::version + 1),
                cascaded_profiles(user_id, from),
            );
            native!(&mut conn, |c| cascade.execute(c)).unwrap();
        }
        assert_eq!(
            prepared.load(Ordering::Relaxed),
            1,
            "prepared again on the second run"
        );
    }

    fn user() -> User {
        let t = chrono::DateTime::from_timestamp_millis(0)
            .map(|t| t.naive_utc())
            .unwrap_or_default();
        User {
            meta: Meta {
                id: 7,
                ext_id: "u".into(),
                created: t,
                last_modified: t,
                version: 3,
            },
            client_id: 1,
            client_ext_id: "c".into(),
            login_id: "login".into(),
            state: UserState::Active,
            language_code: None,
            is_technical_user: false,
            name: PersonName {
                title: None,
                first_name: Some("Ada".into()),
                family_name: Some("Lovelace".into()),
            },
            sex: None,
            gender: None,
            birth_date: None,
            contacts: Contacts {
                email: Some("ada@example.com".into()),
                ..Default::default()
            },
            address: serde_json::Map::new(),
            remarks: None,
            modification_comment: None,
            validity: Validity::default(),
        }
    }

    /// The user UPDATE for `before` → `after`, with its binds, as SQLite would run it.
    fn update_sql(before: &User, after: &User) -> String {
        diesel::debug_query::<diesel::sqlite::Sqlite, _>(
            &diesel::update(users::table).set(UserChanges::between(before, after)),
        )
        .to_string()
    }

    /// The `SET` list of the user UPDATE for `before` → `after`.
    fn set_list(before: &User, after: &User) -> String {
        let sql = update_sql(before, after);
        sql.split(" -- ").next().unwrap_or_default().to_owned()
    }

    #[test]
    fn a_user_update_sets_only_the_columns_whose_value_changed() {
        let before = user();
        let mut after = before.clone();
        after.remarks = Some("patched".into());
        after.name.first_name = Some("Grace".into());
        assert_eq!(
            set_list(&before, &after),
            r#"UPDATE `users` SET `first_name` = ?, `remarks` = ?"#
        );
    }

    #[test]
    fn a_cleared_field_is_set_to_null_and_an_address_change_rewrites_the_address() {
        let before = user();
        let mut after = before.clone();
        after.contacts.email = None;
        after.address.insert("city".into(), "Bern".into());
        after.state = UserState::Disabled;
        let sql = update_sql(&before, &after);
        assert!(
            sql.starts_with("UPDATE `users` SET `state` = ?, `email` = ?, `address` = ?"),
            "{sql}"
        );
        assert!(
            sql.contains(r#"binds: ["disabled", None, "{\"city\":\"Bern\"}"]"#),
            "{sql}"
        );
    }
}
