//! Forward-only migrations, numbered alike in every dialect, recorded in `_paperclip_migrations`.

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const SQLITE: &[Migration] = &[Migration {
    version: 1,
    name: "init",
    sql: include_str!("../../../migrations/sqlite/0001_init.sql"),
}];

/// The newest schema version this binary knows.
pub fn latest(migrations: &[Migration]) -> i64 {
    migrations.last().map(|m| m.version).unwrap_or(0)
}
