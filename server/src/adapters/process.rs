//! `process`: any command. Config as Paperclip's: `command` (required), `args`, `cwd`, `env`,
//! `timeoutSec` (default 30 min; 0 refused), `idleTimeoutSec`, `graceSec` (default 15).
//! Success is exit code 0; the tails of stdout and stderr are kept as the run's result.

use serde_json::json;

use super::local_cli;
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

pub struct Tails {
    stdout: local_cli::Tail,
    stderr: local_cli::Tail,
}

impl Default for Tails {
    fn default() -> Self {
        Tails {
            stdout: local_cli::Tail::new(TAIL),
            stderr: local_cli::Tail::new(TAIL),
        }
    }
}

impl OutputParser for Tails {
    fn feed(&mut self, stream: Stream, bytes: &[u8]) {
        match stream {
            Stream::Stdout => self.stdout.push(bytes),
            Stream::Stderr => self.stderr.push(bytes),
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
                "stdout": self.stdout.text(),
                "stderr": self.stderr.text(),
            })),
            ..Outcome::default()
        }
    }
}
