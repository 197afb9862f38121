//! Enterprise roles: which application roles a profile effectively has, and which roles may
//! be bundled at all.
//!
//! The effective roles are computed from the current grants on every read instead of being
//! copied onto profiles, so removing a role from an enterprise role takes it from every profile
//! in the same instant, and an expired enterprise authorization stops granting without a job.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::model::Role;
use crate::roles::NEVIS_IDM_APPLICATION;
use crate::values::Validity;

/// One way a profile reaches roles: a direct authorization (one role) or an enterprise
/// authorization (the enterprise role's current members), each with its own validity.
#[derive(Debug, Clone, Copy)]
pub struct RoleSource<'a> {
    /// When the grant applies.
    pub validity: &'a Validity,
    /// The roles it grants.
    pub roles: &'a [Role],
}

/// The roles a profile holds at `at`: the union of the roles of every source whose validity
/// contains `at`, each role once, in (created, extId) order — the order of every list, so the
/// result can be paged like one.
pub fn effective_roles(sources: &[RoleSource<'_>], at: DateTime<Utc>) -> Vec<Role> {
    let mut by_key: BTreeMap<(chrono::NaiveDateTime, &str), &Role> = BTreeMap::new();
    for source in sources.iter().filter(|s| s.validity.contains(at)) {
        for role in source.roles {
            by_key.insert((role.meta.created, role.meta.ext_id.as_str()), role);
        }
    }
    by_key.into_values().cloned().collect()
}

/// Whether a role may become a member of an enterprise role: roles of idm's own application
/// would hand out administration rights through a path the caller model does not look at.
pub fn may_bundle(role: &Role) -> bool {
    role.application_name != NEVIS_IDM_APPLICATION
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::Meta;
    use chrono::{Duration, NaiveDate, TimeZone};

    fn role(ext_id: &str, app: &str, created_sec: u32) -> Role {
        let created = NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, created_sec)
            .unwrap();
        Role {
            meta: Meta {
                id: i64::from(created_sec),
                ext_id: ext_id.to_owned(),
                created,
                last_modified: created,
                version: 1,
            },
            application_id: 1,
            application_ext_id: app.to_owned(),
            application_name: app.to_owned(),
            name: ext_id.to_owned(),
            description: None,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn ext_ids(roles: &[Role]) -> Vec<&str> {
        roles.iter().map(|r| r.meta.ext_id.as_str()).collect()
    }

    #[test]
    fn effective_roles_follow_the_validity_of_each_source() {
        let forever = Validity::default();
        let expired = Validity {
            from: None,
            to: Some(now() - Duration::days(1)),
        };
        let future = Validity {
            from: Some(now() + Duration::days(1)),
            to: None,
        };
        let current = Validity {
            from: Some(now() - Duration::days(1)),
            to: Some(now() + Duration::days(1)),
        };
        let agent = [role("crm.agent", "CRM", 2)];
        let viewer = [role("crm.viewer", "CRM", 1)];
        let both = [role("crm.agent", "CRM", 2), role("crm.viewer", "CRM", 1)];
        let none: [Role; 0] = [];
        let src = |validity, roles| RoleSource { validity, roles };
        // (case, sources, expected extIds)
        let table: Vec<(&str, Vec<RoleSource<'_>>, Vec<&str>)> = vec![
            ("nothing granted", vec![], vec![]),
            (
                "direct only",
                vec![src(&forever, &agent[..])],
                vec!["crm.agent"],
            ),
            (
                "enterprise only",
                vec![src(&forever, &both[..])],
                vec!["crm.viewer", "crm.agent"],
            ),
            (
                "expired enterprise grant",
                vec![src(&expired, &both[..])],
                vec![],
            ),
            ("not yet valid", vec![src(&future, &both[..])], vec![]),
            (
                "inside the window",
                vec![src(&current, &agent[..])],
                vec!["crm.agent"],
            ),
            (
                "direct and enterprise overlap once",
                vec![src(&forever, &agent[..]), src(&forever, &both[..])],
                vec!["crm.viewer", "crm.agent"],
            ),
            (
                "an expired route does not hide a valid one",
                vec![src(&expired, &both[..]), src(&forever, &viewer[..])],
                vec!["crm.viewer"],
            ),
            (
                "an empty enterprise role grants nothing",
                vec![src(&forever, &none[..])],
                vec![],
            ),
        ];
        for (case, sources, expected) in table {
            assert_eq!(
                ext_ids(&effective_roles(&sources, now())),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn only_roles_outside_nevis_idm_may_be_bundled() {
        assert!(may_bundle(&role("crm.agent", "CRM", 1)));
        assert!(!may_bundle(&role(
            "nevisIdm.Root",
            NEVIS_IDM_APPLICATION,
            1
        )));
    }
}
