//! Embed tokens for the verification badge an ATS shows in its own profile page: versioned,
//! expiring, HMAC-SHA256-signed with the integration's own key, naming the integration, the
//! candidate and the key generation — so rotating the key or revoking the integration ends every
//! token at once. Format: `cb1.{integration}.{candidate}.{expires unix}.{generation}.{mac}`, the
//! MAC base64url over everything before it. Checked in constant time.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const VERSION: &str = "cb1";

/// What a token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims {
    pub integration_id: i64,
    pub candidate_id: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// The integration's key generation when it was issued.
    pub generation: i64,
}

/// Why a token is refused (machines get these words; people get a neutral "Badge unavailable").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a Clearance embed token")]
    Malformed,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token was issued under a key that has been rotated or revoked")]
    Revoked,
}

/// The integration as the check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issuer<'a> {
    pub key: &'a [u8],
    pub generation: i64,
    pub revoked: bool,
}

fn mac(key: &[u8], signed: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(signed.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn signed_part(c: &Claims) -> String {
    format!(
        "{VERSION}.{}.{}.{}.{}",
        c.integration_id, c.candidate_id, c.expires_at, c.generation
    )
}

pub fn sign(key: &[u8], c: &Claims) -> String {
    let signed = signed_part(c);
    let tag = B64.encode(mac(key, &signed));
    format!("{signed}.{tag}")
}

/// Reads the claims without checking them: only to find which integration's key checks it.
pub fn peek(token: &str) -> Result<Claims, TokenError> {
    if token.len() > 200 {
        return Err(TokenError::Malformed);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [version, integration, candidate, expires, generation, _mac] = parts[..] else {
        return Err(TokenError::Malformed);
    };
    if version != VERSION {
        return Err(TokenError::Malformed);
    }
    let number = |s: &str| {
        // Digits only: no sign, no spaces, no leading "+" that would sign differently.
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TokenError::Malformed);
        }
        s.parse::<i64>().map_err(|_| TokenError::Malformed)
    };
    Ok(Claims {
        integration_id: number(integration)?,
        candidate_id: number(candidate)?,
        expires_at: number(expires)?,
        generation: number(generation)?,
    })
}

/// The token's claims when its MAC matches under `issuer`'s key, it has not expired at `now`
/// (unix seconds), and the issuer is neither revoked nor rotated since.
pub fn verify(issuer: Issuer<'_>, token: &str, now: i64) -> Result<Claims, TokenError> {
    let claims = peek(token)?;
    let (signed, tag) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let tag = B64.decode(tag).map_err(|_| TokenError::Malformed)?;
    // The signed part is rebuilt from the numbers, so "007" cannot stand in for "7".
    if signed != signed_part(&claims) {
        return Err(TokenError::Malformed);
    }
    if !bool::from(mac(issuer.key, signed).ct_eq(&tag)) {
        return Err(TokenError::BadSignature);
    }
    if issuer.revoked || claims.generation != issuer.generation {
        return Err(TokenError::Revoked);
    }
    if now >= claims.expires_at {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const CLAIMS: Claims = Claims {
        integration_id: 3,
        candidate_id: 42,
        expires_at: 2_000_000_000,
        generation: 1,
    };
    fn issuer() -> Issuer<'static> {
        Issuer {
            key: KEY,
            generation: 1,
            revoked: false,
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let t = sign(KEY, &CLAIMS);
        assert!(t.starts_with("cb1.3.42.2000000000.1."));
        assert_eq!(peek(&t), Ok(CLAIMS));
        assert_eq!(verify(issuer(), &t, 1_999_999_999), Ok(CLAIMS));
        assert_eq!(
            verify(issuer(), &t, 2_000_000_000),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn tampering_anywhere_is_refused() {
        let t = sign(KEY, &CLAIMS);
        // Another candidate, a later expiry, a forged generation: the MAC no longer matches.
        for forged in [
            t.replacen(".42.", ".43.", 1),
            t.replacen(".2000000000.", ".2000000001.", 1),
            t.replacen(".1.", ".2.", 1),
        ] {
            assert_eq!(
                verify(issuer(), &forged, 0),
                Err(TokenError::BadSignature),
                "{forged}"
            );
        }
        // Same numbers spelled differently are not the signed text.
        let padded = t.replacen(".42.", ".042.", 1);
        assert_eq!(verify(issuer(), &padded, 0), Err(TokenError::Malformed));
        let mut flipped = t.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(verify(issuer(), &flipped, 0), Err(TokenError::BadSignature));
        let other_key = Issuer {
            key: b"another key",
            ..issuer()
        };
        assert_eq!(verify(other_key, &t, 0), Err(TokenError::BadSignature));
        for junk in [
            "",
            "cb1",
            "cb2.3.42.2000000000.1.x",
            "cb1.-3.42.1.1.x",
            "a.b.c.d.e.f",
            &"9".repeat(300),
        ] {
            assert_eq!(
                verify(issuer(), junk, 0),
                Err(TokenError::Malformed),
                "{junk}"
            );
        }
    }

    #[test]
    fn revoking_or_rotating_ends_every_token() {
        let t = sign(KEY, &CLAIMS);
        let revoked = Issuer {
            revoked: true,
            ..issuer()
        };
        assert_eq!(verify(revoked, &t, 0), Err(TokenError::Revoked));
        // Rotation: a new generation (with its new key in practice); the old token is over.
        let rotated = Issuer {
            generation: 2,
            ..issuer()
        };
        assert_eq!(verify(rotated, &t, 0), Err(TokenError::Revoked));
    }
}
