//! Terms: create, read, list, patch (new versions), application links — on both backends.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, TestApp, CORE};
use reqwest::Method;

/// Stores an application directly through the ports (the applications endpoints belong to
/// another resource) and returns its extId.
async fn seed_application(app: &TestApp, ext_id: &str, name: &str) -> String {
    use idm_domain::model::{Application, Meta};
    let now = idm_domain::values::now_millis();
    app.services
        .repo()
        .create_application(Application {
            meta: Meta {
                id: 0,
                ext_id: ext_id.to_owned(),
                created: now,
                last_modified: now,
                version: 1,
            },
            name: name.to_owned(),
            description: None,
            url: None,
            displayed: true,
            display_name: Default::default(),
        })
        .await
        .unwrap();
    ext_id.to_owned()
}

fn terms_body(ext_id: &str, name: &str) -> serde_json::Value {
    json!({
        "extId": ext_id, "name": name, "active": true, "silentAcceptance": false,
        "termsVersion": "1", "urls": {"en": "https://example.com/terms-en"}
    })
}

dual_test!(
    creating_terms_returns_201_and_the_stored_terms_can_be_read,
    |app| {
        let a = seed_application(&app, "app-123", "App One").await;
        let b = seed_application(&app, "app-456", "App Two").await;
        let mut body = terms_body("terms-123", "My Terms");
        body["applicationExtIds"] = json!([b, a]);
        body["urls"]["DE"] = json!("https://example.com/terms-de");
        let r = app.post(&format!("{CORE}/terms"), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.location(), format!("{CORE}/terms/terms-123"));

        let r = app.get(&format!("{CORE}/terms/terms-123")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("etag"), Some("\"1\""));
        let t = &r.body;
        assert_eq!(t["extId"], "terms-123");
        assert_eq!(t["name"], "My Terms");
        assert_eq!(t["active"], true);
        assert_eq!(t["silentAcceptance"], false);
        assert_eq!(t["termsVersion"], "1");
        assert_eq!(t["version"], 1);
        assert_eq!(
            t["urls"],
            json!({"de": "https://example.com/terms-de", "en": "https://example.com/terms-en"})
        );
        assert_eq!(t["applicationExtIds"], json!(["app-123", "app-456"]));
        assert!(t["created"].as_str().unwrap().ends_with('Z'));
    }
);

dual_test!(a_numeric_terms_version_is_stored_as_a_string, |app| {
    let mut body = terms_body("t-num", "Numeric");
    body["termsVersion"] = json!(3);
    let r = app.post(&format!("{CORE}/terms"), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.get(&format!("{CORE}/terms/t-num")).await;
    assert_eq!(r.body["termsVersion"], "3");
});

dual_test!(terms_without_an_ext_id_get_a_generated_one, |app| {
    let r = app
        .post(
            &format!("{CORE}/terms"),
            json!({"name": "Gen", "active": false, "silentAcceptance": true, "termsVersion": "v1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.get(r.location()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "Gen");
    assert_eq!(r.body["urls"], json!({}));
    assert_eq!(r.body["applicationExtIds"], json!([]));
});

dual_test!(missing_required_terms_fields_are_named_in_the_422, |app| {
    let r = app
        .post(&format!("{CORE}/terms"), json!({"urls": {}}))
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: name, active, silentAcceptance, termsVersion",
    );
    let r = app
        .post(
            &format!("{CORE}/terms"),
            json!({"name": " ", "active": true, "silentAcceptance": true, "termsVersion": ""}),
        )
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: name, termsVersion",
    );
});

dual_test!(terms_urls_must_be_keyed_by_a_known_language, |app| {
    let mut body = terms_body("t-url", "Urls");
    body["urls"] = json!({"xx": "https://example.com"});
    let r = app.post(&format!("{CORE}/terms"), body).await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: urls",
    );
});

dual_test!(a_duplicate_terms_name_is_422_duplicate_name, |app| {
    let r = app
        .post(&format!("{CORE}/terms"), terms_body("t1", "Same"))
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .post(&format!("{CORE}/terms"), terms_body("t2", "Same"))
        .await;
    r.assert_error(
        422,
        "errors.duplicateName",
        "Terms with name 'Same' already exist.",
    );
    let r = app
        .post(&format!("{CORE}/terms"), terms_body("t1", "Other"))
        .await;
    r.assert_error(
        422,
        "errors.duplicateValue",
        "Terms with extId 't1' already exist.",
    );
});

dual_test!(an_unknown_application_is_404_and_nothing_is_stored, |app| {
    seed_application(&app, "app-1", "App").await;
    let mut body = terms_body("t-app", "Linked");
    body["applicationExtIds"] = json!(["app-1", "no-such-app"]);
    let r = app.post(&format!("{CORE}/terms"), body).await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Application doesn't exist with extId 'no-such-app'",
    );
    let r = app.get(&format!("{CORE}/terms/t-app")).await;
    assert_eq!(r.status, 404);
});

