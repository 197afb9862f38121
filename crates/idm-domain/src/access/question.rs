//! "May caller X do R on this object?", asked in the terms the REST API shows: client and user
//! extIds, built-in role names such as `UserAdmin`, units as extId paths from the client's root,
//! and rights or permission lines as the reference pages print them.
//!
//! The engine itself ([`authorize`](super::authorize)) works on internal ids and id-paths
//! (`/1/4/9/`), which an embedding service never sees. This façade numbers the extIds it is
//! given consistently for one question, so the dataroom rules (a grant covers its profile's unit
//! subtree in its own client unless it is unit- or client-global) apply unchanged.
//!
//! ```
//! use idm_domain::access::{Answer, Authorization, Object, Subject};
//! use idm_domain::DomainError;
//!
//! // Helpdesk alice in unit Default-root/sales: may she modify bob, whose profile is in
//! // Default-root/sales/team-a?
//! let alice = Subject::new("Default", "alice")
//!     .with(Authorization::role("Helpdesk").in_unit(["Default-root", "sales"]));
//! let bob = Object::in_units("Default", [["Default-root", "sales", "team-a"]]).owned_by("bob");
//! assert!(alice.may("AccessControl.UserModify", &bob)?.is_allowed());
//!
//! // Helpdesk holds no UserDelete right at all: nevisIDM's 403 names the missing right.
//! match alice.may("UserDelete", &bob)? {
//!     Answer::Denied(DomainError::Forbidden { code, message }) => {
//!         assert_eq!(code.as_str(), "errors.insufficientRightsFunction");
//!         assert_eq!(
//!             message,
//!             "Permission denied: Caller does not have the required right \
//!              'AccessControl.UserDelete' to perform this action"
//!         );
//!     }
//!     other => panic!("expected a 403, got {other:?}"),
//! }
//! # Ok::<(), idm_domain::access::QuestionError>(())
//! ```

use std::collections::HashMap;

use super::{decide, Access, Caller, CallerIdentity, Grant, Target};
use crate::access::{parse_requirement, ParseRequirementError};
use crate::error::DomainError;
use crate::roles::BuiltinRole;

/// One authorization of a [`Subject`]: a built-in role on a profile in one unit, with the
/// dataroom flags the API shows as `clientGlobal` and `unitGlobal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    role: String,
    unit_path: Vec<String>,
    client_global: bool,
    unit_global: bool,
}

impl Authorization {
    /// An authorization for the built-in `nevisIdm` role named `name` (`Root`, `ClientRoot`,
    /// `UserAdmin`, `Helpdesk`, `SelfAdmin`). Without [`in_unit`](Self::in_unit) it covers no
    /// unit, only what `unit_global` or global objects allow.
    pub fn role(name: impl Into<String>) -> Self {
        Authorization {
            role: name.into(),
            unit_path: Vec::new(),
            client_global: false,
            unit_global: false,
        }
    }

    /// The unit of the profile holding the authorization, as unit extIds from the client's root
    /// unit down to that unit (e.g. `["Default-root", "sales"]`). The dataroom is that subtree.
    pub fn in_unit<I, S>(mut self, path: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.unit_path = path.into_iter().map(Into::into).collect();
        self
    }

    /// `clientGlobal`: the authorization applies in every client, not only the subject's.
    pub fn client_global(mut self, yes: bool) -> Self {
        self.client_global = yes;
        self
    }

    /// `unitGlobal`: the authorization applies to every unit of its client(s) and to
    /// client-level objects.
    pub fn unit_global(mut self, yes: bool) -> Self {
        self.unit_global = yes;
        self
    }
}

/// The caller: a user of a client, with its authorizations (on active profiles only; an
/// inactive profile's authorizations count for nothing in nevisIDM, so leave them out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    client_ext_id: String,
    user_ext_id: String,
    authorizations: Vec<Authorization>,
}

impl Subject {
    /// User `user_ext_id` of client `client_ext_id`, with no authorization yet.
    pub fn new(client_ext_id: impl Into<String>, user_ext_id: impl Into<String>) -> Self {
        Subject {
            client_ext_id: client_ext_id.into(),
            user_ext_id: user_ext_id.into(),
            authorizations: Vec::new(),
        }
    }

    /// Adds an authorization.
    pub fn with(mut self, authorization: Authorization) -> Self {
        self.authorizations.push(authorization);
        self
    }

