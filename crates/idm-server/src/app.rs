//! Wiring: settings → store → services → HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{ServerHandle, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use idm_diesel::{Backend, PoolSettings, Store};
use idm_service::bootstrap::AdminSpec;
use idm_service::{AuthConfig, KeySource, RemoteKeysConfig, ServiceConfig, Services};

use crate::jwks::{HttpKeySetFetcher, KeySetSource};
use tracing::Instrument;

use crate::doc::Api;
use crate::metrics::{method_label, Metrics};
use crate::routes::ops::Document;
use crate::settings::Settings;
use crate::state::AppState;

/// The route table of these settings: exactly what is served, and exactly what
/// `/openapi.json` documents.
pub fn api(settings: &Settings) -> Api {
    let mut api = Api::new();
    crate::routes::api(&mut api);
    if settings.server.debug_slow_endpoint {
        crate::routes::ops::debug_routes(&mut api);
    }
    api
}

/// The OpenAPI document of these settings, as pretty JSON (`GET /openapi.json`,
/// `idm openapi`).
///
/// # Errors
/// Serialization failure (not expected).
pub fn openapi_json(settings: &Settings) -> anyhow::Result<String> {
    api(settings)
        .openapi()
        .to_pretty_json()
        .context("cannot render the OpenAPI document")
}

/// A future that resolves on SIGTERM or SIGINT. The handlers are installed when this returns,
/// not when the future is first polled: a signal that arrives right after the port is bound
/// must stop the server gracefully instead of killing the process.
///
/// # Errors
/// The signal handlers cannot be installed.
#[cfg(unix)]
pub fn stop_signals() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// A future that resolves on Ctrl-C.
///
/// # Errors
/// Never on this platform.
#[cfg(not(unix))]
pub fn stop_signals() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Opens the store (lazily connecting) for the configured database.
///
/// # Errors
/// An unusable database URL.
pub fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let mut pool = PoolSettings::new(settings.database.url.0.clone());
    pool.pool_size = settings.database.pool_size;
    pool.checkout_timeout = Duration::from_millis(settings.database.checkout_timeout_ms);
    pool.sqlite_busy_timeout = Duration::from_millis(settings.database.sqlite_busy_timeout_ms);
    pool.in_place_read_limit = Duration::from_micros(settings.database.in_place_read_limit_us);
    pool.pipelined_reads = settings.database.pipelined_reads;
    if let Some(max) = settings.database.in_place_reads_max {
        pool.in_place_reads_max = max;
    }
    Store::open(&pool).map_err(|e| anyhow::anyhow!("cannot open database: {e}"))
}

fn read_key(path: &std::path::Path) -> anyhow::Result<KeySource> {
    let pem =
        std::fs::read(path).with_context(|| format!("cannot read key file {}", path.display()))?;
    let text = String::from_utf8_lossy(&pem);
    // An EC key is recognised by trying it as such; everything else is treated as RSA and
    // rejected later if it is not one.
    if text.contains("EC PUBLIC KEY")
        || jsonwebtoken::DecodingKey::from_ec_pem(&pem).is_ok() && !text.contains("RSA")
    {
        Ok(KeySource::Ec(pem))
    } else {
        Ok(KeySource::Rsa(pem))
    }
}

