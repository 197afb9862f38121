//! What a downstream crate's test looks like: start idm, create a user over the REST API as
//! the bootstrapped admin, read it back, and call the API as a seeded user.
//!
//! `cargo run -p idm-testing --example downstream` runs the flow once; the same file is built
//! as a test (`[[example]] test = true`), so `cargo test` runs it on both backends.

// An example is test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_testing::{json, Backend, Method, TestApp, CORE, PRINCIPAL};

/// The flow a downstream service would check against a real idm.
async fn a_user_created_over_the_api_reads_back(app: TestApp) {
    // As the admin, through the harness's helpers.
    let created = app
        .post(
            &format!("{CORE}/Default/users"),
            json!({
                "extId": "alice",
                "loginId": "alice",
                "name": {"firstName": "Alice", "familyName": "Example"},
                "contacts": {"email": "alice@example.com"}
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.location(), format!("{CORE}/Default/users/alice"));

    // As the admin, through a plain reqwest client (what code under test would be handed).
    let read = app
        .admin_client()
        .get(app.url(&format!("{CORE}/Default/users/alice")))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let body: serde_json::Value = read.json().await.unwrap();
    assert_eq!(body["name"]["familyName"], "Example");
    assert_eq!(body["contacts"]["email"], "alice@example.com");

    // As another user: seeded with a role and a profile, then a token minted for it.
    app.seed_user("Default", "bob", &["UserAdmin"], true, true, None)
        .await;
    let token = app.token_for("Default", "bob");
    let me = app
        .send(app.req_as(&token, Method::GET, &format!("{PRINCIPAL}/me")))
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["userExtId"], "bob");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let app = TestApp::builder()
        .backend(Backend::Sqlite)
        .start()
        .await
        .expect("SQLite is always available");
    a_user_created_over_the_api_reads_back(app).await;
    println!("ok: idm started, user created over the API and read back");
}

#[cfg(test)]
mod tests {
    use super::*;

    // `setup` builds each backend's server; PostgreSQL needs the `postgres` feature and
    // IDM_TEST_DATABASE_URL, and is reported SKIPPED otherwise.
    idm_testing::dual_test!(
        downstream_flow,
        setup = |backend| TestApp::builder().backend(backend).start(),
        |app: TestApp| {
            a_user_created_over_the_api_reads_back(app).await;
        }
    );
}
