//! Enterprise roles (client-scoped bundles of application roles), their members, enterprise
//! authorizations on profiles, and a profile's effective roles.
//!
//! Enterprise roles never carry `nevisIdm` roles, so they grant application roles only: the
//! caller model (which reads direct authorizations) needs no change and no enterprise role can
//! be a path to administration rights.

use chrono::Utc;
use idm_domain::access::{Caller, Requirement, Target};
use idm_domain::eroles::{effective_roles, may_bundle, RoleSource};
use idm_domain::model::{EnterpriseAuthorization, EnterpriseRole, Profile, Role};
use idm_domain::properties::{PropertyScope, WriteMode};
use idm_domain::rights::Right;
use idm_domain::values::{LanguageMap, Validity};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::locate::Address;
use idm_ports::properties::Owner;
use idm_ports::{Cursor, Page, PageRequest, RepoError};

use crate::admit::Gate;
use crate::applications::new_meta;
use crate::clients::{check_same_ext_id, check_version};
use crate::properties::{uniqueness_violated, PropertyMap, PropertyPatch, Subject, WithProperties};
use crate::{AppError, AppResult, Services};

const CREATE: Requirement = Requirement::all(&[&[Right::EnterpriseRoleCreate]]);
const LIST: Requirement = Requirement::all(&[&[Right::ClientView], &[Right::EnterpriseRoleView]]);
const VIEW: Requirement = Requirement::all(&[&[Right::EnterpriseRoleView]]);
const MODIFY: Requirement =
    Requirement::all(&[&[Right::EnterpriseRoleView], &[Right::EnterpriseRoleModify]]);
const DELETE: Requirement = Requirement::all(&[&[Right::EnterpriseRoleDelete]]);
const MEMBER_CREATE: Requirement = Requirement::all(&[&[Right::EnterpriseRoleMemberCreate]]);
const MEMBER_DELETE: Requirement = Requirement::all(&[&[Right::EnterpriseRoleMemberDelete]]);
const PROFILE_VIEW: Requirement = Requirement::all(&[&[Right::ProfileView]]).or_self_admin();
const PROFILE_MODIFY: Requirement = Requirement::all(&[&[Right::ProfileModify]]);

/// Input of enterprise-role creation.
#[derive(Debug, Clone, Default)]
pub struct NewEnterpriseRole {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// Name, unique within the client (identifier policy).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Display name.
    pub display_name: LanguageMap,
    /// Custom property values (`None`: not checked at all; `Some`, even empty: mandatory
    /// `ENTERPRISE_ROLE_GLOBAL` properties are required).
    pub properties: Option<PropertyPatch>,
}

/// A partial update of an enterprise role: only present fields change.
#[derive(Debug, Clone, Default)]
pub struct EnterpriseRolePatch {
    /// extId in the body: must equal the addressed one if present.
    pub ext_id: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New display name.
    pub display_name: Option<LanguageMap>,
    /// Property values to set (`None` or `""` removes one); the names not sent stay.
    pub properties: Option<PropertyPatch>,
    /// The version the client read (body `version` or `If-Match`).
    pub version: Option<i64>,
}

/// Input of enterprise-authorization creation.
#[derive(Debug, Clone, Default)]
pub struct NewEnterpriseAuthorization {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// The enterprise role to grant (of the profile's client).
    pub enterprise_role_ext_id: String,
    /// Validity period.
    pub validity: Validity,
}

/// A partial update of an enterprise authorization.
#[derive(Debug, Clone, Default)]
pub struct EnterpriseAuthorizationPatch {
    /// extId in the body: must equal the addressed one if present.
    pub ext_id: Option<String>,
    /// New validity.
    pub validity: Option<Validity>,
    /// The version the client read (body `version` or `If-Match`).
    pub version: Option<i64>,
}

fn erole_not_found(ext_id: &str) -> AppError {
    DomainError::NotFound(format!(
        "Enterprise role doesn't exist with extId '{ext_id}'"
    ))
    .into()
}

fn role_not_found(ext_id: &str) -> AppError {
    DomainError::NotFound(format!("Role doesn't exist with extId '{ext_id}'")).into()
}

fn duplicate_erole_name(name: &str) -> AppError {
    DomainError::unprocessable(
        ErrorCode::DuplicateName,
        format!("An enterprise role with name '{name}' already exists."),
    )
    .into()
}

