//! Elementary rights (`AccessControl.*`) and [`RightSet`], the bitset the authorization check
//! runs on.
//!
//! nevisIDM checks elementary rights, never roles: roles are only shortcuts to sets of rights
//! (see [`crate::roles`]). The wire spelling `AccessControl.<Name>` appears in 403 messages and in
//! `GET /principal/v1/permissions`, so it is generated from one table here and cannot drift.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The prefix every elementary right carries on the wire.
pub const WIRE_PREFIX: &str = "AccessControl.";

/// Declares [`Right`], its `ALL` table and its names from one list, so the three can never
/// disagree (the bit index of a right is its position in `ALL`).
macro_rules! rights {
    ($($variant:ident => $what:literal,)+) => {
        /// One elementary nevisIDM right, e.g. `AccessControl.ClientView`.
        ///
        /// The discriminant is the bit index in [`RightSet`]; keep the list append-only-friendly
        /// (order only matters for `ALL`, iteration and the README table).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        // nevisIDM adds rights between releases; users must not match them exhaustively.
        #[non_exhaustive]
        pub enum Right {
            $(
                #[doc = concat!("`AccessControl.", stringify!($variant), "`: ", $what, ".")]
                $variant,
            )+
        }

        impl Right {
            /// Every right, in declaration order (the order of [`RightSet::iter`]).
            pub const ALL: &'static [Right] = &[$(Right::$variant,)+];

            /// The name without prefix, e.g. `ClientView` (the spelling of the reference pages'
            /// permission lines once `AccessControl.` is dropped).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Right::$variant => stringify!($variant),)+
                }
            }

            /// The wire name, e.g. `AccessControl.ClientView` (403 messages, permissions list).
            pub const fn wire(self) -> &'static str {
                match self {
                    $(Right::$variant => concat!("AccessControl.", stringify!($variant)),)+
                }
            }

            /// What the right allows, in a few words (for generated documentation).
            pub const fn description(self) -> &'static str {
                match self {
                    $(Right::$variant => $what,)+
                }
            }
        }
    };
}

