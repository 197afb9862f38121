//! Online backup of a SQLite database (`idm backup`).

use std::path::Path;

use idm_ports::RepoError;

use crate::{Backend, Store, E};

impl Store {
    /// Writes a consistent copy of the SQLite database to `target` with `VACUUM INTO`, which
    /// reads one snapshot while the server keeps serving (WAL readers are not blocked).
    ///
    /// # Errors
    /// `Other` on PostgreSQL (use `pg_dump`), if `target` already exists, or if SQLite cannot
    /// write it.
    pub async fn backup_to(&self, target: &Path) -> Result<(), RepoError> {
        if self.backend == Backend::Postgres {
            return Err(RepoError::Other(
                "backup is for SQLite only; back up PostgreSQL with pg_dump".into(),
            ));
        }
        if target.exists() {
            // VACUUM INTO refuses a non-empty file anyway; say so before touching the pool.
            return Err(RepoError::Other(format!(
                "{} already exists; refusing to overwrite it",
                target.display()
            )));
        }
        let text = target
            .to_str()
            .ok_or_else(|| RepoError::Other("backup path is not valid UTF-8".into()))?;
        // VACUUM INTO takes an expression; the path is quoted as an SQL string literal
        // (doubling quotes) because a bind parameter cannot cross the MultiConnection's
        // batch interface.
        let statement = format!("VACUUM INTO '{}'", text.replace('\'', "''"));
        self.run(move |conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute(&statement).map_err(E::from)
        })
        .await
    }
}
