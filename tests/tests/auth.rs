//! Who is calling (issue 3): bearer-JWT attacks, X-Tokens, datarooms, SelfAdmin, the principal
//! API, applications, roles and authorizations — each case its own test, on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use idm_tests::{
    dual_test, json, Backend, Reply, TestApp, CORE, PRINCIPAL, SEEDED_PASSWORD, XTOKEN_SECRET,
};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Helpers

const ISSUER: &str = "https://issuer.idm.test";
const AUDIENCE: &str = "idm-tests";
const PROTECTED: &str = "/nevisidm/api/core/v1/clients/Default";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Valid claims for the bootstrapped admin on an RS/ES-configured server.
fn claims() -> Value {
    json!({
        "sub": "admin",
        "clientExtId": "Default",
        "iat": now(),
        "exp": now() + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
    })
}

fn sign_rs(claims: &Value, key_file: &str) -> String {
    encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(&pem(key_file)).unwrap(),
    )
    .unwrap()
}

fn sign_es(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::ES256),
        claims,
        &EncodingKey::from_ec_pem(&pem("ec_private.pem")).unwrap(),
    )
    .unwrap()
}

fn sign_hs(claims: &Value, secret: &[u8]) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// A server that accepts only RS256/ES256 bearer tokens (no HS256 key) and enforces `iss` and
/// `aud`.
async fn rs_app(backend: Backend) -> Option<TestApp> {
    idm_tests::spawn_with(backend, |s| {
        s.auth.hs256_secret = None;
        s.auth.public_key_files = vec![fixture("rsa_public.pem"), fixture("ec_public.pem")];
        s.auth.issuer = Some(ISSUER.into());
        s.auth.audience = Some(AUDIENCE.into());
    })
    .await
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> Reply {
    app.send(app.req_as(token, Method::GET, path)).await
}

async fn post_as(app: &TestApp, token: &str, path: &str, body: Value) -> Reply {
    app.send(app.req_as(token, Method::POST, path).json(&body))
        .await
}

/// Asserts the bearer challenge of a rejected token.
#[track_caller]
fn assert_unauthenticated(r: &Reply) {
    assert_eq!(r.status, 401, "body: {}", r.body);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer")),
        "WWW-Authenticate: {:?}",
        r.header("www-authenticate")
    );
    assert_eq!(r.code(), "errors.invalidJWTToken", "body: {}", r.body);
}

async fn rejected(app: &TestApp, token: &str) {
    assert_unauthenticated(&get_as(app, token, PROTECTED).await);
}

fn password_path(client: &str, user: &str) -> String {
    format!("{CORE}/{client}/users/{user}/password")
}

async fn set_password(
    app: &TestApp,
    token: &str,
    client: &str,
    user: &str,
    xtoken: Option<&str>,
    password: &str,
) -> Reply {
    let mut rb = app
        .req_as(token, Method::POST, &password_path(client, user))
        .json(&json!({ "password": password }));
    if let Some(x) = xtoken {
        rb = rb.header("X-Token", x);
    }
    app.send(rb).await
}

fn xtoken_claims(sub: &str, exp: i64) -> Value {
    json!({"sub": sub, "cli": "Default", "exp": exp, "iat": now() - 10})
}

#[track_caller]
fn assert_invalid_xtoken(r: &Reply) {
    r.assert_error(422, "errors.invalidJWTToken", "Invalid JWT token.");
}

fn missing_right(right: &str) -> String {
    format!(
        "Permission denied: Caller does not have the required right 'AccessControl.{right}' to perform this action"
    )
}

fn permissions_of(r: &Reply) -> Vec<String> {
    r.body["elementaryPermissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Bearer JWT: positive controls and the attack matrix (RS/ES-only server)

dual_test!(
    an_rs256_token_signed_with_the_configured_key_is_accepted,
    setup = rs_app,
    |app: TestApp| {
        let r = get_as(&app, &sign_rs(&claims(), "rsa_private.pem"), PROTECTED).await;
        assert_eq!(r.status, 200, "body: {}", r.body);
        assert_eq!(r.body["extId"], "Default");
    }
);

dual_test!(
    an_es256_token_signed_with_the_configured_key_is_accepted,
    setup = rs_app,
    |app: TestApp| {
        let r = get_as(&app, &sign_es(&claims()), PROTECTED).await;
        assert_eq!(r.status, 200, "body: {}", r.body);
    }
);

dual_test!(
    a_request_without_bearer_token_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let r = app.send(app.http.get(app.url(PROTECTED))).await;
        assert_unauthenticated(&r);
    }
);

dual_test!(
    a_token_with_alg_none_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let valid = sign_rs(&claims(), "rsa_private.pem");
        let payload = valid.split('.').nth(1).unwrap();
        // base64url of {"alg":"none","typ":"JWT"}
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        rejected(&app, &format!("{header}.{payload}.")).await;
        rejected(&app, &format!("{header}.{payload}")).await;
    }
);

dual_test!(
    an_hs256_token_signed_with_the_rsa_public_key_returns_401_where_only_rs_is_configured,
    setup = rs_app,
    |app: TestApp| {
        // The classic algorithm-confusion attack: the public key used as an HMAC secret.
        rejected(&app, &sign_hs(&claims(), &pem("rsa_public.pem"))).await;
        rejected(
            &app,
            &sign_hs(&claims(), idm_tests::BEARER_SECRET.as_bytes()),
        )
        .await;
    }
);

