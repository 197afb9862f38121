//! The built-in roles of the `nevisIdm` application and the rights each one grants.
//!
//! nevisIDM keeps this mapping in `rolesMapping.properties`; here it is a compile-time table so
//! the authorization check never parses anything and the README table is generated from the same
//! source (see [`rights_table_markdown`]).

use crate::rights::{Right, RightSet};

/// Name of the built-in application that owns the roles below; roles of any other application
/// grant no nevisIDM right.
pub const NEVIS_IDM_APPLICATION: &str = "nevisIdm";

use Right::*;

/// Rights only a global administrator may use: creating tenants and the global catalogue
/// (applications, roles, terms, policies) that every client shares.
const GLOBAL_ONLY: &[Right] = &[
    ClientCreate,
    ClientDelete,
    ApplicationCreate,
    ApplicationModify,
    ApplicationDelete,
    RoleCreate,
    RoleModify,
    RoleDelete,
    TermsCreate,
    TermsModify,
    TermsDelete,
    PolicyCreate,
    PolicyModify,
    PolicyDelete,
];

const ROOT_RIGHTS: RightSet = RightSet::all();

const CLIENT_ROOT_RIGHTS: RightSet = RightSet::all().without(GLOBAL_ONLY);

const USER_ADMIN_RIGHTS: RightSet = RightSet::of(&[
    // Reading the context a user lives in.
    ClientView,
    UnitView,
    ApplicationView,
    RoleView,
    TermsView,
    PolicyView,
    PersonalQuestionView,
    // Managing users and everything hanging off them.
    UserView,
    UserCreate,
    UserModify,
    UserDelete,
    UserArchive,
    ProfileView,
    ProfileCreate,
    ProfileModify,
    ProfileDelete,
    AuthorizationView,
    AuthorizationCreate,
    AuthorizationModify,
    AuthorizationDelete,
    CredentialView,
    CredentialCreate,
    CredentialModify,
    CredentialDelete,
    CredentialChangeState,
    ConsentView,
    ConsentCreate,
    ConsentDelete,
    DispatchTargetView,
    DispatchTargetCreate,
    DispatchTargetModify,
    DispatchTargetDelete,
]);

const HELPDESK_RIGHTS: RightSet = RightSet::of(&[
    ClientView,
    UnitView,
    UserView,
    ProfileView,
    CredentialView,
    AuthorizationView,
    ConsentView,
    DispatchTargetView,
    PersonalQuestionView,
    TermsView,
    UserModify,
    CredentialModify,
    CredentialChangeState,
]);

const SELF_ADMIN_RIGHTS: RightSet = RightSet::of(&[SelfAdmin]);

/// A role of the built-in `nevisIdm` application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuiltinRole {
    /// The installation administrator: every right. Used by the bootstrap admin; with
    /// `clientGlobal` it manages all tenants and the global catalogue.
    Root,
    /// The administrator of one client: everything about the client's own content (units,
    /// users, profiles, authorizations, credentials, personal questions, properties, ...), but
    /// not creating or deleting clients nor changing the catalogue shared by all clients
    /// (applications, roles, terms, policies).
    ClientRoot,
    /// Manages users of its dataroom: full control of users, profiles, authorizations,
    /// credentials, consents and dispatch targets; reads the surrounding client, units,
    /// applications, roles, terms, policies and personal questions; never changes the client or
    /// its units.
    UserAdmin,
    /// First-level support: reads users and their profiles, credentials, authorizations,
    /// consents and dispatch targets (plus the client, units, personal questions and terms
    /// around them), may modify users (e.g. their state) and credentials, and lock/unlock/reset
    /// credentials. Creates and deletes nothing.
    Helpdesk,
    /// Every end user: only the `SelfAdmin` right. What a self-admin may touch is decided per
    /// endpoint by the "or SelfAdmin Role" path of [`crate::access::authorize`] (own data only).
    SelfAdmin,
}

impl BuiltinRole {
    /// Every built-in role, from most to least powerful.
    pub const ALL: [BuiltinRole; 5] = [
        BuiltinRole::Root,
        BuiltinRole::ClientRoot,
        BuiltinRole::UserAdmin,
        BuiltinRole::Helpdesk,
        BuiltinRole::SelfAdmin,
    ];

    /// The role name as stored and shown, e.g. `ClientRoot`.
    pub const fn name(self) -> &'static str {
        match self {
            BuiltinRole::Root => "Root",
            BuiltinRole::ClientRoot => "ClientRoot",
            BuiltinRole::UserAdmin => "UserAdmin",
            BuiltinRole::Helpdesk => "Helpdesk",
            BuiltinRole::SelfAdmin => "SelfAdmin",
        }
    }

    /// The role with this exact (case-sensitive, like nevisIDM role names) name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// A one-line description, used as the role's description when bootstrapping.
    pub const fn description(self) -> &'static str {
        match self {
            BuiltinRole::Root => "Every right on every object in its dataroom",
            BuiltinRole::ClientRoot => {
                "Administers a client's content; no client creation, no global catalogue changes"
            }
            BuiltinRole::UserAdmin => {
                "Manages users, profiles, authorizations, credentials, consents, dispatch targets"
            }
            BuiltinRole::Helpdesk => {
                "Reads user data, modifies users and credentials, changes credential states"
            }
            BuiltinRole::SelfAdmin => "Manages the caller's own data and credentials",
        }
    }

    /// The rights the role grants (a constant, so this is free).
    pub const fn rights(self) -> RightSet {
        match self {
            BuiltinRole::Root => ROOT_RIGHTS,
            BuiltinRole::ClientRoot => CLIENT_ROOT_RIGHTS,
            BuiltinRole::UserAdmin => USER_ADMIN_RIGHTS,
            BuiltinRole::Helpdesk => HELPDESK_RIGHTS,
            BuiltinRole::SelfAdmin => SELF_ADMIN_RIGHTS,
        }
    }
}

