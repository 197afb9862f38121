//! PostgreSQL's pipelined point reads (`database.pipelined_reads`, idm-diesel `pipeline`): the
//! ★ read answered over the async workers' own tokio-postgres connections gives the answers
//! the libpq pool gives, 404s included, and a read whose pipelined connection died is answered
//! over the pool while the connection is reopened. On SQLite nothing is pipelined.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use idm_tests::{dual_test, Backend, TestApp, CORE};

/// A server whose PostgreSQL connections carry an `application_name` unique to this test, so
/// the test can find its pipelined connections in `pg_stat_activity` among other tests'.
async fn named(backend: Backend) -> Option<(TestApp, String)> {
    named_with(backend, 5000).await
}

/// [`named`] with the database checkout timeout, which is also how long a pipelined read
/// waits for its answer. One HTTP worker, so one pipelined connection serves every read: the
/// HTTP client may open a new connection for any request, which another worker, whose
/// pipelined connection is still closed, could take.
async fn named_with(backend: Backend, checkout_timeout_ms: u64) -> Option<(TestApp, String)> {
    let name = format!("idm-test-{}", uuid::Uuid::new_v4().simple());
    let app_name = name.clone();
    let app = idm_tests::spawn_with(backend, move |s| {
        s.server.workers = Some(1);
        s.database.checkout_timeout_ms = checkout_timeout_ms;
        if backend == Backend::Postgres {
            s.database.url.0 = format!("{}&application_name={app_name}", s.database.url.0);
        }
    })
    .await?;
    Some((app, name))
}

/// The backend pids of this server's pipelined connections.
fn pipelined_pids(admin: &mut diesel::PgConnection, name: &str) -> Vec<i32> {
    // The name the adapter gives them: the URL's application_name and this suffix.
    diesel::select(diesel::dsl::sql::<
        diesel::sql_types::Array<diesel::sql_types::Integer>,
    >(&format!(
        "(SELECT coalesce(array_agg(pid ORDER BY pid), '{{}}') FROM pg_stat_activity \
         WHERE application_name = '{name} (pipelined reads)')"
    )))
    .get_result(admin)
    .unwrap()
}

/// `idm_db_reads_pipelined_total` from `/metrics`.
async fn pipelined(app: &TestApp) -> u64 {
    app.metric("idm_db_reads_pipelined_total").await
}

/// The ★ path of a seeded user's profile and its first answer (over the pool: a worker's
/// first read only starts opening its pipelined connection).
async fn star(app: &TestApp) -> (String, (u16, serde_json::Value)) {
    app.seed_user("Default", "u1", &["UserAdmin"], false, false, None)
        .await;
    let star = format!("{CORE}/Default/profiles/u1-profile/unit");
    let first = app.get(&star).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["extId"], "Default-root");
    (star, (200, first.body))
}

/// Sends `GET path` until one answer was pipelined (at most `within`), asserting that every
/// answer on the way is `expected`; returns whether one was.
async fn until_pipelined(
    app: &TestApp,
    path: &str,
    expected: &(u16, serde_json::Value),
    within: Duration,
) -> bool {
    let check = |r: &idm_tests::Reply| {
        assert_eq!(&(r.status, r.body.clone()), expected, "GET {path}");
    };
    first_pipelined(app, path, within, check).await.is_some()
}