dual_test!(
    an_expired_token_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let mut c = claims();
        c["exp"] = json!(now() - 3600);
        c["iat"] = json!(now() - 7200);
        rejected(&app, &sign_rs(&c, "rsa_private.pem")).await;
    }
);

dual_test!(
    a_token_without_exp_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let mut c = claims();
        c.as_object_mut().unwrap().remove("exp");
        rejected(&app, &sign_rs(&c, "rsa_private.pem")).await;
    }
);

dual_test!(
    a_token_whose_nbf_lies_in_the_future_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let mut c = claims();
        c["nbf"] = json!(now() + 3600);
        rejected(&app, &sign_rs(&c, "rsa_private.pem")).await;
    }
);

dual_test!(
    a_token_with_the_wrong_issuer_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let mut c = claims();
        c["iss"] = json!("https://evil.example");
        rejected(&app, &sign_rs(&c, "rsa_private.pem")).await;
        c.as_object_mut().unwrap().remove("iss");
        rejected(&app, &sign_rs(&c, "rsa_private.pem")).await;
    }
);

dual_test!(
    a_token_with_the_wrong_audience_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let mut c = claims();
        c["aud"] = json!("someone-else");
        rejected(&app, &sign_rs(&c, "rsa_private.pem")).await;
        c.as_object_mut().unwrap().remove("aud");
        rejected(&app, &sign_rs(&c, "rsa_private.pem")).await;
    }
);

dual_test!(
    a_token_signed_with_another_key_returns_401,
    setup = rs_app,
    |app: TestApp| {
        rejected(&app, &sign_rs(&claims(), "rsa_other_private.pem")).await;
    }
);

dual_test!(
    a_token_with_a_tampered_payload_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let mut c = claims();
        c["sub"] = json!("nobody");
        let signed_for_nobody = sign_rs(&c, "rsa_private.pem");
        let admin = sign_rs(&claims(), "rsa_private.pem");
        let parts: Vec<&str> = signed_for_nobody.split('.').collect();
        let admin_payload = admin.split('.').nth(1).unwrap();
        rejected(
            &app,
            &format!("{}.{}.{}", parts[0], admin_payload, parts[2]),
        )
        .await;
    }
);

dual_test!(
    a_token_without_sub_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let mut c = claims();
        c.as_object_mut().unwrap().remove("sub");
        rejected(&app, &sign_rs(&c, "rsa_private.pem")).await;
    }
);

dual_test!(
    a_token_without_client_ext_id_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let mut c = claims();
        c.as_object_mut().unwrap().remove("clientExtId");
        rejected(&app, &sign_rs(&c, "rsa_private.pem")).await;
    }
);

dual_test!(
    a_token_for_an_unknown_user_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let mut c = claims();
        c["sub"] = json!("ghost");
        rejected(&app, &sign_rs(&c, "rsa_private.pem")).await;
        let mut c = claims();
        c["clientExtId"] = json!("NoSuchClient");
        rejected(&app, &sign_rs(&c, "rsa_private.pem")).await;
    }
);

dual_test!(
    a_token_for_a_disabled_user_returns_401,
    setup = rs_app,
    |app: TestApp| {
        let token = sign_rs(&claims(), "rsa_private.pem");
        assert_eq!(get_as(&app, &token, PROTECTED).await.status, 200);
        app.sql("UPDATE users SET state = 'disabled' WHERE ext_id = 'admin'");
        rejected(&app, &token).await;
    }
);

dual_test!(
    a_token_for_an_archived_user_returns_401,
    setup = rs_app,
    |app: TestApp| {
        app.sql("UPDATE users SET state = 'archived' WHERE ext_id = 'admin'");
        rejected(&app, &sign_rs(&claims(), "rsa_private.pem")).await;
    }
);

dual_test!(
    garbage_in_the_authorization_header_returns_401,
    setup = rs_app,
    |app: TestApp| {
        rejected(&app, "not.a.jwt").await;
        rejected(&app, "").await;
    }
);

// ---------------------------------------------------------------------------------------------
// X-Token on the self-admin password route

dual_test!(
    a_self_admin_setting_his_password_without_x_token_gets_422_invalid_jwt,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        let r = set_password(&app, &me.token, "Default", "self1", None, "New-Passw0rd").await;
        assert_invalid_xtoken(&r);
    }
);

dual_test!(
    a_self_admin_with_an_expired_x_token_gets_422_invalid_jwt,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        let x = sign_hs(
            &xtoken_claims("self1", now() - 60),
            XTOKEN_SECRET.as_bytes(),
        );
        let r = set_password(
            &app,
            &me.token,
            "Default",
            "self1",
            Some(&x),
            "New-Passw0rd",
        )
        .await;
        assert_invalid_xtoken(&r);
    }
);

dual_test!(
    a_self_admin_with_an_x_token_signed_by_another_secret_gets_422_invalid_jwt,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        let x = sign_hs(&xtoken_claims("self1", now() + 600), b"some-other-secret");
        let r = set_password(
            &app,
            &me.token,
            "Default",
            "self1",
            Some(&x),
            "New-Passw0rd",
        )
        .await;
        assert_invalid_xtoken(&r);
        // The bearer secret is not the X-Token secret either.
        let x = sign_hs(
            &xtoken_claims("self1", now() + 600),
            idm_tests::BEARER_SECRET.as_bytes(),
        );
        let r = set_password(
            &app,
            &me.token,
            "Default",
            "self1",
            Some(&x),
            "New-Passw0rd",
        )
        .await;
        assert_invalid_xtoken(&r);
    }
);

