//! `codex_local`: OpenAI's Codex CLI on this machine, as Paperclip runs it (`codex exec`).
//!
//! Config (Paperclip's names): `command` ("codex"), `cwd`, `model`, `modelReasoningEffort`
//! (or `reasoningEffort`), `search`, `dangerouslyBypassApprovalsAndSandbox` (or
//! `dangerouslyBypassSandbox`), `extraArgs` (or `args`), `instructionsFilePath` (its text is
//! put before the prompt of a new session), `timeoutSec`, `idleTimeoutSec`, `graceSec` (20).
//! The prompt goes on stdin; the CLI answers in JSONL (see [`parse`]).
//!
//! Codex finds skills under `$CODEX_HOME/skills`. Unless the agent's env names its own
//! `CODEX_HOME`, runs get one under the instance's adapter data, seeded with the user's
//! `~/.codex/auth.json` so a subscription login keeps working. Planning writes these small
//! files: call it off the async runtime.

mod parse;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use parse::CodexParser;

use super::local_cli::{self, CLAUDE_SESSION_VARS, PAPERCLIP_SKILL};
use super::*;

pub struct CodexLocal;

/// Everything the argv depends on, read from the config.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    pub command: String,
    pub model: Option<String>,
    pub reasoning_effort: Option<String>,
    pub search: bool,
    pub bypass_sandbox: bool,
    pub extra_args: Vec<String>,
}

impl Settings {
    pub(crate) fn from_config(config: &Map<String, Value>) -> Result<Self, AdapterError> {
        Ok(Settings {
            command: string_field(config, "command").unwrap_or_else(|| "codex".into()),
            model: string_field(config, "model"),
            reasoning_effort: string_field(config, "modelReasoningEffort")
                .or_else(|| string_field(config, "reasoningEffort")),
            search: local_cli::bool_field(config, "search", false)?,
            bypass_sandbox: local_cli::bool_alias(
                config,
                &[
                    "dangerouslyBypassApprovalsAndSandbox",
                    "dangerouslyBypassSandbox",
                ],
                false,
            )?,
            extra_args: local_cli::extra_args(config)?,
        })
    }
}

/// `[--search] exec --json [--dangerously-bypass-approvals-and-sandbox] [--model m]
/// [-c model_reasoning_effort="e"] [...extraArgs] (resume <id> - | -)`.
pub(crate) fn build_args(settings: &Settings, resume: Option<&str>) -> Vec<String> {
    let mut args = Vec::new();
    if settings.search {
        args.push("--search".to_string());
    }
    args.extend(["exec".to_string(), "--json".to_string()]);
    if settings.bypass_sandbox {
        args.push("--dangerously-bypass-approvals-and-sandbox".into());
    }
    if let Some(model) = &settings.model {
        args.extend(["--model".into(), model.clone()]);
    }
    if let Some(effort) = &settings.reasoning_effort {
        // A TOML string, quoted as JSON quotes it.
        args.extend([
            "-c".into(),
            format!("model_reasoning_effort={}", Value::String(effort.clone())),
        ]);
    }
    args.extend(settings.extra_args.iter().cloned());
    if let Some(id) = resume {
        args.extend(["resume".into(), id.to_string()]);
    }
    args.push("-".into());
    args
}

/// The prompt of a run: for a new session, the instructions file's text comes first, with
/// where its relative references resolve from.
pub(crate) fn full_prompt(instructions: Option<(&Path, &str)>, prompt: &str) -> String {
    match instructions {
        Some((path, text)) => format!(
            "{text}\n\nThe above agent instructions were loaded from {}. Resolve any relative \
             file references from {}.\n\n{prompt}",
            path.display(),
            local_cli::instructions_dir(path),
        ),
        None => prompt.to_string(),
    }
}

/// The run's environment with `CODEX_HOME` set (the agent's own, or the managed one) and
/// without the variables of an enclosing Claude Code session; and the CODEX_HOME used.
pub(crate) fn child_env(
    env: &[(String, String)],
    data_dir: &Path,
) -> (Vec<(String, String)>, PathBuf) {
    let mut out: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| !CLAUDE_SESSION_VARS.contains(&k.as_str()))
        .cloned()
        .collect();
    let home = match env_value(env, "CODEX_HOME").filter(|v| !v.trim().is_empty()) {
        Some(own) => PathBuf::from(own),
        None => {
            let managed = data_dir.join("codex").join("home");
            out.retain(|(k, _)| k != "CODEX_HOME");
            out.push(("CODEX_HOME".into(), managed.display().to_string()));
            managed
        }
    };
    (out, home)
}

/// Puts the skill into CODEX_HOME and, when it has no login of its own, copies the user's
/// (`$HOME/.codex/auth.json`, readable by the owner only).
pub(crate) fn prepare_home(codex_home: &Path, user_home: Option<&str>) -> Result<(), AdapterError> {
    local_cli::write_if_changed(
        &codex_home.join("skills/paperclip/SKILL.md"),
        PAPERCLIP_SKILL.as_bytes(),
    )?;
    let target = codex_home.join("auth.json");
    let Some(source) = user_home
        .filter(|h| !h.trim().is_empty())
        .map(|h| Path::new(h).join(".codex").join("auth.json"))
    else {
        return Ok(());
    };
    if target.exists() || !source.is_file() {
        return Ok(());
    }
    let failed = |e: std::io::Error| {
        AdapterError::Config(format!(
            "cannot copy the Codex login {} to {}: {e}",
            source.display(),
            target.display()
        ))
    };
    let bytes = std::fs::read(&source).map_err(failed)?;
    write_private(&target, &bytes).map_err(failed)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

impl Adapter for CodexLocal {
    fn kind(&self) -> &'static str {
        "codex_local"
    }

    fn plan(&self, input: &RunInput<'_>) -> Result<Plan, AdapterError> {
        let settings = Settings::from_config(input.config)?;
        let program = which::find(&settings.command, env_value(&input.env, "PATH"))?;
        let cwd = cwd_field(input.config)?;
        let limits = limits_from(input.config, 20.0)?;
        let resume = input.session_id.as_deref().filter(|s| !s.trim().is_empty());
        let instructions = match resume {
            Some(_) => None,
            None => local_cli::read_instructions(input.config)?,
        };
        let prompt = full_prompt(
            instructions
                .as_ref()
                .map(|(p, t)| (p.as_path(), t.as_str())),
            &input.prompt,
        );
        let (env, codex_home) = child_env(&input.env, &input.data_dir);
        prepare_home(&codex_home, env_value(&env, "HOME"))?;
        let billing_type = if local_cli::has_value(&env, "OPENAI_API_KEY") {
            "api"
        } else {
            "subscription"
        };
        let parser = CodexParser::new(
            resume.map(str::to_string),
            billing_type,
            settings.model.clone(),
        );
        Ok(Plan::Process {
            launch: Launch {
                program,
                args: build_args(&settings, resume),
                cwd,
                env,
                stdin: Some(prompt.into_bytes()),
            },
            limits,
            parser: Box::new(parser),
        })
    }
}
