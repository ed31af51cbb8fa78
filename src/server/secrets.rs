//! Partner and monitor secrets at rest: AES-256-GCM under `CLEARANCE_SECRET_KEY`.
use crate::error::Invalid;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;

/// Stored values start with this; anything else is a plaintext value from before encryption.
pub const PREFIX: &str = "enc:v1:";

/// The key, parsed once. `Debug` never shows it.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

/// `bytes` random bytes from the operating system, as hex: webhook tokens, API keys.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Why a stored secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("CLEARANCE_SECRET_KEY is not set, so stored partner secrets cannot be used")]
    NoKey,
    #[error("a stored secret could not be decrypted (was CLEARANCE_SECRET_KEY changed?)")]
    Undecryptable,
    #[error("a stored secret is not encrypted yet (it is encrypted at the next start with a key)")]
    Plaintext,
}

impl SecretBox {
    /// A key in base64 (32 bytes), as `clearance secret keygen` prints it.
    pub fn from_base64(text: &str) -> Result<SecretBox, Invalid> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| "CLEARANCE_SECRET_KEY is not base64".to_string())?;
        if bytes.len() != 32 {
            return Err(Invalid(format!(
                "CLEARANCE_SECRET_KEY must be 32 bytes (256 bits) in base64, got {} bytes; `clearance secret keygen` prints one",
                bytes.len()
            )));
        }
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| "invalid key".to_string())?;
        Ok(SecretBox { cipher })
    }

    /// A fresh random key in base64.
    pub fn generate() -> String {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// Encrypts `plaintext` for the column named `purpose` (bound in as associated data, so a
    /// value cannot be moved to another column and still open).
    pub fn seal(&self, purpose: &str, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: purpose.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        )
    }

    /// Decrypts a value `seal` made for `purpose`.
    pub fn open(&self, purpose: &str, stored: &str) -> Result<String, SecretError> {
        let Some(b64) = stored.strip_prefix(PREFIX) else {
            return Err(SecretError::Plaintext);
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| SecretError::Undecryptable)?;
        if bytes.len() < 12 + 16 {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Undecryptable)
    }
}

/// Opens a stored secret with the configured key, if there is one.
pub fn open(key: Option<&SecretBox>, purpose: &str, stored: &str) -> Result<String, SecretError> {
    key.ok_or(SecretError::NoKey)?.open(purpose, stored)
}

pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// The columns that hold secrets, named as associated data.
pub mod purpose {
    pub const PARTNER_API_SECRET: &str = "partners.api_secret";
    pub const MONITOR_API_KEY: &str = "monitor_connection.api_key";
    pub const MONITOR_WEBHOOK_SECRET: &str = "monitor_connection.webhook_secret";
    pub const ALERT_SLACK_URL: &str = "alert_settings.slack_url";
    pub const ALERT_WEBHOOK_SECRET: &str = "alert_settings.webhook_secret";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_column() {
        let key = SecretBox::from_base64(&SecretBox::generate()).unwrap();
        let sealed = key.seal("a", "partner-secret-123");
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("partner-secret-123"));
        assert_ne!(
            sealed,
            key.seal("a", "partner-secret-123"),
            "fresh nonce each time"
        );
        assert_eq!(key.open("a", &sealed).unwrap(), "partner-secret-123");
        assert_eq!(key.open("b", &sealed), Err(SecretError::Undecryptable));
        let other = SecretBox::from_base64(&SecretBox::generate()).unwrap();
        assert_eq!(other.open("a", &sealed), Err(SecretError::Undecryptable));
        assert_eq!(key.open("a", "plain"), Err(SecretError::Plaintext));
        assert_eq!(key.open("a", "enc:v1:@@@"), Err(SecretError::Undecryptable));
        assert_eq!(
            key.open("a", "enc:v1:AAAA"),
            Err(SecretError::Undecryptable)
        );
        assert_eq!(open(None, "a", &sealed), Err(SecretError::NoKey));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(SecretBox::from_base64("not base64!").is_err());
        assert!(SecretBox::from_base64("AAAA")
            .unwrap_err()
            .contains("32 bytes"));
        assert!(SecretBox::from_base64(&SecretBox::generate()).is_ok());
    }
}