dual_test!(
    a_self_admin_presenting_another_users_x_token_gets_422_invalid_jwt,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        let other = app
            .seed_user("Default", "self2", &["SelfAdmin"], false, false, None)
            .await;
        let x = app.xtoken_for(&other).await;
        let r = set_password(
            &app,
            &me.token,
            "Default",
            "self1",
            Some(&x),
            "New-Passw0rd",
        )
        .await;
        assert_invalid_xtoken(&r);
    }
);

dual_test!(
    an_x_token_of_a_same_named_user_in_another_client_gets_422_invalid_jwt,
    |app| {
        app.create_client("twins", "Twins").await;
        let here = app
            .seed_user("Default", "twin", &["SelfAdmin"], false, false, None)
            .await;
        let there = app
            .seed_user("twins", "twin", &["SelfAdmin"], false, false, None)
            .await;
        let x = app.xtoken_for(&there).await;
        let r = set_password(
            &app,
            &here.token,
            "Default",
            "twin",
            Some(&x),
            "New-Passw0rd",
        )
        .await;
        assert_invalid_xtoken(&r);
        // Its own client's X-Token passes: the answer is about the password (one exists
        // already), no longer about the token.
        let x = app.xtoken_for(&here).await;
        let r = set_password(
            &app,
            &here.token,
            "Default",
            "twin",
            Some(&x),
            "New-Passw0rd",
        )
        .await;
        assert_eq!(r.code(), "errors.passwordExists", "{}", r.body);
    }
);

dual_test!(
    a_self_admin_presenting_a_garbage_x_token_gets_422_invalid_jwt,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        for garbage in ["garbage", "a.b.c", ""] {
            let r = set_password(
                &app,
                &me.token,
                "Default",
                "self1",
                Some(garbage),
                "New-Passw0rd",
            )
            .await;
            assert_invalid_xtoken(&r);
        }
    }
);

dual_test!(
    a_fresh_x_token_from_principal_token_lets_a_self_admin_replace_his_password,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        let r = post_as(
            &app,
            &me.token,
            &format!("{PRINCIPAL}/token"),
            json!({"username": "self1", "password": SEEDED_PASSWORD, "grant_type": "password"}),
        )
        .await;
        assert_eq!(r.status, 200, "body: {}", r.body);
        let x = r.body["access_token"].as_str().unwrap().to_owned();
        // One password per user: a second one is refused; the self-admin deletes the old one
        // (X-Token again) and creates the new one.
        let r = set_password(
            &app,
            &me.token,
            "Default",
            "self1",
            Some(&x),
            "New-Passw0rd",
        )
        .await;
        r.assert_error(
            422,
            "errors.passwordExists",
            "User with extId 'self1' already has a Password credential",
        );
        let del = app
            .req_as(
                &me.token,
                Method::DELETE,
                &password_path("Default", "self1"),
            )
            .header("X-Token", &x);
        assert_eq!(app.send(del).await.status, 204);
        let r = set_password(
            &app,
            &me.token,
            "Default",
            "self1",
            Some(&x),
            "New-Passw0rd",
        )
        .await;
        assert_eq!(r.status, 201, "body: {}", r.body);
        assert_eq!(r.location(), password_path("Default", "self1"));
        assert_eq!(
            r.body,
            Value::Null,
            "nothing, least of all a hash, is returned"
        );
        // The new password is the one that now confirms the user.
        let token_path = format!("{PRINCIPAL}/token");
        let old =
            json!({"username": "self1", "password": SEEDED_PASSWORD, "grant_type": "password"});
        let new =
            json!({"username": "self1", "password": "New-Passw0rd", "grant_type": "password"});
        assert_eq!(post_as(&app, &me.token, &token_path, old).await.status, 422);
        assert_eq!(post_as(&app, &me.token, &token_path, new).await.status, 200);
    }
);

// ---------------------------------------------------------------------------------------------
// Password credential

dual_test!(
    an_admin_replaces_another_users_password_without_x_token_and_gets_201,
    |app| {
        let u = app
            .seed_user("Default", "u1", &["SelfAdmin"], false, false, None)
            .await;
        assert_eq!(
            app.delete(&password_path("Default", "u1")).await.status,
            204
        );
        let r = set_password(&app, &app.admin_token, "Default", "u1", None, "Brand-New-1").await;
        assert_eq!(r.status, 201, "body: {}", r.body);
        assert_eq!(
            r.body,
            Value::Null,
            "nothing, least of all a hash, is returned"
        );
        // The new password is in force: it confirms the user, the old one no longer does.
        let token_path = format!("{PRINCIPAL}/token");
        let new = json!({"username": "u1", "password": "Brand-New-1", "grant_type": "password"});
        let old = json!({"username": "u1", "password": SEEDED_PASSWORD, "grant_type": "password"});
        assert_eq!(post_as(&app, &u.token, &token_path, new).await.status, 200);
        assert_eq!(post_as(&app, &u.token, &token_path, old).await.status, 422);
    }
);

dual_test!(
    a_password_violating_the_policy_returns_422_pwd_policy_violated_with_violations,
    |app| {
        app.seed_user("Default", "u1", &[], false, false, None)
            .await;
        let r = set_password(&app, &app.admin_token, "Default", "u1", None, "short").await;
        assert_eq!(r.status, 422, "body: {}", r.body);
        assert_eq!(r.code(), "errors.pwdPolicyViolated");
        let violations = r.body["policyViolations"].as_array().unwrap();
        assert!(!violations.is_empty(), "body: {}", r.body);
        assert!(
            !r.body.to_string().contains("\"short\""),
            "the password is never echoed: {}",
            r.body
        );
    }
);

