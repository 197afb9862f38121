//! Second-factor credentials (recovery codes, OATH, FIDO2) and the FIDO lists, on both
//! backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::prelude::*;
use idm_domain::otp::{self, OtpParams};
use idm_tests::{dual_test, json, Backend, Reply, TestApp, CORE};
use reqwest::Method;
use serde_json::Value;

const AUTH: &str = "/nevisidm/api/auth/v1";

/// Evaluates one scalar SQL expression of type `$ty` (a Diesel SQL type) on the test database.
macro_rules! scalar {
    ($app:expr, $ty:ty, $sql:expr) => {{
        let q = diesel::dsl::sql::<$ty>(&$sql);
        match $app.backend {
            Backend::Sqlite => {
                let path = $app.database_url.trim_start_matches("sqlite://");
                let mut c = diesel::SqliteConnection::establish(path).unwrap();
                diesel::select(q).get_result(&mut c).unwrap()
            }
            Backend::Postgres => {
                let mut c = diesel::PgConnection::establish(&$app.database_url).unwrap();
                diesel::select(q).get_result(&mut c).unwrap()
            }
        }
    }};
}

fn user_path(u: &str) -> String {
    format!("{CORE}/Default/users/{u}")
}

async fn user(app: &TestApp, ext_id: &str) {
    app.seed_user("Default", ext_id, &[], false, false, None)
        .await;
}

async fn create_codes(app: &TestApp, u: &str) -> Vec<String> {
    let r = app
        .post(&format!("{}/recovery-codes", user_path(u)), json!({}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.location(), format!("{}/recovery-codes", user_path(u)));
    r.body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

async fn use_code(app: &TestApp, u: &str, code: &str) -> Reply {
    app.post(
        &format!("{AUTH}/Default/users/{u}/recovery-codes/login"),
        json!({ "code": code }),
    )
    .await
}

const COMMON_FIELDS: [&str; 10] = [
    "extId",
    "userExtId",
    "stateName",
    "successfulLoginCount",
    "failedLoginCount",
    "type",
    "created",
    "lastModified",
    "version",
    "stateChangeReason",
];

fn assert_common_fields(item: &Value) {
    for f in COMMON_FIELDS {
        assert!(item.get(f).is_some(), "{f} missing in {item}");
    }
}

dual_test!(
    recovery_codes_are_shown_once_and_each_code_works_exactly_once,
    |app| {
        user(&app, "rc-user").await;
        let codes = create_codes(&app, "rc-user").await;
        assert_eq!(codes.len(), 16);
        for c in &codes {
            let groups: Vec<&str> = c.split('-').collect();
            assert_eq!(groups.len(), 4, "{c}");
            assert!(groups.iter().all(|g| g.len() == 4
                && g.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit())));
        }
        let r = app
            .get(&format!("{}/recovery-codes", user_path("rc-user")))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["type"], "Recovery Code");
        assert_eq!(r.body["unusedCodes"], 16);
        assert_common_fields(&r.body);
        let text = r.body.to_string();
        assert!(codes.iter().all(|c| !text.contains(c.as_str())));

        for c in &codes {
            let r = use_code(&app, "rc-user", c).await;
            assert_eq!(r.status, 204, "{c}: {}", r.body);
        }
        let r = use_code(&app, "rc-user", &codes[3]).await;
        r.assert_error(422, "errors.userLoginFailed", "Login failed.");
        let r = app
            .get(&format!("{}/recovery-codes", user_path("rc-user")))
            .await;
        assert_eq!(r.body["unusedCodes"], 0);
        assert_eq!(r.body["successfulLoginCount"], 16);
        assert_eq!(r.body["failedLoginCount"], 1);
    }
);

