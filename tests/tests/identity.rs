//! `POST core/:c/identity` (user + profile in one transaction) and
//! `POST core/:c/users/:u/archive` — both backends.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, TestApp, CORE};

fn identity() -> String {
    format!("{CORE}/Default/identity")
}

fn user(ext_id: &str) -> String {
    format!("{CORE}/Default/users/{ext_id}")
}

fn identity_body(user_ext: &str, profile: serde_json::Value) -> serde_json::Value {
    json!({
        "user": {"extId": user_ext, "loginId": user_ext, "languageCode": "EN",
                 "name": {"firstName": "John", "familyName": "Doe"},
                 "contacts": {"email": "john.doe@example.com"}},
        "profile": profile,
    })
}

async fn assert_no_user(app: &TestApp, ext_id: &str) {
    app.get(&user(ext_id)).await.assert_error(
        404,
        "errors.noRecord",
        &format!("A user with extId '{ext_id}' doesn't exist on client with name Default"),
    );
}

dual_test!(
    post_identity_creates_the_user_and_its_profile_in_one_call,
    |app| {
        let r = app
            .post(
                &identity(),
                identity_body(
                    "user-123",
                    json!({"extId": "profile-123", "unitExtId": "Default-root", "name": "Default",
                       "isDefaultProfile": true}),
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.location(), user("user-123"));
        assert_eq!(r.body, serde_json::Value::Null);
        let u = app.get(&user("user-123")).await;
        assert_eq!(u.status, 200, "{}", u.body);
        assert_eq!(u.body["loginId"], "user-123");
        assert_eq!(u.body["name"]["familyName"], "Doe");
        let p = app
            .get(&format!("{CORE}/Default/profiles/profile-123"))
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(p.body["userExtId"], "user-123");
        assert_eq!(p.body["unitExtId"], "Default-root");
        assert_eq!(p.body["profileState"], "active");
        assert_eq!(p.body["isDefaultProfile"], true);
    }
);

dual_test!(
    post_identity_with_an_invalid_profile_part_leaves_no_user_behind,
    |app| {
        // Refused by validation.
        app.post(
            &identity(),
            identity_body(
                "u1",
                json!({"unitExtId": "Default-root", "extId": "bad id/"}),
            ),
        )
        .await
        .assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: profile.extId",
        );
        assert_no_user(&app, "u1").await;
        app.post(&identity(), identity_body("u2", json!({"name": "no unit"})))
            .await
            .assert_error(
                422,
                "errors.invalidParameter",
                "The following fields are not valid: profile.unitExtId",
            );
        assert_no_user(&app, "u2").await;
        app.post(
            &identity(),
            identity_body("u3", json!({"unitExtId": "nope"})),
        )
        .await
        .assert_error(
            404,
            "errors.noRecord",
            "Unit doesn't exist with extId 'nope'",
        );
        assert_no_user(&app, "u3").await;
        // Refused by the database after the user row was written: the transaction rolls the
        // user back too.
        let r = app
            .post(
                &identity(),
                identity_body("u4", json!({"extId": "taken", "unitExtId": "Default-root"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        app.post(
            &identity(),
            identity_body("u5", json!({"extId": "taken", "unitExtId": "Default-root"})),
        )
        .await
        .assert_error(
            422,
            "errors.duplicateValue",
            "A profile with extId 'taken' already exists.",
        );
        assert_no_user(&app, "u5").await;
        // A user part that is invalid is named as such.
        app.post(
            &identity(),
            json!({"user": {"extId": "u6"}, "profile": {"unitExtId": "Default-root"}}),
        )
        .await
        .assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: user.loginId",
        );
        assert_no_user(&app, "u6").await;
        app.post(
            &identity(),
            json!({"user": {"extId": "u7", "loginId": "u7"}}),
        )
        .await
        .assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: profile",
        );
        assert_no_user(&app, "u7").await;
    }
);

dual_test!(
    archiving_deletes_credentials_archives_profiles_and_freezes_the_user,
    |app| {
        let victim = app
            .seed_user("Default", "victim", &["UserAdmin"], false, true, None)
            .await;
        let targets = format!("{CORE}/Default/users/victim/dispatch-targets");
        let r = app
            .post(
                &targets,
                json!({"extId": "dt-1", "deviceId": "device-1", "target": "push-token-1",
                       "signingKey": "signing-key", "appId": "ch.example.app",
                       "name": "My phone", "dispatcher": "fcmpush"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let uafs = format!("{CORE}/Default/users/victim/fido-authenticators");
        let r = app
            .post(
                &uafs,
                json!({"extId": "uaf-1", "aaid": "4E4E#4005", "keyId": "a2V5LTE",
                       "authenticatorVersion": "1.0", "publicKey": "uaf-public-key",
                       "publicKeyAlgorithm": "UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW",
                       "appId": "https://example.com/facets", "dispatchTargetExtId": "dt-1"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let repo = app.services.repo();
        let client = repo.client_by_ext_id("Default").await.unwrap().unwrap();
        let user_id = repo
            .user_by_ext_id(client.meta.id, "victim")
            .await
            .unwrap()
            .unwrap()
            .meta
            .id;
        assert!(repo.password_hash(user_id).await.unwrap().is_some());

        let r = app
            .post(&format!("{}/archive", user("victim")), json!({}))
            .await;
        assert_eq!(r.status, 204, "{}", r.body);

        assert_eq!(repo.password_hash(user_id).await.unwrap(), None);
        let r = app.get(&targets).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"], json!([]));
        let r = app.get(&uafs).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"], json!([]));
        let p = app
            .get(&format!(
                "{CORE}/Default/profiles/{}",
                victim.profile_ext_id
            ))
            .await;
        assert_eq!(p.body["profileState"], "archived");
        let u = app.get(&user("victim")).await;
        assert_eq!(u.body["userState"], "archived");
        // The archived user's authorizations went with its profile: its token grants nothing.
        let r = app
            .send(app.req_as(&victim.token, reqwest::Method::GET, &user("admin")))
            .await;
        assert_eq!(r.status, 401, "{}", r.body);

        app.patch(&user("victim"), json!({"remarks": "too late"}))
            .await
            .assert_error(
                422,
                "errors.modifyArchivedUser",
                "The archived user with extId 'victim' cannot be modified.",
            );
        app.post(
            &format!("{}/password", user("victim")),
            json!({"password": "Another-Passw0rd"}),
        )
        .await
        .assert_error(
            422,
            "errors.modifyArchivedUser",
            "The archived user with extId 'victim' cannot be modified.",
        );
        // Archiving again changes nothing.
        let r = app
            .post(&format!("{}/archive", user("victim")), json!({}))
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(
            app.get(&user("victim")).await.body["version"],
            u.body["version"]
        );
    }
);

dual_test!(
    archiving_needs_the_archive_right_and_never_the_caller_itself,
    |app| {
        let hd = app
            .seed_user("Default", "hd", &["Helpdesk"], false, true, None)
            .await;
        app.seed_user("Default", "x", &["SelfAdmin"], false, true, None)
            .await;
        let r = app
            .send(app.req_as(
                &hd.token,
                reqwest::Method::POST,
                &format!("{}/archive", user("x")),
            ))
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.code(), "errors.insufficientRightsFunction");
        app.post(&format!("{}/archive", user("admin")), json!({}))
            .await
            .assert_error(
                422,
                "errors.unsupportedOperation",
                "A caller cannot archive its own user.",
            );
        app.post(&format!("{}/archive", user("ghost")), json!({}))
            .await
            .assert_error(
                404,
                "errors.noRecord",
                "A user with extId 'ghost' doesn't exist on client with name Default",
            );
    }
);

// ---- deputedProfileExtId ----

fn profile(ext_id: &str) -> String {
    format!("{CORE}/Default/profiles/{ext_id}")
}

async fn make_profile(app: &TestApp, user_ext: &str, body: serde_json::Value) -> idm_tests::Reply {
    app.post(&format!("{CORE}/Default/users/{user_ext}/profiles"), body)
        .await
}

dual_test!(
    deleting_a_user_clears_the_deputy_of_every_other_profile_that_named_one_of_its_profiles,
    |app| {
        app.seed_user("Default", "boss", &["SelfAdmin"], false, true, None)
            .await;
        let deputy = app
            .seed_user("Default", "dep", &["SelfAdmin"], false, true, None)
            .await;
        let bystander = app
            .seed_user("Default", "by", &["SelfAdmin"], false, true, None)
            .await;
        // Two profiles of others name the deputy's profile; one names the bystander's; the
        // deputy's own second profile names its first (deleted with it).
        for (owner, ext, names) in [
            ("boss", "boss-2", deputy.profile_ext_id.as_str()),
            ("boss", "boss-3", deputy.profile_ext_id.as_str()),
            ("boss", "boss-4", bystander.profile_ext_id.as_str()),
            ("dep", "dep-2", deputy.profile_ext_id.as_str()),
        ] {
            let r = make_profile(
                &app,
                owner,
                json!({"extId": ext, "unitExtId": "Default-root", "deputedProfileExtId": names}),
            )
            .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        let r = app.delete(&user("dep")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        for ext in ["boss-2", "boss-3"] {
            let r = app.get(&profile(ext)).await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert!(r.body.get("deputedProfileExtId").is_none(), "{}", r.body);
            // Clearing it is a change of the profile.
            assert_eq!(r.body["version"], 2, "{}", r.body);
        }
        let r = app.get(&profile("boss-4")).await;
        assert_eq!(
            r.body["deputedProfileExtId"],
            bystander.profile_ext_id.as_str(),
            "an unrelated deputy stays"
        );
        assert_eq!(app.get(&profile("dep-2")).await.status, 404);
        assert_eq!(app.get(&user("dep")).await.status, 404);
    }
);

dual_test!(
    a_profile_names_another_profile_of_its_client_as_deputy,
    |app| {
        app.create_client("other", "Other").await;
        app.seed_user("Default", "boss", &["SelfAdmin"], false, true, None)
            .await;
        let deputy = app
            .seed_user("Default", "dep", &["SelfAdmin"], false, true, None)
            .await;
        let foreign = app
            .seed_user("other", "far", &["SelfAdmin"], false, true, None)
            .await;
        let r = make_profile(
            &app,
            "boss",
            json!({"extId": "boss-2", "unitExtId": "Default-root",
                   "deputedProfileExtId": deputy.profile_ext_id}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.get(&profile("boss-2")).await;
        assert_eq!(
            r.body["deputedProfileExtId"],
            deputy.profile_ext_id.as_str()
        );

        // Unknown, in another client, or itself: refused, naming the field.
        for bad in ["nope", foreign.profile_ext_id.as_str(), "boss-3"] {
            make_profile(
                &app,
                "boss",
                json!({"extId": "boss-3", "unitExtId": "Default-root",
                       "deputedProfileExtId": bad}),
            )
            .await
            .assert_error(
                422,
                "errors.invalidParameter",
                "The following fields are not valid: deputedProfileExtId",
            );
        }
        app.patch(&profile("boss-2"), json!({"deputedProfileExtId": "boss-2"}))
            .await
            .assert_error(
                422,
                "errors.invalidParameter",
                "The following fields are not valid: deputedProfileExtId",
            );
        // PATCH clears it with "".
        let r = app
            .patch(&profile("boss-2"), json!({"deputedProfileExtId": ""}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.get("deputedProfileExtId").is_none(), "{}", r.body);
        // Deleting the deputy removes the reference.
        let r = app
            .patch(
                &profile("boss-2"),
                json!({"deputedProfileExtId": deputy.profile_ext_id}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app.delete(&profile(&deputy.profile_ext_id)).await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app.get(&profile("boss-2")).await;
        assert!(r.body.get("deputedProfileExtId").is_none(), "{}", r.body);
        // The identity call validates it as part of the profile.
        app.post(
            &identity(),
            identity_body(
                "u9",
                json!({"unitExtId": "Default-root", "deputedProfileExtId": "nope"}),
            ),
        )
        .await
        .assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: profile.deputedProfileExtId",
        );
        assert_no_user(&app, "u9").await;
    }
);
