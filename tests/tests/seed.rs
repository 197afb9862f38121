//! `idm seed`: the bulk loader the benchmarks stand on. Small plans, both backends: counts,
//! deterministic extIds and creation times (keyset tokens computed without asking the
//! database), the unit tree, and that the API keeps working on top of seeded data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, RunQueryDsl};
use idm_server::seed::{SeedOutcome, SeedPlan};
use idm_tests::{dual_test, json, test_settings, Backend, TestApp, CORE};

const PLAN: SeedPlan = SeedPlan {
    clients: 2,
    users_per_client: 250,
    terms: 3,
    batch_size: 100,
    properties: true,
};

async fn seed(app: &TestApp, plan: SeedPlan) -> SeedOutcome {
    idm_server::seed::run(&test_settings(&app.database_url), plan)
        .await
        .expect("seed runs")
}

/// Evaluates one scalar SQL expression of type `$ty` (a Diesel SQL type) on the test database.
macro_rules! scalar {
    ($app:expr, $ty:ty, $sql:expr) => {{
        let q = diesel::dsl::sql::<$ty>(&$sql);
        match $app.backend {
            Backend::Sqlite => {
                let path = $app.database_url.trim_start_matches("sqlite://");
                let mut c = diesel::SqliteConnection::establish(path).unwrap();
                diesel::select(q).get_result(&mut c).unwrap()
            }
            Backend::Postgres => {
                let mut c = diesel::PgConnection::establish(&$app.database_url).unwrap();
                diesel::select(q).get_result(&mut c).unwrap()
            }
        }
    }};
}

fn count(app: &TestApp, table_and_filter: &str) -> i64 {
    scalar!(
        app,
        BigInt,
        format!("(SELECT COUNT(*) FROM {table_and_filter})")
    )
}

fn text(app: &TestApp, sql: &str) -> String {
    scalar!(app, Text, format!("({sql})"))
}

dual_test!(
    seeding_creates_the_planned_rows_with_deterministic_ext_ids,
    |app| {
        let before_users = count(&app, "users");
        let outcome = seed(&app, PLAN).await;
        let r = outcome.report;
        assert_eq!(
            (
                r.clients,
                r.units,
                r.users,
                r.profiles,
                r.authorizations,
                r.terms
            ),
            (2, 26, 500, 500, 500, 3)
        );
        assert_eq!(count(&app, "users") - before_users, 500);
        assert_eq!(
        count(
            &app,
            "users u JOIN clients c ON c.id = u.client_id WHERE c.ext_id = 'c2' AND u.state = 'active'"
        ),
        250
    );
        assert_eq!(count(&app, "profiles WHERE ext_id LIKE 'c%-u%-p'"), 500);
        assert_eq!(count(&app, "units WHERE ext_id LIKE 'c1-%'"), 13);
        assert_eq!(
            count(
                &app,
                "terms WHERE active = TRUE AND ext_id IN ('t1','t2','t3')"
            ),
            3
        );
        // Every tenth user is a UserAdmin, the rest SelfAdmin; password-less.
        assert_eq!(
            count(
                &app,
                "authorizations a JOIN roles r ON r.id = a.role_id \
             WHERE r.name = 'UserAdmin' AND a.ext_id LIKE 'c1-u%'"
            ),
            25
        );
        assert_eq!(
            count(
                &app,
                "credentials p JOIN users u ON u.id = p.user_id \
             WHERE p.cred_type = 'Password' AND u.ext_id LIKE 'c%-u%'"
            ),
            0
        );
        assert_eq!(r.property_values, 500);
        let json = outcome.to_json();
        assert_eq!(json["users"], 500);
        assert!(outcome.to_text().contains("admin"));
    }
);

