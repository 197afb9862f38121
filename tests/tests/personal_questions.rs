//! Personal questions (★ create, seed 003): create, list, read, patch, delete — both backends.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, TestApp, CORE};
use reqwest::Method;

fn pq_path(client: &str) -> String {
    format!("{CORE}/{client}/personal-questions")
}

fn pet_question(ext_id: &str) -> serde_json::Value {
    json!({
        "extId": ext_id,
        "description": "Pet name question",
        "stateName": "active",
        "displayName": {"EN": "Pet name", "DE": "Haustiername"},
        "content": {"EN": "What is your pet's name?", "FR": "Quel est le nom de votre animal?"}
    })
}

async fn create(app: &TestApp, client: &str, ext_id: &str) {
    let r = app.post(&pq_path(client), pet_question(ext_id)).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

dual_test!(
    creating_a_personal_question_returns_201_and_it_can_be_read,
    |app| {
        app.create_client("client-123", "TestClient").await;
        let r = app
            .post(&pq_path("client-123"), pet_question("pq-123"))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.location(), format!("{}/pq-123", pq_path("client-123")));
        assert_eq!(r.body, serde_json::Value::Null);
        let r = app.get(&format!("{}/pq-123", pq_path("client-123"))).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("etag"), Some("\"1\""));
        let q = &r.body;
        assert_eq!(q["extId"], "pq-123");
        assert_eq!(q["clientExtId"], "client-123");
        assert_eq!(q["description"], "Pet name question");
        assert_eq!(q["stateName"], "active");
        assert_eq!(
            q["displayName"],
            json!({"EN": "Pet name", "DE": "Haustiername"})
        );
        assert_eq!(
            q["content"],
            json!({"EN": "What is your pet's name?", "FR": "Quel est le nom de votre animal?"})
        );
        assert_eq!(q["version"], 1);
    }
);

dual_test!(
    a_personal_question_without_ext_id_gets_a_generated_one,
    |app| {
        let r = app
            .post(&pq_path("Default"), json!({"stateName": "disabled"}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.get(r.location()).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["stateName"], "disabled");
        assert_eq!(r.body["displayName"], json!({}));
        assert!(!r.body["extId"].as_str().unwrap().is_empty());
    }
);

dual_test!(seed_003_unknown_client_is_404, |app| {
    let r = app.post(&pq_path("client-123"), pet_question("pq-1")).await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Client doesn't exist with extId 'client-123'",
    );
});

dual_test!(seed_003_caller_without_client_view_is_403, |app| {
    let me = app
        .seed_user("Default", "self", &["SelfAdmin"], false, false, None)
        .await;
    let r = app
        .send(
            app.req_as(&me.token, Method::POST, &pq_path("Default"))
                .json(&pet_question("pq-1")),
        )
        .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.ClientView' to perform this action",
    );
    // Helpdesk views the client but may not create questions.
    let hd = app
        .seed_user("Default", "hd", &["Helpdesk"], false, true, None)
        .await;
    let r = app
        .send(
            app.req_as(&hd.token, Method::POST, &pq_path("Default"))
                .json(&pet_question("pq-1")),
        )
        .await;
    r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.PersonalQuestionCreate' to perform this action",
    );
});

dual_test!(seed_003_caller_outside_the_dataroom_is_403, |app| {
    app.create_client("client-123", "TestClient").await;
    let other = app
        .seed_user("Default", "cr", &["ClientRoot"], false, true, None)
        .await;
    let r = app
        .send(
            app.req_as(&other.token, Method::POST, &pq_path("client-123"))
                .json(&pet_question("pq-1")),
        )
        .await;
    r.assert_error(
        403,
        "errors.combinedDataroomDenied",
        "Permission denied: AccessControl.ClientView",
    );
    // In its own client the same role may create questions.
    let r = app
        .send(
            app.req_as(&other.token, Method::POST, &pq_path("Default"))
                .json(&pet_question("pq-1")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
});

dual_test!(seed_003_missing_state_name_is_422_naming_the_field, |app| {
    let r = app
        .post(
            &pq_path("Default"),
            json!({"extId": "pq-1", "content": {"EN": "Q?"}}),
        )
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: stateName",
    );
    let r = app
        .post(&pq_path("Default"), json!({"stateName": ""}))
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: stateName",
    );
});

dual_test!(
    seed_003_naming_policy_violation_is_422_with_policy_violations,
    |app| {
        let long = "a".repeat(130);
        let mut body = pet_question(&long);
        body["extId"] = json!(long);
        let r = app.post(&pq_path("Default"), body).await;
        r.assert_error(
        422,
        "errors.identifierPolicyViolated",
        "ch.nevis.idm.policy.PolicyViolation: Policy failed:\nch.nevis.idm.policy.element.PolicyElementViolation<element=Regex policy violation limit=129, actualValue=130>",
    );
        let v = &r.body["policyViolations"][0];
        assert_eq!(v["displayName"], "Regex policy violation");
        assert_eq!(v["limitValue"], 129);
        assert_eq!(v["actualValue"], "130");
        assert_eq!(v["suppliedValue"], long.as_str());
        let r = app.get(&pq_path("Default")).await;
        assert_eq!(r.body["items"], json!([]));
    }
);

