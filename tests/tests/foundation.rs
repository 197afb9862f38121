//! Foundation: operations endpoints and the HTTP error mapping, on both backends.

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
