//! Applications (global), their roles, and authorizations (role grants on profiles).
//!
//! Granting an authorization is where privilege escalation would happen, so besides the
//! endpoint permission the caller must itself hold every right of a granted `nevisIdm` role on
//! the target profile, in a dataroom at least as wide as the one requested.

use idm_domain::access::{Caller, Grant, Requirement, Target};
use idm_domain::model::{Application, Authorization, Meta, Profile, Role};
use idm_domain::rights::{Right, RightSet};
use idm_domain::roles::{role_rights, NEVIS_IDM_APPLICATION};
use idm_domain::values::{check_ext_id, new_ext_id, now_millis, LanguageMap, Validity};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::query::{ListQuery, Listed};
use idm_ports::{Page, PageRequest, RepoError};

use idm_ports::locate::{Address, ItemKey};

use crate::admit::Gate;
use crate::clients::{check_same_ext_id, check_version};
use crate::{AppResult, Services};

const APP_CREATE: Requirement = Requirement::all(&[&[Right::ApplicationCreate]]);
const APP_VIEW: Requirement = Requirement::all(&[&[Right::ApplicationView]]);
const ROLE_CREATE: Requirement =
    Requirement::all(&[&[Right::ApplicationView], &[Right::RoleCreate]]);
const ROLE_VIEW: Requirement = Requirement::all(&[&[Right::ApplicationView], &[Right::RoleView]]);
const AUTH_CREATE: Requirement = Requirement::all(&[&[Right::AuthorizationCreate]]);
const AUTH_VIEW: Requirement = Requirement::all(&[&[Right::AuthorizationView]]).or_self_admin();
const AUTH_DELETE: Requirement = Requirement::all(&[&[Right::AuthorizationDelete]]);
const AUTH_MODIFY: Requirement =
    Requirement::all(&[&[Right::AuthorizationModify], &[Right::AuthorizationView]]);
const APP_MODIFY: Requirement =
    Requirement::all(&[&[Right::ApplicationView], &[Right::ApplicationModify]]);
const APP_DELETE: Requirement = Requirement::all(&[&[Right::ApplicationDelete]]);
const CLIENT_APPS: Requirement =
    Requirement::all(&[&[Right::ClientView], &[Right::ApplicationView]]);

/// A partial update of an application: only present fields change.
#[derive(Debug, Clone, Default)]
pub struct ApplicationPatch {
    /// extId in the body: must equal the addressed one if present.
    pub ext_id: Option<String>,
    /// New name (identifier policy, unique).
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New entry URL.
    pub url: Option<String>,
    /// New portal flag.
    pub displayed: Option<bool>,
    /// New display name.
    pub display_name: Option<LanguageMap>,
    /// The version the client read (body `version` or `If-Match`).
    pub version: Option<i64>,
}

/// A partial update of an authorization: the dataroom flags and the validity (never the role).
#[derive(Debug, Clone, Default)]
pub struct AuthorizationPatch {
    /// extId in the body: must equal the addressed one if present.
    pub ext_id: Option<String>,
    /// New dataroom flag.
    pub client_global: Option<bool>,
    /// New dataroom flag.
    pub unit_global: Option<bool>,
    /// New dataroom flag.
    pub app_global: Option<bool>,
    /// New dataroom flag.
    pub enterprise_role_global: Option<bool>,
    /// New validity.
    pub validity: Option<Validity>,
    /// The version the client read (body `version` or `If-Match`).
    pub version: Option<i64>,
}

/// Input of application creation.
#[derive(Debug, Clone, Default)]
pub struct NewApplication {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// Unique name (identifier policy).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Entry URL.
    pub url: Option<String>,
    /// Shown on portals.
    pub displayed: bool,
    /// Display name.
    pub display_name: LanguageMap,
}

/// Input of role creation.
#[derive(Debug, Clone, Default)]
pub struct NewRole {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// Name, unique within the application (identifier policy).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
}

