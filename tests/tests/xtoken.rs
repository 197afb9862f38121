//! X-Tokens die with a credential change (issue 15 item 4): an X-Token carries the credential
//! epoch of its user at issue time (`gen`); every password create, reset, state change,
//! unlock, locking login, administrator delete and import advances the epoch, and admission
//! refuses an X-Token older than it with 422 `errors.invalidJWTToken`. Both backends.
//!
//! The probe is the self-admin's own dispatch-target list: it needs an X-Token in self-admin
//! mode and changes nothing, so it can be asked before and after every change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{
    dual_test, json, Reply, SeededUser, TestApp, CORE, PRINCIPAL, SEEDED_PASSWORD, XTOKEN_SECRET,
};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::Value;

fn password(client: &str, user: &str) -> String {
    format!("{CORE}/{client}/users/{user}/password")
}

fn probe_path(user: &SeededUser) -> String {
    format!(
        "{CORE}/{}/users/{}/dispatch-targets",
        user.client_ext_id, user.ext_id
    )
}

/// The self-admin's X-Token-gated read, with `xtoken` in the header.
async fn probe(app: &TestApp, user: &SeededUser, xtoken: &str) -> Reply {
    app.send(
        app.req_as(&user.token, Method::GET, &probe_path(user))
            .header("X-Token", xtoken),
    )
    .await
}

#[track_caller]
fn assert_accepted(r: &Reply) {
    assert_eq!(r.status, 200, "the X-Token must be accepted: {}", r.body);
}

#[track_caller]
fn assert_refused(r: &Reply) {
    r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
}

