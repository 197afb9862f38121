//! In-process micro-benchmarks of the use cases (`idm_service::Services`) on SQLite, without
//! HTTP: what one request costs below the handler. `make bench-service`, i.e.
//! `cargo bench -p idm-server --bench service`; `-- --test` runs each benchmark once.
//!
//! The store, services and default admin are wired exactly as `idm serve` wires them
//! (`idm_server::app::{open_store, services, bootstrap_default_admin}`) on a temp SQLite file
//! with the real r2d2 pool; the caller is resolved once from a bearer token, as the server's
//! extractor does, and handed to every call.

// A bench is test code: a failed setup step should stop it loudly, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BatchSize, Criterion};
use idm_domain::access::Caller;
use idm_server::settings::{Secret, Settings};
use idm_service::clients::ClientPatch;
use idm_service::devices::{NewAppAttestation, NewDispatchTarget};
use idm_service::profiles::ProfileInput;
use idm_service::users::UserInput;
use idm_service::Services;
use tokio::runtime::Runtime;

const CLIENT: &str = "Default";
const USER: &str = "bench-user";
const PROFILE: &str = "bench-user-profile";

/// The temp directory of the benchmark database, removed at the end.
struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Everything the benchmarks share.
struct Fixture {
    services: Services,
    /// The bootstrapped Root admin (client `Default`, user `admin`), resolved once.
    admin: Caller,
    _db: TempDb,
}

async fn fixture() -> Fixture {
    let dir = std::env::temp_dir().join(format!("idm-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = TempDb(dir);
    let mut settings = Settings::default();
    settings.database.url = Secret(format!("sqlite://{}", db.0.join("idm.db").display()));
    settings.auth.hs256_secret = Some(Secret("bench-bearer-secret-0123456789".into()));
    settings.xtoken.secret = Some(Secret("bench-xtoken-secret-0123456789".into()));
    settings.bootstrap.admin_password = Some(Secret("Admin-Passw0rd".into()));

    let store = idm_server::app::open_store(&settings).unwrap();
    store.migrate().await.unwrap();
    let services = idm_server::app::services(&settings, &store).unwrap();
    idm_server::app::bootstrap_default_admin(&settings, &services)
        .await
        .unwrap();
    let token = services.mint_bearer(CLIENT, "admin", 3600).unwrap();
    let admin = services.resolve_caller(&token).await.unwrap();

    // The addressed user and profile (in the client's root unit), created as the API would.
    services
        .create_user(
            &admin,
            CLIENT,
            UserInput {
                ext_id: Some(USER.into()),
                login_id: Some(USER.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    services
        .create_profile(
            &admin,
            CLIENT,
            USER,
            ProfileInput {
                ext_id: Some(PROFILE.into()),
                unit_ext_id: Some(format!("{CLIENT}-root")),
                is_default_profile: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    Fixture {
        services,
        admin,
        _db: db,
    }
}

/// A dispatch target with its app attestation, as a phone registers it; `n` keeps the extId
/// and the attestation name (unique per user) apart.
fn new_target(n: u64) -> NewDispatchTarget {
    NewDispatchTarget {
        ext_id: Some(format!("bench-dt-{n}")),
        device_id: Some("device-1".into()),
        target: Some("push-token-1".into()),
        dispatcher: Some("fcmpush".into()),
        signing_key: Some("signing-key".into()),
        app_id: Some("ch.example.app".into()),
        name: Some("My phone".into()),
        app_attestation: Some(NewAppAttestation {
            name: Some(format!("attestation-{n}")),
            counter: Some(3),
            receipt: Some("receipt-bytes".into()),
            public_key: Some("attestation-public-key".into()),
            device_id: Some("device-1".into()),
            environment: Some("production".into()),
        }),
        ..Default::default()
    }
}

fn benches(c: &mut Criterion, rt: &Runtime, fx: &Fixture) {
    let (services, admin) = (&fx.services, &fx.admin);

    // ★ read: GET core/:c/profiles/:p/unit.
    c.bench_function("get_profile_unit", |b| {
        b.to_async(rt).iter(|| async move {
            black_box(
                services
                    .get_profile_unit(admin, CLIENT, PROFILE)
                    .await
                    .unwrap(),
            )
        })
    });

    // ★ delete: DELETE core/:c/users/:u/dispatch-targets/:dt. Every iteration deletes a target
    // (with its attestation) that the untimed setup created through the same service.
    let next = AtomicU64::new(0);
    c.bench_function("delete_dispatch_target", |b| {
        b.to_async(rt).iter_batched(
            || {
                let n = next.fetch_add(1, Ordering::Relaxed);
                // criterion runs the setup inside its own `block_on`; step out of the async
                // context to await the creation.
                tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(async {
                        services
                            .create_dispatch_target(admin, CLIENT, USER, new_target(n))
                            .await
                            .unwrap()
                            .0
                            .meta
                            .ext_id
                    })
                })
            },
            |ext_id| async move {
                services
                    .delete_dispatch_target(admin, CLIENT, USER, &ext_id, None)
                    .await
                    .unwrap();
            },
            BatchSize::SmallInput,
        )
    });

    // Reference points: a one-statement read and a versioned write.
    c.bench_function("get_user", |b| {
        b.to_async(rt).iter(|| async move {
            black_box(services.get_user(admin, CLIENT, USER).await.unwrap())
        })
    });

    let flip = AtomicU64::new(0);
    c.bench_function("patch_client", |b| {
        b.to_async(rt).iter(|| {
            let n = flip.fetch_add(1, Ordering::Relaxed);
            async move {
                let patch = ClientPatch {
                    remarks: Some(Some(format!("bench {n}"))),
                    ..Default::default()
                };
                black_box(services.patch_client(admin, CLIENT, patch).await.unwrap())
            }
        })
    });
}

fn main() {
    // `cargo test --all-targets` (and so `make test`) runs bench binaries without `--bench`;
    // criterion would then run each benchmark once. These are not tests: skip.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let fx = rt.block_on(fixture());
    let mut c = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    benches(&mut c, &rt, &fx);
    c.final_summary();
    drop(fx);
}