/// Input of authorization creation.
#[derive(Debug, Clone, Default)]
pub struct NewAuthorization {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// The role to grant.
    pub role_ext_id: String,
    /// Dataroom flag.
    pub client_global: bool,
    /// Dataroom flag.
    pub unit_global: bool,
    /// Dataroom flag.
    pub app_global: bool,
    /// Dataroom flag.
    pub enterprise_role_global: bool,
    /// Validity period.
    pub validity: Validity,
}

pub(crate) fn new_meta(ext_id: Option<String>) -> AppResult<Meta> {
    let ext_id = match ext_id {
        Some(e) => {
            check_ext_id(&e)?;
            e
        }
        None => new_ext_id(),
    };
    let now = now_millis();
    Ok(Meta::new(ext_id, now))
}

fn unprocessable(code: ErrorCode, message: String) -> crate::AppError {
    DomainError::unprocessable(code, message).into()
}

/// The rights the caller may hand on for `target`: a right counts only through a grant that
/// covers the target and whose own dataroom is at least as wide as the requested one, so a
/// unit-local admin cannot mint a client- or unit-global grant.
fn grantable_rights(
    grants: &[Grant],
    target: &Target<'_>,
    client_global: bool,
    unit_global: bool,
) -> RightSet {
    grants
        .iter()
        .filter(|g| g.covers(target))
        .filter(|g| (!client_global || g.client_global) && (!unit_global || g.unit_global))
        .fold(RightSet::empty(), |acc, g| acc.union(g.rights))
}

/// Refuses to grant (or revoke) a `nevisIdm` role whose rights the caller does not hold on the
/// profile itself, in a dataroom at least as wide as the authorization's: otherwise a user
/// admin could mint a Root, or strip one from the administrator above him.
fn check_escalation(
    caller: &Caller,
    profile: &Profile,
    role: &Role,
    client_global: bool,
    unit_global: bool,
) -> AppResult<()> {
    let target = crate::admit::profile_target(profile);
    // `SelfAdmin` only lets the grantee act on his own data, which anyone allowed to manage
    // authorizations on the profile may already touch; handing it on is no escalation.
    let needed = role_rights(&role.application_name, &role.name).without(&[Right::SelfAdmin]);
    let held = grantable_rights(&caller.grants, &target, client_global, unit_global);
    match needed.iter().find(|r| !held.contains(*r)) {
        None => Ok(()),
        Some(missing) => Err(DomainError::Forbidden {
            code: ErrorCode::PotentialPrivilegeEscalation,
            message: format!(
                "Permission denied: potential privilege escalation, the caller does not hold the right '{}' of role '{}.{}' in the requested dataroom",
                missing.wire(),
                role.application_name,
                role.name
            ),
        }
        .into()),
    }
}

impl Services {
    /// The application, or 404 `Application doesn't exist with extId '...'`.
    async fn require_application(&self, ext_id: &str) -> AppResult<Application> {
        self.repo
            .application_by_ext_id(ext_id)
            .await?
            .ok_or_else(|| {
                DomainError::NotFound(format!("Application doesn't exist with extId '{ext_id}'"))
                    .into()
            })
    }

