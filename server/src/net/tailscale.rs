//! A client of tailscaled's LocalAPI, over its Unix socket: is this machine on a tailnet, and
//! under which addresses and name?
//!
//! tailscaled refuses a LocalAPI request whose `Host` is not `local-tailscaled.sock` or that
//! carries an `Origin` or `Referer` header (its defence against browsers), so the request is
//! built by hand here with exactly one header.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{HOST, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use serde::Deserialize;
use thiserror::Error;

/// Where tailscaled listens for LocalAPI requests unless told otherwise.
#[cfg(target_os = "macos")]
pub const DEFAULT_SOCKET: &str = "/var/run/tailscaled.socket";
/// Where tailscaled listens for LocalAPI requests unless told otherwise.
#[cfg(not(target_os = "macos"))]
pub const DEFAULT_SOCKET: &str = "/var/run/tailscale/tailscaled.sock";

const TIMEOUT: Duration = Duration::from_secs(3);
const MAX_BODY: usize = 4 * 1024 * 1024;
const STATUS_PATH: &str = "/localapi/v0/status?peers=false";
const LOCALAPI_HOST: &str = "local-tailscaled.sock";

/// This machine as tailscaled sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TailnetNode {
    /// `Running` whenever [`status`] succeeds.
    pub backend_state: String,
    /// This node's Tailscale addresses, IPv4 first.
    pub ips: Vec<IpAddr>,
    /// The MagicDNS name, lower-case and without the trailing dot (`box.tail1234.ts.net`).
    pub dns_name: Option<String>,
}

#[derive(Debug, Error)]
pub enum TailscaleError {
    #[error(
        "tailscaled is not running on this machine (no socket at {}). Install and start Tailscale (`tailscale up`), or set PAPERCLIP_TAILSCALE_SOCKET to its LocalAPI socket, or use --bind lan/custom",
        path.display()
    )]
    NoSocket { path: PathBuf },
    #[error(
        "cannot connect to tailscaled at {}: {cause}. Check that tailscaled is running (`tailscale status`), or set PAPERCLIP_TAILSCALE_SOCKET to its LocalAPI socket",
        path.display()
    )]
    Connect {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "talking to tailscaled at {} failed: {cause}. Check that it is healthy (`tailscale status`)",
        path.display()
    )]
    Http { path: PathBuf, cause: hyper::Error },
    #[error(
        "tailscaled at {} did not answer within {} seconds. Check that it is healthy (`tailscale status`)",
        path.display(),
        TIMEOUT.as_secs()
    )]
    Timeout { path: PathBuf },
    #[error(
        "tailscaled answered its status request with HTTP {status} ({detail}). Check that PAPERCLIP_TAILSCALE_SOCKET names tailscaled's LocalAPI socket"
    )]
    Status { status: u16, detail: String },
    #[error(
        "tailscaled's status answer is larger than {} MiB; is PAPERCLIP_TAILSCALE_SOCKET tailscaled's LocalAPI socket?",
        MAX_BODY / (1024 * 1024)
    )]
    TooLarge,
    #[error(
        "tailscaled's status answer is not the JSON expected ({cause}). Is PAPERCLIP_TAILSCALE_SOCKET tailscaled's LocalAPI socket, and is Tailscale up to date?"
    )]
    Parse { cause: serde_json::Error },
    #[error("Tailscale is not connected (state: {state}); run `tailscale up`")]
    NotRunning { state: String },
    #[error(
        "Tailscale is running but this machine has no Tailscale IP yet; wait a moment, or check `tailscale status`"
    )]
    NoAddress,
}

/// Asks tailscaled at `socket` for this node's state, addresses and name, within 3 seconds.
/// Anything but a running node with at least one Tailscale IP is an error.
pub async fn status(socket: &Path) -> Result<TailnetNode, TailscaleError> {
    status_within(socket, TIMEOUT).await
}

async fn status_within(socket: &Path, limit: Duration) -> Result<TailnetNode, TailscaleError> {
    let (code, body) = tokio::time::timeout(limit, fetch(socket, status_request()))
        .await
        .map_err(|_| TailscaleError::Timeout {
            path: socket.to_path_buf(),
        })??;
    if code != StatusCode::OK {
        return Err(TailscaleError::Status {
            status: code.as_u16(),
            detail: detail(&body),
        });
    }
    node(&body)
}

