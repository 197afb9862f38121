//! Entities of the nevisIDM model, as plain data. Persistence adapters and the web layer convert
//! to and from these explicitly; nothing here knows about rows or JSON bodies.

use chrono::NaiveDateTime;

use crate::values::{
    DispatchTargetState, Language, LanguageMap, PersonalQuestionState, ProfileState, UnitState,
    UserState, Validity,
};

/// Identity and bookkeeping fields every stored entity carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Internal key; never sent to clients.
    pub id: i64,
    /// External id, the only id clients see.
    pub ext_id: String,
    /// Creation time, UTC, millisecond precision.
    pub created: NaiveDateTime,
    /// Last change, UTC, millisecond precision.
    pub last_modified: NaiveDateTime,
    /// Optimistic-locking counter: 1 on create, +1 on every change. Adapters store the value
    /// they are given on insert, so an import (`idm import`) keeps an exported entry's version.
    pub version: i64,
}

impl Meta {
    /// The meta data of an entity created at `at`: version 1, created and last modified then,
    /// no internal key yet (the adapter assigns it on insert).
    pub fn new(ext_id: String, at: NaiveDateTime) -> Self {
        Meta {
            id: 0,
            ext_id,
            created: at,
            last_modified: at,
            version: 1,
        }
    }
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Unique name; passes the identifier policy.
    pub name: String,
    /// Language-dependent display name.
    pub display_name: LanguageMap,
    /// Free text.
    pub remarks: Option<String>,
}

/// A node of a client's organisation tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning client's extId (denormalised for the DTO).
    pub client_ext_id: String,
    /// Parent unit; `None` for a root unit.
    pub parent_id: Option<i64>,
    /// Parent unit's extId.
    pub parent_ext_id: Option<String>,
    /// Id path from the root, `/1/4/9/`; subtree membership is a prefix test.
    pub path: String,
    /// extIds from the root to this unit, joined with `/`.
    pub hierarchical_name: String,
    /// Name, unique under the parent; passes the identifier policy.
    pub name: String,
    /// Physical location.
    pub location: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Lifecycle state.
    pub state: UnitState,
    /// Language-dependent name.
    pub display_name: LanguageMap,
    /// Language-dependent short name.
    pub abbreviation: LanguageMap,
    /// When true, no profile may be assigned to the unit.
    pub profileless: bool,
    /// Comment on the last change.
    pub modification_comment: Option<String>,
    /// Validity period.
    pub validity: Validity,
}

/// Name parts of a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonName {
    /// Title such as `Dr.`.
    pub title: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
}

/// Contact channels of a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contacts {
    /// Phone.
    pub telephone: Option<String>,
    /// Fax.
    pub telefax: Option<String>,
    /// Mobile phone.
    pub mobile: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
}

/// A person or technical account of a client.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning client's extId.
    pub client_ext_id: String,
    /// Login name, unique within the client.
    pub login_id: String,
    /// Lifecycle state.
    pub state: UserState,
    /// Preferred language.
    pub language_code: Option<Language>,
    /// Technical (non-human) account.
    pub is_technical_user: bool,
    /// Name parts.
    pub name: PersonName,
    /// Biological sex (`male`, `female`, `other`).
    pub sex: Option<String>,
    /// Gender (`female`, `male`, `other`).
    pub gender: Option<String>,
    /// Birth date, ISO `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// Contact channels.
    pub contacts: Contacts,
    /// Postal address as a JSON object with the nevisIDM field names.
    pub address: serde_json::Map<String, serde_json::Value>,
    /// Free text.
    pub remarks: Option<String>,
    /// Comment on the last change.
    pub modification_comment: Option<String>,
    /// Validity period.
    pub validity: Validity,
}

/// A user's membership in a unit; carries authorizations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning client's extId.
    pub client_ext_id: String,
    /// Owning user.
    pub user_id: i64,
    /// Owning user's extId.
    pub user_ext_id: String,
    /// Unit the profile belongs to.
    pub unit_id: i64,
    /// That unit's extId.
    pub unit_ext_id: String,
    /// That unit's id path (for datarooms).
    pub unit_path: String,
    /// Name.
    pub name: Option<String>,
    /// Lifecycle state.
    pub state: ProfileState,
    /// The user's default profile.
    pub is_default_profile: bool,
    /// Free text.
    pub remarks: Option<String>,
    /// Comment on the last change.
    pub modification_comment: Option<String>,
    /// Validity period.
    pub validity: Validity,
    /// extId of another profile of the same client acting as this one's deputy.
    pub deputed_profile_ext_id: Option<String>,
}

/// A (global) application; roles belong to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Unique name; passes the identifier policy.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Entry URL.
    pub url: Option<String>,
    /// Shown on portals.
    pub displayed: bool,
    /// Language-dependent display name.
    pub display_name: LanguageMap,
}

/// A role of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning application.
    pub application_id: i64,
    /// Its extId.
    pub application_ext_id: String,
    /// Its name.
    pub application_name: String,
    /// Name, unique within the application.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
}