dual_test!(
    a_password_body_without_password_returns_422_naming_it,
    |app| {
        app.seed_user("Default", "u1", &[], false, false, None)
            .await;
        let r = app.post(&password_path("Default", "u1"), json!({})).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: password",
        );
    }
);

dual_test!(setting_the_password_of_an_unknown_user_returns_404, |app| {
    let r = app
        .post(
            &password_path("Default", "nobody"),
            json!({"password": "Brand-New-1"}),
        )
        .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "A user with extId 'nobody' doesn't exist on client with name Default",
    );
});

// ---------------------------------------------------------------------------------------------
// Rights and datarooms

dual_test!(
    a_user_admin_of_client_a_gets_combined_dataroom_denied_on_client_b,
    |app| {
        app.create_client("B", "ClientB").await;
        let ua = app
            .seed_user("Default", "ua", &["UserAdmin"], false, true, None)
            .await;
        app.seed_user("B", "bob", &["SelfAdmin"], false, false, None)
            .await;
        // Control: the same caller reaches its own client.
        assert_eq!(get_as(&app, &ua.token, PROTECTED).await.status, 200);
        let r = get_as(&app, &ua.token, &format!("{CORE}/clients/B")).await;
        r.assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.ClientView",
        );
        let r = get_as(
            &app,
            &ua.token,
            &format!("{CORE}/B/profiles/bob-profile/authorizations"),
        )
        .await;
        r.assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.AuthorizationView",
        );
        let r = set_password(&app, &ua.token, "B", "bob", None, "Brand-New-1").await;
        r.assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.CredentialCreate",
        );
    }
);

dual_test!(
    a_unit_local_user_admin_is_dataroom_denied_outside_his_unit_subtree,
    |app| {
        // Without unitGlobal the client itself (a client-level object) is outside the room.
        let ua = app
            .seed_user("Default", "ua", &["UserAdmin"], false, false, None)
            .await;
        let r = get_as(&app, &ua.token, PROTECTED).await;
        r.assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.ClientView",
        );
    }
);

dual_test!(a_caller_missing_a_right_gets_403_naming_that_right, |app| {
    let ua = app
        .seed_user("Default", "ua", &["UserAdmin"], false, true, None)
        .await;
    let r = post_as(
        &app,
        &ua.token,
        &format!("{CORE}/applications"),
        json!({"name": "App", "displayed": true}),
    )
    .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        &missing_right("ApplicationCreate"),
    );
    let hd = app
        .seed_user("Default", "hd", &["Helpdesk"], false, true, None)
        .await;
    let r = set_password(&app, &hd.token, "Default", "ua", None, "Brand-New-1").await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        &missing_right("CredentialCreate"),
    );
    let r = app
        .send(app.req_as(
            &hd.token,
            Method::DELETE,
            &format!("{CORE}/Default/profiles/ua-profile/authorizations/ua-UserAdmin"),
        ))
        .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        &missing_right("AuthorizationDelete"),
    );
});

dual_test!(
    a_caller_without_any_authorization_gets_403_and_learns_nothing_about_existence,
    |app| {
        let nobody = app
            .seed_user("Default", "plain", &[], false, false, None)
            .await;
        let r = get_as(
            &app,
            &nobody.token,
            &format!("{CORE}/NoSuchClient/profiles/none/authorizations"),
        )
        .await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            &missing_right("AuthorizationView"),
        );
    }
);

dual_test!(
    a_self_admin_reaches_his_own_authorizations_but_not_another_users,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        app.seed_user("Default", "self2", &["SelfAdmin"], false, false, None)
            .await;
        let r = get_as(
            &app,
            &me.token,
            &format!("{CORE}/Default/profiles/self1-profile/authorizations"),
        )
        .await;
        assert_eq!(r.status, 200, "body: {}", r.body);
        assert_eq!(r.body["items"][0]["roleExtId"], "nevisIdm.SelfAdmin");
        let r = get_as(
            &app,
            &me.token,
            &format!("{CORE}/Default/profiles/self1-profile/authorizations/self1-SelfAdmin"),
        )
        .await;
        assert_eq!(r.status, 200, "body: {}", r.body);
        let r = get_as(
            &app,
            &me.token,
            &format!("{CORE}/Default/profiles/self2-profile/authorizations"),
        )
        .await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            &missing_right("AuthorizationView"),
        );
    }
);

dual_test!(
    a_self_admin_cannot_set_another_users_password_even_with_his_x_token,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        app.seed_user("Default", "self2", &["SelfAdmin"], false, false, None)
            .await;
        let x = app.xtoken_for(&me).await;
        let r = set_password(&app, &me.token, "Default", "self2", Some(&x), "Brand-New-1").await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            &missing_right("CredentialCreate"),
        );
    }
);

// ---------------------------------------------------------------------------------------------
// Principal API

dual_test!(
    principal_token_returns_a_bearer_x_token_with_no_store_headers,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        let r = post_as(
            &app,
            &me.token,
            &format!("{PRINCIPAL}/token"),
            json!({"username": "self1", "password": SEEDED_PASSWORD, "grant_type": "password"}),
        )
        .await;
        assert_eq!(r.status, 200, "body: {}", r.body);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.header("pragma"), Some("no-cache"));
        assert_eq!(r.body["token_type"], "bearer");
        assert_eq!(r.body["expires_in"], 3600);
        let token = r.body["access_token"].as_str().unwrap();
        assert_eq!(token.split('.').count(), 3);
    }
);

