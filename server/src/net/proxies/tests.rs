use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue};

use super::{Forwarded, TrustedProxies, resolve};

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an IP")
}

fn trusted(entries: &[&str]) -> TrustedProxies {
    let list: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
    TrustedProxies::parse(&list).expect("valid entries")
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).expect("a header value"));
    }
    map
}

fn client(peer: &str, pairs: &[(&'static str, &str)], proxies: &TrustedProxies) -> IpAddr {
    resolve(ip(peer), &headers(pairs), proxies).client_ip
}

#[test]
fn bare_ips_cover_exactly_themselves() {
    let proxies = trusted(&["10.0.0.1", "fd00::1"]);
    assert!(proxies.contains(ip("10.0.0.1")));
    assert!(!proxies.contains(ip("10.0.0.2")));
    assert!(proxies.contains(ip("fd00::1")));
    assert!(!proxies.contains(ip("fd00::2")));
}

#[test]
fn cidr_ranges_cover_their_addresses() {
    let proxies = trusted(&["10.1.0.0/16", "fd00::/8", "192.168.1.7/24"]);
    assert!(proxies.contains(ip("10.1.200.3")));
    assert!(!proxies.contains(ip("10.2.0.1")));
    assert!(proxies.contains(ip("fd12:3456::1")));
    assert!(proxies.contains(ip("192.168.1.200")));
    assert!(!proxies.contains(ip("192.168.2.1")));
}

#[test]
fn loopback_and_private_are_words_for_ranges() {
    let loopback = trusted(&["loopback"]);
    assert!(loopback.contains(ip("127.0.0.1")));
    assert!(loopback.contains(ip("127.8.9.10")));
    assert!(loopback.contains(ip("::1")));
    assert!(!loopback.contains(ip("10.0.0.1")));

    let private = trusted(&["Private"]);
    for inside in [
        "10.9.8.7",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "fd7a:115c:a1e0::1",
        "100.64.0.1",
        "100.127.255.254",
    ] {
        assert!(private.contains(ip(inside)), "{inside}");
    }
    for outside in [
        "172.32.0.1",
        "100.128.0.1",
        "8.8.8.8",
        "127.0.0.1",
        "2001:db8::1",
    ] {
        assert!(!private.contains(ip(outside)), "{outside}");
    }
}

#[test]
fn ipv4_mapped_peers_count_as_their_ipv4() {
    let proxies = trusted(&["loopback"]);
    assert!(proxies.contains(ip("::ffff:127.0.0.1")));
    let mapped_entry = trusted(&["::ffff:10.0.0.1"]);
    assert!(mapped_entry.contains(ip("10.0.0.1")));
    let forwarded = resolve(
        ip("::ffff:127.0.0.1"),
        &headers(&[("x-forwarded-for", "203.0.113.9")]),
        &proxies,
    );
    assert_eq!(forwarded.client_ip, ip("203.0.113.9"));
    let direct = resolve(ip("::ffff:198.51.100.1"), &HeaderMap::new(), &proxies);
    assert_eq!(direct.client_ip, ip("198.51.100.1"));
}

#[test]
fn bad_entries_are_refused_by_name() {
    for bad in [
        "10.0.0.0/33",
        "example.com",
        "10.0.0",
        "localhost",
        "[::1]",
        "10.0.0.1:80",
    ] {
        let err = TrustedProxies::parse(&[bad.to_string()]).expect_err(bad);
        assert!(err.contains(bad), "{err}");
        assert!(err.contains("CIDR") && err.contains("loopback"), "{err}");
    }
}

#[test]
fn blank_entries_and_empty_lists_trust_nobody() {
    assert!(TrustedProxies::parse(&[]).expect("empty").is_empty());
    assert!(
        TrustedProxies::parse(&[" ".to_string()])
            .expect("blank")
            .is_empty()
    );
    assert!(TrustedProxies::default().is_empty());
    assert!(!trusted(&["loopback"]).is_empty());
}

#[test]
fn an_untrusted_peer_has_its_headers_ignored() {
    let proxies = trusted(&["10.0.0.0/8"]);
    let spoofed = headers(&[
        ("x-forwarded-for", "1.2.3.4"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "evil.example"),
    ]);
    let forwarded = resolve(ip("203.0.113.5"), &spoofed, &proxies);
    let expected = Forwarded {
        client_ip: ip("203.0.113.5"),
        proto: None,
        host: None,
    };
    assert_eq!(forwarded, expected);
    let nobody = resolve(ip("10.0.0.1"), &spoofed, &TrustedProxies::default());
    assert_eq!(nobody.client_ip, ip("10.0.0.1"));
}

#[test]
fn a_trusted_peer_without_the_header_is_the_client() {
    let proxies = trusted(&["loopback"]);
    assert_eq!(client("127.0.0.1", &[], &proxies), ip("127.0.0.1"));
}

#[test]
fn spoofed_entries_left_of_the_client_are_ignored() {
    let proxies = trusted(&["loopback"]);
    let pairs = [("x-forwarded-for", "6.6.6.6, 7.7.7.7, 198.51.100.4")];
    assert_eq!(client("127.0.0.1", &pairs, &proxies), ip("198.51.100.4"));
}

#[test]
fn a_chain_of_trusted_proxies_is_walked_past() {
    let proxies = trusted(&["10.0.0.0/8", "loopback"]);
    let pairs = [(
        "x-forwarded-for",
        "6.6.6.6, 198.51.100.4, 10.0.0.2, 10.0.0.3",
    )];
    assert_eq!(client("127.0.0.1", &pairs, &proxies), ip("198.51.100.4"));
}

#[test]
fn several_header_lines_form_one_list() {
    let proxies = trusted(&["10.0.0.0/8"]);
    let pairs = [
        ("x-forwarded-for", "6.6.6.6"),
        ("x-forwarded-for", "198.51.100.4, 10.0.0.2"),
        ("x-forwarded-for", "10.0.0.3"),
    ];
    assert_eq!(client("10.0.0.1", &pairs, &proxies), ip("198.51.100.4"));
}

#[test]
fn all_hops_trusted_gives_the_leftmost() {
    let proxies = trusted(&["private"]);
    let pairs = [("x-forwarded-for", "192.168.1.5, 10.0.0.2")];
    assert_eq!(client("10.0.0.1", &pairs, &proxies), ip("192.168.1.5"));
}

#[test]
fn an_unparsable_entry_stops_at_the_last_trusted_hop() {
    let proxies = trusted(&["10.0.0.0/8"]);
    let pairs = [("x-forwarded-for", "198.51.100.4, unknown, 10.0.0.2")];
    assert_eq!(client("10.0.0.1", &pairs, &proxies), ip("10.0.0.2"));
    let first = [("x-forwarded-for", "198.51.100.4, garbage")];
    assert_eq!(client("10.0.0.1", &first, &proxies), ip("10.0.0.1"));
}

#[test]
fn hops_may_carry_ports_and_mapped_forms() {
    let proxies = trusted(&["10.0.0.0/8"]);
    let pairs = [("x-forwarded-for", "[2001:db8::7]:4711, 10.0.0.2:80")];
    assert_eq!(client("10.0.0.1", &pairs, &proxies), ip("2001:db8::7"));
    let mapped = [("x-forwarded-for", "::ffff:198.51.100.4, ::ffff:10.0.0.2")];
    assert_eq!(client("10.0.0.1", &mapped, &proxies), ip("198.51.100.4"));
}

#[test]
fn proto_is_the_first_value_and_only_http_or_https() {
    let proxies = trusted(&["loopback"]);
    let proto = |value: &str| {
        resolve(
            ip("127.0.0.1"),
            &headers(&[("x-forwarded-proto", value)]),
            &proxies,
        )
        .proto
    };
    assert_eq!(proto("HTTPS").as_deref(), Some("https"));
    assert_eq!(proto(" http ").as_deref(), Some("http"));
    assert_eq!(proto("https, http").as_deref(), Some("https"));
    assert_eq!(proto("ftp"), None);
    assert_eq!(proto("javascript"), None);
    assert_eq!(proto(""), None);
}

#[test]
fn host_is_the_first_value_when_plausible() {
    let proxies = trusted(&["loopback"]);
    let host = |value: &str| {
        resolve(
            ip("127.0.0.1"),
            &headers(&[("x-forwarded-host", value)]),
            &proxies,
        )
        .host
    };
    assert_eq!(
        host(" box.tail1234.ts.net ").as_deref(),
        Some("box.tail1234.ts.net")
    );
    assert_eq!(
        host("example.com:8443").as_deref(),
        Some("example.com:8443")
    );
    assert_eq!(
        host("[fd7a:115c:a1e0::1]:3100").as_deref(),
        Some("[fd7a:115c:a1e0::1]:3100")
    );
    assert_eq!(host("a.example, b.example").as_deref(), Some("a.example"));
    for bad in [
        "evil.example/path",
        "user@evil.example",
        "two words",
        "",
        &"a".repeat(256),
    ] {
        assert_eq!(host(bad), None, "{bad}");
    }
    let raw = HeaderValue::from_bytes("bücher.example".as_bytes()).expect("opaque bytes");
    let mut map = HeaderMap::new();
    map.insert("x-forwarded-host", raw);
    assert_eq!(resolve(ip("127.0.0.1"), &map, &proxies).host, None);
}
