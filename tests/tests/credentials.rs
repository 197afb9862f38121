//! Credentials (issue 12, part 1): the common credential list, the password lifecycle, password
//! login with lockout, login-info, and the timing of logins for unknown users; both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use idm_tests::{dual_test, json, TestApp, CORE, PRINCIPAL, SEEDED_PASSWORD};
use reqwest::Method;
use serde_json::Value;

const AUTH: &str = "/nevisidm/api/auth/v1";

fn password(u: &str) -> String {
    format!("{CORE}/Default/users/{u}/password")
}

fn login_path(u: &str) -> String {
    format!("{AUTH}/Default/users/{u}/password/login")
}

async fn login(app: &TestApp, u: &str, pw: &str) -> idm_tests::Reply {
    app.post(&login_path(u), json!({ "password": pw })).await
}

/// Logs in and returns the statusCode of a 200 answer (panics on anything else).
async fn login_code(app: &TestApp, u: &str, pw: &str) -> i64 {
    let r = login(app, u, pw).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["statusCode"].as_i64().unwrap()
}

async fn get_password(app: &TestApp, u: &str) -> Value {
    let r = app.get(&password(u)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn assert_not_active(r: &idm_tests::Reply) {
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "errors.credentialNotActive");
    assert_eq!(
        r.message(),
        "The credential is not active or outside its validity period."
    );
}

/// A short temporary lock, so the walk-through can wait for its end.
fn short_lock(backend: idm_tests::Backend) -> impl std::future::Future<Output = Option<TestApp>> {
    TestApp::builder()
        .backend(backend)
        .settings(|s| s.policy.credential.tmp_locking_duration_ms = 1500)
        .start()
}

dual_test!(
    the_lockout_walk_through_locks_temporarily_then_for_good_and_unlock_and_reset_recover,
    setup = short_lock,
    |app: TestApp| {
        app.seed_user("Default", "alice", &[], false, false, None)
            .await;
        // 1st failure: the next one locks (temporarily), so a warning.
        let r = login(&app, "alice", "wrong-1").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.body,
            json!({"statusCode": 3, "description": "Failed (lock warning)"})
        );
        // 2nd failure reaches tmpLockingThreshold (2).
        let r = login(&app, "alice", "wrong-2").await;
        assert_eq!(
            r.body,
            json!({"statusCode": 9, "description": "Failed (now temporarily locked)"})
        );
        let before = get_password(&app, "alice").await;
        assert_eq!(before["stateName"], "tmp-locked");
        assert_eq!(before["stateChangeReason"], "too-many-login-failures");
        assert_eq!(before["failedLoginCount"], 2);
        assert!(before["lastFailedLoginDate"].is_string());

        // During the lock even the right password is refused, and nothing is counted.
        assert_not_active(&login(&app, "alice", SEEDED_PASSWORD).await);
        assert_not_active(&login(&app, "alice", "wrong-3").await);
        let during = get_password(&app, "alice").await;
        assert_eq!(during, before, "a refused login changes nothing");

        // After the lock, strict mode grants one try; it reaches maxCredFailureCount (3).
        tokio::time::sleep(Duration::from_millis(1700)).await;
        assert_eq!(get_password(&app, "alice").await["stateName"], "active");
        let r = login(&app, "alice", "wrong-4").await;
        assert_eq!(
            r.body,
            json!({"statusCode": 4, "description": "Failed (now locked)"})
        );
        let locked = get_password(&app, "alice").await;
        assert_eq!(locked["stateName"], "fail-locked");
        assert_eq!(locked["failedLoginCount"], 3);
        assert_not_active(&login(&app, "alice", SEEDED_PASSWORD).await);

        // Unlock: active, both counters 0; the right password logs in.
        let r = app
            .post(&format!("{}/unlock", password("alice")), Value::Null)
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        let unlocked = get_password(&app, "alice").await;
        assert_eq!(unlocked["stateName"], "active");
        assert_eq!(unlocked["stateChangeReason"], "unlock");
        assert_eq!(unlocked["failedLoginCount"], 0);
        assert_eq!(unlocked["successfulLoginCount"], 0);
        let r = login(&app, "alice", SEEDED_PASSWORD).await;
        assert_eq!(r.body, json!({"statusCode": 5, "description": "Login Ok"}));
        let ok = get_password(&app, "alice").await;
        assert_eq!(ok["successfulLoginCount"], 1);
        assert!(ok["lastSuccessfulLoginDate"].is_string());

        // Reset: state initial, counters 0, a new (unknown) password: the old one fails.
        let r = app
            .post(&format!("{}/reset", password("alice")), Value::Null)
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(r.body, Value::Null);
        let reset = get_password(&app, "alice").await;
        assert_eq!(reset["stateName"], "initial");
        assert_eq!(reset["stateChangeReason"], "reset-by-admin");
        assert_eq!(reset["successfulLoginCount"], 0);
        assert_eq!(reset["failedLoginCount"], 0);
        assert_eq!(login_code(&app, "alice", SEEDED_PASSWORD).await, 3);
        assert_eq!(get_password(&app, "alice").await["failedLoginCount"], 1);
    }
);

