//! The authorization decision: does this caller, with these grants, satisfy this endpoint's
//! permission expression on this target object?
//!
//! Pure and table-tested, because it is the one place that decides 403s. The rules follow
//! nevisIDM (reference notes §1.2, API.md §3): a right counts only if some authorization that
//! grants it also covers the target in its dataroom; "or SelfAdmin Role" lets a user act on his
//! own data.

use std::fmt;

mod question;
pub use question::{Answer, Authorization, Object, QuestionError, Subject};

use crate::error::DomainError;
use crate::error_code::ErrorCode;
use crate::rights::{Right, RightSet, UnknownRight};

/// One authorization of the caller: the rights of its role and the dataroom they apply in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Rights of the authorized role.
    pub rights: RightSet,
    /// The client of the profile holding the authorization.
    pub client_id: i64,
    /// Id-path of the profile's unit, root first with a trailing slash (`/1/4/9/`).
    pub unit_path: String,
    /// Applies in every client, not only the profile's own.
    pub client_global: bool,
    /// Applies to every unit (and to client-level objects), not only the unit subtree.
    pub unit_global: bool,
}

impl Grant {
    /// Whether the target lies inside this grant's dataroom.
    ///
    /// An empty `unit_path` covers no unit: a profile without a unit path is a data error and
    /// must fail closed, not match every path by `starts_with("")`.
    pub fn covers(&self, target: &Target<'_>) -> bool {
        let Some(client_id) = target.client_id else {
            return true;
        };
        let client_ok = self.client_global || client_id == self.client_id;
        let unit_ok = self.unit_global
            || (!self.unit_path.is_empty()
                && target
                    .unit_paths
                    .iter()
                    .any(|p| p.starts_with(self.unit_path.as_str())));
        client_ok && unit_ok
    }
}

/// Who the caller is, as the fields the identity part of the [`Caller`] needs (grouped so the
/// constructor stays readable).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerIdentity {
    /// Internal id of the caller's user.
    pub user_id: i64,
    /// extId of the caller's user (the bearer token's `sub`).
    pub user_ext_id: String,
    /// Login id of the caller (X-Token `username` must equal it).
    pub login_id: String,
    /// Internal id of the caller's client.
    pub client_id: i64,
    /// extId of the caller's client.
    pub client_ext_id: String,
    /// Name of the caller's client.
    pub client_name: String,
    /// extId of the login profile, if the caller has one.
    pub profile_ext_id: Option<String>,
    /// extId of the login profile's unit.
    pub unit_ext_id: Option<String>,
}

/// The authenticated caller with its grants (one per authorization on an active profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Internal id of the caller's user.
    pub user_id: i64,
    /// extId of the caller's user.
    pub user_ext_id: String,
    /// Login id of the caller.
    pub login_id: String,
    /// Internal id of the caller's client.
    pub client_id: i64,
    /// extId of the caller's client.
    pub client_ext_id: String,
    /// Name of the caller's client.
    pub client_name: String,
    /// extId of the login profile.
    pub profile_ext_id: Option<String>,
    /// extId of the login profile's unit.
    pub unit_ext_id: Option<String>,
    /// The caller's authorizations.
    pub grants: Vec<Grant>,
    /// Union of the rights of all grants, precomputed so "has the right at all" is one AND.
    /// Keep it consistent with `grants` (use [`Caller::new`]).
    pub rights: RightSet,
}

impl Caller {
    /// Builds a caller and computes `rights` from the grants.
    pub fn new(identity: CallerIdentity, grants: Vec<Grant>) -> Self {
        let rights = grants
            .iter()
            .fold(RightSet::empty(), |acc, g| acc.union(g.rights));
        Caller {
            user_id: identity.user_id,
            user_ext_id: identity.user_ext_id,
            login_id: identity.login_id,
            client_id: identity.client_id,
            client_ext_id: identity.client_ext_id,
            client_name: identity.client_name,
            profile_ext_id: identity.profile_ext_id,
            unit_ext_id: identity.unit_ext_id,
            grants,
            rights,
        }
    }