    /// Whether this subject may perform an operation requiring `requirement` on `object`.
    ///
    /// `requirement` is one right (`UserModify` or `AccessControl.UserModify`) or a permission
    /// line as printed on the reference pages, e.g.
    /// `AccessControl.UserModify or SelfAdmin Role` or `(A or B),C`.
    ///
    /// # Errors
    /// [`QuestionError`] when the requirement does not parse or a role name is no built-in
    /// role; a refusal is not an error but [`Answer::Denied`].
    pub fn may(&self, requirement: &str, object: &Object) -> Result<Answer, QuestionError> {
        let (groups, self_admin) = parse_requirement(requirement)?;
        let mut ids = Ids::default();
        let client_id = ids.client(&self.client_ext_id);
        let mut grants = Vec::with_capacity(self.authorizations.len());
        for a in &self.authorizations {
            let role = BuiltinRole::from_name(&a.role)
                .ok_or_else(|| QuestionError::UnknownRole(a.role.clone()))?;
            grants.push(Grant {
                rights: role.rights(),
                client_id,
                unit_path: ids.unit_path(&self.client_ext_id, &a.unit_path),
                client_global: a.client_global,
                unit_global: a.unit_global,
            });
        }
        let caller = Caller::new(
            CallerIdentity {
                user_id: ids.user(&self.client_ext_id, &self.user_ext_id),
                user_ext_id: self.user_ext_id.clone(),
                client_id,
                client_ext_id: self.client_ext_id.clone(),
                ..CallerIdentity::default()
            },
            grants,
        );
        let (target_client, unit_paths, owner) = match &object.client_ext_id {
            None => (None, Vec::new(), None),
            Some(c) => (
                Some(ids.client(c)),
                object
                    .unit_paths
                    .iter()
                    .map(|p| ids.unit_path(c, p))
                    .collect(),
                object.owner_user_ext_id.as_ref().map(|u| ids.user(c, u)),
            ),
        };
        let target = Target {
            client_id: target_client,
            unit_paths: &unit_paths,
            owner_user_id: owner,
        };
        Ok(match decide(&caller, &groups, self_admin, &target) {
            Ok(access) => Answer::Allowed(access),
            Err(denial) => Answer::Denied(denial.into()),
        })
    }
}

/// The object an operation addresses, as far as datarooms care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    client_ext_id: Option<String>,
    unit_paths: Vec<Vec<String>>,
    owner_user_ext_id: Option<String>,
}

impl Object {
    /// A global object (application, role, terms): every authorization's dataroom covers it.
    pub fn global() -> Self {
        Object {
            client_ext_id: None,
            unit_paths: Vec::new(),
            owner_user_ext_id: None,
        }
    }

    /// A client-level object (the client itself, its personal questions, policies): only
    /// `unitGlobal` authorizations (of that client, or `clientGlobal` ones) cover it.
    pub fn client(client_ext_id: impl Into<String>) -> Self {
        Object {
            client_ext_id: Some(client_ext_id.into()),
            ..Object::global()
        }
    }

    /// An object in units of a client, each unit given as extIds from the client's root unit
    /// down: a unit itself, a profile (its unit), a user (the units of all its profiles; a
    /// user without profiles is a client-level object).
    pub fn in_units<P, I, S>(client_ext_id: impl Into<String>, unit_paths: P) -> Self
    where
        P: IntoIterator<Item = I>,
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Object {
            unit_paths: unit_paths
                .into_iter()
                .map(|p| p.into_iter().map(Into::into).collect())
                .collect(),
            ..Object::client(client_ext_id)
        }
    }

    /// The same object, belonging to user `user_ext_id` of the object's client (the user
    /// itself, or its profile, credential, ...): enables the "or SelfAdmin Role" path.
    pub fn owned_by(mut self, user_ext_id: impl Into<String>) -> Self {
        self.owner_user_ext_id = Some(user_ext_id.into());
        self
    }
}

/// The answer to [`Subject::may`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// Allowed; [`Access::SelfAdmin`] means only the self-admin path allowed it (the server
    /// then asks for an X-Token on the operations that demand one).
    Allowed(Access),
    /// Refused, with the exact nevisIDM error (403, `errors.insufficientRightsFunction` or
    /// `errors.combinedDataroomDenied`, and its message).
    Denied(DomainError),
}

impl Answer {
    /// Whether the operation is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Answer::Allowed(_))
    }

    /// The nevisIDM error of a refusal; `None` when allowed.
    pub fn denial(&self) -> Option<&DomainError> {
        match self {
            Answer::Denied(e) => Some(e),
            Answer::Allowed(_) => None,
        }
    }

    /// As a `Result`, to propagate a refusal with `?`.
    ///
    /// # Errors
    /// The nevisIDM error of a refusal.
    pub fn into_result(self) -> Result<Access, DomainError> {
        match self {
            Answer::Allowed(access) => Ok(access),
            Answer::Denied(e) => Err(e),
        }
    }
}

/// A question that cannot be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuestionError {
    /// The requirement is no right name or permission line.
    #[error(transparent)]
    Requirement(#[from] ParseRequirementError),
    /// The role name is none of the built-in `nevisIdm` roles.
    #[error("unknown role {0:?}: expected Root, ClientRoot, UserAdmin, Helpdesk or SelfAdmin")]
    UnknownRole(String),
}