rights! {
    ClientView => "read clients",
    ClientCreate => "create clients",
    ClientModify => "modify clients",
    ClientDelete => "delete clients",
    ClientSearch => "search clients",
    UnitView => "read units",
    UnitCreate => "create units below an existing unit",
    UnitCreateTopUnit => "create top-level units of a client",
    UnitModify => "modify and move units",
    UnitDelete => "delete units",
    UnitSearch => "search units",
    UserView => "read users",
    UserCreate => "create users",
    UserCreateTechUser => "create technical users",
    UserModify => "modify users",
    UserDelete => "delete users",
    UserArchive => "archive users",
    UserArchiveTechUser => "archive technical users",
    UserSearch => "search users",
    LoginIdOverride => "set a login id that the client policy would generate",
    ProfileView => "read profiles",
    ProfileCreate => "create profiles",
    ProfileModify => "modify profiles and move them to another unit",
    ProfileDelete => "delete profiles",
    ApplicationView => "read applications",
    ApplicationCreate => "create applications",
    ApplicationModify => "modify applications",
    ApplicationDelete => "delete applications",
    ApplicationSearch => "search applications",
    RoleView => "read roles",
    RoleCreate => "create roles",
    RoleModify => "modify roles",
    RoleDelete => "delete roles",
    RoleSearch => "search roles",
    AuthorizationView => "read authorizations (role assignments)",
    AuthorizationCreate => "assign roles to profiles",
    AuthorizationModify => "modify authorizations",
    AuthorizationDelete => "remove authorizations",
    AuthorizationSearch => "search authorizations",
    AuthorizationApplView => "read the application dataroom of authorizations",
    AuthorizationApplCreate => "add applications to an authorization's dataroom",
    AuthorizationApplDelete => "remove applications from an authorization's dataroom",
    AuthorizationApplSearch => "search application datarooms",
    AuthorizationClientView => "read the client dataroom of authorizations",
    AuthorizationClientCreate => "add clients to an authorization's dataroom",
    AuthorizationClientDelete => "remove clients from an authorization's dataroom",
    AuthorizationClientSearch => "search client datarooms",
    AuthorizationUnitView => "read the unit dataroom of authorizations",
    AuthorizationUnitCreate => "add units to an authorization's dataroom",
    AuthorizationUnitDelete => "remove units from an authorization's dataroom",
    AuthorizationUnitSearch => "search unit datarooms",
    AuthorizationEnterpriseRoleView => "read the enterprise-role dataroom of authorizations",
    AuthorizationEnterpriseRoleCreate => "add enterprise roles to an authorization's dataroom",
    AuthorizationEnterpriseRoleDelete => "remove enterprise roles from an authorization's dataroom",
    AuthorizationEnterpriseRoleSearch => "search enterprise-role datarooms",
    CredentialView => "read credentials",
    CredentialCreate => "create credentials",
    CredentialModify => "modify credentials",
    CredentialDelete => "delete credentials",
    CredentialChangeState => "lock, unlock and reset credentials",
    TermsView => "read terms and conditions",
    TermsCreate => "create terms and conditions",
    TermsModify => "modify terms and conditions",
    TermsDelete => "delete terms and conditions",
    ConsentView => "read consents",
    ConsentCreate => "record consents",
    ConsentDelete => "delete consents",
    PersonalQuestionView => "read personal questions",
    PersonalQuestionCreate => "create personal questions",
    PersonalQuestionModify => "modify personal questions",
    PersonalQuestionDelete => "delete personal questions",
    DispatchTargetView => "read dispatch targets and app attestations",
    DispatchTargetCreate => "create dispatch targets and app attestations",
    DispatchTargetModify => "modify dispatch targets and app attestations",
    DispatchTargetDelete => "delete dispatch targets and app attestations",
    PolicyView => "read policies",
    PolicyCreate => "create policies",
    PolicyModify => "modify policies",
    PolicyDelete => "delete policies",
    PolicyConfigurationView => "list the policy configuration of a client",
    PropertyView => "read custom property definitions",
    PropertyCreate => "create custom property definitions",
    PropertyModify => "modify custom property definitions",
    PropertyAllowedValueView => "read the allowed values of custom properties",
    PropertyValueView => "read custom property values",
    PropertyValueCreate => "set custom property values",
    PropertyValueModify => "modify custom property values",
    PropertyValueDelete => "delete custom property values",
    EnterpriseRoleView => "read enterprise roles",
    EnterpriseRoleModify => "modify enterprise roles",
    EnterpriseRoleDelete => "delete enterprise roles",
    EnterpriseRoleMemberCreate => "add members to enterprise roles",
    EnterpriseRoleCreate => "create enterprise roles",
    EnterpriseRoleMemberDelete => "remove members from enterprise roles",
    SelfAdmin => "act on one's own data (the SelfAdmin role)",
    AuditView => "read a client's audit trail (idm extension)",
}

// A RightSet is a u128: adding a 129th right must fail the build, not silently alias a bit.
const _: () = assert!(Right::ALL.len() <= 128);

impl Right {
    /// The bit of this right inside a [`RightSet`].
    const fn bit(self) -> u128 {
        1u128 << (self as u8)
    }
}

impl fmt::Display for Right {
    /// The wire form, because that is what every client-visible text uses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire())
    }
}

/// A string that names no known right (returned by [`Right::from_str`]); carries the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown right '{0}'")]
pub struct UnknownRight(pub String);

impl FromStr for Right {
    type Err = UnknownRight;

    /// Accepts `ClientView` and `AccessControl.ClientView` (case-sensitive, as on the wire),
    /// because configuration and the reference pages use both spellings.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.strip_prefix(WIRE_PREFIX).unwrap_or(s);
        Right::ALL
            .iter()
            .copied()
            .find(|r| r.name() == name)
            .ok_or_else(|| UnknownRight(s.to_owned()))
    }
}

impl Serialize for Right {
    /// Serialized in wire form, like `GET /principal/v1/permissions` lists it.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.wire())
    }
}

