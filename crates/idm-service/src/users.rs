//! Users: create, read (also self-admin), patch with state cascade, delete, list.

use idm_domain::access::{Access, Caller, Denial, Requirement, Target};
use idm_domain::model::{Client, Contacts, Meta, PersonName, User};
use idm_domain::policy_config::{Parameters, UserFacts};
use idm_domain::rights::Right;
use idm_domain::values::{check_ext_id, new_ext_id, now_millis, Language, UserState, Validity};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::query::{ListQuery, Listed};

use idm_ports::locate::Address;

use idm_domain::properties::{PropertyScope, WriteMode};
use idm_ports::properties::Owner;

use crate::admit::{client_not_found, precheck, user_target, Gate};
use crate::clients::{check_same_ext_id, check_version};
use crate::policies::client_rules_of;
use crate::properties::{
    uniqueness_violated, unit_of_paths, PropertyMap, PropertyPatch, Subject, WithProperties,
};
use crate::{AppError, AppResult, Services};

const CREATE: Requirement = Requirement::all(&[&[Right::UserCreate]]);
const CREATE_TECH: Requirement =
    Requirement::all(&[&[Right::UserCreate], &[Right::UserCreateTechUser]]);
const VIEW: Requirement = Requirement::all(&[&[Right::UserView]]).or_self_admin();
const MODIFY_OR_SELF: Requirement = Requirement::all(&[&[Right::UserModify]]).or_self_admin();
const DELETE: Requirement = Requirement::all(&[&[Right::UserDelete]]);
const LIST: Requirement = Requirement::all(&[&[Right::ClientView], &[Right::UserView]]);

/// The attributes a self-admin needs an X-Token for unless configured otherwise.
pub const DEFAULT_SELF_PROTECTED: &[&str] =
    &["loginId", "userState", "contacts.email", "contacts.mobile"];

/// Every attribute name the protected list may carry (wire names; `state` = `userState`).
pub const SELF_PROTECTABLE: &[&str] = &[
    "loginId",
    "userState",
    "state",
    "languageCode",
    "name.title",
    "name.firstName",
    "name.familyName",
    "sex",
    "gender",
    "birthDate",
    "contacts.telephone",
    "contacts.telefax",
    "contacts.mobile",
    "contacts.email",
    "address",
    "remarks",
    "modificationComment",
];

/// The wire names of the attributes that differ between `a` and `b` (both spellings of the
/// state, so either may be configured as protected).
fn changed_attributes(a: &User, b: &User) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut diff = |names: &[&'static str], differs: bool| {
        if differs {
            out.extend_from_slice(names);
        }
    };
    diff(&["loginId"], a.login_id != b.login_id);
    diff(&["userState", "state"], a.state != b.state);
    diff(&["languageCode"], a.language_code != b.language_code);
    diff(&["name.title"], a.name.title != b.name.title);
    diff(&["name.firstName"], a.name.first_name != b.name.first_name);
    diff(
        &["name.familyName"],
        a.name.family_name != b.name.family_name,
    );
    diff(&["sex"], a.sex != b.sex);
    diff(&["gender"], a.gender != b.gender);
    diff(&["birthDate"], a.birth_date != b.birth_date);
    diff(
        &["contacts.telephone"],
        a.contacts.telephone != b.contacts.telephone,
    );
    diff(
        &["contacts.telefax"],
        a.contacts.telefax != b.contacts.telefax,
    );
    diff(&["contacts.mobile"], a.contacts.mobile != b.contacts.mobile);
    diff(&["contacts.email"], a.contacts.email != b.contacts.email);
    diff(&["address"], a.address != b.address);
    diff(&["remarks"], a.remarks != b.remarks);
    diff(
        &["modificationComment"],
        a.modification_comment != b.modification_comment,
    );
    out
}

/// An archived user is terminal: only deletion remains.
pub(crate) fn refuse_archived(user: &User) -> AppResult<()> {
    if user.state == UserState::Archived {
        return Err(DomainError::unprocessable(
            ErrorCode::ModifyArchivedUser,
            format!(
                "The archived user with extId '{}' cannot be modified.",
                user.meta.ext_id
            ),
        )
        .into());
    }
    Ok(())
}

/// The longest loginId (nevisIDM's column width).
const LOGIN_ID_MAX: usize = 300;

