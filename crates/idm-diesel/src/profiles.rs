//! Profiles adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_domain::model::Profile;
use idm_domain::values::Validity;
use idm_ports::profiles::{ProfileAdmin, ProfileRepo};
use idm_ports::query::{ListQuery, Listed};
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::listing::{listed, Column};
use crate::rows::{cursor_of, keyset, meta, parse, Db};
use crate::schema::{profiles, users};
use crate::versioned::{columns_of, joined, versioned_update};
use crate::{DbConnection, Store, R};

#[derive(Queryable, Selectable)]
#[diesel(table_name = profiles)]
pub(crate) struct ProfileRow {
    id: i64,
    client_id: i64,
    user_id: i64,
    unit_id: i64,
    ext_id: String,
    name: Option<String>,
    state: String,
    is_default_profile: bool,
    remarks: Option<String>,
    modification_comment: Option<String>,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    deputed_profile_ext_id: Option<String>,
    user_ext_id: String,
}

/// The joined columns a profile DTO needs besides its own row: client extId, unit extId and
/// path (the user's extId is a column of the profile: it never changes).
pub(crate) type ProfileJoin = (ProfileRow, String, String, String);

impl ProfileRow {
    pub(crate) fn into_domain(
        self,
        client_ext_id: String,
        unit_ext_id: String,
        unit_path: String,
    ) -> R<Profile> {
        Ok(Profile {
            client_id: self.client_id,
            client_ext_id,
            user_id: self.user_id,
            user_ext_id: self.user_ext_id,
            unit_id: self.unit_id,
            unit_ext_id,
            unit_path,
            name: self.name,
            state: parse(&self.state, "profile state")?,
            is_default_profile: self.is_default_profile,
            remarks: self.remarks,
            modification_comment: self.modification_comment,
            validity: Validity {
                from: self.valid_from.map(|t| t.and_utc()),
                to: self.valid_to.map(|t| t.and_utc()),
            },
            deputed_profile_ext_id: self.deputed_profile_ext_id,
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

/// The columns a profile update may change; also the body of its insert.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = profiles, treat_none_as_null = true, treat_none_as_default_value = false)]
struct ProfileValues<'a> {
    unit_id: i64,
    name: Option<&'a str>,
    state: &'a str,
    is_default_profile: bool,
    remarks: Option<&'a str>,
    modification_comment: Option<&'a str>,
    valid_from: Option<NaiveDateTime>,
    valid_to: Option<NaiveDateTime>,
    deputed_profile_ext_id: Option<&'a str>,
}

impl<'a> ProfileValues<'a> {
    fn of(p: &'a Profile) -> Self {
        ProfileValues {
            unit_id: p.unit_id,
            name: p.name.as_deref(),
            state: p.state.as_str(),
            is_default_profile: p.is_default_profile,
            remarks: p.remarks.as_deref(),
            modification_comment: p.modification_comment.as_deref(),
            valid_from: p.validity.from.map(|t| t.naive_utc()),
            valid_to: p.validity.to.map(|t| t.naive_utc()),
            deputed_profile_ext_id: p.deputed_profile_ext_id.as_deref(),
        }
    }
}

diesel::define_sql_function! {
    /// SQL `COALESCE` of a nullable text and a text.
    fn coalesce(x: diesel::sql_types::Nullable<diesel::sql_types::Text>, y: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A new profile row: owner and identity columns plus [`ProfileValues`].
#[derive(Insertable)]
#[diesel(table_name = profiles, treat_none_as_default_value = false)]
struct NewProfile<'a> {
    client_id: i64,
    user_id: i64,
    ext_id: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
    #[diesel(embed)]
    values: ProfileValues<'a>,
}

/// What RETURNING hands back for a profile: the same shape as [`profile_query`], the joined
/// columns as correlated subselects (an update may have moved the profile to another unit).
macro_rules! profile_returning {
    () => {{
        use crate::schema::{clients, units};
        (
            columns_of::<ProfileRow>(),
            joined!(clients::ext_id, profiles::client_id),
            joined!(units::ext_id, profiles::unit_id),
            joined!(units::path, profiles::unit_id),
        )
    }};
}

pub(crate) fn from_join(j: ProfileJoin) -> R<Profile> {
    let (row, c, n, p) = j;
    row.into_domain(c, n, p)
}

/// Profiles joined with what their DTO needs, ready to filter.
macro_rules! profile_query {
    () => {
        crate::schema::profiles::table
            .inner_join(
                crate::schema::clients::table
                    .on(crate::schema::clients::id.eq(crate::schema::profiles::client_id)),
            )
            .inner_join(
                crate::schema::units::table
                    .on(crate::schema::units::id.eq(crate::schema::profiles::unit_id)),
            )
            .select((
                crate::profiles::ProfileRow::as_select(),
                crate::schema::clients::ext_id,
                crate::schema::units::ext_id,
                crate::schema::units::path,
            ))
    };
}
#[allow(unused_imports)]
pub(crate) use profile_query;

pub(crate) fn find(conn: &mut DbConnection, client_id: i64, ext_id: &str) -> R<Option<Profile>> {
    profile_query!()
        .filter(profiles::client_id.eq(client_id))
        .filter(profiles::ext_id.eq(ext_id))
        .get_result::<ProfileJoin>(conn)
        .optional()?
        .map(from_join)
        .transpose()
}

/// Inserts a profile (shared by the plain create and the create with property values).
pub(crate) fn insert(conn: &mut DbConnection, p: &Profile) -> R<Profile> {
    from_join(
        diesel::insert_into(profiles::table)
            .values((
                NewProfile {
                    client_id: p.client_id,
                    user_id: p.user_id,
                    ext_id: &p.meta.ext_id,
                    created: p.meta.created,
                    last_modified: p.meta.last_modified,
                    version: p.meta.version,
                    values: ProfileValues::of(p),
                },
                // The user's extId comes from the user row, like the other joined columns,
                // whatever the caller filled in. A user deleted meanwhile gives '' here, so the
                // insert still fails on the user's foreign key (a conflict), not on NOT NULL.
                profiles::user_ext_id.eq(coalesce(
                    users::table
                        .filter(users::id.eq(p.user_id))
                        .select(users::ext_id)
                        .single_value(),
                    "",
                )),
            ))
            .returning(profile_returning!())
            .get_result(conn)?,
    )
}

/// The versioned update of a profile.
pub(crate) fn update(conn: &mut DbConnection, p: &Profile) -> R<Profile> {
    from_join(versioned_update!(
        conn,
        profiles,
        p.meta.id,
        p.meta.version,
        ProfileValues::of(p),
        profile_returning!() => ProfileJoin,
    )?)
}

#[async_trait]
impl ProfileRepo for Store {
    async fn profile_by_ext_id(&self, client_id: i64, ext_id: &str) -> RepoResult<Option<Profile>> {
        let ext_id = ext_id.to_owned();
        self.lookup(move |conn| find(conn, client_id, &ext_id))
            .await
    }

    async fn create_profile(&self, p: Profile) -> RepoResult<Profile> {
        self.write(move |conn| insert(conn, &p)).await
    }
}

/// Profiles that named one of `ext_ids` (of `client_id`) as their deputy lose it: the deputy
/// is gone, and a later profile reusing the extId must not inherit the role.
pub(crate) fn clear_deputies(conn: &mut DbConnection, client_id: i64, ext_ids: &[String]) -> R<()> {
    if ext_ids.is_empty() {
        return Ok(());
    }
    diesel::update(
        profiles::table
            .filter(profiles::client_id.eq(client_id))
            .filter(profiles::deputed_profile_ext_id.eq_any(ext_ids)),
    )
    .set((
        profiles::deputed_profile_ext_id.eq(None::<String>),
        profiles::version.eq(profiles::version + 1),
        profiles::last_modified.eq(idm_domain::values::now_millis()),
    ))
    .execute(conn)?;
    Ok(())
}

#[async_trait]
impl ProfileAdmin for Store {
    async fn query_user_profiles(
        &self,
        user_id: i64,
        query: ListQuery,
    ) -> RepoResult<Listed<Profile>> {
        let backend = self.backend();
        self.run(move |conn| {
            let listed = listed!(
                conn,
                profile_query!()
                    .filter(profiles::user_id.eq(user_id))
                    .into_boxed::<Db>(),
                ProfileJoin,
                query,
                profile_column,
                "profiles.ext_id",
                backend
            )?;
            Ok(Listed {
                items: listed
                    .items
                    .into_iter()
                    .map(from_join)
                    .collect::<R<Vec<_>>>()?,
                more: listed.more,
                total: listed.total,
            })
        })
        .await
    }

    async fn list_user_profiles(
        &self,
        user_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<Profile>> {
        self.run(move |conn| {
            let query = profile_query!()
                .filter(profiles::user_id.eq(user_id))
                .into_boxed::<Db>();
            let rows: Vec<ProfileJoin> = keyset!(query, profiles, page).load(conn)?;
            let items = rows.into_iter().map(from_join).collect::<R<Vec<_>>>()?;
            Ok(Page::from_overfetch(items, page.limit, |p| {
                cursor_of(&p.meta)
            }))
        })
        .await
    }

    async fn update_profile(&self, p: &Profile) -> RepoResult<Profile> {
        let p = p.clone();
        // One statement: no explicit transaction needed.
        self.write(move |conn| update(conn, &p)).await
    }

    async fn delete_profile(&self, profile_id: i64) -> RepoResult<()> {
        self.tx(move |conn| {
            // Authorizations cascade from the profile.
            let gone: Option<(i64, String)> =
                diesel::delete(profiles::table.filter(profiles::id.eq(profile_id)))
                    .returning((profiles::client_id, profiles::ext_id))
                    .get_result(conn)
                    .optional()?;
            let Some((client_id, ext_id)) = gone else {
                return Err(RepoError::NotFound.into());
            };
            clear_deputies(conn, client_id, &[ext_id])
        })
        .await
    }
}

/// Where the wire fields of [`idm_ports::query::PROFILE_FIELDS`] live.
fn profile_column(field: &str) -> Option<Column> {
    Some(match field {
        "extId" => Column::Plain("profiles.ext_id"),
        "name" => Column::Text("profiles.name"),
        "profileState" => Column::Plain("profiles.state"),
        "unitExtId" => Column::Plain("units.ext_id"),
        "isDefaultProfile" => Column::Plain("profiles.is_default_profile"),
        "version" => Column::Plain("profiles.version"),
        "created" => Column::Plain("profiles.created"),
        "lastModified" => Column::Plain("profiles.last_modified"),
        "properties" => Column::PropertyOwner("profile_id", "profiles.id"),
        _ => return None,
    })
}

#[cfg(test)]
mod list_tests {
    #[test]
    fn every_declared_field_has_a_column() {
        for f in idm_ports::query::PROFILE_FIELDS {
            assert!(super::profile_column(f.name).is_some(), "{}", f.name);
        }
    }
}
