//! Sealing one secret version: AES-256-GCM under a key derived for that secret.
//!
//! Format v1 (bytes): `0x01 | salt (16) | nonce (12) | ciphertext | tag (16)`.
//! - key = HKDF-SHA256(ikm = master key, salt, info = "paperclip secret v1")
//! - associated data = "paperclip:v1:" ‖ company id ‖ secret id (16 bytes each), so a
//!   ciphertext copied to another secret or company does not decrypt.
//! - salt and nonce are fresh random bytes for every version.
//!
//! The leading version byte leaves room for another algorithm later: `open` refuses formats it
//! does not know, naming the byte.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use base64::Engine;
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;
use thiserror::Error;
use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

const V1: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + SALT_LEN + NONCE_LEN;
const INFO_V1: &[u8] = b"paperclip secret v1";
const AAD_PREFIX: &[u8] = b"paperclip:v1:";

/// The instance's master key: 32 bytes, wiped from memory when dropped, never printed.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    pub const LEN: usize = 32;

    /// A new random key.
    pub fn generate() -> MasterKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(bytes.as_mut());
        MasterKey(bytes)
    }

    /// Exactly 32 bytes; anything else is refused (the caller names where they came from).
    pub fn from_bytes(bytes: &[u8]) -> Option<MasterKey> {
        let array: [u8; 32] = bytes.try_into().ok()?;
        Some(MasterKey(Zeroizing::new(array)))
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Not a ciphertext this build can read (too short, or an unknown format byte).
    #[error("unknown secret ciphertext format {0}")]
    UnknownFormat(String),
    /// Wrong master key, tampered bytes, or a ciphertext of another secret.
    #[error("cannot decrypt secrets with this master key (or the stored value was altered)")]
    Decrypt,
}

fn aad(company_id: Uuid, secret_id: Uuid) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_PREFIX.len() + 32);
    aad.extend_from_slice(AAD_PREFIX);
    aad.extend_from_slice(company_id.as_bytes());
    aad.extend_from_slice(secret_id.as_bytes());
    aad
}

fn cipher(master: &MasterKey, salt: &[u8]) -> Aes256Gcm {
    let hk = Hkdf::<Sha256>::new(Some(salt), master.expose());
    let mut key = Zeroizing::new([0u8; 32]);
    hk.expand(INFO_V1, key.as_mut())
        .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
    let cipher = Aes256Gcm::new_from_slice(key.as_ref())
        .unwrap_or_else(|_| unreachable!("AES-256 takes a 32-byte key"));
    key.zeroize();
    cipher
}

/// A 12-byte nonce; callers slice exactly NONCE_LEN bytes.
fn nonce_of(bytes: &[u8]) -> Nonce<Aes256Gcm> {
    Nonce::<Aes256Gcm>::try_from(bytes)
        .unwrap_or_else(|_| unreachable!("the nonce slice is {NONCE_LEN} bytes"))
}

/// Encrypts one version of a secret.
pub fn seal(master: &MasterKey, company_id: Uuid, secret_id: Uuid, plaintext: &[u8]) -> Vec<u8> {
    let mut header = [0u8; HEADER_LEN];
    header[0] = V1;
    rand::rng().fill_bytes(&mut header[1..]);
    let (salt, nonce) = header[1..].split_at(SALT_LEN);
    let aad = aad(company_id, secret_id);
    let sealed = cipher(master, salt)
        .encrypt(
            &nonce_of(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .unwrap_or_else(|_| unreachable!("AES-GCM encrypts any message under 64 GiB"));
    let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(&sealed);
    out
}

/// A sealed version as the databases keep it: base64 text of [`seal`]'s bytes.
pub fn seal_stored(
    master: &MasterKey,
    company_id: Uuid,
    secret_id: Uuid,
    plaintext: &[u8],
) -> String {
    base64::engine::general_purpose::STANDARD.encode(seal(master, company_id, secret_id, plaintext))
}

/// Opens the stored (base64) form; text that is not base64 is an unknown format.
pub fn open_stored(
    master: &MasterKey,
    company_id: Uuid,
    secret_id: Uuid,
    stored: &str,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .map_err(|_| CryptoError::UnknownFormat("(not base64)".into()))?;
    open(master, company_id, secret_id, &sealed)
}

/// Decrypts one version of a secret; the plaintext is wiped when dropped.
pub fn open(
    master: &MasterKey,
    company_id: Uuid,
    secret_id: Uuid,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    match sealed.first() {
        Some(&V1) if sealed.len() >= HEADER_LEN + TAG_LEN => {}
        Some(&V1) => return Err(CryptoError::UnknownFormat("1 (truncated)".into())),
        Some(other) => return Err(CryptoError::UnknownFormat(other.to_string())),
        None => return Err(CryptoError::UnknownFormat("(empty)".into())),
    }
    let salt = &sealed[1..1 + SALT_LEN];
    let nonce = &sealed[1 + SALT_LEN..HEADER_LEN];
    let aad = aad(company_id, secret_id);
    cipher(master, salt)
        .decrypt(
            &nonce_of(nonce),
            Payload {
                msg: &sealed[HEADER_LEN..],
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_company_and_secret() {
        let key = MasterKey::generate();
        let (company, secret) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = seal(&key, company, secret, b"sk-live-123");
        assert_eq!(sealed[0], V1);
        assert!(!sealed.windows(11).any(|w| w == b"sk-live-123"));
        let opened = open(&key, company, secret, &sealed).unwrap();
        assert_eq!(opened.as_slice(), b"sk-live-123");
        // Fresh salt and nonce every time: the same value never seals the same way twice.
        assert_ne!(seal(&key, company, secret, b"sk-live-123"), sealed);
    }

    #[test]
    fn another_key_secret_or_company_cannot_open_it() {
        let key = MasterKey::generate();
        let (company, secret) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = seal(&key, company, secret, b"value");
        let wrong = MasterKey::generate();
        assert_eq!(
            open(&wrong, company, secret, &sealed),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            open(&key, company, Uuid::new_v4(), &sealed),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            open(&key, Uuid::new_v4(), secret, &sealed),
            Err(CryptoError::Decrypt)
        );
    }

    #[test]
    fn tampered_truncated_and_unknown_formats_are_refused() {
        let key = MasterKey::generate();
        let (company, secret) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = seal(&key, company, secret, b"value");
        for i in [1, HEADER_LEN - 1, HEADER_LEN, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                open(&key, company, secret, &bad),
                Err(CryptoError::Decrypt),
                "byte {i}"
            );
        }
        assert!(matches!(
            open(&key, company, secret, &sealed[..HEADER_LEN + 3]),
            Err(CryptoError::UnknownFormat(_))
        ));
        let mut v2 = sealed.clone();
        v2[0] = 2;
        assert_eq!(
            open(&key, company, secret, &v2),
            Err(CryptoError::UnknownFormat("2".into()))
        );
        assert!(matches!(
            open(&key, company, secret, &[]),
            Err(CryptoError::UnknownFormat(_))
        ));
    }

    #[test]
    fn a_master_key_is_exactly_32_bytes_and_never_printed() {
        assert!(MasterKey::from_bytes(&[7u8; 31]).is_none());
        assert!(MasterKey::from_bytes(&[7u8; 33]).is_none());
        let key = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(format!("{key:?}"), "MasterKey(…)");
    }
}
