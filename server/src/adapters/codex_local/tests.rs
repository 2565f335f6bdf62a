use serde_json::json;

use super::super::Plan;
use super::super::cli_testing::*;
use super::*;
use crate::heartbeat::supervisor::Ending;

fn launch_of(plan: &Plan) -> &Launch {
    match plan {
        Plan::Process { launch, .. } => launch,
        Plan::Http(_) => panic!("expected a process plan"),
    }
}

fn fake() -> String {
    fixture("fake-codex").display().to_string()
}

fn env_of<'a>(launch: &'a Launch, key: &str) -> Option<&'a str> {
    env_value(&launch.env, key)
}

#[test]
fn a_fresh_session_gets_the_full_argv_a_codex_home_and_the_instructions_first() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".codex")).unwrap();
    std::fs::write(home.join(".codex/auth.json"), r#"{"tokens":{}}"#).unwrap();
    let instructions = dir.path().join("agents/AGENTS.md");
    std::fs::create_dir_all(instructions.parent().unwrap()).unwrap();
    std::fs::write(&instructions, "Ship it.").unwrap();
    let cfg = config(json!({
        "command": fake(), "model": "gpt-5-codex", "reasoningEffort": "high", "search": true,
        "dangerouslyBypassSandbox": true, "extraArgs": ["--skip-git-repo-check"],
        "instructionsFilePath": instructions,
    }));
    let data = dir.path().join("data");
    let run = input(&cfg, run_env(&home, &[]), None, data.clone());
    let plan = CodexLocal.plan(&run).unwrap();
    let launch = launch_of(&plan);
    assert_eq!(
        launch.args,
        [
            "--search",
            "exec",
            "--json",
            "--dangerously-bypass-approvals-and-sandbox",
            "--model",
            "gpt-5-codex",
            "-c",
            "model_reasoning_effort=\"high\"",
            "--skip-git-repo-check",
            "-",
        ]
    );
    assert!(launch.args.iter().all(|a| !a.contains(API_KEY)));
    let stdin = String::from_utf8(launch.stdin.clone().unwrap()).unwrap();
    assert!(stdin.starts_with("Ship it.\n\nThe above agent instructions were loaded from "));
    assert!(stdin.ends_with(&format!(".\n\n{}", run.prompt)), "{stdin}");

    let codex_home = data.join("codex/home");
    assert_eq!(
        env_of(launch, "CODEX_HOME"),
        Some(codex_home.to_str().unwrap())
    );
    assert_eq!(env_of(launch, "CLAUDECODE"), None);
    let skill = std::fs::read_to_string(codex_home.join("skills/paperclip/SKILL.md")).unwrap();
    assert_eq!(skill, PAPERCLIP_SKILL);
    let auth = codex_home.join("auth.json");
    assert_eq!(std::fs::read_to_string(&auth).unwrap(), r#"{"tokens":{}}"#);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&auth).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A later run leaves the copied login alone (codex refreshes it in place).
    std::fs::write(&auth, "refreshed").unwrap();
    CodexLocal.plan(&run).unwrap();
    assert_eq!(std::fs::read_to_string(&auth).unwrap(), "refreshed");
}

#[test]
fn a_resumed_session_ends_with_resume_and_skips_the_instructions() {
    let dir = tempfile::tempdir().unwrap();
    let own_home = dir.path().join("own-codex-home");
    let cfg = config(json!({
        "command": fake(), "modelReasoningEffort": "low", "reasoningEffort": "high",
        "args": ["--oss"], "instructionsFilePath": dir.path().join("missing.md"),
    }));
    let env = run_env(dir.path(), &[("CODEX_HOME", own_home.to_str().unwrap())]);
    let run = input(&cfg, env, Some("thr-1"), dir.path().join("data"));
    let plan = CodexLocal.plan(&run).unwrap();
    let launch = launch_of(&plan);
    assert_eq!(
        launch.args,
        [
            "exec",
            "--json",
            "-c",
            "model_reasoning_effort=\"low\"",
            "--oss",
            "resume",
            "thr-1",
            "-"
        ]
    );
    assert_eq!(launch.stdin.as_deref(), Some(run.prompt.as_bytes()));
    // The agent's own CODEX_HOME is kept, and gets the skill.
    assert_eq!(
        env_of(launch, "CODEX_HOME"),
        Some(own_home.to_str().unwrap())
    );
    assert_eq!(
        launch.env.iter().filter(|(k, _)| k == "CODEX_HOME").count(),
        1
    );
    assert!(own_home.join("skills/paperclip/SKILL.md").is_file());
    assert!(!own_home.join("auth.json").exists(), "no login to copy");
}

fn parser(resumed: Option<&str>) -> CodexParser {
    CodexParser::new(
        resumed.map(str::to_string),
        "subscription",
        Some("gpt-5".into()),
    )
}

const OK: &str = r#"{"type":"thread.started","thread_id":"thr-9"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"thinking"}}
{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"First."}}
{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":80,"output_tokens":7}}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":" Closed ACM-2. "}}
{"type":"turn.completed","usage":{"input_tokens":300,"cached_input_tokens":200,"output_tokens":20}}
"#;

