//! The prompt a local CLI agent gets on stdin: the agent's `promptTemplate`, else ours, with
//! `{{ path.to.value }}` filled from the agent, the run and its context (a missing value is
//! empty; an object is written as JSON).

use paperclip_shared::*;
use serde_json::{Value, json};

const DEFAULT_TEMPLATE: &str =
    "You are agent {{agent.id}} ({{agent.name}}) of company {{companyId}}. \
This is heartbeat run {{runId}}; continue your Paperclip work.

How to work this heartbeat:
- Use the paperclip skill: it explains the API, the PAPERCLIP_* variables you were given and the \
steps of a heartbeat.
- Send `Authorization: Bearer $PAPERCLIP_API_KEY` on every request and \
`X-Paperclip-Run-Id: $PAPERCLIP_RUN_ID` on every change.
- Start from PAPERCLIP_TASK_ID when it is set, else from your inbox (GET /api/agents/me/inbox-lite).
- Check an issue out before working on it; a 409 means someone else has it: leave it.
- Do the work now, in this run, and leave evidence: a comment saying what you did.
- Finish by setting the issue's status (done, in_review or blocked with the reason).
- Nothing to do: stop.";

fn lookup<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(data, |v, key| v.get(key))
}

/// Fills `{{ path }}` placeholders from `data`.
pub fn render(template: &str, data: &Value) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let path = after[..close].trim();
        let valid = !path.is_empty()
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if valid {
            match lookup(data, path) {
                Some(Value::String(s)) => out.push_str(s),
                Some(Value::Null) | None => {}
                Some(other) => out.push_str(&other.to_string()),
            }
        } else {
            out.push_str(&rest[open..open + 2 + close + 2]);
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// The prompt of `run` for `agent`.
pub fn for_run(agent: &Agent, run: &HeartbeatRun) -> String {
    let template = agent.adapter_config["promptTemplate"]
        .as_str()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(DEFAULT_TEMPLATE);
    let data = json!({
        "agentId": agent.id,
        "companyId": agent.company_id,
        "runId": run.id,
        "company": {"id": agent.company_id},
        "agent": {
            "id": agent.id,
            "name": agent.name,
            "role": agent.role,
            "title": agent.title,
            "capabilities": agent.capabilities,
        },
        "run": {"id": run.id, "source": run.invocation_source},
        "context": run.context_snapshot,
    });
    render(template, &data).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_missing_ones_left_empty() {
        let data = json!({"agent": {"name": "Ada", "n": 3}, "ctx": {"a": [1]}});
        assert_eq!(
            render(
                "Hi {{ agent.name }} #{{agent.n}} {{missing}}{{ctx.a}} {{bad path}}",
                &data
            ),
            "Hi Ada #3 [1] {{bad path}}"
        );
        assert_eq!(
            render("open {{ never closed", &data),
            "open {{ never closed"
        );
    }
}