dual_test!(
    principal_token_with_a_wrong_password_returns_422_user_login_failed,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        let r = post_as(
            &app,
            &me.token,
            &format!("{PRINCIPAL}/token"),
            json!({"username": "self1", "password": "wrong-Passw0rd", "grant_type": "password"}),
        )
        .await;
        assert_eq!(r.status, 422, "body: {}", r.body);
        assert_eq!(r.code(), "errors.userLoginFailed");
    }
);

dual_test!(
    principal_token_with_another_users_login_returns_422_user_login_failed,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        app.seed_user("Default", "self2", &["SelfAdmin"], false, false, None)
            .await;
        // self2's correct password, but self1 is calling.
        let r = post_as(
            &app,
            &me.token,
            &format!("{PRINCIPAL}/token"),
            json!({"username": "self2", "password": SEEDED_PASSWORD, "grant_type": "password"}),
        )
        .await;
        assert_eq!(r.status, 422, "body: {}", r.body);
        assert_eq!(r.code(), "errors.userLoginFailed");
        let r = post_as(
            &app,
            &me.token,
            &format!("{PRINCIPAL}/token"),
            json!({"username": "self1", "password": SEEDED_PASSWORD, "grant_type": "client_credentials"}),
        )
        .await;
        assert_eq!(r.code(), "errors.userLoginFailed");
    }
);

dual_test!(
    principal_token_with_missing_fields_returns_422_invalid_parameter,
    |app| {
        let r = app
            .post(&format!("{PRINCIPAL}/token"), json!({"username": "admin"}))
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: password, grant_type",
        );
    }
);

dual_test!(principal_token_without_self_admin_role_returns_403, |app| {
    let ua = app
        .seed_user("Default", "ua", &["UserAdmin"], false, true, None)
        .await;
    let r = post_as(
        &app,
        &ua.token,
        &format!("{PRINCIPAL}/token"),
        json!({"username": "ua", "password": SEEDED_PASSWORD, "grant_type": "password"}),
    )
    .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        &missing_right("SelfAdmin"),
    );
});

dual_test!(
    principal_me_describes_the_caller_and_its_login_profile,
    |app| {
        let r = app.get(&format!("{PRINCIPAL}/me")).await;
        assert_eq!(r.status, 200, "body: {}", r.body);
        assert_eq!(r.body["userExtId"], "admin");
        assert_eq!(r.body["loginId"], "admin");
        assert_eq!(r.body["clientExtId"], "Default");
        assert_eq!(r.body["clientName"], "Default");
        assert_eq!(r.body["unitExtId"], "Default-root");
        assert!(r.body["profileExtId"].is_string(), "body: {}", r.body);
        // A caller without any right may read itself too.
        let plain = app
            .seed_user("Default", "plain", &[], false, false, None)
            .await;
        let r = get_as(&app, &plain.token, &format!("{PRINCIPAL}/me")).await;
        assert_eq!(r.status, 200, "body: {}", r.body);
        assert_eq!(r.body["userExtId"], "plain");
        assert_eq!(r.body["profileExtId"], "plain-profile");
    }
);

dual_test!(
    principal_permissions_lists_the_callers_elementary_rights_sorted,
    |app| {
        let me = app
            .seed_user("Default", "self1", &["SelfAdmin"], false, false, None)
            .await;
        let r = get_as(&app, &me.token, &format!("{PRINCIPAL}/permissions")).await;
        assert_eq!(r.status, 200, "body: {}", r.body);
        assert_eq!(permissions_of(&r), vec!["AccessControl.SelfAdmin"]);
        let ua = app
            .seed_user(
                "Default",
                "ua",
                &["UserAdmin", "SelfAdmin"],
                false,
                true,
                None,
            )
            .await;
        let perms =
            permissions_of(&get_as(&app, &ua.token, &format!("{PRINCIPAL}/permissions")).await);
        let mut sorted = perms.clone();
        sorted.sort();
        assert_eq!(perms, sorted);
        assert!(perms.contains(&"AccessControl.UserCreate".to_owned()));
        assert!(perms.contains(&"AccessControl.SelfAdmin".to_owned()));
        assert!(!perms.contains(&"AccessControl.ClientCreate".to_owned()));
        let plain = app
            .seed_user("Default", "plain", &[], false, false, None)
            .await;
        let r = get_as(&app, &plain.token, &format!("{PRINCIPAL}/permissions")).await;
        assert_eq!(r.body, json!({"elementaryPermissions": []}));
    }
);

// ---------------------------------------------------------------------------------------------
// Applications and roles

dual_test!(
    creating_an_application_returns_201_and_it_can_be_read,
    |app| {
        let r = app
            .post(
                &format!("{CORE}/applications"),
                json!({"extId": "app-1", "name": "MyApplication", "description": "d",
                   "url": "https://example.com", "displayed": true,
                   "displayName": {"EN": "My app"}}),
            )
            .await;
        assert_eq!(r.status, 201, "body: {}", r.body);
        assert_eq!(r.location(), format!("{CORE}/applications/app-1"));
        let r = app.get(&format!("{CORE}/applications/app-1")).await;
        assert_eq!(r.status, 200, "body: {}", r.body);
        assert_eq!(r.header("etag"), Some("\"1\""));
        for (k, v) in [
            ("extId", json!("app-1")),
            ("name", json!("MyApplication")),
            ("description", json!("d")),
            ("url", json!("https://example.com")),
            ("displayed", json!(true)),
            ("displayName", json!({"EN": "My app"})),
            ("version", json!(1)),
        ] {
            assert_eq!(r.body[k], v, "{k}: {}", r.body);
        }
        assert!(r.body["created"].as_str().unwrap().ends_with('Z'));
        let r = app.get(&format!("{CORE}/applications")).await;
        assert_eq!(r.status, 200);
        let names: Vec<&str> = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["nevisIdm", "MyApplication"]);
    }
);

