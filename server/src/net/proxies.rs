//! Who the client is when requests arrive through reverse proxies we trust.
//!
//! `X-Forwarded-*` headers are believed only when the TCP peer is a trusted proxy; anyone
//! else could write them. The client address is then found by walking `X-Forwarded-For`
//! from the right (the entries our own proxies appended) past every trusted hop: entries
//! further left were written by the client, and are ignored.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::{IpNet, Ipv4Net};

/// The address ranges whose `X-Forwarded-*` headers are believed. Empty: none.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

const LOOPBACK: &[&str] = &["127.0.0.0/8", "::1/128"];
/// RFC 1918 and unique-local IPv6, plus 100.64.0.0/10 (CGNAT, where Tailscale Serve's
/// addresses live).
const PRIVATE: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
    "100.64.0.0/10",
];

impl TrustedProxies {
    /// Reads entries that are each a bare IP (`10.0.0.1`, `::1`), a CIDR range
    /// (`10.0.0.0/8`, `fd00::/8`), or one of the words `loopback` and `private`.
    /// Blank entries are skipped.
    pub fn parse(list: &[String]) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for entry in list {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let named = if entry.eq_ignore_ascii_case("loopback") {
                Some(LOOPBACK)
            } else if entry.eq_ignore_ascii_case("private") {
                Some(PRIVATE)
            } else {
                None
            };
            match named {
                Some(ranges) => nets.extend(ranges.iter().filter_map(|r| IpNet::from_str(r).ok())),
                None => nets.push(parse_net(entry).ok_or_else(|| {
                    format!(
                        "trusted proxy {entry:?} is not an IP address, a CIDR range or one of the words `loopback` and `private` (for example 10.0.0.1, 10.0.0.0/8, fd00::/8, loopback, private)"
                    )
                })?),
            }
        }
        Ok(TrustedProxies { nets })
    }

    /// Whether `ip` lies in a trusted range; an IPv4-mapped IPv6 address counts as its IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

/// A bare IP or a CIDR range; IPv4-mapped IPv6 forms become IPv4 so they can match.
fn parse_net(entry: &str) -> Option<IpNet> {
    let net = match entry.parse::<IpAddr>() {
        Ok(ip) => IpNet::from(ip.to_canonical()),
        Err(_) => entry.parse::<IpNet>().ok()?.trunc(),
    };
    if let IpNet::V6(v6) = net
        && let Some(v4) = v6.network().to_ipv4_mapped()
        && v6.prefix_len() >= 96
    {
        return Ipv4Net::new(v4, v6.prefix_len() - 96).ok().map(IpNet::V4);
    }
    Some(net)
}

/// What a request says about its origin, once the untrusted parts are set aside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forwarded {
    /// The client's address: the peer itself unless a trusted proxy says otherwise.
    pub client_ip: IpAddr,
    /// `http` or `https`, from `X-Forwarded-Proto` of a trusted peer.
    pub proto: Option<String>,
    /// `host[:port]`, from `X-Forwarded-Host` of a trusted peer.
    pub host: Option<String>,
}

/// Who is behind the TCP `peer`, believing the headers only when `peer` is trusted.
/// Addresses come back with IPv4-mapped IPv6 forms turned into IPv4.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> Forwarded {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return Forwarded {
            client_ip: peer,
            proto: None,
            host: None,
        };
    }
    let proto = first_value(headers, "x-forwarded-proto")
        .map(str::to_ascii_lowercase)
        .filter(|p| p == "http" || p == "https");
    let host = first_value(headers, "x-forwarded-host")
        .filter(|h| plausible_host(h))
        .map(str::to_owned);
    Forwarded {
        client_ip: client_ip(peer, headers, trusted),
        proto,
        host,
    }
}

/// Walks `X-Forwarded-For` right to left from the trusted `peer`; the first untrusted hop
/// is the client. An entry that is not an address stops the walk at the last trusted hop.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let mut client = peer;
    for line in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(line) = line.to_str() else {
            return client;
        };
        for hop in line.rsplit(',') {
            let Some(ip) = parse_hop(hop) else {
                return client;
            };
            client = ip;
            if !trusted.contains(ip) {
                return client;
            }
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an IP, or an IP with a port (`1.2.3.4:5678`, `[::1]:5678`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = match hop.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => hop.parse::<SocketAddr>().ok()?.ip(),
    };
    Some(ip.to_canonical())
}

/// The first comma-separated value of the first line of `name`, trimmed; None when empty.
fn first_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let line = headers.get(name)?.to_str().ok()?;
    let value = line.split(',').next()?.trim();
    (!value.is_empty()).then_some(value)
}

/// `host[:port]` with nothing that could smuggle a path, user info or whitespace in.
fn plausible_host(host: &str) -> bool {
    host.len() <= 255
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        })
}

#[cfg(test)]
mod tests;
