//! Forward-only schema migrations, numbered alike in both dialects: `migrations/sqlite/NNNN_*.sql`
//! and `migrations/postgres/NNNN_*.sql` mean the same. SQLite runs them with
//! `rusqlite_migration` (the version lives in `PRAGMA user_version`), PostgreSQL with sqlx's
//! migrator (recorded in `_sqlx_migrations`, under an advisory lock so replicas starting together
//! migrate once).

use rusqlite_migration::{M, Migrations};

/// The SQLite migrations, in order.
pub fn sqlite() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../../../migrations/sqlite/0001_init.sql")),
        M::up(include_str!("../../../migrations/sqlite/0002_auth.sql")),
        M::up(include_str!(
            "../../../migrations/sqlite/0003_cli_auth_company.sql"
        )),
        M::up(include_str!("../../../migrations/sqlite/0004_secrets.sql")),
        M::up(include_str!(
            "../../../migrations/sqlite/0005_heartbeats.sql"
        )),
        M::up(include_str!(
            "../../../migrations/sqlite/0006_live_events.sql"
        )),
        M::up(include_str!("../../../migrations/sqlite/0007_costs.sql")),
        M::up(include_str!(
            "../../../migrations/sqlite/0008_approvals.sql"
        )),
        M::up(include_str!("../../../migrations/sqlite/0009_breakers.sql")),
        M::up(include_str!(
            "../../../migrations/sqlite/0010_run_retries.sql"
        )),
        M::up(include_str!(
            "../../../migrations/sqlite/0011_token_budgets.sql"
        )),
    ])
}

/// The PostgreSQL migrations, embedded at build time.
pub static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The newest schema version this binary knows (the same in both dialects).
pub fn latest() -> i64 {
    POSTGRES.iter().map(|m| m.version).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_have_the_same_migrations() {
        let sqlite_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite");
        let mut sqlite_names: Vec<String> = std::fs::read_dir(sqlite_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        sqlite_names.sort();
        let postgres: Vec<String> = POSTGRES
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.description.replace(' ', "_")))
            .collect();
        assert_eq!(sqlite_names, postgres);
        assert!(sqlite().validate().is_ok());
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        sqlite().to_latest(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, latest());
    }
}
