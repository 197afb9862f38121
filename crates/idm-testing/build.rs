//! Marks the PostgreSQL variants of dual-backend tests as ignored when no test database is
//! configured (see `build-support/postgres_tests.rs`). The choice is made here, when this crate
//! is built, and carried by the `__postgres_variant!` macro it exports, so crates that use
//! `dual_test!` need no build script of their own.

include!("../../build-support/postgres_tests.rs");

fn main() {
    postgres_test_cfg();
}
