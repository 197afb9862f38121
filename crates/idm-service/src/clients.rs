//! Clients: create (with the root unit), list, read, patch (★ seed 001), delete.

use idm_domain::access::{Caller, Requirement, Target};
use idm_domain::model::{Client, Meta, Unit};
use idm_domain::rights::Right;
use idm_domain::values::{check_ext_id, new_ext_id, now_millis, LanguageMap, UnitState, Validity};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::{Page, PageRequest};

use idm_ports::locate::Address;

pub(crate) use crate::admit::precheck;
use crate::admit::Gate;
use crate::{AppError, AppResult, Services};

const CREATE: Requirement = Requirement::all(&[&[Right::ClientCreate]]);
const VIEW: Requirement = Requirement::all(&[&[Right::ClientView]]);
const MODIFY: Requirement = Requirement::all(&[&[Right::ClientModify]]);
const DELETE: Requirement = Requirement::all(&[&[Right::ClientDelete]]);

/// Input of client creation.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// Unique name.
    pub name: String,
    /// Display name.
    pub display_name: LanguageMap,
    /// Remarks.
    pub remarks: Option<String>,
}

/// A partial update of a client: only present fields change.
#[derive(Debug, Clone, Default)]
pub struct ClientPatch {
    /// extId in the body: must equal the addressed one if present.
    pub ext_id: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New display name.
    pub display_name: Option<LanguageMap>,
    /// New remarks (`Some(None)` clears them).
    pub remarks: Option<Option<String>>,
    /// The version the client read (body `version` or `If-Match`).
    pub version: Option<i64>,
}

/// Refuses an operation that would lock the caller out of idm: deleting, disabling or
/// archiving its own user, or deleting one of its own profiles. One mistaken (or fuzzed)
/// request must not leave an installation without its administrator.
pub(crate) fn refuse_self_lockout(
    caller: &Caller,
    owner_user_id: i64,
    what: &str,
) -> AppResult<()> {
    if caller.user_id == owner_user_id {
        return Err(DomainError::unprocessable(
            ErrorCode::UnsupportedOperation,
            format!("A caller cannot {what}."),
        )
        .into());
    }
    Ok(())
}

/// Checks a client-supplied version against the stored one.
pub(crate) fn check_version(expected: Option<i64>, stored: i64) -> AppResult<()> {
    match expected {
        Some(v) if v != stored => Err(DomainError::StaleVersion.into()),
        _ => Ok(()),
    }
}

/// Rejects a body extId that differs from the addressed one.
pub(crate) fn check_same_ext_id(body: Option<&str>, addressed: &str) -> AppResult<()> {
    match body {
        Some(e) if e != addressed => Err(DomainError::unprocessable(
            ErrorCode::ModifyExtId,
            format!("The extId '{addressed}' cannot be changed"),
        )
        .into()),
        _ => Ok(()),
    }
}

fn duplicate_name(name: &str) -> AppError {
    DomainError::unprocessable(
        ErrorCode::DuplicateName,
        format!("A client with name '{name}' already exists."),
    )
    .into()
}

impl Services {
    /// Creates a client and its root unit (same transaction).
    ///
    /// # Errors
    /// 403 without `ClientCreate`; 422 on a bad extId, a naming-policy violation or a duplicate.
    pub async fn create_client(&self, caller: &Caller, input: NewClient) -> AppResult<Client> {
        let write = self.writing();
        write.reaches_nobody(); // nobody belongs to a new client yet
        Self::authorize(caller, &CREATE, &Target::global())?;
        self.insert_client(input).await
    }

    /// Creation without an authorization check: bootstrap and `create_client`.
    pub(crate) async fn insert_client(&self, input: NewClient) -> AppResult<Client> {
        self.config.identifier_policy.check(&input.name)?;
        let ext_id = match input.ext_id {
            Some(e) => {
                check_ext_id(&e)?;
                e
            }
            None => new_ext_id(),
        };
        let now = now_millis();
        let meta = Meta::new(ext_id.clone(), now);
        let root = Unit {
            meta: Meta {
                ext_id: format!("{ext_id}-root"),
                ..meta.clone()
            },
            client_id: 0,
            client_ext_id: ext_id.clone(),
            parent_id: None,
            parent_ext_id: None,
            path: String::new(),
            hierarchical_name: String::new(),
            name: input.name.clone(),
            location: None,
            description: Some(format!("Root unit of client {}", input.name)),
            state: UnitState::Active,
            display_name: input.display_name.clone(),
            abbreviation: LanguageMap::default(),
            profileless: false,
            modification_comment: None,
            validity: Validity::default(),
        };
        let client = Client {
            meta,
            name: input.name.clone(),
            display_name: input.display_name,
            remarks: input.remarks,
        };
        match self.repo.create_client(client, root).await {
            Ok((client, _root)) => Ok(client),
            Err(e) if e.is_unique_on("name") => Err(duplicate_name(&input.name)),
            Err(e) if e.is_unique() => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!("A client with extId '{ext_id}' already exists."),
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists the clients the caller may view: all with a client-global `ClientView`, else its
    /// own.
    ///
    /// # Errors
    /// 403 without `ClientView`.
    pub async fn list_clients(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> AppResult<Page<Client>> {
        precheck(caller, &VIEW)?;
        let page = self.repo.list_clients(page).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .filter(|c| {
                    caller
                        .rights_on(&Target::client(c.meta.id))
                        .contains(Right::ClientView)
                })
                .collect(),
            next: page.next,
        })
    }

    /// Reads a client.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_client(&self, caller: &Caller, ext_id: &str) -> AppResult<Client> {
        let admitted = self
            .admit(caller, Gate::new(&VIEW), Address::client(ext_id))
            .await?;
        admitted.into_client()
    }

    /// Partially updates a client's `name`, `displayName` and `remarks` with optimistic
    /// locking.
    ///
    /// # Errors
    /// 403, 404, 409 on a stale or racing version, 422 on a naming-policy violation, a
    /// duplicate name or a changed extId.
    pub async fn patch_client(
        &self,
        caller: &Caller,
        ext_id: &str,
        patch: ClientPatch,
    ) -> AppResult<Client> {
        let write = self.writing();
        let admitted = self
            .admit(caller, Gate::new(&MODIFY), Address::client(ext_id))
            .await?;
        let mut client = admitted.into_client()?;
        write.reaches_client(client.meta.id);
        check_same_ext_id(patch.ext_id.as_deref(), ext_id)?;
        check_version(patch.version, client.meta.version)?;
        if let Some(name) = &patch.name {
            self.config.identifier_policy.check(name)?;
        }
        patch_fields!(client, patch, { name, display_name, remarks });
        match self.repo.update_client(&client).await {
            Ok(c) => Ok(c),
            Err(e) if e.is_unique_on("name") => Err(duplicate_name(&client.name)),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a client and everything in it.
    ///
    /// # Errors
    /// 403, 404; 422 `errors.deleteDefaultEntityFailure` for the caller's own client (it would
    /// lock the caller out).
    pub async fn delete_client(&self, caller: &Caller, ext_id: &str) -> AppResult<()> {
        let write = self.writing();
        let admitted = self
            .admit(caller, Gate::new(&DELETE), Address::client(ext_id))
            .await?;
        let client = admitted.client()?;
        write.reaches_client(client.meta.id);
        if client.meta.id == caller.client_id {
            return Err(DomainError::unprocessable(
                ErrorCode::DeleteDefaultEntityFailure,
                "The caller's own client cannot be deleted",
            )
            .into());
        }
        crate::error::deleted(self.repo.delete_client(client.meta.id).await)
    }
}
