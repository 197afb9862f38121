//! Locate once, admit once: the start of every use case that addresses a client's objects.
//!
//! A use case states its URL as an [`Address`] and its rules as a [`Gate`]; [`Services::admit`]
//! resolves the address with one port call and applies the checks in the order of the
//! reference pages — rights precheck, the 404s (client, user, profile, units, item), the
//! dataroom, the self-admin path, the X-Token (its claims, then its credential epoch) — so
//! that order exists in this file only.

use idm_domain::access::{authorize, Access, Caller, Requirement, Target};
use idm_domain::model::{
    AppAttestation, Authorization, Client, DispatchTarget, FidoUafCredential, PersonalQuestion,
    Profile, Unit, User,
};
use idm_domain::policy_config::Parameters;
use idm_domain::DomainError;
use idm_ports::locate::{Address, Item, ItemKey, Located};

use crate::{AppError, AppResult, Services};

/// What self-admin mode must additionally prove for an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proof<'a> {
    /// Nothing beyond the self-admin role.
    None,
    /// A valid `X-Token` (the header as sent, if any).
    XToken(Option<&'a str>),
}

/// Which located object the dataroom check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The most specific addressed object: the profile, else the user (in the units of its
    /// profiles), else the unit, else the client; plus the second unit when there is one.
    Object,
    /// The addressed unit only (a profile is created in a unit: the user's datarooms do not
    /// matter).
    Unit,
}

/// The rules of one operation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gate<'a> {
    /// The permission expression of the endpoint.
    pub req: &'a Requirement,
    /// What self-admin mode must prove.
    pub proof: Proof<'a>,
    /// Where the dataroom check looks.
    pub scope: Scope,
    /// Some reference pages end the user-404 sentence with a period, some don't.
    pub user_404_period: bool,
}

impl<'a> Gate<'a> {
    /// `req` on the addressed object, nothing more to prove in self-admin mode.
    pub(crate) const fn new(req: &'a Requirement) -> Self {
        Gate {
            req,
            proof: Proof::None,
            scope: Scope::Object,
            user_404_period: false,
        }
    }

    /// Self-admin mode must present a valid X-Token (the header as sent).
    pub(crate) const fn xtoken(self, header: Option<&'a str>) -> Self {
        Gate {
            proof: Proof::XToken(header),
            ..self
        }
    }

    /// The dataroom check looks at the addressed unit only.
    pub(crate) const fn on_unit(self) -> Self {
        Gate {
            scope: Scope::Unit,
            ..self
        }
    }

    /// The user-404 message ends with a period.
    pub(crate) const fn user_404_period(self) -> Self {
        Gate {
            user_404_period: true,
            ..self
        }
    }
}

/// An admitted request: what the address located. Every part the address named exists
/// (admission answered 404 otherwise).
#[derive(Debug)]
pub(crate) struct Admitted {
    /// The located parts.
    pub found: Located,
    /// Whether the caller came in by rights or as a self-admin on own data.
    pub access: Access,
}

fn missing(what: &str) -> AppError {
    AppError::Internal(format!("admitted request without its {what}"))
}