    /// Creates a (global) application.
    ///
    /// # Errors
    /// 403 without `ApplicationCreate`; 422 on a bad extId, a naming-policy violation or a
    /// duplicate name or extId.
    pub async fn create_application(
        &self,
        caller: &Caller,
        input: NewApplication,
    ) -> AppResult<Application> {
        let write = self.writing();
        write.reaches_nobody(); // no grant names a new application yet
        Self::authorize(caller, &APP_CREATE, &Target::global())?;
        self.config.identifier_policy.check(&input.name)?;
        let meta = new_meta(input.ext_id)?;
        let ext_id = meta.ext_id.clone();
        let app = Application {
            meta,
            name: input.name.clone(),
            description: input.description,
            url: input.url,
            displayed: input.displayed,
            display_name: input.display_name,
        };
        match self.repo.create_application(app).await {
            Ok(a) => Ok(a),
            Err(e) if e.is_unique_on("name") => Err(unprocessable(
                ErrorCode::DuplicateName,
                format!("An application with name '{}' already exists.", input.name),
            )),
            Err(e) if e.is_unique() => Err(unprocessable(
                ErrorCode::DuplicateValue,
                format!("An application with extId '{ext_id}' already exists."),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists all applications.
    ///
    /// # Errors
    /// 403 without `ApplicationView`.
    pub async fn list_applications(
        &self,
        caller: &Caller,
        query: ListQuery,
    ) -> AppResult<Listed<Application>> {
        Self::authorize(caller, &APP_VIEW, &Target::global())?;
        Ok(self.repo.query_applications(query).await?)
    }

    /// Reads an application.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_application(&self, caller: &Caller, ext_id: &str) -> AppResult<Application> {
        Self::authorize(caller, &APP_VIEW, &Target::global())?;
        self.require_application(ext_id).await
    }

    /// Creates a role of an application.
    ///
    /// # Errors
    /// 403 without `ApplicationView` and `RoleCreate`; 404 for the application; 422 on a bad
    /// extId, a naming-policy violation or a duplicate name (within the application) or extId.
    pub async fn create_role(
        &self,
        caller: &Caller,
        application_ext_id: &str,
        input: NewRole,
    ) -> AppResult<Role> {
        let write = self.writing();
        write.reaches_nobody(); // no authorization names a new role yet
        Self::authorize(caller, &ROLE_CREATE, &Target::global())?;
        let app = self.require_application(application_ext_id).await?;
        self.config.identifier_policy.check(&input.name)?;
        let meta = new_meta(input.ext_id)?;
        let ext_id = meta.ext_id.clone();
        let role = Role {
            meta,
            application_id: app.meta.id,
            application_ext_id: app.meta.ext_id.clone(),
            application_name: app.name.clone(),
            name: input.name.clone(),
            description: input.description,
        };
        match self.repo.create_role(role).await {
            Ok(r) => Ok(r),
            Err(e) if e.is_unique_on("name") => Err(unprocessable(
                ErrorCode::DuplicateName,
                format!(
                    "A role with name '{}' already exists in application '{}'.",
                    input.name, app.name
                ),
            )),
            Err(e) if e.is_unique() => Err(unprocessable(
                ErrorCode::DuplicateValue,
                format!("A role with extId '{ext_id}' already exists."),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists the roles of an application.
    ///
    /// # Errors
    /// 403 without `ApplicationView` and `RoleView`; 404 for the application.
    pub async fn list_roles(
        &self,
        caller: &Caller,
        application_ext_id: &str,
        query: ListQuery,
    ) -> AppResult<Listed<Role>> {
        Self::authorize(caller, &ROLE_VIEW, &Target::global())?;
        let app = self.require_application(application_ext_id).await?;
        Ok(self.repo.query_roles(app.meta.id, query).await?)
    }

    /// Grants a role to a profile.
    ///
    /// # Errors
    /// 403 without `AuthorizationCreate` on the profile, or 403
    /// `errors.potentialPrivilegeEscalation` when the role carries rights the caller does not
    /// hold there; 404 for the client, profile or role; 422 for a bad extId or validity, or
    /// when the profile already has the role.
    pub async fn create_authorization(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        profile_ext_id: &str,
        input: NewAuthorization,
    ) -> AppResult<Authorization> {
        let write = self.writing();
        let profile = self
            .admit(
                caller,
                Gate::new(&AUTH_CREATE),
                Address::client(client_ext_id).with_profile(profile_ext_id),
            )
            .await?
            .into_profile()?;
        write.reaches_user(profile.user_id);
        let role = self
            .repo
            .role_by_ext_id(&input.role_ext_id)
            .await?
            .ok_or_else(|| {
                DomainError::NotFound(format!(
                    "Role doesn't exist with extId '{}'",
                    input.role_ext_id
                ))
            })?;
        input.validity.check()?;
        check_escalation(
            caller,
            &profile,
            &role,
            input.client_global,
            input.unit_global,
        )?;
        let meta = new_meta(input.ext_id)?;
        let ext_id = meta.ext_id.clone();
        let authorization = Authorization {
            meta,
            client_id: profile.client_id,
            profile_id: profile.meta.id,
            role_id: role.meta.id,
            role_ext_id: role.meta.ext_id.clone(),
            client_global: input.client_global,
            unit_global: input.unit_global,
            app_global: input.app_global,
            enterprise_role_global: input.enterprise_role_global,
            validity: input.validity,
        };
        match self.repo.create_authorization(authorization).await {
            Ok(a) => Ok(a),
            Err(e) if e.is_unique_on("role_id") => Err(unprocessable(
                ErrorCode::DuplicateValue,
                format!(
                    "The profile '{}' already has an authorization for role '{}'.",
                    profile.meta.ext_id, role.meta.ext_id
                ),
            )),
            Err(e) if e.is_unique() => Err(unprocessable(
                ErrorCode::DuplicateValue,
                format!("An authorization with extId '{ext_id}' already exists."),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists the authorizations of a profile.
    ///
    /// # Errors
    /// 403 without `AuthorizationView` on the profile (a self-admin may list his own); 404.
    pub async fn list_authorizations(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        profile_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<Authorization>> {
        let profile = self
            .admit(
                caller,
                Gate::new(&AUTH_VIEW),
                Address::client(client_ext_id).with_profile(profile_ext_id),
            )
            .await?
            .into_profile()?;
        Ok(self.repo.list_authorizations(profile.meta.id, page).await?)
    }

    /// Reads one authorization of a profile.
    ///
    /// # Errors
    /// 403 without `AuthorizationView` on the profile (a self-admin may read his own); 404.
    pub async fn get_authorization(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        profile_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<Authorization> {
        self.admit(
            caller,
            Gate::new(&AUTH_VIEW),
            Address::client(client_ext_id)
                .with_profile(profile_ext_id)
                .with_item(ItemKey::Authorization(ext_id.to_owned())),
        )
        .await?
        .into_authorization()
    }

    /// Revokes one authorization of a profile.
    ///
    /// # Errors
    /// 403 without `AuthorizationDelete` on the profile, or 403
    /// `errors.potentialPrivilegeEscalation` for a role with rights the caller lacks there; 404.
    pub async fn delete_authorization(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        profile_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<()> {
        let write = self.writing();
        let admitted = self
            .admit(
                caller,
                Gate::new(&AUTH_DELETE),
                Address::client(client_ext_id)
                    .with_profile(profile_ext_id)
                    .with_item(ItemKey::Authorization(ext_id.to_owned())),
            )
            .await?;
        let (profile, authorization) = (admitted.profile()?, admitted.authorization()?);
        write.reaches_user(profile.user_id);
        crate::clients::refuse_self_lockout(
            caller,
            profile.user_id,
            "revoke its own authorizations",
        )?;
        if let Some(role) = self.repo.role_by_ext_id(&authorization.role_ext_id).await? {
            check_escalation(
                caller,
                profile,
                &role,
                authorization.client_global,
                authorization.unit_global,
            )?;
        }
        crate::error::deleted(self.repo.delete_authorization(authorization.meta.id).await)
    }

    /// Changes the dataroom flags or the validity of an authorization, under the same
    /// anti-escalation guard as granting it: the caller must hold the role's rights in the
    /// dataroom the authorization ends up with.
    ///
    /// # Errors
    /// 403 without `AuthorizationModify`/`AuthorizationView` on the profile, or 403
    /// `errors.potentialPrivilegeEscalation`; 404; 409 on a stale or racing version; 422 for a
    /// changed extId or a bad validity.
    pub async fn patch_authorization(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        profile_ext_id: &str,
        ext_id: &str,
        patch: AuthorizationPatch,
    ) -> AppResult<Authorization> {
        let _write = self.writing();
        let admitted = self
            .admit(
                caller,
                Gate::new(&AUTH_MODIFY),
                Address::client(client_ext_id)
                    .with_profile(profile_ext_id)
                    .with_item(ItemKey::Authorization(ext_id.to_owned())),
            )
            .await?;
        let profile = admitted.profile()?.clone();
        let mut authorization = admitted.into_authorization()?;
        let before = (authorization.client_global, authorization.unit_global);
        check_same_ext_id(patch.ext_id.as_deref(), ext_id)?;
        check_version(patch.version, authorization.meta.version)?;
        if let Some(v) = &patch.validity {
            v.check()?;
        }
        patch_fields!(authorization, patch, {
            client_global,
            unit_global,
            app_global,
            enterprise_role_global,
            validity,
        });
        if let Some(role) = self.repo.role_by_ext_id(&authorization.role_ext_id).await? {
            // A change is a revoke of the old grant and a grant of the new one: neither may
            // reach beyond the caller's own rights.
            for (client_global, unit_global) in [
                before,
                (authorization.client_global, authorization.unit_global),
            ] {
                check_escalation(caller, &profile, &role, client_global, unit_global)?;
            }
        }
        Ok(self.repo.update_authorization(&authorization).await?)
    }

    /// Changes an application (optimistic locking). `nevisIdm` keeps its name: the built-in
    /// rights are looked up by it.
    ///
    /// # Errors
    /// 403, 404, 409, 422 for a changed extId, a naming-policy violation, a duplicate name or a
    /// rename of `nevisIdm`.
    pub async fn patch_application(
        &self,
        caller: &Caller,
        ext_id: &str,
        patch: ApplicationPatch,
    ) -> AppResult<Application> {
        let _write = self.writing();
        Self::authorize(caller, &APP_MODIFY, &Target::global())?;
        let mut app = self.require_application(ext_id).await?;
        check_same_ext_id(patch.ext_id.as_deref(), ext_id)?;
        check_version(patch.version, app.meta.version)?;
        if let Some(name) = &patch.name {
            if name.trim().is_empty() {
                return Err(DomainError::invalid_fields(&["name"]).into());
            }
            self.config.identifier_policy.check(name)?;
            if app.name == NEVIS_IDM_APPLICATION && *name != app.name {
                return Err(unprocessable(
                    ErrorCode::UnsupportedOperation,
                    format!("The application '{NEVIS_IDM_APPLICATION}' cannot be renamed."),
                ));
            }
        }
        let name = patch.name.clone();
        patch_fields!(app, patch, { name, description: Some, url: Some, displayed, display_name });
        match self.repo.update_application(&app).await {
            Ok(a) => Ok(a),
            Err(e) if e.is_unique_on("name") => Err(unprocessable(
                ErrorCode::DuplicateName,
                format!(
                    "An application with name '{}' already exists.",
                    name.unwrap_or_default()
                ),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes an application with its roles, refused while one of its roles is granted to a
    /// profile or bundled in an enterprise role.
    ///
    /// # Errors
    /// 403, 404, 422 `errors.undeletedDependencies`.
    pub async fn delete_application(&self, caller: &Caller, ext_id: &str) -> AppResult<()> {
        let _write = self.writing();
        Self::authorize(caller, &APP_DELETE, &Target::global())?;
        let app = self.require_application(ext_id).await?;
        match self.repo.delete_application(app.meta.id).await {
            Ok(()) | Err(RepoError::NotFound) => Ok(()),
            Err(RepoError::Conflict { constraint }) if constraint == "dependencies" => {
                Err(unprocessable(
                    ErrorCode::UndeletedDependencies,
                    format!(
                        "The application with extId '{ext_id}' cannot be deleted because its roles are still assigned."
                    ),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Lists the applications usable in a client. Applications are global in idm, so every
    /// client sees all of them; the client must exist and be in the caller's dataroom.
    ///
    /// # Errors
    /// 403, 404 for the client.
    pub async fn list_client_applications(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<Application>> {
        self.admit(
            caller,
            Gate::new(&CLIENT_APPS),
            Address::client(client_ext_id),
        )
        .await?;
        Ok(self.repo.list_applications(page).await?)
    }
}
