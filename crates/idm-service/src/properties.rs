//! Custom properties: definition use cases, and the value reads and writes the user, profile,
//! unit and enterprise-role use cases delegate to.
//!
//! Values of encrypted definitions are sealed with [`Sealer`] (context: definition and owner,
//! so a sealed value copied into another row does not open) and are never logged. Every value
//! also gets a `value_key` — SHA-256 of the plaintext, or for encrypted definitions
//! HMAC-SHA256 under a key derived from `properties.encryption_key` — which serves equality
//! look-ups and, prefixed by the unit for `RELATIVE_UNIT`, the database's unique index.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use idm_domain::access::{Caller, Requirement, Target};
use idm_domain::properties::{
    check_values, AllowedValue, PropertyAccess, PropertyDef, PropertyScope, PropertyType,
    UniquenessScope, WriteMode,
};
use idm_domain::rights::Right;
use idm_domain::values::now_millis;
use idm_domain::{DomainError, ErrorCode};
use idm_ports::locate::Address;
use idm_ports::properties::{Owner, StoredValue, ValueWrites};
use idm_ports::query::ListQuery;
use idm_ports::RepoError;
use sha2::Sha256;

use crate::admit::Gate;
use crate::sealing::Sealer;
use crate::{AppError, AppResult, Services};

const DEF_CREATE: Requirement = Requirement::all(&[&[Right::PropertyCreate]]);
const DEF_VIEW: Requirement = Requirement::all(&[&[Right::PropertyView]]);
const DEF_MODIFY: Requirement = Requirement::all(&[&[Right::PropertyModify]]);
const VALUE_VIEW: Requirement = Requirement::all(&[&[Right::PropertyValueView]]);
const VALUE_CREATE: Requirement = Requirement::all(&[&[Right::PropertyValueCreate]]);
const VALUE_MODIFY: Requirement = Requirement::all(&[&[Right::PropertyValueModify]]);
const VALUE_DELETE: Requirement = Requirement::all(&[&[Right::PropertyValueDelete]]);

/// A flat map of property values, name → value, as clients read them.
pub type PropertyMap = BTreeMap<String, String>;

/// Values a client sent: name → value; `None` or `""` removes the value.
pub type PropertyPatch = BTreeMap<String, Option<String>>;

/// Where the values of a read come from.
enum Read {
    /// A statement of their own.
    Owner(Owner),
    /// The look-up of the entity, which read them already.
    Located(Vec<idm_ports::properties::OwnedValue>),
}

/// An entity with the property values its reader may see (`None`: none visible, the
/// `properties` field is left out).
#[derive(Debug, Clone, PartialEq)]
pub struct WithProperties<T> {
    /// The entity.
    pub entity: T,
    /// Its property values, when the caller may read them.
    pub properties: Option<PropertyMap>,
}

/// `properties.encryption_key` as configured (base64 of 32 bytes). `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct PropertyKey(pub String);

impl std::fmt::Debug for PropertyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PropertyKey(..)")
    }
}

/// The sealer and the hash key derived from one configured key.
struct Keys {
    sealer: Sealer,
    /// HMAC key of value keys: derived, so the AEAD key itself is used for one purpose only.
    index: Vec<u8>,
}

/// Property configuration and the definition cache, shared by all clones of [`Services`].
pub(crate) struct PropertyState {
    keys: Option<Keys>,
    ttl: Duration,
    cache: Mutex<Option<(Instant, Arc<Vec<PropertyDef>>)>>,
}

impl PropertyState {
    /// From the configured key and the cache lifetime (the caller-cache TTL: a definition
    /// created on another instance becomes visible to reads here as late as a rights change
    /// does).
    ///
    /// # Errors
    /// A key that is not base64 of 32 bytes.
    pub(crate) fn new(key: Option<&PropertyKey>, ttl_ms: u64) -> AppResult<Self> {
        let keys = match key {
            None => None,
            Some(k) => {
                let sealer = Sealer::from_base64(&k.0)
                    .map_err(|e| AppError::Internal(format!("properties.encryption_key: {e}")))?;
                let raw = STANDARD
                    .decode(k.0.trim())
                    .map_err(|_| AppError::Internal("properties.encryption_key".into()))?;
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&raw)
                    .map_err(|_| AppError::Internal("properties.encryption_key".into()))?;
                mac.update(b"idm property value index");
                Some(Keys {
                    sealer,
                    index: mac.finalize().into_bytes().to_vec(),
                })
            }
        };
        Ok(PropertyState {
            keys,
            ttl: Duration::from_millis(ttl_ms),
            cache: Mutex::new(None),
        })
    }
}

