//! The route table of the error sweeps (tests/http/routes_sweep.rs) and a fixture with real
//! rows in two companies, so every `{placeholder}` of a route names something that exists.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// Who may call a route, as far as the sweeps need to know.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    /// No credentials needed, a bearer is not even read (health, the OpenAPI document).
    Public,
    /// Board or an agent of the company.
    Company,
    /// The board only: an agent gets 403 before any lookup.
    Board,
    /// The calling agent itself (`/agents/me…`): no ids, the board gets 401.
    AgentSelf,
    /// No caller needed and a bearer not required (tests/http/auth.rs): sign-up, sign-in,
    /// sign-out, and what a token in the path or body opens (invites, the claim, CLI challenges).
    Session,
}

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    /// A valid body, with placeholders; `None`: the route reads no body.
    pub body: Option<&'static str>,
    /// A body whose field has the wrong type, and that field.
    pub wrong: Option<(&'static str, &'static str)>,
    /// The field a create cannot do without (`{}` is a 400 that names it).
    pub required: Option<&'static str>,
}

const fn r(method: &'static str, path: &'static str, access: Access) -> Route {
    Route {
        method,
        path,
        access,
        body: None,
        wrong: None,
        required: None,
    }
}

const fn b(
    method: &'static str,
    path: &'static str,
    access: Access,
    body: &'static str,
    wrong: (&'static str, &'static str),
    required: Option<&'static str>,
) -> Route {
    Route {
        method,
        path,
        access,
        body: Some(body),
        wrong: Some(wrong),
        required,
    }
}

use Access::*;

