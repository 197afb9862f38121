//! Foundation: operations endpoints and the HTTP error mapping, on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, Reply, CORE};
use reqwest::Method;

/// Asserts nothing internal leaks into an error body.
fn assert_no_leak(r: &Reply) {
    let text = r.body.to_string().to_lowercase();
    for needle in [
        "diesel",
        "sqlite",
        "postgres",
        "panicked",
        "select ",
        "backtrace",
        "corrupt",
        "at line",
    ] {
        assert!(!text.contains(needle), "leak of {needle:?} in {text}");
    }
}

dual_test!(
    health_and_ready_answer_200_while_the_database_is_up,
    |app| {
        let r = app.send(app.http.get(app.url("/health"))).await;
        assert_eq!(r.status, 200);
        let r = app.send(app.http.get(app.url("/ready"))).await;
        assert_eq!(r.status, 200);
    }
);

dual_test!(unknown_route_returns_404_envelope, |app| {
    let r = app.get(&format!("{CORE}/no/such/route/here")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "errors.invalidUri");
    assert_no_leak(&r);
});

dual_test!(wrong_method_returns_405_envelope, |app| {
    let r = app
        .send(app.req(Method::PUT, &format!("{CORE}/clients")))
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.code(), "errors.unsupportedOperation");
    assert_no_leak(&r);
});

dual_test!(
    non_json_content_type_returns_415_unsupported_media_type,
    |app| {
        let r = app
            .send(
                app.req(Method::POST, &format!("{CORE}/clients"))
                    .header("content-type", "text/plain")
                    .body("name=x"),
            )
            .await;
        assert_eq!(r.status, 415);
        assert_eq!(r.code(), "errors.unsupportedMediaType");
        assert_no_leak(&r);
    }
);

dual_test!(unparseable_json_returns_400_json_processing_error, |app| {
    let r = app
        .send(
            app.req(Method::POST, &format!("{CORE}/clients"))
                .header("content-type", "application/json")
                .body("{\"name\": "),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "errors.jsonProcessingError");
    assert_no_leak(&r);
});

dual_test!(
    json_of_the_wrong_shape_returns_422_naming_the_field,
    |app| {
        let r = app
            .post(&format!("{CORE}/clients"), json!({"name": 5}))
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: name",
        );
    }
);

dual_test!(body_over_the_limit_returns_413, |app| {
    let big = "x".repeat(1024 * 1024 + 10);
    let r = app
        .send(
            app.req(Method::POST, &format!("{CORE}/clients"))
                .header("content-type", "application/json")
                .body(format!("{{\"name\":\"{big}\"}}")),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.code(), "errors.invalidData");
    assert_no_leak(&r);
});

dual_test!(
    unexpected_failure_returns_500_with_a_generic_message,
    |app| {
        // Corrupt a stored language map behind the server's back: reading it is an internal fault.
        app.sql("UPDATE clients SET display_name = 'not json' WHERE ext_id = 'Default'");
        let r = app.get(&format!("{CORE}/clients/Default")).await;
        r.assert_error(500, "errors.fatalError", "An unexpected error occurred.");
        assert_no_leak(&r);
    }
);

