//! Per-client policy configurations (`core/:c/policies`), the effective policies they make,
//! and self-service user PATCH — both backends.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, TestApp, CORE};
use reqwest::Method;

fn policies(client: &str) -> String {
    format!("{CORE}/{client}/policies")
}

fn policy(client: &str, ext_id: &str) -> String {
    format!("{CORE}/{client}/policies/{ext_id}")
}

async fn create_policy(app: &TestApp, client: &str, body: serde_json::Value) {
    let r = app.post(&policies(client), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn create_user(app: &TestApp, client: &str, ext_id: &str) {
    let r = app
        .post(
            &format!("{CORE}/{client}/users"),
            json!({"extId": ext_id, "loginId": ext_id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn set_password(app: &TestApp, client: &str, user: &str, password: &str) -> idm_tests::Reply {
    app.post(
        &format!("{CORE}/{client}/users/{user}/password"),
        json!({ "password": password }),
    )
    .await
}

dual_test!(
    a_client_pwd_policy_with_min_length_12_refuses_an_11_character_password_in_that_client_only,
    |app| {
        app.create_client("strict", "Strict").await;
        app.create_client("lenient", "Lenient").await;
        create_policy(
            &app,
            "strict",
            json!({"extId": "pwd", "name": "Strict passwords", "policyType": "PwdPolicy",
                   "defaultPolicy": true, "parameters": {"minLength": "12"}}),
        )
        .await;
        create_user(&app, "strict", "alice").await;
        create_user(&app, "lenient", "bob").await;
        let eleven = "abcdefghij1";
        let r = set_password(&app, "strict", "alice", eleven).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.pwdPolicyViolated");
        let v = &r.body["policyViolations"][0];
        assert_eq!(v["displayName"], "Minimum length");
        assert_eq!(v["configString"], "minLength=12");
        assert_eq!(v["limitValue"], 12);
        assert_eq!(v["actualValue"], "11");
        assert_eq!(r.body["policyViolations"].as_array().unwrap().len(), 1);
        // Another client keeps the configured default (8).
        let r = set_password(&app, "lenient", "bob", eleven).await;
        assert!(
            r.status == 201 || r.status == 204,
            "{} {}",
            r.status,
            r.body
        );
        // Twelve characters satisfy the client's policy.
        let r = set_password(&app, "strict", "alice", "abcdefghijk1").await;
        assert!(
            r.status == 201 || r.status == 204,
            "{} {}",
            r.status,
            r.body
        );
    }
);

dual_test!(a_policy_is_created_read_listed_and_deleted, |app| {
    let r = app
        .post(
            &policies("Default"),
            json!({"extId": "pwd-1", "name": "Custom", "description": "for staff",
                   "policyType": "PwdPolicy", "parameters": {"minLength": "8", "maxLength": "64"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.location(), policy("Default", "pwd-1"));
    let r = app.get(&policy("Default", "pwd-1")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(r.body["extId"], "pwd-1");
    assert_eq!(r.body["clientExtId"], "Default");
    assert_eq!(r.body["name"], "Custom");
    assert_eq!(r.body["description"], "for staff");
    assert_eq!(r.body["policyType"], "PwdPolicy");
    assert_eq!(r.body["defaultPolicy"], false);
    assert_eq!(
        r.body["parameters"],
        json!({"minLength": "8", "maxLength": "64"})
    );
    assert_eq!(r.body["version"], 1);
    let r = app.get(&format!("{CORE}/clients/Default/policies")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["extId"], "pwd-1");
    let r = app.delete(&policy("Default", "pwd-1")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    app.get(&policy("Default", "pwd-1")).await.assert_error(
        404,
        "errors.noRecord",
        "Policy doesn't exist with extId 'pwd-1'",
    );
    app.get(&format!("{CORE}/clients/nope/policies"))
        .await
        .assert_error(
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'nope'",
        );
});

dual_test!(
    a_second_client_policy_in_the_same_client_is_multiple_client_policy,
    |app| {
        app.create_client("other", "Other").await;
        create_policy(
            &app,
            "Default",
            json!({"extId": "cp-1", "policyType": "ClientPolicy"}),
        )
        .await;
        let r = app
            .post(
                &policies("Default"),
                json!({"extId": "cp-2", "policyType": "ClientPolicy"}),
            )
            .await;
        r.assert_error(
            422,
            "errors.pcyconf.multipleClientPolicy",
            "The client with extId 'Default' already has a ClientPolicy.",
        );
        app.get(&policy("Default", "cp-2")).await.assert_error(
            404,
            "errors.noRecord",
            "Policy doesn't exist with extId 'cp-2'",
        );
        // One per client: another client may have its own.
        create_policy(
            &app,
            "other",
            json!({"extId": "cp-2", "policyType": "ClientPolicy"}),
        )
        .await;
    }
);

dual_test!(
    unknown_or_wrongly_typed_parameters_and_types_are_422_naming_them,
    |app| {
        let cases = [
            (
                json!({"policyType": "PwdPolicy", "parameters": {"minLenght": "12"}}),
                "The following fields are not valid: parameters.minLenght",
            ),
            (
                json!({"policyType": "PwdPolicy", "parameters": {"minLength": "twelve"}}),
                "The following fields are not valid: parameters.minLength",
            ),
            (
                json!({"policyType": "PwdPolicy", "parameters": {"minLength": 12}}),
                "The following fields are not valid: parameters.minLength",
            ),
            (
                json!({"policyType": "ClientPolicy",
                       "parameters": {"allowed.user.languages": "[]"}}),
                "The following fields are not valid: parameters.allowed.user.languages",
            ),
            (
                json!({"policyType": "NoSuchPolicy"}),
                "The following fields are not valid: policyType",
            ),
            (
                json!({"parameters": {}}),
                "The following fields are not valid: policyType",
            ),
        ];
        for (body, message) in cases {
            app.post(&policies("Default"), body.clone())
                .await
                .assert_error(422, "errors.invalidParameter", message);
        }
        let r = app
            .post(
                &policies("Default"),
                json!({"policyType": "PwdPolicy",
                       "parameters": {"minLength": "20", "maxLength": "10"}}),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.policyInconsistency");
        // Nothing was stored by any refused create.
        let r = app.get(&format!("{CORE}/clients/Default/policies")).await;
        assert_eq!(r.body["items"], json!([]));
    }
);

dual_test!(
    patch_replaces_the_whole_parameter_map_and_a_stale_version_is_409,
    |app| {
        create_policy(
            &app,
            "Default",
            json!({"extId": "p", "policyType": "PwdPolicy",
                   "parameters": {"minLength": "10", "minDigits": "2"}}),
        )
        .await;
        let r = app
            .patch(
                &policy("Default", "p"),
                json!({"version": 1, "name": "renamed", "parameters": {"maxLength": "40"}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["parameters"], json!({"maxLength": "40"}));
        assert_eq!(r.body["name"], "renamed");
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.header("etag"), Some("\"2\""));
        let r = app.get(&policy("Default", "p")).await;
        assert_eq!(r.body["parameters"], json!({"maxLength": "40"}));
        app.patch(
            &policy("Default", "p"),
            json!({"version": 1, "parameters": {}}),
        )
        .await
        .assert_error(
            409,
            "errors.optimisticLockingFailure",
            "Row was already updated or deleted by another transaction",
        );
        app.patch(
            &policy("Default", "p"),
            json!({"parameters": {"bogus": "1"}}),
        )
        .await
        .assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: parameters.bogus",
        );
        app.patch(
            &policy("Default", "p"),
            json!({"policyType": "ClientPolicy"}),
        )
        .await
        .assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: policyType",
        );
        app.patch(&policy("Default", "p"), json!({"extId": "q"}))
            .await
            .assert_error(422, "errors.modifyExtId", "The extId 'p' cannot be changed");
        // The refused patches changed nothing.
        let r = app.get(&policy("Default", "p")).await;
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.body["parameters"], json!({"maxLength": "40"}));
    }
);

dual_test!(
    a_client_policy_makes_user_fields_mandatory_and_limits_languages,
    |app| {
        create_policy(
            &app,
            "Default",
            json!({"extId": "cp", "policyType": "ClientPolicy",
                   "parameters": {"validation.user.email.mandatory": "true",
                                  "allowed.user.languages": "[de]"}}),
        )
        .await;
        app.post(
            &format!("{CORE}/Default/users"),
            json!({"extId": "u1", "loginId": "u1", "languageCode": "EN"}),
        )
        .await
        .assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: languageCode, contacts.email",
        );
        let r = app
            .post(
                &format!("{CORE}/Default/users"),
                json!({"extId": "u1", "loginId": "u1", "languageCode": "DE",
                       "contacts": {"email": "u1@example.com"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        app.patch(
            &format!("{CORE}/Default/users/u1"),
            json!({"contacts": {"email": ""}}),
        )
        .await
        .assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: contacts.email",
        );
        // The user and profile in one call: its user part is checked against the same policy
        // (located with the profile's unit, not in the client's statement).
        app.post(
            &format!("{CORE}/Default/identity"),
            json!({"user": {"extId": "u2", "loginId": "u2"},
                   "profile": {"unitExtId": "Default-root"}}),
        )
        .await
        .assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: user.contacts.email",
        );
        // A policy removed between two writes no longer rules the second: nothing kept it.
        assert_eq!(app.delete(&policy("Default", "cp")).await.status, 204);
        let r = app
            .patch(
                &format!("{CORE}/Default/users/u1"),
                json!({"contacts": {"email": ""}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
);

dual_test!(policy_routes_need_their_rights, |app| {
    let me = app
        .seed_user("Default", "hd", &["Helpdesk"], false, true, None)
        .await;
    let r = app
        .send(
            app.req_as(&me.token, Method::POST, &policies("Default"))
                .json(&json!({"policyType": "PwdPolicy"})),
        )
        .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.PolicyCreate' to perform this action",
    );
});

// ---- self-service PATCH of the caller's own user ----

fn user_path(ext_id: &str) -> String {
    format!("{CORE}/Default/users/{ext_id}")
}

dual_test!(a_self_admin_changes_its_own_name, |app| {
    let me = app
        .seed_user("Default", "me", &["SelfAdmin"], false, false, None)
        .await;
    let r = app
        .send(
            app.req_as(&me.token, Method::PATCH, &user_path("me"))
                .json(&json!({"name": {"firstName": "Mia", "familyName": "Muster"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"]["firstName"], "Mia");
    assert_eq!(r.body["name"]["familyName"], "Muster");
});

dual_test!(
    a_self_admin_changes_its_own_email_only_with_an_x_token,
    |app| {
        let me = app
            .seed_user("Default", "me", &["SelfAdmin"], false, false, None)
            .await;
        let body = json!({"contacts": {"email": "me@example.com"}});
        let r = app
            .send(
                app.req_as(&me.token, Method::PATCH, &user_path("me"))
                    .json(&body),
            )
            .await;
        r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
        let r = app
            .send(
                app.req_as(&me.token, Method::PATCH, &user_path("me"))
                    .header("X-Token", "not-a-token")
                    .json(&body),
            )
            .await;
        r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
        let r = app.get(&user_path("me")).await;
        assert_ne!(r.body["contacts"]["email"], "me@example.com");
        let xtoken = app.xtoken_for(&me).await;
        let r = app
            .send(
                app.req_as(&me.token, Method::PATCH, &user_path("me"))
                    .header("X-Token", xtoken)
                    .json(&body),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["contacts"]["email"], "me@example.com");
        // Sending the unchanged protected value again needs no X-Token.
        let r = app
            .send(
                app.req_as(&me.token, Method::PATCH, &user_path("me"))
                    .json(&json!({"contacts": {"email": "me@example.com"}, "remarks": "hi"})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
);

dual_test!(
    a_self_admin_may_not_change_another_user_nor_its_own_validity,
    |app| {
        let me = app
            .seed_user("Default", "me", &["SelfAdmin"], false, false, None)
            .await;
        app.seed_user("Default", "other", &["SelfAdmin"], false, false, None)
            .await;
        let r = app
            .send(
                app.req_as(&me.token, Method::PATCH, &user_path("other"))
                    .json(&json!({"name": {"firstName": "Evil"}})),
            )
            .await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.UserModify' to perform this action",
        );
        let xtoken = app.xtoken_for(&me).await;
        let r = app
            .send(
                app.req_as(&me.token, Method::PATCH, &user_path("me"))
                    .header("X-Token", xtoken)
                    .json(&json!({"validity": {"to": "2999-01-01T00:00:00Z"}})),
            )
            .await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.UserModify' to perform this action",
        );
        let r = app.get(&user_path("other")).await;
        assert_ne!(r.body["name"]["firstName"], "Evil");
    }
);

dual_test!(
    the_protected_attribute_list_is_configurable,
    setup = |b| TestApp::builder()
        .backend(b)
        .settings(|s| s.policy.self_protected_attributes = vec!["name.familyName".into()])
        .start(),
    |app: TestApp| {
        let me = app
            .seed_user("Default", "me", &["SelfAdmin"], false, false, None)
            .await;
        let r = app
            .send(
                app.req_as(&me.token, Method::PATCH, &user_path("me"))
                    .json(&json!({"contacts": {"email": "me@example.com"}})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app
            .send(
                app.req_as(&me.token, Method::PATCH, &user_path("me"))
                    .json(&json!({"name": {"familyName": "New"}})),
            )
            .await;
        r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
    }
);

const AUTH: &str = "/nevisidm/api/auth/v1";

async fn login_code(app: &TestApp, client: &str, user: &str, password: &str) -> i64 {
    let r = app
        .post(
            &format!("{AUTH}/{client}/users/{user}/password/login"),
            json!({ "password": password }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["statusCode"].as_i64().unwrap()
}

dual_test!(
    a_client_pwd_policys_lockout_keys_change_the_login_walk_through_in_that_client_only,
    |app| {
        app.create_client("patient", "Patient").await;
        app.create_client("usual", "Usual").await;
        create_policy(
            &app,
            "patient",
            json!({"extId": "pwd", "policyType": "PwdPolicy", "defaultPolicy": true,
                   "parameters": {"maxCredFailureCount": "6", "tmpLockingThreshold": "4"}}),
        )
        .await;
        for client in ["patient", "usual"] {
            create_user(&app, client, "walker").await;
            let r = set_password(&app, client, "walker", "Walk-Passw0rd-1").await;
            assert!(r.status < 300, "{} {}", r.status, r.body);
        }
        // The configured defaults (3 failures, temporary lock at 2): the second wrong
        // password locks for a while.
        assert_eq!(login_code(&app, "usual", "walker", "wrong").await, 3);
        assert_eq!(login_code(&app, "usual", "walker", "wrong").await, 9);
        // The client's policy locks temporarily only at the fourth, warning at the third.
        assert_eq!(login_code(&app, "patient", "walker", "wrong").await, 2);
        assert_eq!(login_code(&app, "patient", "walker", "wrong").await, 2);
        assert_eq!(login_code(&app, "patient", "walker", "wrong").await, 3);
        assert_eq!(login_code(&app, "patient", "walker", "wrong").await, 9);
    }
);

dual_test!(
    a_policy_that_a_credential_names_cannot_be_deleted_until_the_credential_is_gone,
    |app| {
        create_policy(
            &app,
            "Default",
            json!({"extId": "named", "policyType": "PwdPolicy", "parameters": {}}),
        )
        .await;
        create_user(&app, "Default", "holder").await;
        let r = app
            .post(
                &format!("{CORE}/Default/users/holder/password"),
                json!({"password": "Named-Passw0rd-1", "policyExtId": "named"}),
            )
            .await;
        assert!(r.status < 300, "{} {}", r.status, r.body);
        let version = app.get(&policy("Default", "named")).await.body["version"]
            .as_i64()
            .unwrap();
        let r = app
            .send(
                app.req(Method::DELETE, &policy("Default", "named"))
                    .header("If-Match", format!("\"{version}\"")),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.undeletedDependencies");
        let r = app
            .delete(&format!("{CORE}/Default/users/holder/password"))
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app
            .send(
                app.req(Method::DELETE, &policy("Default", "named"))
                    .header("If-Match", format!("\"{version}\"")),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
    }
);