    /// Whether some grant holds the right, regardless of datarooms.
    pub fn has(&self, right: Right) -> bool {
        self.rights.contains(right)
    }

    /// Whether the caller holds `AccessControl.SelfAdmin` (the SelfAdmin role).
    pub fn is_self_admin(&self) -> bool {
        self.has(Right::SelfAdmin)
    }

    /// The rights whose grants cover `target`: what the caller may do to that object. Useful to
    /// filter list results with one call per item.
    pub fn rights_on(&self, target: &Target<'_>) -> RightSet {
        self.grants
            .iter()
            .filter(|g| g.covers(target))
            .fold(RightSet::empty(), |acc, g| acc.union(g.rights))
    }
}

/// The object an operation addresses, as far as datarooms care.
///
/// Built with [`Target::global`], [`Target::client`], [`Target::units`] and
/// [`Target::owned_by`]; new dataroom dimensions may add fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target<'a> {
    /// The object's client; `None` for global objects (applications, roles, terms).
    pub client_id: Option<i64>,
    /// Id-paths of the units the object hangs in (a user: the units of its profiles). Empty for
    /// client-level objects, which only `unit_global` grants cover.
    pub unit_paths: &'a [String],
    /// The user the object belongs to, for the self-admin path.
    pub owner_user_id: Option<i64>,
}

impl<'a> Target<'a> {
    /// A global object (application, role, terms): every grant covers it.
    pub const fn global() -> Self {
        Target {
            client_id: None,
            unit_paths: &[],
            owner_user_id: None,
        }
    }

    /// A client-level object (the client itself, its personal questions, policies): inside the
    /// client only `unit_global` grants cover it.
    pub const fn client(client_id: i64) -> Self {
        Target {
            client_id: Some(client_id),
            unit_paths: &[],
            owner_user_id: None,
        }
    }

    /// An object in the given units of a client (a unit, a profile, a user via its profiles).
    pub const fn units(client_id: i64, unit_paths: &'a [String]) -> Self {
        Target {
            client_id: Some(client_id),
            unit_paths,
            owner_user_id: None,
        }
    }

    /// The same target, owned by `user_id` (enables the self-admin path).
    pub const fn owned_by(self, user_id: i64) -> Self {
        Target {
            owner_user_id: Some(user_id),
            ..self
        }
    }
}

/// An endpoint's permission expression: AND over `groups`, OR inside a group, optionally
/// "or SelfAdmin Role". `const`-constructible so endpoints declare it next to their route.
///
/// Written forms: `A,B` = `&[&[A], &[B]]`; `(A or B)` = `&[&[A, B]]`;
/// `X or SelfAdmin Role` = `groups: &[&[X]], self_admin: true`. A page that says only
/// "SelfAdmin Role" is `&[&[Right::SelfAdmin]]` without the self-admin flag (the right itself is
/// required, there is no owner to compare); no groups at all means "no specific right".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Requirement {
    /// AND of ORs.
    pub groups: &'static [&'static [Right]],
    /// Whether the self-admin path may satisfy the requirement instead.
    pub self_admin: bool,
}

impl Requirement {
    /// All of the groups must be satisfied (`A,B` or `(A or B),C`).
    pub const fn all(groups: &'static [&'static [Right]]) -> Self {
        Requirement {
            groups,
            self_admin: false,
        }
    }

    /// The same requirement, also satisfied by a self-admin acting on own data.
    pub const fn or_self_admin(self) -> Self {
        Requirement {
            self_admin: true,
            ..self
        }
    }

    /// The textual form of the reference pages (for generated docs), e.g.
    /// `(AccessControl.CredentialDelete or AccessControl.DispatchTargetDelete) or SelfAdmin Role`.
    pub fn describe(&self) -> String {
        let rights = self
            .groups
            .iter()
            .map(|g| {
                let alternatives: Vec<&str> = g.iter().map(|r| r.wire()).collect();
                if alternatives.len() == 1 {
                    alternatives.join("")
                } else {
                    format!("({})", alternatives.join(" or "))
                }
            })
            .collect::<Vec<_>>()
            .join(",");
        match (rights.is_empty(), self.self_admin) {
            (true, true) => "SelfAdmin Role".to_owned(),
            (false, true) => format!("{rights} or SelfAdmin Role"),
            (_, false) => rights,
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// How access was granted; callers need the mode because self-admin operations may demand an
/// X-Token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The caller's rights (with datarooms) suffice.
    ByRights,
    /// Only the "or SelfAdmin Role" path allowed it: the caller acts on own data.
    SelfAdmin,
}

/// Why access was refused; converts into the exact nevisIDM 403s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denial {
    /// No grant holds the right (first alternative of the first unsatisfied group).
    #[error("missing right {0}")]
    MissingRight(Right),
    /// A grant holds the right, but none covers the target.
    #[error("dataroom denies {0}")]
    Dataroom(Right),
}

