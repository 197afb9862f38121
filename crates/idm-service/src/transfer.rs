//! Export and import of a data set: fixtures loaded by `idm serve --fixtures`, `idm export` and
//! `idm import`. This is the operator's path, not a client's: whoever runs the binary owns the
//! database, so there is no caller and no rights check (as with `bootstrap`).
//!
//! Entries reference each other by extId. Loading is idempotent: an entry whose extId already
//! exists is compared with what is stored (definition fields only, never timestamps or
//! versions) and left alone when equal; when it differs, the import stops with a conflict
//! naming the entry, unless [`ImportMode::Override`] asks to replace the stored definition.
//! New entries keep the `created`, `lastModified` and `version` they carry, so an export
//! imported into an empty database reads back identically.

use idm_ports::locate::{Address, Item, ItemKey};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;

use idm_domain::model::{Authorization, Client, PersonalQuestion, Profile, Terms, Unit, User};
use idm_domain::values::{check_ext_id, UnitState};
use idm_domain::DomainError;
use idm_ports::users::UserFilter;
use idm_ports::{Page, PageRequest, RepoError, RepoResult};

use crate::auth::hash_password;
use crate::{AppError, AppResult, Services};

/// A user's password as a data set carries it.
#[derive(Clone, PartialEq, Eq)]
pub enum Password {
    /// A clear-text password (hand-written fixtures); checked against the policy and hashed.
    Plain(String),
    /// A PHC hash string (an export `--with-secrets`); stored as it is.
    Hash(String),
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither form may end up in a log.
        match self {
            Password::Plain(_) => f.write_str("Plain(***)"),
            Password::Hash(_) => f.write_str("Hash(***)"),
        }
    }
}

/// A user with its optional password.
#[derive(Debug, Clone)]
pub struct UserEntry {
    /// The user; `client_ext_id` names its client, ids are ignored.
    pub user: User,
    /// The password to set when the user is created (or replaced).
    pub password: Option<Password>,
}

/// How an authorization names its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleRef {
    /// By the role's extId (e.g. `nevisIdm.Root`).
    ExtId(String),
    /// By application name and role name.
    Name {
        /// Application name.
        application: String,
        /// Role name.
        role: String,
    },
}

/// An authorization with the references it is stored under.
#[derive(Debug, Clone)]
pub struct AuthorizationEntry {
    /// extId of the client of the profile.
    pub client_ext_id: String,
    /// extId of the profile.
    pub profile_ext_id: String,
    /// The granted role.
    pub role: RoleRef,
    /// extId, flags, validity and bookkeeping; ids and `role_ext_id` are ignored.
    pub authorization: Authorization,
}

/// Everything an export holds and an import loads. Ids (`meta.id`, `client_id`, ...) are
/// ignored on import; references go by extId.
#[derive(Debug, Clone, Default)]
pub struct DataSet {
    /// Clients.
    pub clients: Vec<Client>,
    /// Units; `client_ext_id` and `parent_ext_id` place them. A unit without parent is the
    /// client's root unit when its extId is `<client>-root`, else it goes under that root.
    pub units: Vec<Unit>,
    /// Users.
    pub users: Vec<UserEntry>,
    /// Profiles; `client_ext_id`, `user_ext_id` and `unit_ext_id` place them.
    pub profiles: Vec<Profile>,
    /// Authorizations.
    pub authorizations: Vec<AuthorizationEntry>,
    /// Terms (global); `application_ext_ids` link them.
    pub terms: Vec<Terms>,
    /// Personal questions; `client_ext_id` places them.
    pub personal_questions: Vec<PersonalQuestion>,
}

/// What to do with an entry whose extId already exists with another definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Fail with [`ImportError::Conflict`].
    KeepExisting,
    /// Replace the stored definition with the entry's.
    Override,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries created.
    pub created: usize,
    /// Entries already present with the same definition.
    pub unchanged: usize,
    /// Entries whose stored definition was replaced (`Override`).
    pub replaced: usize,
}