fn is_foreign_key(e: &RepoError) -> bool {
    matches!(e, RepoError::Conflict { constraint } if constraint.starts_with("foreign_key"))
}

/// Whose values an enterprise role's are: its client's `ENTERPRISE_ROLE_GLOBAL` definitions,
/// sealed under `erole:<extId>`.
fn erole_subject<'a>(client_id: i64, ext_id: &'a str) -> Subject<'a> {
    Subject {
        scope: PropertyScope::EnterpriseRoleGlobal,
        client_id,
        kind: "erole",
        ext_id,
        // RELATIVE_UNIT exists for USER_GLOBAL only; an enterprise role has no unit.
        unit_key: String::new(),
    }
}

/// The page of `items` (already in (created, extId) order) that `page` asks for.
fn page_of(items: Vec<Role>, page: &PageRequest) -> Page<Role> {
    let rest: Vec<Role> = items
        .into_iter()
        .filter(|r| {
            page.after.as_ref().is_none_or(|c| {
                (r.meta.created, r.meta.ext_id.as_str()) > (c.created, c.ext_id.as_str())
            })
        })
        .take(page.limit.saturating_add(1))
        .collect();
    Page::from_overfetch(rest, page.limit, |r| Cursor {
        created: r.meta.created,
        ext_id: r.meta.ext_id.clone(),
    })
}

impl Services {
    /// The client's enterprise role, or 404.
    async fn require_erole(&self, client_id: i64, ext_id: &str) -> AppResult<EnterpriseRole> {
        self.repo
            .erole_by_ext_id(client_id, ext_id)
            .await?
            .ok_or_else(|| erole_not_found(ext_id))
    }

