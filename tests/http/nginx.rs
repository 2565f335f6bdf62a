//! Behind a real nginx (Debian's package) that terminates TLS: sign-up and sign-in through it
//! set the `__Secure-` session cookie, the session works through it, a cookie mutation from
//! the https origin the person sees is allowed (and one from another origin is not), links the
//! server makes name that origin, and the same `X-Forwarded-*` headers sent straight to the
//! server by anyone else change nothing.
//!
//! nginx connects to the server from 127.0.0.2 (`proxy_bind`), the only trusted proxy, so the
//! test's own direct requests (from 127.0.0.1) come from an untrusted peer on the same machine.
//! Without nginx (or openssl) the test says it was skipped; with `CI=true` that is a failure.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::auth::{AUTHENTICATED, Browser};
use crate::common::*;

const NGINX: &str = "/usr/sbin/nginx";
const OPENSSL: &str = "/usr/bin/openssl";
/// The address nginx connects to the server from, and the only trusted proxy.
const PROXY_ADDR: &str = "127.0.0.2";

/// The programs this test needs, or None (the test is skipped) when one is missing here; on
/// CI a missing one is a failure.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let missing: Vec<&str> = [NGINX, OPENSSL]
        .into_iter()
        .filter(|p| !Path::new(p).is_file())
        .collect();
    if missing.is_empty() {
        return Some((NGINX.into(), OPENSSL.into()));
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "CI=true but {missing:?} missing: the test behind nginx must run on CI \
             (.ci/run installs Debian's nginx and openssl)"
        );
    }
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        // Straight to the terminal: libtest captures eprintln! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "\nnginx test SKIPPED: {missing:?} missing (apt-get install nginx openssl)\n"
        );
    });
    None
}

/// nginx, or None (the test is skipped) when it or openssl is missing here; on CI, a failure.
pub fn nginx_binary() -> Option<PathBuf> {
    tools().map(|(nginx, _)| nginx)
}

