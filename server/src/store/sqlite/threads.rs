//! Connections owned by threads. Each job runs on a thread that holds its own connection: a
//! request never waits on a pool's lock, never blocks the async runtime, and the number of
//! threads touching the database is fixed (a `spawn_blocking` per call let 32 concurrent
//! requests start 32 threads, most of them parked on the pool).

use std::panic::AssertUnwindSafe;

use rusqlite::Connection;

use crate::store::{StoreError, StoreResult};

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

#[derive(Clone)]
pub struct ConnectionThreads {
    jobs: crossbeam_channel::Sender<Job>,
}

impl ConnectionThreads {
    /// One thread per connection, named `{name}-{n}`, all taking jobs from one queue. The
    /// threads end, closing their connections, when the last handle is dropped.
    pub fn spawn(name: &str, connections: Vec<Connection>) -> std::io::Result<Self> {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        for (n, mut conn) in connections.into_iter().enumerate() {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || {
                    for job in queue.iter() {
                        // A panicking job answers its caller with an error (its reply sender
                        // is dropped) and must not take the connection's thread with it.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
                    }
                })?;
        }
        Ok(ConnectionThreads { jobs })
    }

    /// Runs `f` on the next free connection and waits for its answer without blocking the
    /// async runtime.
    pub async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |conn| {
                let _ = reply.send(f(conn));
            }))
            .map_err(|_| StoreError::Unavailable("the database is closed".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Internal("a database call panicked".into()))?
    }
}
