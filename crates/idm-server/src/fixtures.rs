//! The data-set file format of `idm serve --fixtures`, `idm export` and `idm import`: JSON or
//! YAML (by extension), camelCase with the field names of the API's DTOs. Entries reference
//! each other by extId; `created`, `lastModified` and `version` are optional (an export writes
//! them with millisecond precision so an import restores them; a hand-written fixture leaves
//! them out and gets "now" and 1).
//!
//! This module only converts between the file and [`DataSet`]; loading goes through
//! `Services::import` (the service layer and its ports), never SQL.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use idm_domain::model::{
    Authorization, Client, Contacts, Meta, PersonName, PersonalQuestion, Profile, Terms, Unit, User,
};
use idm_domain::values::{
    now_millis, parse_lenient_datetime, Language, LanguageMap, PersonalQuestionState, ProfileState,
    UnitState, UserState, Validity,
};
use idm_service::transfer::{
    AuthorizationEntry, DataSet, ImportError, Password, RoleRef, UserEntry,
};
use serde::{Deserialize, Serialize};

/// A data-set file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fixture {
    /// Clients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientFx>,
    /// Units (parents by `parentUnitExtId`; none = under the client's root unit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<UnitFx>,
    /// Users.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserFx>,
    /// Profiles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileFx>,
    /// Authorizations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorizations: Vec<AuthorizationFx>,
    /// Terms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<TermsFx>,
    /// Personal questions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub personal_questions: Vec<PersonalQuestionFx>,
}

