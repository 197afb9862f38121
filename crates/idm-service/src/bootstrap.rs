//! Bootstrap: the built-in application `nevisIdm` with its roles, and optionally a client with
//! an admin who holds `Root` everywhere. Idempotent, and safe when several instances start at
//! once (a lost insert race re-reads the winner's row).

use idm_domain::model::{Application, Authorization, Client, Meta, Profile, Role, User};
use idm_domain::roles::{BuiltinRole, NEVIS_IDM_APPLICATION};
use idm_domain::values::{now_millis, LanguageMap, ProfileState, UserState, Validity};
use idm_domain::DomainError;

use crate::auth::hash_password;
use crate::clients::NewClient;
use crate::{AppError, AppResult, Services};

/// What `bootstrap` should create besides the built-ins.
#[derive(Debug, Clone)]
pub struct AdminSpec {
    /// extId of the client.
    pub client_ext_id: String,
    /// Name of the client.
    pub client_name: String,
    /// extId of the admin user.
    pub admin_ext_id: String,
    /// loginId of the admin user.
    pub admin_login: String,
    /// Password of the admin user (set only when the user is created).
    pub admin_password: String,
}

/// What exists after a bootstrap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapReport {
    /// extId of the built-in application.
    pub application_ext_id: String,
    /// (role name, role extId) of the built-in roles.
    pub roles: Vec<(String, String)>,
    /// The admin, when requested.
    pub admin: Option<AdminReport>,
}

/// The bootstrapped admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminReport {
    /// Client extId.
    pub client_ext_id: String,
    /// User extId.
    pub user_ext_id: String,
    /// Login id.
    pub login_id: String,
    /// Profile extId.
    pub profile_ext_id: String,
    /// True if this run created the user (and so set the password).
    pub created: bool,
}

fn meta(ext_id: String) -> Meta {
    Meta::new(ext_id, now_millis())
}

impl Services {
    /// Ensures the built-in application and roles exist; with `admin`, also the client, its
    /// root unit, the admin user with a password, a profile and a `Root` authorization with
    /// both global flags.
    ///
    /// # Errors
    /// Password policy violations (422) or database failures.
    pub async fn bootstrap(&self, admin: Option<AdminSpec>) -> AppResult<BootstrapReport> {
        let (app, roles) = self.ensure_builtins().await?;
        let admin = match admin {
            Some(spec) => {
                let root = roles
                    .iter()
                    .find(|r| r.name == BuiltinRole::Root.name())
                    .cloned()
                    .ok_or_else(|| AppError::Internal("Root role missing".into()))?;
                Some(self.ensure_admin(spec, &root).await?)
            }
            None => None,
        };
        Ok(BootstrapReport {
            application_ext_id: app.meta.ext_id,
            roles: roles.into_iter().map(|r| (r.name, r.meta.ext_id)).collect(),
            admin,
        })
    }

    /// True when no client exists yet (an empty database).
    ///
    /// # Errors
    /// Database failures.
    pub async fn is_empty(&self) -> AppResult<bool> {
        Ok(!self.repo.any_client_exists().await?)
    }

