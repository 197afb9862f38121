//! Clients: ★ PATCH (seed 001) with every example, optimistic locking under concurrency,
//! paging, delete cascade.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, CORE};
use reqwest::Method;

const POLICY_MESSAGE: &str = "ch.nevis.idm.policy.PolicyViolation: Policy failed:\nch.nevis.idm.policy.element.PolicyElementViolation<element=Regex policy violation limit=129, actualValue=130>";

dual_test!(
    patching_a_client_returns_200_with_the_whole_client_dto_and_a_new_version,
    |app| {
        app.create_client("client-a", "ClientA").await;
        let r = app
            .patch(
                &format!("{CORE}/clients/client-a"),
                json!({
                    "name": "MyClient",
                    "displayName": {"EN": "Client Name in English", "DE": "Client Name in German",
                                    "FR": "Client Name in French", "IT": "Client Name in Italian"},
                    "remarks": "changed"
                }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let b = &r.body;
        assert_eq!(b["extId"], "client-a");
        assert_eq!(b["name"], "MyClient");
        assert_eq!(b["version"], 2);
        assert_eq!(b["displayName"]["IT"], "Client Name in Italian");
        assert_eq!(b["displayName"]["EN"], "Client Name in English");
        assert_eq!(b["remarks"], "changed");
        for key in ["created", "lastModified"] {
            let t = b[key].as_str().unwrap();
            assert!(t.ends_with('Z') && t.len() == 20, "{key}: {t}");
        }
        assert_eq!(r.header("etag"), Some("\"2\""));
        // Only present fields change.
        let r = app
            .patch(
                &format!("{CORE}/clients/client-a"),
                json!({"remarks": "again"}),
            )
            .await;
        assert_eq!(r.body["name"], "MyClient");
        assert_eq!(r.body["displayName"]["DE"], "Client Name in German");
        assert_eq!(r.body["version"], 3);
        let g = app.get(&format!("{CORE}/clients/client-a")).await;
        assert_eq!(g.body["remarks"], "again");
        assert_eq!(g.header("etag"), Some("\"3\""));
    }
);

dual_test!(
    a_caller_without_client_modify_gets_403_insufficient_rights_function,
    |app| {
        let helpdesk = app
            .seed_user("Default", "helper", &["Helpdesk"], false, true, None)
            .await;
        let r = app
            .send(
                app.req_as(
                    &helpdesk.token,
                    Method::PATCH,
                    &format!("{CORE}/clients/Default"),
                )
                .json(&json!({"remarks": "x"})),
            )
            .await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            "Permission denied: Caller does not have the required right 'AccessControl.ClientModify' to perform this action",
        );
    }
);

dual_test!(
    a_client_root_of_another_client_gets_403_combined_dataroom_denied,
    |app| {
        app.create_client("other", "Other").await;
        let root = app
            .seed_user("other", "other-root", &["ClientRoot"], false, true, None)
            .await;
        let r = app
            .send(
                app.req_as(
                    &root.token,
                    Method::PATCH,
                    &format!("{CORE}/clients/Default"),
                )
                .json(&json!({"remarks": "x"})),
            )
            .await;
        r.assert_error(
            403,
            "errors.combinedDataroomDenied",
            "Permission denied: AccessControl.ClientModify",
        );
        // The same caller may patch its own client.
        let r = app
            .send(
                app.req_as(&root.token, Method::PATCH, &format!("{CORE}/clients/other"))
                    .json(&json!({"remarks": "mine"})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
);

dual_test!(
    patching_an_unknown_client_returns_404_with_the_seed_message,
    |app| {
        let r = app
            .patch(&format!("{CORE}/clients/client-123"), json!({"name": "x"}))
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'client-123'",
        );
    }
);

dual_test!(a_stale_version_in_the_body_or_if_match_returns_409, |app| {
    app.create_client("client-v", "ClientV").await;
    let r = app
        .patch(
            &format!("{CORE}/clients/client-v"),
            json!({"name": "N2", "version": 7}),
        )
        .await;
    r.assert_error(
        409,
        "errors.optimisticLockingFailure",
        "Row was already updated or deleted by another transaction",
    );
    let r = app
        .send(
            app.req(Method::PATCH, &format!("{CORE}/clients/client-v"))
                .header("If-Match", "\"5\"")
                .json(&json!({"name": "N2"})),
        )
        .await;
    assert_eq!(r.status, 409);
    let r = app
        .send(
            app.req(Method::PATCH, &format!("{CORE}/clients/client-v"))
                .header("If-Match", "\"1\"")
                .json(&json!({"name": "N2"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let g = app.get(&format!("{CORE}/clients/client-v")).await;
    assert_eq!(g.body["name"], "N2");
});

dual_test!(
    a_130_character_name_returns_422_identifier_policy_violated_with_the_seed_message,
    |app| {
        let name = "a".repeat(130);
        let r = app
            .patch(&format!("{CORE}/clients/Default"), json!({"name": name}))
            .await;
        r.assert_error(422, "errors.identifierPolicyViolated", POLICY_MESSAGE);
        let v = &r.body["policyViolations"];
        assert_eq!(v.as_array().unwrap().len(), 1, "{}", r.body);
        assert_eq!(v[0]["displayName"], "Regex policy violation");
        assert_eq!(v[0]["suppliedValue"], name.as_str());
        assert_eq!(v[0]["limitValue"], 129);
        assert_eq!(v[0]["actualValue"], "130");
        assert!(v[0]["configString"].as_str().unwrap().contains("129"));
        // Nothing changed.
        let g = app.get(&format!("{CORE}/clients/Default")).await;
        assert_eq!(g.body["name"], "Default");
        assert_eq!(g.body["version"], 1);
    }
);

dual_test!(
    a_different_ext_id_or_a_duplicate_name_in_the_patch_body_is_refused_with_422,
    |app| {
        app.create_client("c1", "One").await;
        app.create_client("c2", "Two").await;
        let r = app
            .patch(&format!("{CORE}/clients/c1"), json!({"extId": "zzz"}))
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.code(), "errors.modifyExtId");
        let r = app
            .patch(&format!("{CORE}/clients/c1"), json!({"name": "Two"}))
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.code(), "errors.duplicateName");
        let r = app
            .patch(
                &format!("{CORE}/clients/c1"),
                json!({"displayName": {"ES": "x"}}),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.code(), "errors.invalidParameter");
    }
);

dual_test!(
    fifty_concurrent_patches_with_the_same_version_yield_one_200_and_forty_nine_409,
    |app| {
        app.create_client("race", "Race").await;
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for i in 0..50 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let r = app
                    .patch(
                        &format!("{CORE}/clients/race"),
                        json!({"name": format!("Winner{i}"), "remarks": format!("r{i}"), "version": 1}),
                    )
                    .await;
                (i, r.status, r.code().to_owned())
            }));
        }
        let mut winners = Vec::new();
        let mut conflicts = 0;
        for t in tasks {
            let (i, status, code) = t.await.unwrap();
            match status {
                200 => winners.push(i),
                409 => {
                    assert_eq!(code, "errors.optimisticLockingFailure");
                    conflicts += 1;
                }
                other => panic!("unexpected status {other} ({code})"),
            }
        }
        assert_eq!(winners.len(), 1, "winners: {winners:?}");
        assert_eq!(conflicts, 49);
        let g = app.get(&format!("{CORE}/clients/race")).await;
        assert_eq!(g.body["name"], format!("Winner{}", winners[0]));
        assert_eq!(g.body["remarks"], format!("r{}", winners[0]));
        assert_eq!(g.body["version"], 2);
    }
);

dual_test!(
    the_client_list_pages_with_continuation_tokens_and_rejects_a_malformed_token,
    |app| {
        for i in 0..5 {
            app.create_client(&format!("pc{i}"), &format!("Paged{i}"))
                .await;
        }
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut url = format!("{CORE}/clients?limit=2");
            if let Some(t) = &token {
                url.push_str(&format!("&continuationToken={t}"));
            }
            let r = app.get(&url).await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.body["_pagination"]["limit"], 2);
            for item in r.body["items"].as_array().unwrap() {
                seen.push(item["extId"].as_str().unwrap().to_owned());
            }
            match r.body["_pagination"]["continuationToken"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), seen.len());
        assert_eq!(seen.len(), 6, "{seen:?}");
        let r = app
            .get(&format!("{CORE}/clients?continuationToken=garbage"))
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: continuationToken",
        );
    }
);