impl<'de> Deserialize<'de> for Right {
    /// Accepts both spellings, like [`Right::from_str`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A set of rights as a 128-bit mask: `Copy`, allocation-free `contains`/`union`, because the
/// authorization check runs on every request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RightSet(u128);

impl RightSet {
    /// The set with no right.
    pub const fn empty() -> Self {
        RightSet(0)
    }

    /// The set with every right (what `Root` holds).
    pub const fn all() -> Self {
        Self::of(Right::ALL)
    }

    /// The set of the given rights; `const` so role tables are computed at compile time.
    pub const fn of(rights: &[Right]) -> Self {
        let mut bits = 0u128;
        let mut i = 0;
        while i < rights.len() {
            bits |= rights[i].bit();
            i += 1;
        }
        RightSet(bits)
    }

    /// This set plus one right (const-friendly form of [`RightSet::insert`]).
    pub const fn with(self, right: Right) -> Self {
        RightSet(self.0 | right.bit())
    }

    /// This set without the given rights (e.g. "everything but client creation").
    pub const fn without(self, rights: &[Right]) -> Self {
        RightSet(self.0 & !Self::of(rights).0)
    }

    /// Adds a right in place.
    pub fn insert(&mut self, right: Right) {
        self.0 |= right.bit();
    }

    /// Whether the right is in the set.
    pub const fn contains(self, right: Right) -> bool {
        self.0 & right.bit() != 0
    }

    /// Whether every right of `other` is in this set.
    pub const fn contains_all(self, other: RightSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// The rights in either set.
    pub const fn union(self, other: RightSet) -> Self {
        RightSet(self.0 | other.0)
    }

    /// The rights in both sets.
    pub const fn intersection(self, other: RightSet) -> Self {
        RightSet(self.0 & other.0)
    }

    /// The rights of [`RightSet::all`] that are not in this set.
    pub const fn complement(self) -> Self {
        RightSet(Self::all().0 & !self.0)
    }

    /// Whether the set holds no right.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many rights the set holds.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The rights of the set in [`Right::ALL`] order, without allocating.
    pub fn iter(self) -> impl Iterator<Item = Right> {
        Right::ALL
            .iter()
            .copied()
            .filter(move |r| self.contains(*r))
    }

    /// The wire names (`AccessControl.X`) in [`Right::ALL`] order, e.g. for the permissions
    /// endpoint.
    pub fn wire_names(self) -> Vec<&'static str> {
        self.iter().map(Right::wire).collect()
    }
}

impl fmt::Debug for RightSet {
    /// Lists the names, because a raw mask is unreadable in test failures.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Right::name)).finish()
    }
}

impl FromIterator<Right> for RightSet {
    fn from_iter<I: IntoIterator<Item = Right>>(iter: I) -> Self {
        let mut set = RightSet::empty();
        for r in iter {
            set.insert(r);
        }
        set
    }
}

impl Extend<Right> for RightSet {
    fn extend<I: IntoIterator<Item = Right>>(&mut self, iter: I) {
        for r in iter {
            self.insert(r);
        }
    }
}