/// User fields a client sends on create or patch; `None` = not sent (unchanged on patch).
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    /// extId: optional on create; on patch must equal the addressed one.
    pub ext_id: Option<String>,
    /// Login name (required on create).
    pub login_id: Option<String>,
    /// State.
    pub state: Option<UserState>,
    /// Language.
    pub language_code: Option<Language>,
    /// Technical account.
    pub is_technical_user: Option<bool>,
    /// Name parts (each present part replaces the stored one).
    pub title: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// `male|female|other`.
    pub sex: Option<String>,
    /// `female|male|other`.
    pub gender: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// Phone.
    pub telephone: Option<String>,
    /// Fax.
    pub telefax: Option<String>,
    /// Mobile.
    pub mobile: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Address fields (present ones replace the stored ones).
    pub address: Option<serde_json::Map<String, serde_json::Value>>,
    /// Remarks.
    pub remarks: Option<String>,
    /// Modification comment.
    pub modification_comment: Option<String>,
    /// Validity.
    pub validity: Option<Validity>,
    /// The version the client read (patch only).
    pub version: Option<i64>,
}

/// The wire names of the invalid fields of `input`, in order.
fn invalid_fields(input: &UserInput) -> Vec<&'static str> {
    let mut bad = Vec::new();
    if let Some(l) = &input.login_id {
        if l.trim().is_empty() || l.chars().count() > LOGIN_ID_MAX {
            bad.push("loginId");
        }
    }
    let one_of = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|s| !["male", "female", "other"].contains(&s))
    };
    if one_of(&input.sex) {
        bad.push("sex");
    }
    if one_of(&input.gender) {
        bad.push("gender");
    }
    if input
        .birth_date
        .as_deref()
        .is_some_and(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err())
    {
        bad.push("birthDate");
    }
    if input
        .email
        .as_deref()
        .is_some_and(|e| !e.is_empty() && (!e.contains('@') || e.chars().count() > 320))
    {
        bad.push("contacts.email");
    }
    bad
}

/// Copies the present fields of `input` onto `user`.
fn apply(user: &mut User, input: UserInput) {
    let address = input.address;
    patch_fields!(user, input, {
        login_id,
        state,
        language_code: Some,
        is_technical_user,
        title => name.title: Some,
        first_name => name.first_name: Some,
        family_name => name.family_name: Some,
        sex: Some,
        gender: Some,
        birth_date: Some,
        telephone => contacts.telephone: Some,
        telefax => contacts.telefax: Some,
        mobile => contacts.mobile: Some,
        email => contacts.email: Some,
        remarks: Some,
        modification_comment: Some,
        validity,
    });
    if let Some(a) = address {
        user.address.extend(a);
    }
}

/// The values the client policy looks at.
fn facts(user: &User) -> UserFacts<'_> {
    UserFacts {
        login_id: &user.login_id,
        first_name: user.name.first_name.as_deref(),
        family_name: user.name.family_name.as_deref(),
        email: user.contacts.email.as_deref(),
        mobile: user.contacts.mobile.as_deref(),
        telephone: user.contacts.telephone.as_deref(),
        sex: user.sex.as_deref(),
        country_code: user
            .address
            .get("countryCode")
            .and_then(serde_json::Value::as_str),
        language: user.language_code,
    }
}

/// A failed user insert as the client sees it: a taken loginId or extId is 422.
pub(crate) fn user_conflict(e: idm_ports::RepoError, user: &User, client_name: &str) -> AppError {
    if e.is_unique_on("login_id") {
        duplicate_login(&user.login_id, client_name)
    } else if e.is_unique() {
        DomainError::unprocessable(
            ErrorCode::DuplicateValue,
            format!("A user with extId '{}' already exists.", user.meta.ext_id),
        )
        .into()
    } else {
        e.into()
    }
}

fn duplicate_login(login_id: &str, client_name: &str) -> AppError {
    DomainError::unprocessable(
        ErrorCode::DuplicateValue,
        format!(
            "A user with loginId '{login_id}' already exists on client with name {client_name}."
        ),
    )
    .into()
}

/// 422 `errors.invalidParameter` naming the fields of `user` its client's policy refuses
/// (mandatory fields, allowed languages, loginId and phone patterns); `policy`: the client's
/// `ClientPolicy` parameters as located with the request ([`Admitted::client_policy`]).
pub(crate) fn check_client_rules(user: &User, policy: Option<&Parameters>) -> AppResult<()> {
    let bad = client_rules_of(policy)?.violations(&facts(user));
    if bad.is_empty() {
        Ok(())
    } else {
        Err(DomainError::invalid_fields(&bad).into())
    }
}