impl From<Denial> for DomainError {
    fn from(denial: Denial) -> Self {
        match denial {
            Denial::MissingRight(r) => DomainError::Forbidden {
                code: ErrorCode::InsufficientRightsFunction,
                message: format!(
                    "Permission denied: Caller does not have the required right '{}' to perform this action",
                    r.wire()
                ),
            },
            Denial::Dataroom(r) => DomainError::Forbidden {
                code: ErrorCode::CombinedDataroomDenied,
                message: format!("Permission denied: {}", r.wire()),
            },
        }
    }
}

/// Decides whether `caller` may perform an operation requiring `req` on `target`.
///
/// Rights are tried first so an administrator acting on his own data is not asked for an
/// X-Token; then the self-admin path; otherwise the first unsatisfied group is named, as a
/// dataroom denial if the caller holds one of its rights somewhere, else as a missing right.
pub fn authorize(
    caller: &Caller,
    req: &Requirement,
    target: &Target<'_>,
) -> Result<Access, Denial> {
    decide(caller, req.groups, req.self_admin, target)
}

/// [`authorize`] over any AND-of-ORs, so a requirement parsed at run time (the
/// [`Subject::may`] façade) is decided by the same code as the endpoints' constants.
fn decide<G: AsRef<[Right]>>(
    caller: &Caller,
    groups: &[G],
    self_admin: bool,
    target: &Target<'_>,
) -> Result<Access, Denial> {
    let effective = caller.rights_on(target);
    let unsatisfied = groups
        .iter()
        .map(AsRef::as_ref)
        .find(|group| !group.iter().any(|r| effective.contains(*r)));
    let Some(group) = unsatisfied else {
        return Ok(Access::ByRights);
    };
    if self_admin && caller.is_self_admin() && target.owner_user_id == Some(caller.user_id) {
        return Ok(Access::SelfAdmin);
    }
    if let Some(held) = group.iter().find(|r| caller.has(**r)) {
        return Err(Denial::Dataroom(*held));
    }
    // An empty group can never be satisfied; name SelfAdmin rather than panic on an index.
    Err(Denial::MissingRight(
        group.first().copied().unwrap_or(Right::SelfAdmin),
    ))
}

/// A permission line that could not be parsed (see [`parse_requirement`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseRequirementError {
    /// A name that is no right.
    #[error(transparent)]
    UnknownRight(#[from] UnknownRight),
    /// Parentheses, `or` or commas in an impossible place.
    #[error("malformed permission expression: {0}")]
    Malformed(String),
}