dual_test!(
    a_wrong_recovery_code_fails_counts_and_locks_like_any_credential,
    |app| {
        user(&app, "rc-lock").await;
        let codes = create_codes(&app, "rc-lock").await;
        for _ in 0..2 {
            let r = use_code(&app, "rc-lock", "aaaa-bbbb-cccc-dddd").await;
            r.assert_error(422, "errors.userLoginFailed", "Login failed.");
        }
        // Two failures reach the temporary lock: even a right code is refused, not consumed.
        let r = use_code(&app, "rc-lock", &codes[0]).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.credentialNotActive");
        let r = app
            .get(&format!("{}/recovery-codes", user_path("rc-lock")))
            .await;
        assert_eq!(r.body["stateName"], "tmp-locked");
        assert_eq!(r.body["failedLoginCount"], 2);
        assert_eq!(r.body["unusedCodes"], 16);
    }
);

dual_test!(
    ten_concurrent_uses_of_one_recovery_code_across_two_instances_succeed_exactly_once,
    |app| {
        user(&app, "rc-race").await;
        let codes = create_codes(&app, "rc-race").await;
        let other = app.second_instance().await;
        let code = codes[0].clone();
        let attempts = (0..10).map(|i| {
            let target = if i % 2 == 0 { &app } else { &other };
            use_code(target, "rc-race", &code)
        });
        let replies = futures::future::join_all(attempts).await;
        let ok = replies.iter().filter(|r| r.status == 204).count();
        assert_eq!(
            ok,
            1,
            "{:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        for r in replies.iter().filter(|r| r.status != 204) {
            assert_eq!(r.status, 422, "{}", r.body);
            assert!(
                r.code() == "errors.userLoginFailed" || r.code() == "errors.credentialNotActive",
                "{}",
                r.body
            );
        }
        let r = app
            .get(&format!("{}/recovery-codes", user_path("rc-race")))
            .await;
        assert_eq!(r.body["unusedCodes"], 15);
    }
);

dual_test!(
    regenerating_recovery_codes_keeps_the_credential_and_voids_every_old_code,
    |app| {
        user(&app, "rc-regen").await;
        let old = create_codes(&app, "rc-regen").await;
        let first = app
            .get(&format!("{}/recovery-codes", user_path("rc-regen")))
            .await;
        let new = create_codes(&app, "rc-regen").await;
        assert!(old.iter().all(|c| !new.contains(c)));
        let r = use_code(&app, "rc-regen", &old[0]).await;
        r.assert_error(422, "errors.userLoginFailed", "Login failed.");
        let r = use_code(&app, "rc-regen", &new[0]).await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app
            .get(&format!("{}/recovery-codes", user_path("rc-regen")))
            .await;
        assert_eq!(r.body["extId"], first.body["extId"]);
        assert_eq!(r.body["unusedCodes"], 15);
        let r = app
            .delete(&format!("{}/recovery-codes", user_path("rc-regen")))
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app
            .get(&format!("{}/recovery-codes", user_path("rc-regen")))
            .await;
        assert_eq!(r.status, 404, "{}", r.body);
        assert_eq!(r.code(), "errors.noRecord");
    }
);

