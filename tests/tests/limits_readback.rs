//! Bounded input (issue 15), the other half of `limits.rs`: values exactly at their published
//! limits are not only let through but stored and read back unchanged on both backends — a
//! column narrower than its published limit answers 500 on PostgreSQL or truncates, and fails
//! here. One test per family of objects; `limits.rs` covers users.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, TestApp, CORE};
use serde_json::Value;

fn at(n: usize) -> String {
    "x".repeat(n)
}

/// A URL of exactly `n` characters.
fn url(n: usize) -> String {
    let head = "https://example.com/";
    format!("{head}{}", "a".repeat(n - head.len()))
}

/// Creates the object with `body` at `post`, reads `get` and asserts every key of `keys` came
/// back as sent.
async fn round_trip(app: &TestApp, post: &str, get: &str, body: &Value, keys: &[&str]) -> Value {
    let r = app.post(post, body.clone()).await;
    assert_eq!(r.status, 201, "POST {post}: {}", r.body);
    let read = app.get(get).await;
    assert_eq!(read.status, 200, "GET {get}: {}", read.body);
    for key in keys {
        // Compared as a bool: the values are kilobytes long.
        assert!(
            read.body[key] == body[key],
            "{post}: {key} did not read back as sent"
        );
    }
    read.body
}

