//! `idm seed`: migrate, bootstrap (the built-ins and, on an empty database, the `Default`
//! client with its Root admin `admin`), then bulk-load the benchmark data set. The data layout
//! and extId patterns are documented in `idm_diesel::seed`.

use crate::app;
use crate::settings::Settings;

/// The result of `idm seed`.
#[derive(Debug, Clone)]
pub struct SeedOutcome {
    /// What was asked for.
    pub plan: SeedPlan,
    /// What was written and how long it took.
    pub report: SeedReport,
    /// The backend, `sqlite` or `postgres`.
    pub backend: &'static str,
}

impl SeedOutcome {
    /// Rows written per second of wall time.
    pub fn rows_per_second(&self) -> f64 {
        let secs = self.report.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.report.rows() as f64 / secs
        } else {
            0.0
        }
    }

    /// Users (each with its profile and authorization) per second.
    pub fn users_per_second(&self) -> f64 {
        let secs = self.report.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.report.users as f64 / secs
        } else {
            0.0
        }
    }

    /// The outcome as JSON (for scripts: `idm seed --json`).
    pub fn to_json(&self) -> serde_json::Value {
        let r = &self.report;
        let p = &self.plan;
        serde_json::json!({
            "backend": self.backend,
            "clients": r.clients,
            "usersPerClient": p.users_per_client,
            "units": r.units,
            "users": r.users,
            "profiles": r.profiles,
            "authorizations": r.authorizations,
            "terms": r.terms,
            "propertyValues": r.property_values,
            "batchSize": p.batch_size,
            "rows": r.rows(),
            "elapsedMs": r.elapsed.as_millis() as u64,
            "rowsPerSecond": self.rows_per_second().round(),
            "usersPerSecond": self.users_per_second().round(),
            "epochMillis": idm_diesel::seed::SEED_EPOCH_MILLIS,
            "admin": {"clientExtId": "Default", "userExtId": "admin"},
            "patterns": {
                "client": "c{i}",
                "user": "c{i}-u{j}",
                "profile": "c{i}-u{j}-p",
                "terms": "t{k}",
                "employeeNumber": "E{i}-{j}",
                "userCreatedMillis": "epochMillis + (i-1)*usersPerClient + (j-1)",
            },
        })
    }

    /// A human-readable summary.
    pub fn to_text(&self) -> String {
        let r = &self.report;
        format!(
            "seeded {backend}: {c} client(s) c1..c{c}, {units} units, {u} users c{{i}}-u{{j}} \
             (j = 1..{m}) each with profile c{{i}}-u{{j}}-p, one authorization and \
             employeeNumber E{{i}}-{{j}}, {t} terms t1..t{t}\n\
             {rows} rows in {secs:.2} s = {rps:.0} rows/s ({ups:.0} users/s, batch {b})\n\
             admin for everything: client 'Default', user 'admin' (Root): \
             idm token --client-ext-id Default --user-ext-id admin",
            backend = self.backend,
            c = r.clients,
            units = r.units,
            u = r.users,
            m = self.plan.users_per_client,
            t = r.terms,
            rows = r.rows(),
            secs = r.elapsed.as_secs_f64(),
            rps = self.rows_per_second(),
            ups = self.users_per_second(),
            b = self.plan.batch_size,
        )
    }
}

/// Migrates, bootstraps and seeds the configured database.
///
/// # Errors
/// Database unreachable, migration or bootstrap failure, or extIds of the plan already taken.
pub async fn run(settings: &Settings, plan: SeedPlan) -> anyhow::Result<SeedOutcome> {
    let store = app::open_store(settings)?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    let services = app::services(settings, &store)?;
    let empty = services
        .is_empty()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if empty {
        // Same admin `idm serve` would create, so the bench has its Root caller.
        app::bootstrap_default_admin(settings, &services).await?;
    } else {
        services
            .bootstrap(None)
            .await
            .map_err(|e| anyhow::anyhow!("bootstrap failed: {e}"))?;
    }
    let report = store
        .seed(plan)
        .await
        .map_err(|e| anyhow::anyhow!("seeding failed: {e}"))?;
    let backend = match store.backend() {
        idm_diesel::Backend::Sqlite => "sqlite",
        idm_diesel::Backend::Postgres => "postgres",
    };
    Ok(SeedOutcome {
        plan,
        report,
        backend,
    })
}

pub use idm_diesel::seed::{SeedPlan, SeedReport, SEED_EPOCH_MILLIS};
