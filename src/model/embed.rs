//! Badge integrations as the admin's Settings page shows them (never their keys).
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationSummary {
    pub id: i64,
    pub name: String,
    pub origins: Vec<String>,
    pub token_ttl_hours: i64,
    pub key_generation: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Badge views over the last 30 days.
    pub views_30_days: i64,
}
