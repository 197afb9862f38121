//! What makes idm usable as a throw-away test dependency and as an operable product:
//! `idm serve --ephemeral --fixtures F --admin-token-file T --ready-file R`, and the
//! `export` / `import` / `backup` commands. The CLI in `main.rs` only parses; the work is here.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use idm_service::transfer::{ImportMode, ImportReport};
use idm_service::Services;

use crate::app;
use crate::fixtures::{self, Fixture, FixtureError, Format};
use crate::settings::{Secret, Settings};
use crate::StartOptions;

/// The client and user of the admin `serve` bootstraps on an empty database.
pub const BOOTSTRAP_ADMIN: (&str, &str) = ("Default", "admin");

/// Flags of `idm serve`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Serve a throw-away SQLite database in a new temporary directory, removed when the
    /// server stops (SIGTERM/SIGINT). Generates an HS256 secret when auth.hs256_secret is unset.
    #[arg(long)]
    pub ephemeral: bool,
    /// Load a data-set file (.json, .yaml, .yml) after bootstrap, before listening. Idempotent:
    /// entries whose extId exists with the same definition are left alone; a conflicting or
    /// invalid entry stops the server with exit code 2.
    #[arg(long, value_name = "FILE")]
    pub fixtures: Option<PathBuf>,
    /// Once listening, write a bearer token of the bootstrap admin (client Default, user
    /// admin) to PATH, atomically (mode 0600). Needs auth.hs256_secret (or --ephemeral).
    #[arg(long, value_name = "PATH")]
    pub admin_token_file: Option<PathBuf>,
    /// Lifetime of the --admin-token-file token, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 86_400)]
    pub admin_token_ttl: u64,
    /// Once listening (and after the token file), write the bound port to PATH, atomically.
    #[arg(long, value_name = "PATH")]
    pub port_file: Option<PathBuf>,
    /// Once listening, write JSON {"baseUrl", "port", "pid", "adminTokenFile",
    /// "ephemeralDir"} to PATH, atomically; written last, so its presence means ready.
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
    /// Listen port, overriding server.port (0 picks a free one; see --port-file).
    #[arg(long)]
    pub port: Option<u16>,
    /// Do not apply migrations (run `idm migrate` separately, e.g. as a deployment step);
    /// refuse to start if the schema is not current.
    #[arg(long)]
    pub no_migrate: bool,
}

impl ServeArgs {
    /// Whether any of these flags is given (else `serve` runs as it always did).
    pub fn any(&self) -> bool {
        self.ephemeral
            || self.fixtures.is_some()
            || self.admin_token_file.is_some()
            || self.port_file.is_some()
            || self.ready_file.is_some()
            || self.port.is_some()
            || self.no_migrate
    }
}

