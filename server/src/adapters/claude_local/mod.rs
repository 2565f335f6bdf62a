//! `claude_local`: Claude Code on this machine, as Paperclip runs it (its CLI lane).
//!
//! Config (Paperclip's names): `command` ("claude"), `cwd`, `model`, `effort`,
//! `maxTurnsPerRun` (0: no limit), `dangerouslySkipPermissions` (true),
//! `instructionsFilePath`, `extraArgs` (or `args`), `timeoutSec`, `idleTimeoutSec`, `graceSec`
//! (20). The prompt goes on stdin; the CLI answers in stream-json (see [`parse`]).
//!
//! The `paperclip` skill is written into a bundle directory under the instance's adapter data
//! and handed over with `--add-dir`; the instructions file, with a note on where relative
//! references resolve from, is copied beside it and appended to the system prompt of a new
//! session. Planning writes these small files: call it off the async runtime.

mod parse;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use parse::ClaudeParser;

use super::local_cli::{self, CLAUDE_SESSION_VARS, PAPERCLIP_SKILL};
use super::*;

pub struct ClaudeLocal;

/// Everything the argv depends on, read from the config.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    pub command: String,
    pub model: Option<String>,
    pub effort: Option<String>,
    pub max_turns: u64,
    pub skip_permissions: bool,
    pub extra_args: Vec<String>,
}

impl Settings {
    pub(crate) fn from_config(config: &Map<String, Value>) -> Result<Self, AdapterError> {
        let max_turns = match config.get("maxTurnsPerRun") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().ok_or_else(|| {
                AdapterError::Config("maxTurnsPerRun must be a whole number, 0 or more".into())
            })?,
        };
        Ok(Settings {
            command: string_field(config, "command").unwrap_or_else(|| "claude".into()),
            model: string_field(config, "model"),
            effort: string_field(config, "effort"),
            max_turns,
            skip_permissions: local_cli::bool_field(config, "dangerouslySkipPermissions", true)?,
            extra_args: local_cli::extra_args(config)?,
        })
    }
}

/// The CLI's arguments. `instructions` is only used for a new session (a resumed one already
/// has them in its history).
pub(crate) fn build_args(
    settings: &Settings,
    resume: Option<&str>,
    instructions: Option<&Path>,
    bundle_root: &Path,
) -> Vec<String> {
    let mut args: Vec<String> = [
        "--print",
        "-",
        "--output-format",
        "stream-json",
        "--verbose",
    ]
    .map(String::from)
    .to_vec();
    if let Some(id) = resume {
        args.extend(["--resume".into(), id.to_string()]);
    }
    if settings.skip_permissions {
        args.push("--dangerously-skip-permissions".into());
    }
    if let Some(model) = &settings.model {
        args.extend(["--model".into(), model.clone()]);
    }
    if let Some(effort) = &settings.effort {
        args.extend(["--effort".into(), effort.clone()]);
    }
    if settings.max_turns > 0 {
        args.extend(["--max-turns".into(), settings.max_turns.to_string()]);
    }
    if let (None, Some(file)) = (resume, instructions) {
        args.extend([
            "--append-system-prompt-file".into(),
            file.display().to_string(),
        ]);
    }
    args.extend(["--add-dir".into(), bundle_root.display().to_string()]);
    args.extend(settings.extra_args.iter().cloned());
    args
}

/// Writes the skill bundle (`.claude/skills/paperclip/SKILL.md` under its root) if it is
/// missing or stale, and returns its root.
pub(crate) fn skill_bundle(data_dir: &Path) -> Result<PathBuf, AdapterError> {
    let root = data_dir.join("claude").join("skills-bundle");
    let skill = root.join(".claude/skills/paperclip/SKILL.md");
    local_cli::write_if_changed(&skill, PAPERCLIP_SKILL.as_bytes())?;
    Ok(root)
}

/// Copies the agent's instructions, with a note on where their relative references resolve
/// from, to a file of its own for `--append-system-prompt-file`.
fn instructions_copy(input: &RunInput<'_>) -> Result<Option<PathBuf>, AdapterError> {
    let Some((source, text)) = local_cli::read_instructions(input.config)? else {
        return Ok(None);
    };
    let copy = input
        .data_dir
        .join("claude")
        .join("instructions")
        .join(input.agent_id.to_string())
        .join("agent-instructions.md");
    let contents = format!(
        "{text}\n\nThese agent instructions come from {}. Resolve relative file references \
         in them (such as ./HEARTBEAT.md or ./TOOLS.md) from {}, not from the working \
         directory.\n",
        source.display(),
        local_cli::instructions_dir(&source),
    );
    local_cli::write_if_changed(&copy, contents.as_bytes())?;
    Ok(Some(copy))
}

/// The run's environment without the variables of an enclosing Claude Code session.
pub(crate) fn child_env(env: &[(String, String)]) -> Vec<(String, String)> {
    env.iter()
        .filter(|(k, _)| !CLAUDE_SESSION_VARS.contains(&k.as_str()))
        .cloned()
        .collect()
}

impl Adapter for ClaudeLocal {
    fn kind(&self) -> &'static str {
        "claude_local"
    }

    fn plan(&self, input: &RunInput<'_>) -> Result<Plan, AdapterError> {
        let settings = Settings::from_config(input.config)?;
        let program = which::find(&settings.command, env_value(&input.env, "PATH"))?;
        let cwd = cwd_field(input.config)?;
        let limits = limits_from(input.config, 20.0)?;
        let resume = input.session_id.as_deref().filter(|s| !s.trim().is_empty());
        let instructions = match resume {
            Some(_) => None,
            None => instructions_copy(input)?,
        };
        let bundle = skill_bundle(&input.data_dir)?;
        let args = build_args(&settings, resume, instructions.as_deref(), &bundle);
        let env = child_env(&input.env);
        let billing_type = if local_cli::has_value(&env, "ANTHROPIC_API_KEY") {
            "api"
        } else {
            "subscription"
        };
        let parser = ClaudeParser::new(
            resume.map(str::to_string),
            billing_type,
            settings.model.clone(),
        );
        Ok(Plan::Process {
            launch: Launch {
                program,
                args,
                cwd,
                env,
                stdin: Some(input.prompt.clone().into_bytes()),
            },
            limits,
            parser: Box::new(parser),
        })
    }
}