dual_test!(
    missing_bearer_token_returns_401_with_www_authenticate,
    |app| {
        let r = app
            .send(app.http.get(app.url(&format!("{CORE}/clients"))))
            .await;
        r.assert_error(401, "errors.invalidJWTToken", "Invalid JWT token.");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
);

/// A loopback TCP proxy in front of PostgreSQL that the test can cut, making the database
/// unreachable for the server while the test keeps running.
struct CuttableProxy {
    port: u16,
    cut: tokio::sync::watch::Sender<bool>,
}

impl CuttableProxy {
    async fn start(target: std::net::SocketAddr) -> CuttableProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            loop {
                let mut stop = watch.clone();
                tokio::select! {
                    _ = stop.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((mut inbound, _)) = accepted else { break };
                        let mut stop = watch.clone();
                        tokio::spawn(async move {
                            let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else { return };
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                                _ = stop.changed() => {}
                            }
                        });
                    }
                }
            }
        });
        CuttableProxy { port, cut }
    }

    fn cut(&self) {
        let _ = self.cut.send(true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_unreachable_returns_503_fatal_error_and_ready_turns_503_on_postgres() {
    let Some(base) = idm_tests::postgres_url() else {
        return;
    };
    // Route the server's PostgreSQL traffic through a proxy we can cut.
    let proxy = CuttableProxy::start("127.0.0.1:5432".parse().unwrap()).await;
    let via_proxy = base.replacen("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port), 1);
    assert_ne!(
        via_proxy, base,
        "IDM_TEST_DATABASE_URL must point at 127.0.0.1:5432"
    );
    let app = idm_tests::spawn_with(idm_tests::Backend::Postgres, |s| {
        let url =
            s.database
                .url
                .0
                .replacen("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port), 1);
        s.database.url = idm_server::settings::Secret(url);
        s.database.checkout_timeout_ms = 300;
    })
    .await
    .unwrap();
    assert_eq!(
        app.get(&format!("{CORE}/clients/Default")).await.status,
        200
    );
    proxy.cut();
    let r = app.get(&format!("{CORE}/clients/Default")).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.code(), "errors.fatalError");
    assert_no_leak(&r);
    let ready = app.send(app.http.get(app.url("/ready"))).await;
    assert_eq!(ready.status, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_locked_past_busy_timeout_returns_503_on_sqlite() {
    let app = idm_tests::spawn_with(idm_tests::Backend::Sqlite, |s| {
        s.database.sqlite_busy_timeout_ms = 100;
    })
    .await
    .unwrap();
    // Another process holds the write lock: the server's write waits busy_timeout, then the
    // database counts as unavailable.
    let path = app.database_url.trim_start_matches("sqlite://").to_owned();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let mut c = diesel::SqliteConnection::establish(&path).unwrap();
        c.batch_execute("BEGIN IMMEDIATE; UPDATE clients SET remarks = 'held';")
            .unwrap();
        locked_tx.send(()).unwrap();
        let _ = release_rx.recv_timeout(std::time::Duration::from_secs(10));
        c.batch_execute("ROLLBACK").unwrap();
    });
    locked_rx.recv().unwrap();
    let r = app
        .patch(&format!("{CORE}/clients/Default"), json!({"remarks": "x"}))
        .await;
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.code(), "errors.fatalError");
    assert_no_leak(&r);
}

dual_test!(
    a_nul_byte_in_a_path_segment_is_404_not_a_database_error,
    |app| {
        let r = app.get(&format!("{CORE}/clients/abc%00def")).await;
        assert_eq!(r.status, 404, "{}", r.body);
        assert_no_leak(&r);
    }
);

dual_test!(
    a_nul_character_in_a_body_string_is_422_naming_the_field,
    |app| {
        let r = app
            .patch(
                &format!("{CORE}/clients/Default"),
                json!({"remarks": "a\u{0}b"}),
            )
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: remarks",
        );
    }
);

dual_test!(
    a_client_named_like_a_literal_core_segment_keeps_the_literal_paths_first_and_its_own_below,
    |app| {
        app.create_client("clients", "Clients").await;
        // No literal core path fits `clients/units/{x}`: the client-scoped unit read serves it.
        let r = app.get(&format!("{CORE}/clients/units/clients-root")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["clientExtId"], "clients");
        assert_eq!(r.body["extId"], "clients-root");
        // `clients/{extId}` fits `clients/units`: the client `units`, not the units of the
        // client `clients` (JAX-RS prefers the literal segment).
        let r = app.get(&format!("{CORE}/clients/units")).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'units'",
        );
        // An escaped literal is decoded before matching: still the literal path.
        let r = app.get(&format!("{CORE}/%63lients/units")).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Client doesn't exist with extId 'units'",
        );
        // An ordinary client's scoped path is unaffected.
        let r = app.get(&format!("{CORE}/Default/units/Default-root")).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
);
