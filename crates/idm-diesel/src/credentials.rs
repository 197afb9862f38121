//! Password credentials adapter.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use idm_ports::credentials::CredentialRepo;
use idm_ports::RepoResult;

use crate::schema::password_credentials as pc;
use crate::Store;

/// A new password credential row.
#[derive(Insertable)]
#[diesel(table_name = pc)]
struct NewPassword<'a> {
    client_id: i64,
    user_id: i64,
    ext_id: &'a str,
    hash: &'a str,
    state: &'a str,
    created: NaiveDateTime,
    last_modified: NaiveDateTime,
    version: i64,
}

#[async_trait]
impl CredentialRepo for Store {
    async fn password_hash(&self, user_id: i64) -> RepoResult<Option<String>> {
        self.run(move |conn| {
            Ok(pc::table
                .filter(pc::user_id.eq(user_id))
                .select(pc::hash)
                .first::<String>(conn)
                .optional()?)
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
            let now = idm_domain::values::now_millis();
            // Replace in place when a password exists: keeps the credential's extId stable.
            let updated = diesel::update(pc::table.filter(pc::user_id.eq(user_id)))
                .set((
                    pc::hash.eq(&hash),
                    pc::last_modified.eq(now),
                    pc::version.eq(pc::version + 1),
                ))
                .execute(conn)?;
            if updated == 0 {
                diesel::insert_into(pc::table)
                    .values(NewPassword {
                        client_id,
                        user_id,
                        ext_id: &ext_id,
                        hash: &hash,
                        state: "active",
                        created: now,
                        last_modified: now,
                        version: 1,
                    })
                    .execute(conn)?;
            }
            Ok(())
        })
        .await
    }
}