/// Definition fields a client sends on create or patch (`None` = not sent).
#[derive(Debug, Clone, Default)]
pub struct PropertyInput {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// STRING or ENUM.
    pub property_type: Option<PropertyType>,
    /// Scope.
    pub scope: Option<PropertyScope>,
    /// Owning client's extId (create only).
    pub client_ext_id: Option<String>,
    /// Encrypted values.
    pub encrypted: Option<bool>,
    /// Propagated.
    pub propagated: Option<bool>,
    /// Mandatory on create.
    pub mandatory_on_gui: Option<bool>,
    /// Maximum length; `Some(None)` clears it.
    pub string_max_len: Option<Option<i32>>,
    /// Regex; `Some(None)` clears it.
    pub string_regex: Option<Option<String>>,
    /// Access on create.
    pub access_create: Option<PropertyAccess>,
    /// Access on modify.
    pub access_modify: Option<PropertyAccess>,
    /// Uniqueness; `Some(None)` clears it.
    pub uniqueness_scope: Option<Option<UniquenessScope>>,
    /// GUI order.
    pub gui_precedence: Option<Option<i32>>,
    /// Allowed values: `(allowedValueId if existing, value)`.
    pub allowed_values: Option<Vec<(Option<i64>, String)>>,
    /// The version the client read (patch only).
    pub version: Option<i64>,
}

/// Filters of `GET core/properties`.
#[derive(Debug, Clone, Default)]
pub struct PropertySearch {
    /// Exact scope.
    pub scope: Option<PropertyScope>,
    /// Exact type.
    pub property_type: Option<PropertyType>,
    /// Definitions of this client plus the global ones.
    pub client_ext_id: Option<String>,
    /// Case-insensitive part of the name.
    pub name: Option<String>,
}

fn def_not_found(id: i64) -> AppError {
    DomainError::NotFound(format!("Property doesn't exist with propertyId '{id}'")).into()
}

fn duplicate_name(name: &str) -> AppError {
    DomainError::unprocessable(
        ErrorCode::DuplicateName,
        format!("A property with name '{name}' already exists in this scope."),
    )
    .into()
}

fn no_key() -> AppError {
    DomainError::unprocessable(
        ErrorCode::InvalidConfig,
        "Encrypted properties need the server setting properties.encryption_key.",
    )
    .into()
}

/// The one place a violated value index becomes the client's error.
pub(crate) fn uniqueness_violated(e: RepoError) -> AppError {
    if e.is_unique_on("unique_key") {
        DomainError::unprocessable(
            ErrorCode::PropertyUniquenessViolated,
            "The value of a unique property is already in use.",
        )
        .into()
    } else {
        e.into()
    }
}

