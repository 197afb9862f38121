//! Records the git commit of the build (for `idm_build_info`), when git and a repository are
//! available; offline and without failing the build otherwise.

use std::process::Command;

include!("../../build-support/postgres_tests.rs");

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn main() {
    // The multi-process tests run on both backends (ignored without a test database).
    postgres_test_cfg();
    println!("cargo:rerun-if-env-changed=IDM_GIT_COMMIT");
    if std::env::var_os("IDM_GIT_COMMIT").is_some() {
        // Set by the packager; passes through to `option_env!` as is.
        return;
    }
    // Rebuild when HEAD moves (a commit or a checkout).
    for path in ["HEAD", "logs/HEAD"] {
        if let Some(p) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    if let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) {
        println!("cargo:rustc-env=IDM_GIT_COMMIT={commit}");
    }
}