/// The list of a data set an entry belongs to, named as in the fixture format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// `clients`
    Client,
    /// `units`
    Unit,
    /// `users`
    User,
    /// `profiles`
    Profile,
    /// `authorizations`
    Authorization,
    /// `terms`
    Terms,
    /// `personalQuestions`
    PersonalQuestion,
}

impl EntryKind {
    /// The list name in the fixture format.
    pub fn list(self) -> &'static str {
        match self {
            EntryKind::Client => "clients",
            EntryKind::Unit => "units",
            EntryKind::User => "users",
            EntryKind::Profile => "profiles",
            EntryKind::Authorization => "authorizations",
            EntryKind::Terms => "terms",
            EntryKind::PersonalQuestion => "personalQuestions",
        }
    }
}

/// One entry of a data set: `users[2] (extId 'alice')`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef {
    /// Its list.
    pub kind: EntryKind,
    /// Its position in the list, from 0.
    pub index: usize,
    /// Its extId.
    pub ext_id: String,
}

impl std::fmt::Display for EntryRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}[{}] (extId '{}')",
            self.kind.list(),
            self.index,
            self.ext_id
        )
    }
}

/// Why an import stopped. Entries before the failing one stay imported (each is its own
/// write, as through the API); running the import again after a fix continues idempotently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The extId exists with another definition (and the mode is `KeepExisting`).
    #[error("{entry}: conflicts with the stored entry of that extId (differs in {})", .fields.join(", "))]
    Conflict {
        /// The entry.
        entry: EntryRef,
        /// The wire names of the differing fields.
        fields: Vec<&'static str>,
    },
    /// The entry is invalid or references something that does not exist.
    #[error("{entry}: {reason}")]
    Invalid {
        /// The entry.
        entry: EntryRef,
        /// What is wrong, for the operator.
        reason: String,
    },
    /// The database failed.
    #[error(transparent)]
    Failed(#[from] AppError),
}

impl From<RepoError> for ImportError {
    fn from(e: RepoError) -> Self {
        ImportError::Failed(e.into())
    }
}

type ImportResult<T> = Result<T, ImportError>;

/// The wire names of the fields in which two values differ.
macro_rules! differing {
    ($a:expr, $b:expr, { $($($f:ident).+ => $wire:literal),* $(,)? }) => {{
        let mut d: Vec<&'static str> = Vec::new();
        $( if $a.$($f).+ != $b.$($f).+ { d.push($wire); } )*
        d
    }};
}

fn client_diff(a: &Client, b: &Client) -> Vec<&'static str> {
    differing!(a, b, { name => "name", display_name => "displayName", remarks => "remarks" })
}

fn unit_diff(a: &Unit, b: &Unit) -> Vec<&'static str> {
    differing!(a, b, {
        parent_ext_id => "parentExtId", name => "name", location => "location",
        description => "description", state => "state", display_name => "displayName",
        abbreviation => "abbreviation", profileless => "profileless",
        modification_comment => "modificationComment", validity => "validity",
    })
}

fn user_diff(a: &User, b: &User) -> Vec<&'static str> {
    differing!(a, b, {
        login_id => "loginId", state => "userState", language_code => "languageCode",
        is_technical_user => "isTechnicalUser", name => "name", sex => "sex",
        gender => "gender", birth_date => "birthDate", contacts => "contacts",
        address => "address", remarks => "remarks",
        modification_comment => "modificationComment", validity => "validity",
    })
}

fn profile_diff(a: &Profile, b: &Profile) -> Vec<&'static str> {
    differing!(a, b, {
        user_ext_id => "userExtId", unit_ext_id => "unitExtId", name => "name",
        state => "state", is_default_profile => "isDefaultProfile", remarks => "remarks",
        modification_comment => "modificationComment", validity => "validity",
    })
}

fn authorization_diff(a: &Authorization, b: &Authorization) -> Vec<&'static str> {
    differing!(a, b, {
        role_ext_id => "role", client_global => "clientGlobal", unit_global => "unitGlobal",
        app_global => "appGlobal", enterprise_role_global => "enterpriseRoleGlobal",
        validity => "validity",
    })
}