/// Lockout off except a high permanent limit: every concurrent failure must count.
fn lenient(backend: idm_tests::Backend) -> impl std::future::Future<Output = Option<TestApp>> {
    TestApp::builder()
        .backend(backend)
        .settings(|s| {
            s.policy.credential.max_failure_count = 1000;
            s.policy.credential.tmp_locking_threshold = -1;
        })
        .start()
}

dual_test!(
    twenty_concurrent_wrong_logins_are_all_counted,
    setup = lenient,
    |app: TestApp| {
        app.seed_user("Default", "bob", &[], false, false, None)
            .await;
        let attempts = (0..20).map(|i| login(&app, "bob", if i % 2 == 0 { "x-1" } else { "y-2" }));
        let replies = futures::future::join_all(attempts).await;
        for r in &replies {
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.body["statusCode"], 2, "{}", r.body);
        }
        let c = get_password(&app, "bob").await;
        assert_eq!(c["failedLoginCount"], 20);
        assert_eq!(c["stateName"], "active");
    }
);

dual_test!(
    twenty_concurrent_wrong_logins_over_two_instances_count_exactly_the_reported_failures,
    |app| {
        app.seed_user("Default", "carol", &[], false, false, None)
            .await;
        let other = app.second_instance().await;
        let attempts = (0..20).map(|i| {
            let target = if i % 2 == 0 { &app } else { &other };
            login(target, "carol", "wrong-password-1")
        });
        let replies = futures::future::join_all(attempts).await;
        let mut counted = 0;
        let mut codes = Vec::new();
        for r in &replies {
            assert!(r.status < 500, "no 5xx: {} {}", r.status, r.body);
            match r.status {
                200 => {
                    counted += 1;
                    codes.push(r.body["statusCode"].as_i64().unwrap());
                }
                _ => assert_not_active(r),
            }
        }
        codes.sort_unstable();
        // Default policy: the 1st failure warns, the 2nd locks temporarily, the rest are
        // refused without counting, whichever instance served them.
        assert_eq!(codes, [3, 9]);
        let c = get_password(&app, "carol").await;
        assert_eq!(c["failedLoginCount"], counted);
        assert_eq!(c["stateName"], "tmp-locked");
        // A race never unlocks: the right password is refused too.
        assert_not_active(&login(&other, "carol", SEEDED_PASSWORD).await);
    }
);