/// Every route of server/src/api/mod.rs (plus `/openapi.json`), relative to `/api`.
#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    r("GET", "/health", Public),
    r("GET", "/openapi.json", Public),
    b("POST", "/auth/sign-up/email", Session, r#"{"email":"sweep@example.com","name":"Sweep","password":"long enough"}"#, (r#"{"email":42}"#, "email"), Some("name")),
    b("POST", "/auth/sign-in/email", Session, r#"{"email":"sweep@example.com","password":"long enough"}"#, (r#"{"email":42}"#, "email"), Some("email")),
    r("POST", "/auth/sign-out", Session),
    r("GET", "/auth/get-session", Company),
    b("POST", "/companies/{c}/invites", Company, r#"{"humanRole":"viewer"}"#, (r#"{"humanRole":42}"#, "humanRole"), None),
    r("GET", "/companies/{c}/invites", Company),
    r("GET", "/companies/{c}/members", Company),
    b("PATCH", "/companies/{c}/members/{mem}", Board, r#"{"membershipRole":"viewer"}"#, (r#"{"membershipRole":"wizard"}"#, "membershipRole"), None),
    b("POST", "/companies/{c}/members/{mem}/archive", Board, r#"{}"#, (r#"{"reassignment":42}"#, "reassignment"), None),
    r("GET", "/invites/{inv}", Session),
    b("POST", "/invites/{inv}/accept", Company, r#"{"requestType":"human"}"#, (r#"{"requestType":42}"#, "requestType"), None),
    r("POST", "/invites/{inv}/revoke", Company),
    r("GET", "/board-claim/{claim}", Session),
    r("GET", "/board-api-keys", Board),
    b("POST", "/board-api-keys", Board, r#"{"name":"sweep"}"#, (r#"{"name":42}"#, "name"), None),
    r("DELETE", "/board-api-keys/{bk}", Board),
    b("POST", "/cli-auth/challenges", Session, r#"{"command":"sweep"}"#, (r#"{"command":42}"#, "command"), Some("command")),
    r("GET", "/cli-auth/challenges/{ch}", Session),
    b("POST", "/cli-auth/challenges/{ch}/approve", Board, r#"{"token":"pcp_cli_auth_sweep_0000"}"#, (r#"{"token":42}"#, "token"), Some("token")),
    b("POST", "/cli-auth/challenges/{ch}/cancel", Session, r#"{"token":"pcp_cli_auth_sweep_0000"}"#, (r#"{"token":42}"#, "token"), Some("token")),
    r("GET", "/cli-auth/me", Company),
    r("POST", "/cli-auth/revoke-current", Company),
    b("POST", "/board-claim/{claim}/claim", Company, r#"{"code":"abc"}"#, (r#"{"code":42}"#, "code"), Some("code")),
    r("GET", "/companies/{c}/secrets", Board),
    b("POST", "/companies/{c}/secrets", Board, r#"{"name":"Sweep","value":"v"}"#, (r#"{"name":42}"#, "name"), Some("name")),
    b("PATCH", "/secrets/{sec}", Board, r#"{"description":"d"}"#, (r#"{"name":42}"#, "name"), None),
    r("DELETE", "/secrets/{sec}", Board),
    b("POST", "/secrets/{sec}/rotate", Board, r#"{"value":"v2"}"#, (r#"{"value":42}"#, "value"), None),
    r("GET", "/companies", Company),
    b("POST", "/companies", Board, r#"{"name":"Sweep"}"#, (r#"{"name":42}"#, "name"), Some("name")),
    r("GET", "/companies/{c}", Company),
    b("PATCH", "/companies/{c}", Company, r#"{"description":"d"}"#, (r#"{"name":42}"#, "name"), None),
    r("DELETE", "/companies/{c}", Company),
    r("POST", "/companies/{c}/archive", Company),
    r("GET", "/companies/{c}/dashboard", Company),
    r("GET", "/companies/{c}/activity", Company),
    r("GET", "/companies/{c}/goals", Company),
    b("POST", "/companies/{c}/goals", Company, r#"{"title":"G"}"#, (r#"{"title":42}"#, "title"), Some("title")),
    r("GET", "/goals/{g}", Company),
    b("PATCH", "/goals/{g}", Company, r#"{"title":"G2"}"#, (r#"{"level":"galaxy"}"#, "level"), None),
    r("DELETE", "/goals/{g}", Company),
    r("GET", "/companies/{c}/projects", Company),
    b("POST", "/companies/{c}/projects", Company, r#"{"name":"P"}"#, (r#"{"name":[1]}"#, "name"), Some("name")),
    r("GET", "/projects/{p}", Company),
    b("PATCH", "/projects/{p}", Company, r#"{"name":"P2"}"#, (r#"{"status":"someday"}"#, "status"), None),
    r("GET", "/companies/{c}/agents", Company),
    b("POST", "/companies/{c}/agents", Company, r#"{"name":"N"}"#, (r#"{"name":"N","role":"wizard"}"#, "role"), Some("name")),
    r("GET", "/companies/{c}/org", Company),
    r("GET", "/agents/me", AgentSelf),
    r("GET", "/agents/me/inbox-lite", AgentSelf),
    r("GET", "/agents/{a}", Company),
    b("PATCH", "/agents/{a}", Company, r#"{"title":"T"}"#, (r#"{"reportsTo":"boss"}"#, "reportsTo"), None),
    b("POST", "/agents/{a}/pause", Board, r#"{}"#, (r#"{"reason":42}"#, "reason"), None),
    r("POST", "/agents/{a}/resume", Board),
    r("POST", "/agents/{a}/terminate", Board),
    r("GET", "/agents/{a}/keys", Board),
    b("POST", "/agents/{a}/keys", Board, r#"{"name":"k"}"#, (r#"{"name":42}"#, "name"), None),
    r("DELETE", "/agents/{a}/keys/{k}", Board),
    r("GET", "/companies/{c}/issues", Company),
    b("POST", "/companies/{c}/issues", Company, r#"{"title":"I"}"#,
      (r#"{"title":"I","blockedByIssueIds":"x"}"#, "blockedByIssueIds"), Some("title")),
    r("GET", "/issues/{i}", Company),
    b("PATCH", "/issues/{i}", Company, r#"{"title":"I2"}"#, (r#"{"priority":"urgent"}"#, "priority"), None),
    b("POST", "/issues/{i}/checkout", Company, r#"{"agentId":"{a}","expectedStatuses":["todo"]}"#,
      (r#"{"agentId":42,"expectedStatuses":["todo"]}"#, "agentId"), Some("agentId")),
    r("POST", "/issues/{i}/release", Company),
    r("POST", "/issues/{i}/admin/force-release", Board),
    r("GET", "/issues/{i}/comments", Company),
    b("POST", "/issues/{i}/comments", Company, r#"{"body":"hi"}"#, (r#"{"body":42}"#, "body"), Some("body")),
    r("GET", "/issues/{i}/comments/{cm}", Company),
    r("GET", "/issues/{i}/heartbeat-context", Company),
    b("POST", "/agents/{a}/heartbeat/invoke", Company, r#"{}"#, (r#"{"reason":42}"#, "reason"), None),
    b("POST", "/agents/{a}/wakeup", Company, r#"{"reason":"sweep"}"#, (r#"{"source":"sometimes"}"#, "source"), None),
    r("GET", "/companies/{c}/heartbeat-runs", Company),
    r("GET", "/heartbeat-runs/{run}", Company),
    r("GET", "/heartbeat-runs/{run}/log", Company),
    r("GET", "/heartbeat-runs/{run}/events", Company),
    r("POST", "/heartbeat-runs/{run}/cancel", Board),
    b("POST", "/heartbeat-runs/{run}/callback", Company, r#"{"status":"succeeded"}"#, (r#"{"status":"sometimes"}"#, "status"), Some("status")),
    r("GET", "/companies/{c}/approvals", Company),
    b("POST", "/companies/{c}/approvals", Company, r#"{"type":"request_board_approval","payload":{"q":"?"}}"#,
      (r#"{"type":42}"#, "type"), Some("type")),
    b("POST", "/companies/{c}/agent-hires", Company, r#"{"name":"Hire"}"#, (r#"{"name":"N","role":"wizard"}"#, "role"), Some("name")),
    r("GET", "/approvals/{ap}", Company),
    r("GET", "/approvals/{ap}/issues", Company),
    b("POST", "/approvals/{ap}/approve", Board, r#"{"decisionNote":"ok"}"#, (r#"{"decisionNote":42}"#, "decisionNote"), None),
    b("POST", "/approvals/{ap}/reject", Board, r#"{"decisionNote":"no"}"#, (r#"{"decisionNote":42}"#, "decisionNote"), None),
    b("POST", "/approvals/{ap}/request-revision", Board, r#"{"decisionNote":"again"}"#, (r#"{"decisionNote":42}"#, "decisionNote"), None),
    b("POST", "/approvals/{ap}/resubmit", Company, r#"{}"#, (r#"{"payload":42}"#, "payload"), None),
    r("GET", "/approvals/{ap}/comments", Company),
    b("POST", "/approvals/{ap}/comments", Company, r#"{"body":"hi"}"#, (r#"{"body":42}"#, "body"), Some("body")),
    b("POST", "/companies/{c}/cost-events", Company, r#"{"agentId":"{a}","provider":"openai","model":"gpt-5","costCents":1}"#,
      (r#"{"agentId":"{a}","provider":"openai","model":"gpt-5","inputTokens":"many"}"#, "inputTokens"), Some("agentId")),
    r("GET", "/companies/{c}/costs/summary", Company),
    r("GET", "/companies/{c}/costs/by-agent", Company),
    r("GET", "/companies/{c}/costs/by-project", Company),
    b("PATCH", "/companies/{c}/budgets", Board, r#"{"budgetMonthlyCents":100000}"#,
      (r#"{"budgetMonthlyCents":"lots"}"#, "budgetMonthlyCents"), Some("budgetMonthlyCents")),
    b("PATCH", "/agents/{a}/budgets", Board, r#"{"budgetMonthlyCents":100000}"#,
      (r#"{"budgetMonthlyCents":"lots"}"#, "budgetMonthlyCents"), Some("budgetMonthlyCents")),
];

pub fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).expect("method")
}

/// Real rows: company `c` with agents `a` (the caller of agent tests, key `k`, token) and `a2`,
/// goal `g`, project `p`, issue `i` with comment `cm`, run `run` of `a`; and the same in
/// another company.
pub struct Fixture {
    pub ids: HashMap<&'static str, String>,
    pub other: HashMap<&'static str, String>,
    pub token: String,
}

impl Fixture {
    pub async fn new(s: &TestServer) -> Fixture {
        let ids = Self::company(s, "Alpha Sweep").await;
        let other = Self::company(s, "Beta Sweep").await;
        let token = ids["token"].clone();
        Fixture { ids, other, token }
    }

    async fn company(s: &TestServer, name: &str) -> HashMap<&'static str, String> {
        let c = s.company(name).await;
        let a = s.agent(&c, "Caller", None).await;
        let a2 = s.agent(&c, "Colleague", None).await;
        let token = s.key(&a).await;
        let (_, keys) = s.get(&format!("/agents/{a}/keys")).await;
        let k = keys[0]["id"].as_str().unwrap().to_string();
        let id_of = |v: &Value| v["id"].as_str().unwrap().to_string();
        let (st, g) = s
            .post(&format!("/companies/{c}/goals"), json!({"title": "Goal"}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{g}");
        let (st, p) = s
            .post(&format!("/companies/{c}/projects"), json!({"name": "Proj"}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{p}");
        let i = s
            .issue(&c, json!({"title": "Work", "assigneeAgentId": a}))
            .await;
        let (st, cm) = s
            .post(
                &format!("/issues/{}/comments", id_of(&i)),
                json!({"body": "note"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{cm}");
        let (st, sec) = s
            .post(
                &format!("/companies/{c}/secrets"),
                json!({"name": format!("{name} key"), "value": "sk-sweep"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{sec}");
        // A run of `a` (it has no command, so it fails at once: it exists all the same).
        let (st, run) = s
            .post(&format!("/agents/{a}/heartbeat/invoke"), json!({}))
            .await;
        assert_eq!(st, StatusCode::ACCEPTED, "{run}");
        let (st, ap) = s
            .post(
                &format!("/companies/{c}/approvals"),
                json!({"type": "request_board_approval", "payload": {"q": "sweep"}}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{ap}");
        let mem_company = c.clone();
        HashMap::from([
            ("c", c),
            ("a", a),
            ("a2", a2),
            ("k", k),
            ("token", token),
            ("g", id_of(&g)),
            ("p", id_of(&p)),
            ("i", id_of(&i)),
            ("cm", id_of(&cm)),
            // No such invite, claim or CLI challenge: their routes answer 404 to everyone.
            ("inv", uuid::Uuid::new_v4().to_string()),
            ("claim", "0".repeat(48)),
            ("bk", uuid::Uuid::new_v4().to_string()),
            ("mem", format!("{mem_company}:{}", uuid::Uuid::new_v4())),
            ("sec", id_of(&sec)),
            ("ch", uuid::Uuid::new_v4().to_string()),
            ("run", id_of(&run)),
            ("ap", id_of(&ap)),
        ])
    }
}

/// Replaces `{c}`, `{a}`, … with the values of `ids`.
pub fn fill(template: &str, ids: &HashMap<&'static str, String>) -> String {
    let mut out = template.to_string();
    for (k, v) in ids {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// The placeholders of a path (`{c}`, `{i}`, …) by name.
pub fn placeholders(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// Sends raw text as a JSON body (for malformed JSON).
pub async fn send_raw(
    s: &TestServer,
    m: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut req = s
        .client
        .request(method(m), format!("{}{}", s.base, path))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
