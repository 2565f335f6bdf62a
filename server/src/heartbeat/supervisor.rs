//! How a run's process lives and dies. Each run is started in its own session (so its own
//! process group); on cancel, timeout, shutdown or the leader's exit the whole group gets
//! SIGTERM, then SIGKILL after the grace period, and every member this server can reap is
//! reaped. Two clocks: wall time and time without output.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// What to start: a program found beforehand, its arguments, directory, the whole environment
/// (nothing is inherited that is not listed) and what to write on its stdin.
#[derive(Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    pub stdin: Option<Vec<u8>>,
}

impl std::fmt::Debug for Launch {
    // The environment carries credentials: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launch")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("cwd", &self.cwd)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall clock from start to the end of the run.
    pub timeout: Duration,
    /// Longest silence (no byte on stdout or stderr); None: no limit.
    pub idle_timeout: Option<Duration>,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Why a run's process was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Cancelled,
    ShuttingDown,
}

/// How the process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The leader exited by itself (`code` None when a signal ended it).
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    TimedOut,
    IdleTimedOut,
    Stopped(StopReason),
}

/// A started process: its pid (which is also its process group id).
pub struct Running {
    child: Child,
    pub pid: u32,
    output: mpsc::Receiver<(Stream, Vec<u8>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("cannot start {program}: {source}")]
    Io {
        program: String,
        source: std::io::Error,
    },
}

