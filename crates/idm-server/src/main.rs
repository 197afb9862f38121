//! `idm` — the identity-management server and its admin commands.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Every request allocates many small short-lived values across worker and blocking threads;
/// glibc malloc spent ~25 % of CPU on them under load (profiled: `_int_malloc`,
/// `malloc_consolidate`, `_int_free`). mimalloc's per-thread free lists avoid the arena locks.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use idm_server::{app, Settings, StartOptions};
use idm_service::bootstrap::AdminSpec;

/// Command line of the `idm` binary.
#[derive(Debug, Parser)]
#[command(
    name = "idm",
    version,
    about = "idm — identity-management server speaking the nevisIDM core and principal REST API",
    long_about = "idm — identity-management server speaking the nevisIDM core and principal REST API \
(/nevisidm/api/core/v1, /nevisidm/api/principal/v1).\n\n\
Quick start: `idm serve` migrates ./data/idm.db (SQLite), creates client 'Default' with Root admin \
'admin' on an empty database and serves on 127.0.0.1:8080. Use PostgreSQL with \
IDM__DATABASE__URL=postgres://... ; any configuration key can be set as IDM__SECTION__KEY."
)]
struct Cli {
    /// Configuration file, layered over config/default.toml and under IDM__SECTION__KEY
    /// environment variables.
    #[arg(long, global = true, value_name = "FILE", env = "IDM_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database and serve the REST API (bootstraps an admin on an empty database).
    Serve(idm_server::ship::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create the built-in application and roles; optionally a client with a Root admin.
    Bootstrap {
        /// extId of the client to create.
        #[arg(long, requires_all = ["client_name", "admin_ext_id", "admin_login"])]
        client_ext_id: Option<String>,
        /// Name of the client.
        #[arg(long)]
        client_name: Option<String>,
        /// extId of the admin user.
        #[arg(long)]
        admin_ext_id: Option<String>,
        /// loginId of the admin user.
        #[arg(long)]
        admin_login: Option<String>,
        /// Password of the admin user (prefer IDM_ADMIN_PASSWORD or --admin-password-stdin:
        /// a command-line argument is visible to every user of the machine).
        #[arg(long, env = "IDM_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: Option<String>,
        /// Read the admin password from the first line of standard input.
        #[arg(long, conflicts_with = "admin_password")]
        admin_password_stdin: bool,
        /// Print what exists as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a bearer JWT signed with the configured HS256 key (auth.hs256_secret).
    Token {
        /// The caller's client extId.
        #[arg(long)]
        client_ext_id: String,
        /// The caller's user extId.
        #[arg(long)]
        user_ext_id: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
    /// Bulk-load a benchmark data set (clients c{i}, users c{i}-u{j} with profiles
    /// c{i}-u{j}-p, authorizations, terms t{k}); migrates and bootstraps first.
    Seed {
        /// Clients to create.
        #[arg(long, default_value_t = 1)]
        clients: u32,
        /// Users (each with a profile and an authorization) per client.
        #[arg(long, default_value_t = 1000)]
        users_per_client: u32,
        /// Active terms to create.
        #[arg(long, default_value_t = 3)]
        terms: u32,
        /// Rows per INSERT statement and per transaction.
        #[arg(long, default_value_t = 1000)]
        batch_size: u32,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// Create no property definition and no values (by default a global user property
        /// `employeeNumber` with one value per user), e.g. to measure the property path A/B.
        #[arg(long)]
        no_properties: bool,
    },
    /// Print the OpenAPI 3.1 document of the REST API (as served at /openapi.json).
    Openapi,
    /// Exit 0 when `GET /ready` of a running server answers 200, else non-zero (for container
    /// health checks).
    Healthcheck {
        /// Readiness URL; default: http://server.host:server.port/ready (a wildcard host is
        /// asked on loopback).
        #[arg(long)]
        url: Option<String>,
        /// Seconds to wait for the connection and the answer.
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
    /// Write clients, units, users, profiles, authorizations, terms and personal questions in
    /// the fixture format (JSON on stdout, or --output FILE as .json/.yaml).
    Export {
        /// Only this client (terms, being global, are always included).
        #[arg(long, value_name = "EXT_ID")]
        client: Option<String>,
        /// Include password hashes (imported as hashes).
        #[arg(long)]
        with_secrets: bool,
        /// Write to FILE (format by extension) instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Load a fixture/export file (idempotent; exit code 2 on a conflicting or invalid entry).
    Import {
        /// The file (.json, .yaml, .yml).
        file: PathBuf,
        /// Replace the definitions of existing entries instead of refusing conflicts.
        #[arg(long = "override")]
        override_existing: bool,
    },
    /// The audit trail of core API writes.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Copy the SQLite database to FILE while serving (VACUUM INTO); PostgreSQL: use pg_dump.
    Backup {
        /// Target file; must not exist.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
}

/// `idm audit ...`
#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every client's hash chain (record hashes, links, gaps, head); exit 1 when one is
    /// broken.
    Verify {
        /// Only this client's chain.
        #[arg(long, value_name = "EXT_ID")]
        client: Option<String>,
    },
}

/// Exit code of `idm audit verify` for a broken chain (distinct from 2, a usage error).
#[derive(Debug)]
struct BrokenChain;

impl std::fmt::Display for BrokenChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the audit trail is broken (see above)")
    }
}

impl std::error::Error for BrokenChain {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("idm: {e}");
            return ExitCode::from(2);
        }
    };
    // Runs every few seconds inside a container: no logging set-up, no runtime.
    if let Command::Healthcheck { url, timeout } = &cli.command {
        let url = url
            .clone()
            .unwrap_or_else(|| idm_server::healthcheck::default_url(&settings));
        return match idm_server::healthcheck::check(&url, Duration::from_secs(*timeout)) {
            Ok(status) => {
                println!("idm: ready ({url}: {status})");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("idm: not healthy: {e}");
                ExitCode::FAILURE
            }
        };
    }
    app::init_logging(&settings);
    let result = actix_web::rt::System::new().block_on(run(cli.command, settings));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("idm: {e:#}");
            // A bad fixture file is a usage error, like a bad configuration.
            if e.downcast_ref::<idm_server::fixtures::FixtureError>()
                .is_some()
            {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) if args.any() => idm_server::ship::serve(settings, args).await,
        Command::Serve(_) => {
            let app::Running { done, services, .. } =
                app::start(&settings, StartOptions::default()).await?;
            let served = done.await?;
            // The workers (and their handles on the pool) are gone; dropping the last one
            // closes the database connections before the process exits.
            drop(services);
            tracing::info!("idm stopped; database pool closed");
            served?;
            Ok(())
        }
        // Answered in `main` before the runtime starts.
        Command::Healthcheck { .. } => Ok(()),
        Command::Export {
            client,
            with_secrets,
            output,
        } => {
            idm_server::ship::export(
                &settings,
                client.as_deref(),
                with_secrets,
                output.as_deref(),
            )
            .await
        }
        Command::Import {
            file,
            override_existing,
        } => {
            let mode = if override_existing {
                idm_service::transfer::ImportMode::Override
            } else {
                idm_service::transfer::ImportMode::KeepExisting
            };
            let r = idm_server::ship::import(&settings, &file, mode).await?;
            println!(
                "{}: {} created, {} unchanged, {} replaced",
                file.display(),
                r.created,
                r.unchanged,
                r.replaced
            );
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { client },
        } => {
            if idm_server::ship::audit_verify(&settings, client.as_deref()).await? {
                Ok(())
            } else {
                Err(BrokenChain.into())
            }
        }
        Command::Backup { to } => {
            idm_server::ship::backup(&settings, &to).await?;
            println!("backed up to {}", to.display());
            Ok(())
        }
        Command::Openapi => {
            println!("{}", app::openapi_json(&settings)?);
            Ok(())
        }
        Command::Migrate => {
            let store = app::open_store(&settings)?;
            // Beside instances that may be starting on the same database right now.
            let _lock = store
                .startup_lock()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let applied = store.migrate().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }
        Command::Bootstrap {
            client_ext_id,
            client_name,
            admin_ext_id,
            admin_login,
            admin_password,
            admin_password_stdin,
            json,
        } => {
            let admin_password = if admin_password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map_err(|e| {
                    anyhow::anyhow!("cannot read the admin password from stdin: {e}")
                })?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                admin_password
            };
            if client_ext_id.is_some() && admin_password.as_deref().is_none_or(str::is_empty) {
                anyhow::bail!(
                    "--client-ext-id needs an admin password: --admin-password, IDM_ADMIN_PASSWORD or --admin-password-stdin"
                );
            }
            let store = app::open_store(&settings)?;
            let _lock = store
                .startup_lock()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.migrate().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let services = app::services(&settings, &store)?;
            let spec = match (
                client_ext_id,
                client_name,
                admin_ext_id,
                admin_login,
                admin_password,
            ) {
                (Some(c), Some(n), Some(u), Some(l), Some(p)) => Some(AdminSpec {
                    client_ext_id: c,
                    client_name: n,
                    admin_ext_id: u,
                    admin_login: l,
                    admin_password: p,
                }),
                _ => None,
            };
            let report = services
                .bootstrap(spec)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if json {
                let admin = report.admin.as_ref().map(|a| {
                    serde_json::json!({
                        "clientExtId": a.client_ext_id,
                        "userExtId": a.user_ext_id,
                        "loginId": a.login_id,
                        "profileExtId": a.profile_ext_id,
                        "created": a.created,
                    })
                });
                let roles: Vec<_> = report
                    .roles
                    .iter()
                    .map(|(n, e)| serde_json::json!({"name": n, "extId": e}))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({
                        "applicationExtId": report.application_ext_id,
                        "roles": roles,
                        "admin": admin,
                    })
                );
            } else {
                println!(
                    "built-in application '{}' with {} roles",
                    report.application_ext_id,
                    report.roles.len()
                );
                if let Some(a) = report.admin {
                    println!(
                        "admin '{}' (extId {}) in client {}: {}",
                        a.login_id,
                        a.user_ext_id,
                        a.client_ext_id,
                        if a.created {
                            "created"
                        } else {
                            "already present"
                        }
                    );
                }
            }
            Ok(())
        }
        Command::Token {
            client_ext_id,
            user_ext_id,
            ttl,
        } => {
            let store = app::open_store(&settings)?;
            let services = app::services(&settings, &store)?;
            let token = services
                .mint_bearer(&client_ext_id, &user_ext_id, ttl)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{token}");
            Ok(())
        }
        Command::Seed {
            clients,
            users_per_client,
            terms,
            batch_size,
            json,
            no_properties,
        } => {
            let plan = idm_diesel::seed::SeedPlan {
                clients,
                users_per_client,
                terms,
                batch_size,
                properties: !no_properties,
            };
            let outcome = idm_server::seed::run(&settings, plan).await?;
            if json {
                println!("{}", outcome.to_json());
            } else {
                println!("{}", outcome.to_text());
            }
            Ok(())
        }
    }
}
