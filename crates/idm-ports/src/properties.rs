//! Custom property definitions and the values stored on users, profiles, units and enterprise
//! roles.

use async_trait::async_trait;
use idm_domain::model::{EnterpriseRole, Profile, Unit, User};
use idm_domain::properties::PropertyDef;

use crate::RepoResult;

/// The entity a property value belongs to (internal id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A user.
    User(i64),
    /// A profile.
    Profile(i64),
    /// A unit.
    Unit(i64),
    /// An enterprise role.
    EnterpriseRole(i64),
}

/// A value as stored: the text (sealed for an encrypted definition) and its derived keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    /// The definition.
    pub property_id: i64,
    /// Plaintext, or the sealed text of an encrypted definition.
    pub value: String,
    /// Hash of the plaintext (keyed for encrypted definitions): the equality look-up key.
    pub value_key: String,
    /// The key the database keeps unique per definition; `None` without a uniqueness scope.
    pub unique_key: Option<String>,
}

/// The value changes of one write, applied in the transaction of the entity's write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueWrites {
    /// Definitions whose value is removed.
    pub remove: Vec<i64>,
    /// Values set (replacing any stored value of the same definition).
    pub set: Vec<StoredValue>,
}

impl ValueWrites {
    /// Whether nothing is removed or set: the entity's write is then its only statement.
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.set.is_empty()
    }
}

/// A stored value of an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedValue {
    /// The definition.
    pub property_id: i64,
    /// Plaintext, or the sealed text of an encrypted definition.
    pub value: String,
}

/// Persistence of property definitions and values.
///
/// The `*_with_properties` writes run the entity's own write and the value writes in one
/// transaction, the entity's versioned update first: two writers of the same entity then
/// serialize on its row (the loser gets `StaleVersion`) before either touches a value.
#[async_trait]
pub trait PropertyRepo {
    /// Stores a new definition.
    ///
    /// # Errors
    /// `Conflict { "unique:...property_definitions..." }` for a name taken in scope and client.
    async fn create_property(&self, def: PropertyDef) -> RepoResult<PropertyDef>;

    /// The definition with this id, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn property_by_id(&self, id: i64) -> RepoResult<Option<PropertyDef>>;

    /// Every definition, by id (there are few; callers filter).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_properties(&self) -> RepoResult<Vec<PropertyDef>>;

    /// Writes every changeable field if the stored version is still `def.version`; with
    /// `drop_values` every value of the definition is deleted in the same transaction (a type
    /// change).
    ///
    /// # Errors
    /// `StaleVersion`; `Conflict` on a duplicate name.
    async fn update_property(
        &self,
        def: &PropertyDef,
        drop_values: bool,
    ) -> RepoResult<PropertyDef>;

    /// The stored values of an entity.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn property_values(&self, owner: Owner) -> RepoResult<Vec<OwnedValue>>;

    /// The stored values of several users at once (a page of a users list), as
    /// `(user id, value)`, in one statement.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn users_property_values(&self, user_ids: &[i64]) -> RepoResult<Vec<(i64, OwnedValue)>>;

    /// Ids of the users holding a value of `property_id` whose `value_key` is `value_key`
    /// (the equality filter of user lists; served by an index).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn users_with_property_value(
        &self,
        property_id: i64,
        value_key: &str,
    ) -> RepoResult<Vec<i64>>;

    /// Creates a user and its values in one transaction.
    ///
    /// # Errors
    /// As `create_user`; `Conflict { "unique:...unique_key..." }` when a value breaks its
    /// uniqueness scope.
    async fn create_user_with_properties(
        &self,
        user: User,
        writes: ValueWrites,
    ) -> RepoResult<User>;

    /// Updates a user (as `update_user`) and its values in one transaction.
    ///
    /// # Errors
    /// As `update_user`; `Conflict { "unique:...unique_key..." }`.
    async fn update_user_with_properties(
        &self,
        user: &User,
        before: &User,
        writes: ValueWrites,
    ) -> RepoResult<User>;

    /// Creates a profile and its values in one transaction.
    ///
    /// # Errors
    /// As `create_profile`; `Conflict { "unique:...unique_key..." }`.
    async fn create_profile_with_properties(
        &self,
        profile: Profile,
        writes: ValueWrites,
    ) -> RepoResult<Profile>;

    /// Updates a profile and its values in one transaction.
    ///
    /// # Errors
    /// As `update_profile`; `Conflict { "unique:...unique_key..." }`.
    async fn update_profile_with_properties(
        &self,
        profile: &Profile,
        writes: ValueWrites,
    ) -> RepoResult<Profile>;

    /// Creates a unit and its values in one transaction.
    ///
    /// # Errors
    /// As `create_unit`; `Conflict { "unique:...unique_key..." }`.
    async fn create_unit_with_properties(
        &self,
        unit: Unit,
        writes: ValueWrites,
    ) -> RepoResult<Unit>;

    /// Updates a unit and its values in one transaction.
    ///
    /// # Errors
    /// As `update_unit`; `Conflict { "unique:...unique_key..." }`.
    async fn update_unit_with_properties(
        &self,
        unit: &Unit,
        writes: ValueWrites,
    ) -> RepoResult<Unit>;

    /// Creates an enterprise role and its values in one transaction.
    ///
    /// # Errors
    /// As `create_erole`; `Conflict { "unique:...unique_key..." }`.
    async fn create_erole_with_properties(
        &self,
        erole: EnterpriseRole,
        writes: ValueWrites,
    ) -> RepoResult<EnterpriseRole>;

    /// Updates an enterprise role (as `update_erole`) and its values in one transaction.
    ///
    /// # Errors
    /// As `update_erole`; `Conflict { "unique:...unique_key..." }`.
    async fn update_erole_with_properties(
        &self,
        erole: &EnterpriseRole,
        writes: ValueWrites,
    ) -> RepoResult<EnterpriseRole>;
}
