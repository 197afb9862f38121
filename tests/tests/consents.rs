//! Consents (★ seed 002) and pending terms, on both backends.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, Reply, TestApp, CORE};
use reqwest::Method;

/// Client `TestClient` (extId `test-client`) with user `user-123` (no roles) and active terms
/// `terms-123` at version `1`.
async fn setup(app: &TestApp) {
    app.create_client("test-client", "TestClient").await;
    app.seed_user("test-client", "user-123", &[], false, false, None)
        .await;
    create_terms(app, "terms-123", "Terms 123", true).await;
}

async fn create_terms(app: &TestApp, ext_id: &str, name: &str, active: bool) {
    let r = app
        .post(
            &format!("{CORE}/terms"),
            json!({"extId": ext_id, "name": name, "active": active,
                   "silentAcceptance": false, "termsVersion": "1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

fn consents_path(client: &str, user: &str) -> String {
    format!("{CORE}/{client}/users/{user}/consents")
}

async fn consent(app: &TestApp, client: &str, user: &str, terms: &str) -> Reply {
    app.post(&consents_path(client, user), json!({"termsExtId": terms}))
        .await
}

dual_test!(creating_a_consent_returns_201_with_location, |app| {
    setup(&app).await;
    let r = consent(&app, "test-client", "user-123", "terms-123").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.location()
            .starts_with(&format!("{}/", consents_path("test-client", "user-123"))),
        "{}",
        r.location()
    );
    let r = app.get(&consents_path("test-client", "user-123")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body.as_array().expect("bare array");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["termsExtId"], "terms-123");
    assert_eq!(items[0]["termsVersion"], "1");
    assert!(items[0]["acceptanceDate"].as_str().unwrap().ends_with('Z'));
});

dual_test!(seed_002_unknown_client_is_404, |app| {
    let r = consent(&app, "client-123", "user-123", "terms-123").await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Client doesn't exist with extId 'client-123'",
    );
});

dual_test!(seed_002_unknown_user_is_404_with_the_period, |app| {
    app.create_client("test-client", "TestClient").await;
    create_terms(&app, "terms-123", "Terms 123", true).await;
    let r = consent(&app, "test-client", "user-123", "terms-123").await;
    r.assert_error(
        404,
        "errors.noRecord",
        "A user with extId 'user-123' doesn't exist on client with name TestClient.",
    );
});

dual_test!(seed_002_unknown_terms_is_404, |app| {
    app.create_client("test-client", "TestClient").await;
    app.seed_user("test-client", "user-123", &[], false, false, None)
        .await;
    let r = consent(&app, "test-client", "user-123", "terms-123").await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Terms doesn't exist with extId 'terms-123'",
    );
});

dual_test!(seed_002_duplicate_consent_is_422_duplicate_value, |app| {
    setup(&app).await;
    assert_eq!(
        consent(&app, "test-client", "user-123", "terms-123")
            .await
            .status,
        201
    );
    let r = consent(&app, "test-client", "user-123", "terms-123").await;
    r.assert_error(
        422,
        "errors.duplicateValue",
        "A consent for userExtId: 'user-123', termsExtId: 'terms-123' and termsVersion: '1' already exists.",
    );
    let r = app.get(&consents_path("test-client", "user-123")).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
});

dual_test!(seed_002_caller_without_consent_create_is_403, |app| {
    setup(&app).await;
    let helpdesk = app
        .seed_user("test-client", "hd", &["Helpdesk"], false, true, None)
        .await;
    let r = app
        .send(
            app.req_as(
                &helpdesk.token,
                Method::POST,
                &consents_path("test-client", "user-123"),
            )
            .json(&json!({"termsExtId": "terms-123"})),
        )
        .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.ConsentCreate' to perform this action",
    );
});

dual_test!(seed_002_caller_outside_the_dataroom_is_403, |app| {
    setup(&app).await;
    // A UserAdmin of another client without clientGlobal.
    app.create_client("other", "Other").await;
    let admin = app
        .seed_user("other", "ua", &["UserAdmin"], false, true, None)
        .await;
    let r = app
        .send(
            app.req_as(
                &admin.token,
                Method::POST,
                &consents_path("test-client", "user-123"),
            )
            .json(&json!({"termsExtId": "terms-123"})),
        )
        .await;
    r.assert_error(
        403,
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.ConsentCreate",
    );
    // The same role inside the user's client is allowed.
    let inside = app
        .seed_user("test-client", "ua2", &["UserAdmin"], false, true, None)
        .await;
    let r = app
        .send(
            app.req_as(
                &inside.token,
                Method::POST,
                &consents_path("test-client", "user-123"),
            )
            .json(&json!({"termsExtId": "terms-123"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
});

dual_test!(missing_or_empty_terms_ext_id_is_422, |app| {
    setup(&app).await;
    for body in [
        json!({}),
        json!({"termsExtId": ""}),
        json!({"termsExtId": null}),
    ] {
        let r = app
            .post(&consents_path("test-client", "user-123"), body)
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: termsExtId",
        );
    }
    let r = app
        .post(
            &consents_path("test-client", "user-123"),
            json!({"termsExtId": 5}),
        )
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: termsExtId",
    );
});

dual_test!(consenting_to_inactive_terms_is_422, |app| {
    setup(&app).await;
    create_terms(&app, "old-terms", "Old", false).await;
    let r = consent(&app, "test-client", "user-123", "old-terms").await;
    r.assert_error(
        422,
        "errors.invalidData",
        "The terms with extId 'old-terms' are not active and cannot be accepted.",
    );
    let r = app.get(&consents_path("test-client", "user-123")).await;
    assert_eq!(r.body, json!([]));
});

dual_test!(
    twenty_concurrent_identical_consents_give_exactly_one_201,
    |app| {
        setup(&app).await;
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                consent(&app, "test-client", "user-123", "terms-123").await
            }));
        }
        let mut created = 0;
        let mut duplicates = 0;
        for t in tasks {
            let r = t.await.unwrap();
            match r.status {
                201 => created += 1,
                422 => {
                    r.assert_error(
                    422,
                    "errors.duplicateValue",
                    "A consent for userExtId: 'user-123', termsExtId: 'terms-123' and termsVersion: '1' already exists.",
                );
                    duplicates += 1;
                }
                other => panic!("unexpected {other}: {}", r.body),
            }
        }
        assert_eq!((created, duplicates), (1, 19));
        let r = app.get(&consents_path("test-client", "user-123")).await;
        assert_eq!(r.body.as_array().unwrap().len(), 1);
    }
);