/// `GET /localapi/v0/status?peers=false` with the one header tailscaled wants.
fn status_request() -> Request<Empty<Bytes>> {
    let mut request = Request::new(Empty::new());
    *request.uri_mut() = Uri::from_static(STATUS_PATH);
    request
        .headers_mut()
        .insert(HOST, HeaderValue::from_static(LOCALAPI_HOST));
    request
}

/// One request over a fresh connection: the status code and the whole body.
#[cfg(unix)]
async fn fetch(
    socket: &Path,
    request: Request<Empty<Bytes>>,
) -> Result<(StatusCode, Bytes), TailscaleError> {
    let path = || socket.to_path_buf();
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|cause| match cause.kind() {
            std::io::ErrorKind::NotFound => TailscaleError::NoSocket { path: path() },
            _ => TailscaleError::Connect {
                path: path(),
                cause,
            },
        })?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|cause| TailscaleError::Http {
                path: path(),
                cause,
            })?;

    let exchange = async move {
        let response =
            sender
                .send_request(request)
                .await
                .map_err(|cause| TailscaleError::Http {
                    path: path(),
                    cause,
                })?;
        let code = response.status();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| match e.downcast::<hyper::Error>() {
                Ok(cause) => TailscaleError::Http {
                    path: path(),
                    cause: *cause,
                },
                // The only other error `Limited` raises is its own length limit.
                Err(_) => TailscaleError::TooLarge,
            })?
            .to_bytes();
        Ok((code, body))
    };
    // The connection is driven here rather than spawned, so a timeout drops it with the rest.
    tokio::pin!(connection, exchange);
    tokio::select! {
        result = &mut exchange => result,
        closed = &mut connection => match closed {
            Err(cause) => Err(TailscaleError::Http { path: path(), cause }),
            Ok(()) => exchange.await,
        },
    }
}

#[cfg(not(unix))]
async fn fetch(
    socket: &Path,
    _request: Request<Empty<Bytes>>,
) -> Result<(StatusCode, Bytes), TailscaleError> {
    Err(TailscaleError::Connect {
        path: socket.to_path_buf(),
        cause: std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "the LocalAPI socket is only supported on Unix",
        ),
    })
}

/// The start of a refusal's body, to show beside its status.
fn detail(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text: String = text.trim().chars().take(200).collect();
    if text.is_empty() {
        "no message".to_owned()
    } else {
        text
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StatusBody {
    #[serde(default)]
    backend_state: String,
    #[serde(rename = "TailscaleIPs", default)]
    tailscale_ips: Option<Vec<String>>,
    #[serde(rename = "Self", default)]
    self_node: Option<SelfNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SelfNode {
    #[serde(rename = "DNSName", default)]
    dns_name: String,
    #[serde(rename = "TailscaleIPs", default)]
    tailscale_ips: Option<Vec<String>>,
    #[serde(default)]
    host_name: String,
}

fn node(body: &[u8]) -> Result<TailnetNode, TailscaleError> {
    let status: StatusBody =
        serde_json::from_slice(body).map_err(|cause| TailscaleError::Parse { cause })?;
    if status.backend_state != "Running" {
        let state = match status.backend_state.as_str() {
            "" => "unknown".to_owned(),
            state => state.to_owned(),
        };
        return Err(TailscaleError::NotRunning { state });
    }
    let (own_ips, dns_name, host_name) = match status.self_node {
        Some(me) => (me.tailscale_ips, me.dns_name, me.host_name),
        None => (None, String::new(), String::new()),
    };
    let listed = match own_ips {
        Some(ips) if !ips.is_empty() => ips,
        _ => status.tailscale_ips.unwrap_or_default(),
    };
    let mut ips: Vec<IpAddr> = listed.iter().filter_map(|ip| ip.parse().ok()).collect();
    ips.sort_by_key(IpAddr::is_ipv6);
    ips.dedup();
    if ips.is_empty() {
        return Err(TailscaleError::NoAddress);
    }
    let dns_name = dns_name.trim_end_matches('.').to_ascii_lowercase();
    tracing::debug!(host_name, dns_name, ?ips, "tailscaled status");
    Ok(TailnetNode {
        backend_state: status.backend_state,
        ips,
        dns_name: (!dns_name.is_empty()).then_some(dns_name),
    })
}

#[cfg(all(test, unix))]
#[path = "../../../tests/fixtures/fake_tailscaled.rs"]
mod fake_tailscaled;

#[cfg(all(test, unix))]
mod tests;
