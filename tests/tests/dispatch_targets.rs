//! Dispatch targets (★ DELETE, seed 000) and app attestations, on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, Reply, TestApp, CORE};
use reqwest::Method;
use serde_json::Value;

fn targets(c: &str, u: &str) -> String {
    format!("{CORE}/{c}/users/{u}/dispatch-targets")
}

fn target(c: &str, u: &str, dt: &str) -> String {
    format!("{CORE}/{c}/users/{u}/dispatch-targets/{dt}")
}

fn attestation(c: &str, u: &str, dt: &str) -> String {
    format!("{}/app-attestation", target(c, u, dt))
}

fn fido(c: &str, u: &str, ext: &str) -> String {
    format!("{CORE}/{c}/users/{u}/fido-authenticators/{ext}")
}

fn target_body(ext_id: &str) -> Value {
    json!({
        "extId": ext_id,
        "deviceId": "device-1",
        "target": "push-token-1",
        "signingKey": "signing-key",
        "appId": "ch.example.app",
        "name": "My phone",
        "dispatcher": "fcmpush",
    })
}

fn attestation_body(name: &str) -> Value {
    json!({
        "name": name,
        "counter": 3,
        "receipt": "receipt-bytes",
        "publicKey": "attestation-public-key",
        "deviceId": "device-1",
        "environment": "production",
    })
}

/// A plain user without rights in client `Default`.
async fn user(app: &TestApp, ext_id: &str) {
    app.seed_user("Default", ext_id, &[], false, false, None)
        .await;
}

