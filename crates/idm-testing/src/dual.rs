//! The one dual-backend test macro, shared by the black-box suite (this crate) and the
//! repository contract tests of `idm-diesel`, which include this file with
//! `#[path = "../../../tests/src/dual.rs"] mod dual;`. They cannot share it through a
//! dependency: `idm-tests` depends on `idm-server` and so on `idm-diesel`, and a dev-dependency
//! back would build the whole server for the adapter's tests. So this file names nothing
//! outside itself except what the caller supplies (and `tokio`, which both have).

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
///   (only meaningful in `idm-tests`).
/// - `dual_test!(name, setup = f, |x: T| { .. })`: `f(Backend) -> impl Future<Output =
///   Option<T>>` builds the fixture; `None` means "backend not available" (PostgreSQL without
///   `IDM_TEST_DATABASE_URL`: the setup prints SKIPPED and the test passes).
///
/// The body is compiled once (as `run`) and called from both tests.
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

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(fixture) = ($setup)($crate::Backend::Postgres).await {
                    run(fixture).await;
                }
            }
        }
    };
}