/// Builds the use cases from settings. An unset X-Token secret is generated (and warned
/// about: X-Tokens then do not survive a restart or work across instances).
///
/// # Errors
/// Unreadable or unusable keys.
pub fn services(settings: &Settings, store: &Store) -> anyhow::Result<Services> {
    let xtoken_secret = match &settings.xtoken.secret {
        Some(s) => s.0.clone(),
        None => {
            tracing::warn!(
                "xtoken.secret is not set: generated a random one; X-Tokens will not survive a restart or work across instances"
            );
            random_secret()
        }
    };
    let public_keys = settings
        .auth
        .public_key_files
        .iter()
        .map(|p| read_key(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let identifier_policy = idm_domain::policy::IdentifierPolicy::new(
        &settings.policy.identifier_regex,
        settings.policy.identifier_max_length,
    )?;
    let config = ServiceConfig {
        auth: AuthConfig {
            hs256_secret: settings.auth.hs256_secret.as_ref().map(|s| s.0.clone()),
            public_keys,
            algorithms: settings.auth.algorithms.clone(),
            // An OIDC provider's tokens must carry its own `iss`, unless one is set explicitly.
            issuer: settings
                .auth
                .issuer
                .clone()
                .or_else(|| settings.auth.oidc_issuer.clone()),
            audience: settings.auth.audience.clone(),
            leeway_seconds: settings.auth.leeway_seconds,
            caller_cache_ttl_ms: settings.auth.caller_cache_ttl_ms,
            xtoken_secret,
            xtoken_ttl_seconds: settings.xtoken.ttl_seconds,
            remote_keys: remote_keys(settings)?,
            user_claim: settings.auth.user_claim.clone(),
            client_claim: settings.auth.client_claim.clone(),
        },
        identifier_policy,
        password_policy: settings.policy.password_policy(),
        hashing: settings.credentials.hashing(),
        sealer: settings
            .credentials
            .encryption_key
            .as_ref()
            .map(|k| idm_service::sealing::Sealer::from_base64(&k.0))
            .transpose()
            .map_err(|e| anyhow::anyhow!("credentials.encryption_key: {e}"))?,
        oath_issuer: settings.credentials.oath_issuer.clone(),
        throttle: idm_service::throttle::ThrottleConfig {
            per_account_per_minute: settings.auth.login_attempts_per_minute_per_account,
            per_source_per_minute: settings.auth.login_attempts_per_minute_per_source,
        },
        property_key: settings
            .properties
            .encryption_key
            .as_ref()
            .map(|k| idm_service::properties::PropertyKey(k.0.clone())),
        self_protected_attributes: settings.policy.self_protected_attributes.clone(),
    };
    Services::new(Arc::new(store.clone()), config).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The identity provider's key set, when `auth.jwks_url` or `auth.oidc_issuer` is set.
fn remote_keys(settings: &Settings) -> anyhow::Result<Option<RemoteKeysConfig>> {
    let auth = &settings.auth;
    let source = match (&auth.jwks_url, &auth.oidc_issuer) {
        (Some(url), _) => KeySetSource::Jwks(url.clone()),
        (None, Some(issuer)) => KeySetSource::OidcIssuer(issuer.clone()),
        (None, None) => return Ok(None),
    };
    let fetcher = HttpKeySetFetcher::new(source, Duration::from_secs(10))?;
    Ok(Some(RemoteKeysConfig {
        fetcher: Arc::new(fetcher),
        refresh: Duration::from_secs(auth.jwks_refresh_seconds),
        min_refetch: Duration::from_secs(auth.jwks_min_refetch_seconds),
    }))
}

/// Fetches the identity provider's keys once and schedules their refresh. A provider that is
/// down at start does not stop the server (other instances keep serving meanwhile, and the
/// keys arrive with the next refresh or unknown `kid`); it is logged as an error.
async fn start_key_refresh(services: &Services) {
    match services.refresh_signing_keys().await {
        None => return,
        Some(Ok(n)) => tracing::info!(keys = n, "fetched the identity provider's JWKS"),
        Some(Err(e)) => tracing::error!(
            error = %e,
            "cannot fetch the identity provider's JWKS; RS256/ES256 bearer tokens are refused until it answers"
        ),
    }
    if let Some(refresher) = services.key_refresher() {
        tokio::spawn(refresher.run());
    }
}

/// A random URL-safe secret (32 bytes of entropy).
pub fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A server that is listening.
#[derive(Debug)]
pub struct Running {
    /// The bound address (port 0 resolved).
    pub addr: SocketAddr,
    /// Stops the server.
    pub handle: ServerHandle,
    /// The use cases, for harnesses that want to mint tokens or seed data.
    pub services: Services,
    /// Completes when the server has stopped.
    pub done: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Set it before stopping the server through `handle`, so `/ready` answers 503 at once.
    pub stopping: Stopping,
}

/// Options of `start` that only embedders and tests change.
#[derive(Debug, Clone, Copy)]
pub struct StartOptions {
    /// Let the server react to SIGTERM/SIGINT itself (the binary); harnesses stop it through
    /// the handle.
    pub handle_signals: bool,
    /// Create the default admin on an empty database.
    pub bootstrap_default_admin: bool,
    /// Apply pending migrations (`serve --no-migrate` turns it off: the schema is then
    /// required to be current, and the server refuses to start otherwise).
    pub migrate: bool,
}

impl Default for StartOptions {
    fn default() -> Self {
        StartOptions {
            handle_signals: true,
            bootstrap_default_admin: true,
            migrate: true,
        }
    }
}

/// Whether the server is stopping: set the moment a stop begins, read by `/ready`, so a load
/// balancer takes the instance out of rotation while it drains rather than after.
#[derive(Debug, Clone, Default)]
pub struct Stopping(Arc<std::sync::atomic::AtomicBool>);

impl Stopping {
    /// Marks the server as stopping (idempotent).
    pub fn begin(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether a stop has begun.
    pub fn is_set(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// What a stop signal does: `/ready` answers 503 at once, the instance keeps serving for
/// `server.drain_delay_ms` so load balancers see that, then it refuses new connections and
/// drains in-flight requests for at most `server.shutdown_timeout_seconds`.
pub async fn drain(settings: &Settings, stopping: &Stopping, handle: &ServerHandle) {
    stopping.begin();
    tracing::info!(
        drain_delay_ms = settings.server.drain_delay_ms,
        timeout_seconds = settings.server.shutdown_timeout_seconds,
        "stop signal: /ready answers 503; finishing in-flight requests"
    );
    tokio::time::sleep(Duration::from_millis(settings.server.drain_delay_ms)).await;
    handle.stop(true).await;
}

/// Migrates (unless told not to) and bootstraps the built-ins, and the default admin on an
/// empty database, under the start-up lock: instances starting at once on one PostgreSQL
/// database do this one after the other, so exactly one creates the admin.
///
/// # Errors
/// Database unreachable, migration or bootstrap failure, a pending migration with
/// `migrate = false`.
pub async fn prepare_database(
    settings: &Settings,
    store: &Store,
    services: &Services,
    migrate: bool,
    default_admin: bool,
) -> anyhow::Result<()> {
    let lock = store
        .startup_lock()
        .await
        .map_err(|e| anyhow::anyhow!("cannot take the start-up lock: {e}"))?;
    if migrate {
        let applied = store
            .migrate()
            .await
            .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied migrations");
        }
    } else if store
        .has_pending_migrations()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        anyhow::bail!(
            "the database schema is older than this idm (pending migrations) and --no-migrate \
             was given: run `idm migrate` first"
        );
    }
    let empty = services
        .is_empty()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if empty && default_admin {
        bootstrap_default_admin(settings, services).await?;
    } else {
        services
            .bootstrap(None)
            .await
            .map_err(|e| anyhow::anyhow!("bootstrap failed: {e}"))?;
    }
    drop(lock);
    Ok(())
}

/// Migrates, bootstraps the built-ins (and the default admin on an empty database), binds and
/// starts serving in the background.
///
/// # Errors
/// Database unreachable at start, migration failure, or the address is taken.
pub async fn start(settings: &Settings, options: StartOptions) -> anyhow::Result<Running> {
    let stop = if options.handle_signals {
        Some(stop_signals()?)
    } else {
        None
    };
    let store = open_store(settings)?;
    let services = services(settings, &store)?;
    // Other instances' revocations reach this instance's caller cache (PostgreSQL only).
    store.listen(services.revocation_sink());
    prepare_database(
        settings,
        &store,
        &services,
        options.migrate,
        options.bootstrap_default_admin,
    )
    .await?;
    start_key_refresh(&services).await;
    let stopping = Stopping::default();
    let state = web::Data::new(AppState {
        services: services.clone(),
        store: store.clone(),
        body_limit: settings.server.body_limit_bytes,
        stopping: stopping.clone(),
    });
    let document = web::Data::new(Document(openapi_json(settings)?));
    let metrics = web::Data::new(Metrics::new(&api(settings).patterns()));
    let app_settings = settings.clone();
    let limits = crate::limits::Limits::from_settings(&settings.server);
    let audit_enabled = settings.audit.enabled;
    let mut server = HttpServer::new(move || {
        let metrics_mw = metrics.clone();
        App::new()
            .app_data(state.clone())
            .app_data(document.clone())
            .app_data(metrics.clone())
            .wrap_fn(move |mut req, srv| {
                let started = Instant::now();
                let request_id = crate::request_id::assign(&req);
                let method = req.method().clone();
                // Everything the request logs, in handlers and below, carries the id.
                let span = tracing::info_span!("request", request_id = %request_id);
                // Limits first: a refused request reaches no handler and no database.
                let fut = match crate::limits::guard(&mut req, &limits) {
                    Err(refusal) => {
                        let (http_req, _) = req.into_parts();
                        let res = actix_web::ResponseError::error_response(&refusal);
                        let res = actix_web::dev::ServiceResponse::new(http_req, res);
                        futures::future::Either::Left(std::future::ready(Ok(res)))
                    }
                    Ok(()) => futures::future::Either::Right(
                        match crate::audit::open(audit_enabled, &method, req.path(), &request_id) {
                            // A write: its transactions append the request's audit record.
                            Some(draft) => futures::future::Either::Left(idm_diesel::audit::scope(
                                draft.clone(),
                                idm_diesel::audit::sync_scope(draft, || {
                                    span.in_scope(|| srv.call(req))
                                }),
                            )),
                            None => futures::future::Either::Right(span.in_scope(|| srv.call(req))),
                        },
                    ),
                };
                let metrics = metrics_mw.clone();
                async move {
                    let mut res = fut.await?;
                    let status = res.status().as_u16();
                    let elapsed = started.elapsed();
                    let route = metrics.route_label(res.request().match_name());
                    metrics.observe(route, method_label(&method), status, elapsed);
                    tracing::info!(
                        target: "idm::http",
                        request_id = %request_id,
                        %method,
                        path = res.request().path(),
                        %route,
                        status,
                        latency_us = elapsed.as_micros() as u64,
                        "request"
                    );
                    if let Ok(v) = HeaderValue::from_str(&request_id) {
                        res.headers_mut()
                            .insert(HeaderName::from_static(crate::request_id::HEADER), v);
                    }
                    Ok(res)
                }
                .instrument(span)
            })
            .configure(|cfg| api(&app_settings).register(cfg))
            .default_service(web::to(crate::routes::not_found))
    })
    .shutdown_timeout(settings.server.shutdown_timeout_seconds)
    .bind((settings.server.host.as_str(), settings.server.port))
    .with_context(|| {
        format!(
            "cannot listen on {}:{}",
            settings.server.host, settings.server.port
        )
    })?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = settings
        .server
        .workers
        .unwrap_or_else(|| default_workers(settings, cores))
        .max(1);
    server = server
        .workers(workers)
        // The head deadline; the body's is the request guard's (actix has none for bodies).
        .client_request_timeout(Duration::from_millis(
            settings.server.client_request_timeout_ms,
        ))
        .max_connections(connections_per_worker(settings, workers));
    // actix treats SIGINT as a forced stop; both signals must drain in-flight requests, so
    // the binary handles them itself (below).
    server = server.disable_signals();
    let addr = server
        .addrs()
        .first()
        .copied()
        .context("server bound no address")?;
    let server = server.run();
    let handle = server.handle();
    let done = tokio::spawn(server);
    if let Some(stop) = stop {
        let stopper = handle.clone();
        let stopping = stopping.clone();
        let settings = settings.clone();
        tokio::spawn(async move {
            stop.await;
            drain(&settings, &stopping, &stopper).await;
        });
    }
    tracing::info!(%addr, backend = ?store.backend(), "idm listening");
    Ok(Running {
        addr,
        handle,
        services,
        done,
        stopping,
    })
}

/// HTTP workers when `server.workers` is unset: one per core, twice that on PostgreSQL while
/// point reads run on the workers (`database.in_place_read_limit_us` > 0). Such a read blocks
/// its worker for the database's answer, and with one worker per core that core idles for
/// the wait. Measured on 2 cores (docs/performance.md): 4 workers against 2, ★ read +20–26 %,
/// stand-in read +8–20 %, lifecycle and lists unchanged. On SQLite a read in place is CPU in
/// this process; there 4 workers sped the reads up but slowed the lists, so it stays at one per
/// core.
fn default_workers(settings: &Settings, cores: usize) -> usize {
    let postgres = Backend::from_url(&settings.database.url.0) == Backend::Postgres;
    if postgres && settings.database.in_place_read_limit_us > 0 {
        cores * 2
    } else {
        cores
    }
}

/// actix's `max_connections` (per worker) for these settings: `server.max_connections` spread
/// over the workers, or, unset, what the file-descriptor limit allows (raised to its hard limit
/// first). Connections over the cap wait in the listen backlog instead of failing `accept`
/// with EMFILE, which would also starve the database pool and `/health`.
fn connections_per_worker(settings: &Settings, workers: usize) -> usize {
    let per_worker = match settings.server.max_connections {
        Some(total) => (total / workers).max(1),
        None => match crate::limits::raise_nofile_limit() {
            Some(nofile) => crate::limits::connections_per_worker(nofile, workers),
            // actix's own default.
            None => 25_000,
        },
    };
    tracing::info!(
        workers,
        per_worker,
        total = per_worker.saturating_mul(workers),
        "connection cap"
    );
    per_worker
}

/// Creates the `Default` client with its Root admin `admin` (password from
/// `bootstrap.admin_password`, else generated and printed once).
///
/// # Errors
/// Bootstrap failures.
pub async fn bootstrap_default_admin(
    settings: &Settings,
    services: &Services,
) -> anyhow::Result<()> {
    let (password, generated) = match &settings.bootstrap.admin_password {
        Some(p) => (p.0.clone(), false),
        None => (format!("Adm1n-{}", uuid::Uuid::new_v4().simple()), true),
    };
    let report = services
        .bootstrap(Some(AdminSpec {
            client_ext_id: "Default".into(),
            client_name: "Default".into(),
            admin_ext_id: "admin".into(),
            admin_login: "admin".into(),
            admin_password: password.clone(),
        }))
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap failed: {e}"))?;
    if let Some(admin) = report.admin.filter(|a| a.created) {
        if generated {
            // Printed once, on stdout, not logged: it must not end up in log aggregation.
            println!(
                "idm: created admin '{}' in client 'Default' with generated password: {password}",
                admin.login_id
            );
        }
        tracing::info!(
            "empty database: created client 'Default' with admin '{}'; get a bearer token with `idm token --client-ext-id {} --user-ext-id {}`",
            admin.login_id,
            admin.client_ext_id,
            admin.user_ext_id
        );
    }
    Ok(())
}

/// Installs the tracing subscriber (text or JSON, level from settings unless `RUST_LOG`).
pub fn init_logging(settings: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(settings.log.level.clone()));
    use std::io::IsTerminal;
    // Colour codes only for a person at a terminal; in files, pipes and log collectors they
    // are noise. Logs go to stderr, so that is the stream asked.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if settings.log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Secret;

    fn settings(url: &str, in_place_read_limit_us: u64) -> Settings {
        let mut s = Settings::default();
        s.database.url = Secret(url.into());
        s.database.in_place_read_limit_us = in_place_read_limit_us;
        s
    }

    #[test]
    fn postgresql_with_reads_in_place_gets_two_workers_per_core_and_everything_else_one() {
        let pg = "postgres://idm@db/idm";
        assert_eq!(default_workers(&settings(pg, 250), 2), 4);
        assert_eq!(
            default_workers(&settings(pg, 0), 2),
            2,
            "reads never block a worker"
        );
        assert_eq!(
            default_workers(&settings("sqlite://data/idm.db", 250), 2),
            2
        );
    }
}
