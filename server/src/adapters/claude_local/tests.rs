use serde_json::{Value, json};

use super::super::cli_testing::*;
use super::super::{Adapter, Plan};
use super::*;
use crate::heartbeat::supervisor::Ending;

fn plan_of(plan: &Plan) -> (&Launch, &crate::heartbeat::supervisor::Limits) {
    match plan {
        Plan::Process { launch, limits, .. } => (launch, limits),
        Plan::Http(_) => panic!("expected a process plan"),
    }
}

fn fake() -> String {
    fixture("fake-claude").display().to_string()
}

#[test]
fn a_fresh_session_gets_the_full_argv_the_skill_and_the_instructions() {
    let dir = tempfile::tempdir().unwrap();
    let instructions = dir.path().join("agents/ceo/AGENTS.md");
    std::fs::create_dir_all(instructions.parent().unwrap()).unwrap();
    std::fs::write(&instructions, "Be the CEO.").unwrap();
    let cfg = config(json!({
        "command": fake(), "model": "claude-opus-4-1", "effort": "high", "maxTurnsPerRun": 7,
        "instructionsFilePath": instructions, "extraArgs": ["--chrome"], "graceSec": 5,
    }));
    let data = dir.path().join("data");
    let run = input(&cfg, run_env(dir.path(), &[]), None, data.clone());
    let plan = ClaudeLocal.plan(&run).unwrap();
    let (launch, limits) = plan_of(&plan);
    let bundle = data.join("claude/skills-bundle");
    let copy = data
        .join("claude/instructions")
        .join(run.agent_id.to_string())
        .join("agent-instructions.md");
    let expected: Vec<String> = [
        "--print",
        "-",
        "--output-format",
        "stream-json",
        "--verbose",
        "--dangerously-skip-permissions",
        "--model",
        "claude-opus-4-1",
        "--effort",
        "high",
        "--max-turns",
        "7",
        "--append-system-prompt-file",
        &copy.display().to_string(),
        "--add-dir",
        &bundle.display().to_string(),
        "--chrome",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(launch.args, expected);
    assert_eq!(launch.program, fixture("fake-claude"));
    assert_eq!(launch.stdin.as_deref(), Some(run.prompt.as_bytes()));
    assert_eq!(limits.grace.as_secs(), 5);
    // Credentials stay in the environment; a parent Claude session's variables do not.
    assert!(launch.args.iter().all(|a| !a.contains(API_KEY)));
    assert!(
        launch
            .env
            .iter()
            .any(|(k, v)| k == "PAPERCLIP_API_KEY" && v == API_KEY)
    );
    assert!(launch.env.iter().all(|(k, _)| !k.starts_with("CLAUDECODE")));
    assert!(
        launch
            .env
            .iter()
            .all(|(k, _)| k != "CLAUDE_CODE_ENTRYPOINT")
    );
    let skill = std::fs::read_to_string(bundle.join(".claude/skills/paperclip/SKILL.md")).unwrap();
    assert_eq!(skill, PAPERCLIP_SKILL);
    let copied = std::fs::read_to_string(copy).unwrap();
    assert!(copied.starts_with("Be the CEO."), "{copied}");
    assert!(copied.contains(&format!("{}/", instructions.parent().unwrap().display())));
}

#[test]
fn a_resumed_session_names_it_and_skips_the_instructions() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(json!({
        "command": fake(), "dangerouslySkipPermissions": false,
        "instructionsFilePath": dir.path().join("missing.md"), "args": ["--x"],
    }));
    let run = input(
        &cfg,
        run_env(dir.path(), &[]),
        Some("sess-1"),
        dir.path().into(),
    );
    let plan = ClaudeLocal.plan(&run).unwrap();
    let bundle = dir
        .path()
        .join("claude/skills-bundle")
        .display()
        .to_string();
    assert_eq!(
        plan_of(&plan).0.args,
        [
            "--print",
            "-",
            "--output-format",
            "stream-json",
            "--verbose",
            "--resume",
            "sess-1",
            "--add-dir",
            &bundle,
            "--x",
        ]
    );
    // A fresh session needs the instructions file: a missing one is a config error.
    let fresh = input(&cfg, run_env(dir.path(), &[]), None, dir.path().into());
    let err = ClaudeLocal
        .plan(&fresh)
        .err()
        .expect("missing instructions");
    assert_eq!(err.code(), "adapter_config_invalid");
}

