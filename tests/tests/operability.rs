//! Operability: the OpenAPI document matches the served routes (no drift), the docs page works
//! offline, metrics by route template, request ids.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use idm_tests::{dual_test, json, test_settings, Reply, CORE};
use reqwest::Method;
use serde_json::Value;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// A documented path with every `{param}` replaced by a value that names nothing.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push_str("no-such-thing");
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            ops.insert((path.clone(), method.to_uppercase()));
        }
    }
    ops
}

fn is_route_miss(r: &Reply) -> bool {
    (r.status == 404 && r.code() == "errors.invalidUri") || r.status == 405
}

dual_test!(
    every_documented_operation_is_served_and_every_other_method_on_a_documented_path_answers_405,
    |app| {
        let doc = app.get("/openapi.json").await;
        assert_eq!(doc.status, 200);
        let ops = documented(&doc.body);
        assert!(ops.len() >= 10, "{ops:?}");
        let paths: BTreeSet<&String> = ops.iter().map(|(p, _)| p).collect();
        for path in paths {
            let url = concrete(path);
            for method in METHODS {
                let m = Method::from_bytes(method.as_bytes()).unwrap();
                let mut rb = app.req(m, &url);
                if matches!(method, "POST" | "PUT" | "PATCH") {
                    rb = rb.json(&json!({}));
                }
                let r = app.send(rb).await;
                if ops.contains(&(path.clone(), method.to_owned())) {
                    assert!(
                        !is_route_miss(&r),
                        "{method} {path} is documented but not served: {r:?}"
                    );
                    assert!(r.status < 500, "{method} {url}: {r:?}");
                } else {
                    assert_eq!(
                        r.status, 405,
                        "{method} {path} is served but not documented: {r:?}"
                    );
                    assert_eq!(r.code(), "errors.unsupportedOperation");
                }
            }
        }
    }
);

