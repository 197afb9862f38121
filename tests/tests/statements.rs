//! Cost of a request in database statements, read from the server's own counters
//! (`idm_db_statements_total`, `idm_db_statement_prepares_total` on `/metrics`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, CORE};

dual_test!(
    a_warm_client_get_runs_few_statements_and_prepares_none,
    |app| {
        if std::env::var_os("RUST_LOG").is_some() {
            idm_server::app::init_logging(&idm_tests::test_settings(&app.database_url));
        }
        let path = format!("{CORE}/clients/Default");
        // The first requests prepare every statement the request needs into the cache of
        // the connection they use; `warm_cost` fails if a run never comes that prepares none.
        let (status, statements) = warm_cost(&app, &path).await;
        assert_eq!(status, 200);
        eprintln!("{:?}: statements {statements}", app.backend);
        assert!(
            (1..=3).contains(&statements),
            "a client GET (caller resolution + client look-up) ran {statements} statements"
        );
    }
);

/// A server whose caller cache outlives the test, so a warm request's statements are the use
/// case's own (resolving the caller is a cache hit; the cache is flushed by every write), and
/// without the audit trail: the counts of the request path itself (the trail's own statements
/// are counted by the test after these).
async fn unaudited(backend: idm_tests::Backend) -> Option<idm_tests::TestApp> {
    idm_tests::spawn_with(backend, |s| {
        s.auth.caller_cache_ttl_ms = 600_000;
        s.audit.enabled = false;
    })
    .await
}

