//! Units: create, read, patch, delete, list children, move a subtree.

use idm_domain::access::{Caller, Requirement, Target};
use idm_domain::model::{Meta, Unit};
use idm_domain::rights::Right;
use idm_domain::values::{check_ext_id, new_ext_id, now_millis, LanguageMap, UnitState, Validity};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::query::{ListQuery, Listed};
use idm_ports::RepoError;

use idm_ports::locate::Address;

use idm_domain::properties::{PropertyScope, WriteMode};
use idm_ports::properties::Owner;

use crate::admit::Gate;
use crate::clients::{check_same_ext_id, check_version};
use crate::properties::{uniqueness_violated, PropertyPatch, Subject, WithProperties};
use crate::{AppError, AppResult, Services};

const CREATE: Requirement = Requirement::all(&[&[Right::UnitCreate]]);
const CREATE_TOP: Requirement =
    Requirement::all(&[&[Right::UnitCreate], &[Right::UnitCreateTopUnit]]);
const VIEW: Requirement = Requirement::all(&[&[Right::UnitView]]);
const MODIFY: Requirement = Requirement::all(&[&[Right::UnitView], &[Right::UnitModify]]);
const MOVE: Requirement = Requirement::all(&[&[Right::UnitModify]]);
const DELETE: Requirement = Requirement::all(&[&[Right::UnitDelete]]);

/// Input of unit creation.
#[derive(Debug, Clone, Default)]
pub struct NewUnit {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// Parent; absent → a root unit of the client.
    pub parent_ext_id: Option<String>,
    /// Name, unique under the parent.
    pub name: String,
    /// Location.
    pub location: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// State (default active).
    pub state: Option<UnitState>,
    /// Display name.
    pub display_name: LanguageMap,
    /// Abbreviation.
    pub abbreviation: LanguageMap,
    /// Whether profiles are refused.
    pub profileless: bool,
    /// Modification comment.
    pub modification_comment: Option<String>,
    /// Validity.
    pub validity: Validity,
}

/// A partial update of a unit: only present fields change.
#[derive(Debug, Clone, Default)]
pub struct UnitPatch {
    /// extId in the body: must equal the addressed one if present.
    pub ext_id: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New location.
    pub location: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New state.
    pub state: Option<UnitState>,
    /// New display name.
    pub display_name: Option<LanguageMap>,
    /// New abbreviation.
    pub abbreviation: Option<LanguageMap>,
    /// New profileless flag.
    pub profileless: Option<bool>,
    /// New modification comment.
    pub modification_comment: Option<String>,
    /// New validity.
    pub validity: Option<Validity>,
    /// The version the client read (body or `If-Match`).
    pub version: Option<i64>,
}

fn duplicate_name(name: &str) -> AppError {
    DomainError::unprocessable(
        ErrorCode::DuplicateName,
        format!("A unit with name '{name}' already exists under the same parent unit."),
    )
    .into()
}

/// The dataroom target of a unit.
impl Services {
    /// Creates a unit under a parent, or a root unit (needs `UnitCreateTopUnit` too).
    ///
    /// # Errors
    /// 403, 404 for client or parent, 422 for a bad extId, a naming-policy violation, an
    /// inverted validity, a duplicate extId or a duplicate name under the parent.
    pub async fn create_unit(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        input: NewUnit,
    ) -> AppResult<Unit> {
        self.create_unit_with(caller, client_ext_id, input, None)
            .await
    }