/// Creates a dispatch target (optionally with an attestation named `att`) as Root.
async fn create_target(app: &TestApp, u: &str, dt: &str, att: Option<&str>) {
    let mut body = target_body(dt);
    if let Some(name) = att {
        body["appAttestation"] = attestation_body(name);
    }
    let r = app.post(&targets("Default", u), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// Creates a FIDO UAF credential of `u`, linked to `dt`, as Root.
async fn create_uaf(app: &TestApp, u: &str, ext: &str, key_id: &str, dt: &str) {
    let r = app
        .post(
            &format!("{CORE}/Default/users/{u}/fido-authenticators"),
            json!({
                "extId": ext,
                "aaid": "4E4E#4005",
                "keyId": key_id,
                "authenticatorVersion": "1.0",
                "publicKey": "uaf-public-key",
                "publicKeyAlgorithm": "UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW",
                "appId": "https://example.com/facets",
                "dispatchTargetExtId": dt,
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn delete_as(app: &TestApp, token: &str, path: &str, xtoken: Option<&str>) -> Reply {
    let mut rb = app.req_as(token, Method::DELETE, path);
    if let Some(x) = xtoken {
        rb = rb.header("X-Token", x);
    }
    app.send(rb).await
}

// ----- ★ seed 000: DELETE a dispatch target -----

dual_test!(root_admin_deletes_a_dispatch_target_with_204, |app| {
    user(&app, "user-123").await;
    create_target(&app, "user-123", "dt-123", None).await;
    let r = app.delete(&target("Default", "user-123", "dt-123")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.body, Value::Null);
    let r = app.get(&target("Default", "user-123", "dt-123")).await;
    assert_eq!(r.status, 404);
});

dual_test!(
    self_admin_with_a_fresh_x_token_deletes_own_target_with_204,
    |app| {
        let me = app
            .seed_user("Default", "self-1", &["SelfAdmin"], false, false, None)
            .await;
        create_target(&app, "self-1", "dt-self", None).await;
        let x = app.xtoken_for(&me).await;
        let path = target("Default", "self-1", "dt-self");
        let r = delete_as(&app, &me.token, &path, Some(&x)).await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(app.get(&path).await.status, 404);
    }
);

dual_test!(
    self_admin_without_an_x_token_gets_422_invalid_jwt_token,
    |app| {
        let me = app
            .seed_user("Default", "self-1", &["SelfAdmin"], false, false, None)
            .await;
        create_target(&app, "self-1", "dt-self", None).await;
        let path = target("Default", "self-1", "dt-self");
        let r = delete_as(&app, &me.token, &path, None).await;
        r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
        assert_eq!(app.get(&path).await.status, 200, "target must survive");
    }
);

dual_test!(
    self_admin_with_a_bad_or_foreign_x_token_gets_422_invalid_jwt_token,
    |app| {
        let me = app
            .seed_user("Default", "self-1", &["SelfAdmin"], false, false, None)
            .await;
        let other = app
            .seed_user("Default", "self-2", &["SelfAdmin"], false, false, None)
            .await;
        create_target(&app, "self-1", "dt-self", None).await;
        let path = target("Default", "self-1", "dt-self");
        // Garbage, the caller's own bearer token (wrong secret), another user's X-Token.
        let foreign = app.xtoken_for(&other).await;
        for bad in ["not-a-jwt", me.token.as_str(), foreign.as_str()] {
            let r = delete_as(&app, &me.token, &path, Some(bad)).await;
            r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
        }
        assert_eq!(app.get(&path).await.status, 200, "target must survive");
    }
);

dual_test!(
    self_admin_deleting_another_users_target_gets_403_naming_credential_delete,
    |app| {
        let me = app
            .seed_user("Default", "self-1", &["SelfAdmin"], false, false, None)
            .await;
        user(&app, "user-123").await;
        create_target(&app, "user-123", "dt-123", None).await;
        let x = app.xtoken_for(&me).await;
        let path = target("Default", "user-123", "dt-123");
        let r = delete_as(&app, &me.token, &path, Some(&x)).await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.CredentialDelete' to perform this action",
        );
        assert_eq!(app.get(&path).await.status, 200);
    }
);

dual_test!(
    user_admin_of_another_client_gets_403_combined_dataroom_denied,
    |app| {
        app.create_client("other-client", "Other").await;
        let admin = app
            .seed_user("other-client", "ua", &["UserAdmin"], false, true, None)
            .await;
        user(&app, "user-123").await;
        create_target(&app, "user-123", "dt-123", None).await;
        let path = target("Default", "user-123", "dt-123");
        let r = delete_as(&app, &admin.token, &path, None).await;
        r.assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.CredentialDelete",
        );
        assert_eq!(app.get(&path).await.status, 200);
    }
);

dual_test!(
    a_caller_without_any_delete_right_gets_403_before_any_lookup,
    |app| {
        let nobody = app
            .seed_user("Default", "nobody", &[], false, false, None)
            .await;
        let r = delete_as(
            &app,
            &nobody.token,
            &target("client-123", "user-123", "dt-123"),
            None,
        )
        .await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.CredentialDelete' to perform this action",
        );
    }
);

dual_test!(delete_with_an_unknown_client_returns_the_seed_404, |app| {
    let r = app
        .delete(&target("client-123", "user-123", "dt-123"))
        .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Client doesn't exist with extId 'client-123'",
    );
});

dual_test!(delete_with_an_unknown_user_returns_the_seed_404, |app| {
    let r = app.delete(&target("Default", "user-123", "dt-123")).await;
    r.assert_error(
        404,
        "errors.noRecord",
        "A user with extId 'user-123' doesn't exist on client with name Default",
    );
});

dual_test!(
    delete_with_an_unknown_dispatch_target_returns_the_seed_404,
    |app| {
        user(&app, "user-123").await;
        let r = app.delete(&target("Default", "user-123", "dt-123")).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "No DispatchTarget found with extId 'dt-123' for user with extId 'user-123' on client with name 'Default'",
        );
    }
);

dual_test!(
    another_users_dispatch_target_is_not_found_under_this_user,
    |app| {
        user(&app, "user-123").await;
        user(&app, "user-456").await;
        create_target(&app, "user-456", "dt-123", None).await;
        let r = app.delete(&target("Default", "user-123", "dt-123")).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "No DispatchTarget found with extId 'dt-123' for user with extId 'user-123' on client with name 'Default'",
        );
        assert_eq!(
            app.get(&target("Default", "user-456", "dt-123"))
                .await
                .status,
            200
        );
    }
);