/// Sends `GET path` until one answer was pipelined (at most `within`); every answer on the
/// way, over either path, must pass `check`. Returns the pipelined answer.
async fn first_pipelined(
    app: &TestApp,
    path: &str,
    within: Duration,
    check: impl Fn(&idm_tests::Reply),
) -> Option<(u16, serde_json::Value)> {
    let start = Instant::now();
    while start.elapsed() < within {
        let before = pipelined(app).await;
        let r = app.get(path).await;
        check(&r);
        if pipelined(app).await > before {
            return Some((r.status, r.body));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

dual_test!(
    star_reads_go_over_the_pipelined_connection_on_postgresql_and_fall_back_to_the_pool_when_it_dies,
    setup = named,
    |fixture: (TestApp, String)| {
        let (app, name) = fixture;
        let (star, unit) = star(&app).await;
        let r = app.get(&format!("{CORE}/Default/profiles/nope/unit")).await;
        r.assert_error(404, "errors.noRecord", "Profile doesn't exist with extId 'nope'");
        let no_profile = (r.status, r.body);
        let r = app.get(&format!("{CORE}/nope/profiles/u1-profile/unit")).await;
        r.assert_error(404, "errors.noRecord", "Client doesn't exist with extId 'nope'");
        let no_client = (r.status, r.body);
        let cases = [
            (star.clone(), &unit),
            (format!("{CORE}/Default/profiles/nope/unit"), &no_profile),
            (format!("{CORE}/nope/profiles/u1-profile/unit"), &no_client),
        ];
        if app.backend == Backend::Sqlite {
            for (path, expected) in &cases {
                let r = app.get(path).await;
                assert_eq!(&(r.status, r.body), *expected, "GET {path}");
            }
            assert_eq!(pipelined(&app).await, 0);
            return;
        }
        // The found unit and both 404s, each answered over the pipeline at least once and
        // the same on every path.
        for (path, expected) in &cases {
            assert!(
                until_pipelined(&app, path, expected, Duration::from_secs(10)).await,
                "GET {path} was never answered over the pipelined connection"
            );
        }

        // Kill this server's pipelined connections: reads keep their answers (the pool
        // answers while the workers reopen theirs), then go over the pipeline again.
        let mut admin = diesel::PgConnection::establish(&app.database_url).unwrap();
        assert!(!pipelined_pids(&mut admin, &name).is_empty());
        let pipelined_name = format!("{name} (pipelined reads)");
        let killed: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            &format!(
                "(SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = '{pipelined_name}')"
            ),
        ))
        .get_result(&mut admin)
        .unwrap();
        assert!(killed >= 1, "no pipelined connection named {pipelined_name}");
        for _ in 0..20 {
            let r = app.get(&star).await;
            assert_eq!((r.status, r.body), unit, "a read after the kill");
        }
        assert!(
            until_pipelined(&app, &star, &unit, Duration::from_secs(10)).await,
            "the pipelined connection was not reopened"
        );
    }
);

dual_test!(
    a_pipelined_read_that_waits_past_the_checkout_timeout_is_answered_over_the_pool_and_its_connection_replaced,
    setup = |backend| named_with(backend, 300),
    |fixture: (TestApp, String)| {
        let (app, name) = fixture;
        let (star, unit) = star(&app).await;
        if app.backend == Backend::Sqlite {
            assert_eq!(pipelined(&app).await, 0);
            return;
        }
        assert!(until_pipelined(&app, &star, &unit, Duration::from_secs(10)).await);
        let mut admin = diesel::PgConnection::establish(&app.database_url).unwrap();
        let before = pipelined_pids(&mut admin, &name);
        assert!(!before.is_empty());

        // A lock that every ★ read waits for, held four times the pipeline's patience.
        let url = app.database_url.clone();
        let (locked, is_locked) = tokio::sync::oneshot::channel();
        let locker = tokio::task::spawn_blocking(move || {
            use diesel::connection::SimpleConnection;
            let mut conn = diesel::PgConnection::establish(&url).unwrap();
            conn.batch_execute("BEGIN; LOCK TABLE units IN ACCESS EXCLUSIVE MODE")
                .unwrap();
            locked.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(1200));
            conn.batch_execute("COMMIT").unwrap();
        });
        is_locked.await.unwrap();
        let counted = pipelined(&app).await;
        let r = app.get(&star).await;
        locker.await.unwrap();
        assert_eq!((r.status, r.body), unit, "the read held up by the lock");
        assert_eq!(
            pipelined(&app).await,
            counted,
            "the read was answered over the pipeline after the lock, not over the pool"
        );
        // The connection that kept the read waiting is closed ...
        let start = Instant::now();
        loop {
            let now = pipelined_pids(&mut admin, &name);
            if before.iter().any(|pid| !now.contains(pid)) {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the pipelined connection that timed out is still open"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // ... and reads go over a new one.
        assert!(until_pipelined(&app, &star, &unit, Duration::from_secs(10)).await);
    }
);

dual_test!(
    concurrent_star_reads_while_a_second_instance_moves_a_profile_each_get_their_own_profiles_unit,
    setup = named,
    |fixture: (TestApp, String)| {
        let (app, _name) = fixture;
        let (star, root) = star(&app).await;
        let r = app
            .post(
                &format!("{CORE}/Default/units"),
                idm_tests::json!({"extId": "eng", "parentUnitExtId": "Default-root",
                    "name": "Engineering", "profileless": false}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        // A second profile that stays in `eng` while the first one moves back and forth: an
        // answer delivered to the wrong one of the reads in flight together shows up as the
        // wrong unit.
        app.seed_user("Default", "u2", &["UserAdmin"], false, false, None)
            .await;
        let r = app
            .put(&format!("{CORE}/Default/profiles/u2-profile/unit/eng"))
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
        let star2 = format!("{CORE}/Default/profiles/u2-profile/unit");
        let eng = app.get(&star2).await;
        assert_eq!(eng.body["extId"], "eng", "{}", eng.body);
        let eng = (200, eng.body);
        if app.backend == Backend::Postgres {
            assert!(until_pipelined(&app, &star2, &eng, Duration::from_secs(10)).await);
        }
        let before = pipelined(&app).await;

        let other = app.second_instance().await;
        let mover = async {
            for i in 0..20 {
                let to = if i % 2 == 0 { "eng" } else { "Default-root" };
                let r = other
                    .put(&format!("{CORE}/Default/profiles/u1-profile/unit/{to}"))
                    .await;
                assert_eq!(r.status, 204, "{}", r.body);
            }
        };
        // Eight readers at once: over one HTTP worker, so on PostgreSQL their look-ups share
        // its one pipelined connection.
        let readers = futures::future::join_all((0..8).map(|_| async {
            for _ in 0..25 {
                let r = app.get(&star2).await;
                assert_eq!((r.status, r.body), eng, "the profile that never moves");
                let r = app.get(&star).await;
                assert_eq!(r.status, 200, "{}", r.body);
                let unit = r.body["extId"].as_str().unwrap_or_default().to_owned();
                assert!(unit == "eng" || unit == "Default-root", "{}", r.body);
            }
        }));
        tokio::join!(mover, readers);
        let r = app.get(&star).await;
        assert_eq!(
            (r.status, r.body),
            root,
            "twenty moves end where they began"
        );
        if app.backend == Backend::Postgres {
            assert!(pipelined(&app).await > before, "no read was pipelined");
        } else {
            assert_eq!(pipelined(&app).await, 0);
        }
    }
);

/// An assertion on one answer.
type Check = Box<dyn Fn(&idm_tests::Reply)>;

dual_test!(
    the_look_ups_of_a_client_a_unit_and_a_user_go_over_the_pipelined_connection_on_postgresql_with_the_pools_answers,
    setup = named,
    |fixture: (TestApp, String)| {
        let (app, _name) = fixture;
        app.seed_user("Default", "u1", &["UserAdmin"], false, false, None)
            .await;
        let found = |field: &'static str, ext_id: &'static str| {
            move |r: &idm_tests::Reply| {
                assert_eq!(r.status, 200, "{}", r.body);
                assert_eq!(r.body[field], ext_id, "{}", r.body);
            }
        };
        let missing = |message: &'static str| {
            move |r: &idm_tests::Reply| r.assert_error(404, "errors.noRecord", message)
        };
        let cases: Vec<(String, Check)> = vec![
            (format!("{CORE}/clients/Default"), Box::new(found("extId", "Default"))),
            (
                format!("{CORE}/clients/nope"),
                Box::new(missing("Client doesn't exist with extId 'nope'")),
            ),
            (
                format!("{CORE}/Default/units/Default-root"),
                Box::new(found("extId", "Default-root")),
            ),
            (
                format!("{CORE}/Default/units/nope"),
                Box::new(missing("Unit doesn't exist with extId 'nope'")),
            ),
            (format!("{CORE}/Default/users/u1"), Box::new(found("extId", "u1"))),
            (
                format!("{CORE}/Default/users/nope"),
                Box::new(missing("A user with extId 'nope' doesn't exist on client with name Default")),
            ),
            (
                format!("{CORE}/nope/users/u1"),
                Box::new(missing("Client doesn't exist with extId 'nope'")),
            ),
        ];
        if app.backend == Backend::Sqlite {
            for (path, check) in &cases {
                check(&app.get(path).await);
            }
            assert_eq!(pipelined(&app).await, 0);
            return;
        }
        // Each read answered over the pipeline at least once, and the same over either path
        // (the first answers of a worker come from the pool).
        for (path, check) in &cases {
            let answer = first_pipelined(&app, path, Duration::from_secs(10), check)
                .await
                .unwrap_or_else(|| {
                    panic!("GET {path} was never answered over the pipelined connection")
                });
            for _ in 0..3 {
                let r = app.get(path).await;
                assert_eq!((r.status, r.body), answer, "GET {path}");
            }
        }

        // A user's lifecycle: each write's look-up (the client with its rules, the user with
        // its values, the user) goes over the pipeline, and the writes do what they do.
        let step = |counted: u64, now: u64, what: &str| {
            assert!(now > counted, "the look-up of the {what} was not pipelined");
            now
        };
        let users = format!("{CORE}/Default/users");
        let mut counted = pipelined(&app).await;
        let r = app
            .post(
                &users,
                idm_tests::json!({"extId": "lc", "loginId": "lc",
                    "name": {"firstName": "Life", "familyName": "Cycle"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        counted = step(counted, pipelined(&app).await, "create");
        let r = app
            .patch(
                &format!("{users}/lc"),
                idm_tests::json!({"remarks": "patched", "name": {"firstName": "Patched"}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["name"]["firstName"], "Patched", "{}", r.body);
        assert_eq!(r.body["remarks"], "patched", "{}", r.body);
        counted = step(counted, pipelined(&app).await, "patch");
        let r = app
            .patch(&format!("{users}/lc"), idm_tests::json!({"userState": "disabled"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["userState"], "disabled", "{}", r.body);
        counted = step(counted, pipelined(&app).await, "disable");
        let r = app.delete(&format!("{users}/lc")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        counted = step(counted, pipelined(&app).await, "delete");
        // And their 404s, with the pool's messages.
        let r = app
            .patch(&format!("{users}/lc"), idm_tests::json!({"remarks": "gone"}))
            .await;
        r.assert_error(404, "errors.noRecord", "A user with extId 'lc' doesn't exist on client with name Default");
        counted = step(counted, pipelined(&app).await, "patch of a deleted user");
        let r = app
            .post(
                &format!("{CORE}/nope/users"),
                idm_tests::json!({"extId": "lc2", "loginId": "lc2",
                    "name": {"familyName": "Cycle"}}),
            )
            .await;
        r.assert_error(404, "errors.noRecord", "Client doesn't exist with extId 'nope'");
        step(counted, pipelined(&app).await, "create in a missing client");
        let r = app.get(&format!("{users}/lc")).await;
        r.assert_error(404, "errors.noRecord", "A user with extId 'lc' doesn't exist on client with name Default");
    }
);