impl Admitted {
    pub(crate) fn client(&self) -> AppResult<&Client> {
        self.found.client.as_ref().ok_or_else(|| missing("client"))
    }
    pub(crate) fn user(&self) -> AppResult<&User> {
        self.found.user.as_ref().ok_or_else(|| missing("user"))
    }
    pub(crate) fn profile(&self) -> AppResult<&Profile> {
        self.found
            .profile
            .as_ref()
            .ok_or_else(|| missing("profile"))
    }
    /// The client's `ClientPolicy` parameters (`None`: the client has none); the address
    /// must have asked for them ([`Address::with_client_policy`]).
    pub(crate) fn client_policy(&self) -> AppResult<Option<&Parameters>> {
        self.found
            .client_policy
            .as_ref()
            .map(Option::as_ref)
            .ok_or_else(|| missing("client policy"))
    }
    pub(crate) fn unit(&self) -> AppResult<&Unit> {
        self.found.unit.as_ref().ok_or_else(|| missing("unit"))
    }
    pub(crate) fn other_unit(&self) -> AppResult<&Unit> {
        self.found
            .other_unit
            .as_ref()
            .ok_or_else(|| missing("second unit"))
    }
    pub(crate) fn into_client(self) -> AppResult<Client> {
        self.found.client.ok_or_else(|| missing("client"))
    }
    pub(crate) fn into_user(self) -> AppResult<User> {
        self.found.user.ok_or_else(|| missing("user"))
    }
    pub(crate) fn into_profile(self) -> AppResult<Profile> {
        self.found.profile.ok_or_else(|| missing("profile"))
    }
    pub(crate) fn into_unit(self) -> AppResult<Unit> {
        self.found.unit.ok_or_else(|| missing("unit"))
    }
    pub(crate) fn dispatch_target(&self) -> AppResult<(&DispatchTarget, Option<&AppAttestation>)> {
        match &self.found.item {
            Some(Item::DispatchTarget(t, a)) => Ok((t, a.as_ref())),
            _ => Err(missing("dispatch target")),
        }
    }
    pub(crate) fn into_dispatch_target(
        self,
    ) -> AppResult<(DispatchTarget, Option<AppAttestation>)> {
        match self.found.item {
            Some(Item::DispatchTarget(t, a)) => Ok((t, a)),
            _ => Err(missing("dispatch target")),
        }
    }
    pub(crate) fn into_fido_uaf(self) -> AppResult<FidoUafCredential> {
        match self.found.item {
            Some(Item::FidoUaf(f)) => Ok(f),
            _ => Err(missing("FIDO UAF credential")),
        }
    }
    pub(crate) fn into_personal_question(self) -> AppResult<PersonalQuestion> {
        match self.found.item {
            Some(Item::PersonalQuestion(q)) => Ok(q),
            _ => Err(missing("personal question")),
        }
    }
    pub(crate) fn into_authorization(self) -> AppResult<Authorization> {
        match self.found.item {
            Some(Item::Authorization(a)) => Ok(a),
            _ => Err(missing("authorization")),
        }
    }
    pub(crate) fn authorization(&self) -> AppResult<&Authorization> {
        match &self.found.item {
            Some(Item::Authorization(a)) => Ok(a),
            _ => Err(missing("authorization")),
        }
    }
}

impl Services {
    /// Locates `address` (one port call) and admits `caller` to it under `gate`.
    ///
    /// # Errors
    /// The first of: 403 missing right, 404 client / user / profile / unit / item, 403
    /// dataroom, 422 `errors.invalidJWTToken` (self-admin without a valid X-Token); or a
    /// repository failure.
    pub(crate) async fn admit(
        &self,
        caller: &Caller,
        gate: Gate<'_>,
        address: Address,
    ) -> AppResult<Admitted> {
        // The rights precheck costs nothing and must come before any look-up (a caller with
        // no right at all learns nothing about what exists).
        precheck(caller, gate.req)?;
        let found = self.repo.locate(&address).await?;
        // Set only when the X-Token was actually checked (self-admin on an X-Token gate), so
        // the epoch is read only there: one indexed read, after every other check passed.
        let mut token_epoch = None;
        let access = after_lookup(caller, &gate, &address, &found, |header| {
            token_epoch = Some(self.check_xtoken(caller, header)?);
            Ok(())
        })?;
        if let Some(issued_at) = token_epoch {
            self.check_xtoken_epoch(caller, issued_at).await?;
        }
        Ok(Admitted { found, access })
    }
}

/// The rights precheck: the caller must hold every group of `req` somewhere (or be a
/// self-admin where the requirement allows it), before anything is looked up.
///
/// # Errors
/// 403 `errors.insufficientRightsFunction` naming the first missing right.
pub(crate) fn precheck(caller: &Caller, req: &Requirement) -> AppResult<()> {
    if req.self_admin && caller.is_self_admin() {
        return Ok(());
    }
    for group in req.groups {
        if !group.iter().any(|r| caller.has(*r)) {
            if let Some(first) = group.first() {
                return Err(
                    DomainError::from(idm_domain::access::Denial::MissingRight(*first)).into(),
                );
            }
        }
    }
    Ok(())
}

/// All checks in the reference's order, composed as [`Services::admit`] composes them
/// (precheck, look-up, [`after_lookup`]); pure, so the order is table-tested. `xtoken`
/// verifies the X-Token header of a self-admin request.
#[cfg(test)]
pub(crate) fn admission(
    caller: &Caller,
    gate: &Gate<'_>,
    address: &Address,
    found: &Located,
    xtoken: impl FnOnce(Option<&str>) -> AppResult<()>,
) -> AppResult<Access> {
    precheck(caller, gate.req)?;
    after_lookup(caller, gate, address, found, xtoken)
}

