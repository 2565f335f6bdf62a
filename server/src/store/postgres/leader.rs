//! The leader lock: work that must happen once across replicas sharing one database (the
//! heartbeat scheduler, backups) runs only while this process holds a session-level
//! `pg_try_advisory_lock`. The lock lives on its own connection, outside the pool (a pooled
//! connection would go back to the pool still holding it): if the process dies or the
//! connection drops, PostgreSQL releases the lock and another replica can take it.

use sqlx::{Connection, PgConnection};

use super::PgTarget;
use crate::store::StoreResult;

/// A named lock; the key is derived from the name so each kind of work has its own leader.
pub struct LeaderLock {
    key: i64,
    held: Option<PgConnection>,
}

/// Stable 64-bit key of a lock name (FNV-1a; only needs to be the same in every replica).
pub fn lock_key(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

impl LeaderLock {
    pub fn new(name: &str) -> Self {
        LeaderLock {
            key: lock_key(name),
            held: None,
        }
    }

    pub fn is_held(&self) -> bool {
        self.held.is_some()
    }

    /// Takes the lock if nobody holds it; true while this process is the leader. Call it
    /// before each round of leader-only work: it also notices a lost connection.
    pub async fn try_acquire(&mut self, target: &PgTarget) -> StoreResult<bool> {
        if let Some(conn) = self.held.as_mut() {
            if conn.ping().await.is_ok() {
                return Ok(true);
            }
            // The connection (and with it the lock) is gone.
            self.held = None;
        }
        let mut conn = PgConnection::connect_with(&target.options).await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(self.key)
            .fetch_one(&mut conn)
            .await?;
        if got {
            self.held = Some(conn);
        }
        Ok(got)
    }

    /// Gives the lock up (also happens when the process exits).
    pub async fn release(&mut self) -> StoreResult<()> {
        if let Some(mut conn) = self.held.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(self.key)
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
        Ok(())
    }
}
