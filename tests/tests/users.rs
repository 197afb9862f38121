//! Users: create with the full DTO, validation, locking, state cascade to profiles, archived
//! users, delete cascade, self-admin read, filtered lists, and paging 1,000 users while new
//! ones are inserted.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use futures::StreamExt;
use idm_tests::{dual_test, json, TestApp, CORE};
use reqwest::Method;

fn full_user() -> serde_json::Value {
    json!({
        "extId": "jdoe", "loginId": "john.doe", "userState": "active", "languageCode": "DE",
        "isTechnicalUser": false,
        "name": {"title": "Dr.", "firstName": "John", "familyName": "Doe"},
        "sex": "male", "gender": "male", "birthDate": "1980-02-29",
        "address": {"addressline1": "Main St 1", "postalCode": "8000", "city": "Zurich", "countryCode": "CH"},
        "contacts": {"telephone": "+41 44 000 00 00", "mobile": "+41 79 000 00 00", "email": "john@example.com"},
        "remarks": "vip", "modificationComment": "created",
        "validity": {"from": "2024-01-01T00:00:00Z"}
    })
}

dual_test!(a_created_user_reads_back_with_the_full_dto, |app| {
    let r = app
        .post(&format!("{CORE}/Default/users"), full_user())
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.location(), format!("{CORE}/Default/users/jdoe").as_str());
    let r = app.get(&format!("{CORE}/Default/users/jdoe")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["extId"], "jdoe");
    assert_eq!(b["clientExtId"], "Default");
    assert_eq!(b["loginId"], "john.doe");
    assert_eq!(b["userState"], "active");
    assert_eq!(b["languageCode"], "DE");
    assert_eq!(b["isTechnicalUser"], false);
    assert_eq!(
        b["name"],
        json!({"title": "Dr.", "firstName": "John", "familyName": "Doe"})
    );
    assert_eq!(b["sex"], "male");
    assert_eq!(b["birthDate"], "1980-02-29");
    assert_eq!(b["address"]["city"], "Zurich");
    assert_eq!(b["address"]["countryCode"], "CH");
    assert_eq!(b["contacts"]["email"], "john@example.com");
    assert_eq!(b["validity"], json!({"from": "2024-01-01T00:00:00Z"}));
    assert_eq!(b["remarks"], "vip");
    assert_eq!(b["version"], 1);
    assert_eq!(r.header("etag"), Some("\"1\""));
    // A generated extId is a UUID.
    let r = app
        .post(&format!("{CORE}/Default/users"), json!({"loginId": "anon"}))
        .await;
    assert_eq!(r.status, 201);
    let ext = r.location().rsplit('/').next().unwrap().to_owned();
    assert_eq!(ext.len(), 36, "{ext}");
});

dual_test!(user_bodies_are_validated_field_by_field, |app| {
    let r = app
        .post(&format!("{CORE}/Default/users"), full_user())
        .await;
    assert_eq!(r.status, 201);
    let mut dup = full_user();
    dup["extId"] = json!("other");
    let r = app.post(&format!("{CORE}/Default/users"), dup).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "errors.duplicateValue");
    let cases = [
        (json!({}), "loginId"),
        (
            json!({"loginId": "x", "languageCode": "es"}),
            "languageCode",
        ),
        (json!({"loginId": "x", "userState": "gone"}), "userState"),
        (json!({"loginId": "x", "sex": "robot"}), "sex"),
        (
            json!({"loginId": "x", "birthDate": "31.12.1999"}),
            "birthDate",
        ),
        (
            json!({"loginId": "x", "contacts": {"email": "nope"}}),
            "contacts.email",
        ),
        (json!({"loginId": "x", "extId": "a/b"}), "extId"),
    ];
    for (body, field) in cases {
        let r = app.post(&format!("{CORE}/Default/users"), body).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            &format!("The following fields are not valid: {field}"),
        );
    }
    let r = app
        .post(
            &format!("{CORE}/Default/users"),
            json!({"loginId": "x", "validity": {"from": "2025-01-01", "to": "2024-01-01"}}),
        )
        .await;
    assert_eq!(r.code(), "errors.invalidDateInterval");
    let r = app
        .post(&format!("{CORE}/client-123/users"), json!({"loginId": "x"}))
        .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Client doesn't exist with extId 'client-123'",
    );
});