/// The checks that need the look-up (everything after the rights precheck), in order.
fn after_lookup(
    caller: &Caller,
    gate: &Gate<'_>,
    address: &Address,
    found: &Located,
    xtoken: impl FnOnce(Option<&str>) -> AppResult<()>,
) -> AppResult<Access> {
    let client = found
        .client
        .as_ref()
        .ok_or_else(|| client_not_found(&address.client))?;
    if let Some(u) = &address.user {
        if found.user.is_none() {
            let period = if gate.user_404_period { "." } else { "" };
            return Err(not_found(format!(
                "A user with extId '{u}' doesn't exist on client with name {}{period}",
                client.name
            )));
        }
    }
    if let Some(p) = &address.profile {
        if found.profile.is_none() {
            return Err(profile_not_found(p));
        }
    }
    for (asked, got) in [
        (&address.unit, &found.unit),
        (&address.other_unit, &found.other_unit),
    ] {
        if let (Some(u), None) = (asked, got) {
            return Err(unit_not_found(u));
        }
    }
    if let Some(key) = &address.item {
        item_present(key, client, found)?;
    }
    let access = dataroom(caller, gate, client, found)?;
    if let (Access::SelfAdmin, Proof::XToken(header)) = (access, gate.proof) {
        xtoken(header)?;
    }
    Ok(access)
}

fn item_present(key: &ItemKey, client: &Client, found: &Located) -> AppResult<()> {
    let owner = found.user.as_ref().map_or("", |u| u.meta.ext_id.as_str());
    let ext_id = key.ext_id();
    let message = match (key, &found.item) {
        (ItemKey::AppAttestation(_), Some(Item::DispatchTarget(target, None))) => format!(
            "No AppAttestation found for DispatchTarget with extId '{}' for user with extId '{owner}' on client with name '{}'",
            target.meta.ext_id, client.name
        ),
        (_, Some(_)) => return Ok(()),
        (ItemKey::DispatchTarget(_) | ItemKey::AppAttestation(_), None) => format!(
            "No DispatchTarget found with extId '{ext_id}' for user with extId '{owner}' on client with name '{}'",
            client.name
        ),
        (ItemKey::FidoUaf(_), None) => format!(
            "No FidoUafCredential found with extId '{ext_id}' for user with extId '{owner}' on client with name '{}'",
            client.name
        ),
        (ItemKey::PersonalQuestion(_), None) => {
            format!("Personal question doesn't exist with extId '{ext_id}'")
        }
        (ItemKey::Authorization(_), None) => {
            format!("Authorization doesn't exist with extId '{ext_id}'")
        }
    };
    Err(not_found(message))
}

/// The dataroom and self-admin decision on the object `gate.scope` selects, then on the second
/// unit. Self-admin mode counts when the main object granted it.
fn dataroom(
    caller: &Caller,
    gate: &Gate<'_>,
    client: &Client,
    found: &Located,
) -> AppResult<Access> {
    let check = |target: &Target<'_>| -> AppResult<Access> {
        authorize(caller, gate.req, target).map_err(|d| AppError::Domain(d.into()))
    };
    let access = match (gate.scope, &found.profile, &found.user, &found.unit) {
        (Scope::Unit, _, _, Some(unit)) | (Scope::Object, None, None, Some(unit)) => check(
            &Target::units(client.meta.id, std::slice::from_ref(&unit.path)),
        )?,
        (Scope::Object, Some(p), _, _) => check(&profile_target(p))?,
        (Scope::Object, None, Some(u), _) => check(&user_target(u, &found.user_unit_paths))?,
        (Scope::Object, None, None, None) | (Scope::Unit, _, _, None) => {
            check(&Target::client(client.meta.id))?
        }
    };
    if let Some(other) = &found.other_unit {
        check(&Target::units(
            client.meta.id,
            std::slice::from_ref(&other.path),
        ))?;
    }
    Ok(access)
}

/// The dataroom target of a profile: its unit, owned by its user (for the self-admin path).
/// Borrows the profile's unit path, so building it allocates nothing.
pub fn profile_target(profile: &Profile) -> Target<'_> {
    Target::units(profile.client_id, std::slice::from_ref(&profile.unit_path))
        .owned_by(profile.user_id)
}

/// The dataroom target of a user object: its client, its profiles' units, and its owner (for
/// the self-admin path).
pub fn user_target<'a>(user: &User, unit_paths: &'a [String]) -> Target<'a> {
    Target::units(user.client_id, unit_paths).owned_by(user.meta.id)
}

