//! Profiles: create, list per user, read, patch, delete, ★ read the unit (seed 004), re-assign
//! the unit.

use idm_domain::access::{Caller, Requirement};
use idm_domain::model::{Client, Meta, Profile, Unit, User};
use idm_domain::rights::Right;
use idm_domain::values::{check_ext_id, new_ext_id, now_millis, ProfileState, Validity};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::query::{ListQuery, Listed};

use idm_ports::locate::Address;

use idm_domain::properties::{PropertyScope, WriteMode};
use idm_ports::properties::Owner;

use crate::admit::Gate;
use crate::clients::{check_same_ext_id, check_version};
use crate::properties::{uniqueness_violated, PropertyPatch, Subject, WithProperties};
use crate::{AppError, AppResult, Services};

const CREATE: Requirement = Requirement::all(&[&[Right::ProfileCreate]]);
const LIST: Requirement =
    Requirement::all(&[&[Right::UserView], &[Right::ProfileView]]).or_self_admin();
const VIEW: Requirement = Requirement::all(&[&[Right::ProfileView]]).or_self_admin();
const MODIFY: Requirement = Requirement::all(&[&[Right::ProfileView], &[Right::ProfileModify]]);
const ASSIGN: Requirement = Requirement::all(&[&[Right::ProfileModify]]);
const DELETE: Requirement = Requirement::all(&[&[Right::ProfileDelete]]);

/// Profile fields a client sends on create or patch; `None` = not sent.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    /// extId: optional on create; on patch must equal the addressed one.
    pub ext_id: Option<String>,
    /// Unit (required on create).
    pub unit_ext_id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// State.
    pub state: Option<ProfileState>,
    /// Default profile flag.
    pub is_default_profile: Option<bool>,
    /// Remarks.
    pub remarks: Option<String>,
    /// Modification comment.
    pub modification_comment: Option<String>,
    /// Validity.
    pub validity: Option<Validity>,
    /// extId of another profile of the client as deputy; `""` clears it on patch.
    pub deputed_profile_ext_id: Option<String>,
    /// The version the client read (patch only).
    pub version: Option<i64>,
}

fn profileless(unit: &Unit) -> AppError {
    DomainError::unprocessable(
        ErrorCode::AssignProfilelessUnit,
        format!(
            "A profile cannot be assigned to the profileless unit with extId '{}'.",
            unit.meta.ext_id
        ),
    )
    .into()
}

/// A validated new profile of `user` in `unit` from `input` (not stored yet).
pub(crate) fn new_profile(
    client: &Client,
    user: &User,
    unit: Option<&Unit>,
    input: ProfileInput,
) -> AppResult<Profile> {
    let unit = unit.ok_or_else(|| DomainError::invalid_fields(&["unitExtId"]))?;
    if let Some(e) = &input.ext_id {
        check_ext_id(e)?;
    }
    if unit.profileless {
        return Err(profileless(unit));
    }
    let validity = input.validity.unwrap_or_default();
    validity.check()?;
    let now = now_millis();
    Ok(Profile {
        meta: Meta::new(input.ext_id.unwrap_or_else(new_ext_id), now),
        client_id: client.meta.id,
        client_ext_id: client.meta.ext_id.clone(),
        user_id: user.meta.id,
        user_ext_id: user.meta.ext_id.clone(),
        unit_id: unit.meta.id,
        unit_ext_id: unit.meta.ext_id.clone(),
        unit_path: unit.path.clone(),
        name: input.name,
        state: input.state.unwrap_or(ProfileState::Active),
        is_default_profile: input.is_default_profile.unwrap_or(false),
        remarks: input.remarks,
        modification_comment: input.modification_comment,
        validity,
        deputed_profile_ext_id: input.deputed_profile_ext_id.filter(|d| !d.is_empty()),
    })
}