/// A client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientFx {
    /// extId.
    pub ext_id: String,
    /// Unique name.
    pub name: String,
    /// Display name by language.
    #[serde(default, skip_serializing_if = "LanguageMap::is_empty")]
    pub display_name: LanguageMap,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Last change (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// A unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnitFx {
    /// Owning client.
    pub client_ext_id: String,
    /// extId.
    pub ext_id: String,
    /// Parent unit; absent = under the client's root unit (or the root unit itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_unit_ext_id: Option<String>,
    /// Name, unique under the parent.
    pub name: String,
    /// Location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// State (default `active`).
    #[serde(default = "active_unit")]
    pub state: UnitState,
    /// Display name by language.
    #[serde(default, skip_serializing_if = "LanguageMap::is_empty")]
    pub display_name: LanguageMap,
    /// Abbreviation by language.
    #[serde(default, skip_serializing_if = "LanguageMap::is_empty")]
    pub abbreviation: LanguageMap,
    /// No profiles may be assigned.
    #[serde(default)]
    pub profileless: bool,
    /// Comment on the last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modification_comment: Option<String>,
    /// Validity.
    #[serde(default, skip_serializing_if = "is_open")]
    pub validity: Validity,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Last change (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// Name parts of a user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NameFx {
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
}

/// Contacts of a user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactsFx {
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// Fax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telefax: Option<String>,
    /// Mobile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// E-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A user, with an optional password (clear text) or password hash (from an export).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserFx {
    /// Owning client.
    pub client_ext_id: String,
    /// extId.
    pub ext_id: String,
    /// Login name.
    pub login_id: String,
    /// State (default `active`).
    #[serde(default = "active_user")]
    pub user_state: UserState,
    /// Preferred language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<Language>,
    /// Technical account.
    #[serde(default)]
    pub is_technical_user: bool,
    /// Name parts.
    #[serde(default, skip_serializing_if = "is_default")]
    pub name: NameFx,
    /// Sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// Gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    /// Contacts.
    #[serde(default, skip_serializing_if = "is_default")]
    pub contacts: ContactsFx,
    /// Address (nevisIDM field names).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub address: serde_json::Map<String, serde_json::Value>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
    /// Comment on the last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modification_comment: Option<String>,
    /// Validity.
    #[serde(default, skip_serializing_if = "is_open")]
    pub validity: Validity,
    /// Clear-text password (checked against the policy, then hashed). Fixtures only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// PHC password hash, stored as it is (`idm export --with-secrets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Last change (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// A profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileFx {
    /// Owning client.
    pub client_ext_id: String,
    /// extId.
    pub ext_id: String,
    /// Owning user.
    pub user_ext_id: String,
    /// Unit.
    pub unit_ext_id: String,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// State (default `active`).
    #[serde(default = "active_profile")]
    pub profile_state: ProfileState,
    /// Default profile of the user.
    #[serde(default)]
    pub is_default_profile: bool,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
    /// Comment on the last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modification_comment: Option<String>,
    /// Validity.
    #[serde(default, skip_serializing_if = "is_open")]
    pub validity: Validity,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Last change (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// An authorization: a role (by `roleExtId`, or by `applicationName` + `roleName`) on a
/// profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizationFx {
    /// Client of the profile.
    pub client_ext_id: String,
    /// The profile.
    pub profile_ext_id: String,
    /// extId.
    pub ext_id: String,
    /// Role extId (e.g. `nevisIdm.Root`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_ext_id: Option<String>,
    /// Application name (with `roleName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// Role name (with `applicationName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    /// Rights apply in every client.
    #[serde(default)]
    pub client_global: bool,
    /// Rights apply to every unit.
    #[serde(default)]
    pub unit_global: bool,
    /// Rights apply to every application.
    #[serde(default)]
    pub app_global: bool,
    /// Rights apply to every enterprise role.
    #[serde(default)]
    pub enterprise_role_global: bool,
    /// Validity.
    #[serde(default, skip_serializing_if = "is_open")]
    pub validity: Validity,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Last change (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// Terms and conditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TermsFx {
    /// extId.
    pub ext_id: String,
    /// Unique name.
    pub name: String,
    /// Can be accepted (default true).
    #[serde(default = "yes")]
    pub active: bool,
    /// Accepted without asking.
    #[serde(default)]
    pub silent_acceptance: bool,
    /// Current version.
    pub terms_version: String,
    /// Document URLs by language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub urls: BTreeMap<String, String>,
    /// Applications (by extId).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub application_ext_ids: Vec<String>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Last change (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// A personal question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersonalQuestionFx {
    /// Owning client.
    pub client_ext_id: String,
    /// extId.
    pub ext_id: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// State (default `active`).
    #[serde(default = "active_question")]
    pub state_name: PersonalQuestionState,
    /// Display name by language.
    #[serde(default, skip_serializing_if = "LanguageMap::is_empty")]
    pub display_name: LanguageMap,
    /// Question text by language.
    #[serde(default, skip_serializing_if = "LanguageMap::is_empty")]
    pub content: LanguageMap,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Last change (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

fn active_unit() -> UnitState {
    UnitState::Active
}
fn active_user() -> UserState {
    UserState::Active
}
fn active_profile() -> ProfileState {
    ProfileState::Active
}
fn active_question() -> PersonalQuestionState {
    PersonalQuestionState::Active
}
fn yes() -> bool {
    true
}
fn is_open(v: &Validity) -> bool {
    *v == Validity::default()
}
fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// A fixture file that cannot be used: unreadable, unparsable, or an entry that is invalid or
/// conflicts with the database. The binary exits with code 2 on it.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct FixtureError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong, naming the entry where there is one.
    pub reason: String,
}

impl FixtureError {
    fn new(file: &Path, reason: impl Into<String>) -> Self {
        FixtureError {
            file: file.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// The error of importing `file`, or `None` when the database (not the file) failed.
    pub fn of_import(file: &Path, e: &ImportError) -> Option<Self> {
        match e {
            ImportError::Conflict { .. } | ImportError::Invalid { .. } => {
                Some(FixtureError::new(file, e.to_string()))
            }
            ImportError::Failed(_) => None,
        }
    }
}

/// The file format, from the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`
    Json,
    /// `.yaml` / `.yml`
    Yaml,
}

impl Format {
    /// The format of `path`.
    ///
    /// # Errors
    /// Any other extension.
    pub fn of(path: &Path) -> Result<Format, FixtureError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Ok(Format::Json),
            Some("yaml" | "yml") => Ok(Format::Yaml),
            _ => Err(FixtureError::new(
                path,
                "unknown format: the file name must end in .json, .yaml or .yml",
            )),
        }
    }
}

/// Reads and converts a fixture file.
///
/// # Errors
/// Unreadable file, unknown extension, a syntax error or unknown field (with its position),
/// a bad timestamp or role reference (naming the entry).
pub fn read(path: &Path) -> Result<DataSet, FixtureError> {
    let format = Format::of(path)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| FixtureError::new(path, format!("cannot read: {e}")))?;
    let fixture: Fixture = match format {
        Format::Json => {
            serde_json::from_str(&text).map_err(|e| FixtureError::new(path, e.to_string()))?
        }
        Format::Yaml => {
            serde_yaml::from_str(&text).map_err(|e| FixtureError::new(path, e.to_string()))?
        }
    };
    fixture
        .into_data_set()
        .map_err(|reason| FixtureError::new(path, reason))
}

/// Renders a fixture as text of `format`.
///
/// # Errors
/// Serialization failure (not expected for these types).
pub fn render(fixture: &Fixture, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(fixture)? + "\n",
        Format::Yaml => serde_yaml::to_string(fixture)?,
    })
}