/// A self-signed certificate for `localhost` (P-256, one day) in `dir`: (cert, key).
fn certificate(openssl: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new(openssl)
        .args(["req", "-x509", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1"])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        // A leaf, not a CA: rustls refuses a CA certificate as the server's own.
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx in the foreground as one process, every file it writes in its temporary directory;
/// killed on drop, so a failing assertion leaves no nginx behind.
pub struct Nginx {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Nginx {
    fn start(nginx: &Path, dir: &Path, cert: &Path, key: &Path, upstream: u16) -> Nginx {
        Nginx::run(nginx, dir, |port| {
            format!(
                r#"    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_bind {PROXY_ADDR};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Host $host:$server_port;
        }}
    }}
"#,
                cert = cert.display(),
                key = key.display(),
            )
        })
    }

    /// nginx with `http_body(port)` (its `server` blocks, and any other `http` settings) on a
    /// free loopback port, every file it writes in `dir`; returns once it listens.
    pub fn run(nginx: &Path, dir: &Path, http_body: impl FnOnce(u16) -> String) -> Nginx {
        let port = free_port();
        let d = dir.display();
        let conf = format!(
            r#"daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
{body}}}
"#,
            body = http_body(port),
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nginx");
        let mut n = Nginx {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        n.wait_until_listening();
        n
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nginx exited ({status}) at start:\n{}", self.log());
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on {} within 15 s:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What nginx answered.
struct Answer {
    status: StatusCode,
    set_cookies: Vec<String>,
    /// The `Server` header: nginx's own name when the answer came through it.
    server: String,
    body: Value,
}

/// A browser at `https://localhost:<port>`: trusts only the test's certificate, keeps the
/// session cookie, and sends its Origin on mutations unless told otherwise.
struct HttpsBrowser {
    tls: TlsConnector,
    port: u16,
    cookie: Option<String>,
}

impl HttpsBrowser {
    fn new(cert: &Path, port: u16) -> HttpsBrowser {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(cert).expect("read the certificate"))
            .expect("the certificate as a root");
        // ring, named: with two providers compiled in (reqwest brings aws-lc-rs) rustls has
        // no process default.
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        HttpsBrowser {
            tls: TlsConnector::from(Arc::new(config)),
            port,
            cookie: None,
        }
    }

    fn origin(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// `method /api<path>` with this browser's Origin.
    async fn send(&mut self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let origin = self.origin();
        self.send_from(Some(&origin), method, path, body).await
    }

    /// `method /api<path>` with the given Origin (None: no Origin header).
    async fn send_from(
        &mut self,
        origin: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to nginx");
        let tls = self
            .tls
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .expect("TLS handshake with nginx, verifying its certificate for localhost");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .expect("HTTP/1.1 over TLS");
        tokio::spawn(conn);
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("/api{path}"))
            .header("host", format!("localhost:{}", self.port))
            .header("connection", "close");
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let bytes = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let resp = sender
            .send_request(req.body(Full::new(bytes)).unwrap())
            .await
            .expect("an answer through nginx");
        let status = resp.status();
        let header = |name: &str| -> Vec<String> {
            resp.headers()
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect()
        };
        let set_cookies = header("set-cookie");
        let server = header("server").join(",");
        if let Some(set) = set_cookies.iter().find(|c| c.contains("session_token=")) {
            let pair = set.split(';').next().unwrap().to_string();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            set_cookies,
            server,
            body,
        }
    }
}

#[tokio::test]
async fn sign_in_through_nginx_with_tls_sets_a_secure_cookie_that_works() {
    let Some((nginx, openssl)) = tools() else {
        return;
    };
    let mut env: Vec<(&str, &str)> = AUTHENTICATED.to_vec();
    env.push(("PAPERCLIP_TRUSTED_PROXIES", PROXY_ADDR));
    let Some(s) = TestServer::start_env(&env).await else {
        return;
    };
    let upstream: u16 = s
        .base
        .trim_end_matches("/api")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(&openssl, dir.path());
    let proxy = Nginx::start(&nginx, dir.path(), &cert, &key, upstream);
    let mut b = HttpsBrowser::new(&cert, proxy.port);
    let origin = b.origin();

    // Sign-up through nginx: the cookie is the `__Secure-` one, marked Secure.
    let a = b
        .send(
            Method::POST,
            "/auth/sign-up/email",
            Some(json!({"email": "root@example.com", "name": "Root", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.server.starts_with("nginx"),
        "not through nginx: {:?}",
        a.server
    );
    let cookie = a
        .set_cookies
        .iter()
        .find(|c| c.contains("session_token="))
        .unwrap_or_else(|| panic!("a session cookie: {:?}", a.set_cookies));
    assert!(
        cookie.starts_with("__Secure-paperclip-default.session_token="),
        "{cookie}"
    );
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attributes.contains(&attribute), "{attribute}: {cookie}");
    }
    let user_id = a.body["user"]["id"].as_str().unwrap().to_string();

    // The session works through nginx.
    let a = b.send(Method::GET, "/auth/get-session", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["user"]["email"], "root@example.com");
    assert_eq!(a.body["session"]["userId"], user_id.as_str());

    // Cookie mutations from the https origin the person sees pass the Origin check: accept the
    // bootstrap invite, create a company, invite someone.
    let invite = s
        .notices
        .iter()
        .find_map(|n| n.split("/invite/").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("a bootstrap invite in {:?}", s.notices))
        .to_string();
    let a = b
        .send(
            Method::POST,
            &format!("/invites/{invite}/accept"),
            Some(json!({"requestType": "human"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let a = b
        .send(Method::POST, "/companies", Some(json!({"name": "Acme"})))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let company = a.body["id"].as_str().unwrap().to_string();
    let a = b
        .send(
            Method::POST,
            &format!("/companies/{company}/invites"),
            Some(json!({"humanRole": "viewer"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let link = a.body["inviteUrl"].as_str().unwrap_or_default();
    assert!(
        link.starts_with(&format!("{origin}/invite/")),
        "the link must name the address people use ({origin}): {link}"
    );

    // Other origins, the plain-http one on the same host and port included, are refused.
    for other in [
        Some("https://evil.example"),
        Some(&*format!("http://localhost:{}", proxy.port)),
        Some(&*format!("https://localhost:{upstream}")),
        None,
    ] {
        let a = b
            .send_from(
                other,
                Method::POST,
                "/companies",
                Some(json!({"name": "X"})),
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{other:?}: {}", a.body);
        assert_eq!(a.body["code"], "untrusted_origin", "{other:?}");
    }

    // Sign-out through nginx clears the cookie; the old one no longer works.
    let old = b.cookie.clone();
    let a = b
        .send(Method::POST, "/auth/sign-out", Some(json!({})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.set_cookies
            .iter()
            .any(|c| c.starts_with("__Secure-") && c.contains("Max-Age=0")),
        "{:?}",
        a.set_cookies
    );
    b.cookie = old;
    let a = b.send(Method::GET, "/auth/get-session", None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);

    // Signing in again through nginx: a Secure cookie again, and it works.
    b.cookie = None;
    let a = b
        .send(
            Method::POST,
            "/auth/sign-in/email",
            Some(json!({"email": "root@example.com", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let cookie = b.cookie.clone().expect("a session cookie");
    assert!(cookie.starts_with("__Secure-"), "{cookie}");
    assert!(
        a.set_cookies.iter().any(|c| c.ends_with("; Secure")),
        "{:?}",
        a.set_cookies
    );
    let a = b.send(Method::GET, "/auth/get-session", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    // Straight to the server from 127.0.0.1, which is not a trusted proxy, the same forwarded
    // headers count for nothing: a plain cookie, and the forwarded host is no origin of ours.
    let forged = |method: Method, path: &str| {
        s.client
            .request(method, format!("{}{path}", s.base))
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", format!("localhost:{}", proxy.port))
            .header("x-forwarded-for", PROXY_ADDR)
    };
    let resp = forged(Method::POST, "/auth/sign-in/email")
        .json(&json!({"email": "root@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let set: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let plain = set
        .iter()
        .find(|c| c.starts_with("paperclip-default.session_token="))
        .unwrap_or_else(|| panic!("a plain session cookie: {set:?}"));
    assert!(!plain.contains("Secure"), "untrusted peer: {plain}");
    let mut direct = Browser::new(&s);
    direct.cookie = Some(plain.split(';').next().unwrap().to_string());
    let resp = forged(Method::POST, "/companies")
        .header("cookie", direct.cookie.as_deref().unwrap())
        .header("origin", &origin)
        .json(&json!({"name": "Forged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "forged forwarded host"
    );
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["code"], "untrusted_origin", "{e}");
    // That cookie works from this server's own origin: the refusal was the Origin's.
    let (st, _, c) = direct
        .send(Method::POST, "/companies", Some(json!({"name": "Direct"})))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
}