dual_test!(seed_003_invalid_state_is_422, |app| {
    let mut body = pet_question("pq-1");
    body["stateName"] = json!("invalid_state");
    let r = app.post(&pq_path("Default"), body).await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "Invalid PersonalQuestionState name 'invalid_state'",
    );
});

dual_test!(language_maps_accept_only_en_de_fr_it, |app| {
    let mut body = pet_question("pq-1");
    body["content"] = json!({"ES": "¿Cómo se llama tu mascota?"});
    let r = app.post(&pq_path("Default"), body).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "errors.invalidParameter");
    assert!(r.message().contains("content"), "{}", r.message());
});

dual_test!(a_duplicate_personal_question_ext_id_is_422, |app| {
    create(&app, "Default", "pq-1").await;
    let r = app.post(&pq_path("Default"), pet_question("pq-1")).await;
    r.assert_error(
        422,
        "errors.duplicateValue",
        "A personal question with extId 'pq-1' already exists.",
    );
});

dual_test!(
    personal_questions_are_listed_per_client_with_paging,
    |app| {
        app.create_client("client-123", "TestClient").await;
        for i in 0..3 {
            create(&app, "Default", &format!("pq-{i}")).await;
        }
        create(&app, "client-123", "elsewhere").await;
        let r = app.get(&format!("{}?limit=2", pq_path("Default"))).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
        let token = r.body["_pagination"]["continuationToken"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = app
            .get(&format!(
                "{}?limit=2&continuationToken={token}",
                pq_path("Default")
            ))
            .await;
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["extId"], "pq-2");
        assert!(r.body["_pagination"].get("continuationToken").is_none());
        let r = app.get(&pq_path("client-123")).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
        let r = app.get(&pq_path("client-999")).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'client-999'",
        );
    }
);

dual_test!(
    patching_a_personal_question_changes_only_sent_fields,
    |app| {
        create(&app, "Default", "pq-1").await;
        let path = format!("{}/pq-1", pq_path("Default"));
        let r = app
            .patch(
                &path,
                json!({"stateName": "revoked", "content": {"IT": "Nome?"}, "version": 1}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["stateName"], "revoked");
        assert_eq!(r.body["content"], json!({"IT": "Nome?"}));
        assert_eq!(
            r.body["displayName"],
            json!({"EN": "Pet name", "DE": "Haustiername"})
        );
        assert_eq!(r.body["description"], "Pet name question");
        assert_eq!(r.body["version"], 2);
        let r = app.patch(&path, json!({"stateName": "bogus"})).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "Invalid PersonalQuestionState name 'bogus'",
        );
        let r = app.patch(&path, json!({"extId": "other"})).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.code(), "errors.modifyExtId");
    }
);

dual_test!(a_stale_personal_question_version_is_409, |app| {
    create(&app, "Default", "pq-1").await;
    let path = format!("{}/pq-1", pq_path("Default"));
    assert_eq!(
        app.patch(&path, json!({"description": "x"})).await.status,
        200
    );
    let r = app
        .patch(&path, json!({"description": "y", "version": 1}))
        .await;
    r.assert_error(
        409,
        "errors.optimisticLockingFailure",
        "Row was already updated or deleted by another transaction",
    );
    let r = app
        .send(app.req(Method::DELETE, &path).header("If-Match", "\"1\""))
        .await;
    assert_eq!(r.status, 409);
    let r = app.get(&path).await;
    assert_eq!(r.body["description"], "x");
});

dual_test!(deleting_a_personal_question_returns_204_then_404, |app| {
    create(&app, "Default", "pq-1").await;
    let path = format!("{}/pq-1", pq_path("Default"));
    let r = app.delete(&path).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app.get(&path).await;
    r.assert_error(
        404,
        "errors.noRecord",
        "Personal question doesn't exist with extId 'pq-1'",
    );
    assert_eq!(app.delete(&path).await.status, 404);
});

dual_test!(
    helpdesk_reads_but_cannot_change_or_delete_questions,
    |app| {
        create(&app, "Default", "pq-1").await;
        let hd = app
            .seed_user("Default", "hd", &["Helpdesk"], false, true, None)
            .await;
        let path = format!("{}/pq-1", pq_path("Default"));
        let r = app.send(app.req_as(&hd.token, Method::GET, &path)).await;
        assert_eq!(r.status, 200);
        let r = app
            .send(app.req_as(&hd.token, Method::GET, &pq_path("Default")))
            .await;
        assert_eq!(r.status, 200);
        let r = app
            .send(
                app.req_as(&hd.token, Method::PATCH, &path)
                    .json(&json!({"stateName": "disabled"})),
            )
            .await;
        r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.PersonalQuestionModify' to perform this action",
    );
        let r = app.send(app.req_as(&hd.token, Method::DELETE, &path)).await;
        r.assert_error(
        403,
        "errors.insufficientRightsFunction",
        "Permission denied: Caller does not have the required right 'AccessControl.PersonalQuestionDelete' to perform this action",
    );
    }
);