dual_test!(
    a_self_admin_needs_an_x_token_to_create_recovery_codes,
    |app| {
        let me = app
            .seed_user("Default", "rc-self", &["SelfAdmin"], false, false, None)
            .await;
        let token = app.token_for("Default", "rc-self");
        let path = format!("{}/recovery-codes", user_path("rc-self"));
        let r = app
            .send(app.req_as(&token, Method::POST, &path).json(&json!({})))
            .await;
        r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
        let xtoken = app.xtoken_for(&me).await;
        let r = app
            .send(
                app.req_as(&token, Method::POST, &path)
                    .header("X-Token", xtoken)
                    .json(&json!({})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["codes"].as_array().unwrap().len(), 16);
    }
);

fn secret_of(uri: &str) -> String {
    uri.split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .unwrap()
        .to_owned()
}

async fn create_oath(app: &TestApp, u: &str, ext: &str) -> Value {
    let r = app
        .post(
            &format!("{}/oath-credentials", user_path(u)),
            json!({"extId": ext, "label": "alice@acme"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.location(),
        format!("{}/oath-credentials/{ext}", user_path(u))
    );
    r.body
}

async fn oath_login(app: &TestApp, u: &str, code: &str) -> Reply {
    app.post(
        &format!("{AUTH}/Default/users/{u}/oath/login"),
        json!({ "code": code }),
    )
    .await
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

dual_test!(
    an_oath_secret_is_only_in_the_creation_uri_never_in_later_reads_or_the_raw_row,
    |app| {
        user(&app, "oath-user").await;
        let created = create_oath(&app, "oath-user", "oath-1").await;
        let uri = created["otpauthUri"].as_str().unwrap();
        assert!(
            uri.starts_with("otpauth://totp/alice%40acme?secret="),
            "{uri}"
        );
        assert!(uri.contains("&algorithm=SHA1&digits=6&period=30"), "{uri}");
        let secret = secret_of(uri);
        assert_eq!(otp::base32_decode(&secret).unwrap().len(), 20);
        assert_eq!(created["type"], "OATH");
        assert_eq!(created["label"], "alice@acme");
        assert_eq!(created["stateName"], "active");

        let one = app
            .get(&format!(
                "{}/oath-credentials/oath-1",
                user_path("oath-user")
            ))
            .await;
        assert_eq!(one.status, 200, "{}", one.body);
        assert_eq!(one.body["method"], "TOTP");
        let list = app
            .get(&format!("{}/oath-credentials", user_path("oath-user")))
            .await;
        assert_eq!(list.body["items"][0]["extId"], "oath-1");
        let all = app
            .get(&format!("{}/credentials", user_path("oath-user")))
            .await;
        for body in [&one.body, &list.body, &all.body] {
            let text = body.to_string();
            assert!(!text.contains(&secret), "{text}");
            assert!(!text.contains("otpauth"), "{text}");
        }
        let raw: String = scalar!(
            app,
            diesel::sql_types::Text,
            "(SELECT COALESCE(secret, '') || '|' || COALESCE(context, '') FROM credentials \
             WHERE ext_id = 'oath-1')"
        );
        assert!(raw.len() > 40, "the sealed secret is stored: {raw}");
        assert!(!raw.contains(&secret), "{raw}");
        let raw_secret = otp::base32_decode(&secret).unwrap();
        let hex: String = raw_secret.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!raw.to_lowercase().contains(&hex), "{raw}");
    }
);

dual_test!(
    a_totp_code_logs_in_once_and_its_replay_is_refused_and_counted,
    |app| {
        user(&app, "totp-user").await;
        let created = create_oath(&app, "totp-user", "oath-t").await;
        let secret =
            otp::base32_decode(&secret_of(created["otpauthUri"].as_str().unwrap())).unwrap();
        let code = otp::totp(&secret, now_unix(), &OtpParams::default());
        let r = oath_login(&app, "totp-user", &code).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body, json!({"statusCode": 5, "description": "Login Ok"}));
        let r = oath_login(&app, "totp-user", &code).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_ne!(
            r.body["statusCode"], 5,
            "a replayed code must fail: {}",
            r.body
        );
        let r = app
            .get(&format!(
                "{}/oath-credentials/oath-t",
                user_path("totp-user")
            ))
            .await;
        assert_eq!(r.body["successfulLoginCount"], 1);
        assert_eq!(r.body["failedLoginCount"], 1);
        let r = oath_login(&app, "totp-user", "12345").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["statusCode"], 9, "second failure: {}", r.body);
        let r = oath_login(&app, "nobody", "123456").await;
        assert_eq!(r.status, 404, "{}", r.body);
    }
);

dual_test!(
    concurrent_logins_with_one_totp_code_succeed_at_most_once,
    |app| {
        user(&app, "totp-race").await;
        let created = create_oath(&app, "totp-race", "oath-r").await;
        let secret =
            otp::base32_decode(&secret_of(created["otpauthUri"].as_str().unwrap())).unwrap();
        let other = app.second_instance().await;
        let code = otp::totp(&secret, now_unix(), &OtpParams::default());
        let attempts = (0..6).map(|i| {
            let target = if i % 2 == 0 { &app } else { &other };
            oath_login(target, "totp-race", &code)
        });
        let replies = futures::future::join_all(attempts).await;
        let ok = replies
            .iter()
            .filter(|r| r.status == 200 && r.body["statusCode"] == 5)
            .count();
        assert_eq!(
            ok,
            1,
            "{:?}",
            replies.iter().map(|r| &r.body).collect::<Vec<_>>()
        );
        assert!(replies.iter().all(|r| r.status < 500));
    }
);

dual_test!(
    oath_patch_changes_label_and_state_and_delete_removes_it,
    |app| {
        user(&app, "oath-p").await;
        create_oath(&app, "oath-p", "oath-p1").await;
        let path = format!("{}/oath-credentials/oath-p1", user_path("oath-p"));
        let r = app
            .patch(
                &path,
                json!({"label": "new label", "stateName": "disabled",
                       "modificationComment": "lost phone", "version": 1}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["label"], "new label");
        assert_eq!(r.body["stateName"], "disabled");
        assert_eq!(r.body["modificationComment"], "lost phone");
        assert_eq!(r.body["version"], 2);
        let r = app.patch(&path, json!({"label": "x", "version": 1})).await;
        r.assert_error(
            409,
            "errors.optimisticLockingFailure",
            "Row was already updated or deleted by another transaction",
        );
        let r = oath_login(&app, "oath-p", "123456").await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.credentialNotActive");
        let r = app.delete(&path).await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app.get(&path).await;
        assert_eq!(r.status, 404, "{}", r.body);
        assert_eq!(r.code(), "errors.noRecord");
    }
);

dual_test!(oath_create_requires_a_label, |app| {
    user(&app, "oath-l").await;
    let r = app
        .post(
            &format!("{}/oath-credentials", user_path("oath-l")),
            json!({"extId": "o"}),
        )
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: label",
    );
});

dual_test!(
    without_an_encryption_key_oath_create_is_refused_with_invalid_config,
    setup = |backend| TestApp::builder()
        .backend(backend)
        .settings(|s| s.credentials.encryption_key = None)
        .start(),
    |app: TestApp| {
        user(&app, "oath-nokey").await;
        let r = app
            .post(
                &format!("{}/oath-credentials", user_path("oath-nokey")),
                json!({"label": "x"}),
            )
            .await;
        r.assert_error(
            422,
            "errors.invalidConfig",
            "OATH credentials need credentials.encryption_key to be configured.",
        );
    }
);

fn fido2_body(ext: &str, hashed: &str) -> Value {
    json!({
        "extId": ext,
        "aaguid": "adce0002-35bc-c60a-648b-0b25f1f05503",
        "authenticator": "{\"credentialId\":\"abc\"}",
        "authenticatorAttachment": "platform",
        "attestationConveyancePreference": "none",
        "hashedCredentialId": hashed,
        "rpId": "acme.test",
        "residentKeyRequirement": "required",
        "userAgent": "Firefox",
        "userFriendlyName": "Laptop",
        "userVerificationRequirement": "preferred",
    })
}

dual_test!(
    fido2_credentials_are_created_read_listed_patched_and_deleted,
    |app| {
        user(&app, "f2-user").await;
        let base = format!("{}/fido2", user_path("f2-user"));
        let r = app.post(&base, fido2_body("f2-1", "hash-1")).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.location(), format!("{base}/f2-1"));
        let r = app.get(&format!("{base}/f2-1")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["type"], "FIDO2 Authenticator");
        assert_eq!(r.body["authenticatorAttachment"], "platform");
        assert_eq!(r.body["residentKeyRequirement"], "required");
        assert_eq!(r.body["hashedCredentialId"], "hash-1");
        assert_common_fields(&r.body);

        let r = app.post(&base, fido2_body("f2-2", "hash-1")).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.duplicateValue");
        let mut bad = fido2_body("f2-3", "hash-3");
        bad["rpId"] = json!("");
        bad["userVerificationRequirement"] = json!("always");
        let r = app.post(&base, bad).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: rpId, userVerificationRequirement",
        );

        let r = app
            .patch(
                &format!("{base}/f2-1"),
                json!({"userFriendlyName": "Phone", "stateName": "disabled"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["userFriendlyName"], "Phone");
        assert_eq!(r.body["stateName"], "disabled");
        assert_eq!(r.body["aaguid"], "adce0002-35bc-c60a-648b-0b25f1f05503");
        assert_eq!(r.body["version"], 2);

        let r = app.post(&base, fido2_body("f2-2", "hash-2")).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.get(&format!("{base}?limit=1")).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
        assert!(r.body["_pagination"]["continuationToken"].is_string());
        let r = app.get("/nevisidm/api/core/v1/clients/Default/fido2").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"].as_array().unwrap().len(), 2);

        let r = app.delete(&format!("{base}/f2-1")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app.get(&format!("{base}/f2-1")).await;
        assert_eq!(r.status, 404, "{}", r.body);
        assert_eq!(r.code(), "errors.noRecord");
    }
);

fn uaf_body(ext: &str) -> Value {
    json!({
        "extId": ext,
        "aaid": "4e4e#4005",
        "keyId": "a2V5LTE",
        "authenticatorVersion": "1.0",
        "publicKey": "uaf-public-key",
        "publicKeyAlgorithm": "UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW",
        "appId": "https://example.com/facets",
    })
}

dual_test!(
    the_credentials_list_shows_password_recovery_codes_oath_fido_uaf_and_fido2_with_the_common_fields,
    |app| {
        user(&app, "all-types").await;
        create_codes(&app, "all-types").await;
        create_oath(&app, "all-types", "all-oath").await;
        let r = app
            .post(
                &format!("{}/fido-authenticators", user_path("all-types")),
                uaf_body("all-uaf"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app
            .post(
                &format!("{}/fido2", user_path("all-types")),
                fido2_body("all-f2", "all-hash"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);

        let r = app
            .get(&format!("{}/credentials", user_path("all-types")))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.body["items"].as_array().unwrap();
        let mut types: Vec<&str> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
        types.sort_unstable();
        assert_eq!(
            types,
            [
                "FIDO UAF Authenticator",
                "FIDO2 Authenticator",
                "OATH",
                "Password",
                "Recovery Code"
            ]
        );
        for item in items {
            assert_common_fields(item);
            assert_eq!(item["userExtId"], "all-types");
        }
    }
);

dual_test!(
    fido_uaf_credentials_can_be_patched_and_listed_per_client,
    |app| {
        user(&app, "uaf-p").await;
        let base = format!("{}/fido-authenticators", user_path("uaf-p"));
        let r = app.post(&base, uaf_body("uaf-p1")).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app
            .patch(
                &format!("{base}/uaf-p1"),
                json!({"stateName": "disabled", "modificationComment": "stolen"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["stateName"], "disabled");
        assert_eq!(r.body["modificationComment"], "stolen");
        assert_eq!(r.body["type"], "FIDO UAF Authenticator");
        let r = app
            .patch(&format!("{base}/uaf-p1"), json!({"extId": "other"}))
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.modifyExtId");
        let r = app
            .get("/nevisidm/api/core/v1/clients/Default/fido-uaf")
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"][0]["extId"], "uaf-p1");
        let r = app.get("/nevisidm/api/core/v1/clients/nope/fido-uaf").await;
        assert_eq!(r.status, 404, "{}", r.body);
    }
);
