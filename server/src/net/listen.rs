//! Where the server listens, by bind mode:
//!
//! - `loopback` and `custom`: the one configured address (a name such as `localhost` is
//!   resolved; every address it names is listened on).
//! - `lan`: every interface, IPv4 (`0.0.0.0`) and IPv6 (`::`, IPv6-only so the two do not
//!   collide). A machine without IPv6 listens on IPv4 alone and says so.
//! - `tailnet`: this machine's Tailscale addresses, asked of tailscaled's LocalAPI; its MagicDNS
//!   name and addresses join the allowed hostnames. No tailscaled: start-up refuses, saying why.
//!
//! With port 0 the first listener picks the port and the others take the same one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use thiserror::Error;
use tokio::net::TcpListener;

use super::tailscale::{self, TailscaleError};
use crate::config::{BindMode, Config};

/// The sockets a server accepts on, and what the hostname guard must accept because of them.
pub struct Listening {
    /// At least one; the first is the server's main address.
    pub listeners: Vec<TcpListener>,
    /// Hosts the bind mode adds to the allowed list (the tailnet's name and addresses).
    pub hostnames: Vec<String>,
    /// The host to print in URLs (the MagicDNS name on a tailnet, else the bind address).
    pub display_host: String,
}

#[derive(Debug, Error)]
pub enum ListenError {
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: String, message: String },
    /// Not `#[source]`: the message already includes tailscaled's, once.
    #[error("--bind tailnet: {0}")]
    Tailnet(TailscaleError),
}

impl From<TailscaleError> for ListenError {
    fn from(e: TailscaleError) -> Self {
        ListenError::Tailnet(e)
    }
}

/// Opens the listening sockets the configuration asks for.
pub async fn listen(config: &Config) -> Result<Listening, ListenError> {
    match config.bind {
        BindMode::Lan if is_unspecified(&config.host) => lan(config.port),
        BindMode::Tailnet => tailnet(config).await,
        _ => named(&config.host, config.port).await,
    }
}

fn is_unspecified(host: &str) -> bool {
    matches!(host.trim(), "0.0.0.0" | "::" | "[::]" | "")
}

/// One configured host (an address or a name).
async fn named(host: &str, port: u16) -> Result<Listening, ListenError> {
    let bare = host.trim().trim_start_matches('[').trim_end_matches(']');
    let failed = |message: String| ListenError::Bind {
        addr: format!("{host}:{port}"),
        message,
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| failed(format!("cannot resolve {bare:?}: {e}")))?
        .collect();
    let mut ips: Vec<IpAddr> = Vec::new();
    for addr in addrs {
        if !ips.contains(&addr.ip()) {
            ips.push(addr.ip());
        }
    }
    // A name such as `localhost` may give 127.0.0.1 and ::1; an address gives itself.
    let listeners = bind_all(&ips, port)?;
    Ok(Listening {
        listeners,
        hostnames: Vec::new(),
        display_host: bare.to_string(),
    })
}

/// Every interface, both families.
fn lan(port: u16) -> Result<Listening, ListenError> {
    let ips = [
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ];
    Ok(Listening {
        listeners: bind_all(&ips, port)?,
        hostnames: Vec::new(),
        display_host: "0.0.0.0".into(),
    })
}

/// This machine's Tailscale addresses (from tailscaled, or `PAPERCLIP_TAILNET_BIND_HOST`).
async fn tailnet(config: &Config) -> Result<Listening, ListenError> {
    let (ips, name) = match config.tailnet_bind_host {
        Some(ip) => (vec![ip], None),
        None => {
            let node = tailscale::status(&config.tailscale_socket).await?;
            (node.ips, node.dns_name)
        }
    };
    let listeners = bind_all(&ips, config.port)?;
    // An IPv6 address arrives in `Host` bracketed.
    let mut hostnames: Vec<String> = ips
        .iter()
        .map(|ip| match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        })
        .collect();
    if let Some(name) = &name {
        hostnames.insert(0, name.clone());
    }
    let display_host = name.unwrap_or_else(|| ips[0].to_string());
    Ok(Listening {
        listeners,
        hostnames,
        display_host,
    })
}

/// Listens on each address, on one port. The first must bind; the others are best effort (a
/// machine without IPv6, say), each failure logged, except a port another program holds.
fn bind_all(ips: &[IpAddr], port: u16) -> Result<Vec<TcpListener>, ListenError> {
    // With port 0 the first address picks a port that another family may already use
    // elsewhere: pick again a few times before giving up.
    let tries = if port == 0 { 5 } else { 1 };
    let mut attempt = 1;
    loop {
        match bind_on_one_port(ips, port) {
            Ok(listeners) => return Ok(listeners),
            Err((_, e)) if e.kind() == std::io::ErrorKind::AddrInUse && attempt < tries => {
                attempt += 1;
            }
            Err((addr, e)) => {
                return Err(ListenError::Bind {
                    addr,
                    message: e.to_string(),
                });
            }
        }
    }
}

/// Every address on one port; the error names the address that failed.
fn bind_on_one_port(
    ips: &[IpAddr],
    port: u16,
) -> Result<Vec<TcpListener>, (String, std::io::Error)> {
    let mut listeners: Vec<TcpListener> = Vec::new();
    let mut port = port;
    for (n, ip) in ips.iter().enumerate() {
        let addr = SocketAddr::new(*ip, port);
        match bind_one(addr) {
            Ok(listener) => {
                if port == 0 {
                    port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                }
                listeners.push(listener);
            }
            Err(e)
                if n > 0 && !listeners.is_empty() && e.kind() != std::io::ErrorKind::AddrInUse =>
            {
                tracing::warn!(%addr, error = %e, "not listening on this address");
            }
            Err(e) => return Err((addr.to_string(), e)),
        }
    }
    if listeners.is_empty() {
        return Err((
            format!("port {port}"),
            std::io::Error::other("no address to listen on"),
        ));
    }
    Ok(listeners)
}

/// A listening socket; IPv6 ones are IPv6-only so `::` and `0.0.0.0` can share a port.
fn bind_one(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // As tokio does: a restarted server may take its port back while old connections linger.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lan_listens_on_both_families_on_one_port() {
        let l = lan(0).expect("binds 0.0.0.0");
        let ports: Vec<u16> = l
            .listeners
            .iter()
            .map(|s| s.local_addr().unwrap().port())
            .collect();
        assert!(ports.iter().all(|p| *p == ports[0] && *p != 0), "{ports:?}");
        assert!(l.listeners[0].local_addr().unwrap().is_ipv4());
        // IPv6 may be missing on a build machine; when present it is the second listener.
        if let Some(v6) = l.listeners.get(1) {
            assert!(v6.local_addr().unwrap().is_ipv6());
        }
    }

    #[tokio::test]
    async fn a_taken_port_is_a_clear_error() {
        let first = named("127.0.0.1", 0).await.unwrap();
        let port = first.listeners[0].local_addr().unwrap().port();
        let Err(e) = named("127.0.0.1", port).await else {
            panic!("a second listener on a taken port")
        };
        let text = e.to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    }

    #[tokio::test]
    async fn an_unknown_name_is_a_clear_error() {
        let Err(e) = named("no-such-host.invalid", 0).await else {
            panic!("resolved a .invalid name")
        };
        assert!(e.to_string().contains("cannot resolve"), "{e}");
    }
}
