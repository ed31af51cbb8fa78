//! argon2id password hashing on a blocking thread, with equal work for unknown users.
use crate::error::Invalid;
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

/// At most one argon2 computation per core at a time (19 MiB each): a login flood waits in line
/// instead of filling memory and the blocking pool.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| tokio::sync::Semaphore::new(hashing_slots()))
}

/// How many passwords may be hashed at once: the number of cores.
pub fn hashing_slots() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

static IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static MOST_IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The most password verifications that ever ran at the same moment in this process.
pub fn most_concurrent_verifications() -> usize {
    MOST_IN_FLIGHT.load(std::sync::atomic::Ordering::SeqCst)
}

/// Verifies off the async runtime, one per core at a time; unknown users cost the same as known ones.
pub async fn verify(password: String, stored_hash: Option<String>) -> bool {
    use std::sync::atomic::Ordering::SeqCst;
    let Ok(_permit) = hashing_permits().acquire().await else {
        return false;
    };
    let now = IN_FLIGHT.fetch_add(1, SeqCst) + 1;
    MOST_IN_FLIGHT.fetch_max(now, SeqCst);
    let ok =
        tokio::task::spawn_blocking(move || verify_blocking(&password, stored_hash.as_deref()))
            .await
            .unwrap_or(false);
    IN_FLIGHT.fetch_sub(1, SeqCst);
    ok
}

pub fn check_strength(password: &str) -> Result<(), Invalid> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Invalid(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters"
        )));
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