#[test]
fn bad_config_and_a_missing_command_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        json!({"maxTurnsPerRun": -1}),
        json!({"dangerouslySkipPermissions": "yes"}),
        json!({"extraArgs": [1]}),
        json!({"timeoutSec": 0}),
    ] {
        let mut cfg = config(bad.clone());
        cfg.insert("command".into(), Value::String(fake()));
        let run = input(&cfg, run_env(dir.path(), &[]), None, dir.path().into());
        let err = ClaudeLocal.plan(&run).err().expect("refused");
        assert_eq!(err.code(), "adapter_config_invalid", "{bad}");
    }
    let cfg = config(json!({"command": "no-such-claude"}));
    let run = input(&cfg, run_env(dir.path(), &[]), None, dir.path().into());
    let err = ClaudeLocal.plan(&run).err().expect("missing");
    assert_eq!(err.code(), "adapter_command_not_found");
}

const INIT: &str = r#"{"type":"system","subtype":"init","session_id":"s-1","model":"claude-sonnet-4-5","tools":[]}"#;
const ASSISTANT: &str = r#"{"type":"assistant","session_id":"s-1","message":{"content":[{"type":"text","text":"Working on ACM-1."},{"type":"tool_use","name":"Bash"}]}}"#;

fn stream(result: &str) -> String {
    format!("{INIT}\nnot json at all\n{ASSISTANT}\n{result}\n")
}

fn parser(resumed: Option<&str>) -> ClaudeParser {
    ClaudeParser::new(resumed.map(str::to_string), "subscription", None)
}

#[test]
fn a_successful_run_gives_session_model_cost_usage_and_summary() {
    let result = r#"{"type":"result","subtype":"success","is_error":false,"session_id":"s-1","result":"Closed ACM-1.","total_cost_usd":0.25,"usage":{"input_tokens":10,"cache_read_input_tokens":900,"output_tokens":40}}"#;
    let out = parse(&mut parser(None), &stream(result), "", exited(0));
    assert_eq!(out.error, None);
    assert_eq!(out.error_code, None);
    assert_eq!(out.session_id.as_deref(), Some("s-1"));
    assert_eq!(out.model.as_deref(), Some("claude-sonnet-4-5"));
    assert_eq!(out.cost_usd, Some(0.25));
    let usage = out.usage.unwrap();
    assert_eq!(
        (
            usage.input_tokens,
            usage.cached_input_tokens,
            usage.output_tokens
        ),
        (10, 900, 40)
    );
    assert_eq!(out.summary.as_deref(), Some("Closed ACM-1."));
    assert_eq!(out.provider.as_deref(), Some("anthropic"));
    assert_eq!(out.billing_type.as_deref(), Some("subscription"));
    assert_eq!(out.result_json.unwrap()["total_cost_usd"], json!(0.25));
}

#[test]
fn model_usage_is_preferred_and_counts_cache_writes_as_input() {
    let result = r#"{"type":"result","subtype":"success","is_error":false,"usage":{"input_tokens":1,"output_tokens":1},"modelUsage":{"a":{"inputTokens":10,"cacheCreationInputTokens":5,"cacheReadInputTokens":100,"outputTokens":7},"b":{"inputTokens":1,"outputTokens":2}}}"#;
    let out = parse(&mut parser(None), &stream(result), "", exited(0));
    let usage = out.usage.unwrap();
    assert_eq!(
        (
            usage.input_tokens,
            usage.cached_input_tokens,
            usage.output_tokens
        ),
        (16, 100, 9)
    );
    // Without a result text the assistant's texts are the summary.
    assert_eq!(out.summary.as_deref(), Some("Working on ACM-1."));
}

