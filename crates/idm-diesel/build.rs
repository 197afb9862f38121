//! Marks the PostgreSQL variants of dual-backend tests as ignored when no test database is
//! configured (see `build-support/postgres_tests.rs`).

include!("../../build-support/postgres_tests.rs");

fn main() {
    postgres_test_cfg();
}
