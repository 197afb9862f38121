//! FIDO UAF authenticators, on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, TestApp, CORE};
use reqwest::Method;
use serde_json::Value;

fn creds(u: &str) -> String {
    format!("{CORE}/Default/users/{u}/fido-authenticators")
}

fn cred(u: &str, ext: &str) -> String {
    format!("{}/{ext}", creds(u))
}

fn body(ext: &str, key_id: &str) -> Value {
    json!({
        "extId": ext,
        "aaid": "4e4e#4005",
        "keyId": key_id,
        "authenticatorVersion": "1.0",
        "publicKey": "uaf-public-key",
        "publicKeyAlgorithm": "UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW",
        "appId": "https://example.com/facets",
        "deviceId": "push-device-1",
    })
}

async fn user(app: &TestApp, ext_id: &str) {
    app.seed_user("Default", ext_id, &[], false, false, None)
        .await;
}

async fn create_target(app: &TestApp, u: &str, dt: &str) {
    let r = app
        .post(
            &format!("{CORE}/Default/users/{u}/dispatch-targets"),
            json!({"extId": dt, "deviceId": "d", "target": "t", "signingKey": "k",
                   "appId": "a", "name": "n"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

dual_test!(
    create_returns_201_and_get_and_list_show_the_credential,
    |app| {
        user(&app, "user-123").await;
        let r = app.post(&creds("user-123"), body("uaf-1", "a2V5LTE")).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.location(), cred("user-123", "uaf-1"));
        let r = app.get(&cred("user-123", "uaf-1")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let b = &r.body;
        assert_eq!(b["extId"], "uaf-1");
        assert_eq!(b["aaid"], "4e4e#4005");
        assert_eq!(b["keyId"], "a2V5LTE");
        assert_eq!(b["authenticatorVersion"], "1.0");
        assert_eq!(
            b["publicKeyAlgorithm"],
            "UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW"
        );
        assert_eq!(b["appId"], "https://example.com/facets");
        assert_eq!(b["deviceId"], "push-device-1");
        assert_eq!(b["stateName"], "active");
        assert_eq!(b["version"], 1);
        assert!(b.get("dispatchTargetExtId").is_none());

        let r = app.post(&creds("user-123"), body("uaf-2", "a2V5LTI")).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.get(&format!("{}?limit=1", creds("user-123"))).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(r.body["items"][0]["extId"], "uaf-1");
        assert!(r.body["_pagination"]["continuationToken"].is_string());
    }
);

dual_test!(create_names_every_missing_required_field, |app| {
    user(&app, "user-123").await;
    let r = app.post(&creds("user-123"), json!({"deviceId": "x"})).await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: aaid, keyId, authenticatorVersion, publicKey, publicKeyAlgorithm, appId",
    );
    let mut b = body("uaf-1", "a2V5LTE");
    b["stateName"] = json!("revoked");
    let r = app.post(&creds("user-123"), b).await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: stateName",
    );
});

dual_test!(format_errors_use_the_specific_fido_uaf_codes, |app| {
    user(&app, "user-123").await;
    let cases: [(&str, Value, &str); 5] = [
        (
            "aaid",
            json!("4e4e-4005"),
            "errors.credentialFidoUaf.invalidAaidFormat",
        ),
        (
            "keyId",
            json!("not base64!"),
            "errors.credentialFidoUaf.invalidKeyIdFormat",
        ),
        (
            "authenticatorVersion",
            json!("1.0.0"),
            "errors.credentialFidoUaf.invalidAuthVersionFormat",
        ),
        (
            "publicKeyAlgorithm",
            json!("RSA"),
            "errors.credentialFidoUaf.invalidPublicKeyAlgorithm",
        ),
        ("appId", json!(""), "errors.credentialFidoUaf.emptyAppId"),
    ];
    for (field, value, code) in cases {
        let mut b = body("uaf-1", "a2V5LTE");
        b[field] = value;
        let r = app.post(&creds("user-123"), b).await;
        assert_eq!(r.status, 422, "{field}: {}", r.body);
        assert_eq!(r.code(), code, "{field}: {}", r.body);
    }
    assert_eq!(app.get(&cred("user-123", "uaf-1")).await.status, 404);
});

dual_test!(
    a_duplicate_aaid_and_key_id_is_422_not_unique_even_for_another_user,
    |app| {
        user(&app, "user-123").await;
        user(&app, "user-456").await;
        let r = app.post(&creds("user-123"), body("uaf-1", "a2V5LTE")).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.post(&creds("user-456"), body("uaf-2", "a2V5LTE")).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.credentialFidoUaf.notUnique");
        let r = app.post(&creds("user-456"), body("uaf-1", "a2V5LTI")).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.duplicateValue");
    }
);

dual_test!(
    a_dispatch_target_link_must_name_a_target_of_the_same_user,
    |app| {
        user(&app, "user-123").await;
        user(&app, "user-456").await;
        create_target(&app, "user-456", "dt-foreign").await;
        let mut b = body("uaf-1", "a2V5LTE");
        b["dispatchTargetExtId"] = json!("dt-foreign");
        let r = app.post(&creds("user-123"), b).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "No DispatchTarget found with extId 'dt-foreign' for user with extId 'user-123' on client with name 'Default'",
        );
        assert_eq!(app.get(&cred("user-123", "uaf-1")).await.status, 404);
    }
);

dual_test!(unlinking_removes_only_the_link_and_returns_204, |app| {
    user(&app, "user-123").await;
    create_target(&app, "user-123", "dt-1").await;
    let mut b = body("uaf-1", "a2V5LTE");
    b["dispatchTargetExtId"] = json!("dt-1");
    assert_eq!(app.post(&creds("user-123"), b).await.status, 201);
    assert_eq!(
        app.get(&cred("user-123", "uaf-1")).await.body["dispatchTargetExtId"],
        "dt-1"
    );
    let unlink = format!("{}/dispatch-target/dt-1", cred("user-123", "uaf-1"));
    let r = app.delete(&unlink).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app.get(&cred("user-123", "uaf-1")).await;
    assert!(r.body.get("dispatchTargetExtId").is_none(), "{}", r.body);
    assert_eq!(r.body["version"], 2);
    let dt = app
        .get(&format!(
            "{CORE}/Default/users/user-123/dispatch-targets/dt-1"
        ))
        .await;
    assert_eq!(dt.status, 200, "the target stays");
    let r = app.delete(&unlink).await;
    assert_eq!(r.status, 404, "no link any more: {}", r.body);
    assert_eq!(r.code(), "errors.noRecord");
});

dual_test!(delete_returns_204_and_unknown_credentials_404, |app| {
    user(&app, "user-123").await;
    assert_eq!(
        app.post(&creds("user-123"), body("uaf-1", "a2V5LTE"))
            .await
            .status,
        201
    );
    let r = app.delete(&cred("user-123", "uaf-1")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app.get(&cred("user-123", "uaf-1")).await;
    r.assert_error(
        404,
        "errors.noRecord",
        "No FidoUafCredential found with extId 'uaf-1' for user with extId 'user-123' on client with name 'Default'",
    );
    let r = app
        .delete(&format!(
            "{CORE}/client-123/users/user-123/fido-authenticators/x"
        ))
        .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Client doesn't exist with extId 'client-123'",
    );
});

dual_test!(
    self_admin_reads_own_credentials_and_deletes_only_with_an_x_token,
    |app| {
        let me = app
            .seed_user("Default", "self-1", &["SelfAdmin"], false, false, None)
            .await;
        user(&app, "user-123").await;
        for (u, ext, key) in [
            ("self-1", "mine", "a2V5LTE"),
            ("user-123", "theirs", "a2V5LTI"),
        ] {
            assert_eq!(app.post(&creds(u), body(ext, key)).await.status, 201);
        }
        let r = app
            .send(app.req_as(&me.token, Method::GET, &cred("self-1", "mine")))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app
            .send(app.req_as(&me.token, Method::GET, &cred("user-123", "theirs")))
            .await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action",
        );
        let r = app
            .send(app.req_as(&me.token, Method::DELETE, &cred("self-1", "mine")))
            .await;
        r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
        let x = app.xtoken_for(&me).await;
        let r = app
            .send(
                app.req_as(&me.token, Method::DELETE, &cred("self-1", "mine"))
                    .header("X-Token", &x),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        // Registering is not a self-admin operation.
        let r = app
            .send(
                app.req_as(&me.token, Method::POST, &creds("self-1"))
                    .json(&body("new", "a2V5LTM")),
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
);

dual_test!(
    deleting_a_user_removes_its_linked_uaf_credentials_dispatch_targets_and_attestations,
    |app| {
        user(&app, "user-123").await;
        create_target(&app, "user-123", "dt-1").await;
        let mut linked = body("cred-1", "a2V5LTE");
        linked["dispatchTargetExtId"] = json!("dt-1");
        let r = app.post(&creds("user-123"), linked).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app
            .post(
                &format!("{CORE}/Default/users/user-123/dispatch-targets/dt-1/app-attestation"),
                json!({"receipt": "r", "publicKey": "p", "deviceId": "d", "name": "att"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.delete(&format!("{CORE}/Default/users/user-123")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app.get(&format!("{CORE}/Default/users/user-123")).await;
        assert_eq!(r.status, 404, "{}", r.body);
        // The same aaid+keyId can be registered again: the old credential is really gone.
        user(&app, "user-456").await;
        let r = app
            .post(&creds("user-456"), body("cred-2", "a2V5LTE"))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
);
