//! Agent API keys: random tokens shown once, stored as SHA-256, compared in constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const AGENT_KEY_PREFIX: &str = "paperclip_agent_";
/// Keys minted by the Node original, accepted when imported.
pub const LEGACY_KEY_PREFIX: &str = "pcp_";

/// Board API keys (Paperclip's prefix).
pub const BOARD_KEY_PREFIX: &str = "pcp_board_";

/// The secret of a CLI sign-in challenge (Paperclip's prefix); whoever holds it may poll or
/// cancel the challenge, and a signed-in person may approve it.
pub const CLI_CHALLENGE_PREFIX: &str = "pcp_cli_auth_";

/// A new agent key: `paperclip_agent_` and 48 hex characters (24 random bytes).
pub fn new_agent_token() -> String {
    new_token(AGENT_KEY_PREFIX, 24)
}

/// `prefix` and `bytes` random bytes in hex, from the operating system's generator.
pub fn new_token(prefix: &str, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    format!("{prefix}{}", hex::encode(buf))
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a bearer token has the shape of an agent key (else it is garbage: 401).
pub fn looks_like_agent_key(token: &str) -> bool {
    token.starts_with(AGENT_KEY_PREFIX) || token.starts_with(LEGACY_KEY_PREFIX)
}

/// Constant-time equality of two hashes (hex strings of equal length).
pub fn hashes_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_hash_stably() {
        let a = new_agent_token();
        let b = new_agent_token();
        assert_ne!(a, b);
        assert!(a.starts_with(AGENT_KEY_PREFIX));
        assert_eq!(a.len(), AGENT_KEY_PREFIX.len() + 48);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert!(hashes_match(&hash_token(&a), &hash_token(&a)));
        assert!(!hashes_match(&hash_token(&a), &hash_token(&b)));
    }
}