dual_test!(
    deleting_a_target_unlinks_both_uaf_credentials_keeps_them_and_deletes_the_attestation,
    |app| {
        user(&app, "user-123").await;
        create_target(&app, "user-123", "dt-123", Some("iPhone")).await;
        create_uaf(&app, "user-123", "uaf-1", "a2V5LTE", "dt-123").await;
        create_uaf(&app, "user-123", "uaf-2", "a2V5LTI", "dt-123").await;
        for ext in ["uaf-1", "uaf-2"] {
            let r = app.get(&fido("Default", "user-123", ext)).await;
            assert_eq!(r.body["dispatchTargetExtId"], "dt-123");
        }

        let r = app.delete(&target("Default", "user-123", "dt-123")).await;
        assert_eq!(r.status, 204, "{}", r.body);

        for ext in ["uaf-1", "uaf-2"] {
            let r = app.get(&fido("Default", "user-123", ext)).await;
            assert_eq!(r.status, 200, "credential {ext} must survive: {}", r.body);
            assert!(
                r.body.get("dispatchTargetExtId").is_none(),
                "still linked: {}",
                r.body
            );
            assert_eq!(r.body["version"], 2, "the unlink is a recorded change");
        }
        assert_eq!(
            app.get(&target("Default", "user-123", "dt-123"))
                .await
                .status,
            404
        );
        // The attestation row is gone: a target with the same extId has none, and its name
        // (unique per user) is free again.
        create_target(&app, "user-123", "dt-123", None).await;
        let r = app.get(&attestation("Default", "user-123", "dt-123")).await;
        assert_eq!(r.status, 404, "{}", r.body);
        create_target(&app, "user-123", "dt-456", Some("iPhone")).await;
    }
);

/// Makes every DELETE on `dispatch_targets` fail inside the database.
fn install_failing_delete_trigger(app: &TestApp) {
    match app.backend {
        idm_tests::Backend::Sqlite => app.sql(
            "CREATE TRIGGER fail_dt_delete BEFORE DELETE ON dispatch_targets \
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
        ),
        idm_tests::Backend::Postgres => app.sql(
            "CREATE FUNCTION fail_dt_delete() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER fail_dt_delete BEFORE DELETE ON dispatch_targets \
             FOR EACH ROW EXECUTE FUNCTION fail_dt_delete();",
        ),
    }
}

dual_test!(
    a_fault_in_the_last_step_of_the_delete_leaves_links_attestation_and_target_intact,
    |app| {
        user(&app, "user-123").await;
        create_target(&app, "user-123", "dt-123", Some("iPhone")).await;
        create_uaf(&app, "user-123", "uaf-1", "a2V5LTE", "dt-123").await;
        create_uaf(&app, "user-123", "uaf-2", "a2V5LTI", "dt-123").await;
        install_failing_delete_trigger(&app);

        let r = app.delete(&target("Default", "user-123", "dt-123")).await;
        r.assert_error(500, "errors.fatalError", "An unexpected error occurred.");
        let text = r.body.to_string().to_lowercase();
        assert!(
            !text.contains("injected") && !text.contains("trigger"),
            "{text}"
        );

        let r = app.get(&target("Default", "user-123", "dt-123")).await;
        assert_eq!(r.status, 200, "target must survive");
        assert_eq!(r.body["appAttestation"]["name"], "iPhone");
        assert_eq!(r.body["version"], 1);
        let r = app.get(&attestation("Default", "user-123", "dt-123")).await;
        assert_eq!(r.status, 200, "attestation must survive");
        for ext in ["uaf-1", "uaf-2"] {
            let r = app.get(&fido("Default", "user-123", ext)).await;
            assert_eq!(r.body["dispatchTargetExtId"], "dt-123", "link must survive");
            assert_eq!(r.body["version"], 1, "no partial update may stick");
        }
    }
);