/// The rights of role `role` of application `application`: a built-in role of
/// [`NEVIS_IDM_APPLICATION`] grants its rights; any other application or unknown role grants
/// nothing (custom applications' roles are opaque to nevisIDM's own checks).
pub fn role_rights(application: &str, role: &str) -> RightSet {
    if application != NEVIS_IDM_APPLICATION {
        return RightSet::empty();
    }
    BuiltinRole::from_name(role).map_or(RightSet::empty(), BuiltinRole::rights)
}

/// Formats a right set for the README: short sets are listed, near-complete sets are written as
/// "every right except ...", because listing ~90 names for Root helps nobody.
fn describe_set(set: RightSet) -> String {
    let names = |s: RightSet| s.iter().map(Right::name).collect::<Vec<_>>().join(", ");
    let missing = set.complement();
    if missing.is_empty() {
        "every right".to_owned()
    } else if missing.len() < set.len() {
        format!("every right except {}", names(missing))
    } else {
        names(set)
    }
}

/// The role → rights table as Markdown (pasted into the README), generated so the documentation
/// cannot drift from the table the server enforces.
pub fn rights_table_markdown() -> String {
    let mut out = String::from(
        "| Role (application `nevisIdm`) | Purpose | Rights (`AccessControl.` omitted) |\n\
         |---|---|---|\n",
    );
    for role in BuiltinRole::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            role.name(),
            role.description(),
            describe_set(role.rights())
        ));
    }
    out
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn root_holds_every_right() {
        assert_eq!(BuiltinRole::Root.rights(), RightSet::all());
    }

    #[test]
    fn client_root_lacks_exactly_the_global_catalogue_and_client_lifecycle_rights() {
        let cr = BuiltinRole::ClientRoot.rights();
        assert_eq!(cr.complement(), RightSet::of(GLOBAL_ONLY));
        assert!(cr.contains(ClientModify) && cr.contains(UnitCreateTopUnit));
        assert!(cr.contains(PersonalQuestionCreate) && cr.contains(ApplicationView));
    }

    #[test]
    fn user_admin_manages_users_but_not_the_client_or_its_units() {
        let ua = BuiltinRole::UserAdmin.rights();
        for r in [
            UserCreate,
            ProfileDelete,
            AuthorizationCreate,
            CredentialDelete,
        ] {
            assert!(ua.contains(r), "{r:?}");
        }
        for r in [
            ConsentCreate,
            DispatchTargetDelete,
            ClientView,
            UnitView,
            PolicyView,
        ] {
            assert!(ua.contains(r), "{r:?}");
        }
        for r in [
            ClientModify,
            UnitCreate,
            UnitModify,
            UnitDelete,
            PersonalQuestionCreate,
        ] {
            assert!(!ua.contains(r), "{r:?}");
        }
        assert!(!ua.contains(SelfAdmin));
    }

    #[test]
    fn helpdesk_reads_and_modifies_but_creates_and_deletes_nothing() {
        let hd = BuiltinRole::Helpdesk.rights();
        assert!(hd.contains(UserModify) && hd.contains(CredentialChangeState));
        for r in hd.iter() {
            assert!(
                !r.name().ends_with("Create") && !r.name().ends_with("Delete"),
                "{r:?}"
            );
        }
        assert_eq!(hd.len(), 13);
    }

    #[test]
    fn self_admin_grants_only_the_self_admin_right() {
        assert_eq!(BuiltinRole::SelfAdmin.rights(), RightSet::of(&[SelfAdmin]));
    }

    #[test]
    fn role_names_round_trip_and_are_case_sensitive() {
        for role in BuiltinRole::ALL {
            assert_eq!(BuiltinRole::from_name(role.name()), Some(role));
        }
        assert_eq!(BuiltinRole::from_name("root"), None);
    }

    #[test]
    fn only_roles_of_the_nevis_idm_application_grant_rights() {
        assert_eq!(role_rights("nevisIdm", "Root"), RightSet::all());
        assert_eq!(
            role_rights("nevisIdm", "Helpdesk"),
            BuiltinRole::Helpdesk.rights()
        );
        assert!(role_rights("nevisMeta", "Root").is_empty());
        assert!(role_rights("nevisIdm", "Unknown").is_empty());
    }

    #[test]
    fn the_markdown_table_mentions_every_role_and_its_rights() {
        let table = rights_table_markdown();
        for role in BuiltinRole::ALL {
            assert!(table.contains(&format!("`{}`", role.name())), "{table}");
        }
        assert_eq!(table.lines().count(), 2 + BuiltinRole::ALL.len());
        assert!(table.contains("| every right |"));
        assert!(table.contains("every right except ClientCreate"));
        assert!(table.contains("CredentialChangeState"));
    }
}