/// New allowed values get ids after the highest id ever kept, so an id is never reused.
fn merge_allowed(
    old: &[AllowedValue],
    sent: Vec<(Option<i64>, String)>,
) -> AppResult<Vec<AllowedValue>> {
    let mut next = old.iter().map(|a| a.id).max().unwrap_or(0);
    let mut out = Vec::with_capacity(sent.len());
    for (id, value) in sent {
        let id = match id {
            Some(id) if old.iter().any(|a| a.id == id) => id,
            Some(_) => return Err(DomainError::invalid_fields(&["allowedValues"]).into()),
            None => {
                next += 1;
                next
            }
        };
        out.push(AllowedValue { id, value });
    }
    let mut values: Vec<&str> = out.iter().map(|a| a.value.as_str()).collect();
    values.sort_unstable();
    if values.windows(2).any(|w| w[0] == w[1]) {
        return Err(DomainError::invalid_fields(&["allowedValues"]).into());
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The unit a `RELATIVE_UNIT` value of a user is unique in: the lowest unit id among the
/// units of the user's profiles (`/1/4/9/` → 9), `none` for a user without a profile.
pub(crate) fn unit_of_paths(paths: &[String]) -> String {
    paths
        .iter()
        .filter_map(|p| {
            p.trim_end_matches('/')
                .rsplit('/')
                .next()?
                .parse::<i64>()
                .ok()
        })
        .min()
        .map_or_else(|| "none".to_owned(), |id| id.to_string())
}

/// Which entity values are written for, with what the keys and seals bind to.
pub(crate) struct Subject<'a> {
    pub scope: PropertyScope,
    pub client_id: i64,
    /// `user`, `profile`, `unit` or `erole` plus the entity's extId: the sealing context.
    pub kind: &'static str,
    pub ext_id: &'a str,
    /// The unit `RELATIVE_UNIT` uniqueness is relative to.
    pub unit_key: String,
}

impl Services {
    /// Every definition; from the cache when `cached` and the cache is fresh.
    async fn definitions(&self, cached: bool) -> AppResult<Arc<Vec<PropertyDef>>> {
        if cached && !self.props.ttl.is_zero() {
            if let Ok(guard) = self.props.cache.lock() {
                if let Some((at, defs)) = guard.as_ref() {
                    if at.elapsed() < self.props.ttl {
                        return Ok(defs.clone());
                    }
                }
            }
        }
        let defs = Arc::new(self.repo.list_properties().await?);
        if let Ok(mut guard) = self.props.cache.lock() {
            *guard = Some((Instant::now(), defs.clone()));
        }
        Ok(defs)
    }

    fn forget_definitions(&self) {
        if let Ok(mut guard) = self.props.cache.lock() {
            *guard = None;
        }
    }

    fn seal_context(def: &PropertyDef, subject: &Subject<'_>) -> String {
        format!("property:{}:{}:{}", def.id, subject.kind, subject.ext_id)
    }

    fn value_key(&self, def: &PropertyDef, value: &str) -> AppResult<String> {
        if def.encrypted {
            let keys = self.props.keys.as_ref().ok_or_else(no_key)?;
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&keys.index)
                .map_err(|_| AppError::Internal("property index key".into()))?;
            mac.update(def.id.to_string().as_bytes());
            mac.update(b":");
            mac.update(value.as_bytes());
            Ok(hex(&mac.finalize().into_bytes()))
        } else {
            Ok(idm_domain::properties::plain_value_key(value))
        }
    }

    /// The property values of an entity that `caller` may read on `target`; `None` when the
    /// caller lacks `PropertyValueView` there or no definition applies.
    pub(crate) async fn read_properties(
        &self,
        caller: &Caller,
        target: &Target<'_>,
        subject: &Subject<'_>,
        owner: Owner,
    ) -> AppResult<Option<PropertyMap>> {
        self.readable_properties(caller, target, subject, Read::Owner(owner))
            .await
    }

    /// [`Services::read_properties`] of values already read (located with the entity).
    pub(crate) async fn read_located_properties(
        &self,
        caller: &Caller,
        target: &Target<'_>,
        subject: &Subject<'_>,
        values: Vec<idm_ports::properties::OwnedValue>,
    ) -> AppResult<Option<PropertyMap>> {
        self.readable_properties(caller, target, subject, Read::Located(values))
            .await
    }

    async fn readable_properties(
        &self,
        caller: &Caller,
        target: &Target<'_>,
        subject: &Subject<'_>,
        read: Read,
    ) -> AppResult<Option<PropertyMap>> {
        if Self::authorize(caller, &VALUE_VIEW, target).is_err() {
            return Ok(None);
        }
        let defs = self.definitions(true).await?;
        if !defs
            .iter()
            .any(|d| d.applies_to(subject.scope, subject.client_id))
        {
            return Ok(Some(PropertyMap::new()));
        }
        let values = match read {
            Read::Owner(owner) => self.repo.property_values(owner).await?,
            Read::Located(values) => values,
        };
        Ok(Some(self.decode(&defs, subject, values).await?))
    }

    /// A stored value set as name → plaintext: encrypted values opened (one that does not
    /// open with the configured key is left out and logged, never shown sealed).
    async fn decode(
        &self,
        defs: &[PropertyDef],
        subject: &Subject<'_>,
        values: Vec<idm_ports::properties::OwnedValue>,
    ) -> AppResult<PropertyMap> {
        let mut map = PropertyMap::new();
        for v in values {
            // A definition this cache does not know yet: reload once, fresh.
            let def = match defs.iter().find(|d| d.id == v.property_id) {
                Some(d) => d.clone(),
                None => match self.repo.property_by_id(v.property_id).await? {
                    Some(d) => d,
                    None => continue,
                },
            };
            let plain = if def.encrypted {
                let opened = self.props.keys.as_ref().and_then(|k| {
                    k.sealer
                        .open(&v.value, Self::seal_context(&def, subject).as_bytes())
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                });
                match opened {
                    Some(p) => p,
                    None => {
                        tracing::warn!(
                            property = %def.name,
                            "an encrypted property value does not open with the configured key; left out"
                        );
                        continue;
                    }
                }
            } else {
                v.value
            };
            map.insert(def.name.clone(), plain);
        }
        Ok(map)
    }

    /// The property values of a page of users (one statement), each `None` where `caller`
    /// lacks `PropertyValueView` on that user — the list counterpart of the read of one user.
    /// `unit_paths`: the users' unit paths, in page order, when the caller already read them.
    pub(crate) async fn users_properties(
        &self,
        caller: &Caller,
        client_id: i64,
        users: &[idm_domain::model::User],
        unit_paths: Option<&[Vec<String>]>,
    ) -> AppResult<Vec<Option<PropertyMap>>> {
        let mut visible = Vec::with_capacity(users.len());
        let everywhere = Self::authorize(caller, &VALUE_VIEW, &Target::client(client_id)).is_ok();
        for (n, user) in users.iter().enumerate() {
            // Only a caller whose right sits in some units needs the per-user unit paths, and
            // the list's own dataroom check has usually read them already.
            let sees = everywhere || {
                let read;
                let paths = match unit_paths.and_then(|all| all.get(n)) {
                    Some(paths) => paths,
                    None => {
                        read = self.repo.user_unit_paths(user.meta.id).await?;
                        &read
                    }
                };
                Self::authorize(caller, &VALUE_VIEW, &crate::admit::user_target(user, paths))
                    .is_ok()
            };
            visible.push(sees);
        }
        let defs = self.definitions(true).await?;
        let applies = defs
            .iter()
            .any(|d| d.applies_to(PropertyScope::UserGlobal, client_id));
        let ids: Vec<i64> = users
            .iter()
            .zip(&visible)
            .filter(|(_, sees)| **sees && applies)
            .map(|(u, _)| u.meta.id)
            .collect();
        let mut values: BTreeMap<i64, Vec<idm_ports::properties::OwnedValue>> = BTreeMap::new();
        for (user_id, value) in self.repo.users_property_values(&ids).await? {
            values.entry(user_id).or_default().push(value);
        }
        let mut out = Vec::with_capacity(users.len());
        for (user, sees) in users.iter().zip(visible) {
            if !sees {
                out.push(None);
                continue;
            }
            let subject = Subject {
                scope: PropertyScope::UserGlobal,
                client_id,
                kind: "user",
                ext_id: &user.meta.ext_id,
                unit_key: String::new(),
            };
            let own = values.remove(&user.meta.id).unwrap_or_default();
            out.push(Some(self.decode(&defs, &subject, own).await?));
        }
        Ok(out)
    }

    /// Validates the values a client sent for an entity and turns them into the writes the
    /// repository applies in the entity's transaction.
    ///
    /// # Errors
    /// 403 without `PropertyValueCreate` (create) or `PropertyValueModify` /
    /// `PropertyValueDelete` (modify) on `target`; the 422s of
    /// [`idm_domain::properties::check_values`]; 422 `errors.invalidConfig` for an encrypted
    /// definition without a configured key.
    pub(crate) async fn prepare_writes(
        &self,
        caller: &Caller,
        target: &Target<'_>,
        subject: &Subject<'_>,
        sent: &PropertyPatch,
        mode: WriteMode,
    ) -> AppResult<ValueWrites> {
        if sent.is_empty() && mode == WriteMode::Modify {
            return Ok(ValueWrites::default());
        }
        // Writes validate against fresh definitions: a stale cache must not let a value past
        // a rule that was just tightened.
        let all = self.definitions(false).await?;
        let defs: Vec<PropertyDef> = all
            .iter()
            .filter(|d| d.applies_to(subject.scope, subject.client_id))
            .cloned()
            .collect();
        let changes = check_values(&defs, sent, mode, &[])?;
        let mut writes = ValueWrites::default();
        for change in changes {
            let need = match (mode, &change.value) {
                (WriteMode::Create, _) => &VALUE_CREATE,
                (WriteMode::Modify, Some(_)) => &VALUE_MODIFY,
                (WriteMode::Modify, None) => &VALUE_DELETE,
            };
            Self::authorize(caller, need, target)?;
            let def = change.def;
            let Some(value) = change.value else {
                writes.remove.push(def.id);
                continue;
            };
            let value_key = self.value_key(def, &value)?;
            let unique_key = def.uniqueness_scope.map(|u| match u {
                UniquenessScope::Absolute => value_key.clone(),
                UniquenessScope::RelativeUnit => format!("{}:{value_key}", subject.unit_key),
            });
            let stored = if def.encrypted {
                let keys = self.props.keys.as_ref().ok_or_else(no_key)?;
                keys.sealer
                    .seal(
                        value.as_bytes(),
                        Self::seal_context(def, subject).as_bytes(),
                    )
                    .map_err(|e| AppError::Internal(format!("sealing a property value: {e}")))?
            } else {
                value
            };
            writes.set.push(StoredValue {
                property_id: def.id,
                value: stored,
                value_key,
                unique_key,
            });
        }
        Ok(writes)
    }

    /// The shared part of the `PATCH .../properties` endpoints of profiles, units and
    /// enterprise roles, after the entity is admitted: validates `sent` as a modify, applies
    /// it with `write` (the entity's versioned update plus the value writes, one transaction)
    /// and answers every value of `owner` after the change.
    ///
    /// # Errors
    /// The 403s and 422s of [`Services::prepare_writes`]; what `write` fails with
    /// (`errors.propertyUniquenessViolated` for a taken unique value); 403 when the caller may
    /// write but not read values.
    pub(crate) async fn patch_values<T, F, Fut>(
        &self,
        caller: &Caller,
        target: &Target<'_>,
        subject: &Subject<'_>,
        owner: Owner,
        sent: &PropertyPatch,
        write: F,
    ) -> AppResult<PropertyMap>
    where
        F: FnOnce(ValueWrites) -> Fut,
        Fut: std::future::Future<Output = Result<T, RepoError>>,
    {
        let writes = self
            .prepare_writes(caller, target, subject, sent, WriteMode::Modify)
            .await?;
        write(writes).await.map_err(uniqueness_violated)?;
        self.read_properties(caller, target, subject, owner)
            .await?
            .ok_or_else(forbidden_values)
    }

    /// Ids of the users of `client_id` holding `value` in the user property `name` (for list
    /// filters `properties.<name>=`); served by the `(property_id, value_key)` index.
    ///
    /// # Errors
    /// 422 `errors.invalidParameter` naming `properties.<name>` when no user definition of
    /// that name applies to the client.
    pub async fn users_with_property(
        &self,
        client_id: i64,
        name: &str,
        value: &str,
    ) -> AppResult<Vec<i64>> {
        let defs = self.definitions(false).await?;
        let def = defs
            .iter()
            .find(|d| d.name == name && d.applies_to(PropertyScope::UserGlobal, client_id))
            .ok_or_else(|| DomainError::invalid_fields(&[format!("properties.{name}")]))?;
        let key = self.value_key(def, value)?;
        Ok(self.repo.users_with_property_value(def.id, &key).await?)
    }

    /// Resolves the `properties.<name>=value` filters of a list of `scope` entities of
    /// `client_id` into (definition, value key) pairs the adapter matches on the
    /// `(property_id, value_key)` index — for encrypted definitions by the keyed hash, so no
    /// plaintext reaches the statement.
    ///
    /// # Errors
    /// 422 `errors.invalidParameter` naming every `properties.<name>` with no definition of
    /// that scope applying to the client.
    pub(crate) async fn resolve_property_filters(
        &self,
        client_id: i64,
        scope: PropertyScope,
        query: &mut ListQuery,
    ) -> AppResult<()> {
        if query.properties.is_empty() {
            return Ok(());
        }
        let defs = self.definitions(true).await?;
        let mut unknown = Vec::new();
        let mut keys = Vec::with_capacity(query.properties.len());
        for (name, value) in &query.properties {
            match defs
                .iter()
                .find(|d| &d.name == name && d.applies_to(scope, client_id))
            {
                Some(def) => keys.push((def.id, self.value_key(def, value)?)),
                None => unknown.push(format!("properties.{name}")),
            }
        }
        if !unknown.is_empty() {
            return Err(DomainError::invalid_fields(&unknown).into());
        }
        query.property_keys = keys;
        Ok(())
    }

    /// Authorizes `req` for a definition: client definitions on their client, global ones
    /// globally.
    fn authorize_def(caller: &Caller, req: &Requirement, client_id: Option<i64>) -> AppResult<()> {
        let target = client_id.map_or_else(Target::global, Target::client);
        Self::authorize(caller, req, &target).map(|_| ())
    }

    /// Creates a property definition (`PropertyCreate`; on the client for a client
    /// definition, globally otherwise).
    ///
    /// # Errors
    /// 403, 404 (client), 422 (missing/invalid fields, duplicate name, encrypted without key).
    pub async fn create_property(
        &self,
        caller: &Caller,
        input: PropertyInput,
    ) -> AppResult<PropertyDef> {
        let write = self.writing();
        write.reaches_nobody(); // caller resolution reads no property definition
        let (client_id, client_ext_id) = match &input.client_ext_id {
            Some(c) => {
                let admitted = self
                    .admit(caller, Gate::new(&DEF_CREATE), Address::client(c))
                    .await?;
                let client = admitted.client()?;
                (Some(client.meta.id), Some(client.meta.ext_id.clone()))
            }
            None => {
                crate::admit::precheck(caller, &DEF_CREATE)?;
                Self::authorize_def(caller, &DEF_CREATE, None)?;
                (None, None)
            }
        };
        let mut missing = Vec::new();
        if input.name.is_none() {
            missing.push("name");
        }
        if input.property_type.is_none() {
            missing.push("type");
        }
        if input.scope.is_none() {
            missing.push("scope");
        }
        let (Some(name), Some(property_type), Some(scope)) =
            (input.name.clone(), input.property_type, input.scope)
        else {
            return Err(DomainError::invalid_fields(&missing).into());
        };
        let now = now_millis();
        let def = PropertyDef {
            id: 0,
            created: now,
            last_modified: now,
            version: 1,
            name,
            description: input.description.clone(),
            property_type,
            scope,
            client_id,
            client_ext_id,
            encrypted: input.encrypted.unwrap_or(false),
            propagated: input.propagated.unwrap_or(false),
            mandatory_on_gui: input.mandatory_on_gui.unwrap_or(false),
            string_max_len: input.string_max_len.flatten(),
            string_regex: input.string_regex.clone().flatten(),
            access_create: input.access_create.unwrap_or(PropertyAccess::ReadWrite),
            access_modify: input.access_modify.unwrap_or(PropertyAccess::ReadWrite),
            uniqueness_scope: input.uniqueness_scope.flatten(),
            gui_precedence: input.gui_precedence.flatten(),
            allowed_values: merge_allowed(&[], input.allowed_values.clone().unwrap_or_default())?,
        };
        def.check()?;
        if def.encrypted && self.props.keys.is_none() {
            return Err(no_key());
        }
        self.check_name_free(&def).await?;
        let created = match self.repo.create_property(def).await {
            Err(e) if e.is_unique() => {
                return Err(duplicate_name(input.name.as_deref().unwrap_or("")))
            }
            other => other?,
        };
        self.forget_definitions();
        Ok(created)
    }

    /// A name must not clash between a global definition and a client one of the same scope
    /// (a value's name would then be ambiguous); the unique index covers the rest.
    async fn check_name_free(&self, def: &PropertyDef) -> AppResult<()> {
        let all = self.definitions(false).await?;
        let clash = all.iter().any(|d| {
            d.id != def.id
                && d.scope == def.scope
                && d.name == def.name
                && (d.client_id.is_none()
                    || def.client_id.is_none()
                    || d.client_id == def.client_id)
        });
        if clash {
            return Err(duplicate_name(&def.name));
        }
        Ok(())
    }

    /// Reads a definition (`PropertyView` on its client, or anywhere for a global one).
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_property(&self, caller: &Caller, id: i64) -> AppResult<PropertyDef> {
        crate::admit::precheck(caller, &DEF_VIEW)?;
        let def = self
            .repo
            .property_by_id(id)
            .await?
            .ok_or_else(|| def_not_found(id))?;
        if def.client_id.is_some() {
            Self::authorize_def(caller, &DEF_VIEW, def.client_id)?;
        }
        Ok(def)
    }

    /// The definitions matching `search` that the caller may see.
    ///
    /// # Errors
    /// 403, 404 (unknown `clientExtId`).
    pub async fn search_properties(
        &self,
        caller: &Caller,
        search: PropertySearch,
    ) -> AppResult<Vec<PropertyDef>> {
        crate::admit::precheck(caller, &DEF_VIEW)?;
        let client_id = match &search.client_ext_id {
            Some(c) => Some(
                self.admit(caller, Gate::new(&DEF_VIEW), Address::client(c))
                    .await?
                    .client()?
                    .meta
                    .id,
            ),
            None => None,
        };
        let needle = search.name.as_deref().map(str::to_lowercase);
        let defs = self.definitions(false).await?;
        Ok(defs
            .iter()
            .filter(|d| search.scope.is_none_or(|s| d.scope == s))
            .filter(|d| search.property_type.is_none_or(|t| d.property_type == t))
            .filter(|d| client_id.is_none_or(|c| d.client_id.is_none_or(|dc| dc == c)))
            .filter(|d| {
                needle
                    .as_deref()
                    .is_none_or(|n| d.name.to_lowercase().contains(n))
            })
            .filter(|d| {
                d.client_id.is_none() || Self::authorize_def(caller, &DEF_VIEW, d.client_id).is_ok()
            })
            .cloned()
            .collect())
    }

    /// Partially updates a definition (`PropertyModify`). A type change deletes every value
    /// of the definition in the same transaction, as nevisIDM documents.
    ///
    /// # Errors
    /// 403, 404, 409, 422.
    pub async fn patch_property(
        &self,
        caller: &Caller,
        id: i64,
        input: PropertyInput,
    ) -> AppResult<PropertyDef> {
        let write = self.writing();
        write.reaches_nobody(); // caller resolution reads no property definition
        crate::admit::precheck(caller, &DEF_MODIFY)?;
        let mut def = self
            .repo
            .property_by_id(id)
            .await?
            .ok_or_else(|| def_not_found(id))?;
        Self::authorize_def(caller, &DEF_MODIFY, def.client_id)?;
        crate::clients::check_version(input.version, def.version)?;
        if input
            .client_ext_id
            .as_deref()
            .is_some_and(|c| Some(c) != def.client_ext_id.as_deref())
        {
            return Err(DomainError::invalid_fields(&["clientExtId"]).into());
        }
        let type_changed = input.property_type.is_some_and(|t| t != def.property_type);
        let was_encrypted = def.encrypted;
        if let Some(sent) = input.allowed_values {
            def.allowed_values = merge_allowed(&def.allowed_values, sent)?;
        } else if type_changed && input.property_type == Some(PropertyType::String) {
            def.allowed_values.clear();
        }
        patch_fields!(def, input, {
            name,
            description: Some,
            property_type,
            scope,
            encrypted,
            propagated,
            mandatory_on_gui,
            string_max_len,
            string_regex,
            access_create,
            access_modify,
            uniqueness_scope,
            gui_precedence,
        });
        def.check()?;
        if def.encrypted && self.props.keys.is_none() {
            return Err(no_key());
        }
        // Stored values are sealed or not, and keyed, by the definition's settings when
        // written; changing those would strand them.
        if def.encrypted != was_encrypted && !type_changed {
            return Err(DomainError::invalid_fields(&["encrypted"]).into());
        }
        self.check_name_free(&def).await?;
        let name = def.name.clone();
        let updated = match self.repo.update_property(&def, type_changed).await {
            Err(e) if e.is_unique() => return Err(duplicate_name(&name)),
            other => other?,
        };
        self.forget_definitions();
        Ok(updated)
    }

    /// The definitions of a client plus the global ones (`PropertyView` on the client).
    ///
    /// # Errors
    /// 403, 404.
    pub async fn client_properties(
        &self,
        caller: &Caller,
        client_ext_id: &str,
    ) -> AppResult<Vec<PropertyDef>> {
        let admitted = self
            .admit(caller, Gate::new(&DEF_VIEW), Address::client(client_ext_id))
            .await?;
        let id = admitted.client()?.meta.id;
        let defs = self.definitions(false).await?;
        Ok(defs
            .iter()
            .filter(|d| d.client_id.is_none_or(|c| c == id))
            .cloned()
            .collect())
    }
}

