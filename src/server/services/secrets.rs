//! The at-rest encryption step: secrets stored in clear text by earlier versions are sealed.
use crate::server::db::{self, Db};
use crate::server::secrets::{is_sealed, purpose, SecretBox};

/// Encrypts every partner and monitor secret still in clear text; returns how many it sealed.
/// Safe to run at every start: sealed values are left alone.
pub async fn encrypt_plaintext(db: &Db, key: &SecretBox) -> sqlx::Result<usize> {
    let mut sealed = 0;
    for (id, stored) in db::background::all_partner_secrets(db).await? {
        if !is_sealed(&stored) {
            let value = key.seal(purpose::PARTNER_API_SECRET, &stored);
            db::background::set_partner_secret(db, id, &value).await?;
            sealed += 1;
        }
    }
    if let Some(c) = db::integrity::connection(db).await? {
        if !is_sealed(&c.api_key) || !is_sealed(&c.webhook_secret) {
            let seal = |purpose: &str, v: &str| {
                if is_sealed(v) {
                    v.to_string()
                } else {
                    key.seal(purpose, v)
                }
            };
            db::integrity::set_connection_secrets(
                db,
                &seal(purpose::MONITOR_API_KEY, &c.api_key),
                &seal(purpose::MONITOR_WEBHOOK_SECRET, &c.webhook_secret),
            )
            .await?;
            sealed += 1;
        }
    }
    Ok(sealed)
}