    async fn ensure_builtins(&self) -> AppResult<(Application, Vec<Role>)> {
        let app = match self.repo.application_by_name(NEVIS_IDM_APPLICATION).await? {
            Some(a) => a,
            None => {
                let new = Application {
                    meta: meta(NEVIS_IDM_APPLICATION.to_owned()),
                    name: NEVIS_IDM_APPLICATION.to_owned(),
                    description: Some(
                        "Built-in application of idm; its roles carry the AccessControl rights."
                            .into(),
                    ),
                    url: None,
                    displayed: false,
                    display_name: LanguageMap::default(),
                };
                match self.repo.create_application(new).await {
                    Ok(a) => a,
                    Err(e) if e.is_unique() => self
                        .repo
                        .application_by_name(NEVIS_IDM_APPLICATION)
                        .await?
                        .ok_or_else(|| {
                            AppError::Internal("built-in application vanished".into())
                        })?,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let mut roles = Vec::new();
        for builtin in BuiltinRole::ALL {
            let name = builtin.name();
            let role = match self.repo.role_by_name(app.meta.id, name).await? {
                Some(r) => r,
                None => {
                    let new = Role {
                        meta: meta(format!("{NEVIS_IDM_APPLICATION}.{name}")),
                        application_id: app.meta.id,
                        application_ext_id: app.meta.ext_id.clone(),
                        application_name: app.name.clone(),
                        name: name.to_owned(),
                        description: Some(builtin.description().to_owned()),
                    };
                    match self.repo.create_role(new).await {
                        Ok(r) => r,
                        Err(e) if e.is_unique() => self
                            .repo
                            .role_by_name(app.meta.id, name)
                            .await?
                            .ok_or_else(|| AppError::Internal("built-in role vanished".into()))?,
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            roles.push(role);
        }
        Ok((app, roles))
    }

    async fn ensure_admin(&self, spec: AdminSpec, root: &Role) -> AppResult<AdminReport> {
        let client: Client = match self.repo.client_by_ext_id(&spec.client_ext_id).await? {
            Some(c) => c,
            None => match self
                .insert_client(NewClient {
                    ext_id: Some(spec.client_ext_id.clone()),
                    name: spec.client_name.clone(),
                    display_name: LanguageMap::default(),
                    remarks: None,
                })
                .await
            {
                Ok(c) => c,
                Err(AppError::Domain(DomainError::Unprocessable { .. })) => self
                    .repo
                    .client_by_ext_id(&spec.client_ext_id)
                    .await?
                    .ok_or_else(|| AppError::Internal("bootstrap client vanished".into()))?,
                Err(e) => return Err(e),
            },
        };
        if let Some(user) = self
            .repo
            .user_by_ext_id(client.meta.id, &spec.admin_ext_id)
            .await?
        {
            let profile = self
                .repo
                .load_caller(&client.meta.ext_id, &user.meta.ext_id)
                .await?
                .and_then(|c| c.profile_ext_id)
                .unwrap_or_default();
            return Ok(AdminReport {
                client_ext_id: client.meta.ext_id,
                user_ext_id: user.meta.ext_id,
                login_id: user.login_id,
                profile_ext_id: profile,
                created: false,
            });
        }
        self.config.password_policy.check(&spec.admin_password)?;
        let root_unit = self
            .repo
            .unit_by_ext_id(client.meta.id, &format!("{}-root", client.meta.ext_id))
            .await?
            .ok_or_else(|| {
                AppError::Internal("root unit of the bootstrap client missing".into())
            })?;
        let user = self
            .repo
            .create_user(User {
                meta: meta(spec.admin_ext_id.clone()),
                client_id: client.meta.id,
                client_ext_id: client.meta.ext_id.clone(),
                login_id: spec.admin_login.clone(),
                state: UserState::Active,
                language_code: None,
                is_technical_user: false,
                name: Default::default(),
                sex: None,
                gender: None,
                birth_date: None,
                contacts: Default::default(),
                address: Default::default(),
                remarks: Some("Bootstrapped administrator".into()),
                modification_comment: None,
                validity: Validity::default(),
            })
            .await?;
        let hash = hash_password(spec.admin_password.clone()).await?;
        self.repo
            .set_password_hash(
                client.meta.id,
                user.meta.id,
                &format!("{}-password", user.meta.ext_id),
                &hash,
            )
            .await?;
        let profile = self
            .repo
            .create_profile(Profile {
                meta: meta(format!("{}-profile", user.meta.ext_id)),
                client_id: client.meta.id,
                client_ext_id: client.meta.ext_id.clone(),
                user_id: user.meta.id,
                user_ext_id: user.meta.ext_id.clone(),
                unit_id: root_unit.meta.id,
                unit_ext_id: root_unit.meta.ext_id.clone(),
                unit_path: root_unit.path.clone(),
                name: Some("Administrator".into()),
                state: ProfileState::Active,
                is_default_profile: true,
                remarks: None,
                modification_comment: None,
                validity: Validity::default(),
                deputed_profile_ext_id: None,
            })
            .await?;
        self.repo
            .create_authorization(Authorization {
                meta: meta(format!("{}-root", profile.meta.ext_id)),
                client_id: client.meta.id,
                profile_id: profile.meta.id,
                role_id: root.meta.id,
                role_ext_id: root.meta.ext_id.clone(),
                client_global: true,
                unit_global: true,
                app_global: true,
                enterprise_role_global: true,
                validity: Validity::default(),
            })
            .await?;
        Ok(AdminReport {
            client_ext_id: client.meta.ext_id,
            user_ext_id: user.meta.ext_id,
            login_id: user.login_id,
            profile_ext_id: profile.meta.ext_id,
            created: true,
        })
    }
}
