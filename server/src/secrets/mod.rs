//! Company secrets: how one version is sealed ([`crypto`]: AES-256-GCM, a key per secret
//! from HKDF-SHA256, the company and secret bound as associated data, a versioned format) and
//! where the instance's master key comes from ([`master_key`]: a key file or the
//! environment). The tables, routes and run-time resolution build on these.

pub mod crypto;
pub mod keys;
pub mod master_key;
pub mod rotation;