/// A validated new user of `client` from `input` (not stored yet); `policy` as for
/// [`check_client_rules`].
pub(crate) fn new_user(
    client: &Client,
    policy: Option<&Parameters>,
    input: UserInput,
) -> AppResult<User> {
    let mut bad = invalid_fields(&input);
    if input.login_id.is_none() {
        bad.insert(0, "loginId");
    }
    if let Some(e) = &input.ext_id {
        if check_ext_id(e).is_err() {
            bad.insert(0, "extId");
        }
    }
    if !bad.is_empty() {
        return Err(DomainError::invalid_fields(&bad).into());
    }
    if let Some(v) = &input.validity {
        v.check()?;
    }
    let now = now_millis();
    let ext_id = input.ext_id.clone().unwrap_or_else(new_ext_id);
    let mut user = User {
        meta: Meta::new(ext_id, now),
        client_id: client.meta.id,
        client_ext_id: client.meta.ext_id.clone(),
        login_id: String::new(),
        state: UserState::Active,
        language_code: None,
        is_technical_user: false,
        name: PersonName::default(),
        sex: None,
        gender: None,
        birth_date: None,
        contacts: Contacts::default(),
        address: serde_json::Map::new(),
        remarks: None,
        modification_comment: None,
        validity: Validity::default(),
    };
    apply(&mut user, input);
    check_client_rules(&user, policy)?;
    Ok(user)
}

impl Services {
    /// Creates a user (`UserCreateTechUser` too for a technical user).
    ///
    /// # Errors
    /// 403, 404, 422 (invalid fields, duplicate loginId or extId, validity).
    pub async fn create_user(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        input: UserInput,
    ) -> AppResult<User> {
        self.create_user_with(caller, client_ext_id, input, None)
            .await
    }

    /// [`Services::create_user`] with property values (`None`: the body had no
    /// `properties`; mandatory properties are then not checked either, as for callers that
    /// predate properties).
    ///
    /// # Errors
    /// As `create_user`; the property 403s and 422s, `errors.propertyUniquenessViolated`.
    pub async fn create_user_with(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        input: UserInput,
        properties: Option<PropertyPatch>,
    ) -> AppResult<User> {
        let write = self.writing();
        write.reaches_nobody(); // a new user: no token resolves to it yet
        let req = if input.is_technical_user == Some(true) {
            &CREATE_TECH
        } else {
            &CREATE
        };
        let admitted = self
            .admit(
                caller,
                Gate::new(req),
                Address::client(client_ext_id)
                    .with_client_policy()
                    .with_mandatory_properties(),
            )
            .await?;
        let client = admitted.client()?;
        let user = new_user(client, admitted.client_policy()?, input)?;
        let writes = match &properties {
            None => None,
            // No value sent and no definition mandatory: nothing to check, no definitions to
            // read.
            Some(sent) if sent.is_empty() && admitted.found.mandatory_properties == Some(false) => {
                None
            }
            Some(sent) => {
                let subject = Subject {
                    scope: PropertyScope::UserGlobal,
                    client_id: client.meta.id,
                    kind: "user",
                    ext_id: &user.meta.ext_id,
                    unit_key: unit_of_paths(&[]),
                };
                let target = Target::client(client.meta.id);
                Some(
                    self.prepare_writes(caller, &target, &subject, sent, WriteMode::Create)
                        .await?,
                )
            }
        };
        let result = match writes {
            None => self.repo.create_user(user.clone()).await,
            Some(w) => self.repo.create_user_with_properties(user.clone(), w).await,
        };
        result.map_err(|e| {
            if e.is_unique_on("unique_key") {
                uniqueness_violated(e)
            } else {
                user_conflict(e, &user, &client.name)
            }
        })
    }