const PROFILE_VIEW: Requirement = Requirement::all(&[&[Right::ProfileView]]).or_self_admin();
const PROFILE_MODIFY: Requirement =
    Requirement::all(&[&[Right::ProfileView], &[Right::ProfileModify]]);
const UNIT_VIEW: Requirement = Requirement::all(&[&[Right::UnitView]]);
const UNIT_MODIFY: Requirement = Requirement::all(&[&[Right::UnitView], &[Right::UnitModify]]);

pub(crate) fn forbidden_values() -> AppError {
    DomainError::Forbidden {
        code: ErrorCode::InsufficientRightsFunction,
        message: format!(
            "Permission denied: Caller does not have the required right '{}' to perform this action",
            Right::PropertyValueView.wire()
        ),
    }
    .into()
}

impl Services {
    /// Reads a profile with the property values the caller may read.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_profile_with(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<WithProperties<idm_domain::model::Profile>> {
        let profile = self
            .admit(
                caller,
                Gate::new(&PROFILE_VIEW),
                Address::client(client_ext_id).with_profile(ext_id),
            )
            .await?
            .into_profile()?;
        let properties = self
            .read_properties(
                caller,
                &crate::admit::profile_target(&profile),
                &profile_subject(&profile),
                Owner::Profile(profile.meta.id),
            )
            .await?;
        Ok(WithProperties {
            entity: profile,
            properties,
        })
    }

    /// `PATCH .../profiles/:p/properties`: writes the values sent (bumping the profile's
    /// version) and answers all values.
    ///
    /// # Errors
    /// 403, 404, 422, `errors.propertyUniquenessViolated`.
    pub async fn patch_profile_properties(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        sent: PropertyPatch,
    ) -> AppResult<PropertyMap> {
        let write = self.writing();
        // Property values are never part of a caller.
        write.reaches_nobody();
        let profile = self
            .admit(
                caller,
                Gate::new(&PROFILE_MODIFY),
                Address::client(client_ext_id).with_profile(ext_id),
            )
            .await?
            .into_profile()?;
        self.patch_values(
            caller,
            &crate::admit::profile_target(&profile),
            &profile_subject(&profile),
            Owner::Profile(profile.meta.id),
            &sent,
            |writes| self.repo.update_profile_with_properties(&profile, writes),
        )
        .await
    }

    /// Reads a unit with the property values the caller may read.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_unit_with(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<WithProperties<idm_domain::model::Unit>> {
        let unit = self
            .admit(
                caller,
                Gate::new(&UNIT_VIEW),
                Address::client(client_ext_id).with_unit(ext_id),
            )
            .await?
            .into_unit()?;
        let target = Target::units(unit.client_id, std::slice::from_ref(&unit.path));
        let properties = self
            .read_properties(
                caller,
                &target,
                &unit_subject(&unit),
                Owner::Unit(unit.meta.id),
            )
            .await?;
        Ok(WithProperties {
            entity: unit,
            properties,
        })
    }

    /// `PATCH .../units/:u/properties`: writes the values sent (bumping the unit's version)
    /// and answers all values.
    ///
    /// # Errors
    /// 403, 404, 422, `errors.propertyUniquenessViolated`.
    pub async fn patch_unit_properties(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        sent: PropertyPatch,
    ) -> AppResult<PropertyMap> {
        let write = self.writing();
        // Property values are never part of a caller.
        write.reaches_nobody();
        let unit = self
            .admit(
                caller,
                Gate::new(&UNIT_MODIFY),
                Address::client(client_ext_id).with_unit(ext_id),
            )
            .await?
            .into_unit()?;
        self.patch_values(
            caller,
            &Target::units(unit.client_id, std::slice::from_ref(&unit.path)),
            &unit_subject(&unit),
            Owner::Unit(unit.meta.id),
            &sent,
            |writes| self.repo.update_unit_with_properties(&unit, writes),
        )
        .await
    }
}