impl Services {
    /// A profile's deputy must be another existing profile of the same client.
    ///
    /// # Errors
    /// 422 `errors.invalidParameter` naming `deputedProfileExtId`.
    pub(crate) async fn check_deputy(&self, profile: &Profile) -> AppResult<()> {
        let Some(d) = profile.deputed_profile_ext_id.as_deref() else {
            return Ok(());
        };
        let exists = d != profile.meta.ext_id
            && self
                .repo
                .profile_by_ext_id(profile.client_id, d)
                .await?
                .is_some();
        if exists {
            Ok(())
        } else {
            Err(DomainError::invalid_fields(&["deputedProfileExtId"]).into())
        }
    }

    /// Creates a profile of a user in a unit.
    ///
    /// # Errors
    /// 403, 404 (client, user, unit), 422 (`errors.assignProfilelessUnit`, extId, validity,
    /// duplicate extId).
    pub async fn create_profile(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        input: ProfileInput,
    ) -> AppResult<Profile> {
        self.create_profile_with(caller, client_ext_id, user_ext_id, input, None)
            .await
    }

    /// [`Services::create_profile`] with property values (`None`: not checked at all).
    ///
    /// # Errors
    /// As `create_profile`; the property 403s and 422s.
    pub async fn create_profile_with(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        input: ProfileInput,
        properties: Option<PropertyPatch>,
    ) -> AppResult<Profile> {
        let write = self.writing();
        let mut address = Address::client(client_ext_id).with_user(user_ext_id);
        if let Some(u) = &input.unit_ext_id {
            address = address.with_unit(u);
        }
        let admitted = self
            .admit(caller, Gate::new(&CREATE).on_unit(), address)
            .await?;
        let (client, user) = (admitted.client()?, admitted.user()?);
        write.reaches_user(user.meta.id);
        crate::users::refuse_archived(user)?;
        let profile = new_profile(client, user, admitted.found.unit.as_ref(), input)?;
        self.check_deputy(&profile).await?;
        let ext_id = profile.meta.ext_id.clone();
        let result = match &properties {
            None => self.repo.create_profile(profile).await,
            Some(sent) => {
                let subject = Subject {
                    scope: PropertyScope::ProfileGlobal,
                    client_id: profile.client_id,
                    kind: "profile",
                    ext_id: &ext_id,
                    unit_key: profile.unit_id.to_string(),
                };
                let writes = self
                    .prepare_writes(
                        caller,
                        &crate::admit::profile_target(&profile),
                        &subject,
                        sent,
                        WriteMode::Create,
                    )
                    .await?;
                self.repo
                    .create_profile_with_properties(profile.clone(), writes)
                    .await
            }
        };
        match result {
            Ok(p) => Ok(p),
            Err(e) if e.is_unique_on("unique_key") => Err(uniqueness_violated(e)),
            Err(e) if e.is_unique() => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!("A profile with extId '{ext_id}' already exists."),
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// One page of a user's profiles (`UserView,ProfileView`, or the user itself).
    ///
    /// # Errors
    /// 403, 404.
    pub async fn list_user_profiles(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        mut query: ListQuery,
    ) -> AppResult<Listed<Profile>> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&LIST),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let user = admitted.user()?;
        self.resolve_property_filters(
            user.client_id,
            idm_domain::properties::PropertyScope::ProfileGlobal,
            &mut query,
        )
        .await?;
        Ok(self.repo.query_user_profiles(user.meta.id, query).await?)
    }

