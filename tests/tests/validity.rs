//! Validity enforced (issue 15): a user, profile or authorization outside its validity
//! (ended, or starting in the future) grants nothing — an invalid user is an unknown caller
//! (401), an invalid profile or authorization leaves the caller without its rights (403) — and
//! a cached caller does not outlive the end of what it was resolved from.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, TestApp, CORE};
use reqwest::Method;

const TARGET: &str = "/nevisidm/api/core/v1/Default/users/admin";
const NO_USER_VIEW: &str = "Permission denied: Caller does not have the required right 'AccessControl.UserView' to perform this action";

/// A UserAdmin over the whole client (`u1`, profile `u1-profile`, authorization
/// `u1-UserAdmin`); returns its bearer token.
async fn user_admin(app: &TestApp) -> String {
    app.seed_user("Default", "u1", &["UserAdmin"], false, true, None)
        .await
        .token
}

async fn read_target(app: &TestApp, token: &str) -> idm_tests::Reply {
    app.send(app.req_as(token, Method::GET, TARGET)).await
}

fn assert_refused_for_rights(r: &idm_tests::Reply) {
    r.assert_error(403, "errors.insufficientRightsFunction", NO_USER_VIEW);
}

fn assert_unknown_caller(r: &idm_tests::Reply) {
    r.assert_error(401, "errors.invalidJWTToken", "Invalid JWT token.");
}

/// A timestamp literal both backends read as a `TIMESTAMP`, `seconds` from now.
fn at(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .naive_utc()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

dual_test!(
    an_authorization_whose_validity_ended_grants_nothing,
    |app| {
        let token = user_admin(&app).await;
        assert_eq!(read_target(&app, &token).await.status, 200);
        app.sql("UPDATE authorizations SET valid_to = '2001-01-01 00:00:00' WHERE ext_id = 'u1-UserAdmin'");
        assert_refused_for_rights(&read_target(&app, &token).await);
    }
);

dual_test!(
    an_authorization_valid_only_from_a_future_date_grants_nothing_yet,
    |app| {
        let token = user_admin(&app).await;
        app.sql("UPDATE authorizations SET valid_from = '2100-01-01 00:00:00' WHERE ext_id = 'u1-UserAdmin'");
        assert_refused_for_rights(&read_target(&app, &token).await);
    }
);

dual_test!(
    an_authorization_inside_its_validity_grants_its_rights,
    |app| {
        let token = user_admin(&app).await;
        app.sql(
            "UPDATE authorizations SET valid_from = '2001-01-01 00:00:00', \
             valid_to = '2100-01-01 00:00:00' WHERE ext_id = 'u1-UserAdmin'",
        );
        let r = read_target(&app, &token).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["extId"], "admin");
    }
);

dual_test!(
    an_authorization_granted_over_the_api_with_an_ended_validity_grants_nothing,
    |app| {
        let u = app
            .seed_user("Default", "u1", &["SelfAdmin"], false, false, None)
            .await;
        let grants = format!("{CORE}/Default/profiles/u1-profile/authorizations");
        let r = app
            .post(
                &grants,
                json!({"extId": "old", "roleExtId": "nevisIdm.UserAdmin", "unitGlobal": true,
                       "validity": {"from": "2000-01-01T00:00:00Z", "to": "2001-01-01T00:00:00Z"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_refused_for_rights(&read_target(&app, &u.token).await);
        // Replaced over the API by one valid now: that one grants.
        let r = app.delete(&format!("{grants}/old")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app
            .post(
                &grants,
                json!({"extId": "current", "roleExtId": "nevisIdm.UserAdmin", "unitGlobal": true,
                       "validity": {"from": "2001-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(read_target(&app, &u.token).await.status, 200);
    }
);

dual_test!(a_profile_whose_validity_ended_grants_nothing, |app| {
    let token = user_admin(&app).await;
    app.sql("UPDATE profiles SET valid_to = '2001-01-01 00:00:00' WHERE ext_id = 'u1-profile'");
    assert_refused_for_rights(&read_target(&app, &token).await);
});

dual_test!(
    a_profile_valid_only_from_a_future_date_grants_nothing_yet,
    |app| {
        let token = user_admin(&app).await;
        app.sql(
            "UPDATE profiles SET valid_from = '2100-01-01 00:00:00' WHERE ext_id = 'u1-profile'",
        );
        assert_refused_for_rights(&read_target(&app, &token).await);
        app.sql(
            "UPDATE profiles SET valid_from = '2001-01-01 00:00:00' WHERE ext_id = 'u1-profile'",
        );
        assert_eq!(read_target(&app, &token).await.status, 200);
    }
);

dual_test!(
    a_user_whose_validity_ended_is_refused_as_an_unknown_caller,
    |app| {
        let token = user_admin(&app).await;
        app.sql("UPDATE users SET valid_to = '2001-01-01 00:00:00' WHERE ext_id = 'u1'");
        let r = read_target(&app, &token).await;
        assert_unknown_caller(&r);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
);

dual_test!(
    a_user_valid_only_from_a_future_date_is_refused_as_an_unknown_caller,
    |app| {
        let token = user_admin(&app).await;
        app.sql("UPDATE users SET valid_from = '2100-01-01 00:00:00' WHERE ext_id = 'u1'");
        assert_unknown_caller(&read_target(&app, &token).await);
        app.sql(
            "UPDATE users SET valid_from = '2001-01-01 00:00:00', \
             valid_to = '2100-01-01 00:00:00' WHERE ext_id = 'u1'",
        );
        assert_eq!(read_target(&app, &token).await.status, 200);
    }
);

dual_test!(
    a_cached_caller_loses_the_rights_of_an_authorization_when_its_validity_ends,
    setup = |backend| TestApp::builder()
        .backend(backend)
        // A cache far longer than the validity left: the entry must end with the validity.
        .settings(|s| s.auth.caller_cache_ttl_ms = 60_000)
        .start(),
    |app: TestApp| {
        let token = user_admin(&app).await;
        let ends = at(2);
        app.sql(&format!(
            "UPDATE authorizations SET valid_to = '{ends}' WHERE ext_id = 'u1-UserAdmin'"
        ));
        // Resolved (and cached) while the authorization is still valid.
        let r = read_target(&app, &token).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let r = read_target(&app, &token).await;
            if r.status == 403 {
                assert_refused_for_rights(&r);
                break;
            }
            assert_eq!(r.status, 200, "{}", r.body);
            assert!(
                std::time::Instant::now() < deadline,
                "the cached caller kept an authorization that ended at {ends}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // Not before the end (with the test's own clock as the judge).
        assert!(
            chrono::Utc::now()
                .naive_utc()
                .format("%Y-%m-%d %H:%M:%S%.3f")
                .to_string()
                >= ends
        );
    }
);
