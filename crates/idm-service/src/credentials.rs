//! The password credential: `POST core/:c/users/:u/password`.
//!
//! The password is checked against the configured policy, hashed with argon2id and stored;
//! neither the password nor its hash leaves this module (not in results, not in logs).

use idm_domain::access::{Access, Caller, Requirement};
use idm_domain::rights::Right;
use idm_domain::values::new_ext_id;

use crate::auth::hash_password;
use crate::clients::precheck;
use crate::lookup::user_target;
use crate::{AppResult, Services};

const SET_PASSWORD: Requirement = Requirement::all(&[&[Right::CredentialCreate]]).or_self_admin();

impl Services {
    /// Sets (creates or replaces) a user's password.
    ///
    /// A self-admin setting his own password must prove a recent password entry with an
    /// X-Token; an administrator acting by rights needs none.
    ///
    /// # Errors
    /// 403 without `CredentialCreate` on the user (and not self-admin on own data); 404 for
    /// client or user; 422 `errors.invalidJWTToken` for a missing or bad X-Token in self-admin
    /// mode; 422 `errors.pwdPolicyViolated` with `policyViolations` for a weak password.
    pub async fn set_password(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        password: String,
        xtoken: Option<&str>,
    ) -> AppResult<()> {
        let _write = self.writing();
        precheck(caller, &SET_PASSWORD)?;
        let client = self.require_client(client_ext_id).await?;
        let user = self.require_user(&client, user_ext_id, "").await?;
        let paths = self.user_unit_paths(&user).await?;
        let access = Self::authorize(caller, &SET_PASSWORD, &user_target(&user, &paths))?;
        if access == Access::SelfAdmin {
            self.check_xtoken(caller, xtoken)?;
        }
        self.config.password_policy.check(&password)?;
        let hash = hash_password(password).await?;
        self.repo
            .set_password_hash(client.meta.id, user.meta.id, &new_ext_id(), &hash)
            .await?;
        Ok(())
    }
}