// ----- create / read / list -----

dual_test!(
    create_returns_201_with_location_and_get_shows_defaults_and_the_attestation,
    |app| {
        user(&app, "user-123").await;
        let mut body = target_body("dt-1");
        body["appAttestation"] = attestation_body("iPhone");
        body["userAgent"] = json!("ExampleApp/1.0");
        let r = app.post(&targets("Default", "user-123"), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.location(), target("Default", "user-123", "dt-1"));

        let r = app.get(r.location()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("etag"), Some("\"1\""));
        let b = &r.body;
        assert_eq!(b["extId"], "dt-1");
        assert_eq!(b["type"], "fido-uaf");
        assert_eq!(b["state"], "active");
        assert_eq!(b["deviceId"], "device-1");
        assert_eq!(b["target"], "push-token-1");
        assert_eq!(b["dispatcher"], "fcmpush");
        assert_eq!(b["userAgent"], "ExampleApp/1.0");
        assert_eq!(b["signingKey"], "signing-key");
        assert_eq!(b["appId"], "ch.example.app");
        assert_eq!(b["name"], "My phone");
        assert_eq!(b["version"], 1);
        assert!(b["created"].as_str().unwrap().ends_with('Z'));
        let a = &b["appAttestation"];
        assert_eq!(a["name"], "iPhone");
        assert_eq!(a["counter"], 3);
        assert_eq!(a["receipt"], "receipt-bytes");
        assert_eq!(a["publicKey"], "attestation-public-key");
        assert_eq!(a["environment"], "production");
    }
);

dual_test!(
    create_without_ext_id_generates_one_and_accepts_disabled_state,
    |app| {
        user(&app, "user-123").await;
        let mut body = target_body("x");
        body.as_object_mut().unwrap().remove("extId");
        body["state"] = json!("disabled");
        let r = app.post(&targets("Default", "user-123"), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.get(r.location()).await;
        assert_eq!(r.body["state"], "disabled");
        assert!(!r.body["extId"].as_str().unwrap().is_empty());
        assert!(r.body.get("appAttestation").is_none());
    }
);

dual_test!(create_names_every_missing_required_field, |app| {
    user(&app, "user-123").await;
    let r = app
        .post(&targets("Default", "user-123"), json!({"target": " "}))
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: deviceId, target, signingKey, appId, name",
    );
    let mut body = target_body("dt-1");
    body["type"] = json!("sms");
    let r = app.post(&targets("Default", "user-123"), body).await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: type",
    );
    let mut body = target_body("dt-1");
    body["appAttestation"] = json!({"name": "x"});
    let r = app.post(&targets("Default", "user-123"), body).await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: appAttestation.receipt, appAttestation.publicKey, appAttestation.deviceId",
    );
    let mut body = target_body("dt-1");
    body["state"] = json!("revoked");
    let r = app.post(&targets("Default", "user-123"), body).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "errors.invalidParameter");
    let mut body = target_body("dt-1");
    body["name"] = json!("n".repeat(300));
    let r = app.post(&targets("Default", "user-123"), body).await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: name",
    );
});

dual_test!(
    a_duplicate_ext_id_in_the_client_is_422_duplicate_value,
    |app| {
        user(&app, "user-123").await;
        user(&app, "user-456").await;
        create_target(&app, "user-123", "dt-1", None).await;
        let r = app
            .post(&targets("Default", "user-456"), target_body("dt-1"))
            .await;
        r.assert_error(
            422,
            "errors.duplicateValue",
            "A DispatchTarget with extId 'dt-1' already exists.",
        );
    }
);

