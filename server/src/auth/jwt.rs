//! Run tokens: the short-lived JWTs a heartbeat run gives its agent as `PAPERCLIP_API_KEY`.
//!
//! HS256, compact, with Paperclip's claims: `sub` (agent id), `company_id`, `run_id`,
//! `adapter_type`, `iat`, `exp`, `iss`, `aud` and `instance_id`. The key is derived from the
//! instance secret (`auth/secret.rs`), so replicas sharing that secret accept each other's
//! tokens and nothing is a built-in value. Only this server mints and reads them.
//!
//! A valid signature is not the whole answer: the domain also checks that the agent still
//! exists in that company and may authenticate (`domain::agents::authenticate_run_token`).

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use super::secret::InstanceSecret;

/// Paperclip's defaults (`PAPERCLIP_AGENT_JWT_ISSUER`, `…_AUDIENCE`, `…_TTL_SECONDS`).
pub const ISSUER: &str = "paperclip";
pub const AUDIENCE: &str = "paperclip-api";
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// Clock difference tolerated between replicas.
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    company_id: String,
    run_id: String,
    adapter_type: String,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
    instance_id: String,
}

/// What a verified run token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunClaims {
    pub agent_id: Uuid,
    pub company_id: Uuid,
    pub run_id: Uuid,
    pub adapter_type: String,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RunTokenError {
    #[error("Run token has expired")]
    Expired,
    #[error("Run token is not valid")]
    Invalid,
    #[error("Run token was issued for another instance")]
    OtherInstance,
}

/// Mints and verifies run tokens for one instance.
#[derive(Clone)]
pub struct RunTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    instance_id: String,
    ttl: Duration,
}

impl std::fmt::Debug for RunTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunTokens")
            .field("instance_id", &self.instance_id)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl RunTokens {
    pub fn new(secret: &InstanceSecret, instance_id: &str, ttl: Duration) -> Self {
        let key = secret.derive(&format!("agent-jwt:{instance_id}"));
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.leeway = LEEWAY_SECS;
        RunTokens {
            encoding: EncodingKey::from_secret(key.as_bytes()),
            decoding: DecodingKey::from_secret(key.as_bytes()),
            validation,
            instance_id: instance_id.to_string(),
            ttl,
        }
    }

    /// A token for `run`, valid for the configured lifetime from `now` (unix seconds).
    pub fn mint(&self, run: &RunClaims, now: i64) -> String {
        let claims = Claims {
            sub: run.agent_id.to_string(),
            company_id: run.company_id.to_string(),
            run_id: run.run_id.to_string(),
            adapter_type: run.adapter_type.clone(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            instance_id: self.instance_id.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_else(|e| unreachable!("HS256 signing of plain claims cannot fail: {e}"))
    }

    /// The claims of a token this instance signed and that has not expired.
    pub fn verify(&self, token: &str) -> Result<RunClaims, RunTokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => RunTokenError::Expired,
                _ => RunTokenError::Invalid,
            })?;
        let c = data.claims;
        if c.instance_id != self.instance_id {
            return Err(RunTokenError::OtherInstance);
        }
        let id = |text: &str| Uuid::parse_str(text).map_err(|_| RunTokenError::Invalid);
        Ok(RunClaims {
            agent_id: id(&c.sub)?,
            company_id: id(&c.company_id)?,
            run_id: id(&c.run_id)?,
            adapter_type: c.adapter_type,
        })
    }
}

/// Whether a bearer token has the shape of a JWT (three base64url parts) rather than one of
/// our prefixed keys.
pub fn looks_like_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &[u8], instance: &str) -> RunTokens {
        let secret = InstanceSecret::load(
            Some(String::from_utf8(secret.to_vec()).unwrap()),
            std::path::Path::new("/nonexistent"),
        )
        .unwrap();
        RunTokens::new(&secret, instance, DEFAULT_TTL)
    }

    fn run() -> RunClaims {
        RunClaims {
            agent_id: Uuid::new_v4(),
            company_id: Uuid::new_v4(),
            run_id: Uuid::new_v4(),
            adapter_type: "claude_local".into(),
        }
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    #[test]
    fn a_minted_token_verifies_with_its_claims() {
        let t = tokens(SECRET, "default");
        let r = run();
        let token = t.mint(&r, now());
        assert!(looks_like_jwt(&token));
        assert_eq!(t.verify(&token), Ok(r));
    }

    #[test]
    fn expired_tampered_foreign_and_garbage_tokens_are_refused() {
        let t = tokens(SECRET, "default");
        let r = run();
        let old = t.mint(&r, now() - 2 * DEFAULT_TTL.as_secs() as i64);
        assert_eq!(t.verify(&old), Err(RunTokenError::Expired));

        // Change one character of the payload: the signature no longer matches.
        let token = t.mint(&r, now());
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let payload = &mut parts[1];
        let flipped = if payload.ends_with('A') { 'B' } else { 'A' };
        payload.pop();
        payload.push(flipped);
        assert_eq!(t.verify(&parts.join(".")), Err(RunTokenError::Invalid));

        let other_secret = tokens(b"another-secret-of-at-least-32-chars!!", "default");
        assert_eq!(other_secret.verify(&token), Err(RunTokenError::Invalid));
        // Another instance with the same secret derives another key.
        let other_instance = tokens(SECRET, "staging");
        assert_eq!(other_instance.verify(&token), Err(RunTokenError::Invalid));

        assert_eq!(t.verify("a.b.c"), Err(RunTokenError::Invalid));
        assert!(!looks_like_jwt("pcp_board_abc"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a..c"));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let t = tokens(SECRET, "default");
        let token = t.mint(&run(), now());
        let payload = token.split('.').nth(1).unwrap();
        // {"alg":"none","typ":"JWT"}
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(t.verify(&none), Err(RunTokenError::Invalid));
    }
}