dual_test!(
    a_client_and_an_application_with_every_text_field_at_its_limit_read_back_unchanged,
    |app| {
        let client = at(250);
        let body = json!({
            "extId": client, "name": at(129), "remarks": at(4000),
            "displayName": {"EN": at(1000), "DE": at(1000)},
        });
        round_trip(
            &app,
            &format!("{CORE}/clients"),
            &format!("{CORE}/clients/{client}"),
            &body,
            &["extId", "name", "remarks", "displayName"],
        )
        .await;

        let application = at(255);
        let body = json!({
            "extId": application, "name": at(129), "description": at(4000), "url": url(2048),
            "displayed": true, "displayName": {"FR": at(1000)},
        });
        round_trip(
            &app,
            &format!("{CORE}/applications"),
            &format!("{CORE}/applications/{application}"),
            &body,
            &["extId", "name", "description", "url", "displayName"],
        )
        .await;

        let role = json!({"extId": at(255), "name": at(129), "description": at(4000)});
        let r = app
            .post(
                &format!("{CORE}/applications/{application}/roles"),
                role.clone(),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let roles = app
            .get(&format!("{CORE}/applications/{application}/roles"))
            .await;
        assert_eq!(roles.status, 200, "{}", roles.body);
        let item = &roles.body["items"][0];
        for key in ["extId", "name", "description"] {
            assert_eq!(item[key], role[key], "role {key}");
        }
    }
);

dual_test!(
    a_unit_and_a_profile_with_every_text_field_at_their_limits_read_back_unchanged,
    |app| {
        for scope in ["UNIT_GLOBAL", "PROFILE_GLOBAL"] {
            let r = app
                .post(
                    &format!("{CORE}/properties"),
                    json!({"name": "tier", "type": "STRING", "scope": scope}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        let unit = at(255);
        let body = json!({
            "extId": unit, "name": at(129), "location": at(4000), "description": at(4000),
            "displayName": {"EN": at(1000)}, "abbreviation": {"IT": at(1000)},
            "profileless": false, "modificationComment": at(4000),
            "properties": {"tier": at(4000)},
        });
        round_trip(
            &app,
            &format!("{CORE}/Default/units"),
            &format!("{CORE}/Default/units/{unit}"),
            &body,
            &[
                "extId",
                "name",
                "location",
                "description",
                "displayName",
                "abbreviation",
                "modificationComment",
                "properties",
            ],
        )
        .await;

        app.seed_user("Default", "owner", &[], false, false, None)
            .await;
        let profile = at(255);
        let body = json!({
            "extId": profile, "unitExtId": unit, "name": at(255), "remarks": at(4000),
            "modificationComment": at(4000), "properties": {"tier": at(4000)},
        });
        round_trip(
            &app,
            &format!("{CORE}/Default/users/owner/profiles"),
            &format!("{CORE}/Default/profiles/{profile}"),
            &body,
            &[
                "extId",
                "name",
                "remarks",
                "modificationComment",
                "properties",
            ],
        )
        .await;
    }
);

dual_test!(
    terms_an_enterprise_role_a_policy_and_a_personal_question_at_their_limits_read_back_unchanged,
    |app| {
        let terms = at(255);
        let body = json!({
            "extId": terms, "name": at(255), "active": true, "silentAcceptance": false,
            "termsVersion": at(255), "urls": {"en": url(2048)},
        });
        round_trip(
            &app,
            &format!("{CORE}/terms"),
            &format!("{CORE}/terms/{terms}"),
            &body,
            &["extId", "name", "termsVersion", "urls"],
        )
        .await;

        let erole = at(255);
        let body = json!({
            "extId": erole, "name": at(129), "description": at(4000),
            "displayName": {"DE": at(1000)},
        });
        round_trip(
            &app,
            &format!("{CORE}/Default/eroles"),
            &format!("{CORE}/Default/eroles/{erole}"),
            &body,
            &["extId", "name", "description", "displayName"],
        )
        .await;

        let policy = at(255);
        let body = json!({
            "extId": policy, "name": at(255), "description": at(4000),
            "policyType": "PwdPolicy", "parameters": {"minLength": "8"},
        });
        round_trip(
            &app,
            &format!("{CORE}/Default/policies"),
            &format!("{CORE}/Default/policies/{policy}"),
            &body,
            &["extId", "name", "description", "parameters"],
        )
        .await;

        // A question's extId is an identifier: the naming policy's 129 decides.
        let question = at(129);
        let body = json!({
            "extId": question, "description": at(4000), "stateName": "active",
            "displayName": {"EN": at(1000)}, "content": {"EN": at(1000), "FR": at(1000)},
        });
        round_trip(
            &app,
            &format!("{CORE}/Default/personal-questions"),
            &format!("{CORE}/Default/personal-questions/{question}"),
            &body,
            &["extId", "description", "displayName", "content"],
        )
        .await;
    }
);

dual_test!(
    a_property_definition_and_a_dispatch_target_at_their_limits_read_back_unchanged,
    |app| {
        // 1000 characters of a valid regular expression.
        let regex = "a?".repeat(500);
        let body = json!({
            "name": at(255), "description": at(4000), "type": "STRING",
            "scope": "USER_GLOBAL", "stringRegex": regex,
        });
        let r = app.post(&format!("{CORE}/properties"), body.clone()).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let read = app.get(r.location()).await;
        assert_eq!(read.status, 200, "{}", read.body);
        for key in ["name", "description", "stringRegex"] {
            assert_eq!(read.body[key], body[key], "property {key}");
        }
        let body = json!({
            "name": "level", "type": "ENUM", "scope": "USER_GLOBAL",
            "allowedValues": [{"value": at(4000)}],
        });
        let r = app.post(&format!("{CORE}/properties"), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let read = app.get(r.location()).await;
        assert_eq!(read.body["allowedValues"][0]["value"], json!(at(4000)));

        app.seed_user("Default", "holder", &[], false, false, None)
            .await;
        let target = at(255);
        let body = json!({
            "extId": target, "deviceId": at(255), "target": at(65536),
            "signingKey": at(65536), "encryptionKey": at(65536), "appId": at(1000),
            "name": at(255), "dispatcher": at(100), "userAgent": at(255),
        });
        round_trip(
            &app,
            &format!("{CORE}/Default/users/holder/dispatch-targets"),
            &format!("{CORE}/Default/users/holder/dispatch-targets/{target}"),
            &body,
            &[
                "extId",
                "deviceId",
                "target",
                "appId",
                "name",
                "dispatcher",
                "userAgent",
            ],
        )
        .await;
    }
);

dual_test!(
    oath_fido2_fido_uaf_and_password_credentials_at_their_limits_read_back_unchanged,
    |app| {
        let r = app
            .post(
                &format!("{CORE}/Default/users"),
                json!({"extId": "keys", "loginId": "keys"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let user = format!("{CORE}/Default/users/keys");
        // Credential extIds are identifiers: the naming policy's 129 decides below the 255.

        let body = json!({"extId": "o".repeat(129), "label": at(255)});
        let r = app.post(&format!("{user}/oath-credentials"), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let read = app
            .get(&format!("{user}/oath-credentials/{}", "o".repeat(129)))
            .await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert!(read.body["extId"] == json!("o".repeat(129)), "oath extId");

        let body = json!({
            "extId": "f".repeat(129), "aaguid": at(255), "authenticator": at(4096),
            "attestationConveyancePreference": "none", "hashedCredentialId": at(1024),
            "rpId": at(255), "residentKeyRequirement": "required", "userAgent": at(4000),
            "userFriendlyName": at(255), "userVerificationRequirement": "preferred",
        });
        round_trip(
            &app,
            &format!("{user}/fido2"),
            &format!("{user}/fido2/{}", "f".repeat(129)),
            &body,
            &[
                "extId",
                "aaguid",
                "authenticator",
                "hashedCredentialId",
                "rpId",
                "userAgent",
                "userFriendlyName",
            ],
        )
        .await;

        // keyId: base64url at its limit; the other free texts at theirs.
        let body = json!({
            "extId": "u".repeat(129), "aaid": "4E4E#4005", "keyId": "A".repeat(2600),
            "authenticatorVersion": "12345.12345", "publicKey": at(4000),
            "publicKeyAlgorithm": "UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW", "appId": at(1000), "deviceId": at(255),
        });
        round_trip(
            &app,
            &format!("{user}/fido-authenticators"),
            &format!("{user}/fido-authenticators/{}", "u".repeat(129)),
            &body,
            &[
                "extId",
                "keyId",
                "authenticatorVersion",
                "publicKey",
                "publicKeyAlgorithm",
                "appId",
                "deviceId",
            ],
        )
        .await;

        // The password's own limit (1024) is the body cap; the policy's maxLength (128 by
        // default) decides below it.
        let r = app
            .post(
                &format!("{user}/password"),
                json!({"extId": "p".repeat(129), "password": format!("Aa1!{}", at(124))}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let patch = json!({
            "stateChangeDetail": at(4000), "modificationComment": at(4000), "version": 1,
        });
        let r = app.patch(&format!("{user}/password"), patch.clone()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let read = app.get(&format!("{user}/password")).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert!(
            read.body["extId"] == json!("p".repeat(129)),
            "password extId"
        );
        for key in ["stateChangeDetail", "modificationComment"] {
            assert!(read.body[key] == patch[key], "password {key}");
        }
    }
);
