//! Profiles: ★ GET unit of a profile (seed 004) with every example, create/list/read/patch/
//! delete, re-assigning the unit, profileless units.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, TestApp, CORE};
use reqwest::Method;

/// The seed 004 unit (all fields set) under the root unit, and a user with a profile in it.
async fn seed_unit_with_profile(app: &TestApp) {
    let r = app
        .post(
            &format!("{CORE}/Default/units"),
            json!({"extId": "parent-unit-123", "parentUnitExtId": "Default-root", "name": "Parent", "profileless": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post(
            &format!("{CORE}/Default/units"),
            json!({
                "extId": "unit-123", "parentUnitExtId": "parent-unit-123", "name": "Engineering",
                "location": "Building A, Floor 3", "description": "Engineering department",
                "state": "active", "displayName": {"EN": "Engineering", "DE": "Technik"},
                "abbreviation": {"EN": "ENG", "DE": "TECH"}, "profileless": false,
                "modificationComment": "Updated by admin",
                "validity": {"from": "2023-01-01T00:00:00Z", "to": "2033-12-31T23:59:59Z"}
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post(
            &format!("{CORE}/Default/users"),
            json!({"extId": "u1", "loginId": "u1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post(
            &format!("{CORE}/Default/users/u1/profiles"),
            json!({"extId": "profile-1", "unitExtId": "unit-123", "name": "Main"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.location(),
        format!("{CORE}/Default/profiles/profile-1").as_str()
    );
}

dual_test!(
    the_unit_of_a_profile_is_returned_with_the_seed_dto_shape,
    |app| {
        seed_unit_with_profile(&app).await;
        let r = app
            .get(&format!("{CORE}/Default/profiles/profile-1/unit"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let b = &r.body;
        let mut keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = vec![
            "created",
            "lastModified",
            "version",
            "extId",
            "parentUnitExtId",
            "clientExtId",
            "hierarchicalName",
            "name",
            "location",
            "description",
            "state",
            "displayName",
            "abbreviation",
            "profileless",
            "modificationComment",
            "validity",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(b["extId"], "unit-123");
        assert_eq!(b["parentUnitExtId"], "parent-unit-123");
        assert_eq!(b["clientExtId"], "Default");
        assert_eq!(
            b["hierarchicalName"],
            "Default-root/parent-unit-123/unit-123"
        );
        assert_eq!(b["name"], "Engineering");
        assert_eq!(b["location"], "Building A, Floor 3");
        assert_eq!(b["description"], "Engineering department");
        assert_eq!(b["state"], "active");
        assert_eq!(
            b["displayName"],
            json!({"EN": "Engineering", "DE": "Technik"})
        );
        assert_eq!(b["abbreviation"], json!({"EN": "ENG", "DE": "TECH"}));
        assert_eq!(b["profileless"], false);
        assert_eq!(b["modificationComment"], "Updated by admin");
        assert_eq!(
            b["validity"],
            json!({"from": "2023-01-01T00:00:00Z", "to": "2033-12-31T23:59:59Z"})
        );
        assert_eq!(b["version"], 1);
        assert!(b["created"].as_str().unwrap().ends_with('Z'));
    }
);

dual_test!(
    a_caller_without_profile_view_gets_403_insufficient_rights_function,
    |app| {
        seed_unit_with_profile(&app).await;
        // A pure self-admin asking for another user's profile, and a caller with no role.
        for (who, roles) in [("self", &["SelfAdmin"][..]), ("nobody", &[][..])] {
            let u = app
                .seed_user("Default", who, roles, false, false, None)
                .await;
            let r = app
                .send(app.req_as(
                    &u.token,
                    Method::GET,
                    &format!("{CORE}/Default/profiles/profile-1/unit"),
                ))
                .await;
            r.assert_error(
                403,
                "errors.insufficientRightsFunction",
                "Permission denied: Caller does not have the required right 'AccessControl.ProfileView' to perform this action",
            );
        }
    }
);

dual_test!(
    a_caller_whose_dataroom_misses_the_profile_gets_403_combined_dataroom_denied,
    |app| {
        seed_unit_with_profile(&app).await;
        app.create_client("other", "Other").await;
        let foreign = app
            .seed_user("other", "foreign", &["UserAdmin"], false, true, None)
            .await;
        let r = app
            .send(app.req_as(
                &foreign.token,
                Method::GET,
                &format!("{CORE}/Default/profiles/profile-1/unit"),
            ))
            .await;
        r.assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.ProfileView",
        );
        // Unit-scoped admin of a sibling subtree.
        let r = app
            .post(
                &format!("{CORE}/Default/units"),
                json!({"extId": "sibling", "parentUnitExtId": "Default-root", "name": "Sibling", "profileless": false}),
            )
            .await;
        assert_eq!(r.status, 201);
        let local = app
            .seed_user(
                "Default",
                "local",
                &["UserAdmin"],
                false,
                false,
                Some("sibling"),
            )
            .await;
        let r = app
            .send(app.req_as(
                &local.token,
                Method::GET,
                &format!("{CORE}/Default/profiles/profile-1/unit"),
            ))
            .await;
        r.assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.ProfileView",
        );
        // Scoped to the parent unit, the same role covers it.
        let scoped = app
            .seed_user(
                "Default",
                "scoped",
                &["UserAdmin"],
                false,
                false,
                Some("parent-unit-123"),
            )
            .await;
        let r = app
            .send(app.req_as(
                &scoped.token,
                Method::GET,
                &format!("{CORE}/Default/profiles/profile-1/unit"),
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
);

dual_test!(
    an_unknown_client_or_profile_returns_404_with_the_seed_messages,
    |app| {
        let r = app
            .get(&format!("{CORE}/client-123/profiles/profile-123/unit"))
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'client-123'",
        );
        let r = app
            .get(&format!("{CORE}/Default/profiles/profile-123/unit"))
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Profile doesn't exist with extId 'profile-123'",
        );
    }
);

dual_test!(a_self_admin_reads_the_unit_of_its_own_profile, |app| {
    let me = app
        .seed_user("Default", "me", &["SelfAdmin"], false, false, None)
        .await;
    let r = app
        .send(app.req_as(
            &me.token,
            Method::GET,
            &format!("{CORE}/Default/profiles/{}/unit", me.profile_ext_id),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["extId"], "Default-root");
    assert_eq!(r.body["hierarchicalName"], "Default-root");
    let r = app
        .send(app.req_as(
            &me.token,
            Method::GET,
            &format!("{CORE}/Default/profiles/{}", me.profile_ext_id),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
});

dual_test!(
    profiles_are_created_listed_read_patched_and_deleted,
    |app| {
        seed_unit_with_profile(&app).await;
        let r = app.get(&format!("{CORE}/Default/profiles/profile-1")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let b = &r.body;
        assert_eq!(b["extId"], "profile-1");
        assert_eq!(b["userExtId"], "u1");
        assert_eq!(b["unitExtId"], "unit-123");
        assert_eq!(b["clientExtId"], "Default");
        assert_eq!(b["name"], "Main");
        assert_eq!(b["profileState"], "active");
        assert_eq!(b["isDefaultProfile"], false);
        assert_eq!(r.header("etag"), Some("\"1\""));
        let r = app
            .post(
                &format!("{CORE}/Default/users/u1/profiles"),
                json!({"unitExtId": "parent-unit-123"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app
            .get(&format!("{CORE}/Default/users/u1/profiles?limit=1"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
        let t = r.body["_pagination"]["continuationToken"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = app
            .get(&format!(
                "{CORE}/Default/users/u1/profiles?limit=1&continuationToken={t}"
            ))
            .await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
        assert!(r.body["_pagination"].get("continuationToken").is_none());
        let r = app
            .patch(
                &format!("{CORE}/Default/profiles/profile-1"),
                json!({"profileState": "disabled", "remarks": "r", "version": 1}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["profileState"], "disabled");
        assert_eq!(r.body["version"], 2);
        let r = app
            .patch(
                &format!("{CORE}/Default/profiles/profile-1"),
                json!({"name": "x", "version": 1}),
            )
            .await;
        assert_eq!(r.status, 409);
        let r = app
            .patch(
                &format!("{CORE}/Default/profiles/profile-1"),
                json!({"extId": "other"}),
            )
            .await;
        assert_eq!(r.code(), "errors.modifyExtId");
        let r = app
            .delete(&format!("{CORE}/Default/profiles/profile-1"))
            .await;
        assert_eq!(r.status, 204);
        let r = app.get(&format!("{CORE}/Default/profiles/profile-1")).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Profile doesn't exist with extId 'profile-1'",
        );
    }
);

dual_test!(
    profile_creation_requires_a_unit_that_accepts_profiles,
    |app| {
        seed_unit_with_profile(&app).await;
        let r = app
            .post(
                &format!("{CORE}/Default/users/u1/profiles"),
                json!({"name": "x"}),
            )
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: unitExtId",
        );
        let r = app
            .post(
                &format!("{CORE}/Default/units"),
                json!({"extId": "noprof", "parentUnitExtId": "Default-root", "name": "NoProf", "profileless": true}),
            )
            .await;
        assert_eq!(r.status, 201);
        let r = app
            .post(
                &format!("{CORE}/Default/users/u1/profiles"),
                json!({"unitExtId": "noprof"}),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.assignProfilelessUnit");
        let r = app
            .put(&format!("{CORE}/Default/profiles/profile-1/unit/noprof"))
            .await;
        assert_eq!(r.code(), "errors.assignProfilelessUnit");
        let r = app
            .post(
                &format!("{CORE}/Default/users/u1/profiles"),
                json!({"unitExtId": "missing"}),
            )
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Unit doesn't exist with extId 'missing'",
        );
    }
);

dual_test!(a_profile_is_reassigned_to_another_unit_with_put, |app| {
    seed_unit_with_profile(&app).await;
    let r = app
        .put(&format!(
            "{CORE}/Default/profiles/profile-1/unit/parent-unit-123"
        ))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app
        .get(&format!("{CORE}/Default/profiles/profile-1/unit"))
        .await;
    assert_eq!(r.body["extId"], "parent-unit-123");
    let r = app.get(&format!("{CORE}/Default/profiles/profile-1")).await;
    assert_eq!(r.body["unitExtId"], "parent-unit-123");
    assert_eq!(r.body["version"], 2);
    let helpdesk = app
        .seed_user("Default", "helper", &["Helpdesk"], false, true, None)
        .await;
    let r = app
        .send(app.req_as(
            &helpdesk.token,
            Method::PUT,
            &format!("{CORE}/Default/profiles/profile-1/unit/unit-123"),
        ))
        .await;
    r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.ProfileModify' to perform this action",
        );
});

/// The migration that gives profiles their user's extId, run again on a database with data.
fn rerun_profile_user_ext_id_migration(app: &TestApp) {
    macro_rules! migration {
        ($backend:literal, $file:literal) => {
            include_str!(concat!(
                "../../migrations/",
                $backend,
                "/2026-11-27-000100_profile_user_ext_id/",
                $file
            ))
        };
    }
    let (down, up) = match app.backend {
        idm_tests::Backend::Sqlite => (
            migration!("sqlite", "down.sql"),
            migration!("sqlite", "up.sql"),
        ),
        idm_tests::Backend::Postgres => (
            migration!("postgres", "down.sql"),
            migration!("postgres", "up.sql"),
        ),
    };
    app.sql(down);
    app.sql(up);
}

dual_test!(
    the_migration_that_stores_a_profiles_user_ext_id_fills_it_for_existing_profiles,
    |app| {
        let owner = app
            .seed_user("Default", "mig-owner", &["UserAdmin"], false, false, None)
            .await;
        rerun_profile_user_ext_id_migration(&app);
        let differing = app.sql_texts(
            "SELECT p.ext_id AS t FROM profiles p JOIN users u ON u.id = p.user_id \
             WHERE p.user_ext_id <> u.ext_id",
        );
        assert!(differing.is_empty(), "{differing:?}");
        let r = app
            .get(&format!("{CORE}/Default/profiles/{}", owner.profile_ext_id))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["userExtId"], "mig-owner");
    }
);

dual_test!(
    a_created_profile_stores_its_users_ext_id_and_reads_it_back,
    |app| {
        app.seed_user("Default", "prof-owner", &["UserAdmin"], false, false, None)
            .await;
        let r = app
            .post(
                &format!("{CORE}/Default/users/prof-owner/profiles"),
                json!({"extId": "second-p", "unitExtId": "Default-root", "name": "Second"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(
            app.sql_texts("SELECT user_ext_id AS t FROM profiles WHERE ext_id = 'second-p'"),
            vec!["prof-owner".to_owned()]
        );
        let r = app.get(&format!("{CORE}/Default/profiles/second-p")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["userExtId"], "prof-owner");
    }
);
