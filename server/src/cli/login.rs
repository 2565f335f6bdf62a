//! `paperclip auth login | whoami | logout`: the CLI's board API key for a server in
//! authenticated mode, got by signing in with email and password or by approving a challenge
//! in the browser, and kept in the credential file (`credentials.rs`). Tokens and passwords
//! are never printed.

use std::io::{IsTerminal, Read};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::client::{Auth, Server, block_on, resolve_base};
use super::credentials::CredentialFile;
use crate::domain::cli_auth::{challenge_lifetime, cli_key_lifetime};

/// What `paperclip auth login` was asked to do.
pub struct LoginArgs {
    pub base_url: Option<String>,
    pub email: Option<String>,
    pub password_stdin: bool,
    pub no_browser: bool,
    pub instance_admin: bool,
}

/// The key name the CLI asks for, in Paperclip's "<client> (board)" form.
const KEY_NAME: &str = "paperclip cli (board)";

fn read_password(email: &str, from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from standard input")?;
        let line = text.strip_suffix('\n').unwrap_or(&text);
        line.strip_suffix('\r').unwrap_or(line).to_string()
    } else {
        rpassword::prompt_password(format!("Password for {email}: ")).context(
            "cannot ask for the password (no terminal?); pass it on standard input with --password-stdin",
        )?
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(password)
}

/// Signs in with email and password, mints a key with the session, and ends the session.
async fn key_from_password(server: &Server, email: &str, password: &str) -> anyhow::Result<String> {
    let signed = server
        .call(
            Method::POST,
            "/api/auth/sign-in/email",
            Auth::None,
            Some(json!({"email": email, "password": password})),
        )
        .await?;
    if !signed.status.is_success() {
        bail!("sign-in failed: {}", signed.message());
    }
    let cookie = signed
        .cookies
        .iter()
        .filter_map(|c| c.split(';').next().map(str::trim))
        .find(|pair| pair.contains("session_token=") && !pair.ends_with('='))
        .map(str::to_string)
        .ok_or_else(|| {
            anyhow!(
                "{} signed in without a session cookie: is it a Paperclip server in authenticated mode?",
                server.base
            )
        })?;
    let expires = chrono::Utc::now() + cli_key_lifetime();
    let key = server
        .call(
            Method::POST,
            "/api/board-api-keys",
            Auth::Cookie(&cookie),
            Some(json!({"name": KEY_NAME, "expiresAt": expires.to_rfc3339()})),
        )
        .await;
    // The session was only needed to mint the key.
    let _ = server
        .call(
            Method::POST,
            "/api/auth/sign-out",
            Auth::Cookie(&cookie),
            None,
        )
        .await;
    let key = key?.ok().context("cannot create a board API key")?;
    key.get("token")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| anyhow!("the server answered without a key token"))
}

fn truthy_env(name: &str) -> bool {
    std::env::var(name)
        .is_ok_and(|v| matches!(v.trim().to_lowercase().as_str(), "1" | "true" | "yes"))
}

/// The page to open: this server's address and the challenge's path, which must look like
/// one (the server's answer decides nothing else; a URL goes to a browser opener, and on
/// Windows through a command line).
fn approval_url(base: &str, path: &str) -> anyhow::Result<String> {
    let safe = path.starts_with("/cli-auth/")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/?=-_.%".contains(&b));
    if !safe {
        bail!("unexpected approval path from the server: {path:?}");
    }
    Ok(format!("{}{path}", base.trim_end_matches('/')))
}

fn open_browser(url: &str) -> bool {
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        // Not `cmd /c start`: cmd would read `&` in a URL as a command separator.
        ("rundll32", vec!["url.dll,FileProtocolHandler", url])
    } else {
        ("xdg-open", vec![url])
    };
    std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