fn terms_diff(a: &Terms, b: &Terms) -> Vec<&'static str> {
    let mut d = differing!(a, b, {
        name => "name", active => "active", silent_acceptance => "silentAcceptance",
        terms_version => "termsVersion", urls => "urls",
    });
    let apps = |t: &Terms| {
        t.application_ext_ids
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
    };
    if apps(a) != apps(b) {
        d.push("applicationExtIds");
    }
    d
}

fn question_diff(a: &PersonalQuestion, b: &PersonalQuestion) -> Vec<&'static str> {
    differing!(a, b, {
        description => "description", state => "state", display_name => "displayName",
        content => "content",
    })
}

/// Collects every page of a keyset-paged port call.
async fn all_pages<T, F, Fut>(mut fetch: F) -> RepoResult<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = RepoResult<Page<T>>>,
{
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = fetch(PageRequest {
            limit: 1000,
            after: after.take(),
        })
        .await?;
        out.extend(page.items);
        match page.next {
            Some(c) => after = Some(c),
            None => return Ok(out),
        }
    }
}

/// The extId of a client's root unit, as client creation names it.
pub fn root_unit_ext_id(client_ext_id: &str) -> String {
    format!("{client_ext_id}-root")
}

/// The outcome of comparing one entry with what is stored.
enum Existing<T> {
    Absent,
    Same,
    Replace(T),
}

/// Per-import state: looked-up clients by extId.
struct Importer<'a> {
    services: &'a Services,
    mode: ImportMode,
    report: ImportReport,
    clients: HashMap<String, Client>,
}

