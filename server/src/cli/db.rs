//! `paperclip db status | migrate | copy`: look at, upgrade, and move an instance's database.

use std::time::Instant;

use anyhow::{Context, bail};

use crate::config::{Config, DatabaseConfig, Overrides};
use crate::store::copy::tables::TABLES;
use crate::store::copy::{self, Location};
use crate::store::postgres::{
    connect_with_retry, migrate as pg_migrate, schema_version as pg_version,
};
use crate::store::sqlite::SqliteStore;
use crate::store::{migrations, sqlite};

/// The database named by `--url`, or the instance's configured one.
fn location(url: Option<&str>) -> anyhow::Result<Location> {
    if let Some(url) = url {
        return Ok(Location::parse(url)?);
    }
    let config = Config::load(&Overrides::default())?;
    Ok(match config.database {
        DatabaseConfig::Sqlite(path) => Location::Sqlite(path),
        DatabaseConfig::Postgres { target, .. } => Location::Postgres(target),
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn status(url: Option<String>) -> anyhow::Result<()> {
    let at = location(url.as_deref())?;
    println!("database: {}", at.describe());
    let latest = migrations::latest();
    let (version, counts) = match &at {
        Location::Sqlite(path) => {
            if !path.is_file() {
                println!(
                    "schema:   none yet (the file does not exist; `paperclip run` or `paperclip db migrate` creates it)"
                );
                return Ok(());
            }
            let conn = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )?;
            let version = sqlite::schema_version(&conn)?;
            let mut counts = Vec::new();
            if version > 0 {
                for t in TABLES {
                    let n: i64 =
                        conn.query_row(&format!("SELECT COUNT(*) FROM {}", t.name), [], |r| {
                            r.get(0)
                        })?;
                    counts.push((t.name, n));
                }
            }
            (version, counts)
        }
        Location::Postgres(target) => runtime()?.block_on(async {
            let pool = connect_with_retry(target, std::time::Duration::from_secs(10)).await?;
            let version = pg_version(&pool).await?;
            let mut counts = Vec::new();
            if version > 0 {
                for t in TABLES {
                    let sql = format!("SELECT COUNT(*) FROM {}", t.name);
                    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .fetch_one(&pool)
                        .await?;
                    counts.push((t.name, n));
                }
            }
            pool.close().await;
            anyhow::Ok((version, counts))
        })?,
    };
    let state = match version.cmp(&latest) {
        std::cmp::Ordering::Equal => "up to date".to_string(),
        std::cmp::Ordering::Less => format!(
            "{} migration(s) pending; `paperclip db migrate` applies them",
            latest - version
        ),
        std::cmp::Ordering::Greater => {
            "NEWER than this binary: upgrade Paperclip before using it".to_string()
        }
    };
    println!("schema:   version {version}, this binary knows {latest} ({state})");
    for (table, n) in counts {
        println!("  {table:<22} {n:>9} rows");
    }
    Ok(())
}

pub fn migrate(url: Option<String>) -> anyhow::Result<()> {
    let at = location(url.as_deref())?;
    let latest = migrations::latest();
    match &at {
        Location::Sqlite(path) => {
            let before = if path.is_file() {
                let conn = rusqlite::Connection::open(path)?;
                sqlite::schema_version(&conn)?
            } else {
                0
            };
            // Opening applies pending migrations (and refuses a newer schema).
            drop(SqliteStore::open(path)?);
            println!("{}: schema version {before} -> {latest}", at.describe());
        }
        Location::Postgres(target) => runtime()?.block_on(async {
            let pool = connect_with_retry(target, std::time::Duration::from_secs(30)).await?;
            let before = pg_version(&pool).await?;
            pg_migrate(&pool).await?;
            pool.close().await;
            println!("{}: schema version {before} -> {latest}", at.describe());
            anyhow::Ok(())
        })?,
    }
    Ok(())
}

/// The master keys for re-sealing secrets on the way: the source's (`source_key`, else this
/// instance's) and the target's (`target_key`, made when missing).
fn reseal_keys(
    source_key: Option<std::path::PathBuf>,
    target_key: Option<std::path::PathBuf>,
) -> anyhow::Result<Option<copy::reseal::Reseal>> {
    use crate::secrets::keys::SecretKeys;
    use crate::secrets::master_key;
    let Some(target_path) = target_key else {
        return Ok(None);
    };
    let source = match source_key {
        Some(path) => master_key::from_key_file(&path, false)?,
        None => {
            let config = crate::config::Config::load(&crate::config::Overrides::default())?;
            let keys = SecretKeys::for_config(&config);
            keys.existing()?.ok_or_else(|| {
                anyhow::anyhow!(
                    "no secrets master key for the source ({}); name it with --source-master-key-file",
                    keys.looked_where()
                )
            })?
        }
    };
    let existed = target_path.exists();
    let target = master_key::from_key_file(&target_path, true)?;
    if !existed {
        eprintln!(
            "made a new master key for the target: {}",
            target_path.display()
        );
    }
    Ok(Some(copy::reseal::Reseal { source, target }))
}

pub fn copy(
    from: Option<String>,
    to: String,
    force: bool,
    source_key: Option<std::path::PathBuf>,
    target_key: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let reseal = reseal_keys(source_key, target_key)?;
    let resealed = reseal.is_some();
    let from = location(from.as_deref())?;
    let to = Location::parse(&to)?;
    if let (Location::Sqlite(a), Location::Sqlite(b)) = (&from, &to)
        && a.canonicalize()
            .ok()
            .is_some_and(|a| b.canonicalize().ok() == Some(a))
    {
        bail!("--from and --to are the same file");
    }
    // A SQLite target inside an instance home: hold that instance's lock while copying, so no
    // server is serving the database being replaced (nor starts on it halfway).
    let _held = match &to {
        Location::Sqlite(path) => hold_instance_of(path)?,
        Location::Postgres(_) => None,
    };
    eprintln!("copying {}\n     to {}", from.describe(), to.describe());
    let started = Instant::now();
    let reports = runtime()?.block_on(copy::copy(&from, &to, force, reseal, &|line| {
        eprintln!("{line}")
    }))?;
    let rows: u64 = reports.iter().map(|r| r.rows).sum();
    eprintln!("verified (rows and checksum per table):");
    for r in &reports {
        eprintln!(
            "  {:<22} {:>9} rows  checksum {}",
            r.table, r.rows, r.checksum
        );
    }
    println!(
        "copied {rows} rows in {} tables in {:.1} s; the target is committed",
        reports.len(),
        started.elapsed().as_secs_f64()
    );
    if resealed {
        println!(
            "company secrets were re-sealed under the target's master key: give the target's \
             server that key file (secrets.localEncrypted.keyFilePath or PAPERCLIP_SECRETS_MASTER_KEY_FILE)"
        );
    } else {
        println!(
            "note: company secrets (when there are any) are copied as ciphertext: the target's server \
             needs the same secrets master key as the source's (or copy with --target-master-key-file)"
        );
    }
    Ok(())
}

/// When `db` is an instance's database (`<instance>/db/<file>` beside `<instance>/server.lock`),
/// takes that instance's lock, or says which server holds it.
fn hold_instance_of(db: &std::path::Path) -> anyhow::Result<Option<std::fs::File>> {
    let Some(instance) = db
        .parent()
        .filter(|dir| dir.file_name().is_some_and(|n| n == "db"))
        .and_then(|dir| dir.parent())
    else {
        return Ok(None);
    };
    let lock_path = instance.join("server.lock");
    if !lock_path.exists() {
        return Ok(None);
    }
    let lock = std::fs::File::options()
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => Ok(Some(lock)),
        Err(std::fs::TryLockError::WouldBlock) => {
            let owner = crate::server::lock_owner(&instance.join("server.json"))
                .map(|o| format!(" ({o})"))
                .unwrap_or_default();
            bail!(
                "a Paperclip server is running on {}{owner}; stop it before copying into its database",
                instance.display()
            )
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", lock_path.display()))
        }
    }
}