dual_test!(reading_unknown_terms_is_404_with_the_exact_message, |app| {
    let r = app.get(&format!("{CORE}/terms/terms-123")).await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Terms doesn't exist with extId 'terms-123'",
    );
    let r = app
        .patch(&format!("{CORE}/terms/terms-123"), json!({"active": false}))
        .await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Terms doesn't exist with extId 'terms-123'",
    );
});

dual_test!(
    patching_terms_publishes_a_new_version_and_replaces_links,
    |app| {
        seed_application(&app, "app-a", "A").await;
        seed_application(&app, "app-b", "B").await;
        let mut body = terms_body("t-p", "Patchable");
        body["applicationExtIds"] = json!(["app-a"]);
        assert_eq!(app.post(&format!("{CORE}/terms"), body).await.status, 201);
        let r = app
            .patch(
                &format!("{CORE}/terms/t-p"),
                json!({"termsVersion": "2", "name": "Renamed", "applicationExtIds": ["app-b"],
                   "urls": {"FR": "https://example.com/fr"}, "version": 1}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["termsVersion"], "2");
        assert_eq!(r.body["name"], "Renamed");
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.body["active"], true);
        assert_eq!(r.body["urls"], json!({"fr": "https://example.com/fr"}));
        assert_eq!(r.body["applicationExtIds"], json!(["app-b"]));
        assert_eq!(r.header("etag"), Some("\"2\""));
        // Fields not sent stay as they were.
        let r = app
            .patch(&format!("{CORE}/terms/t-p"), json!({"active": false}))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["active"], false);
        assert_eq!(r.body["termsVersion"], "2");
        assert_eq!(r.body["applicationExtIds"], json!(["app-b"]));
    }
);

dual_test!(a_stale_terms_version_is_409, |app| {
    assert_eq!(
        app.post(&format!("{CORE}/terms"), terms_body("t-s", "Stale"))
            .await
            .status,
        201
    );
    let r = app
        .patch(
            &format!("{CORE}/terms/t-s"),
            json!({"termsVersion": "2", "version": 7}),
        )
        .await;
    r.assert_error(
        409,
        "errors.optimisticLockingFailure",
        "Row was already updated or deleted by another transaction",
    );
    let r = app
        .send(
            app.req(Method::PATCH, &format!("{CORE}/terms/t-s"))
                .header("If-Match", "\"5\"")
                .json(&json!({"termsVersion": "2"})),
        )
        .await;
    assert_eq!(r.status, 409);
    let r = app.get(&format!("{CORE}/terms/t-s")).await;
    assert_eq!(r.body["termsVersion"], "1");
});

dual_test!(patching_the_terms_ext_id_is_422_modify_ext_id, |app| {
    assert_eq!(
        app.post(&format!("{CORE}/terms"), terms_body("t-e", "Ext"))
            .await
            .status,
        201
    );
    let r = app
        .patch(&format!("{CORE}/terms/t-e"), json!({"extId": "other"}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "errors.modifyExtId");
});

dual_test!(terms_list_is_paged_with_continuation_tokens, |app| {
    for i in 0..3 {
        let r = app
            .post(
                &format!("{CORE}/terms"),
                terms_body(&format!("t-{i}"), &format!("N{i}")),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let r = app.get(&format!("{CORE}/terms?limit=2")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["_pagination"]["limit"], 2);
    let token = r.body["_pagination"]["continuationToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .get(&format!("{CORE}/terms?limit=2&continuationToken={token}"))
        .await;
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["extId"], "t-2");
    assert!(r.body["_pagination"].get("continuationToken").is_none());
});

dual_test!(terms_need_terms_rights, |app| {
    let ua = app
        .seed_user("Default", "ua", &["UserAdmin"], false, true, None)
        .await;
    let r = app
        .send(
            app.req_as(&ua.token, Method::POST, &format!("{CORE}/terms"))
                .json(&terms_body("t-x", "X")),
        )
        .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.TermsCreate' to perform this action",
    );
    assert_eq!(
        app.post(&format!("{CORE}/terms"), terms_body("t-y", "Y"))
            .await
            .status,
        201
    );
    // UserAdmin may read terms but not change them.
    let r = app
        .send(app.req_as(&ua.token, Method::GET, &format!("{CORE}/terms/t-y")))
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .send(
            app.req_as(&ua.token, Method::PATCH, &format!("{CORE}/terms/t-y"))
                .json(&json!({"active": false})),
        )
        .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.TermsModify' to perform this action",
    );
    let me = app
        .seed_user("Default", "self", &["SelfAdmin"], false, false, None)
        .await;
    let r = app
        .send(app.req_as(&me.token, Method::GET, &format!("{CORE}/terms")))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.code(), "errors.insufficientRightsFunction");
});