impl Importer<'_> {
    fn compare<T>(
        &mut self,
        entry: &EntryRef,
        stored: Option<T>,
        diff: impl FnOnce(&T) -> Vec<&'static str>,
    ) -> ImportResult<Existing<T>> {
        let Some(stored) = stored else {
            return Ok(Existing::Absent);
        };
        let fields = diff(&stored);
        if fields.is_empty() {
            self.report.unchanged += 1;
            Ok(Existing::Same)
        } else if self.mode == ImportMode::Override {
            self.report.replaced += 1;
            Ok(Existing::Replace(stored))
        } else {
            Err(ImportError::Conflict {
                entry: entry.clone(),
                fields,
            })
        }
    }

    async fn client(&mut self, entry: &EntryRef, ext_id: &str) -> ImportResult<Client> {
        if let Some(c) = self.clients.get(ext_id) {
            return Ok(c.clone());
        }
        match self.services.repo.client_by_ext_id(ext_id).await? {
            Some(c) => {
                self.clients.insert(ext_id.to_owned(), c.clone());
                Ok(c)
            }
            None => Err(invalid(entry, format!("client '{ext_id}' does not exist"))),
        }
    }

    async fn clients(&mut self, set: &DataSet) -> ImportResult<()> {
        let repo = &self.services.repo;
        for (index, client) in set.clients.iter().enumerate() {
            let entry = entry(EntryKind::Client, index, &client.meta.ext_id);
            check_ext_id(&client.meta.ext_id).map_err(|e| invalid_domain(&entry, e))?;
            self.services
                .config
                .identifier_policy
                .check(&client.name)
                .map_err(|e| invalid_domain(&entry, e))?;
            let stored = repo.client_by_ext_id(&client.meta.ext_id).await?;
            match self.compare(&entry, stored, |s| client_diff(client, s))? {
                Existing::Same => {}
                Existing::Replace(stored) => {
                    let mut next = client.clone();
                    next.meta = stored.meta;
                    repo.update_client(&next)
                        .await
                        .map_err(|e| repo_invalid(&entry, e))?;
                }
                Existing::Absent => {
                    let root_id = root_unit_ext_id(&client.meta.ext_id);
                    // The root unit is created with its client; its definition comes from
                    // the data set when it lists one (an export does).
                    let root = set
                        .units
                        .iter()
                        .find(|u| u.meta.ext_id == root_id && u.parent_ext_id.is_none())
                        .cloned()
                        .unwrap_or_else(|| Unit {
                            meta: idm_domain::model::Meta {
                                ext_id: root_id,
                                ..client.meta.clone()
                            },
                            client_id: 0,
                            client_ext_id: client.meta.ext_id.clone(),
                            parent_id: None,
                            parent_ext_id: None,
                            path: String::new(),
                            hierarchical_name: String::new(),
                            name: client.name.clone(),
                            location: None,
                            description: Some(format!("Root unit of client {}", client.name)),
                            state: UnitState::Active,
                            display_name: client.display_name.clone(),
                            abbreviation: Default::default(),
                            profileless: false,
                            modification_comment: None,
                            validity: Default::default(),
                        });
                    repo.create_client(client.clone(), root)
                        .await
                        .map_err(|e| repo_invalid(&entry, e))?;
                    self.report.created += 1;
                }
            }
            self.clients.remove(&client.meta.ext_id);
        }
        Ok(())
    }

    /// Units in an order where every parent comes before its children.
    fn unit_order(set: &DataSet) -> ImportResult<Vec<usize>> {
        let by_ext: HashMap<(&str, &str), usize> = set
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| ((u.client_ext_id.as_str(), u.meta.ext_id.as_str()), i))
            .collect();
        let mut depth = Vec::with_capacity(set.units.len());
        for (i, u) in set.units.iter().enumerate() {
            let mut d = 0usize;
            let mut at = u;
            while let Some(p) = &at.parent_ext_id {
                match by_ext.get(&(u.client_ext_id.as_str(), p.as_str())) {
                    Some(&j) => {
                        d += 1;
                        if d > set.units.len() {
                            return Err(invalid(
                                &entry(EntryKind::Unit, i, &u.meta.ext_id),
                                "its parents form a cycle".into(),
                            ));
                        }
                        at = &set.units[j];
                    }
                    None => break,
                }
            }
            depth.push(d);
        }
        let mut order: Vec<usize> = (0..set.units.len()).collect();
        order.sort_by_key(|&i| depth[i]);
        Ok(order)
    }

    async fn units(&mut self, set: &DataSet) -> ImportResult<()> {
        let repo = self.services.repo.clone();
        for index in Self::unit_order(set)? {
            let mut unit = set.units[index].clone();
            let entry = entry(EntryKind::Unit, index, &unit.meta.ext_id);
            check_ext_id(&unit.meta.ext_id).map_err(|e| invalid_domain(&entry, e))?;
            self.services
                .config
                .identifier_policy
                .check(&unit.name)
                .map_err(|e| invalid_domain(&entry, e))?;
            unit.validity
                .check()
                .map_err(|e| invalid_domain(&entry, e))?;
            let client = self.client(&entry, &unit.client_ext_id).await?;
            let root_id = root_unit_ext_id(&client.meta.ext_id);
            if unit.parent_ext_id.is_none() && unit.meta.ext_id != root_id {
                unit.parent_ext_id = Some(root_id);
            }
            let parent =
                match &unit.parent_ext_id {
                    Some(p) => Some(repo.unit_by_ext_id(client.meta.id, p).await?.ok_or_else(
                        || invalid(&entry, format!("parent unit '{p}' does not exist")),
                    )?),
                    None => None,
                };
            let stored = repo
                .unit_by_ext_id(client.meta.id, &unit.meta.ext_id)
                .await?;
            match self.compare(&entry, stored, |s| unit_diff(&unit, s))? {
                Existing::Same => {}
                Existing::Replace(mut stored) => {
                    if let Some(p) = parent.filter(|p| Some(p.meta.id) != stored.parent_id) {
                        stored = repo
                            .move_unit(stored.meta.id, p.meta.id)
                            .await
                            .map_err(|e| repo_invalid(&entry, e))?;
                    }
                    let next = Unit {
                        meta: stored.meta,
                        client_id: stored.client_id,
                        parent_id: stored.parent_id,
                        path: stored.path,
                        hierarchical_name: stored.hierarchical_name,
                        ..unit
                    };
                    repo.update_unit(&next)
                        .await
                        .map_err(|e| repo_invalid(&entry, e))?;
                }
                Existing::Absent => {
                    let Some(parent) = parent else {
                        return Err(invalid(
                            &entry,
                            "a root unit is created with its client; it cannot be added later"
                                .into(),
                        ));
                    };
                    let next = Unit {
                        client_id: client.meta.id,
                        parent_id: Some(parent.meta.id),
                        ..unit
                    };
                    repo.create_unit(next)
                        .await
                        .map_err(|e| repo_invalid(&entry, e))?;
                    self.report.created += 1;
                }
            }
        }
        Ok(())
    }

    async fn set_password(
        &self,
        entry: &EntryRef,
        user: &User,
        password: &Password,
    ) -> ImportResult<()> {
        let hash = match password {
            Password::Plain(p) => {
                self.services
                    .config
                    .password_policy
                    .check(p)
                    .map_err(|e| invalid_domain(entry, e))?;
                hash_password(p.clone()).await?
            }
            Password::Hash(h) => h.clone(),
        };
        self.services
            .repo
            .set_password_hash(
                user.client_id,
                user.meta.id,
                &format!("{}-password", user.meta.ext_id),
                &hash,
            )
            .await
            .map_err(|e| repo_invalid(entry, e))?;
        Ok(())
    }

    async fn users(&mut self, set: &DataSet) -> ImportResult<()> {
        let repo = self.services.repo.clone();
        for (index, e) in set.users.iter().enumerate() {
            let entry = entry(EntryKind::User, index, &e.user.meta.ext_id);
            check_ext_id(&e.user.meta.ext_id).map_err(|x| invalid_domain(&entry, x))?;
            if e.user.login_id.trim().is_empty() {
                return Err(invalid(&entry, "loginId must not be empty".into()));
            }
            e.user
                .validity
                .check()
                .map_err(|x| invalid_domain(&entry, x))?;
            let client = self.client(&entry, &e.user.client_ext_id).await?;
            let stored = repo
                .user_by_ext_id(client.meta.id, &e.user.meta.ext_id)
                .await?;
            match self.compare(&entry, stored, |s| user_diff(&e.user, s))? {
                Existing::Same => {}
                Existing::Replace(stored) => {
                    let next = User {
                        meta: stored.meta.clone(),
                        client_id: stored.client_id,
                        ..e.user.clone()
                    };
                    let written = repo
                        .update_user(&next, &stored)
                        .await
                        .map_err(|x| repo_invalid(&entry, x))?;
                    if let Some(p) = &e.password {
                        self.set_password(&entry, &written, p).await?;
                    }
                }
                Existing::Absent => {
                    let next = User {
                        client_id: client.meta.id,
                        ..e.user.clone()
                    };
                    let created = repo
                        .create_user(next)
                        .await
                        .map_err(|x| repo_invalid(&entry, x))?;
                    if let Some(p) = &e.password {
                        self.set_password(&entry, &created, p).await?;
                    }
                    self.report.created += 1;
                }
            }
        }
        Ok(())
    }

    async fn profiles(&mut self, set: &DataSet) -> ImportResult<()> {
        let repo = self.services.repo.clone();
        for (index, p) in set.profiles.iter().enumerate() {
            let entry = entry(EntryKind::Profile, index, &p.meta.ext_id);
            check_ext_id(&p.meta.ext_id).map_err(|x| invalid_domain(&entry, x))?;
            p.validity.check().map_err(|x| invalid_domain(&entry, x))?;
            let client = self.client(&entry, &p.client_ext_id).await?;
            let user = repo
                .user_by_ext_id(client.meta.id, &p.user_ext_id)
                .await?
                .ok_or_else(|| {
                    invalid(&entry, format!("user '{}' does not exist", p.user_ext_id))
                })?;
            let unit = repo
                .unit_by_ext_id(client.meta.id, &p.unit_ext_id)
                .await?
                .ok_or_else(|| {
                    invalid(&entry, format!("unit '{}' does not exist", p.unit_ext_id))
                })?;
            if unit.profileless {
                return Err(invalid(
                    &entry,
                    format!("unit '{}' is profileless", p.unit_ext_id),
                ));
            }
            let stored = repo
                .profile_by_ext_id(client.meta.id, &p.meta.ext_id)
                .await?;
            let next = Profile {
                client_id: client.meta.id,
                user_id: user.meta.id,
                user_ext_id: user.meta.ext_id.clone(),
                unit_id: unit.meta.id,
                unit_path: unit.path.clone(),
                ..p.clone()
            };
            match self.compare(&entry, stored, |s| profile_diff(p, s))? {
                Existing::Same => {}
                Existing::Replace(stored) => {
                    if stored.user_id != user.meta.id {
                        return Err(invalid(
                            &entry,
                            "a profile cannot move to another user".into(),
                        ));
                    }
                    let next = Profile {
                        meta: stored.meta,
                        ..next
                    };
                    repo.update_profile(&next)
                        .await
                        .map_err(|x| repo_invalid(&entry, x))?;
                }
                Existing::Absent => {
                    repo.create_profile(next)
                        .await
                        .map_err(|x| repo_invalid(&entry, x))?;
                    self.report.created += 1;
                }
            }
        }
        Ok(())
    }

    async fn authorizations(&mut self, set: &DataSet) -> ImportResult<()> {
        let repo = self.services.repo.clone();
        for (index, a) in set.authorizations.iter().enumerate() {
            let entry = entry(
                EntryKind::Authorization,
                index,
                &a.authorization.meta.ext_id,
            );
            check_ext_id(&a.authorization.meta.ext_id).map_err(|x| invalid_domain(&entry, x))?;
            a.authorization
                .validity
                .check()
                .map_err(|x| invalid_domain(&entry, x))?;
            let client = self.client(&entry, &a.client_ext_id).await?;
            let profile = repo
                .profile_by_ext_id(client.meta.id, &a.profile_ext_id)
                .await?
                .ok_or_else(|| {
                    invalid(
                        &entry,
                        format!("profile '{}' does not exist", a.profile_ext_id),
                    )
                })?;
            let role = match &a.role {
                RoleRef::ExtId(r) => repo.role_by_ext_id(r).await?,
                RoleRef::Name { application, role } => {
                    match repo.application_by_name(application).await? {
                        Some(app) => repo.role_by_name(app.meta.id, role).await?,
                        None => None,
                    }
                }
            }
            .ok_or_else(|| invalid(&entry, format!("role {:?} does not exist", a.role)))?;
            let next = Authorization {
                client_id: client.meta.id,
                profile_id: profile.meta.id,
                role_id: role.meta.id,
                role_ext_id: role.meta.ext_id.clone(),
                ..a.authorization.clone()
            };
            let stored = match repo
                .locate(
                    &Address::client(&client.meta.ext_id)
                        .with_profile(&profile.meta.ext_id)
                        .with_item(ItemKey::Authorization(next.meta.ext_id.clone())),
                )
                .await?
                .item
            {
                Some(Item::Authorization(a)) => Some(a),
                _ => None,
            };
            match self.compare(&entry, stored, |s| authorization_diff(&next, s))? {
                Existing::Same => {}
                Existing::Replace(stored) => {
                    // There is no changeset for an authorization (the API has no PATCH for
                    // it either): replacing is deleting and granting anew.
                    repo.delete_authorization(stored.meta.id)
                        .await
                        .map_err(|x| repo_invalid(&entry, x))?;
                    repo.create_authorization(next)
                        .await
                        .map_err(|x| repo_invalid(&entry, x))?;
                }
                Existing::Absent => {
                    repo.create_authorization(next)
                        .await
                        .map_err(|x| repo_invalid(&entry, x))?;
                    self.report.created += 1;
                }
            }
        }
        Ok(())
    }

    async fn terms(&mut self, set: &DataSet) -> ImportResult<()> {
        let repo = self.services.repo.clone();
        for (index, t) in set.terms.iter().enumerate() {
            let entry = entry(EntryKind::Terms, index, &t.meta.ext_id);
            check_ext_id(&t.meta.ext_id).map_err(|x| invalid_domain(&entry, x))?;
            if t.name.trim().is_empty() || t.terms_version.trim().is_empty() {
                return Err(invalid(
                    &entry,
                    "name and termsVersion must not be empty".into(),
                ));
            }
            let mut app_ids = Vec::new();
            for app in &t.application_ext_ids {
                let found = repo.application_by_ext_id(app).await?.ok_or_else(|| {
                    invalid(&entry, format!("application '{app}' does not exist"))
                })?;
                app_ids.push(found.meta.id);
            }
            let stored = repo.terms_by_ext_id(&t.meta.ext_id).await?;
            match self.compare(&entry, stored, |s| terms_diff(t, s))? {
                Existing::Same => {}
                Existing::Replace(stored) => {
                    let next = Terms {
                        meta: stored.meta,
                        ..t.clone()
                    };
                    repo.update_terms(&next, Some(app_ids))
                        .await
                        .map_err(|x| repo_invalid(&entry, x))?;
                }
                Existing::Absent => {
                    repo.create_terms(t.clone(), app_ids)
                        .await
                        .map_err(|x| repo_invalid(&entry, x))?;
                    self.report.created += 1;
                }
            }
        }
        Ok(())
    }

    async fn personal_questions(&mut self, set: &DataSet) -> ImportResult<()> {
        let repo = self.services.repo.clone();
        for (index, q) in set.personal_questions.iter().enumerate() {
            let entry = entry(EntryKind::PersonalQuestion, index, &q.meta.ext_id);
            check_ext_id(&q.meta.ext_id).map_err(|x| invalid_domain(&entry, x))?;
            let client = self.client(&entry, &q.client_ext_id).await?;
            let stored = match repo
                .locate(
                    &Address::client(&client.meta.ext_id)
                        .with_item(ItemKey::PersonalQuestion(q.meta.ext_id.clone())),
                )
                .await?
                .item
            {
                Some(Item::PersonalQuestion(q)) => Some(q),
                _ => None,
            };
            let next = PersonalQuestion {
                client_id: client.meta.id,
                ..q.clone()
            };
            match self.compare(&entry, stored, |s| question_diff(q, s))? {
                Existing::Same => {}
                Existing::Replace(stored) => {
                    let next = PersonalQuestion {
                        meta: stored.meta,
                        ..next
                    };
                    repo.update_personal_question(&next)
                        .await
                        .map_err(|x| repo_invalid(&entry, x))?;
                }
                Existing::Absent => {
                    repo.create_personal_question(next)
                        .await
                        .map_err(|x| repo_invalid(&entry, x))?;
                    self.report.created += 1;
                }
            }
        }
        Ok(())
    }
}

