//! Test helpers for the local CLI adapters: a run's input, the fake CLIs of
//! `tests/fixtures`, and running a plan's process under the real supervisor.

use std::path::PathBuf;

use serde_json::{Map, Value};
use tokio::sync::watch;
use uuid::Uuid;

use super::{Outcome, OutputParser, Plan, RunInput};
use crate::heartbeat::supervisor::{self, Ending, Stream};

/// The run JWT the tests hand over: it must never show up in argv.
pub const API_KEY: &str = "run-jwt-secret-value";

/// A fixture of `tests/fixtures` by name.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
}

/// The environment of a run: PATH (with the fixtures), HOME, the Paperclip variables and a
/// few that must be scrubbed, plus `extra`.
pub fn run_env(home: &std::path::Path, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let path = std::env::join_paths(std::iter::once(fixture("")).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), path.to_string_lossy().into_owned()),
        ("HOME".into(), home.display().to_string()),
        ("PAPERCLIP_API_URL".into(), "http://127.0.0.1:9".into()),
        ("PAPERCLIP_API_KEY".into(), API_KEY.into()),
        ("PAPERCLIP_RUN_ID".into(), Uuid::nil().to_string()),
        ("CLAUDECODE".into(), "1".into()),
        ("CLAUDE_CODE_ENTRYPOINT".into(), "cli".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// A config object from JSON.
pub fn config(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub fn input<'a>(
    config: &'a Map<String, Value>,
    env: Vec<(String, String)>,
    session_id: Option<&str>,
    data_dir: PathBuf,
) -> RunInput<'a> {
    static CONTEXT: Value = Value::Null;
    RunInput {
        run_id: Uuid::new_v4(),
        agent_id: Uuid::new_v4(),
        company_id: Uuid::new_v4(),
        config,
        env,
        session_id: session_id.map(str::to_string),
        prompt: "You are agent X. Continue your Paperclip work.".into(),
        context: &CONTEXT,
        data_dir,
    }
}

/// Feeds recorded stdout (and stderr) to a parser and finishes it.
pub fn parse(parser: &mut dyn OutputParser, stdout: &str, stderr: &str, ending: Ending) -> Outcome {
    // In two pieces, cut inside a line, as pipes deliver it.
    let cut = stdout.len() / 2;
    let cut = (cut..=stdout.len())
        .find(|i| stdout.is_char_boundary(*i))
        .unwrap_or(stdout.len());
    parser.feed(Stream::Stdout, &stdout.as_bytes()[..cut]);
    parser.feed(Stream::Stderr, stderr.as_bytes());
    parser.feed(Stream::Stdout, &stdout.as_bytes()[cut..]);
    parser.finish(&ending)
}

pub fn exited(code: i32) -> Ending {
    Ending::Exited {
        code: Some(code),
        signal: None,
    }
}

/// Starts the plan's process under the supervisor, feeds its output to the plan's parser,
/// and returns how it ended and what the parser made of it.
pub async fn run_plan(plan: Plan) -> (Ending, Outcome) {
    let Plan::Process {
        launch,
        limits,
        mut parser,
    } = plan
    else {
        panic!("expected a process plan");
    };
    let running = supervisor::spawn(&launch).expect("spawn");
    let (_stop_tx, stop_rx) = watch::channel(None);
    let mut supervised = running.supervise(limits, stop_rx);
    let mut ending = None;
    while let Some(step) = supervised.next().await {
        match step {
            supervisor::Step::Output(stream, bytes) => parser.feed(stream, &bytes),
            supervisor::Step::Ended(e) => ending = Some(e),
        }
    }
    let ending = ending.expect("the run ends");
    let outcome = parser.finish(&ending);
    (ending, outcome)
}

/// The JSON lines a fake CLI recorded.
pub fn recorded(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