/// An X-Token from `POST principal/token`, confirming `pw`.
async fn issue(app: &TestApp, user: &SeededUser, pw: &str) -> String {
    let r = login(app, user, pw).await;
    assert_eq!(r.status, 200, "principal/token: {}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}

async fn login(app: &TestApp, user: &SeededUser, pw: &str) -> Reply {
    app.send(
        app.req_as(&user.token, Method::POST, &format!("{PRINCIPAL}/token"))
            .json(&json!({"username": user.ext_id, "password": pw, "grant_type": "password"})),
    )
    .await
}

async fn self_admin(app: &TestApp, ext_id: &str) -> SeededUser {
    app.seed_user("Default", ext_id, &["SelfAdmin"], false, false, None)
        .await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn sign(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(XTOKEN_SECRET.as_bytes()),
    )
    .unwrap()
}

/// A server that generates passwords (`resetCodeEnabled`), so a reset answers with the new
/// password and the test can confirm it.
fn generated(backend: idm_tests::Backend) -> impl std::future::Future<Output = Option<TestApp>> {
    TestApp::builder()
        .backend(backend)
        .settings(|s| s.policy.password.reset_code_enabled = true)
        .start()
}

dual_test!(
    an_administrators_password_reset_ends_the_x_tokens_issued_before_it,
    setup = generated,
    |app: TestApp| {
        let me = self_admin(&app, "self1").await;
        let before = issue(&app, &me, SEEDED_PASSWORD).await;
        assert_accepted(&probe(&app, &me, &before).await);

        let r = app
            .post(
                &format!("{}/reset", password("Default", "self1")),
                Value::Null,
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let generated = r.body["passwordFragment"].as_str().unwrap().to_owned();

        assert_refused(&probe(&app, &me, &before).await);
        // A token confirming the new password works; the old one stays dead.
        let after = issue(&app, &me, &generated).await;
        assert_accepted(&probe(&app, &me, &after).await);
        assert_refused(&probe(&app, &me, &before).await);
    }
);

dual_test!(
    a_patch_of_the_password_state_ends_the_x_tokens_issued_before_it_but_a_comment_does_not,
    |app| {
        let me = self_admin(&app, "self1").await;
        let path = password("Default", "self1");
        let before = issue(&app, &me, SEEDED_PASSWORD).await;

        // Not a credential change: the token survives.
        let r = app
            .patch(&path, json!({"modificationComment": "just a note"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_accepted(&probe(&app, &me, &before).await);

        let r = app.patch(&path, json!({"stateName": "disabled"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_refused(&probe(&app, &me, &before).await);
        let r = app.patch(&path, json!({"stateName": "active"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        // Back to active is no way back for the old token.
        assert_refused(&probe(&app, &me, &before).await);

        let after = issue(&app, &me, SEEDED_PASSWORD).await;
        assert_accepted(&probe(&app, &me, &after).await);
    }
);

dual_test!(an_unlock_ends_the_x_tokens_issued_before_it, |app| {
    let me = self_admin(&app, "self1").await;
    let before = issue(&app, &me, SEEDED_PASSWORD).await;
    assert_accepted(&probe(&app, &me, &before).await);

    let r = app
        .post(
            &format!("{}/unlock", password("Default", "self1")),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_refused(&probe(&app, &me, &before).await);

    let after = issue(&app, &me, SEEDED_PASSWORD).await;
    assert_accepted(&probe(&app, &me, &after).await);
});

dual_test!(
    the_failed_login_that_locks_the_password_ends_the_x_tokens_issued_before_it,
    |app| {
        let me = self_admin(&app, "self1").await;
        let before = issue(&app, &me, SEEDED_PASSWORD).await;
        // A failure that does not lock changes nothing yet.
        login(&app, &me, "wrong-1").await.assert_error(
            422,
            "errors.userLoginFailed",
            "Login failed: wrong username or password.",
        );
        assert_accepted(&probe(&app, &me, &before).await);
        // The second one locks (tmp_locking_threshold 2).
        login(&app, &me, "wrong-2").await.assert_error(
            422,
            "errors.userLoginFailed",
            "Login failed: wrong username or password.",
        );
        let r = app.get(&password("Default", "self1")).await;
        assert_eq!(r.body["stateName"], "tmp-locked", "{}", r.body);
        assert_refused(&probe(&app, &me, &before).await);

        let r = app
            .post(
                &format!("{}/unlock", password("Default", "self1")),
                Value::Null,
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_refused(&probe(&app, &me, &before).await);
        let after = issue(&app, &me, SEEDED_PASSWORD).await;
        assert_accepted(&probe(&app, &me, &after).await);
    }
);

dual_test!(
    an_administrators_delete_and_create_of_the_password_end_the_x_tokens_issued_before,
    |app| {
        let me = self_admin(&app, "self1").await;
        let path = password("Default", "self1");
        let before = issue(&app, &me, SEEDED_PASSWORD).await;
        assert_accepted(&probe(&app, &me, &before).await);

        assert_eq!(app.delete(&path).await.status, 204);
        assert_refused(&probe(&app, &me, &before).await);
        let r = app.post(&path, json!({"password": "Brand-New-1"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_refused(&probe(&app, &me, &before).await);

        // The old password confirms nothing any more; the new one gets a working token.
        assert_eq!(login(&app, &me, SEEDED_PASSWORD).await.status, 422);
        let after = issue(&app, &me, "Brand-New-1").await;
        assert_accepted(&probe(&app, &me, &after).await);
    }
);

dual_test!(
    the_owners_own_delete_keeps_his_x_token_and_his_new_password_ends_it,
    |app| {
        // docs/credentials.md: the owner's delete leaves his X-Tokens alone (without a
        // password he could not get another one for the create); the create ends them.
        let me = self_admin(&app, "self1").await;
        let path = password("Default", "self1");
        let x = issue(&app, &me, SEEDED_PASSWORD).await;

        let r = app
            .send(
                app.req_as(&me.token, Method::DELETE, &path)
                    .header("X-Token", &x),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_accepted(&probe(&app, &me, &x).await);

        let r = app
            .send(
                app.req_as(&me.token, Method::POST, &path)
                    .header("X-Token", &x)
                    .json(&json!({"password": "Own-New-Passw0rd"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_refused(&probe(&app, &me, &x).await);
        // A second change with the same token is refused: the new password must be
        // confirmed first.
        let r = app
            .send(
                app.req_as(&me.token, Method::DELETE, &path)
                    .header("X-Token", &x),
            )
            .await;
        assert_refused(&r);
        assert_eq!(
            app.get(&path).await.status,
            200,
            "the password must survive"
        );

        let after = issue(&app, &me, "Own-New-Passw0rd").await;
        assert_accepted(&probe(&app, &me, &after).await);
    }
);

dual_test!(
    the_owners_own_reset_ends_the_x_token_he_used_for_it,
    setup = generated,
    |app: TestApp| {
        let me = self_admin(&app, "self1").await;
        let x = issue(&app, &me, SEEDED_PASSWORD).await;
        let r = app
            .send(
                app.req_as(
                    &me.token,
                    Method::POST,
                    &format!("{}/reset", password("Default", "self1")),
                )
                .header("X-Token", &x),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let generated = r.body["passwordFragment"].as_str().unwrap().to_owned();
        assert_refused(&probe(&app, &me, &x).await);
        let after = issue(&app, &me, &generated).await;
        assert_accepted(&probe(&app, &me, &after).await);
    }
);

dual_test!(
    a_self_admins_email_change_with_an_x_token_from_before_a_reset_is_refused,
    |app| {
        // The other X-Token check: a self-admin PATCH of a self-protected attribute.
        let me = self_admin(&app, "self1").await;
        let user = format!("{CORE}/Default/users/self1");
        let x = issue(&app, &me, SEEDED_PASSWORD).await;
        let patch = |email: &str| {
            app.req_as(&me.token, Method::PATCH, &user)
                .header("X-Token", &x)
                .json(&json!({"contacts": {"email": email}}))
        };
        let r = app.send(patch("one@example.com")).await;
        assert_eq!(r.status, 200, "{}", r.body);

        let r = app
            .post(
                &format!("{}/reset", password("Default", "self1")),
                Value::Null,
            )
            .await;
        // Without resetCodeEnabled the generated password is not shown: 204.
        assert_eq!(r.status, 204, "{}", r.body);
        assert_refused(&app.send(patch("two@example.com")).await);
        let r = app.get(&user).await;
        assert_eq!(r.body["contacts"]["email"], "one@example.com", "{}", r.body);
    }
);

dual_test!(
    an_x_token_without_the_epoch_claim_or_with_an_old_epoch_is_refused,
    |app| {
        let me = self_admin(&app, "self1").await;
        let claims = |generation: Option<i64>| {
            let mut c = json!({"sub": "self1", "cli": "Default", "exp": now() + 600, "iat": now()});
            if let Some(g) = generation {
                c["gen"] = g.into();
            }
            c
        };
        // Seeding set the password: the user's epoch is 1.
        assert_accepted(&probe(&app, &me, &sign(&claims(Some(1)))).await);
        // A token from before the claim existed, from before the seeding, or carrying an
        // epoch the database has not reached (a restore behind the token).
        assert_refused(&probe(&app, &me, &sign(&claims(None))).await);
        assert_refused(&probe(&app, &me, &sign(&claims(Some(0)))).await);
        assert_refused(&probe(&app, &me, &sign(&claims(Some(2)))).await);
        let r = app
            .post(
                &format!("{}/unlock", password("Default", "self1")),
                Value::Null,
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_refused(&probe(&app, &me, &sign(&claims(Some(1)))).await);
        assert_accepted(&probe(&app, &me, &sign(&claims(Some(2)))).await);
    }
);

dual_test!(
    a_credential_change_of_a_same_named_user_in_another_client_leaves_this_ones_x_token_alone,
    |app| {
        // The twin's X-Token is refused here (auth.rs); the epoch is per user, not per extId,
        // so the twin's password change does not reach this user either.
        app.create_client("twins", "Twins").await;
        let here = self_admin(&app, "twin").await;
        let there = app
            .seed_user("twins", "twin", &["SelfAdmin"], false, false, None)
            .await;
        let x_here = issue(&app, &here, SEEDED_PASSWORD).await;
        let x_there = issue(&app, &there, SEEDED_PASSWORD).await;
        assert_refused(&probe(&app, &here, &x_there).await);

        let r = app
            .post(
                &format!("{}/unlock", password("twins", "twin")),
                Value::Null,
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_refused(&probe(&app, &there, &x_there).await);
        assert_accepted(&probe(&app, &here, &x_here).await);
    }
);

dual_test!(
    a_self_admins_x_token_gated_read_costs_one_statement_more_than_an_admins,
    setup = cached_callers,
    |app: TestApp| {
        let me = self_admin(&app, "self1").await;
        let x = issue(&app, &me, SEEDED_PASSWORD).await;
        let path = probe_path(&me);
        let by_admin = || async { app.get(&path).await.status };
        let by_owner = || async { probe(&app, &me, &x).await.status };
        // Warm the statement caches and the caller cache of both callers.
        for _ in 0..2 {
            assert_eq!(by_admin().await, 200);
            assert_eq!(by_owner().await, 200);
        }
        let (status, admin, _) = app.statements_during(by_admin()).await;
        assert_eq!(status, 200);
        let (status, owner, prepares) = app.statements_during(by_owner()).await;
        assert_eq!(status, 200);
        assert_eq!(prepares, 0, "the epoch read must be a cached statement");
        assert_eq!(
            owner,
            admin + 1,
            "{:?}: the X-Token's epoch is one read (admin {admin}, owner {owner})",
            app.backend
        );
    }
);

async fn cached_callers(backend: idm_tests::Backend) -> Option<TestApp> {
    idm_tests::spawn_with(backend, |s| s.auth.caller_cache_ttl_ms = 600_000).await
}

dual_test!(
    an_import_that_replaces_a_users_password_ends_his_x_tokens,
    |app| {
        use idm_service::transfer::{ImportMode, Password};
        let small = || {
            idm_server::fixtures::read(
                &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/small.yaml"),
            )
            .unwrap()
        };
        app.services
            .import(&small(), ImportMode::KeepExisting)
            .await
            .unwrap();
        // bob is a self-admin of client acme in the fixture.
        let bob = SeededUser {
            client_ext_id: "acme".into(),
            ext_id: "bob".into(),
            password: "Bob-Passw0rd".into(),
            token: app.token_for("acme", "bob"),
            profile_ext_id: "bob-p".into(),
        };
        let before = issue(&app, &bob, "Bob-Passw0rd").await;
        assert_accepted(&probe(&app, &bob, &before).await);

        let mut changed = small();
        let entry = changed
            .users
            .iter_mut()
            .find(|u| u.user.meta.ext_id == "bob")
            .unwrap();
        entry.user.remarks = Some("password rotated by import".into());
        entry.password = Some(Password::Plain("Bob-New-Passw0rd1".into()));
        let report = app
            .services
            .import(&changed, ImportMode::Override)
            .await
            .unwrap();
        assert_eq!(report.replaced, 1, "{report:?}");

        assert_refused(&probe(&app, &bob, &before).await);
        let after = issue(&app, &bob, "Bob-New-Passw0rd1").await;
        assert_accepted(&probe(&app, &bob, &after).await);
    }
);

/// The user's credential epoch as stored (0 without a row).
fn stored_epoch(app: &TestApp, user: &str) -> i64 {
    app.sql_texts(&format!(
        "SELECT CAST(e.epoch AS TEXT) AS t FROM credential_epochs e \
         JOIN users u ON u.id = e.user_id WHERE u.ext_id = '{user}'"
    ))
    .first()
    .map_or(0, |t| t.parse().unwrap())
}

dual_test!(
    concurrent_unlocks_on_two_instances_each_advance_the_epoch_once_and_end_older_tokens_on_both,
    |app| {
        let me = self_admin(&app, "racer").await;
        let other = app.second_instance().await;
        let before = issue(&app, &me, SEEDED_PASSWORD).await;
        let start = stored_epoch(&app, "racer");
        let unlock = format!("{}/unlock", password("Default", "racer"));
        // Ten credential changes at once, half on each instance; the first of them may also
        // be the first write of the user's epoch row (the insert race of advance_epoch).
        let attempts = (0..10).map(|i| {
            let target = if i % 2 == 0 { &app } else { &other };
            target.post(&unlock, Value::Null)
        });
        let replies = futures::future::join_all(attempts).await;
        let done = replies.iter().filter(|r| r.status == 204).count() as i64;
        for r in &replies {
            assert!(
                r.status == 204 || r.status == 409,
                "an unlock answered {} {}",
                r.status,
                r.body
            );
        }
        assert!(done >= 1, "no unlock succeeded");
        // Every acknowledged change advanced the epoch exactly once: none lost, none doubled.
        assert_eq!(stored_epoch(&app, "racer"), start + done);
        assert_refused(&probe(&app, &me, &before).await);
        assert_refused(&probe(&other, &me, &before).await);
        let after = issue(&other, &me, SEEDED_PASSWORD).await;
        assert_accepted(&probe(&app, &me, &after).await);
        assert_accepted(&probe(&other, &me, &after).await);
    }
);
