//! A user with its first profile in one call (`POST core/:c/identity`), and archiving a user
//! (`POST core/:c/users/:u/archive`).

use idm_domain::access::{Caller, Requirement};
use idm_domain::model::User;
use idm_domain::rights::Right;
use idm_domain::values::UserState;
use idm_domain::{DomainError, ErrorCode};
use idm_ports::locate::Address;

use crate::admit::{user_target, Gate};
use crate::profiles::{new_profile, ProfileInput};
use crate::users::{user_conflict, UserInput};
use crate::{AppError, AppResult, Services};

const IDENTITY: Requirement = Requirement::all(&[&[Right::UserCreate], &[Right::ProfileCreate]]);
const IDENTITY_TECH: Requirement = Requirement::all(&[
    &[Right::UserCreate],
    &[Right::UserCreateTechUser],
    &[Right::ProfileCreate],
]);
const ARCHIVE: Requirement = Requirement::all(&[&[Right::UserView], &[Right::UserArchive]]);
const ARCHIVE_TECH: Requirement = Requirement::all(&[
    &[Right::UserView],
    &[Right::UserArchive],
    &[Right::UserArchiveTechUser],
]);

const INVALID_PREFIX: &str = "The following fields are not valid: ";

/// Names the body part (`user.` / `profile.`) in an invalid-field message, so a client sees
/// which half of the identity body was refused.
fn in_part(e: AppError, part: &str) -> AppError {
    match e {
        AppError::Domain(DomainError::Unprocessable {
            code: ErrorCode::InvalidParameter,
            message,
            identifier,
            violations,
        }) if message.starts_with(INVALID_PREFIX) => {
            let fields: Vec<String> = message[INVALID_PREFIX.len()..]
                .split(", ")
                .map(|f| format!("{part}.{f}"))
                .collect();
            AppError::Domain(DomainError::Unprocessable {
                code: ErrorCode::InvalidParameter,
                message: format!("{INVALID_PREFIX}{}", fields.join(", ")),
                identifier,
                violations,
            })
        }
        other => other,
    }
}

impl Services {
    /// Creates a user and its profile in one transaction: if either part is invalid or
    /// cannot be stored, neither exists.
    ///
    /// # Errors
    /// 403 (rights, dataroom of the profile's unit), 404 (client, unit), 422 (invalid fields
    /// named `user.<field>` / `profile.<field>`, duplicate loginId or extIds, client policy,
    /// `errors.assignProfilelessUnit`).
    pub async fn create_identity(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user: UserInput,
        profile: ProfileInput,
    ) -> AppResult<User> {
        let write = self.writing();
        write.reaches_nobody(); // a new user: no token resolves to it yet
        let req = if user.is_technical_user == Some(true) {
            &IDENTITY_TECH
        } else {
            &IDENTITY
        };
        let mut address = Address::client(client_ext_id).with_client_policy();
        if let Some(u) = &profile.unit_ext_id {
            address = address.with_unit(u);
        }
        let admitted = self
            .admit(caller, Gate::new(req).on_unit(), address)
            .await?;
        let client = admitted.client()?;
        let user = crate::users::new_user(client, admitted.client_policy()?, user)
            .map_err(|e| in_part(e, "user"))?;
        let profile = new_profile(client, &user, admitted.found.unit.as_ref(), profile)
            .map_err(|e| in_part(e, "profile"))?;
        self.check_deputy(&profile)
            .await
            .map_err(|e| in_part(e, "profile"))?;
        let profile_ext_id = profile.meta.ext_id.clone();
        match self
            .repo
            .create_user_with_profile(user.clone(), profile)
            .await
        {
            Ok((user, _)) => Ok(user),
            Err(e) if e.is_unique_on("profiles") => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!("A profile with extId '{profile_ext_id}' already exists."),
            )
            .into()),
            Err(e) => Err(user_conflict(e, &user, &client.name)),
        }
    }

    /// Archives a user: its profiles are archived (losing their authorizations) and its
    /// credentials deleted, in one transaction. Archived is terminal; archiving again changes
    /// nothing.
    ///
    /// # Errors
    /// 403 (rights; `UserArchiveTechUser` too for a technical user), 404, 422
    /// `errors.unsupportedOperation` for a caller archiving itself.
    pub async fn archive_user(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<()> {
        let _write = self.writing();
        let admitted = self
            .admit(
                caller,
                Gate::new(&ARCHIVE),
                Address::client(client_ext_id).with_user(ext_id),
            )
            .await?;
        let user = admitted.user()?;
        if user.is_technical_user {
            Self::authorize(
                caller,
                &ARCHIVE_TECH,
                &user_target(user, &admitted.found.user_unit_paths),
            )?;
        }
        crate::clients::refuse_self_lockout(caller, user.meta.id, "archive its own user")?;
        if user.state == UserState::Archived {
            return Ok(());
        }
        self.repo.archive_user(user).await?;
        Ok(())
    }
}