/// Statements of one warm GET: the first run of the request that prepares nothing (statement
/// caches and caller cache warm). On PostgreSQL a worker's first ★ reads go over the pool
/// while its pipelined connection opens (idm-diesel `pipeline`), and the first read on that
/// connection prepares there: warm is reached within a few runs, never if a statement is
/// prepared on every run.
async fn warm_cost(app: &idm_tests::TestApp, path: &str) -> (u16, u64) {
    let send = || async { app.get(path).await.status };
    assert_eq!(send().await, 200, "{path}");
    for _ in 0..20 {
        let (status, statements, prepares) = app.statements_during(send()).await;
        if prepares == 0 {
            return (status, statements);
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("GET {path} prepared statements again on every run");
}

/// Everything the one-object GETs below address: a user with a profile, a dispatch target
/// with an attestation, a FIDO UAF credential, a personal question, terms and an
/// application.
async fn populate(app: &idm_tests::TestApp) {
    use idm_tests::json;
    app.seed_user("Default", "u1", &["UserAdmin"], false, false, None)
        .await;
    let ok = |r: idm_tests::Reply, what: &str| assert_eq!(r.status, 201, "{what}: {}", r.body);
    let targets = format!("{CORE}/Default/users/u1/dispatch-targets");
    for dt in ["dt-1", "dt-2"] {
        let r = app
            .post(
                &targets,
                json!({
                    "extId": dt, "deviceId": "device-1", "target": "push-1",
                    "signingKey": "k", "appId": "ch.example.app", "name": dt,
                    "appAttestation": {
                        "name": format!("att-{dt}"), "receipt": "r", "publicKey": "p",
                        "deviceId": "device-1"
                    }
                }),
            )
            .await;
        ok(r, dt);
    }
    let r = app
        .post(
            &format!("{CORE}/Default/users/u1/fido-authenticators"),
            json!({
                "extId": "uaf-1", "aaid": "4E4E#4005", "keyId": "a2V5LTE",
                "authenticatorVersion": "1.0", "publicKey": "pk",
                "publicKeyAlgorithm": "UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW",
                "appId": "https://example.com/facets", "dispatchTargetExtId": "dt-2"
            }),
        )
        .await;
    ok(r, "uaf-1");
    let r = app
        .post(
            &format!("{CORE}/Default/personal-questions"),
            json!({
                "extId": "pq-1", "stateName": "active",
                "displayName": {"EN": "Pet"}, "content": {"EN": "Pet name?"}
            }),
        )
        .await;
    ok(r, "pq-1");
    let r = app
        .post(
            &format!("{CORE}/applications"),
            json!({"extId": "app-1", "name": "App One", "displayed": true}),
        )
        .await;
    ok(r, "app-1");
    let r = app
        .post(
            &format!("{CORE}/terms"),
            json!({
                "extId": "terms-1", "name": "Terms", "active": true, "silentAcceptance": false,
                "termsVersion": "1",
                "urls": {"en": "https://example.com/terms"}, "applicationExtIds": ["app-1"]
            }),
        )
        .await;
    ok(r, "terms-1");
}

dual_test!(
    every_warm_get_of_one_object_runs_one_statement,
    // Unaudited: on PostgreSQL the sealer of `populate`'s writes would hold a pooled
    // connection meanwhile, and a GET on a connection not yet warm prepares its statement.
    setup = unaudited,
    |app: idm_tests::TestApp| {
        populate(&app).await;
        let u = format!("{CORE}/Default/users/u1");
        let objects = [
            format!("{CORE}/clients/Default"),
            u.clone(),
            format!("{CORE}/Default/units/Default-root"),
            format!("{CORE}/Default/profiles/u1-profile"),
            // ★ seed 004
            format!("{CORE}/Default/profiles/u1-profile/unit"),
            format!("{CORE}/Default/profiles/u1-profile/authorizations/u1-UserAdmin"),
            format!("{u}/dispatch-targets/dt-1"),
            format!("{u}/dispatch-targets/dt-1/app-attestation"),
            format!("{u}/fido-authenticators/uaf-1"),
            format!("{CORE}/Default/personal-questions/pq-1"),
            format!("{CORE}/applications/app-1"),
            format!("{CORE}/terms/terms-1"),
        ];
        let mut costs = Vec::new();
        for path in &objects {
            let (status, statements) = warm_cost(&app, path).await;
            assert_eq!(status, 200, "{path}");
            costs.push((path.as_str(), statements));
        }
        eprintln!("{:?}: {costs:#?}", app.backend);
        for (path, statements) in costs {
            assert_eq!(statements, 1, "GET {path} ran {statements} statements");
        }
    }
);

dual_test!(
    the_star_delete_of_a_dispatch_target_runs_one_look_up_and_its_transaction,
    setup = unaudited,
    |app: idm_tests::TestApp| {
        populate(&app).await;
        // dt-2 has an attestation and a linked FIDO credential: every statement of the
        // transaction has work to do.
        let path = |dt: &str| format!("{CORE}/Default/users/u1/dispatch-targets/{dt}");
        // Deleting dt-1 warms the caller cache and the statements (a write flushes the
        // caller cache, so warm it again with a read).
        assert_eq!(app.delete(&path("dt-1")).await.status, 204);
        assert_eq!(app.get(&path("dt-2")).await.status, 200);
        let (reply, statements, prepares) = app.statements_during(app.delete(&path("dt-2"))).await;
        assert_eq!(reply.status, 204, "{}", reply.body);
        assert_eq!(prepares, 0, "a warm delete prepared statements again");
        eprintln!(
            "{:?}: DELETE dispatch target: {statements} statements",
            app.backend
        );
        // One look-up, then BEGIN, unlink the credentials, delete the attestation, delete
        // the target, COMMIT: at most 4 besides BEGIN and COMMIT.
        assert!(
            statements <= 6,
            "{:?}: the delete ran {statements} statements",
            app.backend
        );
    }
);

dual_test!(
    a_client_patch_runs_one_look_up_and_one_update_returning_the_row,
    setup = unaudited,
    |app: idm_tests::TestApp| {
        let path = format!("{CORE}/clients/Default");
        for _ in 0..2 {
            assert_eq!(app.get(&path).await.status, 200);
        }
        let (reply, statements, _) = app
            .statements_during(app.patch(&path, idm_tests::json!({"remarks": "counted"})))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["remarks"], "counted");
        eprintln!("{:?}: PATCH client: {statements} statements", app.backend);
        assert!(
            statements <= 2,
            "{:?}: PATCH client ran {statements} statements",
            app.backend
        );
    }
);

/// The caller cache outliving the test, the audit trail on, and one connection: every
/// statement of the requests (and of PostgreSQL's sealer between them) runs on the same
/// statement cache, so a statement that is prepared again shows up as a prepare. Without the
/// pipelined connections, which would be more connections, each opening in the background
/// and preparing there at a moment the warm-up cannot see (`warm_cost` covers them).
async fn one_connection(backend: idm_tests::Backend) -> Option<idm_tests::TestApp> {
    idm_tests::spawn_with(backend, |s| {
        s.auth.caller_cache_ttl_ms = 600_000;
        s.database.pool_size = Some(1);
        s.database.pipelined_reads = false;
    })
    .await
}

dual_test!(
    the_audit_trail_adds_three_statements_to_a_write_on_sqlite_and_none_on_postgresql,
    setup = one_connection,
    |app: idm_tests::TestApp| {
        let path = format!("{CORE}/clients/Default");
        // Warm: statement caches, the caller cache, the chain's head row.
        for i in 0..2 {
            let r = app
                .patch(&path, idm_tests::json!({"remarks": format!("warm {i}")}))
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(app.get(&path).await.status, 200);
        }
        let (reply, statements, prepares) = app
            .statements_during(app.patch(&path, idm_tests::json!({"remarks": "counted"})))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        // Everything the warm-up ran stays prepared (whether the record's INSERT is cacheable
        // at all is the adapter's unit test: an uncached statement prepares nothing either).
        assert_eq!(
            prepares, 0,
            "{:?}: a warm audited write prepared again",
            app.backend
        );
        eprintln!(
            "{:?}: audited PATCH client: {statements} statements",
            app.backend
        );
        // The path's two (look-up, UPDATE ... RETURNING), now inside BEGIN ... COMMIT, plus
        // the trail's own. SQLite chains the record in the write's transaction: lock the head
        // (UPDATE ... RETURNING), insert the record, move the head. On PostgreSQL the UPDATE
        // itself inserts it into `audit_pending` (`audit::WithRecord`), and it is chained after
        // the commit, in statements counted apart (`idm_audit_seal_statements_total`).
        let trail = match app.backend {
            idm_tests::Backend::Sqlite => 3,
            idm_tests::Backend::Postgres => 0,
        };
        assert!(
            statements <= 2 + 2 + trail,
            "{:?}: audited PATCH client ran {statements} statements",
            app.backend
        );
        let records = app.get(&format!("{CORE}/Default/audit")).await;
        assert_eq!(records.status, 200, "{}", records.body);
        let records = records.body["items"].as_array().unwrap().clone();
        assert_eq!(records.len(), 3, "one record per PATCH");
    }
);

dual_test!(
    an_audited_user_create_patch_disable_and_delete_are_one_write_statement_each_on_postgresql,
    setup = one_connection,
    |app: idm_tests::TestApp| {
        use idm_tests::json;
        let users = format!("{CORE}/Default/users");
        let create = |n: &str| {
            app.post(
                &users,
                json!({"extId": n, "loginId": n, "name": {"firstName": "A", "familyName": "B"}}),
            )
        };
        let app = &app;
        let patch = |n: &str| {
            let path = format!("{users}/{n}");
            async move { app.patch(&path, json!({"remarks": "r"})).await }
        };
        // Warm: statement caches, the caller cache, the chain's head row.
        for n in ["w1", "w2"] {
            assert_eq!(create(n).await.status, 201);
            assert_eq!(patch(n).await.status, 200);
            assert_eq!(app.delete(&format!("{users}/{n}")).await.status, 204);
        }
        let (created, create_cost, _) = app.statements_during(create("u1")).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let (patched, patch_cost, _) = app.statements_during(patch("u1")).await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        let (disabled, disable_cost, _) = app
            .statements_during(app.patch(&format!("{users}/u1"), json!({"userState": "disabled"})))
            .await;
        assert_eq!(disabled.status, 200, "{}", disabled.body);
        let (deleted, delete_cost, _) = app
            .statements_during(app.delete(&format!("{users}/u1")))
            .await;
        assert_eq!(deleted.status, 204, "{}", deleted.body);
        eprintln!(
            "{:?}: audited user create {create_cost}, patch {patch_cost}, disable {disable_cost}, delete {delete_cost} statements",
            app.backend
        );
        if app.backend == idm_tests::Backend::Postgres {
            // Create: the client's look-up (its policy's parameters and whether any property
            // is mandatory in the same statement; none is, so no definitions to read) and the
            // INSERT carrying its record — no BEGIN, no COMMIT, no separate record.
            assert_eq!(create_cost, 2, "audited user create");
            // Patch: the look-up with the policy, the UPDATE carrying its record (the client
            // defines no property: no values to read for the answer).
            assert_eq!(patch_cost, 2, "audited user patch");
            // Disable: the same, the profiles' cascade riding in the UPDATE.
            assert_eq!(disable_cost, 2, "audited user disable");
            // Delete: the look-up, and the DELETE carrying the credential and profile deletes,
            // the deputies' update and its record.
            assert_eq!(delete_cost, 2, "audited user delete");
        }
        // One record each, whatever the path.
        let records = app.get(&format!("{CORE}/Default/audit")).await;
        assert_eq!(records.status, 200, "{}", records.body);
        let mine: Vec<_> = records.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["objectExtId"] == "u1")
            .map(|r| {
                (
                    r["operation"]
                        .as_str()
                        .unwrap()
                        .split(' ')
                        .next()
                        .unwrap()
                        .to_owned(),
                    r["versionBefore"].clone(),
                    r["versionAfter"].clone(),
                )
            })
            .collect();
        assert_eq!(
            mine,
            vec![
                (
                    "POST".to_owned(),
                    serde_json::Value::Null,
                    serde_json::Value::Null
                ),
                ("PATCH".to_owned(), json!(1), json!(2)),
                ("PATCH".to_owned(), json!(2), json!(3)),
                (
                    "DELETE".to_owned(),
                    serde_json::Value::Null,
                    serde_json::Value::Null
                ),
            ]
        );
    }
);

