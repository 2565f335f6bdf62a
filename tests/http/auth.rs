//! Authenticated mode over real HTTP: sign-up, sign-in, the session cookie, sign-out, what a
//! request without credentials gets, the Origin rule for cookie mutations, rate limits, and the
//! start-up refusals of unsafe deployments.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

pub const AUTHENTICATED: &[(&str, &str)] = &[("PAPERCLIP_DEPLOYMENT_MODE", "authenticated")];

/// A browser-like caller: keeps the session cookie and sends this server as its Origin.
#[derive(Clone)]
pub struct Browser<'a> {
    pub server: &'a TestServer,
    pub cookie: Option<String>,
    pub origin: Option<String>,
}

impl<'a> Browser<'a> {
    pub fn new(server: &'a TestServer) -> Self {
        let origin = server.base.trim_end_matches("/api").to_string();
        Browser {
            server,
            cookie: None,
            origin: Some(origin),
        }
    }

    /// A request with the cookie and Origin; answers status, `Set-Cookie` values and body.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Vec<String>, Value) {
        let mut req = self
            .server
            .client
            .request(method, format!("{}{}", self.server.base, path));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(o) = &self.origin {
            req = req.header("origin", o);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let cookies: Vec<String> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        if let Some(set) = cookies.iter().find(|c| c.contains("session_token=")) {
            let pair = set.split(';').next().unwrap().to_string();
            self.cookie = if pair.ends_with('=') {
                None
            } else {
                Some(pair)
            };
        }
        let text = resp.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, cookies, value)
    }

    pub async fn sign_up(&mut self, email: &str, name: &str) -> Value {
        let (st, _, body) = self
            .send(
                Method::POST,
                "/auth/sign-up/email",
                Some(json!({"email": email, "name": name, "password": "correct horse battery"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        body
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> (StatusCode, Value) {
        let (st, _, body) = self
            .send(
                Method::POST,
                "/auth/sign-in/email",
                Some(json!({"email": email, "password": password})),
            )
            .await;
        (st, body)
    }
}

macro_rules! auth_server {
    () => {
        match TestServer::start_env(AUTHENTICATED).await {
            Some(s) => s,
            None => return,
        }
    };
    ($extra:expr) => {{
        let mut env: Vec<(&str, &str)> = AUTHENTICATED.to_vec();
        env.extend_from_slice($extra);
        match TestServer::start_env(&env).await {
            Some(s) => s,
            None => return,
        }
    }};
}
#[allow(unused_imports)]
pub(crate) use auth_server;

#[tokio::test]
async fn nothing_is_reachable_without_credentials() {
    let s = auth_server!();
    for path in ["/companies", "/auth/get-session", "/agents/me"] {
        let (st, e) = s.get(path).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{path}: {e}");
        assert_eq!(e["code"], "unauthorized");
    }
    let (st, e) = s.post("/companies", json!({"name": "Nope"})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");
    // Health answers anyone, without the version or internals.
    let (st, h) = s.get("/health").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["deploymentMode"], "authenticated");
    assert_eq!(h["status"], "ok");
    assert!(h.get("version").is_none(), "{h}");
    assert!(h.get("features").is_none(), "{h}");
}

#[tokio::test]
async fn sign_up_sign_in_session_and_sign_out() {
    let s = auth_server!();
    let mut b = Browser::new(&s);
    let (st, cookies, body) = b
        .send(
            Method::POST,
            "/auth/sign-up/email",
            Some(json!({"email": "Ada@Example.com", "name": "Ada", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["name"], "Ada");
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with("paperclip-default.session_token="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert!(
        !body
            .to_string()
            .contains(b.cookie.as_ref().unwrap().split('=').nth(1).unwrap())
    );

    let (st, _, me) = b.send(Method::GET, "/auth/get-session", None).await;
    assert_eq!(st, StatusCode::OK, "{me}");
    let user_id = body["user"]["id"].as_str().unwrap();
    assert_eq!(me["session"]["userId"], user_id);
    assert_eq!(me["session"]["id"], format!("paperclip:session:{user_id}"));
    assert_eq!(me["user"]["email"], "ada@example.com");

    // A person without membership sees no company and may not create one.
    let (st, _, list) = b.send(Method::GET, "/companies", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list, json!([]));
    let (st, _, e) = b
        .send(Method::POST, "/companies", Some(json!({"name": "Mine"})))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");

    // Sign-out ends the session in the database: the old cookie no longer works.
    let old = b.cookie.clone();
    let (st, cookies, out) = b
        .send(Method::POST, "/auth/sign-out", Some(json!({})))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(out["success"], true);
    assert!(
        cookies.iter().any(|c| c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    b.cookie = old;
    let (st, _, e) = b.send(Method::GET, "/auth/get-session", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");

    // Sign in again: wrong password and unknown email answer alike; right one works.
    let (st, wrong) = b.sign_in("ada@example.com", "not the password").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st2, unknown) = b.sign_in("nobody@example.com", "not the password").await;
    assert_eq!(st2, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong["error"], unknown["error"]);
    let (st, signed) = b.sign_in("ADA@example.com", "correct horse battery").await;
    assert_eq!(st, StatusCode::OK, "{signed}");
    assert_eq!(signed["user"]["id"], user_id);
    let (st, _, _) = b.send(Method::GET, "/auth/get-session", None).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn sign_up_refuses_bad_input_and_taken_emails() {
    let s = auth_server!();
    let mut b = Browser::new(&s);
    b.sign_up("grace@example.com", "Grace").await;
    let cases = [
        (
            json!({"email": "grace@example.com", "name": "G2", "password": "long enough pw"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"email": "not-an-email", "name": "X", "password": "long enough pw"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"email": "x@example.com", "name": "X", "password": "short"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"email": "x@example.com", "name": "X", "password": "p".repeat(129)}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"email": "x@example.com", "name": "  ", "password": "long enough pw"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"email": "x@example.com", "name": "X"}),
            StatusCode::BAD_REQUEST,
        ),
    ];
    let mut fresh = Browser::new(&s);
    for (body, want) in cases {
        let (st, cookies, e) = fresh
            .send(Method::POST, "/auth/sign-up/email", Some(body.clone()))
            .await;
        assert_eq!(st, want, "{body}: {e}");
        assert!(e["error"].is_string(), "{e}");
        assert!(cookies.is_empty(), "no session on a refused sign-up");
    }
}

#[tokio::test]
async fn cookie_mutations_must_come_from_this_origin() {
    let s = auth_server!();
    let mut b = Browser::new(&s);
    b.sign_up("lin@example.com", "Lin").await;
    for origin in [
        None,
        Some("https://evil.example"),
        Some("http://localhost:1"),
    ] {
        b.origin = origin.map(str::to_string);
        let (st, _, e) = b
            .send(Method::POST, "/companies", Some(json!({"name": "X"})))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{origin:?}: {e}");
        assert_eq!(e["code"], "untrusted_origin", "{origin:?}");
    }
    // Reads need no Origin.
    b.origin = None;
    let (st, _, _) = b.send(Method::GET, "/companies", None).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn wrong_passwords_are_rate_limited_with_retry_after() {
    let s = auth_server!();
    let mut b = Browser::new(&s);
    b.sign_up("sam@example.com", "Sam").await;
    let mut limited = None;
    for i in 0..50 {
        let resp = s
            .client
            .post(format!("{}/auth/sign-in/email", s.base))
            .json(&json!({"email": "sam@example.com", "password": format!("wrong-{i}-password")}))
            .send()
            .await
            .unwrap();
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(resp);
            break;
        }
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = limited.expect("50 wrong passwords end in 429");
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1, "{wait}");
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["code"], "rate_limited");
    // While limited, even the right password waits (no guessing through the limit).
    let (st, _) = b.sign_in("sam@example.com", "correct horse battery").await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sign_up_can_be_disabled() {
    let s = auth_server!(&[("PAPERCLIP_AUTH_DISABLE_SIGN_UP", "true")]);
    let mut b = Browser::new(&s);
    let (st, _, e) = b
        .send(
            Method::POST,
            "/auth/sign-up/email",
            Some(json!({"email": "a@example.com", "name": "A", "password": "long enough pw"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert!(e["error"].as_str().unwrap().contains("invite"), "{e}");
}

#[tokio::test]
async fn unsafe_deployments_refuse_to_start() {
    let home = tempfile::tempdir().unwrap();
    let lan = config_with_env(
        home.path(),
        None,
        &[
            ("PAPERCLIP_DEPLOYMENT_MODE", "local_trusted"),
            ("HOST", "0.0.0.0"),
        ],
    )
    .unwrap_err();
    assert!(lan.contains("loopback"), "{lan}");
    let public = config_with_env(
        home.path(),
        None,
        &[
            ("PAPERCLIP_DEPLOYMENT_MODE", "authenticated"),
            ("PAPERCLIP_DEPLOYMENT_EXPOSURE", "public"),
        ],
    )
    .unwrap_err();
    assert!(public.contains("publicBaseUrl"), "{public}");
    let local_public = config_with_env(
        home.path(),
        None,
        &[("PAPERCLIP_DEPLOYMENT_EXPOSURE", "public")],
    )
    .unwrap_err();
    assert!(local_public.contains("private exposure"), "{local_public}");
    let bad_url = config_with_env(
        home.path(),
        None,
        &[
            ("PAPERCLIP_DEPLOYMENT_MODE", "authenticated"),
            ("PAPERCLIP_AUTH_PUBLIC_BASE_URL", "ftp://x"),
        ],
    )
    .unwrap_err();
    assert!(bad_url.contains("http"), "{bad_url}");
    // With a public URL, public exposure starts, and the URL's host is allowed.
    let ok = config_with_env(
        home.path(),
        None,
        &[
            ("PAPERCLIP_DEPLOYMENT_MODE", "authenticated"),
            ("PAPERCLIP_DEPLOYMENT_EXPOSURE", "public"),
            (
                "PAPERCLIP_AUTH_PUBLIC_BASE_URL",
                "https://paperclip.example.com",
            ),
        ],
    )
    .unwrap();
    assert!(
        ok.allowed_hostnames
            .contains(&"paperclip.example.com".to_string())
    );
}