fn entry(kind: EntryKind, index: usize, ext_id: &str) -> EntryRef {
    EntryRef {
        kind,
        index,
        ext_id: ext_id.to_owned(),
    }
}

fn invalid(entry: &EntryRef, reason: String) -> ImportError {
    ImportError::Invalid {
        entry: entry.clone(),
        reason,
    }
}

fn invalid_domain(entry: &EntryRef, e: DomainError) -> ImportError {
    invalid(entry, e.to_string())
}

/// A refused write of one entry: constraint violations are the entry's fault (a duplicate
/// name or loginId), anything else is the database's.
fn repo_invalid(entry: &EntryRef, e: RepoError) -> ImportError {
    match e {
        RepoError::Conflict { constraint } => {
            invalid(entry, format!("refused by the database ({constraint})"))
        }
        RepoError::StaleVersion => invalid(entry, "changed concurrently; run again".into()),
        other => ImportError::Failed(other.into()),
    }
}

impl Services {
    /// Loads a data set: clients, units (parents first), users (with passwords), profiles,
    /// authorizations, terms, personal questions — in that order, so references resolve.
    ///
    /// # Errors
    /// The first conflicting or invalid entry, or a database failure.
    pub async fn import(
        &self,
        set: &DataSet,
        mode: ImportMode,
    ) -> Result<ImportReport, ImportError> {
        let _write = self.writing();
        let mut importer = Importer {
            services: self,
            mode,
            report: ImportReport::default(),
            clients: HashMap::new(),
        };
        importer.clients(set).await?;
        importer.units(set).await?;
        importer.users(set).await?;
        importer.profiles(set).await?;
        importer.authorizations(set).await?;
        importer.terms(set).await?;
        importer.personal_questions(set).await?;
        Ok(importer.report)
    }