dual_test!(
    patching_a_user_uses_optimistic_locking_and_keeps_the_ext_id,
    |app| {
        app.post(&format!("{CORE}/Default/users"), full_user())
            .await;
        let r = app
            .patch(
                &format!("{CORE}/Default/users/jdoe"),
                json!({"name": {"firstName": "Jack"}, "version": 1}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["name"]["firstName"], "Jack");
        assert_eq!(r.body["name"]["familyName"], "Doe");
        assert_eq!(r.body["version"], 2);
        let r = app
            .patch(
                &format!("{CORE}/Default/users/jdoe"),
                json!({"remarks": "x", "version": 1}),
            )
            .await;
        r.assert_error(
            409,
            "errors.optimisticLockingFailure",
            "Row was already updated or deleted by another transaction",
        );
        let r = app
            .send(
                app.req(Method::PATCH, &format!("{CORE}/Default/users/jdoe"))
                    .header("If-Match", "\"1\"")
                    .json(&json!({"remarks": "x"})),
            )
            .await;
        assert_eq!(r.status, 409);
        let r = app
            .patch(
                &format!("{CORE}/Default/users/jdoe"),
                json!({"extId": "other"}),
            )
            .await;
        assert_eq!(r.code(), "errors.modifyExtId");
        let r = app
            .patch(
                &format!("{CORE}/Default/users/nope"),
                json!({"remarks": "x"}),
            )
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "A user with extId 'nope' doesn't exist on client with name Default",
        );
    }
);