/// Argon2 at its default cost and lockout off, so 200 wrong passwords stay 200 failures.
fn timed(backend: idm_tests::Backend) -> impl std::future::Future<Output = Option<TestApp>> {
    TestApp::builder()
        .backend(backend)
        .settings(|s| {
            s.policy.credential.max_failure_count = -1;
            s.policy.credential.tmp_locking_threshold = -1;
        })
        .start()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

dual_test!(
    a_login_for_an_unknown_user_takes_as_long_as_a_wrong_password,
    setup = timed,
    |app: TestApp| {
        app.seed_user("Default", "dave", &[], false, false, None)
            .await;
        let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
        // Interleaved, so load from other processes hits both series alike.
        for _ in 0..200 {
            let t = Instant::now();
            let r = login(&app, "nobody", "Wrong-Passw0rd").await;
            unknown.push(t.elapsed());
            r.assert_error(
                404,
                "errors.noRecord",
                "A user with extId 'nobody' doesn't exist on client with name Default",
            );
            let t = Instant::now();
            let r = login(&app, "dave", "Wrong-Passw0rd").await;
            wrong.push(t.elapsed());
            assert_eq!(r.body["statusCode"], 2, "{}", r.body);
        }
        let (u, w) = (median(unknown), median(wrong));
        let ratio = u.as_secs_f64() / w.as_secs_f64();
        eprintln!("median unknown user {u:?}, wrong password {w:?}, ratio {ratio:.3}");
        assert!(
            (0.8..=1.2).contains(&ratio),
            "unknown user {u:?} vs wrong password {w:?}"
        );
    }
);

dual_test!(
    the_credential_list_shows_the_password_and_a_fido_uaf_authenticator_with_the_common_fields,
    |app| {
        app.seed_user("Default", "erin", &[], false, false, None)
            .await;
        let r = app
            .post(
                &format!("{CORE}/Default/users/erin/fido-authenticators"),
                json!({
                    "extId": "uaf-1", "aaid": "4e4e#4005", "keyId": "a2V5LTE",
                    "authenticatorVersion": "1.0", "publicKey": "pk",
                    "publicKeyAlgorithm": "UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW",
                    "appId": "https://example.com/facets",
                }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let list = format!("{CORE}/Default/users/erin/credentials");
        let r = app.get(&list).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{}", r.body);
        let types: Vec<&str> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["Password", "FIDO UAF Authenticator"]);
        for i in items {
            assert_eq!(i["userExtId"], "erin");
            assert_eq!(i["stateName"], "active");
            assert_eq!(i["stateChangeReason"], "initialized");
            assert_eq!(i["successfulLoginCount"], 0);
            assert_eq!(i["failedLoginCount"], 0);
            assert!(i["created"].is_string() && i["lastModified"].is_string());
            assert_eq!(i["version"], 1);
            assert!(i["validity"].is_object());
            assert!(i.get("secret").is_none() && i.get("hash").is_none());
        }
        assert_eq!(items[0]["extId"], "erin-pw");
        assert_eq!(items[1]["extId"], "uaf-1");
        assert!(!r.body.to_string().contains("$argon2"), "{}", r.body);
        // Keyset-paged like every list.
        let r = app.get(&format!("{list}?limit=1")).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
        let token = r.body["_pagination"]["continuationToken"].as_str().unwrap();
        let r = app
            .get(&format!("{list}?limit=1&continuationToken={token}"))
            .await;
        assert_eq!(r.body["items"][0]["extId"], "uaf-1");
        assert!(r.body["_pagination"].get("continuationToken").is_none());
        // Deleting the FIDO UAF registration removes it from the list too.
        let r = app
            .delete(&format!(
                "{CORE}/Default/users/erin/fido-authenticators/uaf-1"
            ))
            .await;
        assert_eq!(r.status, 204);
        let r = app.get(&list).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    }
);

dual_test!(
    a_user_without_the_right_or_self_admin_cannot_list_credentials_but_his_own,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        app.seed_user("Default", "self2", &[], false, false, None)
            .await;
        let own = app
            .send(app.req_as(
                &me.token,
                Method::GET,
                &format!("{CORE}/Default/users/self1/credentials"),
            ))
            .await;
        assert_eq!(own.status, 200, "{}", own.body);
        let other = app
            .send(app.req_as(
                &me.token,
                Method::GET,
                &format!("{CORE}/Default/users/self2/credentials"),
            ))
            .await;
        other.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action",
        );
        let r = app
            .get(&format!("{CORE}/Default/users/nobody/credentials"))
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "A user with extId 'nobody' doesn't exist on client with name Default",
        );
    }
);

dual_test!(
    creating_a_password_answers_201_with_location_and_refuses_a_second_or_weak_one,
    |app| {
        app.seed_user("Default", "frank", &[], false, false, None)
            .await;
        assert_eq!(app.delete(&password("frank")).await.status, 204);
        let r = app.get(&password("frank")).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "User with extId 'frank' has no Password credential",
        );
        let r = app
            .post(&password("frank"), json!({"password": "short"}))
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.pwdPolicyViolated");
        assert_eq!(r.body["policyViolations"][0]["configString"], "minLength=8");
        assert!(!r.body.to_string().contains("short\""));
        let r = app
            .post(
                &password("frank"),
                json!({"extId": "frank-pw2", "password": "Brand-New-1"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.location(), password("frank"));
        assert_eq!(r.body, Value::Null);
        let r = app
            .post(&password("frank"), json!({"password": "Brand-New-2"}))
            .await;
        r.assert_error(
            422,
            "errors.passwordExists",
            "User with extId 'frank' already has a Password credential",
        );
        let c = get_password(&app, "frank").await;
        assert_eq!(c["extId"], "frank-pw2");
        assert_eq!(c["type"], "Password");
        assert_eq!(c["stateName"], "active");
        assert!(!c.to_string().contains("$argon2"), "{c}");
        assert_eq!(login_code(&app, "frank", "Brand-New-1").await, 5);
        let r = app
            .post(
                &password("frank"),
                json!({"password": "Brand-New-3", "stateName": "locked"}),
            )
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "Invalid CredentialState name 'locked'",
        );
    }
);