/// Asks for access with a challenge, shows the approval URL, and waits for a person to
/// approve it in the browser; answers the key that then works.
async fn key_from_browser(
    server: &Server,
    no_browser: bool,
    admin: bool,
) -> anyhow::Result<String> {
    let access = if admin {
        "instance_admin_required"
    } else {
        "board"
    };
    let created = server
        .call(
            Method::POST,
            "/api/cli-auth/challenges",
            Auth::None,
            Some(
                json!({"command": "paperclip auth login", "clientName": "paperclip cli",
                "requestedAccess": access}),
            ),
        )
        .await?
        .ok()
        .context("cannot start the CLI sign-in")?;
    let field = |k: &str| {
        created
            .get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("unexpected answer from {}: no {k}", server.base))
    };
    let (secret, board_token, approval_path, poll_path) = (
        field("token")?,
        field("boardApiToken")?,
        field("approvalPath")?,
        field("pollPath")?,
    );
    let url = approval_url(&server.base, approval_path)?;
    eprintln!("Board authentication required");
    eprintln!("Open this URL in your browser to approve CLI access:\n{url}");
    if no_browser || truthy_env("PAPERCLIP_NO_BROWSER") {
        eprintln!("Browser open skipped — open the URL above to approve.");
    } else if open_browser(&url) {
        eprintln!("Opened the approval page in your browser.");
    } else {
        eprintln!("Couldn't open a browser automatically — open the URL above to approve.");
    }
    let interval = created
        .get("suggestedPollIntervalMs")
        .and_then(Value::as_u64)
        .unwrap_or(1000)
        .max(500);
    let expires_at = created
        .get("expiresAt")
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let secret: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let poll = format!("/api{poll_path}?token={secret}");
    let give_up = Instant::now() + challenge_lifetime().to_std()? + Duration::from_secs(30);
    let tty = std::io::stderr().is_terminal();
    if !tty {
        eprintln!("Waiting for approval…");
    }
    let mut failures = 0;
    let outcome = loop {
        tokio::time::sleep(Duration::from_millis(interval)).await;
        if tty {
            let left = expires_at
                .map(|t| {
                    (t.with_timezone(&chrono::Utc) - chrono::Utc::now())
                        .num_seconds()
                        .max(0)
                })
                .unwrap_or(0);
            eprint!(
                "\rWaiting for approval… {}:{:02} left ",
                left / 60,
                left % 60
            );
        }
        let answer = match server.call(Method::GET, &poll, Auth::None, None).await {
            Ok(answer) => answer,
            Err(e) if failures < 5 => {
                failures += 1;
                tracing::debug!(error = %e, "poll failed; retrying");
                continue;
            }
            Err(e) => break Err(e.context("lost contact while waiting for approval")),
        };
        failures = 0;
        if !answer.status.is_success() {
            break Err(anyhow!(answer.message()));
        }
        match answer.body.get("status").and_then(Value::as_str) {
            Some("approved") => break Ok(board_token.to_string()),
            Some("cancelled") => break Err(anyhow!("CLI auth challenge was cancelled.")),
            Some("expired") => break Err(anyhow!("CLI auth challenge expired before approval.")),
            _ if Instant::now() > give_up => {
                break Err(anyhow!("CLI auth challenge expired before approval."));
            }
            _ => {}
        }
    };
    if tty {
        eprintln!();
    }
    outcome
}

pub fn login(args: LoginArgs) -> anyhow::Result<()> {
    let mut store = CredentialFile::load()?;
    let base = resolve_base(args.base_url, None)?;
    let password = match &args.email {
        Some(email) => Some(read_password(email, args.password_stdin)?),
        None => None,
    };
    block_on(async {
        let server = Server::new(&base)?;
        let token = match (&args.email, &password) {
            (Some(email), Some(password)) => key_from_password(&server, email, password).await?,
            _ => key_from_browser(&server, args.no_browser, args.instance_admin).await?,
        };
        let me = server
            .call(Method::GET, "/api/cli-auth/me", Auth::Bearer(&token), None)
            .await?
            .ok()
            .context("the new key does not work")?;
        let user_id = me.get("userId").and_then(Value::as_str).map(str::to_string);
        store.set(&base, &token, user_id)?;
        println!("Signed in to {base} as {}.", describe_user(&me));
        let keys = server
            .call(
                Method::GET,
                "/api/board-api-keys",
                Auth::Bearer(&token),
                None,
            )
            .await
            .ok()
            .and_then(|a| a.ok().ok());
        let expires = keys.as_ref().and_then(Value::as_array).and_then(|keys| {
            keys.iter()
                .find(|k| k.get("id").is_some() && k.get("id") == me.get("keyId"))
                .and_then(|k| k.get("expiresAt").and_then(Value::as_str))
        });
        match expires {
            Some(t) => println!(
                "Board API key stored in {}; it expires at {t} (then run `paperclip auth login` again).",
                store.path().display()
            ),
            None => println!("Board API key stored in {}.", store.path().display()),
        }
        Ok(())
    })
}

fn describe_user(me: &Value) -> String {
    let user = me.get("user").unwrap_or(&Value::Null);
    let name = user.get("name").and_then(Value::as_str).unwrap_or("");
    let id = me.get("userId").and_then(Value::as_str).unwrap_or("?");
    match user.get("email").and_then(Value::as_str) {
        Some(email) => format!("{name} <{email}>"),
        None if !name.is_empty() => format!("{name} ({id})"),
        None => id.to_string(),
    }
}