dual_test!(application_list_pages_with_a_continuation_token, |app| {
    for i in 0..3 {
        let r = app
            .post(
                &format!("{CORE}/applications"),
                json!({"name": format!("App{i}"), "displayed": false}),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let r = app.get(&format!("{CORE}/applications?limit=2")).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    let token = r.body["_pagination"]["continuationToken"].as_str().unwrap();
    let r = app
        .get(&format!(
            "{CORE}/applications?limit=2&continuationToken={token}"
        ))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert!(r.body["_pagination"]["continuationToken"].is_null());
});

dual_test!(
    a_duplicate_application_name_returns_422_duplicate_name,
    |app| {
        let body = json!({"name": "Twice", "displayed": true});
        assert_eq!(
            app.post(&format!("{CORE}/applications"), body.clone())
                .await
                .status,
            201
        );
        let r = app.post(&format!("{CORE}/applications"), body).await;
        assert_eq!(r.status, 422, "body: {}", r.body);
        assert_eq!(r.code(), "errors.duplicateName");
    }
);

dual_test!(
    an_application_name_violating_the_identifier_policy_returns_422,
    |app| {
        let r = app
            .post(
                &format!("{CORE}/applications"),
                json!({"name": "bad<name>", "displayed": true}),
            )
            .await;
        r.assert_error(
            422,
            "errors.identifierPolicyViolated",
            "ch.nevis.idm.policy.PolicyViolation: Policy failed:\nch.nevis.idm.policy.element.PolicyElementViolation<element=Regex policy violation limit=129, actualValue=9>",
        );
        assert_eq!(r.body["policyViolations"][0]["suppliedValue"], "bad<name>");
    }
);

dual_test!(
    an_application_without_name_or_displayed_returns_422_naming_them,
    |app| {
        let r = app
            .post(&format!("{CORE}/applications"), json!({"description": "x"}))
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: name, displayed",
        );
        let r = app
            .post(
                &format!("{CORE}/applications"),
                json!({"name": "A", "displayed": "yes"}),
            )
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: displayed",
        );
    }
);

dual_test!(reading_an_unknown_application_returns_404, |app| {
    let r = app.get(&format!("{CORE}/applications/nope")).await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Application doesn't exist with extId 'nope'",
    );
});

dual_test!(
    roles_are_created_and_listed_per_application_with_unique_names,
    |app| {
        for (ext, name) in [("a1", "First"), ("a2", "Second")] {
            let r = app
                .post(
                    &format!("{CORE}/applications"),
                    json!({"extId": ext, "name": name, "displayed": false}),
                )
                .await;
            assert_eq!(r.status, 201);
        }
        let r = app
            .post(
                &format!("{CORE}/applications/a1/roles"),
                json!({"extId": "r1", "name": "reader", "description": "reads"}),
            )
            .await;
        assert_eq!(r.status, 201, "body: {}", r.body);
        assert_eq!(r.location(), format!("{CORE}/applications/a1/roles/r1"));
        let r = app
            .post(
                &format!("{CORE}/applications/a1/roles"),
                json!({"name": "reader"}),
            )
            .await;
        assert_eq!(r.status, 422, "body: {}", r.body);
        assert_eq!(r.code(), "errors.duplicateName");
        // The same name in another application is fine.
        let r = app
            .post(
                &format!("{CORE}/applications/a2/roles"),
                json!({"name": "reader"}),
            )
            .await;
        assert_eq!(r.status, 201, "body: {}", r.body);
        let r = app.get(&format!("{CORE}/applications/a1/roles")).await;
        assert_eq!(r.status, 200);
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["extId"], "r1");
        assert_eq!(items[0]["applicationExtId"], "a1");
        assert_eq!(items[0]["applicationName"], "First");
        assert_eq!(items[0]["name"], "reader");
        assert_eq!(items[0]["description"], "reads");
        let r = app
            .get(&format!("{CORE}/applications/nevisIdm/roles"))
            .await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 5);
        let r = app
            .post(
                &format!("{CORE}/applications/none/roles"),
                json!({"name": "x"}),
            )
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Application doesn't exist with extId 'none'",
        );
    }
);

dual_test!(a_role_without_name_returns_422_naming_it, |app| {
    let r = app
        .post(
            &format!("{CORE}/applications/nevisIdm/roles"),
            json!({"name": " "}),
        )
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: name",
    );
});

// ---------------------------------------------------------------------------------------------
// Authorizations

fn auth_path(profile: &str) -> String {
    format!("{CORE}/Default/profiles/{profile}/authorizations")
}

dual_test!(
    granting_a_role_returns_201_and_the_grantee_gains_its_rights,
    |app| {
        let u = app
            .seed_user("Default", "u1", &["SelfAdmin"], false, false, None)
            .await;
        let r = app
            .post(
                &auth_path("u1-profile"),
                json!({"extId": "g1", "roleExtId": "nevisIdm.UserAdmin", "unitGlobal": true,
                       "validity": {"from": "2024-01-01T00:00:00Z"}}),
            )
            .await;
        assert_eq!(r.status, 201, "body: {}", r.body);
        assert_eq!(r.location(), format!("{}/g1", auth_path("u1-profile")));
        let r = app.get(&format!("{}/g1", auth_path("u1-profile"))).await;
        assert_eq!(r.status, 200, "body: {}", r.body);
        assert_eq!(r.body["roleExtId"], "nevisIdm.UserAdmin");
        assert_eq!(r.body["unitGlobal"], true);
        assert_eq!(r.body["clientGlobal"], false);
        assert_eq!(r.body["appGlobal"], false);
        assert_eq!(r.body["enterpriseRoleGlobal"], false);
        assert_eq!(r.body["validity"]["from"], "2024-01-01T00:00:00Z");
        let perms =
            permissions_of(&get_as(&app, &u.token, &format!("{PRINCIPAL}/permissions")).await);
        assert!(
            perms.contains(&"AccessControl.UserCreate".to_owned()),
            "{perms:?}"
        );
        let r = app.get(&auth_path("u1-profile")).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    }
);