dual_test!(
    patching_the_password_changes_state_and_comment_and_refuses_a_stale_version,
    |app| {
        app.seed_user("Default", "gina", &[], false, false, None)
            .await;
        let v = get_password(&app, "gina").await["version"]
            .as_i64()
            .unwrap();
        let r = app
            .patch(
                &password("gina"),
                json!({"stateName": "disabled", "modificationComment": "left", "version": v}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["stateName"], "disabled");
        assert_eq!(r.body["stateChangeReason"], "changed-by-admin");
        assert_eq!(r.body["modificationComment"], "left");
        assert_eq!(r.body["version"], v + 1);
        assert_eq!(r.header("etag"), Some(format!("\"{}\"", v + 1).as_str()));
        // A disabled password cannot log in, and the refusal is not counted.
        assert_not_active(&login(&app, "gina", SEEDED_PASSWORD).await);
        assert_eq!(get_password(&app, "gina").await["failedLoginCount"], 0);
        let r = app
            .patch(
                &password("gina"),
                json!({"stateName": "active", "version": v}),
            )
            .await;
        r.assert_error(
            409,
            "errors.optimisticLockingFailure",
            "Row was already updated or deleted by another transaction",
        );
        // Outside its validity a password cannot log in either.
        let r = app
            .patch(
                &password("gina"),
                json!({"stateName": "active", "validity": {"to": "2001-01-01T00:00:00Z"}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_not_active(&login(&app, "gina", SEEDED_PASSWORD).await);
        let r = app
            .patch(&password("gina"), json!({"stateName": "archived"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app
            .patch(&password("gina"), json!({"stateName": "active"}))
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.modifyArchivedCredential");
    }
);

dual_test!(
    a_self_admin_deletes_his_password_only_with_an_x_token,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        let x = app.xtoken_for(&me).await;
        let r = app
            .send(app.req_as(&me.token, Method::DELETE, &password("self1")))
            .await;
        r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
        let r = app
            .send(
                app.req_as(&me.token, Method::DELETE, &password("self1"))
                    .header("X-Token", &x),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = login(&app, "self1", SEEDED_PASSWORD).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "User with extId 'self1' has no Password credential",
        );
    }
);

fn generated(backend: idm_tests::Backend) -> impl std::future::Future<Output = Option<TestApp>> {
    TestApp::builder()
        .backend(backend)
        .settings(|s| s.policy.password.reset_code_enabled = true)
        .start()
}

dual_test!(
    with_reset_code_enabled_the_server_generates_the_password_and_returns_it_once,
    setup = generated,
    |app: TestApp| {
        app.seed_user("Default", "hank", &[], false, false, None)
            .await;
        assert_eq!(app.delete(&password("hank")).await.status, 204);
        let r = app
            .post(&password("hank"), json!({"password": "Brand-New-1"}))
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: password",
        );
        let r = app.post(&password("hank"), json!({})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.location(), password("hank"));
        let fragment = r.body["passwordFragment"].as_str().unwrap().to_owned();
        assert_eq!(get_password(&app, "hank").await["stateName"], "initial");
        assert_eq!(login_code(&app, "hank", &fragment).await, 5);
        // A reset answers 201 with the next generated password; the old one is gone.
        let r = app
            .post(&format!("{}/reset", password("hank")), Value::Null)
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let next = r.body["passwordFragment"].as_str().unwrap();
        assert_ne!(next, fragment);
        assert_eq!(login_code(&app, "hank", &fragment).await, 3);
        assert_eq!(login_code(&app, "hank", next).await, 5);
    }
);

dual_test!(
    a_locked_password_cannot_mint_an_x_token_and_token_failures_count,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        let token = |pw: &str| {
            app.req_as(&me.token, Method::POST, &format!("{PRINCIPAL}/token"))
                .json(&json!({"username": "self1", "password": pw, "grant_type": "password"}))
        };
        for _ in 0..2 {
            let r = app.send(token("wrong")).await;
            r.assert_error(
                422,
                "errors.userLoginFailed",
                "Login failed: wrong username or password.",
            );
        }
        let c = get_password(&app, "self1").await;
        assert_eq!(c["failedLoginCount"], 2);
        assert_eq!(c["stateName"], "tmp-locked");
        let r = app.send(token(SEEDED_PASSWORD)).await;
        r.assert_error(
            422,
            "errors.userLoginFailed",
            "Login failed: wrong username or password.",
        );
        let r = app
            .post(&format!("{}/unlock", password("self1")), Value::Null)
            .await;
        assert_eq!(r.status, 204);
        assert_eq!(app.send(token(SEEDED_PASSWORD)).await.status, 200);
        assert_eq!(get_password(&app, "self1").await["successfulLoginCount"], 1);
    }
);

dual_test!(
    login_refuses_a_missing_password_field_unknown_users_and_users_without_password,
    |app| {
        app.seed_user("Default", "ivy", &[], false, false, None)
            .await;
        let r = app.post(&login_path("ivy"), json!({})).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: password",
        );
        let r = login(&app, "nobody", "x").await;
        r.assert_error(
            404,
            "errors.noRecord",
            "A user with extId 'nobody' doesn't exist on client with name Default",
        );
        assert_eq!(app.delete(&password("ivy")).await.status, 204);
        let r = login(&app, "ivy", "x").await;
        r.assert_error(
            404,
            "errors.noRecord",
            "User with extId 'ivy' has no Password credential",
        );
        let plain = app
            .seed_user("Default", "plain", &[], false, false, None)
            .await;
        let r = app
            .send(
                app.req_as(&plain.token, Method::POST, &login_path("ivy"))
                    .json(&json!({"password": "x"})),
            )
            .await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.CredentialView' to perform this action",
        );
    }
);

dual_test!(login_info_counts_a_login_on_the_named_credential, |app| {
    app.seed_user("Default", "jack", &[], false, false, None)
        .await;
    let path = format!("{CORE}/Default/users/jack/login-info");
    let r = app
        .post(
            &path,
            json!({"success": true, "credentialExtId": "jack-pw"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["statusCode"], 0);
    assert_eq!(r.body["description"], "Login successful.");
    assert_eq!(r.body["userExtId"], "jack");
    assert_eq!(r.body["clientExtId"], "Default");
    assert_eq!(r.body["credentialExtId"], "jack-pw");
    assert_eq!(r.body["credentialType"], "Password");
    assert_eq!(r.body["credentialSuccessCount"], 1);
    assert!(r.body["credentialLastLogin"].is_string());
    assert!(r.body.get("credentialLastLoginFailure").is_none());
    let r = app
        .post(
            &path,
            json!({"success": false, "credentialExtId": "jack-pw"}),
        )
        .await;
    assert_eq!(r.body["statusCode"], 3, "{}", r.body);
    assert_eq!(r.body["credentialFailureCount"], 1);
    assert!(r.body.get("credentialSuccessCount").is_none());
    let r = app.post(&path, json!({"success": true})).await;
    assert_eq!(r.body["statusCode"], 0, "{}", r.body);
    assert!(r.body.get("credentialExtId").is_none());
    let r = app.post(&path, json!({"credentialExtId": "jack-pw"})).await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: success",
    );
    let r = app
        .post(&path, json!({"success": true, "credentialExtId": "nope"}))
        .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Credential doesn't exist with extId 'nope'",
    );
    let c = get_password(&app, "jack").await;
    assert_eq!(c["successfulLoginCount"], 1);
    assert_eq!(c["failedLoginCount"], 1);
});

dual_test!(the_state_change_reasons_are_the_reference_list, |app| {
    let r = app
        .get(&format!("{CORE}/system/credential-state-change-reasons"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["items"],
        json!([
            "customized-reason-code",
            "initialized",
            "activated",
            "too-many-login-failures",
            "reset-by-admin",
            "changed-by-admin",
            "changed-by-user",
            "logged-in-with-strong-cred",
            "cert-uploaded",
            "policy-check-failed",
            "renewal",
            "reset",
            "cert-revoked",
            "unlock",
            "changed-by-batchjob"
        ])
    );
});