/// Parses a permission line as printed on the reference pages, e.g.
/// `(AccessControl.CredentialDelete orAccessControl.DispatchTargetDelete) or SelfAdmin Role`,
/// into `(groups, self_admin)`. Accepts names with or without `AccessControl.` and the pages'
/// sloppy `orX` (missing space). Used by tests and documentation checks, not per request.
pub fn parse_requirement(text: &str) -> Result<(Vec<Vec<Right>>, bool), ParseRequirementError> {
    const SELF_ADMIN_ROLE: &str = "SelfAdmin Role";
    let malformed = || ParseRequirementError::Malformed(text.to_owned());
    let mut rest = text.trim();
    let mut self_admin = false;
    if let Some(before) = rest.strip_suffix(SELF_ADMIN_ROLE) {
        self_admin = true;
        rest = before.trim_end();
        if !rest.is_empty() {
            rest = rest.strip_suffix("or").ok_or_else(malformed)?.trim_end();
            if rest.is_empty() {
                return Err(malformed());
            }
        }
    }
    let mut groups = Vec::new();
    if rest.is_empty() {
        return Ok((groups, self_admin));
    }
    for part in split_top_level_commas(rest).ok_or_else(malformed)? {
        let part = part.trim();
        let inner = match part.strip_prefix('(') {
            Some(open) => open.strip_suffix(')').ok_or_else(malformed)?,
            None => part,
        };
        if inner.contains(['(', ')']) {
            return Err(malformed());
        }
        groups.push(parse_alternatives(inner).ok_or_else(malformed)??);
    }
    Ok((groups, self_admin))
}

/// Splits at commas outside parentheses; `None` if the parentheses do not balance.
fn split_top_level_commas(text: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1)?,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return None;
    }
    parts.push(&text[start..]);
    Some(parts)
}