dual_test!(
    revoking_an_authorization_returns_204_and_removes_its_rights,
    |app| {
        let u = app
            .seed_user(
                "Default",
                "u1",
                &["SelfAdmin", "UserAdmin"],
                false,
                true,
                None,
            )
            .await;
        let r = app
            .delete(&format!("{}/u1-UserAdmin", auth_path("u1-profile")))
            .await;
        assert_eq!(r.status, 204, "body: {}", r.body);
        let r = app
            .get(&format!("{}/u1-UserAdmin", auth_path("u1-profile")))
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Authorization doesn't exist with extId 'u1-UserAdmin'",
        );
        let perms =
            permissions_of(&get_as(&app, &u.token, &format!("{PRINCIPAL}/permissions")).await);
        assert_eq!(perms, vec!["AccessControl.SelfAdmin"]);
        let r = app
            .delete(&format!("{}/u1-UserAdmin", auth_path("u1-profile")))
            .await;
        assert_eq!(r.status, 404);
    }
);

dual_test!(
    granting_the_same_role_twice_returns_422_duplicate_value,
    |app| {
        app.seed_user("Default", "u1", &["SelfAdmin"], false, false, None)
            .await;
        let r = app
            .post(
                &auth_path("u1-profile"),
                json!({"roleExtId": "nevisIdm.SelfAdmin"}),
            )
            .await;
        assert_eq!(r.status, 422, "body: {}", r.body);
        assert_eq!(r.code(), "errors.duplicateValue");
    }
);

dual_test!(
    granting_a_missing_role_or_on_a_missing_profile_returns_404,
    |app| {
        app.seed_user("Default", "u1", &[], false, false, None)
            .await;
        let r = app
            .post(&auth_path("u1-profile"), json!({"roleExtId": "no-role"}))
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Role doesn't exist with extId 'no-role'",
        );
        let r = app
            .post(
                &auth_path("no-profile"),
                json!({"roleExtId": "nevisIdm.Helpdesk"}),
            )
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Profile doesn't exist with extId 'no-profile'",
        );
        let r = app.get(&auth_path("no-profile")).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Profile doesn't exist with extId 'no-profile'",
        );
    }
);

