//! Password credentials adapter.

use async_trait::async_trait;
use diesel::prelude::*;
use idm_ports::credentials::CredentialRepo;
use idm_ports::RepoResult;

use crate::schema::password_credentials as pc;
use crate::Store;

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
                    .values((
                        pc::client_id.eq(client_id),
                        pc::user_id.eq(user_id),
                        pc::ext_id.eq(&ext_id),
                        pc::hash.eq(&hash),
                        pc::state.eq("active"),
                        pc::created.eq(now),
                        pc::last_modified.eq(now),
                        pc::version.eq(1_i64),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await
    }
}
