//! The audit trail (issue 15, idm extension): every successful write of the core API appends
//! one hash-chained record in its own transaction, a failed write none; `GET core/:c/audit`
//! reads a client's chain (right `AuditView`); verification finds an edited or deleted record.
//! Both backends; the concurrent chain test runs over two instances on one database.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_domain::audit::ChainBreak;
use idm_tests::{dual_test, json, TestApp, CORE};
use reqwest::Method;
use serde_json::Value;

const NO_AUDIT_VIEW: &str = "Permission denied: Caller does not have the required right 'AccessControl.AuditView' to perform this action";

fn audit(client: &str, query: &str) -> String {
    format!("{CORE}/{client}/audit{query}")
}

async fn records(app: &TestApp, client: &str, query: &str) -> Vec<Value> {
    let r = app.get(&audit(client, query)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

/// Every chain verifies; returns (chain, records) of each.
async fn assert_intact(app: &TestApp) -> Vec<(String, i64)> {
    let reports = app.services.verify_audit(None).await.unwrap();
    for r in &reports {
        assert_eq!(r.broken, None, "chain {} is broken", r.chain);
    }
    reports.into_iter().map(|r| (r.chain, r.verified)).collect()
}

/// A client `acme` with user `u1` (created, patched twice, password set) and user `u2`
/// (created and deleted): a mixed workload of creates, versioned updates, an action and a
/// delete.
async fn workload(app: &TestApp) {
    app.create_client("acme", "Acme").await;
    let users = format!("{CORE}/acme/users");
    for u in ["u1", "u2"] {
        let r = app
            .post(
                &users,
                json!({"extId": u, "loginId": u, "name": {"firstName": "A", "familyName": "B"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    for (version, remarks) in [(1, "one"), (2, "two")] {
        let r = app
            .patch(
                &format!("{users}/u1"),
                json!({"remarks": remarks, "version": version}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = app
        .post(
            &format!("{users}/u1/password"),
            json!({"password": "Very-Secret-Passw0rd!"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(app.delete(&format!("{users}/u2")).await.status, 204);
}

dual_test!(
    every_successful_write_appends_one_linked_record_naming_caller_object_versions_and_fields,
    |app| {
        workload(&app).await;
        // The client's create is a write of a global object: the caller's chain has it.
        let default = records(&app, "Default", "").await;
        assert_eq!(default.len(), 1, "{default:?}");
        assert_eq!(default[0]["objectType"], "clients");
        assert_eq!(default[0]["objectExtId"], "acme");
        assert_eq!(
            default[0]["operation"],
            "POST /nevisidm/api/core/v1/clients"
        );
        let items = records(&app, "acme", "").await;
        let summary: Vec<(String, String, Value, Value)> = items
            .iter()
            .map(|r| {
                (
                    r["operation"].as_str().unwrap().to_owned(),
                    format!("{}/{}", r["objectType"].as_str().unwrap(), r["objectExtId"]),
                    r["versionBefore"].clone(),
                    r["versionAfter"].clone(),
                )
            })
            .collect();
        let users = "/nevisidm/api/core/v1/{clientExtId}/users";
        let user = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}";
        assert_eq!(
            summary,
            vec![
                (
                    format!("POST {users}"),
                    "users/\"u1\"".into(),
                    Value::Null,
                    Value::Null
                ),
                (
                    format!("POST {users}"),
                    "users/\"u2\"".into(),
                    Value::Null,
                    Value::Null
                ),
                (
                    format!("PATCH {user}"),
                    "users/\"u1\"".into(),
                    json!(1),
                    json!(2)
                ),
                (
                    format!("PATCH {user}"),
                    "users/\"u1\"".into(),
                    json!(2),
                    json!(3)
                ),
                (
                    format!("POST {user}/password"),
                    "users/\"u1\"".into(),
                    Value::Null,
                    Value::Null
                ),
                (
                    format!("DELETE {user}"),
                    "users/\"u2\"".into(),
                    Value::Null,
                    Value::Null
                ),
            ]
        );
        for (i, r) in items.iter().enumerate() {
            assert_eq!(r["clientExtId"], "acme");
            assert_eq!(
                r["caller"],
                json!({"clientExtId": "Default", "userExtId": "admin"})
            );
            assert_eq!(r["seq"], json!(i + 1));
            assert_eq!(r["hash"].as_str().unwrap().len(), 64);
            let prev = if i == 0 {
                "0".repeat(64)
            } else {
                items[i - 1]["hash"].as_str().unwrap().to_owned()
            };
            assert_eq!(
                r["prevHash"],
                prev.as_str(),
                "record {} links to its predecessor",
                i + 1
            );
            assert!(!r["requestId"].as_str().unwrap().is_empty());
            assert!(r["time"].as_str().unwrap().ends_with('Z'));
        }
        assert_eq!(
            items[0]["fields"],
            json!(["extId", "loginId", "name.familyName", "name.firstName"])
        );
        assert_eq!(items[2]["fields"], json!(["remarks", "version"]));
        // Field names only: the password itself is nowhere in the trail.
        assert_eq!(items[4]["fields"], json!(["password"]));
        let whole = app.get(&audit("acme", "")).await.body.to_string();
        assert!(
            !whole.contains("Very-Secret"),
            "a secret value reached the trail"
        );
        assert_eq!(
            assert_intact(&app).await,
            vec![("Default".to_owned(), 1), ("acme".to_owned(), 6)]
        );
    }
);

dual_test!(
    a_failed_write_leaves_no_record_and_the_request_id_of_a_success_is_recorded,
    |app| {
        workload(&app).await;
        let before = records(&app, "acme", "").await.len();
        // Stale version (409), unknown user (404), invalid body (422): nothing committed.
        let user = format!("{CORE}/acme/users/u1");
        let r = app
            .patch(&user, json!({"remarks": "late", "version": 1}))
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        let r = app
            .patch(
                &format!("{CORE}/acme/users/nobody"),
                json!({"remarks": "x"}),
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.body);
        let r = app.patch(&user, json!({"remarks": 5})).await;
        assert_eq!(r.status, 422, "{}", r.body);
        // A second password is refused (the user has one).
        let r = app
            .post(
                &format!("{user}/password"),
                json!({"password": "Another-Passw0rd!"}),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(records(&app, "acme", "").await.len(), before);
        let r = app
            .send(
                app.req(Method::PATCH, &user)
                    .header("X-Request-Id", "audit-me-42")
                    .json(&json!({"remarks": "three", "version": 3})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let items = records(&app, "acme", "").await;
        assert_eq!(items.len(), before + 1);
        assert_eq!(items[before]["requestId"], "audit-me-42");
        assert_eq!(items[before]["versionAfter"], 4);
        // Reads are not writes.
        app.get(&user).await;
        assert_eq!(records(&app, "acme", "").await.len(), before + 1);
        assert_intact(&app).await;
    }
);

dual_test!(
    audited_writes_that_commit_together_chain_the_records_of_exactly_the_successful_ones,
    |app| {
        app.create_client("acme", "Acme").await;
        let users = format!("{CORE}/acme/users");
        // Thirty creates at once, ten of them repeating a taken extId (422): on SQLite they queue
        // for the one writer and commit in shared transactions, the failures among them.
        let app = &app;
        let users = &users;
        let statuses = futures::future::join_all((0..30).map(|i| async move {
            let n = format!("u{}", i % 20);
            let body =
                json!({"extId": n, "loginId": n, "name": {"firstName": "A", "familyName": "B"}});
            app.post(users, body).await.status
        }))
        .await;
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            20,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 201 || *s == 422),
            "{statuses:?}"
        );
        let chains = assert_intact(app).await;
        assert!(chains.contains(&("acme".to_owned(), 20)), "{chains:?}");
        let mut named: Vec<String> = records(app, "acme", "")
            .await
            .iter()
            .map(|r| r["objectExtId"].as_str().unwrap().to_owned())
            .collect();
        named.sort();
        let mut expected: Vec<String> = (0..20).map(|i| format!("u{i}")).collect();
        expected.sort();
        assert_eq!(
            named, expected,
            "one record per created user, none for a refused one"
        );
    }
);

dual_test!(
    an_edited_or_deleted_record_is_found_by_verification,
    |app| {
        workload(&app).await;
        assert_intact(&app).await;
        let verdict = |app: &TestApp| {
            let services = app.services.clone();
            async move {
                services
                    .verify_audit(Some("acme"))
                    .await
                    .unwrap()
                    .remove(0)
                    .broken
            }
        };
        // Edit record 3's caller: its own hash no longer matches.
        app.sql(
            "UPDATE audit_records SET caller_user = 'mallory' WHERE chain = 'acme' AND seq = 3",
        );
        assert_eq!(verdict(&app).await, Some(ChainBreak::Hash { seq: 3 }));
        app.sql("UPDATE audit_records SET caller_user = 'admin' WHERE chain = 'acme' AND seq = 3");
        assert_eq!(verdict(&app).await, None);
        // Remove a record from the middle, then one from the end.
        app.sql("DELETE FROM audit_records WHERE chain = 'acme' AND seq = 2");
        assert_eq!(
            verdict(&app).await,
            Some(ChainBreak::Gap {
                expected: 2,
                found: Some(3)
            })
        );
        app.sql("DELETE FROM audit_records WHERE chain = 'acme'");
        assert_eq!(
            verdict(&app).await,
            Some(ChainBreak::Gap {
                expected: 1,
                found: None
            })
        );
        // The other chain is untouched.
        let reports = app.services.verify_audit(Some("Default")).await.unwrap();
        assert_eq!(reports[0].broken, None);
    }
);

dual_test!(
    reading_the_trail_needs_audit_view_and_filters_by_object_caller_and_time,
    |app| {
        workload(&app).await;
        let admin_of_acme = app
            .seed_user("acme", "helper", &["UserAdmin"], false, true, None)
            .await;
        let r = app
            .send(app.req_as(&admin_of_acme.token, Method::GET, &audit("acme", "")))
            .await;
        r.assert_error(403, "errors.insufficientRightsFunction", NO_AUDIT_VIEW);
        let r = app.get(&audit("nowhere", "")).await;
        assert_eq!(r.status, 404, "{}", r.body);
        assert_eq!(r.code(), "errors.noRecord");
        // A client root of acme may read acme's trail.
        let root_of_acme = app
            .seed_user("acme", "auditor", &["ClientRoot"], false, true, None)
            .await;
        let r = app
            .send(app.req_as(&root_of_acme.token, Method::GET, &audit("acme", "")))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);

        let of_u2 = records(&app, "acme", "?objectType=users&objectExtId=u2").await;
        assert_eq!(of_u2.len(), 2, "create and delete of u2: {of_u2:?}");
        assert_eq!(records(&app, "acme", "?userExtId=admin").await.len(), 6);
        assert_eq!(records(&app, "acme", "?userExtId=helper").await.len(), 0);
        assert_eq!(records(&app, "acme", "?from=2000-01-01").await.len(), 6);
        assert_eq!(
            records(&app, "acme", "?from=2999-01-01T00:00:00Z")
                .await
                .len(),
            0
        );
        assert_eq!(records(&app, "acme", "?to=2000-01-01").await.len(), 0);
        // Keyset pages of 4: the token is the last record's seq.
        let r = app.get(&audit("acme", "?limit=4")).await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 4);
        let token = r.body["_pagination"]["continuationToken"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(token, "4");
        let r = app
            .get(&audit(
                "acme",
                &format!("?limit=4&continuationToken={token}"),
            ))
            .await;
        let rest = r.body["items"].as_array().unwrap();
        assert_eq!(rest.len(), 2);
        assert_eq!(rest[0]["seq"], 5);
        assert!(r.body["_pagination"].get("continuationToken").is_none());
        for bad in [
            "?sortBy=seq",
            "?from=yesterday",
            "?continuationToken=x",
            "?limit=-1",
        ] {
            let r = app.get(&audit("acme", bad)).await;
            assert_eq!(r.status, 422, "{bad}: {}", r.body);
            assert_eq!(r.code(), "errors.invalidParameter", "{bad}");
        }
    }
);

/// Rows still waiting in `audit_pending`.
fn pending(app: &TestApp) -> usize {
    app.sql_texts("SELECT CAST(id AS TEXT) AS t FROM audit_pending")
        .len()
}

dual_test!(
    writes_and_reads_racing_over_two_instances_chain_every_record_exactly_once,
    |app| {
        // On PostgreSQL a write leaves its record pending and each instance's sealer chains
        // them after the commit, while every read chains what is pending first: two instances
        // write and read one chain at once, and every read must see a gapless chain.
        app.create_client("race", "Race").await;
        let other = app.second_instance().await;
        let apps = std::sync::Arc::new([app, other]);
        let mut tasks = Vec::new();
        for i in 0..50 {
            let apps = apps.clone();
            tasks.push(tokio::spawn(async move {
                let app = &apps[i % 2];
                if i % 5 == 4 {
                    let items = records(app, "race", "?limit=100").await;
                    for (j, r) in items.iter().enumerate() {
                        assert_eq!(r["seq"], json!(j + 1), "a read saw a gap: {items:?}");
                    }
                } else {
                    let r = app
                        .post(
                            &format!("{CORE}/race/users"),
                            json!({"extId": format!("r{i}"), "loginId": format!("r{i}")}),
                        )
                        .await;
                    assert_eq!(r.status, 201, "{}", r.body);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let [app, _other] = &*apps;
        let items = records(app, "race", "?limit=100").await;
        assert_eq!(items.len(), 40, "one record per create: {items:?}");
        let mut created: Vec<&str> = items
            .iter()
            .map(|r| r["objectExtId"].as_str().unwrap())
            .collect();
        created.sort_unstable();
        created.dedup();
        assert_eq!(created.len(), 40, "each create chained exactly once");
        assert_eq!(pending(app), 0, "nothing left unchained after a read");
        let chains = assert_intact(app).await;
        assert!(chains.contains(&("race".to_owned(), 40)), "{chains:?}");
    }
);

dual_test!(
    records_a_stopped_instance_left_pending_are_chained_oldest_first_by_the_next_read,
    |app| {
        // The records are left in the chain of a client nobody writes to: this instance's
        // sealer chains only the chains its own writes marked, and the one the workload's
        // last write started may still be lingering, so it must find nothing of these.
        app.create_client("quiet", "Quiet").await;
        workload(&app).await;
        assert_intact(&app).await;
        // What an instance that stopped before its sealer ran leaves behind: the records of
        // committed writes, not yet in their chain.
        for (i, object) in ["late-1", "late-2"].iter().enumerate() {
            app.sql(&format!(
                "INSERT INTO audit_pending (chain, at_millis, caller_client, caller_user, \
                 request_id, operation, object_type, object_ext_id, fields) VALUES \
                 ('quiet', {}, 'Default', 'admin', 'late-{i}', \
                 'DELETE /nevisidm/api/core/v1/{{clientExtId}}/users/{{userExtId}}', 'users', \
                 '{object}', '[]')",
                1_790_000_000_000_i64 + i as i64
            ));
        }
        assert_eq!(pending(&app), 2);
        let items = records(&app, "quiet", "").await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0]["objectExtId"], "late-1");
        assert_eq!(items[0]["seq"], 1);
        assert_eq!(items[1]["objectExtId"], "late-2");
        assert_eq!(items[1]["seq"], 2);
        assert_eq!(items[1]["prevHash"], items[0]["hash"]);
        assert_eq!(pending(&app), 0);
        assert_eq!(
            assert_intact(&app).await,
            vec![
                ("Default".to_owned(), 2),
                ("acme".to_owned(), 6),
                ("quiet".to_owned(), 2)
            ]
        );
    }
);

dual_test!(
    a_chain_that_cannot_take_its_pending_records_is_reported_broken_by_verification,
    |app| {
        workload(&app).await;
        assert_intact(&app).await;
        // The head moved back by one: the next record would take a number already used, so
        // chaining the pending one fails. Reads and verification must still answer.
        app.sql("UPDATE audit_heads SET seq = seq - 1 WHERE chain = 'acme'");
        app.sql(
            "INSERT INTO audit_pending (chain, at_millis, caller_client, caller_user, \
             request_id, operation, object_type, fields) VALUES \
             ('acme', 1790000000000, 'Default', 'admin', 'late', 'POST /x', 'users', '[]')",
        );
        assert_eq!(records(&app, "acme", "").await.len(), 6);
        let report = app
            .services
            .verify_audit(Some("acme"))
            .await
            .unwrap()
            .remove(0);
        assert_eq!(
            report.broken,
            Some(ChainBreak::Head {
                head_seq: Some(5),
                last_seq: 6
            })
        );
        assert_eq!(pending(&app), 1, "the record stays pending, not lost");
    }
);

dual_test!(
    with_the_trail_switched_off_writes_append_nothing,
    setup = |backend| TestApp::builder()
        .backend(backend)
        .settings(|s| s.audit.enabled = false)
        .start(),
    |app: TestApp| {
        workload(&app).await;
        assert_eq!(records(&app, "acme", "").await.len(), 0);
        assert!(app.services.verify_audit(None).await.unwrap().is_empty());
    }
);