/// Writes `contents` to a temp file next to `path` and renames it over `path`, so a reader
/// never sees a partial file. The file is created with mode 0600 (it may hold a token).
///
/// # Errors
/// The directory is not writable.
pub fn write_atomically(path: &Path, contents: &str) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    tmp.write_all(contents.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Migrates, bootstraps (the default admin on an empty database) and returns the use cases.
async fn prepared(
    settings: &Settings,
    migrate: bool,
    default_admin: bool,
) -> anyhow::Result<Services> {
    let store = app::open_store(settings)?;
    let services = app::services(settings, &store)?;
    app::prepare_database(settings, &store, &services, migrate, default_admin).await?;
    Ok(services)
}

/// Reads `file` and imports it. File problems and refused entries are [`FixtureError`]s
/// (exit code 2); database failures are not.
/// Loads a fixture or export file (JSON or YAML by extension) through the import use case.
///
/// # Errors
/// [`FixtureError`] for the file's faults (naming the file and the entry); database failures.
pub async fn load(
    services: &Services,
    file: &Path,
    mode: ImportMode,
) -> anyhow::Result<ImportReport> {
    let set = fixtures::read(file)?;
    match services.import(&set, mode).await {
        Ok(report) => Ok(report),
        Err(e) => match FixtureError::of_import(file, &e) {
            Some(f) => Err(f.into()),
            None => Err(anyhow::anyhow!("importing {} failed: {e}", file.display())),
        },
    }
}

/// `idm serve` with its flags.
///
/// # Errors
/// Start-up failures; a fixture error ([`FixtureError`]).
pub async fn serve(mut settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(p) = args.port {
        settings.server.port = p;
    }
    // Dropping the TempDir removes the directory, also when start-up fails below.
    let ephemeral = if args.ephemeral {
        let dir = tempfile::Builder::new()
            .prefix("idm-ephemeral-")
            .tempdir()
            .context("cannot create a temporary directory for --ephemeral")?;
        settings.database.url = Secret(format!("sqlite://{}", dir.path().join("idm.db").display()));
        if settings.auth.hs256_secret.is_none() {
            // A throw-away server needs a way in; the secret dies with the process.
            settings.auth.hs256_secret = Some(Secret(app::random_secret()));
        }
        if settings.credentials.encryption_key.is_none() {
            // Sealed OATH secrets live only as long as this database does, so a key that dies
            // with the process loses nothing.
            settings.credentials.encryption_key =
                Some(Secret(idm_service::sealing::Sealer::generate_key()));
        }
        tracing::info!(dir = %dir.path().display(), "ephemeral SQLite database; removed on exit");
        Some(dir)
    } else {
        None
    };
    if args.admin_token_file.is_some() && settings.auth.hs256_secret.is_none() {
        anyhow::bail!(
            "--admin-token-file needs auth.hs256_secret (IDM__AUTH__HS256_SECRET), or --ephemeral"
        );
    }
    if let Some(file) = &args.fixtures {
        // Loaded before the server listens, so whoever sees it ready sees the fixtures.
        let services = prepared(&settings, !args.no_migrate, true).await?;
        let report = load(&services, file, ImportMode::KeepExisting).await?;
        tracing::info!(
            file = %file.display(),
            created = report.created,
            unchanged = report.unchanged,
            "fixtures loaded"
        );
    }
    // Listen for the stop signals before anyone can learn the server is ready: a harness may
    // send SIGTERM the moment the ready file appears, before a lazily registered handler
    // would be in place, and the default action would skip the clean-up below.
    let stop = crate::app::stop_signals()?;
    let app::Running {
        addr,
        handle,
        done,
        services,
        stopping,
    } = app::start(
        &settings,
        StartOptions {
            handle_signals: false,
            migrate: !args.no_migrate,
            ..StartOptions::default()
        },
    )
    .await?;
    let stopper = handle.clone();
    let drain_settings = settings.clone();
    tokio::spawn(async move {
        stop.await;
        app::drain(&drain_settings, &stopping, &stopper).await;
    });
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        addr.ip().to_string()
    };
    let base_url = if addr.is_ipv6() {
        format!("http://[{host}]:{}", addr.port())
    } else {
        format!("http://{host}:{}", addr.port())
    };
    let announced = announce(&services, &args, &base_url, addr.port(), ephemeral.as_ref());
    if let Err(e) = &announced {
        // The server is up but nobody could find it: stop it rather than serve blindly.
        tracing::error!(error = %e, "cannot write the ready files; stopping");
        handle.stop(true).await;
    }
    let served = done.await?;
    drop(services);
    tracing::info!("idm stopped; database pool closed");
    for f in [&args.ready_file, &args.port_file].into_iter().flatten() {
        // They describe a server that no longer runs.
        let _ = std::fs::remove_file(f);
    }
    if let Some(dir) = ephemeral {
        if let Some(f) = &args.admin_token_file {
            // Its secret died with the process.
            let _ = std::fs::remove_file(f);
        }
        let path = dir.path().to_path_buf();
        dir.close()
            .with_context(|| format!("cannot remove {}", path.display()))?;
        tracing::info!(dir = %path.display(), "ephemeral database removed");
    }
    announced?;
    served?;
    Ok(())
}

