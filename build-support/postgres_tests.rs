// Included by the build scripts of the crates whose tests run on both backends (`include!`).
//
// Without a test database (`IDM_TEST_DATABASE_URL` unset and PostgreSQL not required), the
// PostgreSQL variant of every dual-backend test is compiled as `#[ignore]`, so `cargo test`
// counts it as *ignored*, not as passed: a plain `make test` says how much did not run. With
// `IDM_REQUIRE_POSTGRES=1` they always run (and fail without a database).

/// Emits `cfg(idm_no_postgres)` when the PostgreSQL test variants cannot run.
fn postgres_test_cfg() {
    println!("cargo::rustc-check-cfg=cfg(idm_no_postgres)");
    println!("cargo::rerun-if-env-changed=IDM_TEST_DATABASE_URL");
    println!("cargo::rerun-if-env-changed=IDM_REQUIRE_POSTGRES");
    let url = std::env::var("IDM_TEST_DATABASE_URL").unwrap_or_default();
    let required = std::env::var("IDM_REQUIRE_POSTGRES").as_deref() == Ok("1");
    if url.trim().is_empty() && !required {
        println!("cargo::rustc-cfg=idm_no_postgres");
    }
}