/// A role granted to a profile, with its dataroom flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning profile.
    pub profile_id: i64,
    /// Granted role.
    pub role_id: i64,
    /// Its extId.
    pub role_ext_id: String,
    /// Rights apply in every client.
    pub client_global: bool,
    /// Rights apply to every unit (of the covered clients).
    pub unit_global: bool,
    /// Rights apply to every application.
    pub app_global: bool,
    /// Rights apply to every enterprise role.
    pub enterprise_role_global: bool,
    /// Validity period.
    pub validity: Validity,
}

/// Terms and conditions (global) with their current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Unique name.
    pub name: String,
    /// Only active terms can be accepted.
    pub active: bool,
    /// Accepted without asking the user.
    pub silent_acceptance: bool,
    /// The current version string; a consent records it.
    pub terms_version: String,
    /// Document URLs keyed by language.
    pub urls: std::collections::BTreeMap<String, String>,
    /// Applications the terms belong to.
    pub application_ext_ids: Vec<String>,
}

/// A user's acceptance of one version of terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Accepting user.
    pub user_id: i64,
    /// Accepted terms' extId.
    pub terms_ext_id: String,
    /// The version accepted.
    pub terms_version: String,
    /// When it was accepted.
    pub acceptance_date: NaiveDateTime,
}

/// A security question of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalQuestion {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning client's extId.
    pub client_ext_id: String,
    /// Free text.
    pub description: Option<String>,
    /// Lifecycle state.
    pub state: PersonalQuestionState,
    /// Language-dependent name.
    pub display_name: LanguageMap,
    /// Language-dependent question text.
    pub content: LanguageMap,
}

/// A channel (e.g. a push token) messages can be sent to; belongs to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchTarget {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning user.
    pub user_id: i64,
    /// Target type; `fido-uaf`.
    pub target_type: String,
    /// Device id.
    pub device_id: String,
    /// Channel target (push token, address).
    pub target: String,
    /// Dispatcher, e.g. `fcmpush`.
    pub dispatcher: Option<String>,
    /// User agent of the registering app.
    pub user_agent: Option<String>,
    /// Encryption key.
    pub encryption_key: Option<String>,
    /// Signing key.
    pub signing_key: String,
    /// App the target belongs to.
    pub app_id: String,
    /// Human-readable device name.
    pub name: String,
    /// Lifecycle state.
    pub state: DispatchTargetState,
}

/// An iOS app attestation linked 1:1 to a dispatch target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAttestation {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning user.
    pub user_id: i64,
    /// The dispatch target it belongs to.
    pub dispatch_target_id: i64,
    /// User-friendly name, unique per user.
    pub name: Option<String>,
    /// Number of validated assertions.
    pub counter: i64,
    /// Attestation receipt.
    pub receipt: String,
    /// Public key.
    pub public_key: String,
    /// Device id.
    pub device_id: String,
    /// `test`, `sandbox`, `production`.
    pub environment: Option<String>,
}

/// A FIDO UAF authenticator registration of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FidoUafCredential {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning user.
    pub user_id: i64,
    /// Linked dispatch target, if any.
    pub dispatch_target_id: Option<i64>,
    /// Its extId.
    pub dispatch_target_ext_id: Option<String>,
    /// Authenticator attestation id.
    pub aaid: String,
    /// Key id; unique together with `aaid`.
    pub key_id: String,
    /// `major.minor`.
    pub authenticator_version: String,
    /// Public key.
    pub public_key: String,
    /// Public key algorithm.
    pub public_key_algorithm: String,
    /// FIDO app id.
    pub app_id: String,
    /// Push-service device id.
    pub device_id: Option<String>,
    /// `active` or `disabled`.
    pub state: String,
}

/// A client's bundle of application roles (never roles of `nevisIdm` itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseRole {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning client's extId.
    pub client_ext_id: String,
    /// Name, unique within the client; passes the identifier policy.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Language-dependent name.
    pub display_name: LanguageMap,
}

/// An enterprise role granted to a profile: the profile reaches every member role of the
/// enterprise role while the validity holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseAuthorization {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning profile.
    pub profile_id: i64,
    /// Granted enterprise role.
    pub enterprise_role_id: i64,
    /// Its extId.
    pub enterprise_role_ext_id: String,
    /// Validity period.
    pub validity: Validity,
}

/// A policy configuration of a client (`core/:c/policies`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    /// Identity and bookkeeping.
    pub meta: Meta,
    /// Owning client.
    pub client_id: i64,
    /// Owning client's extId.
    pub client_ext_id: String,
    /// Name.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// What the policy governs.
    pub policy_type: crate::policy_config::PolicyType,
    /// The default policy of its type within the client (the one applied).
    pub default_policy: bool,
    /// Name → value, validated for the type.
    pub parameters: crate::policy_config::Parameters,
}
