//! `process`: any command. Config as Paperclip's: `command` (required), `args`, `cwd`, `env`,
//! `timeoutSec` (default 30 min; 0 refused), `idleTimeoutSec`, `graceSec` (default 15).
//! Success is exit code 0; the tails of stdout and stderr are kept as the run's result.

use serde_json::json;

use super::*;
use crate::heartbeat::supervisor::{Ending, Stream};

pub struct ProcessAdapter;

impl Adapter for ProcessAdapter {
    fn kind(&self) -> &'static str {
        "process"
    }

    fn plan(&self, input: &RunInput<'_>) -> Result<Plan, AdapterError> {
        let command = string_field(input.config, "command")
            .ok_or_else(|| AdapterError::Config("Process adapter missing command".into()))?;
        let program = which::find(&command, env_value(&input.env, "PATH"))?;
        Ok(Plan::Process {
            launch: Launch {
                program,
                args: string_list(input.config, "args")?,
                cwd: cwd_field(input.config)?,
                env: input.env.clone(),
                stdin: None,
            },
            limits: limits_from(input.config, 15.0)?,
            parser: Box::new(Tails::default()),
        })
    }
}

/// The last bytes of each stream, kept for the result.
const TAIL: usize = 32 * 1024;

#[derive(Default)]
pub struct Tails {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn keep_tail(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.extend_from_slice(bytes);
    if buf.len() > TAIL {
        let cut = buf.len() - TAIL;
        buf.drain(..cut);
    }
}

impl OutputParser for Tails {
    fn feed(&mut self, stream: Stream, bytes: &[u8]) {
        match stream {
            Stream::Stdout => keep_tail(&mut self.stdout, bytes),
            Stream::Stderr => keep_tail(&mut self.stderr, bytes),
        }
    }

    fn finish(&mut self, ending: &Ending) -> Outcome {
        let error = match ending {
            Ending::Exited { code: Some(0), .. } => None,
            Ending::Exited {
                code: Some(code), ..
            } => Some(format!("Process exited with code {code}")),
            Ending::Exited {
                signal: Some(sig), ..
            } => Some(format!("Process was killed by signal {sig}")),
            Ending::Exited { .. } => Some("Process ended without an exit code".into()),
            // Timeouts and stops are named by the run itself.
            _ => None,
        };
        Outcome {
            error_code: error.as_ref().map(|_| "adapter_failed".to_string()),
            error,
            result_json: Some(json!({
                "stdout": String::from_utf8_lossy(&self.stdout),
                "stderr": String::from_utf8_lossy(&self.stderr),
            })),
            ..Outcome::default()
        }
    }
}
