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
        // the connection they use.
        for _ in 0..2 {
            assert_eq!(app.get(&path).await.status, 200);
        }
        let (status, statements, prepares) = app
            .statements_during(async { app.get(&path).await.status })
            .await;
        assert_eq!(status, 200);
        eprintln!(
            "{:?}: statements {statements}, prepares {prepares}",
            app.backend
        );
        assert!(
            (1..=3).contains(&statements),
            "a client GET (caller resolution + client look-up) ran {statements} statements"
        );
        assert_eq!(
            prepares, 0,
            "a warm request must not prepare statements again"
        );
    }
);
