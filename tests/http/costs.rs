//! Costs and budgets over real HTTP: cost events as agents and the board report them, the
//! month's rollups, estimates for unpriced and subscription usage from the price table, and
//! budgets that alert at 80% and pause at 100% until raised. Runs of the fake `claude` feed
//! the same ledger.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;
use crate::heartbeats::{company_with_agent, fixture, invoke};

pub async fn report(
    s: &TestServer,
    company: &str,
    key: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    s.call(
        Method::POST,
        &format!("/companies/{company}/cost-events"),
        key,
        Some(body),
    )
    .await
}

/// `POST /agents/:id/wakeup`, which says why a wake was skipped.
pub async fn wakeup(s: &TestServer, agent: &str) -> Value {
    let (st, v) = s
        .call(
            Method::POST,
            &format!("/agents/{agent}/wakeup"),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    v
}

pub async fn agent_json(s: &TestServer, agent: &str) -> Value {
    let (st, a) = s.get(&format!("/agents/{agent}")).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    a
}

/// Polls the agent until `done` says yes, or 20 s pass; the last state read.
pub async fn wait_agent(s: &TestServer, agent: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let a = agent_json(s, agent).await;
        if done(&a) || std::time::Instant::now() > deadline {
            return a;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

pub async fn actions(s: &TestServer, company: &str) -> Vec<Value> {
    let (st, list) = s.get(&format!("/companies/{company}/activity")).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}

pub fn count(list: &[Value], action: &str) -> usize {
    list.iter().filter(|e| e["action"] == action).count()
}

#[tokio::test]
async fn cost_events_are_checked_recorded_and_rolled_up_for_the_month() {
    let s = test_server!();
    let c = s.company("Ledger").await;
    let dev = s.agent(&c, "Dev", None).await;
    let ops = s.agent(&c, "Ops", None).await;
    let (st, project) = s
        .post(&format!("/companies/{c}/projects"), json!({"name": "Site"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{project}");
    let issue = s
        .issue(&c, json!({"title": "Costly", "projectId": project["id"]}))
        .await;

    // A priced event, on an issue of the project: the project comes from the issue.
    let (st, priced) = report(
        &s,
        &c,
        None,
        json!({"agentId": dev, "issueId": issue["id"], "provider": "anthropic",
               "model": "claude-sonnet-4-5", "billingType": "api", "inputTokens": 1000,
               "outputTokens": 200, "costCents": 40}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{priced}");
    assert_eq!(priced["costStatus"], "reported");
    assert_eq!(priced["costCents"], 40);
    assert_eq!(priced["projectId"], project["id"]);
    assert_eq!(priced["biller"], "anthropic");

    // A subscription event without dollars: unpriced, estimated from the price table
    // (Sonnet: $3 in, $0.30 cached, $15 out per million tokens), never $0.
    let (st, sub) = report(
        &s,
        &c,
        None,
        json!({"agentId": ops, "provider": "anthropic", "model": "claude-sonnet-4-5",
               "billingType": "subscription_included", "inputTokens": 100000,
               "cachedInputTokens": 1000000, "outputTokens": 20000, "costCents": 0}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{sub}");
    assert_eq!(sub["costStatus"], "unpriced");
    assert!(sub["costCents"].is_null(), "{sub}");
    // 0.1M × $3 + 1M × $0.30 + 0.02M × $15 = $0.90.
    assert_eq!(sub["estimatedCostCents"], 90, "{sub}");
    assert!(
        sub["priceSource"]
            .as_str()
            .is_some_and(|p| p.starts_with("price_table:")),
        "{sub}"
    );

    // The month's summary counts both, reported and estimated apart.
    let (st, summary) = s.get(&format!("/companies/{c}/costs/summary")).await;
    assert_eq!(st, StatusCode::OK, "{summary}");
    assert_eq!(summary["spendCents"], 130, "{summary}");
    assert_eq!(summary["reportedCents"], 40);
    assert_eq!(summary["estimatedCents"], 90);
    assert_eq!(summary["unpricedEvents"], 1);
    assert_eq!(summary["events"], 2);
    assert_eq!(summary["outputTokens"], 20200);
    let (st, by_agent) = s.get(&format!("/companies/{c}/costs/by-agent")).await;
    assert_eq!(st, StatusCode::OK, "{by_agent}");
    let rows = by_agent.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{by_agent}");
    assert_eq!(rows[0]["agentName"], "Ops", "most spend first: {by_agent}");
    assert_eq!(rows[0]["spendCents"], 90);
    assert_eq!(rows[0]["subscriptionRunCount"], 1);
    assert_eq!(rows[0]["subscriptionCachedInputTokens"], 1000000);
    assert_eq!(rows[1]["costCents"], 40);
    assert_eq!(rows[1]["apiRunCount"], 1);
    let (st, by_project) = s.get(&format!("/companies/{c}/costs/by-project")).await;
    assert_eq!(st, StatusCode::OK, "{by_project}");
    assert_eq!(by_project.as_array().unwrap().len(), 1, "{by_project}");
    assert_eq!(by_project[0]["projectName"], "Site");
    assert_eq!(by_project[0]["spendCents"], 40);
    // The agents' and the company's month spend follow.
    assert_eq!(agent_json(&s, &dev).await["spentMonthlyCents"], 40);
    assert_eq!(agent_json(&s, &ops).await["spentMonthlyCents"], 90);
    let (_, company) = s.get(&format!("/companies/{c}")).await;
    assert_eq!(company["spentMonthlyCents"], 130);
    // An event of an earlier month is in that month's rollup, not this one's.
    let (st, old) = report(
        &s,
        &c,
        None,
        json!({"agentId": dev, "provider": "openai", "model": "gpt-5", "costCents": 7,
               "occurredAt": "2025-01-15T10:00:00Z"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{old}");
    let (_, jan) = s
        .get(&format!("/companies/{c}/costs/summary?month=2025-01"))
        .await;
    assert_eq!(jan["spendCents"], 7, "{jan}");
    let (_, range) = s
        .get(&format!(
            "/companies/{c}/costs/summary?from=2025-01-01T00:00:00Z&to=2025-01-31T23:59:59Z"
        ))
        .await;
    assert_eq!(range["spendCents"], 7, "{range}");
    let (_, now) = s.get(&format!("/companies/{c}/costs/summary")).await;
    assert_eq!(now["spendCents"], 130, "{now}");
    assert_eq!(agent_json(&s, &dev).await["spentMonthlyCents"], 40);
    assert_eq!(count(&actions(&s, &c).await, "cost.reported"), 3);

    // Bad input: a clear 400 naming the field, and nothing written.
    for (body, field) in [
        (json!({"provider": "x", "model": "m"}), "agentId"),
        (json!({"agentId": dev, "model": "m"}), "provider"),
        (json!({"agentId": dev, "provider": "x"}), "model"),
        (
            json!({"agentId": dev, "provider": "x", "model": "m", "inputTokens": -1}),
            "inputTokens",
        ),
        (
            json!({"agentId": dev, "provider": "x", "model": "m", "costCents": -5}),
            "costCents",
        ),
        (
            json!({"agentId": dev, "provider": "x", "model": "m", "billingType": "free"}),
            "billingType",
        ),
        (
            json!({"agentId": dev, "provider": "x", "model": "m", "occurredAt": "yesterday"}),
            "occurredAt",
        ),
        (
            json!({"agentId": dev, "provider": "x", "model": "m", "outputTokens": 1.5}),
            "outputTokens",
        ),
    ] {
        let (st, e) = report(&s, &c, None, body.clone()).await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
        assert!(e["error"].as_str().unwrap().contains(field), "{body} → {e}");
    }
    let (st, e) = s
        .get(&format!("/companies/{c}/costs/summary?month=2025-13"))
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    // Another company's agent is not this company's.
    let other = s.company("Other").await;
    let stranger = s.agent(&other, "Stranger", None).await;
    let (st, e) = report(
        &s,
        &c,
        None,
        json!({"agentId": stranger, "provider": "x", "model": "m", "costCents": 1}),
    )
    .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, after) = s.get(&format!("/companies/{c}/costs/summary")).await;
    assert_eq!(after["spendCents"], 130, "nothing was written: {after}");
}

#[tokio::test]
async fn an_agent_reports_only_its_own_usage_and_cannot_set_budgets() {
    let s = test_server!();
    let c = s.company("Own").await;
    let dev = s.agent(&c, "Dev", None).await;
    let ops = s.agent(&c, "Ops", None).await;
    let key = s.key(&dev).await;
    let (st, own) = report(
        &s,
        &c,
        Some(&key),
        json!({"agentId": dev, "provider": "openai", "model": "gpt-5-codex", "costCents": 3}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{own}");
    let (st, e) = report(
        &s,
        &c,
        Some(&key),
        json!({"agentId": ops, "provider": "openai", "model": "gpt-5-codex", "costCents": 3}),
    )
    .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let (st, e) = s
        .call(
            Method::PATCH,
            &format!("/agents/{dev}/budgets"),
            Some(&key),
            Some(json!({"budgetMonthlyCents": 1_000_000})),
        )
        .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    let (st, e) = s
        .call(
            Method::PATCH,
            &format!("/companies/{c}/budgets"),
            Some(&key),
            Some(json!({"budgetMonthlyCents": 1_000_000})),
        )
        .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
    // Another company's ledger is not there for it.
    let other = s.company("Other").await;
    let (st, e) = s
        .call(
            Method::GET,
            &format!("/companies/{other}/costs/summary"),
            Some(&key),
            None,
        )
        .await;
    assert_error(st, &e, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_agent_budget_alerts_at_80_percent_pauses_at_100_and_lifts_when_raised() {
    let s = test_server!();
    let c = s.company("Budgeted").await;
    let dev = s.agent(&c, "Dev", None).await;
    let (st, a) = s
        .call(
            Method::PATCH,
            &format!("/agents/{dev}/budgets"),
            None,
            Some(json!({"budgetMonthlyCents": 100})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["budgetMonthlyCents"], 100);
    let (st, e) = s
        .call(
            Method::PATCH,
            &format!("/agents/{dev}/budgets"),
            None,
            Some(json!({"budgetMonthlyCents": -1})),
        )
        .await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    let spend = |cents: i64| {
        json!({"agentId": dev, "provider": "anthropic", "model": "claude-sonnet-4-5",
               "billingType": "api", "costCents": cents})
    };

    report(&s, &c, None, spend(70)).await;
    assert_eq!(
        count(&actions(&s, &c).await, "budget.soft_threshold_crossed"),
        0
    );
    report(&s, &c, None, spend(15)).await; // 85%
    let list = actions(&s, &c).await;
    assert_eq!(
        count(&list, "budget.soft_threshold_crossed"),
        1,
        "{list:#?}"
    );
    assert_ne!(agent_json(&s, &dev).await["status"], "paused");
    report(&s, &c, None, spend(5)).await; // 90%: no second alert
    assert_eq!(
        count(&actions(&s, &c).await, "budget.soft_threshold_crossed"),
        1
    );

    report(&s, &c, None, spend(20)).await; // 110%
    let agent = agent_json(&s, &dev).await;
    assert_eq!(agent["status"], "paused", "{agent}");
    assert_eq!(agent["pauseReason"], "budget");
    assert_eq!(agent["spentMonthlyCents"], 110);
    let list = actions(&s, &c).await;
    let stop: Vec<&Value> = list
        .iter()
        .filter(|e| e["action"] == "budget.hard_threshold_crossed")
        .collect();
    assert_eq!(stop.len(), 1, "{list:#?}");
    assert_eq!(stop[0]["details"]["priority"], "high");
    assert_eq!(stop[0]["entityId"], dev.as_str());

    // Paused by its budget: a checkout is refused with 422, a wake is skipped.
    let issue = s.issue(&c, json!({"title": "Blocked by money"})).await;
    let key = s.key(&dev).await;
    let (st, e) = s
        .call(
            Method::POST,
            &format!("/issues/{}/checkout", issue["id"].as_str().unwrap()),
            Some(&key),
            Some(json!({"agentId": dev, "expectedStatuses": ["todo", "backlog"]})),
        )
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "budget_exceeded");
    let skipped = wakeup(&s, &dev).await;
    assert_eq!(skipped["status"], "skipped", "{skipped}");
    assert_eq!(skipped["reason"], "budget.exceeded");

    // A budget still under the spend keeps it paused; raising it over lifts the pause.
    s.call(
        Method::PATCH,
        &format!("/agents/{dev}/budgets"),
        None,
        Some(json!({"budgetMonthlyCents": 105})),
    )
    .await;
    assert_eq!(agent_json(&s, &dev).await["status"], "paused");
    s.call(
        Method::PATCH,
        &format!("/agents/{dev}/budgets"),
        None,
        Some(json!({"budgetMonthlyCents": 500})),
    )
    .await;
    let agent = agent_json(&s, &dev).await;
    assert_eq!(agent["status"], "idle", "{agent}");
    assert!(agent["pauseReason"].is_null(), "{agent}");
    assert_eq!(count(&actions(&s, &c).await, "budget.pause_lifted"), 1);
    let (st, taken) = s
        .call(
            Method::POST,
            &format!("/issues/{}/checkout", issue["id"].as_str().unwrap()),
            Some(&key),
            Some(json!({"agentId": dev, "expectedStatuses": ["todo", "backlog"]})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{taken}");
    // A budget set under what is already spent stops the agent at once.
    s.call(
        Method::PATCH,
        &format!("/agents/{dev}/budgets"),
        None,
        Some(json!({"budgetMonthlyCents": 50})),
    )
    .await;
    assert_eq!(agent_json(&s, &dev).await["status"], "paused");
}

#[tokio::test]
async fn the_company_budget_stops_every_agent_until_it_is_raised() {
    let s = test_server!();
    let c = s.company("Tight").await;
    let a = s.agent(&c, "A", None).await;
    let b = s.agent(&c, "B", None).await;
    let (st, company) = s
        .call(
            Method::PATCH,
            &format!("/companies/{c}/budgets"),
            None,
            Some(json!({"budgetMonthlyCents": 50})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{company}");
    assert_eq!(company["budgetMonthlyCents"], 50);
    let (st, e) = report(
        &s,
        &c,
        None,
        json!({"agentId": a, "provider": "openai", "model": "gpt-5", "costCents": 60}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    for agent in [&a, &b] {
        let v = agent_json(&s, agent).await;
        assert_eq!(v["status"], "paused", "{v}");
        assert_eq!(v["pauseReason"], "budget");
    }
    let list = actions(&s, &c).await;
    assert_eq!(
        count(&list, "budget.hard_threshold_crossed"),
        1,
        "{list:#?}"
    );
    let (_, dash) = s.get(&format!("/companies/{c}/dashboard")).await;
    assert_eq!(dash["agents"]["paused"], 2, "{dash}");
    assert_eq!(dash["costs"]["monthSpendCents"], 60, "{dash}");
    s.call(
        Method::PATCH,
        &format!("/companies/{c}/budgets"),
        None,
        Some(json!({"budgetMonthlyCents": 1000})),
    )
    .await;
    for agent in [&a, &b] {
        assert_eq!(agent_json(&s, agent).await["status"], "idle");
    }
}

/// The fake `claude` on a subscription (no `ANTHROPIC_API_KEY`) and reporting no dollars:
/// its tokens are estimated and count toward the budget; over it, the agent is paused, the
/// timer skips it, and raising the budget resumes it.
#[tokio::test]
async fn claude_runs_count_against_the_budget_even_on_a_subscription() {
    let s = test_server!();
    let config =
        |cost: &str| json!({"command": fixture("fake-claude"), "env": {"FAKE_CLI_COST_USD": cost}});
    let (c, agent) = company_with_agent(&s, "claude_local", config("none")).await;
    let run = invoke(&s, &agent, json!({})).await;
    let run = wait_for_run(
        &s,
        None,
        run["id"].as_str().unwrap(),
        &["succeeded", "failed"],
    )
    .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["usageJson"]["billingType"], "subscription", "{run}");
    let (_, summary) = s.get(&format!("/companies/{c}/costs/summary")).await;
    // The fake's usage: 312 input (cache writes counted), 4,000 cached, 55 output tokens of
    // Sonnet: 312 × $3 + 4,000 × $0.30 + 55 × $15 per million = 0.2961 cents, a cent.
    assert_eq!(summary["unpricedEvents"], 1, "{summary}");
    assert_eq!(summary["estimatedCents"], 1, "{summary}");
    assert_eq!(agent_json(&s, &agent).await["spentMonthlyCents"], 1);
    assert_eq!(summary["reportedCents"], 0, "{summary}");
    assert_eq!(summary["inputTokens"], 312, "{summary}");

    // Now it says what the run cost (the CLI's own figure on a subscription: an estimate),
    // and that is over the budget.
    s.call(
        Method::PATCH,
        &format!("/agents/{agent}"),
        None,
        Some(json!({"adapterConfig": config("2.50")})),
    )
    .await;
    s.call(
        Method::PATCH,
        &format!("/agents/{agent}/budgets"),
        None,
        Some(json!({"budgetMonthlyCents": 200})),
    )
    .await;
    let run = invoke(&s, &agent, json!({})).await;
    let run = wait_for_run(
        &s,
        None,
        run["id"].as_str().unwrap(),
        &["succeeded", "failed"],
    )
    .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let paused = wait_agent(&s, &agent, |a| a["status"] == "paused").await;
    assert_eq!(paused["status"], "paused", "{paused}");
    assert_eq!(paused["pauseReason"], "budget");
    assert!(
        paused["spentMonthlyCents"].as_i64().unwrap() >= 250,
        "{paused}"
    );
    let (_, summary) = s.get(&format!("/companies/{c}/costs/summary")).await;
    assert!(
        summary["estimatedCents"].as_i64().unwrap() >= 250,
        "{summary}"
    );

    // A wake skips it: no run is queued for it while it is paused.
    let (_, before) = s.get(&format!("/companies/{c}/heartbeat-runs")).await;
    let skipped = wakeup(&s, &agent).await;
    assert_eq!(skipped["reason"], "budget.exceeded", "{skipped}");
    let (_, after) = s.get(&format!("/companies/{c}/heartbeat-runs")).await;
    assert_eq!(
        before.as_array().unwrap().len(),
        after.as_array().unwrap().len()
    );
    s.call(
        Method::PATCH,
        &format!("/agents/{agent}/budgets"),
        None,
        Some(json!({"budgetMonthlyCents": 10_000})),
    )
    .await;
    assert_eq!(agent_json(&s, &agent).await["status"], "idle");
    let run = invoke(&s, &agent, json!({})).await;
    assert_eq!(run["status"], "queued", "{run}");
}

/// The user's own price table: `paperclip prices` shows the one in effect; a server started
/// with it estimates from it; a malformed one stops the start naming the file and field.
#[tokio::test]
async fn a_price_table_of_ones_own_prices_the_estimates_and_a_bad_one_is_refused() {
    let s = test_server!();
    let home = s.home.clone();
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_paperclip"))
            .env_clear()
            .env("PAPERCLIP_HOME", &home)
            .args(args)
            .output()
            .unwrap()
    };
    let built_in = cli(&["prices"]);
    assert!(built_in.status.success());
    let table: Value = serde_json::from_slice(&built_in.stdout).unwrap();
    assert!(table["models"].as_array().unwrap().len() > 5, "{table}");
    assert!(String::from_utf8_lossy(&built_in.stderr).contains("built in"));

    let file = home.join("instances/default/prices.json");
    std::fs::write(
        &file,
        r#"{"version": "ours-1", "models": [{"provider": "*", "model": "*",
            "inputUsdPerMTok": 100, "outputUsdPerMTok": 100}]}"#,
    )
    .unwrap();
    let ours = cli(&["prices"]);
    assert!(ours.status.success());
    assert!(String::from_utf8_lossy(&ours.stdout).contains("ours-1"));
    assert!(String::from_utf8_lossy(&ours.stderr).contains("prices.json"));

    let s = s.restart().await;
    let c = s.company("Priced").await;
    let dev = s.agent(&c, "Dev", None).await;
    let (st, e) = report(
        &s,
        &c,
        None,
        json!({"agentId": dev, "provider": "anthropic", "model": "claude-sonnet-4-5",
               "inputTokens": 10000, "outputTokens": 10000}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    // 20,000 tokens at $100 per million: $2.
    assert_eq!(e["estimatedCostCents"], 200, "{e}");
    assert_eq!(e["priceSource"], "price_table:ours-1");

    std::fs::write(
        &file,
        r#"{"version": "ours-2", "models": [{"provider": "*", "model": "*",
            "inputUsdPerMTok": 1, "outputUsdPerMTok": "cheap"}]}"#,
    )
    .unwrap();
    let bad = cli(&["prices"]);
    assert!(!bad.status.success());
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(
        said.contains("prices.json") && said.contains("not a price table"),
        "{said}"
    );
    let e = config_with_env(&home, None, &[]).unwrap_err();
    assert!(e.contains("prices.json"), "{e}");
    drop(s);
}