    /// Reads a data set: every client (or only `client_ext_id`) with its units, users,
    /// profiles, authorizations and personal questions, plus all terms. Password hashes only
    /// `with_secrets`.
    ///
    /// # Errors
    /// 404 for an unknown `client_ext_id`; database failures.
    pub async fn export(
        &self,
        client_ext_id: Option<&str>,
        with_secrets: bool,
    ) -> AppResult<DataSet> {
        let repo = &self.repo;
        let clients = match client_ext_id {
            Some(c) => vec![repo.client_by_ext_id(c).await?.ok_or_else(|| {
                AppError::Domain(DomainError::NotFound(format!(
                    "client '{c}' does not exist"
                )))
            })?],
            None => all_pages(|p| repo.list_clients(p)).await?,
        };
        let mut set = DataSet {
            terms: all_pages(|p| repo.list_terms(p)).await?,
            ..DataSet::default()
        };
        for client in &clients {
            // Units breadth-first from the root, so parents precede children in the file.
            let mut frontier: Vec<Unit> = repo
                .unit_by_ext_id(client.meta.id, &root_unit_ext_id(&client.meta.ext_id))
                .await?
                .into_iter()
                .collect();
            while !frontier.is_empty() {
                let mut next = Vec::new();
                for unit in &frontier {
                    let id = unit.meta.id;
                    next.extend(all_pages(|p| repo.list_unit_children(id, p)).await?);
                }
                set.units.append(&mut frontier);
                frontier = next;
            }
            let users =
                all_pages(|p| repo.list_users(client.meta.id, UserFilter::default(), p)).await?;
            for user in users {
                let password = if with_secrets {
                    repo.password_hash(user.meta.id).await?.map(Password::Hash)
                } else {
                    None
                };
                let uid = user.meta.id;
                for profile in all_pages(|p| repo.list_user_profiles(uid, p)).await? {
                    let pid = profile.meta.id;
                    for a in all_pages(|p| repo.list_authorizations(pid, p)).await? {
                        set.authorizations.push(AuthorizationEntry {
                            client_ext_id: client.meta.ext_id.clone(),
                            profile_ext_id: profile.meta.ext_id.clone(),
                            role: RoleRef::ExtId(a.role_ext_id.clone()),
                            authorization: a,
                        });
                    }
                    set.profiles.push(profile);
                }
                set.users.push(UserEntry { user, password });
            }
            let cid = client.meta.id;
            set.personal_questions
                .extend(all_pages(|p| repo.list_personal_questions(cid, p)).await?);
        }
        set.clients = clients;
        Ok(set)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_named_by_its_list_index_and_ext_id() {
        let e = entry(EntryKind::PersonalQuestion, 3, "q1");
        assert_eq!(e.to_string(), "personalQuestions[3] (extId 'q1')");
    }

    #[test]
    fn a_conflict_names_the_differing_fields() {
        let err = ImportError::Conflict {
            entry: entry(EntryKind::User, 0, "alice"),
            fields: vec!["loginId", "remarks"],
        };
        assert_eq!(
            err.to_string(),
            "users[0] (extId 'alice'): conflicts with the stored entry of that extId (differs in loginId, remarks)"
        );
    }

    #[test]
    fn passwords_are_not_printed_by_debug() {
        let p = Password::Plain("secret-Passw0rd".into());
        assert!(!format!("{p:?}").contains("secret"));
    }
}