dual_test!(
    deleting_a_client_removes_its_units_users_and_profiles,
    |app| {
        app.create_client("gone", "Gone").await;
        let r = app
            .post(
                &format!("{CORE}/gone/units"),
                json!({"extId": "u1", "parentUnitExtId": "gone-root", "name": "U1", "profileless": false}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        app.seed_user("gone", "victim", &["UserAdmin"], false, false, Some("u1"))
            .await;
        let id = app
            .services
            .repo()
            .client_by_ext_id("gone")
            .await
            .unwrap()
            .unwrap()
            .meta
            .id;
        let r = app.delete(&format!("{CORE}/clients/gone")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app.get(&format!("{CORE}/clients/gone")).await;
        assert_eq!(r.status, 404);
        let repo = app.services.repo();
        assert!(repo.user_by_ext_id(id, "victim").await.unwrap().is_none());
        assert!(repo.unit_by_ext_id(id, "u1").await.unwrap().is_none());
        assert!(repo
            .unit_by_ext_id(id, "gone-root")
            .await
            .unwrap()
            .is_none());
        assert!(repo
            .profile_by_ext_id(id, "victim-profile")
            .await
            .unwrap()
            .is_none());
        // The name is free again.
        app.create_client("gone", "Gone").await;
    }
);

dual_test!(
    two_instances_racing_patches_on_one_version_yield_exactly_one_200,
    |app| {
        app.create_client("race2", "Race").await;
        let other = app.second_instance().await;
        let apps = std::sync::Arc::new([app, other]);
        let mut tasks = Vec::new();
        for i in 0..40 {
            let apps = apps.clone();
            tasks.push(tokio::spawn(async move {
                let r = apps[i % 2]
                    .patch(
                        &format!("{CORE}/clients/race2"),
                        json!({"remarks": format!("r{i}"), "version": 1}),
                    )
                    .await;
                (i, r.status, r.body)
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            let (i, status, body) = t.await.unwrap();
            match status {
                200 => winners.push((i, body)),
                409 => {}
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one write may win: {winners:?}");
        // The winner's answer (UPDATE … RETURNING) is what both instances read now.
        let (i, body) = &winners[0];
        assert_eq!(body["version"], 2);
        for a in apps.iter() {
            let r = a.get(&format!("{CORE}/clients/race2")).await;
            assert_eq!(r.body["remarks"], format!("r{i}"));
            assert_eq!(r.body["version"], 2);
        }
    }
);