    /// [`Services::create_unit`] with property values (`None`: not checked at all).
    ///
    /// # Errors
    /// As `create_unit`; the property 403s and 422s.
    pub async fn create_unit_with(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        input: NewUnit,
        properties: Option<PropertyPatch>,
    ) -> AppResult<Unit> {
        let write = self.writing();
        write.reaches_nobody(); // grants name existing units only; a new leaf changes none
        let req = if input.parent_ext_id.is_some() {
            &CREATE
        } else {
            &CREATE_TOP
        };
        let mut address = Address::client(client_ext_id);
        if let Some(p) = &input.parent_ext_id {
            address = address.with_unit(p);
        }
        let admitted = self.admit(caller, Gate::new(req), address).await?;
        let client = admitted.client()?;
        let parent = admitted.found.unit.as_ref();
        self.identifier_policy_for(client.meta.id)
            .await?
            .check(&input.name)?;
        input.validity.check()?;
        let ext_id = match input.ext_id {
            Some(e) => {
                check_ext_id(&e)?;
                e
            }
            None => new_ext_id(),
        };
        let writes = match &properties {
            None => None,
            Some(sent) => {
                let subject = Subject {
                    scope: PropertyScope::UnitGlobal,
                    client_id: client.meta.id,
                    kind: "unit",
                    ext_id: &ext_id,
                    unit_key: String::new(),
                };
                let target = Target::client(client.meta.id);
                Some(
                    self.prepare_writes(caller, &target, &subject, sent, WriteMode::Create)
                        .await?,
                )
            }
        };
        let now = now_millis();
        let unit = Unit {
            meta: Meta::new(ext_id.clone(), now),
            client_id: client.meta.id,
            client_ext_id: client.meta.ext_id.clone(),
            parent_id: parent.as_ref().map(|p| p.meta.id),
            parent_ext_id: parent.as_ref().map(|p| p.meta.ext_id.clone()),
            path: String::new(),
            hierarchical_name: String::new(),
            name: input.name.clone(),
            location: input.location,
            description: input.description,
            state: input.state.unwrap_or(UnitState::Active),
            display_name: input.display_name,
            abbreviation: input.abbreviation,
            profileless: input.profileless,
            modification_comment: input.modification_comment,
            validity: input.validity,
        };
        let result = match writes {
            None => self.repo.create_unit(unit).await,
            Some(w) => self.repo.create_unit_with_properties(unit, w).await,
        };
        match result {
            Ok(u) => Ok(u),
            Err(e) if e.is_unique_on("unique_key") => Err(uniqueness_violated(e)),
            Err(e) if e.is_unique_on("units.name") => Err(duplicate_name(&input.name)),
            Err(e) if e.is_unique() => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!("A unit with extId '{ext_id}' already exists."),
            )
            .into()),
            Err(RepoError::NotFound) => Err(DomainError::NotFound(format!(
                "Unit doesn't exist with extId '{}'",
                input.parent_ext_id.unwrap_or_default()
            ))
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads a unit.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_unit(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<Unit> {
        let unit = self
            .admit(
                caller,
                Gate::new(&VIEW),
                Address::client(client_ext_id).with_unit(ext_id),
            )
            .await?
            .into_unit()?;
        Ok(unit)
    }

    /// Partially updates a unit with optimistic locking.
    ///
    /// # Errors
    /// 403, 404, 409, 422 (extId change, naming policy, duplicate name, validity).
    pub async fn patch_unit(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        patch: UnitPatch,
    ) -> AppResult<Unit> {
        Ok(self
            .patch_unit_with(caller, client_ext_id, ext_id, patch, None)
            .await?
            .entity)
    }

    /// [`Services::patch_unit`] with property values (only the names sent change).
    ///
    /// # Errors
    /// As `patch_unit`; the property 403s and 422s.
    pub async fn patch_unit_with(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        patch: UnitPatch,
        properties: Option<PropertyPatch>,
    ) -> AppResult<WithProperties<Unit>> {
        let write = self.writing();
        let admitted = self
            .admit(
                caller,
                Gate::new(&MODIFY),
                Address::client(client_ext_id).with_unit(ext_id),
            )
            .await?;
        write.reaches_client(admitted.client()?.meta.id);
        let mut unit = admitted.into_unit()?;
        check_same_ext_id(patch.ext_id.as_deref(), ext_id)?;
        check_version(patch.version, unit.meta.version)?;
        if let Some(name) = &patch.name {
            self.identifier_policy_for(unit.client_id)
                .await?
                .check(name)?;
        }
        if let Some(v) = &patch.validity {
            v.check()?;
        }
        patch_fields!(unit, patch, {
            name,
            location: Some,
            description: Some,
            state,
            display_name,
            abbreviation,
            profileless,
            modification_comment: Some,
            validity,
        });
        let Some(sent) = properties else {
            return match self.repo.update_unit(&unit).await {
                Ok(u) => Ok(WithProperties {
                    entity: u,
                    properties: None,
                }),
                Err(e) if e.is_unique_on("units.name") => Err(duplicate_name(&unit.name)),
                Err(e) => Err(e.into()),
            };
        };
        let target_path = unit.path.clone();
        let target = Target::units(unit.client_id, std::slice::from_ref(&target_path));
        let subject = Subject {
            scope: PropertyScope::UnitGlobal,
            client_id: unit.client_id,
            kind: "unit",
            ext_id,
            unit_key: unit.meta.id.to_string(),
        };
        let writes = self
            .prepare_writes(caller, &target, &subject, &sent, WriteMode::Modify)
            .await?;
        let written = match self.repo.update_unit_with_properties(&unit, writes).await {
            Ok(u) => u,
            Err(e) if e.is_unique_on("units.name") => return Err(duplicate_name(&unit.name)),
            Err(e) => return Err(uniqueness_violated(e)),
        };
        let properties = self
            .read_properties(caller, &target, &subject, Owner::Unit(written.meta.id))
            .await?;
        Ok(WithProperties {
            entity: written,
            properties,
        })
    }

    /// Deletes a unit that has no children and no profiles.
    ///
    /// # Errors
    /// 403, 404, 422 `errors.undeletedDependencies`.
    pub async fn delete_unit(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<()> {
        let write = self.writing();
        let admitted = self
            .admit(
                caller,
                Gate::new(&DELETE),
                Address::client(client_ext_id).with_unit(ext_id),
            )
            .await?;
        write.reaches_client(admitted.client()?.meta.id);
        let unit = admitted.into_unit()?;
        match self.repo.delete_unit(unit.meta.id).await {
            Ok(()) | Err(RepoError::NotFound) => Ok(()),
            Err(RepoError::Conflict { constraint }) if constraint == "dependencies" => {
                Err(DomainError::unprocessable(
                    ErrorCode::UndeletedDependencies,
                    format!(
                        "The unit with extId '{ext_id}' cannot be deleted because it still has sub-units or profiles."
                    ),
                )
                .into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One page of the direct children of a unit.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn list_unit_children(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        mut query: ListQuery,
    ) -> AppResult<Listed<Unit>> {
        let unit = self
            .admit(
                caller,
                Gate::new(&VIEW),
                Address::client(client_ext_id).with_unit(ext_id),
            )
            .await?
            .into_unit()?;
        self.resolve_property_filters(
            unit.client_id,
            idm_domain::properties::PropertyScope::UnitGlobal,
            &mut query,
        )
        .await?;
        let page = self.repo.query_unit_children(unit.meta.id, query).await?;
        // Children of an admitted unit lie in its subtree, hence in the same dataroom: the
        // filter is a safety net and the total stays right.
        Ok(Listed {
            items: page
                .items
                .into_iter()
                .filter(|u| {
                    let paths = [u.path.clone()];
                    caller
                        .rights_on(&Target::units(u.client_id, &paths))
                        .contains(Right::UnitView)
                })
                .collect(),
            more: page.more,
            total: page.total,
        })
    }

    /// Moves unit `child_ext_id` with its subtree under unit `parent_ext_id`.
    ///
    /// # Errors
    /// 403, 404, 422 `errors.assignSubunitAsParent` for a move under itself or a descendant,
    /// 422 `errors.duplicateName` if the new parent has a child of that name.
    pub async fn move_unit(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        parent_ext_id: &str,
        child_ext_id: &str,
    ) -> AppResult<Unit> {
        let write = self.writing();
        // The new parent is the addressed unit (its 404 comes first), the moved unit the second.
        let admitted = self
            .admit(
                caller,
                Gate::new(&MOVE),
                Address::client(client_ext_id)
                    .with_unit(parent_ext_id)
                    .with_other_unit(child_ext_id),
            )
            .await?;
        write.reaches_client(admitted.client()?.meta.id);
        let (parent, child) = (admitted.unit()?, admitted.other_unit()?);
        let cycle = || -> AppError {
            DomainError::unprocessable(
                ErrorCode::AssignSubunitAsParent,
                format!(
                    "The unit with extId '{parent_ext_id}' is the unit '{child_ext_id}' itself or one of its sub-units and cannot become its parent."
                ),
            )
            .into()
        };
        if parent.path.starts_with(&child.path) {
            return Err(cycle());
        }
        match self.repo.move_unit(child.meta.id, parent.meta.id).await {
            Ok(u) => Ok(u),
            Err(RepoError::Conflict { constraint }) if constraint == "cycle" => Err(cycle()),
            Err(e) if e.is_unique_on("units.name") => Err(duplicate_name(&child.name)),
            Err(RepoError::NotFound) => Err(DomainError::NotFound(format!(
                "Unit doesn't exist with extId '{child_ext_id}'"
            ))
            .into()),
            Err(e) => Err(e.into()),
        }
    }
}