    /// Reads a user (`UserView`, or a self-admin reading itself).
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_user(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<User> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&VIEW),
                Address::client(client_ext_id).with_user(ext_id),
            )
            .await?;
        admitted.into_user()
    }

    /// Partially updates a user with optimistic locking; disabling or archiving cascades to
    /// the user's profiles in the same transaction.
    ///
    /// A self-admin may patch its own user (`UserModify or SelfAdmin Role`): changing one of
    /// the configured protected attributes needs a valid X-Token, `validity` and
    /// `isTechnicalUser` never change in self-admin mode.
    ///
    /// # Errors
    /// 403 (no right, another user's data, or a self-admin touching `validity` /
    /// `isTechnicalUser`), 404, 409, 422 (`errors.modifyArchivedUser`, `errors.modifyExtId`,
    /// invalid fields, duplicate loginId, `errors.invalidJWTToken` for a protected attribute
    /// without a valid X-Token).
    pub async fn patch_user(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        input: UserInput,
        xtoken: Option<&str>,
    ) -> AppResult<User> {
        Ok(self
            .patch_user_with(caller, client_ext_id, ext_id, input, None, xtoken)
            .await?
            .entity)
    }

    /// [`Services::patch_user`] with property values: only the names sent change, `None` or
    /// `""` removes one. Answers the user with the values the caller may read.
    ///
    /// # Errors
    /// As `patch_user`; the property 403s and 422s, `errors.propertyUniquenessViolated`.
    pub async fn patch_user_with(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        input: UserInput,
        properties: Option<PropertyPatch>,
        xtoken: Option<&str>,
    ) -> AppResult<WithProperties<User>> {
        let write = self.writing();
        let mut admitted = self
            .admit(
                caller,
                Gate::new(&MODIFY_OR_SELF),
                Address::client(client_ext_id)
                    .with_user(ext_id)
                    .with_client_policy()
                    .with_user_property_values(),
            )
            .await?;
        let policy = admitted.client_policy()?.cloned();
        let located_values = admitted.found.user_property_values.take();
        let self_admin = admitted.access == Access::SelfAdmin;
        let client_name = admitted.client()?.name.clone();
        let paths = admitted.found.user_unit_paths.clone();
        let mut user = admitted.into_user()?;
        write.reaches_user(user.meta.id);
        if self_admin && (input.validity.is_some() || input.is_technical_user.is_some()) {
            // Exactly what an administrator would need to change these.
            return Err(DomainError::from(Denial::MissingRight(Right::UserModify)).into());
        }
        check_same_ext_id(input.ext_id.as_deref(), ext_id)?;
        check_version(input.version, user.meta.version)?;
        refuse_archived(&user)?;
        let bad = invalid_fields(&input);
        if !bad.is_empty() {
            return Err(DomainError::invalid_fields(&bad).into());
        }
        if let Some(v) = &input.validity {
            v.check()?;
        }
        let subject = Subject {
            scope: PropertyScope::UserGlobal,
            client_id: user.client_id,
            kind: "user",
            ext_id,
            unit_key: unit_of_paths(&paths),
        };
        let writes = match &properties {
            None => None,
            Some(sent) => Some(
                self.prepare_writes(
                    caller,
                    &user_target(&user, &paths),
                    &subject,
                    sent,
                    WriteMode::Modify,
                )
                .await?,
            ),
        };
        let before = user.clone();
        apply(&mut user, input);
        if self_admin
            && changed_attributes(&before, &user)
                .iter()
                .any(|a| self.config.self_protected_attributes.iter().any(|p| p == a))
        {
            self.verify_xtoken(caller, xtoken).await?;
        }
        check_client_rules(&user, policy.as_ref())?;
        if user.state != UserState::Active && before.state == UserState::Active {
            crate::clients::refuse_self_lockout(
                caller,
                user.meta.id,
                "disable or archive its own user",
            )?;
        }
        let result = match writes {
            None => self.repo.update_user(&user, &before).await,
            Some(w) => {
                self.repo
                    .update_user_with_properties(&user, &before, w)
                    .await
            }
        };
        let written = match result {
            Ok(u) => u,
            Err(e) if e.is_unique_on("login_id") => {
                return Err(duplicate_login(&user.login_id, &client_name))
            }
            Err(e) => return Err(uniqueness_violated(e)),
        };
        let target = user_target(&written, &paths);
        let properties = match (properties, located_values) {
            (None, _) => None,
            // No value changed: the look-up's are the values after the write.
            (Some(sent), Some(values)) if sent.is_empty() => {
                self.read_located_properties(caller, &target, &subject, values)
                    .await?
            }
            (Some(_), _) => {
                self.read_properties(caller, &target, &subject, Owner::User(written.meta.id))
                    .await?
            }
        };
        Ok(WithProperties {
            entity: written,
            properties,
        })
    }

    /// Reads a user with the property values the caller may read.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_user_with(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<WithProperties<User>> {
        let admitted = self
            .admit(
                caller,
                Gate::new(&VIEW),
                Address::client(client_ext_id).with_user(ext_id),
            )
            .await?;
        let paths = admitted.found.user_unit_paths.clone();
        let user = admitted.into_user()?;
        let subject = Subject {
            scope: PropertyScope::UserGlobal,
            client_id: user.client_id,
            kind: "user",
            ext_id,
            unit_key: String::new(),
        };
        let properties = self
            .read_properties(
                caller,
                &user_target(&user, &paths),
                &subject,
                Owner::User(user.meta.id),
            )
            .await?;
        Ok(WithProperties {
            entity: user,
            properties,
        })
    }

    /// `GET .../users/:u/properties`: the values, or 403 without `PropertyValueView`.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_user_properties(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<PropertyMap> {
        let got = self.get_user_with(caller, client_ext_id, ext_id).await?;
        got.properties
            .ok_or_else(crate::properties::forbidden_values)
    }

    /// Deletes a user with everything that belongs to it.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn delete_user(
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
                Address::client(client_ext_id).with_user(ext_id),
            )
            .await?;
        let user = admitted.user()?;
        write.reaches_user(user.meta.id);
        crate::clients::refuse_self_lockout(caller, user.meta.id, "delete its own user")?;
        crate::error::deleted(self.repo.delete_user(user.meta.id).await)
    }

    /// [`Self::list_users`] with each user's property values, as the read of one user gives
    /// them (left out where the caller may not read them): one more statement per page.
    ///
    /// # Errors
    /// As [`Self::list_users`].
    pub async fn list_users_with(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        query: ListQuery,
    ) -> AppResult<Listed<WithProperties<User>>> {
        let VisibleUsers {
            client_id,
            page,
            unit_paths,
        } = self.visible_users(caller, client_ext_id, query).await?;
        let properties = self
            .users_properties(caller, client_id, &page.items, unit_paths.as_deref())
            .await?;
        Ok(Listed {
            items: page
                .items
                .into_iter()
                .zip(properties)
                .map(|(entity, properties)| WithProperties { entity, properties })
                .collect(),
            more: page.more,
            total: page.total,
        })
    }

    /// One page of a client's users matching the filter; users outside the caller's dataroom
    /// are left out.
    ///
    /// # Errors
    /// 403, 404.
    async fn visible_users(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        mut query: ListQuery,
    ) -> AppResult<VisibleUsers> {
        // Not `admit`: a caller whose grants sit in some units of the client may list the
        // users of those units, so the dataroom check is per listed user, below.
        precheck(caller, &LIST)?;
        let client = self
            .repo
            .locate(&Address::client(client_ext_id))
            .await?
            .client
            .ok_or_else(|| client_not_found(client_ext_id))?;
        let whole = caller.rights_on(&Target::client(client.meta.id));
        let sees_all = whole.contains(Right::ClientView) && whole.contains(Right::UserView);
        let in_client = caller
            .grants
            .iter()
            .any(|g| g.client_global || g.client_id == client.meta.id);
        if !sees_all && !in_client {
            Self::authorize(caller, &LIST, &Target::client(client.meta.id))?;
        }
        self.resolve_property_filters(
            client.meta.id,
            idm_domain::properties::PropertyScope::UserGlobal,
            &mut query,
        )
        .await?;
        let page = self.repo.query_users(client.meta.id, query).await?;
        if sees_all {
            return Ok(VisibleUsers {
                client_id: client.meta.id,
                page,
                unit_paths: None,
            });
        }
        let mut items = Vec::with_capacity(page.items.len());
        let mut unit_paths = Vec::with_capacity(page.items.len());
        for user in page.items {
            let paths = self.repo.user_unit_paths(user.meta.id).await?;
            if caller
                .rights_on(&user_target(&user, &paths))
                .contains(Right::UserView)
            {
                items.push(user);
                unit_paths.push(paths);
            }
        }
        // The count covers the whole client; a caller who sees only part of it gets no total
        // rather than a number that tells how many users hide outside its dataroom.
        Ok(VisibleUsers {
            client_id: client.meta.id,
            page: Listed {
                items,
                more: page.more,
                total: None,
            },
            unit_paths: Some(unit_paths),
        })
    }
}

/// A page of users the caller may view, with what the dataroom check already read.
struct VisibleUsers {
    client_id: i64,
    page: Listed<User>,
    /// Each listed user's unit paths, in page order; `None` when the caller sees the whole
    /// client and none were read.
    unit_paths: Option<Vec<Vec<String>>>,
}