/// Writes the token, port and ready files, in that order (the ready file last).
fn announce(
    services: &Services,
    args: &ServeArgs,
    base_url: &str,
    port: u16,
    ephemeral: Option<&tempfile::TempDir>,
) -> anyhow::Result<()> {
    if let Some(f) = &args.admin_token_file {
        let (client, user) = BOOTSTRAP_ADMIN;
        let token = services
            .mint_bearer(client, user, args.admin_token_ttl)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        write_atomically(f, &format!("{token}\n"))?;
    }
    if let Some(f) = &args.port_file {
        write_atomically(f, &format!("{port}\n"))?;
    }
    if let Some(f) = &args.ready_file {
        let ready = serde_json::json!({
            "baseUrl": base_url,
            "port": port,
            "pid": std::process::id(),
            "adminTokenFile": args.admin_token_file,
            "ephemeralDir": ephemeral.map(|d| d.path().to_path_buf()),
        });
        write_atomically(f, &format!("{ready}\n"))?;
    }
    tracing::info!(%base_url, "idm ready");
    Ok(())
}

/// `idm export`: the data set as JSON on stdout, or to `output` (format by extension).
///
/// # Errors
/// Database failures, an unknown client, an unwritable output.
pub async fn export(
    settings: &Settings,
    client: Option<&str>,
    with_secrets: bool,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let store = app::open_store(settings)?;
    let services = app::services(settings, &store)?;
    let set = services
        .export(client, with_secrets)
        .await
        .map_err(|e| anyhow::anyhow!("export failed: {e}"))?;
    let fixture = Fixture::from_data_set(set);
    match output {
        Some(path) => {
            let text = fixtures::render(&fixture, Format::of(path)?)?;
            write_atomically(path, &text)
        }
        None => {
            print!("{}", fixtures::render(&fixture, Format::Json)?);
            Ok(())
        }
    }
}

/// `idm import`: migrates, bootstraps the built-ins (no default admin, so an export of
/// another database lands unchanged), then loads `file`.
///
/// # Errors
/// [`FixtureError`] for the file's faults; database failures.
pub async fn import(
    settings: &Settings,
    file: &Path,
    mode: ImportMode,
) -> anyhow::Result<ImportReport> {
    let services = prepared(settings, true, false).await?;
    load(&services, file, mode).await
}

/// `idm backup --to FILE` (SQLite only).
///
/// # Errors
/// PostgreSQL (use pg_dump), an existing target, database failures.
pub async fn backup(settings: &Settings, to: &Path) -> anyhow::Result<()> {
    let store = app::open_store(settings)?;
    if store.backend() == idm_diesel::Backend::Postgres {
        anyhow::bail!(
            "idm backup copies SQLite databases only; for PostgreSQL use pg_dump, e.g. \
             `pg_dump --format=custom --file=idm.dump \"$IDM__DATABASE__URL\"`"
        );
    }
    store
        .backup_to(to)
        .await
        .map_err(|e| anyhow::anyhow!("backup failed: {e}"))
}

/// `idm audit verify [--client C]`: checks every chain (or one) and prints one line per chain.
/// Returns whether every chain verified; the caller turns `false` into a non-zero exit.
///
/// # Errors
/// Database failures (the schema is migrated first, as every command does).
pub async fn audit_verify(settings: &Settings, client: Option<&str>) -> anyhow::Result<bool> {
    let services = prepared(settings, true, false).await?;
    let reports = services
        .verify_audit(client)
        .await
        .map_err(|e| anyhow::anyhow!("audit verify failed: {e}"))?;
    if reports.is_empty() {
        println!(
            "no audit records{}",
            client
                .map(|c| format!(" for client {c}"))
                .unwrap_or_default()
        );
    }
    let mut intact = true;
    for r in &reports {
        match &r.broken {
            None => println!(
                "{}: ok, {} record(s), head {}",
                r.chain,
                r.verified,
                r.head_hash.as_deref().unwrap_or("-")
            ),
            Some(b) => {
                intact = false;
                println!(
                    "{}: BROKEN after {} verified record(s): {b}",
                    r.chain, r.verified
                );
            }
        }
    }
    Ok(intact)
}