dual_test!(
    a_disable_that_lost_the_race_to_another_write_changes_neither_the_user_nor_its_profiles,
    |app| {
        let u = app
            .seed_user("Default", "worker", &[], false, false, None)
            .await;
        let repo = app.services.repo().clone();
        let client = repo.client_by_ext_id("Default").await.unwrap().unwrap();
        let before = repo
            .user_by_ext_id(client.meta.id, "worker")
            .await
            .unwrap()
            .unwrap();
        // Another write gets there first.
        let r = app
            .patch(
                &format!("{CORE}/Default/users/worker"),
                json!({"remarks": "first"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        // The disable decided on the version it read: refused, and its cascade (one statement
        // with the UPDATE on PostgreSQL) must not have touched the profiles either.
        let mut disabled = before.clone();
        disabled.state = idm_domain::values::UserState::Disabled;
        let lost = repo.update_user(&disabled, &before).await;
        assert!(
            matches!(lost, Err(idm_ports::RepoError::StaleVersion)),
            "{lost:?}"
        );
        let r = app.get(&format!("{CORE}/Default/users/worker")).await;
        assert_eq!(r.body["userState"], "active", "{}", r.body);
        let r = app
            .get(&format!("{CORE}/Default/profiles/{}", u.profile_ext_id))
            .await;
        assert_eq!(r.body["profileState"], "active", "{}", r.body);
        assert_eq!(r.body["version"], 1, "{}", r.body);
    }
);

dual_test!(
    disabling_a_user_disables_its_profiles_and_archived_users_cannot_be_modified,
    |app| {
        let u = app
            .seed_user("Default", "worker", &[], false, false, None)
            .await;
        let r = app
            .post(
                &format!("{CORE}/Default/users/worker/profiles"),
                json!({"extId": "second", "unitExtId": "Default-root"}),
            )
            .await;
        assert_eq!(r.status, 201);
        let r = app
            .patch(
                &format!("{CORE}/Default/users/worker"),
                json!({"userState": "disabled"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        for p in [u.profile_ext_id.as_str(), "second"] {
            let r = app.get(&format!("{CORE}/Default/profiles/{p}")).await;
            assert_eq!(r.body["profileState"], "disabled", "{p}");
        }
        // A profile re-activated on its own survives further edits of the disabled user.
        let r = app
            .patch(
                &format!("{CORE}/Default/profiles/second"),
                json!({"profileState": "active"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app
            .patch(
                &format!("{CORE}/Default/users/worker"),
                json!({"remarks": "still off"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app.get(&format!("{CORE}/Default/profiles/second")).await;
        assert_eq!(r.body["profileState"], "active");
        let r = app
            .patch(
                &format!("{CORE}/Default/users/worker"),
                json!({"userState": "archived"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app.get(&format!("{CORE}/Default/profiles/second")).await;
        assert_eq!(r.body["profileState"], "archived");
        let r = app
            .patch(
                &format!("{CORE}/Default/users/worker"),
                json!({"userState": "active"}),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.modifyArchivedUser");
        let r = app.delete(&format!("{CORE}/Default/users/worker")).await;
        assert_eq!(r.status, 204);
    }
);

dual_test!(
    deleting_a_user_removes_its_profiles_and_credentials,
    |app| {
        let u = app
            .seed_user("Default", "leaver", &["UserAdmin"], false, false, None)
            .await;
        let r = app.delete(&format!("{CORE}/Default/users/leaver")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app.get(&format!("{CORE}/Default/users/leaver")).await;
        assert_eq!(r.status, 404);
        let r = app
            .get(&format!("{CORE}/Default/profiles/{}", u.profile_ext_id))
            .await;
        assert_eq!(r.status, 404);
        // Its token no longer resolves to a caller.
        let r = app
            .send(app.req_as(&u.token, Method::GET, &format!("{CORE}/clients/Default")))
            .await;
        assert_eq!(r.status, 401);
        // The loginId is free again.
        let r = app
            .post(
                &format!("{CORE}/Default/users"),
                json!({"loginId": "leaver"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
);

dual_test!(a_self_admin_reads_itself_but_not_other_users, |app| {
    let me = app
        .seed_user("Default", "me", &["SelfAdmin"], false, false, None)
        .await;
    app.seed_user("Default", "you", &[], false, false, None)
        .await;
    let r = app
        .send(app.req_as(&me.token, Method::GET, &format!("{CORE}/Default/users/me")))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["loginId"], "me");
    let r = app
        .send(app.req_as(&me.token, Method::GET, &format!("{CORE}/Default/users/you")))
        .await;
    r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.UserView' to perform this action",
        );
    let r = app
        .send(
            app.req_as(
                &me.token,
                Method::PATCH,
                &format!("{CORE}/Default/users/me"),
            )
            .json(&json!({"remarks": "x"})),
        )
        .await;
    // Issue 14: `UserModify or SelfAdmin Role` — a self-admin may patch its own
    // unprotected attributes.
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["remarks"], "x");
    let r = app
        .send(app.req_as(
            &me.token,
            Method::GET,
            &format!("{CORE}/clients/Default/users"),
        ))
        .await;
    assert_eq!(r.status, 403);
});

dual_test!(the_user_list_filters_by_login_id_state_and_ext_id, |app| {
    for i in 0..4 {
        let r = app
            .post(
                &format!("{CORE}/Default/users"),
                json!({"extId": format!("f{i}"), "loginId": format!("login{i}"),
                       "userState": if i % 2 == 0 { "active" } else { "disabled" }}),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let ids = |r: &idm_tests::Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["extId"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = app
        .get(&format!("{CORE}/clients/Default/users?loginId=login2"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec!["f2"]);
    let r = app
        .get(&format!("{CORE}/clients/Default/users?userState=disabled"))
        .await;
    assert_eq!(ids(&r), vec!["f1", "f3"]);
    let r = app
        .get(&format!(
            "{CORE}/clients/Default/users?extId=f3&userState=disabled"
        ))
        .await;
    assert_eq!(ids(&r), vec!["f3"]);
    let r = app
        .get(&format!("{CORE}/clients/Default/users?userState=bogus"))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "errors.invalidParameter");
    let r = app
        .get(&format!(
            "{CORE}/clients/Default/users?continuationToken=xyz"
        ))
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: continuationToken",
    );
    let r = app.get(&format!("{CORE}/clients/client-123/users")).await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Client doesn't exist with extId 'client-123'",
    );
});

/// Creates `n` users named `<prefix><i>` through the ports, 8 at a time.
async fn bulk_users(app: &TestApp, prefix: &str, n: usize) {
    use idm_domain::model::{Meta, User};
    use idm_domain::values::{now_millis, UserState, Validity};
    let repo = app.services.repo().clone();
    let client = repo.client_by_ext_id("Default").await.unwrap().unwrap();
    futures::stream::iter(0..n)
        .map(|i| {
            let repo = repo.clone();
            let client = client.clone();
            let ext = format!("{prefix}{i:04}");
            async move {
                let now = now_millis();
                repo.create_user(User {
                    meta: Meta {
                        id: 0,
                        ext_id: ext.clone(),
                        created: now,
                        last_modified: now,
                        version: 1,
                    },
                    client_id: client.meta.id,
                    client_ext_id: client.meta.ext_id.clone(),
                    login_id: ext,
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
                })
                .await
                .unwrap();
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
}

dual_test!(
    paging_through_1000_users_with_limit_37_returns_each_exactly_once_while_users_are_added,
    |app| {
        bulk_users(&app, "bulk-", 1000).await;
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut url = format!("{CORE}/clients/Default/users?limit=37");
        let mut pages = 0;
        let mut added = 0;
        loop {
            let r = app.get(&url).await;
            assert_eq!(r.status, 200, "{}", r.body);
            pages += 1;
            let items = r.body["items"].as_array().unwrap();
            assert!(items.len() <= 37);
            for u in items {
                *counts
                    .entry(u["extId"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
            // Writers keep inserting while the walk goes on.
            for _ in 0..2 {
                let r = app
                    .post(
                        &format!("{CORE}/Default/users"),
                        json!({"extId": format!("late-{added}"), "loginId": format!("late-{added}")}),
                    )
                    .await;
                assert_eq!(r.status, 201, "{}", r.body);
                added += 1;
            }
            match r.body["_pagination"]["continuationToken"].as_str() {
                Some(t) => {
                    url = format!("{CORE}/clients/Default/users?limit=37&continuationToken={t}")
                }
                None => break,
            }
            assert!(pages < 200, "runaway paging");
        }
        for i in 0..1000 {
            let key = format!("bulk-{i:04}");
            assert_eq!(counts.get(&key), Some(&1), "{key}");
        }
        assert!(counts.values().all(|&c| c == 1), "a user was served twice");
        assert!(pages >= 28, "pages: {pages}");
    }
);

dual_test!(
    a_caller_cannot_delete_disable_or_archive_itself_or_delete_its_own_profile,
    |app| {
        let r = app.delete(&format!("{CORE}/Default/users/admin")).await;
        r.assert_error(
            422,
            "errors.unsupportedOperation",
            "A caller cannot delete its own user.",
        );
        for state in ["disabled", "archived"] {
            let r = app
                .patch(
                    &format!("{CORE}/Default/users/admin"),
                    json!({"userState": state}),
                )
                .await;
            r.assert_error(
                422,
                "errors.unsupportedOperation",
                "A caller cannot disable or archive its own user.",
            );
        }
        let r = app
            .delete(&format!("{CORE}/Default/profiles/admin-profile"))
            .await;
        r.assert_error(
            422,
            "errors.unsupportedOperation",
            "A caller cannot delete its own profile.",
        );
        // The admin still works.
        assert_eq!(
            app.get(&format!("{CORE}/Default/users/admin")).await.status,
            200
        );
    }
);