dual_test!(an_authorization_without_role_ext_id_returns_422, |app| {
    app.seed_user("Default", "u1", &[], false, false, None)
        .await;
    let r = app
        .post(&auth_path("u1-profile"), json!({"unitGlobal": true}))
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: roleExtId",
    );
    let r = app
        .post(
            &auth_path("u1-profile"),
            json!({"roleExtId": "nevisIdm.Helpdesk",
                   "validity": {"from": "2025-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(r.status, 422, "body: {}", r.body);
    assert_eq!(r.code(), "errors.invalidDateInterval");
});

dual_test!(
    granting_a_role_with_rights_the_caller_lacks_returns_403_potential_privilege_escalation,
    |app| {
        let ua = app
            .seed_user("Default", "ua", &["UserAdmin"], false, true, None)
            .await;
        app.seed_user("Default", "t1", &[], false, false, None)
            .await;
        let r = post_as(
            &app,
            &ua.token,
            &auth_path("t1-profile"),
            json!({"roleExtId": "nevisIdm.Root"}),
        )
        .await;
        assert_eq!(r.status, 403, "body: {}", r.body);
        assert_eq!(r.code(), "errors.potentialPrivilegeEscalation");
        // A wider dataroom than the caller's own is an escalation too.
        let r = post_as(
            &app,
            &ua.token,
            &auth_path("t1-profile"),
            json!({"roleExtId": "nevisIdm.Helpdesk", "clientGlobal": true}),
        )
        .await;
        assert_eq!(r.status, 403, "body: {}", r.body);
        assert_eq!(r.code(), "errors.potentialPrivilegeEscalation");
        // Control: a subset of the caller's rights in the caller's dataroom is fine, and so is
        // SelfAdmin (it only reaches the grantee's own data).
        for role in [
            "nevisIdm.Helpdesk",
            "nevisIdm.SelfAdmin",
            "nevisIdm.UserAdmin",
        ] {
            let r = post_as(
                &app,
                &ua.token,
                &auth_path("t1-profile"),
                json!({"roleExtId": role, "unitGlobal": true}),
            )
            .await;
            assert_eq!(r.status, 201, "{role}: {}", r.body);
        }
    }
);

// ---------------------------------------------------------------------------------------------
// Documentation

/// The committed roles → rights table must equal the one the server enforces.
#[test]
fn docs_roles_md_equals_the_generated_rights_table() {
    let expected = format!(
        "# Built-in roles and their rights\n\n\
         Generated from `idm_domain::roles::rights_table_markdown()`; a test in \
         `tests/tests/auth.rs` fails when this file and the enforced table differ \
         (regenerate with `IDM_BLESS=1 cargo test -p idm-tests --test auth docs_roles_md`).\n\n\
         Roles belong to the built-in application `nevisIdm`. A caller's rights are the union of \
         the rights of the roles on its active profiles; each authorization's `clientGlobal` / \
         `unitGlobal` flags decide the dataroom the rights apply in.\n\n{}",
        idm_domain::roles::rights_table_markdown()
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/roles.md");
    // The hand-written per-route section after the marker is kept as it is.
    const PER_ROUTE: &str = "\n## Rights per route";
    let read = || std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var("IDM_BLESS").as_deref() == Ok("1") {
        let current = read();
        let tail = current.find(PER_ROUTE).map_or("", |i| &current[i..]);
        std::fs::write(&path, format!("{expected}{tail}")).unwrap();
    }
    let committed = read();
    let generated = committed
        .find(PER_ROUTE)
        .map_or(committed.as_str(), |i| &committed[..i]);
    assert!(
        generated == expected,
        "docs/roles.md is out of date; regenerate with IDM_BLESS=1"
    );
}

dual_test!(
    revoking_a_role_with_rights_the_caller_lacks_returns_403_potential_privilege_escalation,
    |app| {
        let ua = app
            .seed_user("Default", "ua", &["UserAdmin"], false, true, None)
            .await;
        app.seed_user("Default", "hd", &["Helpdesk"], false, true, None)
            .await;
        // The bootstrapped administrator's Root grant is out of a user admin's reach.
        let root_grant = format!("{}/admin-profile-root", auth_path("admin-profile"));
        assert_eq!(app.get(&root_grant).await.status, 200);
        let r = app
            .send(app.req_as(&ua.token, Method::DELETE, &root_grant))
            .await;
        assert_eq!(r.status, 403, "body: {}", r.body);
        assert_eq!(r.code(), "errors.potentialPrivilegeEscalation");
        assert_eq!(app.get(&root_grant).await.status, 200);
        // Control: a role within the caller's own rights can be revoked.
        let r = app
            .send(app.req_as(
                &ua.token,
                Method::DELETE,
                &format!("{}/hd-Helpdesk", auth_path("hd-profile")),
            ))
            .await;
        assert_eq!(r.status, 204, "body: {}", r.body);
    }
);

dual_test!(a_caller_cannot_revoke_its_own_authorization, |app| {
    let r = app
        .delete(&format!(
            "{CORE}/Default/profiles/admin-profile/authorizations/admin-profile-root"
        ))
        .await;
    r.assert_error(
        422,
        "errors.unsupportedOperation",
        "A caller cannot revoke its own authorizations.",
    );
    assert_eq!(
        app.get(&format!("{CORE}/clients/Default")).await.status,
        200
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_caller_cache_on_a_revocation_through_the_api_takes_effect_at_once() {
    for backend in [idm_tests::Backend::Sqlite, idm_tests::Backend::Postgres] {
        let Some(app) =
            idm_tests::spawn_with(backend, |s| s.auth.caller_cache_ttl_ms = 60_000).await
        else {
            continue;
        };
        let u = app
            .seed_user("Default", "cached-admin", &["UserAdmin"], true, true, None)
            .await;
        let path = format!("{CORE}/clients/Default");
        assert_eq!(
            app.send(app.req_as(&u.token, Method::GET, &path))
                .await
                .status,
            200
        );
        // Cached now; the revocation is a write through this instance, which forgets callers.
        let r = app
            .delete(&format!(
                "{CORE}/Default/profiles/{}/authorizations/cached-admin-UserAdmin",
                u.profile_ext_id
            ))
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app.send(app.req_as(&u.token, Method::GET, &path)).await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.ClientView' to perform this action",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Brute-force brakes on principal/token

async fn throttled_app(backend: Backend) -> Option<TestApp> {
    TestApp::builder()
        .backend(backend)
        .settings(|s| {
            s.auth.login_attempts_per_minute_per_account = 3;
            s.auth.login_attempts_per_minute_per_source = 0;
        })
        .start()
        .await
}

dual_test!(
    wrong_passwords_past_the_per_account_allowance_get_429_with_retry_after_and_the_envelope,
    setup = throttled_app,
    |app: TestApp| {
        let me = app
            .seed_user("Default", "guess1", &["SelfAdmin"], false, false, None)
            .await;
        let other = app
            .seed_user("Default", "guess2", &["SelfAdmin"], false, false, None)
            .await;
        let path = format!("{PRINCIPAL}/token");
        let wrong = json!({"username": "guess1", "password": "nope", "grant_type": "password"});
        for _ in 0..3 {
            let r = post_as(&app, &me.token, &path, wrong.clone()).await;
            assert_eq!(r.status, 422, "{}", r.body);
        }
        let r = post_as(&app, &me.token, &path, wrong.clone()).await;
        assert_eq!(r.status, 429, "{}", r.body);
        assert_eq!(r.code(), "errors.reporting.tooManyRequests");
        let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "Retry-After {wait}");
        assert_eq!(
            r.message(),
            format!("Too many attempts, retry after {wait} seconds.")
        );
        // Even the right password is not checked while the account is throttled …
        let right =
            json!({"username": "guess1", "password": SEEDED_PASSWORD, "grant_type": "password"});
        assert_eq!(post_as(&app, &me.token, &path, right).await.status, 429);
        // … and another account is not affected.
        let theirs =
            json!({"username": "guess2", "password": SEEDED_PASSWORD, "grant_type": "password"});
        assert_eq!(post_as(&app, &other.token, &path, theirs).await.status, 200);
    }
);
