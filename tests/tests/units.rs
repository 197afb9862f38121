//! Units: create (naming policy, unique names under a parent), read, patch, delete with
//! dependencies, children paging, and subtree moves keeping `hierarchicalName` right.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, TestApp, CORE};
use reqwest::Method;

/// Creates a unit as admin in client `Default` and asserts 201.
async fn unit(app: &TestApp, ext_id: &str, parent: Option<&str>, name: &str) {
    let mut body = json!({"extId": ext_id, "name": name, "profileless": false});
    if let Some(p) = parent {
        body["parentUnitExtId"] = json!(p);
    }
    let r = app.post(&format!("{CORE}/Default/units"), body).await;
    assert_eq!(r.status, 201, "create {ext_id}: {}", r.body);
    assert_eq!(
        r.location(),
        format!("{CORE}/Default/units/{ext_id}").as_str()
    );
}

async fn hname(app: &TestApp, ext_id: &str) -> String {
    let r = app.get(&format!("{CORE}/Default/units/{ext_id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["hierarchicalName"].as_str().unwrap().to_owned()
}

dual_test!(
    a_created_unit_reads_back_with_the_full_dto_and_hierarchical_name,
    |app| {
        let r = app
            .post(
                &format!("{CORE}/Default/units"),
                json!({
                    "extId": "eng", "parentUnitExtId": "Default-root", "name": "Engineering",
                    "location": "Building A, Floor 3", "description": "Engineering department",
                    "state": "active", "displayName": {"EN": "Engineering", "DE": "Technik"},
                    "abbreviation": {"EN": "ENG", "DE": "TECH"}, "profileless": false,
                    "modificationComment": "Updated by admin",
                    "validity": {"from": "2023-01-01T00:00:00Z", "to": "2033-12-31T23:59:59Z"}
                }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.get(&format!("{CORE}/Default/units/eng")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let b = &r.body;
        assert_eq!(b["extId"], "eng");
        assert_eq!(b["parentUnitExtId"], "Default-root");
        assert_eq!(b["clientExtId"], "Default");
        assert_eq!(b["hierarchicalName"], "Default-root/eng");
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
        assert_eq!(r.header("etag"), Some("\"1\""));
    }
);

dual_test!(
    a_unit_without_a_parent_becomes_a_root_unit_of_the_client,
    |app| {
        unit(&app, "top2", None, "Second top").await;
        let r = app.get(&format!("{CORE}/Default/units/top2")).await;
        assert_eq!(r.body["hierarchicalName"], "top2");
        assert!(r.body.get("parentUnitExtId").is_none(), "{}", r.body);
    }
);

dual_test!(
    unit_creation_validates_required_fields_names_and_the_parent,
    |app| {
        let r = app
            .post(&format!("{CORE}/Default/units"), json!({"name": "X"}))
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: profileless",
        );
        let r = app
            .post(
                &format!("{CORE}/Default/units"),
                json!({"profileless": true}),
            )
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: name",
        );
        let r = app
            .post(
                &format!("{CORE}/Default/units"),
                json!({"name": "a".repeat(130), "profileless": false, "parentUnitExtId": "Default-root"}),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.code(), "errors.identifierPolicyViolated");
        assert_eq!(r.body["policyViolations"][0]["actualValue"], "130");
        let r = app
            .post(
                &format!("{CORE}/Default/units"),
                json!({"name": "X", "profileless": false, "parentUnitExtId": "nope"}),
            )
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Unit doesn't exist with extId 'nope'",
        );
        let r = app
            .post(
                &format!("{CORE}/client-123/units"),
                json!({"name": "X", "profileless": false}),
            )
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'client-123'",
        );
        let r = app
            .post(
                &format!("{CORE}/Default/units"),
                json!({"name": "X", "profileless": false, "displayName": {"XX": "y"}}),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.code(), "errors.invalidParameter");
    }
);

dual_test!(unit_names_are_unique_under_one_parent_only, |app| {
    unit(&app, "a", Some("Default-root"), "Sales").await;
    unit(&app, "b", Some("Default-root"), "Other").await;
    let r = app
            .post(
                &format!("{CORE}/Default/units"),
                json!({"extId": "a2", "parentUnitExtId": "Default-root", "name": "Sales", "profileless": false}),
            )
            .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "errors.duplicateName");
    // Same name under another parent is fine.
    unit(&app, "b-sales", Some("b"), "Sales").await;
    // Renaming into a sibling's name is refused too.
    let r = app
        .patch(&format!("{CORE}/Default/units/b"), json!({"name": "Sales"}))
        .await;
    assert_eq!(r.code(), "errors.duplicateName");
    // Concurrent creations of one name under one parent: exactly one wins.
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
                app.post(
                    &format!("{CORE}/Default/units"),
                    json!({"extId": format!("race{i}"), "parentUnitExtId": "a", "name": "Same", "profileless": false}),
                )
                .await
                .status
            }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            201 => created += 1,
            422 => {}
            s => panic!("unexpected {s}"),
        }
    }
    assert_eq!(created, 1);
});