/// Timestamps of an export: RFC 3339 with milliseconds, because stored times are millisecond
/// precise and keyset pages order by them.
fn stamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn meta(
    list: &str,
    index: usize,
    ext_id: &str,
    created: Option<&str>,
    last_modified: Option<&str>,
    version: Option<i64>,
) -> Result<Meta, String> {
    let at = |field: &str, v: Option<&str>| -> Result<Option<NaiveDateTime>, String> {
        v.map(|text| {
            parse_lenient_datetime(text)
                .map(|t| {
                    use chrono::SubsecRound;
                    t.naive_utc().trunc_subsecs(3)
                })
                .ok_or_else(|| {
                    format!("{list}[{index}] (extId '{ext_id}'): {field} is not an RFC 3339 time: {text:?}")
                })
        })
        .transpose()
    };
    let now = now_millis();
    let created = at("created", created)?.unwrap_or(now);
    let last_modified = at("lastModified", last_modified)?.unwrap_or(created.max(now));
    let version = version.unwrap_or(1);
    if version < 1 {
        return Err(format!(
            "{list}[{index}] (extId '{ext_id}'): version must be at least 1"
        ));
    }
    Ok(Meta {
        id: 0,
        ext_id: ext_id.to_owned(),
        created,
        last_modified,
        version,
    })
}