dual_test!(
    a_nested_attestation_with_a_taken_name_rolls_back_the_whole_create,
    |app| {
        user(&app, "user-123").await;
        create_target(&app, "user-123", "dt-1", Some("iPhone")).await;
        let mut body = target_body("dt-2");
        body["appAttestation"] = attestation_body("iPhone");
        let r = app.post(&targets("Default", "user-123"), body).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.duplicateValue");
        let r = app.get(&target("Default", "user-123", "dt-2")).await;
        assert_eq!(
            r.status, 404,
            "the target must not exist without its attestation"
        );
    }
);

dual_test!(list_is_paged_in_creation_order, |app| {
    user(&app, "user-123").await;
    user(&app, "user-456").await;
    for dt in ["dt-a", "dt-b", "dt-c"] {
        create_target(&app, "user-123", dt, Some(dt)).await;
    }
    create_target(&app, "user-456", "dt-other", None).await;
    let r = app
        .get(&format!("{}?limit=2", targets("Default", "user-123")))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["extId"], "dt-a");
    assert_eq!(items[0]["appAttestation"]["name"], "dt-a");
    let token = r.body["_pagination"]["continuationToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .get(&format!(
            "{}?limit=2&continuationToken={token}",
            targets("Default", "user-123")
        ))
        .await;
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["extId"], "dt-c");
    assert!(r.body["_pagination"].get("continuationToken").is_none());
});