/// Numbers extIds for one question. Unit extIds are unique within a client, so a unit is keyed
/// by (client, unit extId) and the same unit gets the same number in every path it appears in,
/// which is all the id-path prefix rule needs.
#[derive(Default)]
struct Ids {
    next: i64,
    clients: HashMap<String, i64>,
    units: HashMap<(String, String), i64>,
    users: HashMap<(String, String), i64>,
}

impl Ids {
    fn fresh(&mut self) -> i64 {
        self.next += 1;
        self.next
    }

    fn client(&mut self, ext_id: &str) -> i64 {
        if let Some(id) = self.clients.get(ext_id) {
            return *id;
        }
        let id = self.fresh();
        self.clients.insert(ext_id.to_owned(), id);
        id
    }

    fn user(&mut self, client: &str, ext_id: &str) -> i64 {
        let key = (client.to_owned(), ext_id.to_owned());
        if let Some(id) = self.users.get(&key) {
            return *id;
        }
        let id = self.fresh();
        self.users.insert(key, id);
        id
    }

    /// `/1/4/9/` for a root-first extId path; empty for an empty path (covers nothing).
    fn unit_path(&mut self, client: &str, path: &[String]) -> String {
        if path.is_empty() {
            return String::new();
        }
        let mut out = String::from("/");
        for unit in path {
            let key = (client.to_owned(), unit.clone());
            let id = match self.units.get(&key) {
                Some(id) => *id,
                None => {
                    let id = self.fresh();
                    self.units.insert(key, id);
                    id
                }
            };
            out.push_str(&id.to_string());
            out.push('/');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_admin_in(path: &[&str]) -> Subject {
        Subject::new("Default", "alice")
            .with(Authorization::role("UserAdmin").in_unit(path.iter().copied()))
    }

    #[test]
    fn a_grant_covers_its_unit_subtree_and_nothing_beside_it() {
        let alice = user_admin_in(&["root", "sales"]);
        let below = Object::in_units("Default", [["root", "sales", "team-a"]]);
        let beside = Object::in_units("Default", [["root", "hr"]]);
        assert!(alice.may("UserView", &below).unwrap().is_allowed());
        let denied = alice.may("UserView", &beside).unwrap();
        assert!(matches!(
            denied.denial(),
            Some(DomainError::Forbidden {
                code: crate::ErrorCode::CombinedDataroomDenied,
                ..
            })
        ));
    }

    #[test]
    fn another_client_needs_a_client_global_authorization() {
        let other = Object::in_units("Other", [["root"]]);
        let alice = user_admin_in(&["root"]);
        assert!(!alice.may("UserView", &other).unwrap().is_allowed());
        let global = Subject::new("Default", "alice").with(
            Authorization::role("UserAdmin")
                .in_unit(["root"])
                .client_global(true)
                .unit_global(true),
        );
        assert!(global.may("UserView", &other).unwrap().is_allowed());
    }

    #[test]
    fn a_same_named_unit_of_another_client_is_another_unit() {
        // unit_global off, client_global on: the path must still match inside the other client.
        let alice = Subject::new("Default", "alice").with(
            Authorization::role("UserAdmin")
                .in_unit(["root"])
                .client_global(true),
        );
        let other = Object::in_units("Other", [["root"]]);
        assert!(!alice.may("UserView", &other).unwrap().is_allowed());
    }

    #[test]
    fn self_admin_may_act_on_own_data_only() {
        let bob =
            Subject::new("Default", "bob").with(Authorization::role("SelfAdmin").in_unit(["root"]));
        let own = Object::in_units("Default", [["root"]]).owned_by("bob");
        let other = Object::in_units("Default", [["root"]]).owned_by("carol");
        let line = "AccessControl.UserModify or SelfAdmin Role";
        assert_eq!(
            bob.may(line, &own).unwrap(),
            Answer::Allowed(Access::SelfAdmin)
        );
        assert!(!bob.may(line, &other).unwrap().is_allowed());
    }

    #[test]
    fn client_level_objects_need_unit_global() {
        let alice = user_admin_in(&["root"]);
        assert!(!alice
            .may("ClientView", &Object::client("Default"))
            .unwrap()
            .is_allowed());
        assert!(alice
            .may("ApplicationView", &Object::global())
            .unwrap()
            .is_allowed());
    }

    #[test]
    fn unknown_roles_and_rights_are_question_errors_not_denials() {
        let s = Subject::new("Default", "x").with(Authorization::role("Admin"));
        assert_eq!(
            s.may("UserView", &Object::global()),
            Err(QuestionError::UnknownRole("Admin".into()))
        );
        let s = Subject::new("Default", "x");
        assert!(matches!(
            s.may("NoSuchRight", &Object::global()),
            Err(QuestionError::Requirement(_))
        ));
    }
}