dual_test!(
    the_served_document_lists_exactly_the_operations_of_the_route_table,
    |app| {
        let doc = app.get("/openapi.json").await;
        let served: BTreeSet<(String, String)> =
            idm_server::app::api(&test_settings("sqlite://unused"))
                .operations()
                .into_iter()
                .collect();
        assert_eq!(documented(&doc.body), served);
        let patterns = idm_server::app::api(&test_settings("sqlite://unused")).patterns();
        let doc_paths: BTreeSet<String> = doc.body["paths"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(patterns.iter().cloned().collect::<BTreeSet<_>>(), doc_paths);
        assert_eq!(
            patterns.len(),
            doc_paths.len(),
            "a path registered twice: {patterns:?}"
        );
    }
);

/// Lines of `text` (comments stripped) that register a route with actix directly.
fn direct_registrations(text: &str) -> Vec<String> {
    const FORBIDDEN: [&str; 15] = [
        ".route(",
        "web::resource(",
        "resource(&",
        "resource(\"",
        ".service(",
        "web::scope(",
        "#[get(",
        "#[post(",
        "#[put(",
        "#[patch(",
        "#[delete(",
        "#[route(",
        "web::get()",
        "web::post()",
        "web::patch()",
    ];
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .filter(|l| FORBIDDEN.iter().any(|f| l.contains(f)) || l.contains("web::delete()"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_drift_scan_catches_a_route_registered_without_documentation() {
    let undocumented = r#"
        pub fn configure(cfg: &mut web::ServiceConfig) {
            cfg.service(resource(&format!("{CORE}/things")).route(web::get().to(list)));
        }
    "#;
    assert!(!direct_registrations(undocumented).is_empty());
    let documented = r#"
        /// cfg.service(...) in a comment is fine
        pub fn routes(api: &mut Api) { api.add(__path_list, list); }
    "#;
    assert!(direct_registrations(documented).is_empty());
}

#[test]
fn no_route_is_registered_outside_the_documented_route_table() {
    // The route table and its 405 helper (both in doc.rs) are the only places
    // that talk to actix's router; everything else must go through `Api::add`, which cannot
    // serve a handler without its #[utoipa::path] documentation.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/idm-server/src");
    let mut files = vec![src.join("app.rs"), src.join("main.rs")];
    for entry in std::fs::read_dir(src.join("routes")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != "mod.rs") {
            files.push(path);
        }
    }
    let mut offenders = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in direct_registrations(&text) {
            offenders.push(format!("{}: {}", file.display(), line.trim()));
        }
    }
    assert!(
        offenders.is_empty(),
        "routes registered without documentation (use `api.add(__path_h, h)`, see docs/openapi.md):\n{}",
        offenders.join("\n")
    );
}

dual_test!(
    the_document_is_openapi_3_1_with_security_schemes_error_envelope_and_unique_operation_ids,
    |app| {
        let doc = app.get("/openapi.json").await.body;
        assert_eq!(doc["openapi"], "3.1.0");
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["bearer"]["type"], "http");
        assert_eq!(schemes["bearer"]["scheme"], "bearer");
        assert_eq!(schemes["bearer"]["bearerFormat"], "JWT");
        assert_eq!(schemes["xToken"]["type"], "apiKey");
        assert_eq!(schemes["xToken"]["in"], "header");
        assert_eq!(schemes["xToken"]["name"], "X-Token");
        let envelope = &doc["components"]["schemas"]["ErrorEnvelope"];
        assert_eq!(envelope["required"], json!(["errors"]));
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap().to_owned();
                assert!(ids.insert(id.clone()), "duplicate operationId {id}");
                assert!(op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .any(|s| s.starts_with('2')));
                // Every path parameter is declared.
                for seg in path.split('/').filter(|s| s.starts_with('{')) {
                    let name = seg.trim_matches(|c| c == '{' || c == '}');
                    let declared = op["parameters"].as_array().is_some_and(|ps| {
                        ps.iter().any(|p| p["name"] == name && p["in"] == "path")
                    });
                    assert!(
                        declared,
                        "{method} {path}: path parameter {name} undocumented"
                    );
                }
                if path.starts_with("/nevisidm/") {
                    assert!(
                        op["security"]
                            .as_array()
                            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some())),
                        "{method} {path}: no bearer security"
                    );
                    for status in ["401", "403"] {
                        assert_eq!(
                            op["responses"][status]["content"]["application/json"]["schema"]
                                ["$ref"],
                            "#/components/schemas/ErrorEnvelope",
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
        let post = &doc["paths"][format!("{CORE}/clients")]["post"];
        assert_eq!(
            post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/CreateClientBody"
        );
        for status in ["400", "413", "415", "422"] {
            assert!(
                post["responses"][status].is_object(),
                "POST clients {status}"
            );
        }
        assert!(post["responses"]["422"]["description"]
            .as_str()
            .unwrap()
            .contains("errors.duplicateName"));
    }
);

dual_test!(
    docs_page_and_its_assets_are_served_by_the_binary_without_internet,
    |app| {
        let page = app.http.get(app.url("/docs")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = page.text().await.unwrap();
        assert!(html.contains("/docs/swagger-ui-bundle.js"));
        assert!(html.contains("/openapi.json"));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "external reference: {html}"
        );
        for (asset, ct) in [
            ("/docs/swagger-ui-bundle.js", "text/javascript"),
            ("/docs/swagger-ui.css", "text/css"),
        ] {
            let r = app.http.get(app.url(asset)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{asset}");
            assert!(r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ct));
            assert!(r.bytes().await.unwrap().len() > 10_000, "{asset}");
        }
    }
);

dual_test!(
    a_plain_request_id_is_echoed_and_a_missing_or_unsafe_one_is_replaced_by_a_uuid,
    |app| {
        let r = app
            .send(
                app.req(Method::GET, &format!("{CORE}/clients"))
                    .header("X-Request-Id", "trace-42.a_b:c"),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-request-id"), Some("trace-42.a_b:c"));

        // Errors carry it too.
        let r = app
            .send(
                app.http
                    .get(app.url("/no/such/path"))
                    .header("X-Request-Id", "err-1"),
            )
            .await;
        assert_eq!(r.status, 404);
        assert_eq!(r.header("x-request-id"), Some("err-1"));

        let mut seen = BTreeSet::new();
        for supplied in [
            None,
            Some("has space"),
            Some("x\"y"),
            Some(&*"z".repeat(129)),
        ] {
            let mut rb = app.http.get(app.url("/health"));
            if let Some(s) = supplied {
                rb = rb.header("X-Request-Id", s);
            }
            let r = app.send(rb).await;
            let id = r.header("x-request-id").unwrap().to_owned();
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{supplied:?} -> {id}");
            assert!(seen.insert(id), "request ids must differ");
        }
    }
);

fn metric(text: &str, line_prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(line_prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

dual_test!(
    metrics_count_requests_by_route_template_method_and_status_with_latency_and_pool_gauges,
    |app| {
        for _ in 0..3 {
            assert_eq!(
                app.get(&format!("{CORE}/clients/nobody-{}", uuid::Uuid::new_v4()))
                    .await
                    .status,
                404
            );
        }
        assert_eq!(
            app.get(&format!("{CORE}/clients/Default")).await.status,
            200
        );
        assert_eq!(app.get("/nowhere/at/all").await.status, 404);

        let r = app.http.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        let text = r.text().await.unwrap();
        let route = format!("{CORE}/clients/{{extId}}");
        assert_eq!(
            metric(
                &text,
                &format!(
                    "idm_http_requests_total{{route=\"{route}\",method=\"GET\",status=\"404\"}}"
                )
            ),
            Some(3.0),
            "{text}"
        );
        assert_eq!(
            metric(
                &text,
                &format!(
                    "idm_http_requests_total{{route=\"{route}\",method=\"GET\",status=\"200\"}}"
                )
            ),
            Some(1.0)
        );
        assert_eq!(
            metric(
                &text,
                "idm_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"
            ),
            Some(1.0)
        );
        assert!(
            !text.contains("nobody-"),
            "raw paths must not become labels"
        );
        assert!(
            !text.contains("/nowhere"),
            "raw paths must not become labels"
        );
        assert_eq!(
            metric(
                &text,
                &format!(
                    "idm_http_request_duration_seconds_count{{route=\"{route}\",method=\"GET\"}}"
                )
            ),
            Some(4.0)
        );
        assert_eq!(
        metric(&text, &format!("idm_http_request_duration_seconds_bucket{{route=\"{route}\",method=\"GET\",le=\"+Inf\"}}")),
        Some(4.0)
    );
        assert!(text.contains("# TYPE idm_http_request_duration_seconds histogram"));
        let max = metric(&text, "idm_db_pool_max_connections ").unwrap();
        assert_eq!(max, 4.0, "the test pool size");
        let open = metric(&text, "idm_db_pool_connections ").unwrap();
        let idle = metric(&text, "idm_db_pool_idle_connections ").unwrap();
        let in_use = metric(&text, "idm_db_pool_in_use_connections ").unwrap();
        assert!(
            open <= max && idle <= open && in_use == open - idle,
            "{text}"
        );
        let build = text
            .lines()
            .find(|l| l.starts_with("idm_build_info{"))
            .unwrap();
        assert!(
            build.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))),
            "{build}"
        );
        assert!(build.contains("commit=\""), "{build}");

        // Every route label is a documented template (or the one unmatched bucket).
        let doc = app.get("/openapi.json").await.body;
        for line in text
            .lines()
            .filter(|l| l.starts_with("idm_http_requests_total{"))
        {
            let label = line
                .split("route=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            assert!(
                label == "unmatched" || doc["paths"].get(label).is_some(),
                "metrics route label {label} is not a documented path"
            );
        }
    }
);