/// Starts the process in a new session with piped output.
pub fn spawn(launch: &Launch) -> Result<Running, SpawnError> {
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(if launch.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    if let Some(dir) = &launch.cwd {
        cmd.current_dir(dir);
    }
    new_session(&mut cmd);
    let failed = |source| SpawnError::Io {
        program: launch.program.display().to_string(),
        source,
    };
    let mut child = cmd.spawn().map_err(failed)?;
    let pid = child.id().unwrap_or_default();
    let (tx, rx) = mpsc::channel(64);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(pump(out, Stream::Stdout, tx.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(pump(err, Stream::Stderr, tx));
    }
    if let (Some(mut stdin), Some(bytes)) = (child.stdin.take(), launch.stdin.clone()) {
        // A child that never reads its stdin must not hold the run up: written in the
        // background, closed at the end so the reader sees EOF.
        tokio::spawn(async move {
            let _ = stdin.write_all(&bytes).await;
            let _ = stdin.shutdown().await;
        });
    }
    Ok(Running {
        child,
        pid,
        output: rx,
    })
}

#[cfg(unix)]
fn new_session(cmd: &mut Command) {
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn new_session(_cmd: &mut Command) {}

async fn pump<R: tokio::io::AsyncRead + Unpin>(
    mut reader: R,
    stream: Stream,
    tx: mpsc::Sender<(Stream, Vec<u8>)>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx.send((stream, buf[..n].to_vec())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// After the leader is gone, output still in the pipes is read for at most this long (a
/// descendant may hold a pipe open; it is being killed).
const DRAIN: Duration = Duration::from_secs(2);

/// One step of a supervised run: a chunk of output, or the end (after which the group is
/// gone and the pipes are drained).
#[derive(Debug)]
pub enum Step {
    Output(Stream, Vec<u8>),
    Ended(Ending),
}

/// A running process under supervision; `next()` yields its output, then its end.
pub struct Supervised {
    running: Running,
    limits: Limits,
    stop: watch::Receiver<Option<StopReason>>,
    deadline: Instant,
    last_output: Instant,
    output_open: bool,
    /// Set once the end is decided: then the group is terminated and the pipes drained.
    ending: Option<(Ending, Instant)>,
    done: bool,
}

impl Running {
    /// Starts the clocks. Whatever ends the run, the whole process group is terminated and
    /// reaped before `next()` yields `Step::Ended`.
    pub fn supervise(
        self,
        limits: Limits,
        stop: watch::Receiver<Option<StopReason>>,
    ) -> Supervised {
        let now = Instant::now();
        Supervised {
            running: self,
            limits,
            stop,
            deadline: now + limits.timeout,
            last_output: now,
            output_open: true,
            ending: None,
            done: false,
        }
    }
}

impl Supervised {
    /// The next chunk of output, or the end; None after the end was yielded.
    pub async fn next(&mut self) -> Option<Step> {
        if self.done {
            return None;
        }
        if self.ending.is_none() {
            if let Some(ending) = self.watch().await {
                return Some(Step::Output(ending.0, ending.1));
            }
            let ending = self.ending.as_ref().map(|(e, _)| e.clone());
            let pgid = self.running.pid as i32;
            terminate_group(&mut self.running.child, pgid, self.limits.grace).await;
            if let Some(e) = ending {
                self.ending = Some((e, Instant::now() + DRAIN));
            }
        }
        // What is left in the pipes.
        if let Some((_, drain_until)) = &self.ending {
            let drain_until = *drain_until;
            while self.output_open {
                match tokio::time::timeout_at(drain_until, self.running.output.recv()).await {
                    Ok(Some((stream, bytes))) => return Some(Step::Output(stream, bytes)),
                    Ok(None) | Err(_) => self.output_open = false,
                }
            }
        }
        self.done = true;
        self.ending.take().map(|(e, _)| Step::Ended(e))
    }

    /// Waits for output (returned) or for the end (stored in `self.ending`, None returned).
    async fn watch(&mut self) -> Option<(Stream, Vec<u8>)> {
        if let Some(reason) = *self.stop.borrow() {
            self.ending = Some((Ending::Stopped(reason), Instant::now()));
            return None;
        }
        let idle = self.limits.idle_timeout;
        let idle_deadline = idle.map(|i| self.last_output + i).unwrap_or(self.deadline);
        let ending = tokio::select! {
            chunk = self.running.output.recv(), if self.output_open => match chunk {
                Some((stream, bytes)) => {
                    self.last_output = Instant::now();
                    return Some((stream, bytes));
                }
                None => {
                    self.output_open = false;
                    return Box::pin(self.watch()).await;
                }
            },
            status = self.running.child.wait() => {
                let (code, signal) = exit_parts(status.ok());
                Ending::Exited { code, signal }
            }
            _ = tokio::time::sleep_until(self.deadline) => Ending::TimedOut,
            _ = tokio::time::sleep_until(idle_deadline), if idle.is_some() => Ending::IdleTimedOut,
            changed = self.stop.changed() => {
                let reason = if changed.is_ok() { *self.stop.borrow() } else { Some(StopReason::ShuttingDown) };
                match reason {
                    Some(reason) => Ending::Stopped(reason),
                    None => return Box::pin(self.watch()).await,
                }
            }
        };
        self.ending = Some((ending, Instant::now()));
        None
    }
}

fn exit_parts(status: Option<std::process::ExitStatus>) -> (Option<i32>, Option<i32>) {
    let Some(status) = status else {
        return (None, None);
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        (status.code(), status.signal())
    }
    #[cfg(not(unix))]
    {
        (status.code(), None)
    }
}

/// SIGTERM to the group, SIGKILL after `grace` if anything is left, then reaps the leader and
/// every member this process is parent of. Returns the leader's exit status when known.
async fn terminate_group(
    child: &mut Child,
    pgid: i32,
    grace: Duration,
) -> Option<std::process::ExitStatus> {
    signal_group(pgid, Signal::Term);
    let deadline = Instant::now() + grace;
    let mut status = tokio::time::timeout_at(deadline, child.wait())
        .await
        .ok()
        .and_then(|s| s.ok());
    if status.is_some() {
        // The leader is reaped: wait for the rest of the group until the grace ends.
        while group_alive(pgid) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    if status.is_none() || group_alive(pgid) {
        signal_group(pgid, Signal::Kill);
        if status.is_none() {
            status = child.wait().await.ok();
        }
        let give_up = Instant::now() + Duration::from_secs(5);
        while group_alive(pgid) && Instant::now() < give_up {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    status
}

#[derive(Clone, Copy)]
pub enum Signal {
    Term,
    Kill,
}

/// Sends a signal to every process of a group (no-op where groups do not exist).
pub fn signal_group(pgid: i32, signal: Signal) {
    #[cfg(unix)]
    {
        if pgid <= 1 {
            return;
        }
        let sig = match signal {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        // SAFETY: plain syscall on a process group id we started.
        unsafe {
            libc::kill(-pgid, sig);
        }
    }
    #[cfg(not(unix))]
    let _ = (pgid, signal);
}

/// Whether any process of the group still exists. Reaps first the members this server is
/// parent of (it is their subreaper on Linux), so a dead member does not count.
/// Call only once the group's leader has been reaped by its `Child`.
pub fn group_alive(pgid: i32) -> bool {
    #[cfg(unix)]
    {
        if pgid <= 1 {
            return false;
        }
        loop {
            let mut status = 0;
            // SAFETY: waitpid on our own process group; the leader is already reaped.
            let reaped = unsafe { libc::waitpid(-pgid, &mut status, libc::WNOHANG) };
            if reaped <= 0 {
                break;
            }
        }
        match super::procs::live_group_members(pgid) {
            Some(members) => !members.is_empty(),
            // SAFETY: signal 0 only checks existence.
            None => unsafe { libc::kill(-pgid, 0) == 0 },
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pgid;
        false
    }
}

/// Makes this process the subreaper of its descendants (Linux), so that what a run's
/// process leaves behind is re-parented to the server and reaped here rather than lingering
/// as a zombie of an init that may not reap.
pub fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: a prctl flag on our own process.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}