#[test]
fn an_error_result_fails_with_its_subtype_and_message() {
    let result = r#"{"type":"result","subtype":"error_during_execution","is_error":true,"session_id":"s-1","errors":[{"message":"tool crashed"}]}"#;
    let out = parse(&mut parser(None), &stream(result), "", exited(1));
    assert_eq!(
        out.error.as_deref(),
        Some("Claude run failed: subtype=error_during_execution: tool crashed")
    );
    assert_eq!(out.error_code.as_deref(), Some("adapter_failed"));
    assert!(!out.session_invalid);
    assert_eq!(out.session_id.as_deref(), Some("s-1"));
}

#[test]
fn an_unknown_resumed_session_asks_for_a_fresh_one() {
    let result = r#"{"type":"result","subtype":"error_during_execution","is_error":true,"errors":["No conversation found with session ID: old-1"]}"#;
    let out = parse(
        &mut parser(Some("old-1")),
        &format!("{result}\n"),
        "",
        exited(1),
    );
    assert!(out.session_invalid);
    assert_eq!(out.session_id, None);
    assert!(out.error.unwrap().contains("No conversation found"));
    // Not resuming: the same text is only a failure.
    let out = parse(&mut parser(None), &format!("{result}\n"), "", exited(1));
    assert!(!out.session_invalid);
}

#[test]
fn a_usage_limit_is_a_provider_quota_with_its_reset_time() {
    let result = r#"{"type":"result","subtype":"success","is_error":true,"result":"5-hour limit reached ∙ resets 5pm (UTC)"}"#;
    let out = parse(&mut parser(None), &stream(result), "", exited(1));
    assert_eq!(out.error_code.as_deref(), Some("provider_quota"));
    assert_eq!(
        out.error.as_deref(),
        Some("Claude run failed: subtype=success: 5-hour limit reached ∙ resets 5pm (UTC)")
    );
    let json = out.result_json.unwrap();
    let at = json["retryNotBefore"].as_str().expect("retryNotBefore");
    assert!(at.contains("T17:00:00"), "{at}");
    let now = chrono::Utc::now();
    assert!(
        parse::reset_time(
            "you've hit your session limit · resets at 9:30 am (gmt)",
            now
        )
        .is_some_and(|t| t.contains("T09:30:00"))
    );
    assert_eq!(parse::reset_time("usage limit reached", now), None);
    assert_eq!(
        parse::reset_time("claude ai usage limit reached|1796371200", now).as_deref(),
        Some("2026-12-04T08:00:00+00:00")
    );
}

#[test]
fn login_and_turn_limit_failures_have_their_codes() {
    let result = r#"{"type":"result","subtype":"success","is_error":true,"result":"Invalid API key · Please run /login"}"#;
    let out = parse(&mut parser(None), &stream(result), "", exited(1));
    assert_eq!(out.error_code.as_deref(), Some("claude_auth_required"));
    let out = parse(&mut parser(None), "", "Error: not logged in\n", exited(1));
    assert_eq!(out.error_code.as_deref(), Some("claude_auth_required"));
    let result =
        r#"{"type":"result","subtype":"error_max_turns","is_error":false,"session_id":"s-1"}"#;
    let out = parse(&mut parser(Some("s-1")), &stream(result), "", exited(1));
    assert_eq!(
        out.error.as_deref(),
        Some("Claude run failed: subtype=error_max_turns")
    );
    assert_eq!(out.error_code.as_deref(), Some("max_turns_exhausted"));
    assert_eq!(out.session_id, None, "the exhausted session is dropped");
    assert_eq!(
        out.result_json.unwrap()["stopReason"],
        json!("max_turns_exhausted")
    );
}

#[test]
fn without_a_result_event_the_exit_and_stderr_tell() {
    let out = parse(
        &mut parser(None),
        &format!("{INIT}\n{ASSISTANT}\n"),
        "",
        exited(0),
    );
    assert_eq!(
        out.error.as_deref(),
        Some("Failed to parse claude JSON output")
    );
    assert_eq!(out.session_id.as_deref(), Some("s-1"));
    assert_eq!(out.summary.as_deref(), Some("Working on ACM-1."));
    let out = parse(
        &mut parser(Some("old")),
        "",
        "\n  boom: no network\nmore\n",
        exited(2),
    );
    assert_eq!(
        out.error.as_deref(),
        Some("Claude exited with code 2: boom: no network")
    );
    assert_eq!(
        out.session_id.as_deref(),
        Some("old"),
        "the resumed session is kept"
    );
    let out = parse(&mut parser(None), "", "", exited(2));
    assert_eq!(out.error.as_deref(), Some("Claude exited with code 2"));
    // A timeout is named by the run, not here.
    let out = parse(&mut parser(None), INIT, "", Ending::TimedOut);
    assert_eq!(out.error, None);
    assert_eq!(out.session_id.as_deref(), Some("s-1"));
}

