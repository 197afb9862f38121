//! Caller resolution adapter: one query joins user, client, active profiles, their
//! authorizations, roles, applications and units.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_ports::caller::{CallerRecord, CallerRepo, GrantRecord};
use idm_ports::RepoResult;

use crate::rows::parse;
use crate::schema::{applications, authorizations, clients, profiles, roles, units, users};
use crate::Store;

type Row = (
    (i64, String, String, String, Option<String>),
    (Option<String>, Option<String>, Option<String>),
    (i64, String, String),
    Option<(String, String, String)>,
    Option<(String, String, bool, bool)>,
    (
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    ),
);

#[async_trait]
impl CallerRepo for Store {
    async fn load_caller(
        &self,
        client_ext_id: &str,
        user_ext_id: &str,
    ) -> RepoResult<Option<CallerRecord>> {
        let (client_ext_id, user_ext_id) = (client_ext_id.to_owned(), user_ext_id.to_owned());
        self.lookup(move |conn| {
            // Validity is filtered here, in the one query, so that an object outside its
            // period grants nothing anywhere a caller is resolved; the ends are inclusive, as
            // `Validity::contains` has them.
            let now = idm_domain::values::now_millis();
            let rows: Vec<Row> = users::table
                .inner_join(clients::table)
                .left_join(
                    profiles::table.on(profiles::user_id
                        .eq(users::id)
                        .and(profiles::state.eq("active"))
                        .and(
                            profiles::valid_from
                                .is_null()
                                .or(profiles::valid_from.le(now)),
                        )
                        .and(profiles::valid_to.is_null().or(profiles::valid_to.ge(now)))),
                )
                .left_join(units::table.on(crate::locate::unit_of_profile()))
                .left_join(
                    authorizations::table.on(authorizations::profile_id
                        .eq(profiles::id)
                        .and(
                            authorizations::valid_from
                                .is_null()
                                .or(authorizations::valid_from.le(now)),
                        )
                        .and(
                            authorizations::valid_to
                                .is_null()
                                .or(authorizations::valid_to.ge(now)),
                        )),
                )
                .left_join(roles::table.on(roles::id.eq(authorizations::role_id)))
                .left_join(applications::table.on(applications::id.eq(roles::application_id)))
                .filter(clients::ext_id.eq(&client_ext_id))
                .filter(users::ext_id.eq(&user_ext_id))
                .filter(users::valid_from.is_null().or(users::valid_from.le(now)))
                .filter(users::valid_to.is_null().or(users::valid_to.ge(now)))
                .order((profiles::created.asc(), profiles::id.asc()))
                .select((
                    (
                        users::id,
                        users::ext_id,
                        users::login_id,
                        users::state,
                        users::email,
                    ),
                    (users::first_name, users::family_name, users::language_code),
                    (clients::id, clients::ext_id, clients::name),
                    (profiles::ext_id, units::ext_id, units::path).nullable(),
                    (
                        applications::name,
                        roles::name,
                        authorizations::client_global,
                        authorizations::unit_global,
                    )
                        .nullable(),
                    (
                        users::valid_to,
                        profiles::valid_to.nullable(),
                        authorizations::valid_to.nullable(),
                    ),
                ))
                .load(conn)?;
            let Some(first) = rows.first() else {
                return Ok(None);
            };
            let (
                (user_id, ref uext, ref login, ref state, ref email),
                (ref first_name, ref family, ref lang),
                (client_id, ref cext, ref cname),
                ref login_profile,
                _,
                _,
            ) = *first;
            let full_name = match (first_name, family) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                (Some(n), None) | (None, Some(n)) => Some(n.clone()),
                (None, None) => None,
            };
            let mut record = CallerRecord {
                user_id,
                user_ext_id: uext.clone(),
                login_id: login.clone(),
                state: parse(state, "user state")?,
                email: email.clone(),
                full_name,
                language_code: lang.clone(),
                client_id,
                client_ext_id: cext.clone(),
                client_name: cname.clone(),
                profile_ext_id: login_profile.as_ref().map(|p| p.0.clone()),
                unit_ext_id: login_profile.as_ref().map(|p| p.1.clone()),
                grants: Vec::new(),
                valid_until: None,
            };
            for (_, _, _, profile, grant, ends) in rows {
                // The earliest end of anything the caller was resolved from: past it the
                // record is wrong, so no cache may keep it longer.
                let ends = [ends.0, ends.1, ends.2];
                for end in ends.into_iter().flatten().map(|t| t.and_utc()) {
                    record.valid_until = Some(record.valid_until.map_or(end, |u| u.min(end)));
                }
                if let (Some((_, _, unit_path)), Some((app, role, cg, ug))) = (profile, grant) {
                    record.grants.push(GrantRecord {
                        application_name: app,
                        role_name: role,
                        client_id,
                        unit_path,
                        client_global: cg,
                        unit_global: ug,
                    });
                }
            }
            Ok(Some(record))
        })
        .await
    }
}