fn not_found(message: String) -> AppError {
    DomainError::NotFound(message).into()
}

/// 404 `Client doesn't exist with extId '...'` (seeds 000–004).
pub(crate) fn client_not_found(ext_id: &str) -> AppError {
    not_found(format!("Client doesn't exist with extId '{ext_id}'"))
}

/// 404 `Profile doesn't exist with extId '...'` (seed 004).
pub(crate) fn profile_not_found(ext_id: &str) -> AppError {
    not_found(format!("Profile doesn't exist with extId '{ext_id}'"))
}

/// 404 `Unit doesn't exist with extId '...'`.
pub(crate) fn unit_not_found(ext_id: &str) -> AppError {
    not_found(format!("Unit doesn't exist with extId '{ext_id}'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use idm_domain::access::{CallerIdentity, Grant};
    use idm_domain::model::{DispatchTarget, Meta};
    use idm_domain::rights::Right;
    use idm_domain::roles::BuiltinRole;
    use idm_domain::values::{now_millis, DispatchTargetState, UserState, Validity};

    const DT_DELETE: Requirement =
        Requirement::all(&[&[Right::CredentialDelete, Right::DispatchTargetDelete]])
            .or_self_admin();
    const ME: i64 = 7;
    const OTHER: i64 = 8;

    fn meta(id: i64, ext_id: &str) -> Meta {
        let now = now_millis();
        Meta {
            id,
            ext_id: ext_id.into(),
            created: now,
            last_modified: now,
            version: 1,
        }
    }

    fn caller(client_id: i64, grants: &[(BuiltinRole, &str, bool)]) -> Caller {
        Caller::new(
            CallerIdentity {
                user_id: ME,
                user_ext_id: "me".into(),
                client_id,
                ..CallerIdentity::default()
            },
            grants
                .iter()
                .map(|(role, path, unit_global)| Grant {
                    rights: role.rights(),
                    client_id,
                    unit_path: (*path).into(),
                    client_global: false,
                    unit_global: *unit_global,
                })
                .collect(),
        )
    }

    fn user(id: i64) -> User {
        User {
            meta: meta(id, &format!("user-{id}")),
            client_id: 1,
            client_ext_id: "c".into(),
            login_id: format!("user-{id}"),
            state: UserState::Active,
            language_code: None,
            is_technical_user: false,
            name: Default::default(),
            sex: None,
            gender: None,
            birth_date: None,
            contacts: Default::default(),
            address: Default::default(),
            remarks: None,
            modification_comment: None,
            validity: Validity::default(),
        }
    }

    fn target(owner: i64) -> Item {
        Item::DispatchTarget(
            DispatchTarget {
                meta: meta(50, "dt"),
                client_id: 1,
                user_id: owner,
                target_type: "fido-uaf".into(),
                device_id: "d".into(),
                target: "t".into(),
                dispatcher: None,
                user_agent: None,
                encryption_key: None,
                signing_key: "k".into(),
                app_id: "a".into(),
                name: "n".into(),
                state: DispatchTargetState::Active,
            },
            None,
        )
    }

    /// Client 1 with user `owner` (profiles in unit /1/9/) and its dispatch target; `parts`
    /// says how much of it exists: 0 nothing, 1 the client, 2 the user too, 3 everything.
    fn located(owner: i64, parts: u8) -> Located {
        Located {
            client: (parts >= 1).then(|| Client {
                meta: meta(1, "c"),
                name: "Default".into(),
                display_name: Default::default(),
                remarks: None,
            }),
            user: (parts >= 2).then(|| user(owner)),
            user_unit_paths: if parts >= 2 {
                vec!["/1/9/".into()]
            } else {
                vec![]
            },
            item: (parts >= 3).then(|| target(owner)),
            ..Located::default()
        }
    }

    /// The outcome in the notation of the table.
    fn outcome(caller: &Caller, found: &Located, xtoken: Option<&str>) -> String {
        let address = Address::client("c")
            .with_user("u")
            .with_item(ItemKey::DispatchTarget("dt".into()));
        let gate = Gate::new(&DT_DELETE).xtoken(xtoken);
        let check = |h: Option<&str>| match h {
            Some("good") => Ok(()),
            _ => Err(AppError::Domain(DomainError::unprocessable(
                idm_domain::ErrorCode::InvalidJWTToken,
                "Invalid JWT token.",
            ))),
        };
        match admission(caller, &gate, &address, found, check) {
            Ok(Access::ByRights) => "rights".into(),
            Ok(Access::SelfAdmin) => "self".into(),
            Err(AppError::Domain(DomainError::NotFound(m))) => {
                let what = m.split_whitespace().next().unwrap_or_default().to_owned();
                format!("404 {what}")
            }
            Err(AppError::Domain(DomainError::Forbidden { code, .. })) => {
                format!("403 {}", code.as_str())
            }
            Err(AppError::Domain(DomainError::Unprocessable { code, .. })) => {
                format!("422 {}", code.as_str())
            }
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn admission_applies_rights_then_404s_then_dataroom_then_self_admin_then_x_token() {
        use BuiltinRole::*;
        let admin = caller(1, &[(Root, "/1/", true)]);
        let unit_admin = caller(1, &[(UserAdmin, "/1/4/", false)]);
        let foreign_admin = caller(2, &[(UserAdmin, "/2/", true)]);
        let self_admin = caller(1, &[(SelfAdmin, "/1/9/", false)]);
        let nobody = caller(1, &[]);
        let missing = "403 errors.insufficientRightsFunction";
        let dataroom = "403 errors.combinedDataroomDenied";
        let jwt = "422 errors.invalidJWTToken";
        #[rustfmt::skip]
        let table: &[(&str, &Caller, Located, Option<&str>, &str)] = &[
            // The rights precheck comes before any 404: no right, nothing learnt.
            ("nobody, no client", &nobody, located(OTHER, 0), None, missing),
            ("nobody, everything", &nobody, located(OTHER, 3), None, missing),
            // Then the 404s, in path order.
            ("admin, no client", &admin, located(OTHER, 0), None, "404 Client"),
            ("admin, no user", &admin, located(OTHER, 1), None, "404 A"),
            ("admin, no target", &admin, located(OTHER, 2), None, "404 No"),
            // The item 404 comes before the dataroom.
            ("foreign admin, no target", &foreign_admin, located(OTHER, 2), None, "404 No"),
            // Then the dataroom.
            ("foreign admin", &foreign_admin, located(OTHER, 3), None, dataroom),
            ("unit admin, user elsewhere", &unit_admin, located(OTHER, 3), None, dataroom),
            ("admin", &admin, located(OTHER, 3), None, "rights"),
            // Rights win over self-admin: an administrator on own data needs no X-Token.
            ("admin on own data", &admin, located(ME, 3), None, "rights"),
            // Self-admin only on own data, and then the X-Token.
            ("self-admin, other user", &self_admin, located(OTHER, 3), Some("good"), missing),
            ("self-admin, no X-Token", &self_admin, located(ME, 3), None, jwt),
            ("self-admin, bad X-Token", &self_admin, located(ME, 3), Some("bad"), jwt),
            ("self-admin, good X-Token", &self_admin, located(ME, 3), Some("good"), "self"),
            // The X-Token is checked last: a self-admin gets the 404 first.
            ("self-admin, no target", &self_admin, located(ME, 2), None, "404 No"),
        ];
        for (case, caller, found, xtoken, expected) in table {
            assert_eq!(outcome(caller, found, *xtoken), *expected, "{case}");
        }
    }

    #[test]
    fn a_profile_create_checks_the_dataroom_of_the_unit_not_of_the_user() {
        let unit_admin = caller(1, &[(BuiltinRole::UserAdmin, "/1/4/", false)]);
        let req = Requirement::all(&[&[Right::ProfileCreate]]);
        let mut found = located(OTHER, 2);
        found.unit = Some(Unit {
            meta: meta(4, "u4"),
            client_id: 1,
            client_ext_id: "c".into(),
            parent_id: Some(1),
            parent_ext_id: None,
            path: "/1/4/".into(),
            hierarchical_name: "c-root/u4".into(),
            name: "u4".into(),
            location: None,
            description: None,
            state: idm_domain::values::UnitState::Active,
            display_name: Default::default(),
            abbreviation: Default::default(),
            profileless: false,
            modification_comment: None,
            validity: Validity::default(),
        });
        let address = Address::client("c").with_user("u").with_unit("u4");
        let ok = |_: Option<&str>| Ok(());
        assert_eq!(
            admission(
                &unit_admin,
                &Gate::new(&req).on_unit(),
                &address,
                &found,
                ok
            ),
            Ok(Access::ByRights)
        );
        assert!(admission(&unit_admin, &Gate::new(&req), &address, &found, ok).is_err());
    }
}
