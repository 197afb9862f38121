//! The harness's own promises: the builder applies overrides, the admin client and minted
//! tokens authenticate, and PostgreSQL is reported unavailable rather than failing.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_testing::{dual_test, Backend, Method, TestApp, CORE, PRINCIPAL};

dual_test!(
    the_admin_client_and_the_admin_token_authenticate_as_the_bootstrapped_admin,
    |app| {
        let r = app
            .admin_client()
            .get(app.url(&format!("{PRINCIPAL}/me")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["userExtId"], "admin");
        let r = app
            .send(app.req_as(&app.admin_token, Method::GET, &format!("{PRINCIPAL}/me")))
            .await;
        assert_eq!(r.body["clientExtId"], "Default");
        // The plain client carries no credentials.
        let r = app
            .http
            .get(app.url(&format!("{PRINCIPAL}/me")))
            .send()
            .await;
        assert_eq!(r.unwrap().status(), 401);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builder_settings_overrides_apply_in_order_after_the_test_defaults() {
    let app = TestApp::builder()
        .backend(Backend::Sqlite)
        .settings(|s| s.auth.hs256_secret = Some(idm_testing::Secret("other-key-0123".into())))
        .settings(|s| s.auth.hs256_secret = None)
        .start()
        .await
        .unwrap();
    // The last override won: no HS256 key, so no admin token could be minted.
    assert_eq!(app.admin_token, "");
    let r = app.get(&format!("{CORE}/clients/Default")).await;
    assert_eq!(r.status, 401, "{}", r.body);
}

#[cfg(not(feature = "postgres"))]
#[tokio::test]
async fn without_the_postgres_feature_a_postgres_start_is_skipped() {
    if std::env::var("IDM_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        return; // that setting turns the skip into a panic, by design
    }
    assert!(TestApp::builder()
        .backend(Backend::Postgres)
        .start()
        .await
        .is_none());
}

async fn with_small_fixtures(backend: Backend) -> Option<TestApp> {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/small.yaml"
    );
    TestApp::builder()
        .backend(backend)
        .fixtures(file)
        .start()
        .await
}

dual_test!(
    the_builder_loads_a_fixtures_file_before_the_test_runs,
    setup = with_small_fixtures,
    |app: TestApp| {
        let r = app.get(&format!("{CORE}/clients/acme")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["name"], "Acme");
        let r = app.get(&format!("{CORE}/acme/users/alice")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["loginId"], "alice");
        let r = app.get(&format!("{CORE}/acme/units/acme-sales-emea")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["parentUnitExtId"], "acme-sales");
    }
);
