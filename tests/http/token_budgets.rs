//! Budgets in tokens over real HTTP, beside the ones in cents: `budgetMonthlyTokens` on an
//! agent and a company, counted from the month's input, cached input and output tokens, with
//! the same 80% alert and 100% stop. They hold where dollars say nothing (a subscription whose
//! CLI reports no cost).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;
use crate::costs::{actions, agent_json, count, report, wait_agent, wakeup};
use crate::heartbeats::{company_with_agent, fixture, invoke};

async fn set_budget(s: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    s.call(Method::PATCH, &format!("{path}/budgets"), None, Some(body))
        .await
}

/// A usage of `input`/`cached`/`output` tokens with no dollars (a subscription).
fn usage(agent: &str, input: i64, cached: i64, output: i64) -> Value {
    json!({"agentId": agent, "provider": "anthropic", "model": "claude-sonnet-4-5",
           "billingType": "subscription", "inputTokens": input,
           "cachedInputTokens": cached, "outputTokens": output})
}

fn entries<'a>(list: &'a [Value], action: &str) -> Vec<&'a Value> {
    list.iter().filter(|e| e["action"] == action).collect()
}

#[tokio::test]
async fn an_agent_token_budget_alerts_at_80_percent_pauses_at_100_and_lifts_when_raised() {
    let s = test_server!();
    let c = s.company("Token counted").await;
    let dev = s.agent(&c, "Dev", None).await;
    let path = format!("/agents/{dev}");

    // Bad input first: neither budget, a negative one, a fraction, one too large.
    let (st, e) = set_budget(&s, &path, json!({})).await;
    assert_error(st, &e, StatusCode::BAD_REQUEST);
    assert!(
        e["error"].as_str().unwrap().contains("budgetMonthlyTokens"),
        "{e}"
    );
    for bad in [
        json!(-1),
        json!(1.5),
        json!(1_000_000_000_001_i64),
        json!("10"),
    ] {
        let (st, e) = set_budget(&s, &path, json!({"budgetMonthlyTokens": bad})).await;
        assert_error(st, &e, StatusCode::BAD_REQUEST);
    }
    let (st, a) = set_budget(&s, &path, json!({"budgetMonthlyCents": 10_000})).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    // Setting the tokens leaves the cents as they were.
    let (st, a) = set_budget(&s, &path, json!({"budgetMonthlyTokens": 10_000})).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["budgetMonthlyTokens"], 10_000, "{a}");
    assert_eq!(a["budgetMonthlyCents"], 10_000, "{a}");
    assert_eq!(a["spentMonthlyTokens"], 0, "{a}");

    let (st, e) = report(&s, &c, None, usage(&dev, 5_000, 2_000, 500)).await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    assert_eq!(agent_json(&s, &dev).await["spentMonthlyTokens"], 7_500);
    assert_eq!(
        count(&actions(&s, &c).await, "budget.soft_threshold_crossed"),
        0
    );
    report(&s, &c, None, usage(&dev, 1_000, 0, 0)).await; // 85%
    let list = actions(&s, &c).await;
    let soft = entries(&list, "budget.soft_threshold_crossed");
    assert_eq!(soft.len(), 1, "{list:#?}");
    assert_eq!(soft[0]["details"]["metric"], "tokens");
    assert_eq!(soft[0]["details"]["spentTokens"], 8_500);
    assert_eq!(soft[0]["details"]["budgetTokens"], 10_000);
    assert_ne!(agent_json(&s, &dev).await["status"], "paused");

    report(&s, &c, None, usage(&dev, 0, 1_000, 600)).await; // 101%
    let agent = agent_json(&s, &dev).await;
    assert_eq!(agent["status"], "paused", "{agent}");
    assert_eq!(agent["pauseReason"], "budget");
    assert_eq!(agent["spentMonthlyTokens"], 10_100);
    let list = actions(&s, &c).await;
    let stop = entries(&list, "budget.hard_threshold_crossed");
    assert_eq!(stop.len(), 1, "{list:#?}");
    assert_eq!(stop[0]["details"]["metric"], "tokens");
    assert_eq!(stop[0]["details"]["priority"], "high");

    // Paused by tokens: its checkout is refused with 422 naming them, a wake is skipped.
    let issue = s.issue(&c, json!({"title": "Out of tokens"})).await;
    let checkout = format!("/issues/{}/checkout", issue["id"].as_str().unwrap());
    let key = s.key(&dev).await;
    let body = json!({"agentId": dev, "expectedStatuses": ["todo", "backlog"]});
    let (st, e) = s
        .call(Method::POST, &checkout, Some(&key), Some(body.clone()))
        .await;
    assert_error(st, &e, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["code"], "budget_exceeded");
    assert_eq!(e["details"]["budgetMonthlyTokens"], 10_000, "{e}");
    assert_eq!(wakeup(&s, &dev).await["reason"], "budget.exceeded");

    // Raising the cents does not lift a stop of the tokens; raising the tokens does.
    set_budget(&s, &path, json!({"budgetMonthlyCents": 50_000})).await;
    assert_eq!(agent_json(&s, &dev).await["status"], "paused");
    set_budget(&s, &path, json!({"budgetMonthlyTokens": 20_000})).await;
    let agent = agent_json(&s, &dev).await;
    assert_eq!(agent["status"], "idle", "{agent}");
    let (st, taken) = s
        .call(Method::POST, &checkout, Some(&key), Some(body))
        .await;
    assert_eq!(st, StatusCode::OK, "{taken}");

    // 0 means no token budget at all.
    set_budget(&s, &path, json!({"budgetMonthlyTokens": 0})).await;
    report(&s, &c, None, usage(&dev, 1_000_000, 0, 0)).await;
    assert_eq!(agent_json(&s, &dev).await["status"], "idle");
}

