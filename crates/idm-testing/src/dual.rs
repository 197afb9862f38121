//! The one dual-backend test macro, shared by this crate (and through it the black-box suite)
//! and the repository contract tests of `idm-diesel`, which include this file by path (via
//! `tests/src/dual.rs`). They cannot share it through a dependency: `idm-testing` depends on
//! `idm-server` and so on `idm-diesel`, and a dev-dependency back would build the whole server
//! for the adapter's tests. So this file names nothing outside itself except what the caller
//! supplies (and `tokio`, which every caller has).

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temp SQLite file.
    Sqlite,
    /// A fresh schema in `IDM_TEST_DATABASE_URL`.
    Postgres,
}

/// Declares one test body that runs on both backends, as `<name>::sqlite` and
/// `<name>::postgres`; each gets its own fresh database.
///
/// - `dual_test!(name, |app| { .. })`: the black-box default, a server from `$crate::spawn`
///   (only meaningful with `idm-testing`).
/// - `dual_test!(name, setup = f, |x: T| { .. })`: `f(Backend) -> impl Future<Output =
///   Option<T>>` builds the fixture; `None` means "backend not available" (PostgreSQL without
///   `IDM_TEST_DATABASE_URL`: the variant is compiled as `#[ignore]`, so `cargo test` reports
///   it as ignored, see `__postgres_variant!`; a setup that still finds no database prints
///   SKIPPED).
///
/// The body is compiled once (as `run`) and called from both tests. The calling crate needs
/// `tokio` with the `rt-multi-thread` and `macros` features.
///
/// ```no_run
/// use idm_testing::{dual_test, TestApp, CORE};
///
/// dual_test!(the_default_client_is_there, |app| {
///     let r = app.get(&format!("{CORE}/clients/Default")).await;
///     assert_eq!(r.status, 200, "{}", r.body);
/// });
///
/// // With a set-up of one's own, e.g. different settings:
/// dual_test!(
///     short_x_tokens,
///     setup = |backend| TestApp::builder()
///         .backend(backend)
///         .settings(|s| s.xtoken.ttl_seconds = 5)
///         .start(),
///     |app: TestApp| {
///         assert!(!app.admin_token.is_empty());
///     }
/// );
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! dual_test {
    ($name:ident, |$app:ident| $body:block) => {
        $crate::dual_test!($name, setup = $crate::spawn, |$app: $crate::TestApp| $body);
    };
    ($name:ident, setup = $setup:expr, |$arg:ident: $ty:ty| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($arg: $ty) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let fixture = ($setup)($crate::Backend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                run(fixture).await;
            }

            $crate::__postgres_variant! {
                async fn postgres() {
                    if let Some(fixture) = ($setup)($crate::Backend::Postgres).await {
                        run(fixture).await;
                    }
                }
            }
        }
    };
}

/// The PostgreSQL variant of a [`dual_test!`]: a test, `#[ignore]`d when the crate defining
/// this macro was built without a test database (`IDM_TEST_DATABASE_URL` unset and
/// `IDM_REQUIRE_POSTGRES` not `1`), so `cargo test` counts it as ignored instead of passed.
#[cfg(idm_no_postgres)]
#[doc(hidden)]
#[macro_export]
macro_rules! __postgres_variant {
    ($($test:tt)*) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore = "no test database: set IDM_TEST_DATABASE_URL"]
        $($test)*
    };
}

/// The PostgreSQL variant of a [`dual_test!`]: a test (a test database is configured).
#[cfg(not(idm_no_postgres))]
#[doc(hidden)]
#[macro_export]
macro_rules! __postgres_variant {
    ($($test:tt)*) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $($test)*
    };
}