fn profile_subject(p: &idm_domain::model::Profile) -> Subject<'_> {
    Subject {
        scope: PropertyScope::ProfileGlobal,
        client_id: p.client_id,
        kind: "profile",
        ext_id: &p.meta.ext_id,
        unit_key: p.unit_id.to_string(),
    }
}

fn unit_subject(u: &idm_domain::model::Unit) -> Subject<'_> {
    Subject {
        scope: PropertyScope::UnitGlobal,
        client_id: u.client_id,
        kind: "unit",
        ext_id: &u.meta.ext_id,
        unit_key: u.meta.id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_unit_of_a_user_is_the_lowest_unit_id_of_its_profiles() {
        assert_eq!(unit_of_paths(&["/1/4/9/".into(), "/1/3/".into()]), "3");
        assert_eq!(unit_of_paths(&[]), "none");
    }

    #[test]
    fn allowed_value_ids_are_kept_and_new_ones_never_reuse_an_id() {
        let old = vec![
            AllowedValue {
                id: 1,
                value: "a".into(),
            },
            AllowedValue {
                id: 2,
                value: "b".into(),
            },
        ];
        let merged = merge_allowed(&old, vec![(Some(1), "a2".into()), (None, "c".into())]).unwrap();
        assert_eq!(
            merged[0],
            AllowedValue {
                id: 1,
                value: "a2".into()
            }
        );
        assert_eq!(
            merged[1],
            AllowedValue {
                id: 3,
                value: "c".into()
            }
        );
        assert!(merge_allowed(&old, vec![(Some(7), "x".into())]).is_err());
        assert!(merge_allowed(&old, vec![(None, "x".into()), (None, "x".into())]).is_err());
    }

    #[test]
    fn the_configured_key_must_be_base64_of_32_bytes() {
        assert!(PropertyState::new(Some(&PropertyKey("c2hvcnQ=".into())), 0).is_err());
        let key = PropertyKey(Sealer::generate_key());
        assert!(PropertyState::new(Some(&key), 0).unwrap().keys.is_some());
        assert_eq!(format!("{key:?}"), "PropertyKey(..)");
    }
}
