//! Company secrets: how one version is sealed ([`crypto`]: AES-256-GCM, a key per secret
//! from HKDF-SHA256, the company and secret bound as associated data, a versioned format) and
//! where the instance's master key comes from ([`keys`], by `secrets.provider`: the OS
//! keychain ([`keychain`]), a key file or the environment ([`master_key`])). The tables,
//! routes and run-time resolution build on these.

pub mod crypto;
pub mod keychain;
pub mod keys;
pub mod master_key;
pub mod rotation;
