//! The principal API: who am I, what may I do.

use idm_domain::access::Caller;
use idm_domain::DomainError;

use crate::{AppResult, Services};

/// `GET principal/me`: the caller's identity and login profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    /// User extId.
    pub user_ext_id: String,
    /// Login id.
    pub login_id: String,
    /// First and family name.
    pub full_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Preferred language.
    pub display_language_code: Option<String>,
    /// Client extId.
    pub client_ext_id: String,
    /// Client name.
    pub client_name: String,
    /// Login profile extId.
    pub profile_ext_id: Option<String>,
    /// Unit of the login profile.
    pub unit_ext_id: Option<String>,
}

impl Services {
    /// The caller's own data. Any authenticated caller may read itself; the caller is read
    /// again so a user deleted since the token was resolved gets a 404.
    ///
    /// # Errors
    /// 404 if the caller vanished; database failures.
    pub async fn principal_me(&self, caller: &Caller) -> AppResult<Me> {
        let record = self
            .repo
            .load_caller(&caller.client_ext_id, &caller.user_ext_id)
            .await?
            .ok_or_else(|| {
                DomainError::NotFound(format!(
                    "A user with extId '{}' doesn't exist on client with name {}",
                    caller.user_ext_id, caller.client_name
                ))
            })?;
        Ok(Me {
            user_ext_id: record.user_ext_id,
            login_id: record.login_id,
            full_name: record.full_name,
            email: record.email,
            display_language_code: record.language_code,
            client_ext_id: record.client_ext_id,
            client_name: record.client_name,
            profile_ext_id: record.profile_ext_id,
            unit_ext_id: record.unit_ext_id,
        })
    }

    /// The caller's elementary permissions (wire names, sorted). No specific right needed.
    pub fn principal_permissions(&self, caller: &Caller) -> Vec<&'static str> {
        let mut names = caller.rights.wire_names();
        names.sort_unstable();
        names
    }
}

const TOKEN: idm_domain::access::Requirement =
    idm_domain::access::Requirement::all(&[&[idm_domain::rights::Right::SelfAdmin]]);

impl Services {
    /// `POST principal/token`: a self-admin re-enters his password and gets an X-Token.
    ///
    /// # Errors
    /// 403 without the SelfAdmin role; 422 `errors.userLoginFailed` for a wrong grant type,
    /// another user's loginId or a wrong password.
    pub async fn principal_token(
        &self,
        caller: &Caller,
        username: &str,
        password: &str,
        grant_type: &str,
        source: Option<std::net::IpAddr>,
    ) -> AppResult<crate::auth::IssuedToken> {
        crate::clients::precheck(caller, &TOKEN)?;
        // Before the hash comparison: a throttled guess costs the server nothing.
        self.throttle
            .attempt(caller.client_id, caller.user_id, source)?;
        self.issue_xtoken(caller, username, password, grant_type)
            .await
    }
}