#[tokio::test]
async fn a_company_token_budget_stops_every_agent_and_shows_on_the_dashboard() {
    let s = test_server!();
    let (st, company) = s
        .call(
            Method::POST,
            "/companies",
            None,
            Some(json!({"name": "Capped", "budgetMonthlyTokens": 2_000})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{company}");
    assert_eq!(company["budgetMonthlyTokens"], 2_000, "{company}");
    let c = company["id"].as_str().unwrap().to_string();
    let a = s.agent(&c, "A", None).await;
    let b = s.agent(&c, "B", None).await;

    report(&s, &c, None, usage(&a, 1_500, 0, 100)).await; // 80%
    let (_, dash) = s.get(&format!("/companies/{c}/dashboard")).await;
    assert_eq!(dash["costs"]["monthTokens"], 1_600, "{dash}");
    assert_eq!(dash["costs"]["monthBudgetTokens"], 2_000, "{dash}");
    assert_eq!(
        dash["costs"]["monthTokenUtilizationPercent"], 80.0,
        "{dash}"
    );
    assert_eq!(dash["agents"]["paused"], 0, "{dash}");
    report(&s, &c, None, usage(&b, 300, 100, 0)).await; // 100%
    for agent in [&a, &b] {
        let v = agent_json(&s, agent).await;
        assert_eq!(v["status"], "paused", "{v}");
        assert_eq!(v["pauseReason"], "budget");
    }
    let list = actions(&s, &c).await;
    let stop = entries(&list, "budget.hard_threshold_crossed");
    assert_eq!(stop.len(), 1, "{list:#?}");
    assert_eq!(stop[0]["details"]["scope"], "company");
    assert_eq!(stop[0]["details"]["metric"], "tokens");
    let (_, company) = s.get(&format!("/companies/{c}")).await;
    assert_eq!(company["spentMonthlyTokens"], 2_000, "{company}");

    // The company's own PATCH raises it as well as the budgets route, and lifts the stop.
    let (st, company) = s
        .call(
            Method::PATCH,
            &format!("/companies/{c}"),
            None,
            Some(json!({"budgetMonthlyTokens": 100_000})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{company}");
    for agent in [&a, &b] {
        assert_eq!(agent_json(&s, agent).await["status"], "idle");
    }
    // An agent cannot set a token budget, its own or its company's.
    let key = s.key(&a).await;
    for path in [
        format!("/agents/{a}/budgets"),
        format!("/companies/{c}/budgets"),
    ] {
        let (st, e) = s
            .call(
                Method::PATCH,
                &path,
                Some(&key),
                Some(json!({"budgetMonthlyTokens": 1})),
            )
            .await;
        assert_error(st, &e, StatusCode::FORBIDDEN);
    }
    let (st, e) = s
        .call(
            Method::PATCH,
            &format!("/agents/{a}"),
            Some(&key),
            Some(json!({"budgetMonthlyTokens": 1})),
        )
        .await;
    assert_error(st, &e, StatusCode::FORBIDDEN);
}

/// Runs of the fake `claude` on a subscription report tokens and no dollars: a token budget
/// still stops the agent, and the timer then skips it.
#[tokio::test]
async fn claude_subscription_runs_are_stopped_by_a_token_budget() {
    let s = test_server!();
    let config = json!({"command": fixture("fake-claude"), "env": {"FAKE_CLI_COST_USD": "none"}});
    let (c, agent) = company_with_agent(&s, "claude_local", config).await;
    // The fake's run: 312 input, 4,000 cached input and 55 output tokens; two runs spend it.
    let (st, a) = set_budget(
        &s,
        &format!("/agents/{agent}"),
        json!({"budgetMonthlyTokens": 8_000}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    for expected in [4_367, 8_734] {
        let run = invoke(&s, &agent, json!({})).await;
        let run = wait_for_run(
            &s,
            None,
            run["id"].as_str().unwrap(),
            &["succeeded", "failed"],
        )
        .await;
        assert_eq!(run["status"], "succeeded", "{run}");
        let a = wait_agent(&s, &agent, |a| a["spentMonthlyTokens"] == expected).await;
        assert_eq!(a["spentMonthlyTokens"], expected, "{a}");
    }
    let paused = wait_agent(&s, &agent, |a| a["status"] == "paused").await;
    assert_eq!(paused["status"], "paused", "{paused}");
    assert_eq!(paused["pauseReason"], "budget");
    let (_, before) = s.get(&format!("/companies/{c}/heartbeat-runs")).await;
    assert_eq!(wakeup(&s, &agent).await["reason"], "budget.exceeded");
    let (_, after) = s.get(&format!("/companies/{c}/heartbeat-runs")).await;
    assert_eq!(
        before.as_array().unwrap().len(),
        after.as_array().unwrap().len()
    );
}