#[test]
fn an_api_key_in_the_environment_means_api_billing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(json!({ "command": fake() }));
    let env = run_env(dir.path(), &[("ANTHROPIC_API_KEY", "sk-ant-x")]);
    let run = input(&cfg, env, None, dir.path().into());
    let Plan::Process { mut parser, .. } = ClaudeLocal.plan(&run).unwrap() else {
        panic!("process plan");
    };
    let out = parser.finish(&exited(0));
    assert_eq!(out.billing_type.as_deref(), Some("api"));
}

#[tokio::test]
async fn the_fake_cli_round_trips_argv_stdin_and_stream_json() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls.jsonl");
    let rec = record.display().to_string();
    let cfg = config(json!({ "command": fake(), "model": "claude-x" }));

    let env = run_env(dir.path(), &[("FAKE_CLI_RECORD", &rec)]);
    let run = input(&cfg, env, None, dir.path().into());
    let (ending, out) = run_plan(ClaudeLocal.plan(&run).unwrap()).await;
    assert_eq!(ending, exited(0));
    assert_eq!(out.error, None, "{out:?}");
    let session = out.session_id.clone().expect("a new session");
    assert_eq!(out.cost_usd, Some(0.0123));
    let usage = out.usage.clone().unwrap();
    assert_eq!(
        (
            usage.input_tokens,
            usage.cached_input_tokens,
            usage.output_tokens
        ),
        (312, 4000, 55)
    );
    assert!(out.summary.unwrap().contains("characters of prompt read"));

    // Resuming the session it gave works; an unknown one asks for a fresh start.
    let env = run_env(dir.path(), &[("FAKE_CLI_RECORD", &rec)]);
    let run = input(&cfg, env, Some(&session), dir.path().into());
    let (_, out) = run_plan(ClaudeLocal.plan(&run).unwrap()).await;
    assert_eq!(
        (out.error.as_deref(), out.session_id.as_deref()),
        (None, Some(session.as_str()))
    );
    let env = run_env(
        dir.path(),
        &[
            ("FAKE_CLI_RECORD", &rec),
            ("FAKE_CLI_MODE", "unknown_session"),
        ],
    );
    let run = input(&cfg, env, Some("gone-1"), dir.path().into());
    let (ending, out) = run_plan(ClaudeLocal.plan(&run).unwrap()).await;
    assert_eq!(ending, exited(1));
    assert!(out.session_invalid, "{out:?}");
    assert!(
        out.error
            .unwrap()
            .contains("No conversation found with session ID: gone-1")
    );

    let calls = recorded(&record);
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0]["prompt"], json!(run.prompt));
    assert_eq!(calls[0]["apiKeySet"], json!(true));
    assert_eq!(calls[0]["env"].get("CLAUDECODE"), None);
    assert_eq!(
        (&calls[1]["argv"][5], &calls[1]["argv"][6]),
        (&json!("--resume"), &json!(session))
    );
    assert!(calls.iter().all(|c| !c.to_string().contains(API_KEY)));
}

#[tokio::test]
async fn a_hung_cli_is_timed_out_and_keeps_the_session_it_announced() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(json!({ "command": fake(), "timeoutSec": 1, "graceSec": 1 }));
    let env = run_env(dir.path(), &[("FAKE_CLI_MODE", "hang")]);
    let run = input(&cfg, env, None, dir.path().into());
    let (ending, out) = run_plan(ClaudeLocal.plan(&run).unwrap()).await;
    assert_eq!(ending, Ending::TimedOut);
    assert_eq!(out.error, None, "the run names a timeout");
    assert!(out.session_id.is_some());
}