    /// Reads a profile (`ProfileView`, or the owning user).
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_profile(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<Profile> {
        let profile = self
            .admit(
                caller,
                Gate::new(&VIEW),
                Address::client(client_ext_id).with_profile(ext_id),
            )
            .await?
            .into_profile()?;
        Ok(profile)
    }

    /// ★ The unit of a profile (seed 004): `ProfileView or SelfAdmin Role`.
    ///
    /// # Errors
    /// 403 (both kinds), 404 `Client doesn't exist with extId '...'` /
    /// `Profile doesn't exist with extId '...'`.
    pub async fn get_profile_unit(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<Unit> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&VIEW),
                Address::client(client_ext_id).with_profile(ext_id),
            )
            .await?;
        admitted
            .found
            .profile_unit
            .ok_or_else(|| AppError::Internal("unit of a profile vanished".into()))
    }

    /// Partially updates a profile with optimistic locking.
    ///
    /// # Errors
    /// 403, 404, 409, 422.
    pub async fn patch_profile(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        input: ProfileInput,
    ) -> AppResult<Profile> {
        Ok(self
            .patch_profile_with(caller, client_ext_id, ext_id, input, None)
            .await?
            .entity)
    }

    /// [`Services::patch_profile`] with property values (only the names sent change).
    ///
    /// # Errors
    /// As `patch_profile`; the property 403s and 422s.
    pub async fn patch_profile_with(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        input: ProfileInput,
        properties: Option<PropertyPatch>,
    ) -> AppResult<WithProperties<Profile>> {
        let write = self.writing();
        let mut p = self
            .admit(
                caller,
                Gate::new(&MODIFY),
                Address::client(client_ext_id).with_profile(ext_id),
            )
            .await?
            .into_profile()?;
        write.reaches_user(p.user_id);
        check_same_ext_id(input.ext_id.as_deref(), ext_id)?;
        check_version(input.version, p.meta.version)?;
        if let Some(v) = &input.validity {
            v.check()?;
        }
        if let Some(d) = &input.deputed_profile_ext_id {
            p.deputed_profile_ext_id = (!d.is_empty()).then(|| d.clone());
            self.check_deputy(&p).await?;
        }
        patch_fields!(p, input, {
            name: Some,
            state,
            is_default_profile,
            remarks: Some,
            modification_comment: Some,
            validity,
        });
        let Some(sent) = properties else {
            return Ok(WithProperties {
                entity: self.repo.update_profile(&p).await?,
                properties: None,
            });
        };
        let subject = Subject {
            scope: PropertyScope::ProfileGlobal,
            client_id: p.client_id,
            kind: "profile",
            ext_id,
            unit_key: p.unit_id.to_string(),
        };
        let writes = self
            .prepare_writes(
                caller,
                &crate::admit::profile_target(&p),
                &subject,
                &sent,
                WriteMode::Modify,
            )
            .await?;
        let written = self
            .repo
            .update_profile_with_properties(&p, writes)
            .await
            .map_err(uniqueness_violated)?;
        let properties = self
            .read_properties(
                caller,
                &crate::admit::profile_target(&written),
                &subject,
                Owner::Profile(written.meta.id),
            )
            .await?;
        Ok(WithProperties {
            entity: written,
            properties,
        })
    }

    /// Deletes a profile and its authorizations.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn delete_profile(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<()> {
        let write = self.writing();
        let p = self
            .admit(
                caller,
                Gate::new(&DELETE),
                Address::client(client_ext_id).with_profile(ext_id),
            )
            .await?
            .into_profile()?;
        write.reaches_user(p.user_id);
        crate::clients::refuse_self_lockout(caller, p.user_id, "delete its own profile")?;
        crate::error::deleted(self.repo.delete_profile(p.meta.id).await)
    }

    /// Re-assigns a profile to another unit of the same client.
    ///
    /// # Errors
    /// 403, 404, 409 on a racing write, 422 `errors.assignProfilelessUnit`.
    pub async fn assign_profile_unit(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        unit_ext_id: &str,
    ) -> AppResult<Profile> {
        let write = self.writing();
        let admitted = self
            .admit(
                caller,
                Gate::new(&ASSIGN),
                Address::client(client_ext_id)
                    .with_profile(ext_id)
                    .with_other_unit(unit_ext_id),
            )
            .await?;
        let unit = admitted.other_unit()?;
        if unit.profileless {
            return Err(profileless(unit));
        }
        let unit_id = unit.meta.id;
        let mut p = admitted.into_profile()?;
        write.reaches_user(p.user_id);
        p.unit_id = unit_id;
        Ok(self.repo.update_profile(&p).await?)
    }
}