dual_test!(
    patching_a_unit_changes_present_fields_with_optimistic_locking,
    |app| {
        unit(&app, "p", Some("Default-root"), "Before").await;
        let r = app
            .patch(
                &format!("{CORE}/Default/units/p"),
                json!({"name": "After", "state": "disabled", "version": 1, "profileless": true}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["name"], "After");
        assert_eq!(r.body["state"], "disabled");
        assert_eq!(r.body["profileless"], true);
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.body["hierarchicalName"], "Default-root/p");
        let r = app
            .patch(
                &format!("{CORE}/Default/units/p"),
                json!({"name": "Again", "version": 1}),
            )
            .await;
        assert_eq!(r.status, 409);
        assert_eq!(r.code(), "errors.optimisticLockingFailure");
        let r = app
            .patch(&format!("{CORE}/Default/units/p"), json!({"extId": "q"}))
            .await;
        assert_eq!(r.code(), "errors.modifyExtId");
        let r = app
            .patch(
                &format!("{CORE}/Default/units/p"),
                json!({"state": "weird"}),
            )
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: state",
        );
        let r = app
            .patch(&format!("{CORE}/Default/units/nope"), json!({"name": "x"}))
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Unit doesn't exist with extId 'nope'",
        );
    }
);

dual_test!(a_unit_with_children_or_profiles_cannot_be_deleted, |app| {
    unit(&app, "parent", Some("Default-root"), "Parent").await;
    unit(&app, "child", Some("parent"), "Child").await;
    let r = app.delete(&format!("{CORE}/Default/units/parent")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "errors.undeletedDependencies");
    app.seed_user("Default", "member", &[], false, false, Some("child"))
        .await;
    let r = app.delete(&format!("{CORE}/Default/units/child")).await;
    assert_eq!(r.code(), "errors.undeletedDependencies");
    let r = app
        .delete(&format!("{CORE}/Default/profiles/member-profile"))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app.delete(&format!("{CORE}/Default/units/child")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app.delete(&format!("{CORE}/Default/units/parent")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app.get(&format!("{CORE}/Default/units/parent")).await;
    assert_eq!(r.status, 404);
});

dual_test!(children_are_listed_in_keyset_pages, |app| {
    unit(&app, "hub", Some("Default-root"), "Hub").await;
    for i in 0..7 {
        unit(&app, &format!("k{i}"), Some("hub"), &format!("Kid {i}")).await;
    }
    unit(&app, "grandkid", Some("k0"), "Grand").await;
    let mut seen = Vec::new();
    let mut url = format!("{CORE}/Default/units/hub/children?limit=3");
    loop {
        let r = app.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.body);
        for item in r.body["items"].as_array().unwrap() {
            assert_eq!(item["parentUnitExtId"], "hub");
            seen.push(item["extId"].as_str().unwrap().to_owned());
        }
        match r.body["_pagination"]["continuationToken"].as_str() {
            Some(t) => {
                url = format!("{CORE}/Default/units/hub/children?limit=3&continuationToken={t}")
            }
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).map(|i| format!("k{i}")).collect();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    let r = app
        .get(&format!(
            "{CORE}/Default/units/hub/children?continuationToken=1_"
        ))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "errors.invalidParameter");
});

dual_test!(
    moving_a_unit_rewrites_hierarchical_names_of_its_whole_three_level_subtree,
    |app| {
        // Default-root ─ a ─ b ─ c (and a ─ b2), Default-root ─ d
        unit(&app, "a", Some("Default-root"), "A").await;
        unit(&app, "b", Some("a"), "B").await;
        unit(&app, "b2", Some("a"), "B2").await;
        unit(&app, "c", Some("b"), "C").await;
        unit(&app, "d", Some("Default-root"), "D").await;
        assert_eq!(hname(&app, "c").await, "Default-root/a/b/c");
        let r = app.put(&format!("{CORE}/Default/units/d/children/a")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(hname(&app, "a").await, "Default-root/d/a");
        assert_eq!(hname(&app, "b").await, "Default-root/d/a/b");
        assert_eq!(hname(&app, "b2").await, "Default-root/d/a/b2");
        assert_eq!(hname(&app, "c").await, "Default-root/d/a/b/c");
        assert_eq!(hname(&app, "d").await, "Default-root/d");
        let r = app.get(&format!("{CORE}/Default/units/a")).await;
        assert_eq!(r.body["parentUnitExtId"], "d");
        let r = app.get(&format!("{CORE}/Default/units/c")).await;
        assert_eq!(r.body["parentUnitExtId"], "b");
        // Move a deeper node back up; its own subtree follows.
        let r = app
            .put(&format!("{CORE}/Default/units/Default-root/children/b"))
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(hname(&app, "b").await, "Default-root/b");
        assert_eq!(hname(&app, "c").await, "Default-root/b/c");
        assert_eq!(hname(&app, "b2").await, "Default-root/d/a/b2");
        // The id paths moved too: a user with a unit-scoped grant on d now covers a, not b.
        let admin = app
            .seed_user(
                "Default",
                "d-admin",
                &["ClientRoot"],
                false,
                false,
                Some("d"),
            )
            .await;
        let r = app
            .send(app.req_as(
                &admin.token,
                Method::GET,
                &format!("{CORE}/Default/units/b2"),
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app
            .send(app.req_as(
                &admin.token,
                Method::GET,
                &format!("{CORE}/Default/units/c"),
            ))
            .await;
        r.assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.UnitView",
        );
    }
);

dual_test!(
    a_unit_cannot_be_moved_under_itself_or_its_own_descendant,
    |app| {
        unit(&app, "a", Some("Default-root"), "A").await;
        unit(&app, "b", Some("a"), "B").await;
        unit(&app, "c", Some("b"), "C").await;
        let r = app.put(&format!("{CORE}/Default/units/c/children/a")).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.assignSubunitAsParent");
        let r = app.put(&format!("{CORE}/Default/units/a/children/a")).await;
        assert_eq!(r.code(), "errors.assignSubunitAsParent");
        assert_eq!(hname(&app, "c").await, "Default-root/a/b/c");
        let r = app
            .put(&format!("{CORE}/Default/units/a/children/nope"))
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Unit doesn't exist with extId 'nope'",
        );
    }
);

dual_test!(unit_endpoints_refuse_callers_without_the_rights, |app| {
    unit(&app, "a", Some("Default-root"), "A").await;
    let helpdesk = app
        .seed_user("Default", "helper", &["Helpdesk"], false, true, None)
        .await;
    let r = app
        .send(
            app.req_as(
                &helpdesk.token,
                Method::PATCH,
                &format!("{CORE}/Default/units/a"),
            )
            .json(&json!({"name": "Z"})),
        )
        .await;
    r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.UnitModify' to perform this action",
        );
    let r = app
        .send(app.req_as(
            &helpdesk.token,
            Method::DELETE,
            &format!("{CORE}/Default/units/a"),
        ))
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .send(app.req_as(
            &helpdesk.token,
            Method::GET,
            &format!("{CORE}/Default/units/a"),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
});