impl Fixture {
    /// Converts to the service layer's data set.
    ///
    /// # Errors
    /// A bad timestamp or version, a role named both or neither way, or a user with both a
    /// password and a hash — each naming the entry.
    pub fn into_data_set(self) -> Result<DataSet, String> {
        let mut set = DataSet::default();
        for (i, c) in self.clients.into_iter().enumerate() {
            set.clients.push(Client {
                meta: meta(
                    "clients",
                    i,
                    &c.ext_id,
                    c.created.as_deref(),
                    c.last_modified.as_deref(),
                    c.version,
                )?,
                name: c.name,
                display_name: c.display_name,
                remarks: c.remarks,
            });
        }
        for (i, u) in self.units.into_iter().enumerate() {
            set.units.push(Unit {
                meta: meta(
                    "units",
                    i,
                    &u.ext_id,
                    u.created.as_deref(),
                    u.last_modified.as_deref(),
                    u.version,
                )?,
                client_id: 0,
                client_ext_id: u.client_ext_id,
                parent_id: None,
                parent_ext_id: u.parent_unit_ext_id,
                path: String::new(),
                hierarchical_name: String::new(),
                name: u.name,
                location: u.location,
                description: u.description,
                state: u.state,
                display_name: u.display_name,
                abbreviation: u.abbreviation,
                profileless: u.profileless,
                modification_comment: u.modification_comment,
                validity: u.validity,
            });
        }
        for (i, u) in self.users.into_iter().enumerate() {
            let password = match (u.password, u.password_hash) {
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "users[{i}] (extId '{}'): give password or passwordHash, not both",
                        u.ext_id
                    ))
                }
                (Some(p), None) => Some(Password::Plain(p)),
                (None, Some(h)) => Some(Password::Hash(h)),
                (None, None) => None,
            };
            set.users.push(UserEntry {
                user: User {
                    meta: meta(
                        "users",
                        i,
                        &u.ext_id,
                        u.created.as_deref(),
                        u.last_modified.as_deref(),
                        u.version,
                    )?,
                    client_id: 0,
                    client_ext_id: u.client_ext_id,
                    login_id: u.login_id,
                    state: u.user_state,
                    language_code: u.language_code,
                    is_technical_user: u.is_technical_user,
                    name: PersonName {
                        title: u.name.title,
                        first_name: u.name.first_name,
                        family_name: u.name.family_name,
                    },
                    sex: u.sex,
                    gender: u.gender,
                    birth_date: u.birth_date,
                    contacts: Contacts {
                        telephone: u.contacts.telephone,
                        telefax: u.contacts.telefax,
                        mobile: u.contacts.mobile,
                        email: u.contacts.email,
                    },
                    address: u.address,
                    remarks: u.remarks,
                    modification_comment: u.modification_comment,
                    validity: u.validity,
                },
                password,
            });
        }
        for (i, p) in self.profiles.into_iter().enumerate() {
            set.profiles.push(Profile {
                meta: meta(
                    "profiles",
                    i,
                    &p.ext_id,
                    p.created.as_deref(),
                    p.last_modified.as_deref(),
                    p.version,
                )?,
                client_id: 0,
                client_ext_id: p.client_ext_id,
                user_id: 0,
                user_ext_id: p.user_ext_id,
                unit_id: 0,
                unit_ext_id: p.unit_ext_id,
                unit_path: String::new(),
                name: p.name,
                state: p.profile_state,
                is_default_profile: p.is_default_profile,
                remarks: p.remarks,
                modification_comment: p.modification_comment,
                validity: p.validity,
                deputed_profile_ext_id: None,
            });
        }
        for (i, a) in self.authorizations.into_iter().enumerate() {
            let role = match (a.role_ext_id, a.application_name, a.role_name) {
                (Some(r), None, None) => RoleRef::ExtId(r),
                (None, Some(application), Some(role)) => RoleRef::Name { application, role },
                _ => {
                    return Err(format!(
                        "authorizations[{i}] (extId '{}'): name the role by roleExtId, or by applicationName and roleName",
                        a.ext_id
                    ))
                }
            };
            set.authorizations.push(AuthorizationEntry {
                client_ext_id: a.client_ext_id,
                profile_ext_id: a.profile_ext_id,
                role,
                authorization: Authorization {
                    meta: meta(
                        "authorizations",
                        i,
                        &a.ext_id,
                        a.created.as_deref(),
                        a.last_modified.as_deref(),
                        a.version,
                    )?,
                    client_id: 0,
                    profile_id: 0,
                    role_id: 0,
                    role_ext_id: String::new(),
                    client_global: a.client_global,
                    unit_global: a.unit_global,
                    app_global: a.app_global,
                    enterprise_role_global: a.enterprise_role_global,
                    validity: a.validity,
                },
            });
        }
        for (i, t) in self.terms.into_iter().enumerate() {
            set.terms.push(Terms {
                meta: meta(
                    "terms",
                    i,
                    &t.ext_id,
                    t.created.as_deref(),
                    t.last_modified.as_deref(),
                    t.version,
                )?,
                name: t.name,
                active: t.active,
                silent_acceptance: t.silent_acceptance,
                terms_version: t.terms_version,
                urls: t.urls,
                application_ext_ids: t.application_ext_ids,
            });
        }
        for (i, q) in self.personal_questions.into_iter().enumerate() {
            set.personal_questions.push(PersonalQuestion {
                meta: meta(
                    "personalQuestions",
                    i,
                    &q.ext_id,
                    q.created.as_deref(),
                    q.last_modified.as_deref(),
                    q.version,
                )?,
                client_id: 0,
                client_ext_id: q.client_ext_id,
                description: q.description,
                state: q.state_name,
                display_name: q.display_name,
                content: q.content,
            });
        }
        Ok(set)
    }

    /// Converts an exported data set, with its bookkeeping fields. Authorizations name their
    /// role by extId.
    pub fn from_data_set(set: DataSet) -> Fixture {
        Fixture {
            clients: set
                .clients
                .into_iter()
                .map(|c| {
                    let (created, last_modified, version) = book(&c.meta);
                    ClientFx {
                        ext_id: c.meta.ext_id,
                        name: c.name,
                        display_name: c.display_name,
                        remarks: c.remarks,
                        created,
                        last_modified,
                        version,
                    }
                })
                .collect(),
            units: set
                .units
                .into_iter()
                .map(|u| {
                    let (created, last_modified, version) = book(&u.meta);
                    UnitFx {
                        client_ext_id: u.client_ext_id,
                        ext_id: u.meta.ext_id,
                        parent_unit_ext_id: u.parent_ext_id,
                        name: u.name,
                        location: u.location,
                        description: u.description,
                        state: u.state,
                        display_name: u.display_name,
                        abbreviation: u.abbreviation,
                        profileless: u.profileless,
                        modification_comment: u.modification_comment,
                        validity: u.validity,
                        created,
                        last_modified,
                        version,
                    }
                })
                .collect(),
            users: set
                .users
                .into_iter()
                .map(|e| {
                    let u = e.user;
                    let (created, last_modified, version) = book(&u.meta);
                    UserFx {
                        client_ext_id: u.client_ext_id,
                        ext_id: u.meta.ext_id,
                        login_id: u.login_id,
                        user_state: u.state,
                        language_code: u.language_code,
                        is_technical_user: u.is_technical_user,
                        name: NameFx {
                            title: u.name.title,
                            first_name: u.name.first_name,
                            family_name: u.name.family_name,
                        },
                        sex: u.sex,
                        gender: u.gender,
                        birth_date: u.birth_date,
                        contacts: ContactsFx {
                            telephone: u.contacts.telephone,
                            telefax: u.contacts.telefax,
                            mobile: u.contacts.mobile,
                            email: u.contacts.email,
                        },
                        address: u.address,
                        remarks: u.remarks,
                        modification_comment: u.modification_comment,
                        validity: u.validity,
                        password: None,
                        password_hash: match e.password {
                            Some(Password::Hash(h)) => Some(h),
                            // An export never holds a clear-text password.
                            Some(Password::Plain(_)) | None => None,
                        },
                        created,
                        last_modified,
                        version,
                    }
                })
                .collect(),
            profiles: set
                .profiles
                .into_iter()
                .map(|p| {
                    let (created, last_modified, version) = book(&p.meta);
                    ProfileFx {
                        client_ext_id: p.client_ext_id,
                        ext_id: p.meta.ext_id,
                        user_ext_id: p.user_ext_id,
                        unit_ext_id: p.unit_ext_id,
                        name: p.name,
                        profile_state: p.state,
                        is_default_profile: p.is_default_profile,
                        remarks: p.remarks,
                        modification_comment: p.modification_comment,
                        validity: p.validity,
                        created,
                        last_modified,
                        version,
                    }
                })
                .collect(),
            authorizations: set
                .authorizations
                .into_iter()
                .map(|e| {
                    let a = e.authorization;
                    let (created, last_modified, version) = book(&a.meta);
                    let (role_ext_id, application_name, role_name) = match e.role {
                        RoleRef::ExtId(r) => (Some(r), None, None),
                        RoleRef::Name { application, role } => {
                            (None, Some(application), Some(role))
                        }
                    };
                    AuthorizationFx {
                        client_ext_id: e.client_ext_id,
                        profile_ext_id: e.profile_ext_id,
                        ext_id: a.meta.ext_id,
                        role_ext_id,
                        application_name,
                        role_name,
                        client_global: a.client_global,
                        unit_global: a.unit_global,
                        app_global: a.app_global,
                        enterprise_role_global: a.enterprise_role_global,
                        validity: a.validity,
                        created,
                        last_modified,
                        version,
                    }
                })
                .collect(),
            terms: set
                .terms
                .into_iter()
                .map(|t| {
                    let (created, last_modified, version) = book(&t.meta);
                    TermsFx {
                        ext_id: t.meta.ext_id,
                        name: t.name,
                        active: t.active,
                        silent_acceptance: t.silent_acceptance,
                        terms_version: t.terms_version,
                        urls: t.urls,
                        application_ext_ids: t.application_ext_ids,
                        created,
                        last_modified,
                        version,
                    }
                })
                .collect(),
            personal_questions: set
                .personal_questions
                .into_iter()
                .map(|q| {
                    let (created, last_modified, version) = book(&q.meta);
                    PersonalQuestionFx {
                        client_ext_id: q.client_ext_id,
                        ext_id: q.meta.ext_id,
                        description: q.description,
                        state_name: q.state,
                        display_name: q.display_name,
                        content: q.content,
                        created,
                        last_modified,
                        version,
                    }
                })
                .collect(),
        }
    }
}

/// `created`, `lastModified`, `version` of an exported entry.
fn book(meta: &Meta) -> (Option<String>, Option<String>, Option<i64>) {
    (
        Some(stamp(meta.created)),
        Some(stamp(meta.last_modified)),
        Some(meta.version),
    )
}