    /// The client and enterprise role the URL names, after admission under `req`.
    async fn admit_erole(
        &self,
        caller: &Caller,
        req: &Requirement,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<EnterpriseRole> {
        let client = self
            .admit(caller, Gate::new(req), Address::client(client_ext_id))
            .await?
            .into_client()?;
        self.require_erole(client.meta.id, ext_id).await
    }

    /// Creates an (empty) enterprise role, with the property values sent.
    ///
    /// # Errors
    /// 403, 404 for the client, 422 for a bad extId, a naming-policy violation or a duplicate
    /// name or extId; the property 403s and 422s, `errors.propertyUniquenessViolated`.
    pub async fn create_erole(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        input: NewEnterpriseRole,
    ) -> AppResult<EnterpriseRole> {
        let write = self.writing();
        write.reaches_nobody(); // enterprise roles grant application roles, never idm rights
        let client = self
            .admit(caller, Gate::new(&CREATE), Address::client(client_ext_id))
            .await?
            .into_client()?;
        self.config.identifier_policy.check(&input.name)?;
        let meta = new_meta(input.ext_id)?;
        let ext_id = meta.ext_id.clone();
        let writes = match &input.properties {
            None => None,
            Some(sent) => Some(
                self.prepare_writes(
                    caller,
                    &Target::client(client.meta.id),
                    &erole_subject(client.meta.id, &ext_id),
                    sent,
                    WriteMode::Create,
                )
                .await?,
            ),
        };
        let erole = EnterpriseRole {
            meta,
            client_id: client.meta.id,
            client_ext_id: client.meta.ext_id.clone(),
            name: input.name.clone(),
            description: input.description,
            display_name: input.display_name,
        };
        let result = match writes {
            None => self.repo.create_erole(erole).await,
            Some(w) => self.repo.create_erole_with_properties(erole, w).await,
        };
        match result {
            Ok(e) => Ok(e),
            Err(e) if e.is_unique_on("unique_key") => Err(uniqueness_violated(e)),
            Err(e) if e.is_unique_on("name") => Err(duplicate_erole_name(&input.name)),
            Err(e) if e.is_unique() => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!("An enterprise role with extId '{ext_id}' already exists."),
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists the client's enterprise roles.
    ///
    /// # Errors
    /// 403, 404 for the client.
    pub async fn list_eroles(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<EnterpriseRole>> {
        let client = self
            .admit(caller, Gate::new(&LIST), Address::client(client_ext_id))
            .await?
            .into_client()?;
        Ok(self.repo.list_eroles(client.meta.id, page).await?)
    }

    /// Reads one enterprise role with the property values the caller may read
    /// (`PropertyValueView`; otherwise they are left out).
    ///
    /// # Errors
    /// 403, 404 for the client or the enterprise role.
    pub async fn get_erole(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<WithProperties<EnterpriseRole>> {
        let erole = self
            .admit_erole(caller, &VIEW, client_ext_id, ext_id)
            .await?;
        let properties = self
            .read_properties(
                caller,
                &Target::client(erole.client_id),
                &erole_subject(erole.client_id, &erole.meta.ext_id),
                Owner::EnterpriseRole(erole.meta.id),
            )
            .await?;
        Ok(WithProperties {
            entity: erole,
            properties,
        })
    }

    /// Changes name, description, display name and the property values sent (optimistic
    /// locking); answers the enterprise role with the values the caller may read.
    ///
    /// # Errors
    /// 403, 404, 409 on a stale or racing version, 422 for a changed extId, a naming-policy
    /// violation or a duplicate name; the property 403s and 422s.
    pub async fn patch_erole(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        patch: EnterpriseRolePatch,
    ) -> AppResult<WithProperties<EnterpriseRole>> {
        let write = self.writing();
        write.reaches_nobody(); // enterprise roles grant application roles, never idm rights
        let mut erole = self
            .admit_erole(caller, &MODIFY, client_ext_id, ext_id)
            .await?;
        check_same_ext_id(patch.ext_id.as_deref(), ext_id)?;
        check_version(patch.version, erole.meta.version)?;
        if let Some(name) = &patch.name {
            if name.trim().is_empty() {
                return Err(DomainError::invalid_fields(&["name"]).into());
            }
            self.config.identifier_policy.check(name)?;
        }
        let name = patch.name.clone();
        patch_fields!(erole, patch, { name, description: Some, display_name });
        let target = Target::client(erole.client_id);
        let subject = erole_subject(erole.client_id, ext_id);
        let writes = match &patch.properties {
            None => None,
            Some(sent) => Some(
                self.prepare_writes(caller, &target, &subject, sent, WriteMode::Modify)
                    .await?,
            ),
        };
        let result = match writes {
            None => self.repo.update_erole(&erole).await,
            Some(w) => self.repo.update_erole_with_properties(&erole, w).await,
        };
        let written = match result {
            Ok(e) => e,
            Err(e) if e.is_unique_on("unique_key") => return Err(uniqueness_violated(e)),
            Err(e) if e.is_unique_on("name") => {
                return Err(duplicate_erole_name(name.as_deref().unwrap_or_default()))
            }
            Err(e) => return Err(e.into()),
        };
        let properties = self
            .read_properties(
                caller,
                &target,
                &subject,
                Owner::EnterpriseRole(written.meta.id),
            )
            .await?;
        Ok(WithProperties {
            entity: written,
            properties,
        })
    }

    /// `PATCH .../eroles/:e/properties`: writes the values sent (bumping the enterprise role's
    /// version) and answers all values.
    ///
    /// # Errors
    /// 403, 404, 422, `errors.propertyUniquenessViolated`.
    pub async fn patch_erole_properties(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        sent: PropertyPatch,
    ) -> AppResult<PropertyMap> {
        let write = self.writing();
        write.reaches_nobody(); // property values are never part of a caller
        let erole = self
            .admit_erole(caller, &MODIFY, client_ext_id, ext_id)
            .await?;
        self.patch_values(
            caller,
            &Target::client(erole.client_id),
            &erole_subject(erole.client_id, &erole.meta.ext_id),
            Owner::EnterpriseRole(erole.meta.id),
            &sent,
            |writes| self.repo.update_erole_with_properties(&erole, writes),
        )
        .await
    }

    /// Deletes an enterprise role: every profile granted it loses its roles at once; its
    /// property values go with it (cascade).
    ///
    /// # Errors
    /// 403, 404, 409 if it changed since the version the client read.
    pub async fn delete_erole(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        version: Option<i64>,
    ) -> AppResult<()> {
        let write = self.writing();
        write.reaches_nobody(); // enterprise roles grant application roles, never idm rights
        let erole = self
            .admit_erole(caller, &DELETE, client_ext_id, ext_id)
            .await?;
        check_version(version, erole.meta.version)?;
        Ok(self
            .repo
            .delete_erole(erole.meta.id, erole.meta.version)
            .await?)
    }

    /// The enterprise role and the role a membership URL names.
    async fn admit_member(
        &self,
        caller: &Caller,
        req: &Requirement,
        client_ext_id: &str,
        erole_ext_id: &str,
        role_ext_id: &str,
    ) -> AppResult<(EnterpriseRole, Role)> {
        let erole = self
            .admit_erole(caller, req, client_ext_id, erole_ext_id)
            .await?;
        let role = self
            .repo
            .role_by_ext_id(role_ext_id)
            .await?
            .ok_or_else(|| role_not_found(role_ext_id))?;
        Ok((erole, role))
    }

    /// Makes an application role a member of an enterprise role (again: silently accepted).
    ///
    /// # Errors
    /// 403, 404 for the client, enterprise role or role, 422
    /// `errors.invalidAssignIdmroleToErole` for a role of `nevisIdm` itself.
    pub async fn assign_erole_member(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        erole_ext_id: &str,
        role_ext_id: &str,
    ) -> AppResult<()> {
        let write = self.writing();
        write.reaches_nobody(); // enterprise roles grant application roles, never idm rights
        let (erole, role) = self
            .admit_member(
                caller,
                &MEMBER_CREATE,
                client_ext_id,
                erole_ext_id,
                role_ext_id,
            )
            .await?;
        if !may_bundle(&role) {
            return Err(DomainError::unprocessable(
                ErrorCode::InvalidAssignIdmroleToErole,
                format!(
                    "The nevisIdm role '{}' cannot be assigned to an enterprise role.",
                    role.meta.ext_id
                ),
            )
            .into());
        }
        match self
            .repo
            .add_erole_member(erole.meta.id, role.meta.id)
            .await
        {
            Ok(()) => Ok(()),
            // The enterprise role or the role was deleted since it was read.
            Err(e) if is_foreign_key(&e) => Err(erole_not_found(erole_ext_id)),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a role from an enterprise role: every profile granted the enterprise role loses
    /// it at once (effective roles are computed, never copied).
    ///
    /// # Errors
    /// 403, 404 for the client, enterprise role, role, or a role that is not a member.
    pub async fn remove_erole_member(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        erole_ext_id: &str,
        role_ext_id: &str,
    ) -> AppResult<()> {
        let write = self.writing();
        write.reaches_nobody(); // enterprise roles grant application roles, never idm rights
        let (erole, role) = self
            .admit_member(
                caller,
                &MEMBER_DELETE,
                client_ext_id,
                erole_ext_id,
                role_ext_id,
            )
            .await?;
        match self
            .repo
            .remove_erole_member(erole.meta.id, role.meta.id)
            .await
        {
            Ok(()) => Ok(()),
            Err(RepoError::NotFound) => Err(DomainError::NotFound(format!(
                "Role with extId '{role_ext_id}' is not assigned to enterprise role with extId '{erole_ext_id}'"
            ))
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// The profile a URL names, after admission under `req`.
    async fn admit_profile(
        &self,
        caller: &Caller,
        req: &Requirement,
        client_ext_id: &str,
        profile_ext_id: &str,
    ) -> AppResult<Profile> {
        self.admit(
            caller,
            Gate::new(req),
            Address::client(client_ext_id).with_profile(profile_ext_id),
        )
        .await?
        .into_profile()
    }

    /// The profile and its enterprise authorization a URL names.
    async fn admit_eauthorization(
        &self,
        caller: &Caller,
        req: &Requirement,
        client_ext_id: &str,
        profile_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<EnterpriseAuthorization> {
        let profile = self
            .admit_profile(caller, req, client_ext_id, profile_ext_id)
            .await?;
        self.repo
            .eauthorization_by_ext_id(profile.meta.id, ext_id)
            .await?
            .ok_or_else(|| {
                DomainError::NotFound(format!(
                    "Enterprise authorization doesn't exist with extId '{ext_id}'"
                ))
                .into()
            })
    }

    /// Grants an enterprise role of the profile's client to the profile.
    ///
    /// # Errors
    /// 403, 404 for the client, profile or enterprise role, 422 for a bad extId or validity,
    /// or when the profile already has the enterprise role.
    pub async fn create_eauthorization(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        profile_ext_id: &str,
        input: NewEnterpriseAuthorization,
    ) -> AppResult<EnterpriseAuthorization> {
        let write = self.writing();
        write.reaches_nobody(); // enterprise roles grant application roles, never idm rights
        let profile = self
            .admit_profile(caller, &PROFILE_MODIFY, client_ext_id, profile_ext_id)
            .await?;
        let erole = self
            .require_erole(profile.client_id, &input.enterprise_role_ext_id)
            .await?;
        input.validity.check()?;
        let meta = new_meta(input.ext_id)?;
        let ext_id = meta.ext_id.clone();
        let eauthorization = EnterpriseAuthorization {
            meta,
            client_id: profile.client_id,
            profile_id: profile.meta.id,
            enterprise_role_id: erole.meta.id,
            enterprise_role_ext_id: erole.meta.ext_id.clone(),
            validity: input.validity,
        };
        match self.repo.create_eauthorization(eauthorization).await {
            Ok(a) => Ok(a),
            Err(e) if e.is_unique_on("enterprise_role_id") => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!(
                    "The profile '{}' already has an enterprise authorization for enterprise role '{}'.",
                    profile.meta.ext_id, erole.meta.ext_id
                ),
            )
            .into()),
            Err(e) if e.is_unique() => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!("An enterprise authorization with extId '{ext_id}' already exists."),
            )
            .into()),
            Err(e) if is_foreign_key(&e) => Err(erole_not_found(&erole.meta.ext_id)),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists the enterprise authorizations of a profile.
    ///
    /// # Errors
    /// 403 (a self-admin may list his own), 404.
    pub async fn list_eauthorizations(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        profile_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<EnterpriseAuthorization>> {
        let profile = self
            .admit_profile(caller, &PROFILE_VIEW, client_ext_id, profile_ext_id)
            .await?;
        Ok(self
            .repo
            .list_eauthorizations(profile.meta.id, page)
            .await?)
    }

    /// Reads one enterprise authorization of a profile.
    ///
    /// # Errors
    /// 403 (a self-admin may read his own), 404.
    pub async fn get_eauthorization(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        profile_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<EnterpriseAuthorization> {
        self.admit_eauthorization(caller, &PROFILE_VIEW, client_ext_id, profile_ext_id, ext_id)
            .await
    }

    /// Changes the validity of an enterprise authorization (optimistic locking).
    ///
    /// # Errors
    /// 403, 404, 409, 422 for a changed extId or a bad validity.
    pub async fn patch_eauthorization(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        profile_ext_id: &str,
        ext_id: &str,
        patch: EnterpriseAuthorizationPatch,
    ) -> AppResult<EnterpriseAuthorization> {
        let write = self.writing();
        write.reaches_nobody(); // enterprise roles grant application roles, never idm rights
        let mut a = self
            .admit_eauthorization(
                caller,
                &PROFILE_MODIFY,
                client_ext_id,
                profile_ext_id,
                ext_id,
            )
            .await?;
        check_same_ext_id(patch.ext_id.as_deref(), ext_id)?;
        check_version(patch.version, a.meta.version)?;
        if let Some(v) = &patch.validity {
            v.check()?;
        }
        patch_fields!(a, patch, { validity });
        Ok(self.repo.update_eauthorization(&a).await?)
    }

    /// Revokes an enterprise authorization.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn delete_eauthorization(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        profile_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<()> {
        let write = self.writing();
        write.reaches_nobody(); // enterprise roles grant application roles, never idm rights
        let a = self
            .admit_eauthorization(
                caller,
                &PROFILE_MODIFY,
                client_ext_id,
                profile_ext_id,
                ext_id,
            )
            .await?;
        crate::error::deleted(self.repo.delete_eauthorization(a.meta.id).await)
    }

    /// The roles the profile holds now: direct authorizations plus the current members of
    /// its enterprise roles, each grant within its validity.
    ///
    /// # Errors
    /// 403 (a self-admin may list his own), 404.
    pub async fn list_profile_roles(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        profile_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<Role>> {
        let profile = self
            .admit_profile(caller, &PROFILE_VIEW, client_ext_id, profile_ext_id)
            .await?;
        let grants = self.repo.profile_role_grants(profile.meta.id).await?;
        let mut sources: Vec<RoleSource<'_>> = grants
            .direct
            .iter()
            .map(|(validity, role)| RoleSource {
                validity,
                roles: std::slice::from_ref(role),
            })
            .collect();
        sources.extend(
            grants
                .enterprise
                .iter()
                .map(|(validity, roles)| RoleSource { validity, roles }),
        );
        Ok(page_of(effective_roles(&sources, Utc::now()), &page))
    }
}