/// Parses `A or B orC` into rights; `None` when `or` and names do not alternate.
fn parse_alternatives(text: &str) -> Option<Result<Vec<Right>, ParseRequirementError>> {
    let mut rights = Vec::new();
    let mut expect_name = true;
    for word in text.split_whitespace() {
        let name = if word == "or" {
            if expect_name {
                return None;
            }
            expect_name = true;
            continue;
        } else if let Some(glued) = word
            .strip_prefix("or")
            .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
        {
            // The pages' `orAccessControl.X`: no right name starts with "or".
            if expect_name {
                return None;
            }
            glued
        } else {
            if !expect_name {
                return None;
            }
            word
        };
        match name.parse::<Right>() {
            Ok(r) => rights.push(r),
            Err(e) => return Some(Err(e.into())),
        }
        expect_name = false;
    }
    if expect_name {
        return None;
    }
    Some(Ok(rights))
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::roles::BuiltinRole;
    use Right::*;

    const CLIENT_MODIFY: Requirement = Requirement::all(&[&[ClientModify]]);
    const CONSENT_CREATE: Requirement = Requirement::all(&[&[ConsentCreate]]);
    const PQ_CREATE: Requirement = Requirement::all(&[&[ClientView], &[PersonalQuestionCreate]]);
    const PROFILE_VIEW_OR_SELF: Requirement = Requirement::all(&[&[ProfileView]]).or_self_admin();
    const DT_DELETE_OR_SELF: Requirement =
        Requirement::all(&[&[CredentialDelete, DispatchTargetDelete]]).or_self_admin();

    const ME: i64 = 7;
    const OTHER: i64 = 8;

    fn grant(role: BuiltinRole, client_global: bool, unit_global: bool) -> Grant {
        Grant {
            rights: role.rights(),
            client_id: 1,
            unit_path: "/1/4/".into(),
            client_global,
            unit_global,
        }
    }

    fn caller(grants: Vec<Grant>) -> Caller {
        Caller::new(
            CallerIdentity {
                user_id: ME,
                client_id: 1,
                ..CallerIdentity::default()
            },
            grants,
        )
    }

    fn paths(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    /// Compact outcome notation for the tables.
    fn outcome(r: Result<Access, Denial>) -> String {
        match r {
            Ok(Access::ByRights) => "rights".into(),
            Ok(Access::SelfAdmin) => "self".into(),
            Err(Denial::MissingRight(r)) => format!("missing {}", r.name()),
            Err(Denial::Dataroom(r)) => format!("dataroom {}", r.name()),
        }
    }

    #[test]
    fn every_builtin_role_against_every_seed_expression_inside_its_dataroom() {
        use BuiltinRole as R;
        let in_room = paths(&["/1/4/9/"]);
        // (role, requirement, target owner, expected)
        let table: &[(R, Requirement, i64, &str)] = &[
            (R::Root, CLIENT_MODIFY, OTHER, "rights"),
            (R::Root, CONSENT_CREATE, OTHER, "rights"),
            (R::Root, PQ_CREATE, OTHER, "rights"),
            (R::Root, PROFILE_VIEW_OR_SELF, OTHER, "rights"),
            (R::Root, PROFILE_VIEW_OR_SELF, ME, "rights"),
            (R::Root, DT_DELETE_OR_SELF, OTHER, "rights"),
            (R::Root, DT_DELETE_OR_SELF, ME, "rights"),
            (R::ClientRoot, CLIENT_MODIFY, OTHER, "rights"),
            (R::ClientRoot, CONSENT_CREATE, OTHER, "rights"),
            (R::ClientRoot, PQ_CREATE, OTHER, "rights"),
            (R::ClientRoot, PROFILE_VIEW_OR_SELF, OTHER, "rights"),
            (R::ClientRoot, DT_DELETE_OR_SELF, ME, "rights"),
            (R::ClientRoot, DT_DELETE_OR_SELF, OTHER, "rights"),
            (R::UserAdmin, CLIENT_MODIFY, OTHER, "missing ClientModify"),
            (R::UserAdmin, CONSENT_CREATE, OTHER, "rights"),
            (
                R::UserAdmin,
                PQ_CREATE,
                OTHER,
                "missing PersonalQuestionCreate",
            ),
            (R::UserAdmin, PROFILE_VIEW_OR_SELF, OTHER, "rights"),
            (R::UserAdmin, PROFILE_VIEW_OR_SELF, ME, "rights"),
            (R::UserAdmin, DT_DELETE_OR_SELF, OTHER, "rights"),
            (R::UserAdmin, DT_DELETE_OR_SELF, ME, "rights"),
            (R::Helpdesk, CLIENT_MODIFY, OTHER, "missing ClientModify"),
            (R::Helpdesk, CONSENT_CREATE, OTHER, "missing ConsentCreate"),
            (
                R::Helpdesk,
                PQ_CREATE,
                OTHER,
                "missing PersonalQuestionCreate",
            ),
            (R::Helpdesk, PROFILE_VIEW_OR_SELF, OTHER, "rights"),
            (
                R::Helpdesk,
                DT_DELETE_OR_SELF,
                OTHER,
                "missing CredentialDelete",
            ),
            (
                R::Helpdesk,
                DT_DELETE_OR_SELF,
                ME,
                "missing CredentialDelete",
            ),
            (R::SelfAdmin, CLIENT_MODIFY, ME, "missing ClientModify"),
            (R::SelfAdmin, CONSENT_CREATE, ME, "missing ConsentCreate"),
            (R::SelfAdmin, PQ_CREATE, ME, "missing ClientView"),
            (R::SelfAdmin, PROFILE_VIEW_OR_SELF, ME, "self"),
            (
                R::SelfAdmin,
                PROFILE_VIEW_OR_SELF,
                OTHER,
                "missing ProfileView",
            ),
            (R::SelfAdmin, DT_DELETE_OR_SELF, ME, "self"),
            (
                R::SelfAdmin,
                DT_DELETE_OR_SELF,
                OTHER,
                "missing CredentialDelete",
            ),
        ];
        for (role, req, owner, expected) in table {
            let c = caller(vec![grant(*role, false, false)]);
            let target = Target::units(1, &in_room).owned_by(*owner);
            assert_eq!(
                outcome(authorize(&c, req, &target)),
                *expected,
                "{role:?} / {req} / owner {owner}"
            );
        }
    }

    #[test]
    fn datarooms_decide_by_client_and_unit_subtree() {
        let own_in = paths(&["/1/4/9/"]);
        let own_exact = paths(&["/1/4/"]);
        let own_out = paths(&["/1/5/"]);
        let own_sibling_prefix = paths(&["/1/40/"]);
        let own_mixed = paths(&["/1/5/", "/1/4/2/"]);
        let other = paths(&["/2/7/"]);
        let targets: [(&str, Target<'_>); 10] = [
            ("own unit subtree", Target::units(1, &own_in)),
            ("own grant unit", Target::units(1, &own_exact)),
            ("own other unit", Target::units(1, &own_out)),
            ("own /1/40/", Target::units(1, &own_sibling_prefix)),
            ("own one of several", Target::units(1, &own_mixed)),
            ("own client level", Target::client(1)),
            ("other client unit", Target::units(2, &other)),
            ("other client level", Target::client(2)),
            ("global", Target::global()),
            ("own, no units", Target::units(1, &[])),
        ];
        // (client_global, unit_global) → expected per target, in the order above.
        let d = "dataroom ConsentCreate";
        let r = "rights";
        let table: [((bool, bool), [&str; 10]); 4] = [
            ((false, false), [r, r, d, d, r, d, d, d, r, d]),
            ((false, true), [r, r, r, r, r, r, d, d, r, r]),
            ((true, false), [r, r, d, d, r, d, d, d, r, d]),
            ((true, true), [r, r, r, r, r, r, r, r, r, r]),
        ];
        for ((cg, ug), expected) in table {
            let c = caller(vec![grant(BuiltinRole::UserAdmin, cg, ug)]);
            for ((label, target), want) in targets.iter().zip(expected) {
                assert_eq!(
                    outcome(authorize(&c, &CONSENT_CREATE, target)),
                    want,
                    "clientGlobal={cg} unitGlobal={ug} target={label}"
                );
            }
        }
    }

    #[test]
    fn user_admin_on_client_a_is_dataroom_denied_on_client_b() {
        let c = caller(vec![grant(BuiltinRole::UserAdmin, false, true)]);
        let p = paths(&["/2/3/"]);
        let target = Target::units(2, &p).owned_by(OTHER);
        assert_eq!(
            authorize(&c, &PROFILE_VIEW_OR_SELF, &target),
            Err(Denial::Dataroom(ProfileView))
        );
    }

    #[test]
    fn a_client_root_with_client_global_and_unit_global_reaches_other_clients() {
        let c = caller(vec![grant(BuiltinRole::ClientRoot, true, true)]);
        assert_eq!(
            authorize(&c, &CLIENT_MODIFY, &Target::client(2)),
            Ok(Access::ByRights)
        );
    }

    #[test]
    fn an_admin_acting_on_own_data_is_served_by_rights_not_self_admin() {
        let c = caller(vec![
            grant(BuiltinRole::UserAdmin, false, false),
            grant(BuiltinRole::SelfAdmin, false, false),
        ]);
        let p = paths(&["/1/4/"]);
        let target = Target::units(1, &p).owned_by(ME);
        assert_eq!(
            authorize(&c, &DT_DELETE_OR_SELF, &target),
            Ok(Access::ByRights)
        );
    }

    #[test]
    fn a_self_admin_outside_the_admin_dataroom_still_reaches_own_data() {
        let c = caller(vec![
            grant(BuiltinRole::UserAdmin, false, false),
            grant(BuiltinRole::SelfAdmin, false, false),
        ]);
        let p = paths(&["/1/5/"]);
        assert_eq!(
            authorize(
                &c,
                &PROFILE_VIEW_OR_SELF,
                &Target::units(1, &p).owned_by(ME)
            ),
            Ok(Access::SelfAdmin)
        );
        assert_eq!(
            authorize(
                &c,
                &PROFILE_VIEW_OR_SELF,
                &Target::units(1, &p).owned_by(OTHER)
            ),
            Err(Denial::Dataroom(ProfileView))
        );
    }

    #[test]
    fn self_admin_does_not_apply_when_the_requirement_does_not_allow_it() {
        let c = caller(vec![grant(BuiltinRole::SelfAdmin, false, false)]);
        let p = paths(&["/1/4/"]);
        assert_eq!(
            authorize(&c, &CONSENT_CREATE, &Target::units(1, &p).owned_by(ME)),
            Err(Denial::MissingRight(ConsentCreate))
        );
    }

    #[test]
    fn a_target_without_owner_never_takes_the_self_admin_path() {
        let c = caller(vec![grant(BuiltinRole::SelfAdmin, false, false)]);
        assert_eq!(
            authorize(&c, &PROFILE_VIEW_OR_SELF, &Target::client(1)),
            Err(Denial::MissingRight(ProfileView))
        );
    }

    #[test]
    fn the_first_unsatisfied_group_is_named_in_order() {
        let only_pq = Grant {
            rights: RightSet::of(&[PersonalQuestionCreate]),
            ..grant(BuiltinRole::Root, false, true)
        };
        let c = caller(vec![only_pq]);
        assert_eq!(
            authorize(&c, &PQ_CREATE, &Target::client(1)),
            Err(Denial::MissingRight(ClientView))
        );
        let c = caller(vec![grant(BuiltinRole::Helpdesk, false, true)]);
        assert_eq!(
            authorize(&c, &PQ_CREATE, &Target::client(1)),
            Err(Denial::MissingRight(PersonalQuestionCreate))
        );
    }

    #[test]
    fn a_held_but_uncovered_right_is_a_dataroom_denial_even_if_later_groups_are_missing() {
        let c = caller(vec![grant(BuiltinRole::Helpdesk, false, false)]);
        // ClientView is held but the client level needs unitGlobal; ClientView's group is first.
        assert_eq!(
            authorize(&c, &PQ_CREATE, &Target::client(1)),
            Err(Denial::Dataroom(ClientView))
        );
    }

    #[test]
    fn within_a_group_the_first_held_right_is_named_for_a_dataroom_denial() {
        let dt_only = Grant {
            rights: RightSet::of(&[DispatchTargetDelete]),
            ..grant(BuiltinRole::Root, false, false)
        };
        let c = caller(vec![dt_only]);
        let p = paths(&["/1/5/"]);
        assert_eq!(
            authorize(
                &c,
                &DT_DELETE_OR_SELF,
                &Target::units(1, &p).owned_by(OTHER)
            ),
            Err(Denial::Dataroom(DispatchTargetDelete))
        );
    }

    #[test]
    fn a_right_counts_only_through_a_grant_that_both_holds_it_and_covers_the_target() {
        // Grant A covers the target but lacks the right; grant B has the right elsewhere.
        let covering_view_only = Grant {
            rights: RightSet::of(&[ProfileView]),
            ..grant(BuiltinRole::Root, false, true)
        };
        let elsewhere = Grant {
            unit_path: "/1/9/".into(),
            ..grant(BuiltinRole::UserAdmin, false, false)
        };
        let c = caller(vec![covering_view_only, elsewhere]);
        let p = paths(&["/1/4/"]);
        assert_eq!(
            authorize(&c, &CONSENT_CREATE, &Target::units(1, &p)),
            Err(Denial::Dataroom(ConsentCreate))
        );
    }

    #[test]
    fn an_empty_unit_path_covers_no_unit() {
        let broken = Grant {
            unit_path: String::new(),
            ..grant(BuiltinRole::Root, false, false)
        };
        let c = caller(vec![broken]);
        let p = paths(&["/1/4/"]);
        assert_eq!(
            authorize(&c, &CONSENT_CREATE, &Target::units(1, &p)),
            Err(Denial::Dataroom(ConsentCreate))
        );
    }

    #[test]
    fn a_caller_without_grants_misses_the_first_right_and_empty_requirements_pass() {
        let c = caller(vec![]);
        assert!(c.rights.is_empty() && !c.is_self_admin());
        assert_eq!(
            authorize(&c, &CLIENT_MODIFY, &Target::global()),
            Err(Denial::MissingRight(ClientModify))
        );
        assert_eq!(
            authorize(&c, &Requirement::all(&[]), &Target::global()),
            Ok(Access::ByRights)
        );
    }

    #[test]
    fn caller_rights_are_the_union_of_its_grants() {
        let c = caller(vec![
            grant(BuiltinRole::Helpdesk, false, false),
            grant(BuiltinRole::SelfAdmin, false, false),
        ]);
        assert_eq!(
            c.rights,
            BuiltinRole::Helpdesk
                .rights()
                .union(BuiltinRole::SelfAdmin.rights())
        );
        assert!(c.has(UserModify) && c.is_self_admin() && !c.has(UserCreate));
    }

    #[test]
    fn a_missing_right_becomes_the_exact_insufficient_rights_message() {
        assert_eq!(
            DomainError::from(Denial::MissingRight(CredentialDelete)),
            DomainError::Forbidden {
                code: ErrorCode::InsufficientRightsFunction,
                message: "Permission denied: Caller does not have the required right 'AccessControl.CredentialDelete' to perform this action".into(),
            }
        );
    }

    #[test]
    fn a_dataroom_denial_becomes_the_exact_combined_dataroom_message() {
        assert_eq!(
            DomainError::from(Denial::Dataroom(ClientModify)),
            DomainError::Forbidden {
                code: ErrorCode::CombinedDataroomDenied,
                message: "Permission denied: AccessControl.ClientModify".into(),
            }
        );
    }

    #[test]
    fn requirements_describe_themselves_like_the_reference_pages() {
        assert_eq!(CLIENT_MODIFY.describe(), "AccessControl.ClientModify");
        assert_eq!(
            PQ_CREATE.describe(),
            "AccessControl.ClientView,AccessControl.PersonalQuestionCreate"
        );
        assert_eq!(
            PROFILE_VIEW_OR_SELF.describe(),
            "AccessControl.ProfileView or SelfAdmin Role"
        );
        assert_eq!(
            DT_DELETE_OR_SELF.to_string(),
            "(AccessControl.CredentialDelete or AccessControl.DispatchTargetDelete) or SelfAdmin Role"
        );
        assert_eq!(
            Requirement::all(&[]).or_self_admin().describe(),
            "SelfAdmin Role"
        );
    }

    #[test]
    fn the_seed_permission_lines_parse_to_the_declared_requirements() {
        let cases: &[(&str, Requirement)] = &[
            ("AccessControl.ClientModify", CLIENT_MODIFY),
            ("AccessControl.ConsentCreate", CONSENT_CREATE),
            ("AccessControl.ClientView,AccessControl.PersonalQuestionCreate", PQ_CREATE),
            ("AccessControl.ProfileView or SelfAdmin Role", PROFILE_VIEW_OR_SELF),
            (
                "(AccessControl.CredentialDelete orAccessControl.DispatchTargetDelete) or SelfAdmin Role",
                DT_DELETE_OR_SELF,
            ),
            ("(CredentialDelete orDispatchTargetDelete) or SelfAdmin Role", DT_DELETE_OR_SELF),
            ("ClientView, PersonalQuestionCreate", PQ_CREATE),
        ];
        for (text, req) in cases {
            let (groups, self_admin) = parse_requirement(text).unwrap();
            let want: Vec<Vec<Right>> = req.groups.iter().map(|g| g.to_vec()).collect();
            assert_eq!((groups, self_admin), (want, req.self_admin), "{text}");
            // describe() and parse_requirement() agree.
            let (again, sa) = parse_requirement(&req.describe()).unwrap();
            assert_eq!(again.len(), req.groups.len());
            assert_eq!(sa, req.self_admin);
        }
    }

    #[test]
    fn permission_lines_with_several_or_groups_and_self_admin_alone_parse() {
        assert_eq!(
            parse_requirement("(A orB), (C orD)").map_err(|e| e.to_string()),
            Err("unknown right 'A'".to_owned())
        );
        assert_eq!(
            parse_requirement("(UserView orUserModify), (UnitView or UnitModify)").unwrap(),
            (
                vec![vec![UserView, UserModify], vec![UnitView, UnitModify]],
                false
            )
        );
        assert_eq!(parse_requirement("SelfAdmin Role").unwrap(), (vec![], true));
        assert_eq!(
            parse_requirement("AccessControl.AuthorizationCreate").unwrap(),
            (vec![vec![AuthorizationCreate]], false)
        );
    }

    #[test]
    fn malformed_permission_lines_are_rejected() {
        for bad in [
            "(ClientView",
            "ClientView)",
            "ClientView or",
            "or ClientView",
            "ClientView UserView",
            "ClientView,,UserView",
            "or SelfAdmin Role",
            "ClientView SelfAdmin Role",
            "((ClientView))",
        ] {
            assert!(parse_requirement(bad).is_err(), "{bad}");
        }
    }
}
