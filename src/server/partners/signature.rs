//! Standard Webhooks signatures: HMAC-SHA256 over `{id}.{timestamp}.{body}`, constant-time compare.
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Largest allowed distance between the webhook's timestamp and our clock.
pub const TOLERANCE_SECONDS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("webhook-timestamp is not a unix time in seconds")]
    BadTimestamp,
    #[error("webhook-timestamp is more than 300 seconds away from our clock")]
    OutsideTolerance,
    #[error("no webhook-signature matches")]
    NoMatch,
    #[error("the configured webhook secret is not a whsec_ base64 secret")]
    BadSecret,
}

/// The key bytes of a `whsec_…` secret (the prefix is optional).
pub fn secret_key(secret: &str) -> Result<Vec<u8>, SignatureError> {
    let b64 = secret
        .trim()
        .strip_prefix("whsec_")
        .unwrap_or(secret.trim());
    B64.decode(b64)
        .map_err(|_| SignatureError::BadSecret)
        .and_then(|k| {
            if k.is_empty() {
                Err(SignatureError::BadSecret)
            } else {
                Ok(k)
            }
        })
}

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// `v1,<base64>` for these inputs: what a sender puts in `webhook-signature`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SignatureError> {
    Ok(format!(
        "v1,{}",
        B64.encode(mac(&secret_key(secret)?, id, &timestamp.to_string(), body))
    ))
}

/// Accepts when the timestamp is within tolerance and any one listed `v1` signature matches.
pub fn verify(
    secret: &str,
    id: Option<&str>,
    timestamp: Option<&str>,
    signatures: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let key = secret_key(secret)?;
    let id = id
        .filter(|s| !s.is_empty())
        .ok_or(SignatureError::MissingHeader("webhook-id"))?;
    let ts_text = timestamp
        .filter(|s| !s.is_empty())
        .ok_or(SignatureError::MissingHeader("webhook-timestamp"))?;
    let signatures = signatures
        .filter(|s| !s.trim().is_empty())
        .ok_or(SignatureError::MissingHeader("webhook-signature"))?;
    let ts: i64 = ts_text
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if (now - ts).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::OutsideTolerance);
    }
    let expected = mac(&key, id, ts_text.trim(), body);
    let mut matched = subtle::Choice::from(0u8);
    for token in signatures.split(' ').filter(|t| !t.is_empty()) {
        let Some((version, sig)) = token.split_once(',') else {
            continue;
        };
        if version != "v1" {
            continue;
        }
        if let Ok(bytes) = B64.decode(sig) {
            if bytes.len() == expected.len() {
                matched |= bytes.ct_eq(&expected);
            }
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SignatureError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks specification's published example.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn check(sigs: &str, now: i64) -> Result<(), SignatureError> {
        verify(
            SECRET,
            Some(ID),
            Some(&TS.to_string()),
            Some(sigs),
            BODY,
            now,
        )
    }

    #[test]
    fn spec_test_vector() {
        assert_eq!(sign(SECRET, ID, TS, BODY).unwrap(), SIG);
        assert_eq!(check(SIG, TS), Ok(()));
    }

    #[test]
    fn bad_signatures_are_refused() {
        assert_eq!(
            check("", TS),
            Err(SignatureError::MissingHeader("webhook-signature"))
        );
        assert_eq!(
            check("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O", TS),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            check(&SIG.replace("v1,", "v1a,"), TS),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            check(&SIG.replace("v1,", "v2,"), TS),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(check("v1,", TS), Err(SignatureError::NoMatch));
        assert_eq!(check("garbage", TS), Err(SignatureError::NoMatch));
        assert_eq!(
            verify(
                SECRET,
                Some(ID),
                Some(&TS.to_string()),
                Some(SIG),
                b"{\"test\": 2432232315}",
                TS
            ),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(SECRET, None, Some(&TS.to_string()), Some(SIG), BODY, TS),
            Err(SignatureError::MissingHeader("webhook-id"))
        );
        assert_eq!(
            verify(SECRET, Some(ID), Some("yesterday"), Some(SIG), BODY, TS),
            Err(SignatureError::BadTimestamp)
        );
    }

    #[test]
    fn extra_spaces_and_one_good_among_bad() {
        assert_eq!(check(&format!("  {SIG}   "), TS), Ok(()));
        let mixed = format!("v1,AAAA v1a,{} v1,bm90IGl0 {SIG}", &SIG[3..]);
        assert_eq!(check(&mixed, TS), Ok(()));
    }

    #[test]
    fn timestamp_tolerance_is_300_seconds_either_way() {
        assert_eq!(check(SIG, TS + 299), Ok(()));
        assert_eq!(check(SIG, TS - 299), Ok(()));
        assert_eq!(check(SIG, TS + 301), Err(SignatureError::OutsideTolerance));
        assert_eq!(check(SIG, TS - 301), Err(SignatureError::OutsideTolerance));
    }

    #[test]
    fn a_bad_secret_is_reported() {
        assert_eq!(secret_key("whsec_!!!"), Err(SignatureError::BadSecret));
    }
}
