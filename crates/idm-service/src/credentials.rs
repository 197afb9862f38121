//! The password credential: `POST core/:c/users/:u/password`.
//!
//! The password is checked against the client's password policy (the configured one unless the client
//! has its own), hashed with argon2id and stored;
//! neither the password nor its hash leaves this module (not in results, not in logs).

use idm_domain::access::{Caller, Requirement};
use idm_domain::rights::Right;
use idm_domain::values::new_ext_id;

use crate::auth::hash_password;
use idm_ports::locate::Address;

use crate::admit::Gate;
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
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let admitted = self
            .admit(
                caller,
                Gate::new(&SET_PASSWORD).xtoken(xtoken),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let client = admitted.client()?;
        let user = admitted.user()?;
        crate::users::refuse_archived(user)?;
        self.password_policy_for(client.meta.id)
            .await?
            .check(&password)?;
        let hash = hash_password(password).await?;
        self.repo
            .set_password_hash(client.meta.id, user.meta.id, &new_ext_id(), &hash)
            .await?;
        Ok(())
    }
}
