//! Connection settings, start-up with retry, and migrations. A password never reaches a
//! message: everything printable about a target comes from `PgTarget::describe`.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{Connection, PgConnection, PgPool};

use crate::store::migrations;
use crate::store::{StoreError, StoreResult};

/// A pooled connection idle longer than this is pinged before it is handed out (the server
/// may have closed it: a restart, an idle timeout in a pooler).
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Where and how to connect, parsed once from the connection string.
#[derive(Clone)]
pub struct PgTarget {
    pub options: PgConnectOptions,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    /// False behind a transaction-mode pooler (PgBouncer, Supabase's port 6543): statements
    /// are then sent unnamed and never cached on a server connection.
    pub prepare: bool,
    pub max_connections: u32,
}

impl PgTarget {
    /// `postgres user@host:port/database`, never the password.
    pub fn describe(&self) -> String {
        format!(
            "postgres {}@{}:{}/{}{}",
            self.user,
            self.host,
            self.port,
            self.database,
            if self.prepare { "" } else { " (prepare=false)" }
        )
    }

    /// With or without named, cached prepared statements.
    pub fn with_prepare(mut self, prepare: bool) -> PgTarget {
        self.prepare = prepare;
        // 0 disables sqlx's cache, and with it named statements; 100 is sqlx's default.
        self.options = self
            .options
            .statement_cache_capacity(if prepare { 100 } else { 0 });
        self
    }

    /// The same server, another database (tests and `db copy` create databases).
    pub fn with_database(&self, database: &str) -> PgTarget {
        PgTarget {
            options: self.options.clone().database(database),
            database: database.to_string(),
            ..self.clone()
        }
    }
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Parses a `postgres://` or `postgresql://` URL. Our own query parameters are taken out
/// before sqlx reads the rest: `prepare=false` (for transaction-mode poolers) and
/// `pool_size=N`. Errors name the part that is wrong, never the password.
pub fn parse_url(url: &str) -> StoreResult<PgTarget> {
    let bad = |what: String| StoreError::Invalid(format!("database URL: {what}"));
    let mut parsed = url::Url::parse(url).map_err(|e| bad(format!("not a valid URL ({e})")))?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(bad(format!(
            "the scheme is {:?}; a PostgreSQL URL starts with postgres:// or postgresql://",
            parsed.scheme()
        )));
    }
    let mut prepare = true;
    let mut max_connections = 16;
    let mut sslmode_given = false;
    let mut kept: Vec<(String, String)> = Vec::new();
    for (k, v) in parsed.query_pairs() {
        sslmode_given |= k == "sslmode" || k == "ssl-mode";
        match k.as_ref() {
            "prepare" => {
                prepare = parse_bool(&v)
                    .ok_or_else(|| bad(format!("prepare must be true or false, not {v:?}")))?
            }
            "pool_size" => {
                max_connections = parse_pool_size(&v)
                    .ok_or_else(|| bad(format!("pool_size must be 1 to 1000, not {v:?}")))?
            }
            _ => kept.push((k.into_owned(), v.into_owned())),
        }
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    let mut options = PgConnectOptions::from_str(parsed.as_str())
        .map_err(|e| bad(without_password(&e.to_string(), &parsed)))?
        .application_name("paperclip");
    if !prepare {
        options = options.statement_cache_capacity(0);
    }
    let host = parsed.host_str().unwrap_or("localhost").to_string();
    if !sslmode_given && is_loopback(&host) {
        // TLS to this same machine protects nothing, and sqlx's TLS handshake waits ~270 ms
        // per connection here (small writes meeting delayed ACKs). `?sslmode=…` still decides.
        options = options.ssl_mode(PgSslMode::Disable);
    }
    let database = parsed.path().trim_start_matches('/').to_string();
    Ok(PgTarget {
        host,
        port: parsed.port().unwrap_or(5432),
        database: if database.is_empty() {
            options.get_database().unwrap_or("postgres").to_string()
        } else {
            database
        },
        user: options.get_username().to_string(),
        options,
        prepare,
        max_connections,
    })
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A connection-pool size: 1 to 1000 (the URL's `pool_size`, `PAPERCLIP_DB_POOL_SIZE`).
pub fn parse_pool_size(v: &str) -> Option<u32> {
    v.parse::<u32>().ok().filter(|n| (1..=1000).contains(n))
}

/// true/1/yes/on or false/0/no/off, any case (the URL's `prepare`, `PAPERCLIP_DB_PREPARE`).
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn without_password(message: &str, url: &url::Url) -> String {
    match url.password() {
        Some(p) if !p.is_empty() => message.replace(p, "***"),
        _ => message.to_string(),
    }
}

/// Opens the pool. While the server is unreachable (refused, timed out, starting up) it retries
/// with backoff until `wait` has passed; a wrong password or a missing database fails at once.
/// Each attempt is one plain connection, so the error is the real one ("connection refused"),
/// not the pool's "timed out".
pub async fn connect_with_retry(target: &PgTarget, wait: Duration) -> StoreResult<PgPool> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(250);
    let mut attempt = 1;
    let place = format!(
        "PostgreSQL at {}:{} (database {:?}, user {:?})",
        target.host, target.port, target.database, target.user
    );
    loop {
        let per_attempt = wait
            .saturating_sub(started.elapsed())
            .clamp(Duration::from_secs(1), Duration::from_secs(10));
        let err =
            match tokio::time::timeout(per_attempt, PgConnection::connect_with(&target.options))
                .await
            {
                Ok(Ok(probe)) => {
                    let _ = probe.close().await;
                    return Ok(PgPoolOptions::new()
                        .max_connections(target.max_connections)
                        .acquire_timeout(Duration::from_secs(10))
                        // sqlx pings a connection when it goes back to the pool; pinging it
                        // again on the way out costs every request a second round trip.
                        // Only a connection that sat idle a while is tested before use.
                        .test_before_acquire(false)
                        .before_acquire(|conn, meta| {
                            Box::pin(async move {
                                if meta.idle_for > IDLE_BEFORE_PING {
                                    conn.ping().await?;
                                }
                                Ok(true)
                            })
                        })
                        .connect_with(target.options.clone())
                        .await?);
                }
                Ok(Err(err)) => match fatal_reason(&err) {
                    Some(reason) => {
                        return Err(StoreError::Unavailable(format!("{place}: {reason}")));
                    }
                    None => err.to_string(),
                },
                Err(_) => format!("no answer within {:.0} s", per_attempt.as_secs_f64()),
            };
        if started.elapsed() + delay > wait {
            return Err(StoreError::Unavailable(format!(
                "{place} did not answer after {:.1} s ({attempt} attempts): {err}",
                started.elapsed().as_secs_f64()
            )));
        }
        tracing::warn!(
            "cannot reach {place} yet ({err}); retrying in {:.1} s",
            delay.as_secs_f64()
        );
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
        attempt += 1;
    }
}

/// Errors that waiting will not fix.
fn fatal_reason(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("3D000") => Some(format!(
                "{}; create it (for example `createdb`) or fix the database name in the URL",
                db.message()
            )),
            Some("28P01" | "28000") => Some(format!(
                "{}; check the user and password of the connection string",
                db.message()
            )),
            Some(code) if !code.starts_with("57P") && !code.starts_with("53") => {
                Some(db.message().to_string())
            }
            _ => None,
        },
        sqlx::Error::Tls(e) => Some(format!("TLS failed: {e}")),
        sqlx::Error::Configuration(e) => Some(format!("bad connection settings: {e}")),
        _ => None,
    }
}