#[test]
fn a_successful_run_gives_the_thread_the_last_message_and_the_last_usage() {
    let out = parse(&mut parser(None), OK, "", exited(0));
    assert_eq!(out.error, None);
    assert_eq!(out.session_id.as_deref(), Some("thr-9"));
    assert_eq!(out.summary.as_deref(), Some("Closed ACM-2."));
    let usage = out.usage.unwrap();
    // Overwritten by each turn.completed, not summed.
    assert_eq!(
        (
            usage.input_tokens,
            usage.cached_input_tokens,
            usage.output_tokens
        ),
        (300, 200, 20)
    );
    assert_eq!(out.cost_usd, None);
    assert_eq!(out.provider.as_deref(), Some("openai"));
    assert_eq!(out.model.as_deref(), Some("gpt-5"));
    assert_eq!(out.billing_type.as_deref(), Some("subscription"));
}

#[test]
fn a_failed_turn_gives_its_message_else_stderr_else_the_exit_code() {
    let failed = r#"{"type":"thread.started","thread_id":"thr-9"}
{"type":"turn.failed","error":{"message":"stream disconnected before completion"}}
"#;
    let out = parse(&mut parser(None), failed, "warn: x\n", exited(1));
    assert_eq!(
        out.error.as_deref(),
        Some("stream disconnected before completion")
    );
    assert_eq!(out.error_code.as_deref(), Some("adapter_failed"));
    assert_eq!(out.session_id.as_deref(), Some("thr-9"));
    let out = parse(&mut parser(None), "", "\nError: bad flag\n", exited(2));
    assert_eq!(out.error.as_deref(), Some("Error: bad flag"));
    let out = parse(&mut parser(Some("thr-1")), "", "", exited(2));
    assert_eq!(out.error.as_deref(), Some("Codex exited with code 2"));
    assert_eq!(
        out.session_id.as_deref(),
        Some("thr-1"),
        "the resumed thread is kept"
    );
    // Exit 0 is success even after an error event; a timeout is named by the run.
    let out = parse(
        &mut parser(None),
        r#"{"type":"error","message":"retrying"}"#,
        "",
        exited(0),
    );
    assert_eq!(out.error, None);
    assert_eq!(
        parse(&mut parser(None), OK, "", Ending::TimedOut).error,
        None
    );
}

#[test]
fn an_unknown_thread_asks_for_a_fresh_session() {
    let out = parse(
        &mut parser(Some("thr-1")),
        "",
        "Error: thread thr-1 not found\n",
        exited(1),
    );
    assert!(out.session_invalid);
    assert_eq!(out.session_id, None);
    assert_eq!(out.error.as_deref(), Some("Error: thread thr-1 not found"));
    let out = parse(
        &mut parser(None),
        "",
        "Error: thread thr-1 not found\n",
        exited(1),
    );
    assert!(!out.session_invalid);
    for line in [
        "unknown session abc",
        "conversation 12 not found",
        "state db returned stale rollout path for x",
        "no rollout found for thread id 3",
    ] {
        assert!(parse::is_unknown_session(line), "{line}");
    }
    assert!(!parse::is_unknown_session("thread not found"));
}

