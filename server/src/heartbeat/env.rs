//! A run's environment, in layers: what the server inherited (minus its own configuration
//! and credentials), the agent's `adapterConfig.env`, the project's `env` over it, then the
//! run's `PAPERCLIP_*` variables, which nothing in a configuration can override. Secret
//! references are opened here, at run start, and a bad one fails the run before any process.

use paperclip_shared::*;
use serde_json::Value;
use uuid::Uuid;

use super::Heartbeats;
use crate::adapters::Adapter;
use crate::domain::DomainError;

/// What the server's own environment must not hand to an agent.
fn inherited(key: &str) -> bool {
    let own = key.starts_with("PAPERCLIP_") || key.starts_with("HEARTBEAT_");
    let credentials = matches!(
        key,
        "DATABASE_URL" | "BETTER_AUTH_SECRET" | "PAPERCLIP_AGENT_JWT_SECRET"
    );
    // A Claude Code session the server was started from is not the agent's.
    let nested = matches!(
        key,
        "CLAUDECODE"
            | "CLAUDE_CODE_ENTRYPOINT"
            | "CLAUDE_CODE_SESSION"
            | "CLAUDE_CODE_PARENT_SESSION"
    );
    !(own || credentials || nested)
}

pub(super) struct RunEnv {
    pub vars: Vec<(String, String)>,
    /// Values that came from secrets (masked in the run's log).
    pub secret_values: Vec<String>,
}

/// Why a run could not start: a code and a message naming the cause.
pub(super) struct Refused {
    pub code: String,
    pub message: String,
}

impl From<DomainError> for Refused {
    fn from(e: DomainError) -> Self {
        let code = match &e {
            DomainError::Rule { code, .. } | DomainError::Conflict { code, .. } => code.to_string(),
            DomainError::Unavailable(_) => "secrets_unavailable".into(),
            _ => "env_resolution_failed".into(),
        };
        Refused {
            code,
            message: e.to_string(),
        }
    }
}

fn set(vars: &mut Vec<(String, String)>, key: &str, value: impl Into<String>) {
    vars.retain(|(k, _)| k != key);
    vars.push((key.to_string(), value.into()));
}

fn context_text(context: &Value, key: &str) -> Option<String> {
    context[key]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl Heartbeats {
    pub(super) async fn run_env(
        &self,
        run: &HeartbeatRun,
        agent: &Agent,
        adapter: &dyn Adapter,
    ) -> Result<RunEnv, Refused> {
        let domain = &self.inner.domain;
        let mut vars: Vec<(String, String)> =
            std::env::vars().filter(|(k, _)| inherited(k)).collect();
        let mut secret_values = Vec::new();
        let mut layers = vec![agent.adapter_config["env"].clone()];
        if let Some(project_env) = self.project_env(run).await? {
            layers.push(project_env);
        }
        for layer in layers {
            let secret_keys = crate::domain::secret_bound_keys(&layer);
            for (key, value) in domain.resolve_env(agent.company_id, &layer).await? {
                if key.starts_with("PAPERCLIP_") {
                    continue;
                }
                if secret_keys.contains(&key) {
                    secret_values.push(value.to_string());
                }
                set(&mut vars, &key, value.to_string());
            }
        }
        let ctx = &run.context_snapshot;
        set(
            &mut vars,
            "PAPERCLIP_API_URL",
            self.inner.settings.api_url.clone(),
        );
        set(&mut vars, "PAPERCLIP_AGENT_ID", agent.id.to_string());
        set(
            &mut vars,
            "PAPERCLIP_COMPANY_ID",
            agent.company_id.to_string(),
        );
        set(&mut vars, "PAPERCLIP_RUN_ID", run.id.to_string());
        let optional = [
            (
                "PAPERCLIP_TASK_ID",
                context_text(ctx, "taskId").or_else(|| context_text(ctx, "issueId")),
            ),
            ("PAPERCLIP_WAKE_REASON", context_text(ctx, "wakeReason")),
            (
                "PAPERCLIP_WAKE_COMMENT_ID",
                context_text(ctx, "wakeCommentId").or_else(|| context_text(ctx, "commentId")),
            ),
            ("PAPERCLIP_APPROVAL_ID", context_text(ctx, "approvalId")),
            (
                "PAPERCLIP_APPROVAL_STATUS",
                context_text(ctx, "approvalStatus"),
            ),
            (
                "PAPERCLIP_LINKED_ISSUE_IDS",
                ctx["issueIds"]
                    .as_array()
                    .map(|ids| {
                        ids.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .filter(|s| !s.is_empty()),
            ),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                set(&mut vars, key, value);
            }
        }
        if adapter.gets_run_token() {
            set(
                &mut vars,
                "PAPERCLIP_API_KEY",
                domain.mint_run_token(agent, run.id),
            );
        }
        if !vars.iter().any(|(k, _)| k == "PATH") {
            set(&mut vars, "PATH", "/usr/local/bin:/usr/bin:/bin");
        }
        Ok(RunEnv {
            vars,
            secret_values,
        })
    }

    /// The `env` of the project of the run's issue, if it has one.
    async fn project_env(&self, run: &HeartbeatRun) -> Result<Option<Value>, Refused> {
        let Some(issue) =
            context_text(&run.context_snapshot, "issueId").and_then(|s| Uuid::parse_str(&s).ok())
        else {
            return Ok(None);
        };
        let store = &self.inner.store;
        let Some(project) = store
            .get_issue(issue)
            .await
            .map_err(DomainError::from)?
            .and_then(|i| i.project_id)
        else {
            return Ok(None);
        };
        Ok(store
            .get_project(project)
            .await
            .map_err(DomainError::from)?
            .filter(|p| p.company_id == run.company_id)
            .map(|p| p.env))
    }
}

#[cfg(test)]
mod tests {
    use super::inherited;

    #[test]
    fn the_server_keeps_its_own_configuration_and_credentials() {
        assert!(inherited("HOME"));
        assert!(inherited("ANTHROPIC_API_KEY"));
        assert!(!inherited("DATABASE_URL"));
        assert!(!inherited("PAPERCLIP_SECRETS_MASTER_KEY"));
        assert!(!inherited("CLAUDECODE"));
    }
}