fn no_credential(base: &str, store: &CredentialFile) -> anyhow::Error {
    anyhow!(
        "no stored credential for {base} (in {}); sign in with `paperclip auth login --base-url {base}`",
        store.path().display()
    )
}

pub fn whoami(base_url: Option<String>, as_json: bool) -> anyhow::Result<()> {
    let store = CredentialFile::load()?;
    let base = resolve_base(base_url, Some(&store))?;
    let credential = store
        .get(&base)
        .ok_or_else(|| no_credential(&base, &store))?;
    block_on(async {
        let server = Server::new(&base)?;
        let answer = server
            .call(
                Method::GET,
                "/api/cli-auth/me",
                Auth::Bearer(&credential.token),
                None,
            )
            .await?;
        if answer.status == StatusCode::UNAUTHORIZED {
            bail!(
                "{base} refused the stored credential ({}); sign in again with `paperclip auth login --base-url {base}`",
                answer.message()
            );
        }
        let me = answer.ok()?;
        if as_json {
            println!("{}", serde_json::to_string_pretty(&me)?);
            return Ok(());
        }
        let admin = me.get("isInstanceAdmin").and_then(Value::as_bool) == Some(true);
        let companies = me
            .get("companyIds")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        println!("Signed in to {base} as {}", describe_user(&me));
        println!(
            "User id: {}",
            me.get("userId").and_then(Value::as_str).unwrap_or("?")
        );
        println!("Instance admin: {}", if admin { "yes" } else { "no" });
        println!("Companies: {companies}");
        if let Some(key) = me.get("keyId").and_then(Value::as_str) {
            println!(
                "Board API key: {key} (stored in {})",
                store.path().display()
            );
            // The key's expiry, from the caller's own key list (a failure only leaves it out).
            let keys = server
                .call(
                    Method::GET,
                    "/api/board-api-keys",
                    Auth::Bearer(&credential.token),
                    None,
                )
                .await
                .ok()
                .and_then(|a| a.ok().ok());
            let listed = keys.as_ref().and_then(Value::as_array).and_then(|keys| {
                keys.iter()
                    .find(|k| k.get("id").and_then(Value::as_str) == Some(key))
            });
            if let Some(k) = listed {
                match k.get("expiresAt").and_then(Value::as_str) {
                    Some(t) => println!("Expires: {t} (then run `paperclip auth login` again)"),
                    None => println!("Expires: never"),
                }
            }
        }
        Ok(())
    })
}

pub fn logout(base_url: Option<String>) -> anyhow::Result<()> {
    let mut store = CredentialFile::load()?;
    let base = resolve_base(base_url, Some(&store))?;
    let Some(credential) = store.get(&base).cloned() else {
        println!("No stored credential for {base}; nothing to do.");
        return Ok(());
    };
    let revoked = block_on(async {
        let server = Server::new(&base)?;
        server
            .call(
                Method::POST,
                "/api/cli-auth/revoke-current",
                Auth::Bearer(&credential.token),
                Some(json!({})),
            )
            .await
    });
    match revoked {
        Ok(a) if a.status.is_success() => {
            let key = a.body.get("keyId").and_then(Value::as_str).unwrap_or("?");
            println!("Revoked board API key {key} on {base}.");
        }
        Ok(a) if matches!(a.status, StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND) => {
            println!(
                "{base} no longer accepts this key ({}); nothing to revoke there.",
                a.message()
            );
        }
        Ok(a) => eprintln!(
            "warning: {base} did not revoke the key ({}); revoke it in the board (board API keys).",
            a.message()
        ),
        Err(e) => eprintln!(
            "warning: {e:#}; the key was NOT revoked on the server: revoke it in the board (board API keys) once it is reachable."
        ),
    }
    store.remove(&base)?;
    println!(
        "Removed the stored credential for {base} from {}.",
        store.path().display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::approval_url;

    #[test]
    fn the_approval_url_is_this_servers_and_only_a_challenge_path() {
        let ok = approval_url(
            "https://pc.example.com/",
            "/cli-auth/abc?token=pcp_cli_auth_12",
        );
        assert_eq!(
            ok.unwrap(),
            "https://pc.example.com/cli-auth/abc?token=pcp_cli_auth_12"
        );
        for bad in [
            "/cli-auth/x&calc.exe",
            "https://evil.example/cli-auth/x",
            "/elsewhere",
            "/cli-auth/x\"y",
        ] {
            assert!(
                approval_url("https://pc.example.com", bad).is_err(),
                "{bad}"
            );
        }
    }
}