dual_test!(a_new_terms_version_can_be_accepted_again, |app| {
    setup(&app).await;
    assert_eq!(
        consent(&app, "test-client", "user-123", "terms-123")
            .await
            .status,
        201
    );
    let r = app
        .patch(
            &format!("{CORE}/terms/terms-123"),
            json!({"termsVersion": "2"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        consent(&app, "test-client", "user-123", "terms-123")
            .await
            .status,
        201
    );
    let r = consent(&app, "test-client", "user-123", "terms-123").await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.message(),
        "A consent for userExtId: 'user-123', termsExtId: 'terms-123' and termsVersion: '2' already exists."
    );
    let r = app.get(&consents_path("test-client", "user-123")).await;
    let items = r.body.as_array().expect("bare array");
    assert_eq!(items.len(), 2);
    let mut versions: Vec<&str> = items
        .iter()
        .map(|i| {
            assert_eq!(i["termsExtId"], "terms-123");
            i["termsVersion"].as_str().unwrap()
        })
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, ["1", "2"]);
});

async fn pending(app: &TestApp) -> Vec<String> {
    let r = app
        .get(&format!("{CORE}/test-client/users/user-123/terms-pending"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut ids: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["extId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

dual_test!(
    pending_terms_lists_active_terms_not_yet_accepted_in_their_version,
    |app| {
        setup(&app).await;
        create_terms(&app, "terms-b", "Terms B", true).await;
        create_terms(&app, "terms-off", "Inactive", false).await;
        assert_eq!(pending(&app).await, ["terms-123", "terms-b"]);
        assert_eq!(
            consent(&app, "test-client", "user-123", "terms-123")
                .await
                .status,
            201
        );
        assert_eq!(pending(&app).await, ["terms-b"]);
        // Publishing a new version makes the terms pending again.
        let r = app
            .patch(
                &format!("{CORE}/terms/terms-123"),
                json!({"termsVersion": "2"}),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(pending(&app).await, ["terms-123", "terms-b"]);
        let r = app
            .get(&format!("{CORE}/test-client/users/user-123/terms-pending"))
            .await;
        let item = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["extId"] == "terms-123")
            .unwrap()
            .clone();
        assert_eq!(item["termsVersion"], "2");
        assert_eq!(item["name"], "Terms 123");
    }
);

dual_test!(
    a_self_admin_reads_only_his_own_consents_and_pending_terms,
    |app| {
        setup(&app).await;
        let me = app
            .seed_user("test-client", "me", &["SelfAdmin"], false, false, None)
            .await;
        assert_eq!(
            consent(&app, "test-client", "me", "terms-123").await.status,
            201
        );
        let r = app
            .send(app.req_as(&me.token, Method::GET, &consents_path("test-client", "me")))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body.as_array().unwrap().len(), 1);
        let r = app
            .send(app.req_as(
                &me.token,
                Method::GET,
                &format!("{CORE}/test-client/users/me/terms-pending"),
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"], json!([]));
        let r = app
            .send(app.req_as(
                &me.token,
                Method::GET,
                &consents_path("test-client", "user-123"),
            ))
            .await;
        r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.ConsentView' to perform this action",
    );
        // A self-admin may not record consents (the seed requires ConsentCreate).
        let r = app
            .send(
                app.req_as(&me.token, Method::POST, &consents_path("test-client", "me"))
                    .json(&json!({"termsExtId": "terms-123"})),
            )
            .await;
        assert_eq!(r.status, 403);
    }
);

dual_test!(listing_consents_of_an_unknown_user_is_404, |app| {
    app.create_client("test-client", "TestClient").await;
    let r = app.get(&consents_path("test-client", "nobody")).await;
    r.assert_error(
        404,
        "errors.noRecord",
        "A user with extId 'nobody' doesn't exist on client with name TestClient",
    );
});