dual_test!(
    a_seeded_profile_sits_in_the_documented_unit_of_the_tree,
    |app| {
        seed(&app, PLAN).await;
        // User 5 → non-root unit number 4: the three children come first, then c1-ou1-1, c1-ou1-2.
        let unit = text(
            &app,
            "SELECT un.ext_id FROM profiles p JOIN units un ON un.id = p.unit_id \
         WHERE p.ext_id = 'c1-u5-p'",
        );
        assert_eq!(unit, "c1-ou1-2");
        let hname = text(
            &app,
            "SELECT hierarchical_name FROM units WHERE ext_id = 'c1-ou1-2'",
        );
        assert_eq!(hname, "c1-root/c1-ou1/c1-ou1-2");
        // The path is the root's path followed by the parent's and its own key.
        let consistent = count(
        &app,
        "units g JOIN units p ON p.id = g.parent_id JOIN units r ON r.id = p.parent_id \
         WHERE g.ext_id = 'c1-ou1-2' AND r.ext_id = 'c1-root' \
         AND g.path = r.path || CAST(p.id AS VARCHAR(20)) || '/' || CAST(g.id AS VARCHAR(20)) || '/'",
    );
        assert_eq!(consistent, 1);
        // Through the API once the profile-unit endpoint exists on this branch.
        let r = app.get(&format!("{CORE}/c1/profiles/c1-u5-p/unit")).await;
        if r.code() != "errors.invalidUri" {
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.body["extId"], "c1-ou1-2");
        }
    }
);

dual_test!(seeded_creation_times_give_computable_keyset_tokens, |app| {
    seed(&app, PLAN).await;
    // The 100th user of c2 in keyset order is c2-u100, and the token after it is computable.
    let hundredth = text(
        &app,
        "SELECT u.ext_id FROM users u JOIN clients c ON c.id = u.client_id \
         WHERE c.ext_id = 'c2' ORDER BY u.created, u.ext_id LIMIT 1 OFFSET 99",
    );
    assert_eq!(hundredth, "c2-u100");
    let token = PLAN.users_page_token(2, 2, 100).unwrap();
    assert_eq!(
        token,
        format!("{}_c2-u100", idm_server::seed::SEED_EPOCH_MILLIS + 250 + 99)
    );
    // Through the API once the users list exists on this branch: page 2 starts at c2-u101.
    let r = app
        .get(&format!(
            "{CORE}/clients/c2/users?limit=100&continuationToken={token}"
        ))
        .await;
    if r.code() != "errors.invalidUri" {
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"][0]["extId"], "c2-u101");
    }
    // The timestamps read back through Diesel: client c2 was created 250 ms after the epoch.
    let c2 = app.get(&format!("{CORE}/clients/c2")).await;
    assert_eq!(c2.status, 200, "{}", c2.body);
    assert_eq!(c2.body["created"], "2020-01-01T00:00:00Z");
});

dual_test!(the_api_keeps_working_on_top_of_seeded_data, |app| {
    seed(&app, PLAN).await;
    // Keys continue after the seeded ones (PostgreSQL sequences were moved past them): a new
    // client and its root unit insert without a key collision.
    let created = app
        .post(
            &format!("{CORE}/clients"),
            json!({"extId": "after-seed", "name": "after-seed"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    // The contention scenario's target: PATCH a seeded client with its version.
    let r = app
        .patch(
            &format!("{CORE}/clients/c1"),
            json!({"remarks": "patched", "version": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["version"], 2);
    let stale = app
        .patch(
            &format!("{CORE}/clients/c1"),
            json!({"remarks": "again", "version": 1}),
        )
        .await;
    assert_eq!(stale.status, 409);
    // A seeded user is a valid caller (active, with an authorization): the token resolves.
    let token = app.token_for("c1", "c1-u1");
    let me = app
        .send(app.req_as(&token, reqwest::Method::GET, &format!("{CORE}/clients/c1")))
        .await;
    assert_ne!(me.status, 401, "{}", me.body);
});

dual_test!(seeding_twice_refuses_the_taken_ext_ids, |app| {
    let small = SeedPlan {
        clients: 1,
        users_per_client: 10,
        terms: 1,
        batch_size: 5,
        properties: true,
    };
    seed(&app, small).await;
    let again = idm_server::seed::run(&test_settings(&app.database_url), small).await;
    assert!(again.is_err());
    assert_eq!(count(&app, "clients WHERE ext_id = 'c1'"), 1);
});

dual_test!(
    seeded_employee_numbers_are_found_by_the_users_list_property_filter,
    |app| {
        seed(&app, PLAN).await;
        let r = app
            .get(&format!(
                "{CORE}/clients/c2/users?properties.employeeNumber=E2-57"
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{}", r.body);
        assert_eq!(items[0]["extId"], "c2-u57");
        assert_eq!(items[0]["properties"]["employeeNumber"], "E2-57");
        // Another client's number matches nobody here.
        let r = app
            .get(&format!(
                "{CORE}/clients/c2/users?properties.employeeNumber=E1-57"
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"], json!([]));
    }
);
