//! The session cookie: `paperclip-<instance>.session_token` (Paperclip's name), `__Secure-`
//! prefixed when served over https. The value is a random token; the database keeps only its
//! SHA-256. Sessions last 7 days and slide: a session used after a day gets 7 days again.

use axum::http::HeaderMap;
use chrono::Duration;

pub const SESSION_DAYS: i64 = 7;

pub fn lifetime() -> Duration {
    Duration::days(SESSION_DAYS)
}

/// Renew when less than this much is left.
pub fn refresh_below() -> Duration {
    Duration::days(SESSION_DAYS - 1)
}

/// The cookie's base name for an instance (characters outside `[A-Za-z0-9_-]` become `-`).
pub fn cookie_name(instance_id: &str) -> String {
    let id: String = instance_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("paperclip-{id}.session_token")
}

/// The session token a request carries, under the plain or the `__Secure-` name.
pub fn token_from(headers: &HeaderMap, name: &str) -> Option<String> {
    let secure = format!("__Secure-{name}");
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name || *k == secure)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a new session.
pub fn set_cookie(name: &str, token: &str, secure: bool) -> String {
    let max_age = lifetime().num_seconds();
    if secure {
        format!(
            "__Secure-{name}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax; Secure"
        )
    } else {
        format!("{name}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax")
    }
}

/// `Set-Cookie` values that remove the session cookie under both names.
pub fn clear_cookies(name: &str) -> [String; 2] {
    [
        format!("{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
        format!("__Secure-{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_parsing() {
        assert_eq!(cookie_name("default"), "paperclip-default.session_token");
        assert_eq!(cookie_name("a.b"), "paperclip-a-b.session_token");
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            "other=1; __Secure-paperclip-default.session_token=abc; x=2"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            token_from(&h, "paperclip-default.session_token").as_deref(),
            Some("abc")
        );
        assert_eq!(token_from(&h, "paperclip-other.session_token"), None);
        assert!(set_cookie("n", "t", true).starts_with("__Secure-n=t;"));
        assert!(set_cookie("n", "t", true).contains("Secure"));
        assert!(!set_cookie("n", "t", false).contains("Secure"));
        assert!(set_cookie("n", "t", false).contains("HttpOnly; SameSite=Lax"));
    }
}