dual_test!(
    self_admin_reads_own_targets_only_with_a_valid_x_token,
    |app| {
        let me = app
            .seed_user("Default", "self-1", &["SelfAdmin"], false, false, None)
            .await;
        create_target(&app, "self-1", "dt-self", None).await;
        let one = target("Default", "self-1", "dt-self");
        let list = targets("Default", "self-1");
        for path in [&one, &list] {
            let r = app.send(app.req_as(&me.token, Method::GET, path)).await;
            r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
        }
        let x = app.xtoken_for(&me).await;
        let r = app
            .send(
                app.req_as(&me.token, Method::GET, &one)
                    .header("X-Token", &x),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app
            .send(
                app.req_as(&me.token, Method::GET, &list)
                    .header("X-Token", &x),
            )
            .await;
        assert_eq!(r.body["items"][0]["extId"], "dt-self");
        // Creating is not a self-admin operation.
        let r = app
            .send(
                app.req_as(&me.token, Method::POST, &list)
                    .header("X-Token", &x)
                    .json(&target_body("dt-2")),
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
);

// ----- app attestation -----

dual_test!(app_attestation_create_read_patch_delete_round_trip, |app| {
    user(&app, "user-123").await;
    create_target(&app, "user-123", "dt-1", None).await;
    let path = attestation("Default", "user-123", "dt-1");
    let r = app.get(&path).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "errors.noRecord");

    let r = app.post(&path, attestation_body("iPhone")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.location(), path);
    assert_eq!(r.body["name"], "iPhone");
    assert_eq!(r.body["counter"], 3);
    assert_eq!(r.body["version"], 1);

    let r = app.post(&path, attestation_body("Other")).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "errors.duplicateValue");

    let r = app.patch(&path, json!({"counter": 4, "version": 7})).await;
    r.assert_error(
        409,
        "errors.optimisticLockingFailure",
        "Row was already updated or deleted by another transaction",
    );
    let r = app
        .patch(
            &path,
            json!({"counter": 4, "environment": "test", "version": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["counter"], 4);
    assert_eq!(r.body["environment"], "test");
    assert_eq!(r.body["name"], "iPhone");
    assert_eq!(r.body["version"], 2);
    let r = app.get(&path).await;
    assert_eq!(r.body["counter"], 4);
    assert_eq!(r.header("etag"), Some("\"2\""));

    let r = app.patch(&path, json!({"receipt": ""})).await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: receipt",
    );

    let r = app.delete(&path).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(app.get(&path).await.status, 404);
    let r = app.get(&target("Default", "user-123", "dt-1")).await;
    assert_eq!(r.status, 200, "the target stays");
    assert!(r.body.get("appAttestation").is_none());
});

dual_test!(
    app_attestation_requires_receipt_public_key_and_device_id_and_unique_names,
    |app| {
        user(&app, "user-123").await;
        create_target(&app, "user-123", "dt-1", Some("iPhone")).await;
        create_target(&app, "user-123", "dt-2", None).await;
        let path = attestation("Default", "user-123", "dt-2");
        let r = app.post(&path, json!({"counter": -1})).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: counter, receipt, publicKey, deviceId",
        );
        let r = app.post(&path, attestation_body("iPhone")).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.duplicateValue");
        let r = app.post(&path, attestation_body("iPad")).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.patch(&path, json!({"name": "iPhone"})).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.duplicateValue");
    }
);

dual_test!(
    self_admin_patches_and_deletes_own_attestation_only_with_an_x_token,
    |app| {
        let me = app
            .seed_user("Default", "self-1", &["SelfAdmin"], false, false, None)
            .await;
        create_target(&app, "self-1", "dt-self", Some("mine")).await;
        let path = attestation("Default", "self-1", "dt-self");
        let r = app
            .send(
                app.req_as(&me.token, Method::PATCH, &path)
                    .json(&json!({"counter": 9})),
            )
            .await;
        r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
        let x = app.xtoken_for(&me).await;
        let r = app
            .send(
                app.req_as(&me.token, Method::PATCH, &path)
                    .header("X-Token", &x)
                    .json(&json!({"counter": 9})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["counter"], 9);
        let r = delete_as(&app, &me.token, &path, None).await;
        r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
        let r = delete_as(&app, &me.token, &path, Some(&x)).await;
        assert_eq!(r.status, 204, "{}", r.body);
    }
);

dual_test!(
    a_nul_byte_in_the_dispatch_target_ext_id_is_a_404_not_a_500,
    |app| {
        user(&app, "user-123").await;
        let r = app.delete(&target("Default", "user-123", "dt%00x")).await;
        assert_eq!(r.status, 404, "{}", r.body);
        assert_eq!(r.code(), "errors.noRecord");
        let r = app
            .get(&format!(
                "{CORE}/Default/users/user-123/fido-authenticators/x%00"
            ))
            .await;
        assert_eq!(r.status, 404, "{}", r.body);
    }
);

dual_test!(
    two_instances_deleting_one_target_at_once_never_fail_and_leave_no_half_delete,
    |app| {
        user(&app, "user-123").await;
        for round in 0..5 {
            let dt = format!("dt-{round}");
            create_target(&app, "user-123", &dt, Some(&format!("att-{round}"))).await;
            create_uaf(
                &app,
                "user-123",
                &format!("uaf-{round}"),
                &format!("a2V5LT{round}"),
                &dt,
            )
            .await;
        }
        let other = app.second_instance().await;
        for round in 0..5 {
            let path = target("Default", "user-123", &format!("dt-{round}"));
            let (a, b) = tokio::join!(app.delete(&path), other.delete(&path));
            for r in [&a, &b] {
                // Whoever comes second finds it gone: 404 before, or 204 when the row went
                // between its look-up and its transaction.
                assert!(
                    r.status == 204 || r.status == 404,
                    "round {round}: {} {}",
                    r.status,
                    r.body
                );
            }
            assert!(
                a.status == 204 || b.status == 204,
                "round {round}: nobody deleted"
            );
            assert_eq!(app.get(&path).await.status, 404);
            let uaf = app
                .get(&fido("Default", "user-123", &format!("uaf-{round}")))
                .await;
            assert_eq!(uaf.status, 200, "the credential survives: {}", uaf.body);
            assert!(
                uaf.body.get("dispatchTargetExtId").is_none(),
                "{}",
                uaf.body
            );
        }
    }
);