#[test]
fn a_usage_limit_is_a_provider_quota_with_its_reset_time() {
    let msg = "You've hit your usage limit for GPT-5. Switch to another model now, or try again at 5:30 PM (UTC).";
    let stdout = format!(
        "{}\n{}\n",
        json!({"type":"error","message": msg}),
        json!({"type":"turn.failed","error":{"message": msg}})
    );
    let out = parse(&mut parser(None), &stdout, "", exited(1));
    assert_eq!(out.error.as_deref(), Some(msg));
    assert_eq!(out.error_code.as_deref(), Some("provider_quota"));
    let at = out.result_json.unwrap()["retryNotBefore"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(at.contains("T17:30:00"), "{at}");
    let out = parse(
        &mut parser(None),
        "",
        "error: model is at capacity\n",
        exited(1),
    );
    assert_eq!(out.error_code.as_deref(), Some("provider_quota"));
}

#[test]
fn an_api_key_in_the_environment_means_api_billing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(json!({ "command": fake() }));
    let env = run_env(dir.path(), &[("OPENAI_API_KEY", "sk-x")]);
    let run = input(&cfg, env, None, dir.path().into());
    let Plan::Process { mut parser, .. } = CodexLocal.plan(&run).unwrap() else {
        panic!("process plan");
    };
    assert_eq!(
        parser.finish(&exited(0)).billing_type.as_deref(),
        Some("api")
    );
}

#[tokio::test]
async fn the_fake_cli_round_trips_argv_stdin_and_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls.jsonl");
    let rec = record.display().to_string();
    let cfg = config(json!({ "command": fake(), "model": "gpt-5" }));

    let env = run_env(dir.path(), &[("FAKE_CLI_RECORD", &rec)]);
    let run = input(&cfg, env, None, dir.path().join("data"));
    let (ending, out) = run_plan(CodexLocal.plan(&run).unwrap()).await;
    assert_eq!(ending, exited(0));
    assert_eq!(out.error, None, "{out:?}");
    let thread = out.session_id.clone().expect("a thread");
    let usage = out.usage.clone().unwrap();
    assert_eq!(
        (
            usage.input_tokens,
            usage.cached_input_tokens,
            usage.output_tokens
        ),
        (2400, 1800, 120)
    );
    assert!(out.summary.unwrap().contains("characters of prompt read"));

    let env = run_env(dir.path(), &[("FAKE_CLI_RECORD", &rec)]);
    let run = input(&cfg, env, Some(&thread), dir.path().join("data"));
    let (_, out) = run_plan(CodexLocal.plan(&run).unwrap()).await;
    assert_eq!(
        (out.error.as_deref(), out.session_id.as_deref()),
        (None, Some(thread.as_str()))
    );
    let env = run_env(
        dir.path(),
        &[
            ("FAKE_CLI_RECORD", &rec),
            ("FAKE_CLI_MODE", "unknown_session"),
        ],
    );
    let run = input(&cfg, env, Some("gone-1"), dir.path().join("data"));
    let (ending, out) = run_plan(CodexLocal.plan(&run).unwrap()).await;
    assert_eq!(ending, exited(1));
    assert!(out.session_invalid, "{out:?}");
    assert_eq!(out.error.as_deref(), Some("Error: thread gone-1 not found"));

    let calls = recorded(&record);
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0]["prompt"], json!(run.prompt));
    assert_eq!(calls[0]["apiKeySet"], json!(true));
    let home = dir.path().join("data/codex/home");
    assert_eq!(calls[0]["env"]["CODEX_HOME"], json!(home));
    assert_eq!(
        calls[1]["argv"],
        json!(["exec", "--json", "--model", "gpt-5", "resume", thread, "-"])
    );
    assert!(calls.iter().all(|c| !c.to_string().contains(API_KEY)));
}