dual_test!(
    a_user_patch_answers_with_the_values_its_look_up_read_and_no_statement_of_their_own,
    setup = one_connection,
    |app: idm_tests::TestApp| {
        use idm_tests::json;
        for name in ["employeeNumber", "channel"] {
            let r = app
                .post(
                    "/nevisidm/api/core/v1/properties",
                    json!({"name": name, "type": "STRING", "scope": "USER_GLOBAL"}),
                )
                .await;
            assert_eq!(r.status, 201, "define {name}: {}", r.body);
        }
        let users = format!("{CORE}/Default/users");
        let r = app
            .post(
                &users,
                json!({"extId": "v1", "loginId": "v1",
                       "properties": {"employeeNumber": "4711", "channel": "email"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let path = format!("{users}/v1");
        let remarks = |n: u32| app.patch(&path, json!({"remarks": format!("r{n}")}));
        // Warm: statement caches, the caller cache, the chain's head row.
        for n in 0..2 {
            assert_eq!(remarks(n).await.status, 200);
        }
        let (patched, cost, _) = app.statements_during(remarks(2)).await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        assert_eq!(
            patched.body["properties"],
            json!({"employeeNumber": "4711", "channel": "email"})
        );
        eprintln!(
            "{:?}: user patch with values {cost} statements",
            app.backend
        );
        if app.backend == idm_tests::Backend::Postgres {
            // The look-up (policy and values in its statement) and the UPDATE with its record.
            assert_eq!(cost, 2, "a user patch of a client with property values");
        }
        // A patch that changes a value answers the value it wrote, and the next patch without
        // values answers it too, from its look-up.
        let changed = app
            .patch(&path, json!({"properties": {"channel": "sms"}}))
            .await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        assert_eq!(
            changed.body["properties"],
            json!({"employeeNumber": "4711", "channel": "sms"})
        );
        let after = remarks(3).await;
        assert_eq!(after.status, 200, "{}", after.body);
        assert_eq!(
            after.body["properties"],
            json!({"employeeNumber": "4711", "channel": "sms"})
        );
        assert_eq!(
            app.get(&path).await.body["properties"],
            after.body["properties"]
        );
        // A value removed is gone from the next answer; a user without values answers {}.
        let removed = app
            .patch(
                &path,
                json!({"properties": {"employeeNumber": null, "channel": ""}}),
            )
            .await;
        assert_eq!(removed.status, 200, "{}", removed.body);
        let empty = remarks(4).await;
        assert_eq!(empty.status, 200, "{}", empty.body);
        assert_eq!(empty.body["properties"], json!({}));
    }
);
