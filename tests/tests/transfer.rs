//! Export and import (`idm export`, `idm import`, `idm serve --fixtures`) on both backends:
//! an export imported into another database reads back identically through the API —
//! `created`, `lastModified` and `version` included — loading twice changes nothing, and a
//! conflicting entry is refused by name unless overridden.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_server::fixtures::{self, Fixture, Format};
use idm_service::transfer::{DataSet, EntryKind, ImportError, ImportMode};
use idm_tests::{dual_test, json, TestApp, CORE};

fn small() -> DataSet {
    fixtures::read(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/small.yaml"))
        .unwrap()
}

/// The objects compared after a round trip: everything `small.yaml` defines plus what the
/// test changes through the API. (The target's own bootstrapped `Default` client is left
/// alone by the import and has its own timestamps, so lists that include it are not here.)
const OBJECTS: &[&str] = &[
    "/clients/acme",
    "/clients/acme/users",
    "/acme/units/acme-root",
    "/acme/units/acme-root/children",
    "/acme/units/acme-sales",
    "/acme/units/acme-sales-emea",
    "/acme/users/alice",
    "/acme/users/bob",
    "/acme/users/alice/profiles",
    "/acme/users/bob/profiles",
    "/acme/profiles/alice-p",
    "/acme/profiles/bob-p",
    "/acme/profiles/alice-p/unit",
    "/acme/profiles/alice-p/authorizations",
    "/acme/profiles/alice-p/authorizations/alice-p-admin",
    "/acme/profiles/bob-p/authorizations/bob-p-selfadmin",
    "/terms",
    "/terms/tos",
    "/acme/personal-questions",
    "/acme/personal-questions/acme-q-pet",
];

/// The export of `app`, through the file format (rendered as JSON and parsed back).
async fn export_through_the_file_format(app: &TestApp) -> (String, DataSet) {
    let set = app.services.export(None, true).await.unwrap();
    let text = fixtures::render(&Fixture::from_data_set(set), Format::Json).unwrap();
    let parsed: Fixture = serde_json::from_str(&text).unwrap();
    (text, parsed.into_data_set().unwrap())
}

dual_test!(
    an_export_imported_into_an_empty_database_reads_back_identically,
    |app| {
        app.services
            .import(&small(), ImportMode::KeepExisting)
            .await
            .unwrap();
        // Changes through the API, so versions and lastModified differ from creation.
        let r = app
            .patch(
                &format!("{CORE}/acme/users/bob"),
                json!({"remarks": "patched", "version": 1}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["version"], 2);
        let r = app
            .patch(
                &format!("{CORE}/acme/units/acme-sales"),
                json!({"description": "Sales worldwide"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);

        let (_, set) = export_through_the_file_format(&app).await;
        let target = idm_tests::spawn(app.backend).await.unwrap();
        let report = target
            .services
            .import(&set, ImportMode::KeepExisting)
            .await
            .unwrap();
        assert!(report.created > 0 && report.replaced == 0, "{report:?}");

        for path in OBJECTS {
            let path = format!("{CORE}{path}");
            let (a, b) = (app.get(&path).await, target.get(&path).await);
            assert_eq!(a.status, 200, "{path}: {}", a.body);
            assert_eq!(b.status, 200, "{path}: {}", b.body);
            assert_eq!(a.body, b.body, "{path}");
            assert_eq!(a.header("etag"), b.header("etag"), "{path}");
        }
        let bob = target.get(&format!("{CORE}/acme/users/bob")).await;
        assert_eq!(bob.body["remarks"], "patched");
        assert_eq!(bob.body["version"], 2);
    }
);

dual_test!(loading_the_same_fixtures_twice_changes_nothing, |app| {
    let first = app
        .services
        .import(&small(), ImportMode::KeepExisting)
        .await
        .unwrap();
    // 1 client, 2 units, 2 users, 2 profiles, 2 authorizations, 1 terms, 1 question.
    assert_eq!(first.created, 11, "{first:?}");
    let (before, _) = export_through_the_file_format(&app).await;
    let second = app
        .services
        .import(&small(), ImportMode::KeepExisting)
        .await
        .unwrap();
    assert_eq!(second.created, 0, "{second:?}");
    assert_eq!(second.replaced, 0, "{second:?}");
    assert_eq!(second.unchanged, first.created, "{second:?}");
    let (after, _) = export_through_the_file_format(&app).await;
    assert_eq!(before, after);
});

dual_test!(
    a_conflicting_entry_is_refused_by_name_and_override_replaces_it,
    |app| {
        app.services
            .import(&small(), ImportMode::KeepExisting)
            .await
            .unwrap();
        let mut changed = small();
        let bob = changed
            .users
            .iter_mut()
            .find(|u| u.user.meta.ext_id == "bob")
            .unwrap();
        bob.user.remarks = Some("changed".into());
        bob.password = None;
        let err = app
            .services
            .import(&changed, ImportMode::KeepExisting)
            .await
            .unwrap_err();
        match &err {
            ImportError::Conflict { entry, fields } => {
                assert_eq!(entry.kind, EntryKind::User);
                assert_eq!(entry.ext_id, "bob");
                assert_eq!(fields, &vec!["remarks"]);
            }
            other => panic!("not a conflict: {other}"),
        }
        assert!(
            err.to_string().starts_with("users[1] (extId 'bob')"),
            "{err}"
        );
        let bob = app.get(&format!("{CORE}/acme/users/bob")).await;
        assert!(bob.body.get("remarks").is_none(), "{}", bob.body);

        let report = app
            .services
            .import(&changed, ImportMode::Override)
            .await
            .unwrap();
        assert_eq!(report.replaced, 1, "{report:?}");
        let bob = app.get(&format!("{CORE}/acme/users/bob")).await;
        assert_eq!(bob.body["remarks"], "changed");
        assert_eq!(bob.body["version"], 2);
    }
);

dual_test!(
    a_fixture_referencing_a_missing_parent_unit_is_refused_by_name,
    |app| {
        let mut set = small();
        set.units[1].parent_ext_id = Some("nowhere".into());
        let err = app
            .services
            .import(&set, ImportMode::KeepExisting)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "units[1] (extId 'acme-sales-emea'): parent unit 'nowhere' does not exist"
        );
    }
);
