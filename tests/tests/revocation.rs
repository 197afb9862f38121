//! Revocation of cached callers: a write evicts only the callers it changes, and other
//! instances hear of it through the revocation bus (PostgreSQL `LISTEN`/`NOTIFY`) instead of
//! waiting for their cache entries to expire.
//!
//! Every test here runs with a one-minute caller cache, so a refusal that comes sooner can only
//! come from an eviction.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use idm_testing::{Backend, TestApp};
use idm_tests::{dual_test, CORE};
use serde_json::json;

async fn long_cache(backend: Backend) -> Option<TestApp> {
    TestApp::builder()
        .backend(backend)
        .settings(|s| s.auth.caller_cache_ttl_ms = 60_000)
        .start()
        .await
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> u16 {
    app.send(app.req_as(token, reqwest::Method::GET, path))
        .await
        .status
}

/// Disables a user through the API (so the write takes the real revocation path).
async fn disable(app: &TestApp, user: &str) {
    let path = format!("{CORE}/Default/users/{user}");
    let version = app.get(&path).await.body["version"].as_i64().unwrap();
    let r = app
        .patch(&path, json!({"userState": "disabled", "version": version}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Waits until `app` refuses `token` (401), asking every 2 ms; fails on any other answer or
/// when the refusal has not come 5 s after `revoked`.
async fn refused_soon(app: &TestApp, token: &str, revoked: Instant, user: &str) {
    let probe = format!("{CORE}/Default/users/admin");
    loop {
        let status = get_as(app, token, &probe).await;
        if status == 401 {
            return;
        }
        assert_eq!(status, 200);
        assert!(
            revoked.elapsed() < Duration::from_secs(5),
            "the other instance still accepts the disabled user {user}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

dual_test!(
    a_write_on_one_user_evicts_that_user_only_not_unrelated_callers,
    setup = long_cache,
    |app: TestApp| {
        let a = app
            .seed_user("Default", "rev-a", &["UserAdmin"], false, true, None)
            .await;
        let b = app
            .seed_user("Default", "rev-b", &["UserAdmin"], false, true, None)
            .await;
        let probe = format!("{CORE}/Default/users/admin");
        for t in [&a.token, &b.token, &app.admin_token] {
            assert_eq!(get_as(&app, t, &probe).await, 200);
        }
        let before = app.services.caller_loads();
        // Admin changes user a's remarks: only a's cached caller may go.
        let path = format!("{CORE}/Default/users/rev-a");
        let version = app.get(&path).await.body["version"].as_i64().unwrap();
        let r = app
            .patch(&path, json!({"remarks": "touched", "version": version}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(get_as(&app, &b.token, &probe).await, 200);
        assert_eq!(get_as(&app, &app.admin_token, &probe).await, 200);
        assert_eq!(
            app.services.caller_loads() - before,
            0,
            "the admin and user b stayed cached"
        );
        assert_eq!(get_as(&app, &a.token, &probe).await, 200);
        assert_eq!(
            app.services.caller_loads() - before,
            1,
            "user a was looked up again, once"
        );
        // A write that changes no caller (a new user) evicts nobody.
        let r = app
            .post(
                &format!("{CORE}/Default/users"),
                json!({"extId": "rev-new", "loginId": "rev-new"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        for t in [&a.token, &b.token, &app.admin_token] {
            assert_eq!(get_as(&app, t, &probe).await, 200);
        }
        assert_eq!(app.services.caller_loads() - before, 1);
    }
);

dual_test!(
    a_disabled_user_is_refused_at_once_by_the_instance_that_wrote,
    setup = long_cache,
    |app: TestApp| {
        let a = app
            .seed_user("Default", "rev-c", &["UserAdmin"], false, true, None)
            .await;
        let probe = format!("{CORE}/Default/users/admin");
        assert_eq!(get_as(&app, &a.token, &probe).await, 200);
        disable(&app, "rev-c").await;
        assert_eq!(get_as(&app, &a.token, &probe).await, 401);
    }
);

dual_test!(
    a_revocation_on_one_instance_is_refused_on_the_other_within_100_ms,
    setup = long_cache,
    |app: TestApp| {
        let other = app.second_instance().await;
        let probe = format!("{CORE}/Default/users/admin");
        let ready = other.get("/ready").await;
        if app.backend == Backend::Sqlite {
            // One instance per SQLite file is the supported deployment: no bus to report.
            assert_eq!(ready.body["revocations"], "not-needed");
            return;
        }
        assert_eq!(ready.body["revocations"], "up", "{}", ready.body);
        let mut worst = Duration::ZERO;
        for trial in 0..20 {
            let user = format!("rev-x{trial}");
            let seeded = app
                .seed_user("Default", &user, &["UserAdmin"], false, true, None)
                .await;
            // Both instances have the caller cached.
            assert_eq!(get_as(&other, &seeded.token, &probe).await, 200);
            assert_eq!(get_as(&other, &seeded.token, &probe).await, 200);
            assert_eq!(get_as(&app, &seeded.token, &probe).await, 200);
            disable(&app, &user).await;
            let revoked = Instant::now();
            refused_soon(&other, &seeded.token, revoked, &user).await;
            worst = worst.max(revoked.elapsed());
        }
        eprintln!("slowest revocation across instances: {worst:?}");
        assert!(
            worst <= Duration::from_millis(100),
            "slowest of 20 revocations took {worst:?}"
        );
    }
);

dual_test!(
    revocations_written_together_all_reach_the_other_instance,
    setup = long_cache,
    |app: TestApp| {
        // The bus sends what it collects within a few milliseconds as one notification; every
        // user of such a batch must still be refused on the other instance.
        let other = app.second_instance().await;
        if app.backend == Backend::Sqlite {
            // One instance per SQLite file: no bus (see the test above).
            assert_eq!(other.get("/ready").await.body["revocations"], "not-needed");
            return;
        }
        let probe = format!("{CORE}/Default/users/admin");
        let mut tokens = Vec::new();
        for i in 0..8 {
            let user = format!("rev-burst{i}");
            let seeded = app
                .seed_user("Default", &user, &["UserAdmin"], false, true, None)
                .await;
            assert_eq!(get_as(&other, &seeded.token, &probe).await, 200);
            tokens.push((user, seeded.token));
        }
        assert_eq!(get_as(&other, &other.admin_token, &probe).await, 200);
        let before = other.services.caller_loads();
        futures::future::join_all(tokens.iter().map(|(user, _)| disable(&app, user))).await;
        let revoked = Instant::now();
        for (user, token) in &tokens {
            refused_soon(&other, token, revoked, user).await;
        }
        // Each batch named its users: the admin, named by none, stayed cached (a batch read
        // as one unreadable announcement would have emptied the whole cache).
        assert_eq!(get_as(&other, &other.admin_token, &probe).await, 200);
        assert_eq!(
            other.services.caller_loads() - before,
            8,
            "one look-up per disabled user, none for the admin"
        );
    }
);