impl From<Right> for RightSet {
    fn from(right: Right) -> Self {
        RightSet::empty().with(right)
    }
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn every_right_fits_in_the_bitset_and_its_discriminant_is_its_position() {
        assert!(Right::ALL.len() <= 128);
        for (i, r) in Right::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r:?}");
        }
        assert_eq!(RightSet::all().len(), Right::ALL.len());
    }

    #[test]
    fn names_are_unique_and_the_wire_form_adds_the_prefix() {
        let mut names: Vec<_> = Right::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Right::ALL.len());
        assert_eq!(Right::ClientView.name(), "ClientView");
        assert_eq!(Right::ClientView.wire(), "AccessControl.ClientView");
        assert_eq!(Right::SelfAdmin.to_string(), "AccessControl.SelfAdmin");
    }

    #[test]
    fn every_right_parses_from_both_its_name_and_its_wire_form() {
        for r in Right::ALL {
            assert_eq!(r.name().parse::<Right>(), Ok(*r));
            assert_eq!(r.wire().parse::<Right>(), Ok(*r));
        }
    }

    #[test]
    fn unknown_or_miscased_names_do_not_parse() {
        assert_eq!(
            "clientview".parse::<Right>(),
            Err(UnknownRight("clientview".into()))
        );
        assert!("AccessControl.".parse::<Right>().is_err());
        assert!("Foo.ClientView".parse::<Right>().is_err());
    }

    #[test]
    fn every_name_listed_in_the_reference_notes_is_a_right() {
        let section_14 = "ApplicationCreate ApplicationDelete ApplicationModify ApplicationView \
            AuthorizationCreate AuthorizationModify AuthorizationView ClientCreate ClientDelete \
            ClientModify ClientView ConsentCreate ConsentView CredentialChangeState \
            CredentialCreate CredentialDelete CredentialModify CredentialView \
            DispatchTargetCreate DispatchTargetDelete DispatchTargetModify DispatchTargetView \
            EnterpriseRoleDelete EnterpriseRoleMemberCreate EnterpriseRoleModify \
            EnterpriseRoleView LoginIdOverride PersonalQuestionCreate PersonalQuestionModify \
            PersonalQuestionView PolicyConfigurationView PolicyCreate PolicyDelete PolicyModify \
            PolicyView ProfileCreate ProfileModify ProfileView PropertyAllowedValueView \
            PropertyCreate PropertyValueCreate PropertyValueDelete PropertyValueModify \
            PropertyValueView PropertyView RoleCreate RoleView SelfAdmin TermsCreate \
            TermsModify TermsView UnitCreate UnitCreateTopUnit UnitDelete UnitModify UnitView \
            UserArchive UserArchiveTechUser UserCreate UserCreateTechUser UserModify UserView \
            UserDelete ProfileDelete TermsDelete PersonalQuestionDelete RoleDelete RoleModify \
            ConsentDelete AuthorizationDelete EnterpriseRoleCreate EnterpriseRoleMemberDelete";
        for name in section_14.split_whitespace() {
            assert!(name.parse::<Right>().is_ok(), "{name}");
        }
    }

    #[test]
    fn a_right_set_supports_insert_contains_union_and_iterates_in_declaration_order() {
        let mut a = RightSet::empty();
        assert!(a.is_empty());
        a.insert(Right::UserView);
        a.insert(Right::ClientView);
        let b = RightSet::of(&[Right::SelfAdmin]);
        let u = a.union(b);
        assert!(u.contains(Right::ClientView) && u.contains(Right::SelfAdmin));
        assert!(!a.contains(Right::SelfAdmin));
        assert_eq!(
            u.iter().collect::<Vec<_>>(),
            vec![Right::ClientView, Right::UserView, Right::SelfAdmin]
        );
        assert_eq!(u.len(), 3);
        assert!(u.contains_all(a));
        assert!(!a.contains_all(u));
    }

    #[test]
    fn collecting_rights_builds_the_same_set_as_of() {
        let set: RightSet = [Right::ClientView, Right::UnitView, Right::ClientView]
            .into_iter()
            .collect();
        assert_eq!(set, RightSet::of(&[Right::UnitView, Right::ClientView]));
    }

    #[test]
    fn without_and_complement_remove_exactly_the_named_rights() {
        let s = RightSet::all().without(&[Right::ClientCreate]);
        assert!(!s.contains(Right::ClientCreate));
        assert_eq!(s.len(), Right::ALL.len() - 1);
        assert_eq!(s.complement(), RightSet::from(Right::ClientCreate));
    }

    #[test]
    fn rights_serialize_in_wire_form_and_deserialize_from_either_form() {
        let json = serde_json::to_string(&Right::ConsentView).unwrap();
        assert_eq!(json, "\"AccessControl.ConsentView\"");
        let r: Right = serde_json::from_str("\"ConsentView\"").unwrap();
        assert_eq!(r, Right::ConsentView);
        assert!(serde_json::from_str::<Right>("\"Nope\"").is_err());
    }
}
