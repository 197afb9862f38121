//! Locating everything a URL addresses in one port call.
//!
//! A use case describes its URL as an [`Address`] (client, and as the route needs: user,
//! profile, unit, a second unit, one item) and gets back a [`Located`] value in which every
//! part that does not exist is `None`. The service answers nevisIDM's 404s in order from it and
//! applies the dataroom check with the unit paths it carries — no use case walks its URL with a
//! chain of look-ups.

use async_trait::async_trait;
use idm_domain::model::{
    AppAttestation, Authorization, Client, DispatchTarget, FidoUafCredential, PersonalQuestion,
    Profile, Unit, User,
};
use idm_domain::policy_config::Parameters;

use crate::properties::OwnedValue;
use crate::RepoResult;

/// The item a URL addresses below its user, profile or client, by extId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKey {
    /// A dispatch target of the addressed user (located with its app attestation).
    DispatchTarget(String),
    /// The app attestation of the user's dispatch target with this extId: located as
    /// [`Item::DispatchTarget`]; the attestation part is `None` when the target has none.
    AppAttestation(String),
    /// A FIDO UAF credential of the addressed user.
    FidoUaf(String),
    /// A personal question of the addressed client.
    PersonalQuestion(String),
    /// An authorization of the addressed profile.
    Authorization(String),
}

impl ItemKey {
    /// The extId the URL names.
    pub fn ext_id(&self) -> &str {
        match self {
            ItemKey::DispatchTarget(e)
            | ItemKey::AppAttestation(e)
            | ItemKey::FidoUaf(e)
            | ItemKey::PersonalQuestion(e)
            | ItemKey::Authorization(e) => e,
        }
    }
}

/// What a URL addresses, by extIds. Built with [`Address::client`] and the `with_*` methods.
///
/// The adapter supports these shapes: the client alone or with a unit, a personal question or
/// a user; a user with a dispatch target, app attestation or FIDO UAF credential; a profile
/// alone or with an authorization; any of them with a second unit (`other_unit`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// The client's extId (every address has one).
    pub client: String,
    /// A user of the client.
    pub user: Option<String>,
    /// A profile of the client.
    pub profile: Option<String>,
    /// A unit of the client.
    pub unit: Option<String>,
    /// A second unit of the client (a move's new parent, a profile's new unit).
    pub other_unit: Option<String>,
    /// The item below the user, profile or client.
    pub item: Option<ItemKey>,
    /// Whether to locate the parameters of the client's `ClientPolicy` too (a user write
    /// checks the user against them): in the same statement where the shape allows.
    pub client_policy: bool,
    /// Whether to locate the addressed user's property values too (a user patch answers
    /// with them): in the same statement where the shape allows.
    pub user_property_values: bool,
    /// Whether to locate if any property definition is mandatory (a create without values
    /// needs the definitions only then): in the same statement where the shape allows.
    pub mandatory_properties: bool,
}

impl Address {
    /// An address of the client with this extId.
    pub fn client(ext_id: &str) -> Self {
        Address {
            client: ext_id.to_owned(),
            ..Address::default()
        }
    }

    /// The same address, with a user.
    pub fn with_user(mut self, ext_id: &str) -> Self {
        self.user = Some(ext_id.to_owned());
        self
    }

    /// The same address, with a profile.
    pub fn with_profile(mut self, ext_id: &str) -> Self {
        self.profile = Some(ext_id.to_owned());
        self
    }

    /// The same address, with a unit.
    pub fn with_unit(mut self, ext_id: &str) -> Self {
        self.unit = Some(ext_id.to_owned());
        self
    }

    /// The same address, with a second unit.
    pub fn with_other_unit(mut self, ext_id: &str) -> Self {
        self.other_unit = Some(ext_id.to_owned());
        self
    }

    /// The same address, with an item.
    pub fn with_item(mut self, item: ItemKey) -> Self {
        self.item = Some(item);
        self
    }

    /// The same address, asking for the client's `ClientPolicy` parameters too.
    pub fn with_client_policy(mut self) -> Self {
        self.client_policy = true;
        self
    }

    /// The same address, asking for the addressed user's property values too.
    pub fn with_user_property_values(mut self) -> Self {
        self.user_property_values = true;
        self
    }

    /// The same address, asking whether any property definition is mandatory.
    pub fn with_mandatory_properties(mut self) -> Self {
        self.mandatory_properties = true;
        self
    }
}

/// A located item (see [`ItemKey`]).
// One value per request, built once and moved: boxing the large variant would only add an
// allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A dispatch target with its app attestation, if it has one.
    DispatchTarget(DispatchTarget, Option<AppAttestation>),
    /// A FIDO UAF credential.
    FidoUaf(FidoUafCredential),
    /// A personal question.
    PersonalQuestion(PersonalQuestion),
    /// An authorization.
    Authorization(Authorization),
}

/// What exists of an [`Address`]. A part is `None` when it does not exist or when a part it
/// hangs from does not (no user without its client, no item without its user or profile).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Located {
    /// The client.
    pub client: Option<Client>,
    /// The user.
    pub user: Option<User>,
    /// Id-paths of the units of the user's profiles (the user's datarooms); empty without a
    /// user or when it has no profile.
    pub user_unit_paths: Vec<String>,
    /// The profile.
    pub profile: Option<Profile>,
    /// The unit the profile hangs in.
    pub profile_unit: Option<Unit>,
    /// The unit.
    pub unit: Option<Unit>,
    /// The second unit.
    pub other_unit: Option<Unit>,
    /// The item.
    pub item: Option<Item>,
    /// The parameters of the client's `ClientPolicy` when the address asked for them
    /// ([`Address::with_client_policy`]) and the client exists: `Some(None)` when the client
    /// has no such policy.
    pub client_policy: Option<Option<Parameters>>,
    /// The user's property values, ordered by definition id, when the address asked for them
    /// ([`Address::with_user_property_values`]) and the user exists.
    pub user_property_values: Option<Vec<OwnedValue>>,
    /// Whether any property definition (of any scope or client) is mandatory, when the
    /// address asked ([`Address::with_mandatory_properties`]) and the client exists.
    pub mandatory_properties: Option<bool>,
}

/// Resolves addresses.
#[async_trait]
pub trait Locator {
    /// Everything `address` names, looked up in one blocking task on one connection, in one
    /// statement for every shape except those with a second unit (one more statement).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure; `Other` for an address shape the adapter
    /// does not support (a programming error, never a client's).
    async fn locate(&self, address: &Address) -> RepoResult<Located>;
}