/// Applies pending migrations. A database that has migrations this binary does not know was
/// written by a newer Paperclip: refuse to touch it.
pub async fn migrate(pool: &PgPool) -> StoreResult<()> {
    use sqlx::migrate::MigrateError;
    match migrations::POSTGRES.run(pool).await {
        Ok(()) => Ok(()),
        Err(MigrateError::VersionMissing(found)) => Err(StoreError::SchemaTooNew {
            found,
            known: migrations::latest(),
        }),
        Err(MigrateError::VersionMismatch(v)) => Err(StoreError::Unavailable(format!(
            "migration {v} in the database differs from the one in this binary; \
             the schema was changed by hand or by a different build"
        ))),
        Err(e) => Err(StoreError::Unavailable(format!(
            "migrating the database: {e}"
        ))),
    }
}

/// The newest migration applied to this database (0 when none).
pub async fn schema_version(pool: &PgPool) -> StoreResult<i64> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(0);
    }
    Ok(
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_describe_hides_the_password() {
        let t = parse_url(
            "postgres://paperclip:s3cret@db.example:6543/acme?prepare=false&sslmode=disable",
        )
        .unwrap();
        assert_eq!(
            t.describe(),
            "postgres paperclip@db.example:6543/acme (prepare=false)"
        );
        assert!(!t.prepare);
        assert!(!format!("{t:?}").contains("s3cret"));
        let remote = parse_url("postgres://u@db.example/x").unwrap();
        assert!(
            matches!(remote.options.get_ssl_mode(), PgSslMode::Prefer),
            "remote: TLS when offered"
        );
        let t = parse_url("postgresql://u@localhost/x?pool_size=3").unwrap();
        assert!(
            matches!(t.options.get_ssl_mode(), PgSslMode::Disable),
            "loopback: no TLS"
        );
        let t = parse_url("postgresql://u@127.0.0.1/x?sslmode=require").unwrap();
        assert!(
            matches!(t.options.get_ssl_mode(), PgSslMode::Require),
            "asked for"
        );
        let t = parse_url("postgresql://u@localhost/x?pool_size=3").unwrap();
        assert!(t.prepare);
        assert_eq!(t.max_connections, 3);
        assert_eq!(t.port, 5432);

        for (url, says) in [
            ("mysql://u:p@h/db", "scheme"),
            ("postgres://u:p@h/db?prepare=maybe", "prepare"),
            ("postgres://u:p@h/db?pool_size=0", "pool_size"),
            ("not a url", "not a valid URL"),
        ] {
            let err = parse_url(url).unwrap_err().to_string();
            assert!(err.contains(says), "{url}: {err}");
            assert!(!err.contains(":p@"), "{err}");
        }
    }
}
