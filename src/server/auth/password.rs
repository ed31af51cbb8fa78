//! argon2id password hashing on a blocking thread, with equal work for unknown users.
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

pub const MIN_PASSWORD_LEN: usize = 12;

fn hasher() -> Argon2<'static> {
    // OWASP minimum for argon2id: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19_456, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    let h = tokio::task::spawn_blocking(move || hash_blocking(&password)).await?;
    h.map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// A hash of nothing anybody knows, verified against when the user does not exist.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("no-such-user-placeholder-password").unwrap_or_default())
}

pub fn verify_blocking(password: &str, stored_hash: Option<&str>) -> bool {
    let (candidate_hash, known) = match stored_hash {
        Some(h) => (h, true),
        None => (dummy_hash(), false),
    };
    let ok = match PasswordHash::new(candidate_hash) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    };
    ok && known
}

/// Verifies off the async runtime; unknown users cost the same as known ones.
pub async fn verify(password: String, stored_hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify_blocking(&password, stored_hash.as_deref()))
        .await
        .unwrap_or(false)
}

pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash_blocking("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_blocking("correct horse battery", Some(&h)));
        assert!(!verify_blocking("wrong horse battery", Some(&h)));
    }

    #[test]
    fn unknown_user_never_verifies() {
        assert!(!verify_blocking("no-such-user-placeholder-password", None));
    }

    #[test]
    fn garbage_hash_is_refused_not_panicking() {
        assert!(!verify_blocking("x", Some("not a hash")));
    }
}
