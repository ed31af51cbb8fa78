//! Alerts to Support (Settings page): where they go, a test alert, the newest alerts.
use crate::error::AppError;
use crate::model::{AlertSettingsView, AlertSummary};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "alert_settings")]
pub async fn alert_settings() -> Result<AlertSettingsView, AppError> {
    use crate::server::{auth, services};
    services::alerts::settings(&auth::state()?.db, &auth::user().await?).await
}

/// Empty `slack_url` / `webhook_secret` keep what is stored; `clear_slack` removes Slack; an
/// empty `webhook_url` removes the JSON webhook.
#[server(prefix = "/api", endpoint = "save_alert_settings")]
pub async fn save_alert_settings(
    #[server(default)] slack_url: String,
    #[server(default)] clear_slack: Option<String>,
    #[server(default)] webhook_url: String,
    #[server(default)] webhook_secret: String,
    drift_threshold: i64,
) -> Result<AlertSettingsView, AppError> {
    use crate::server::{auth, services};
    let input = services::alerts::SettingsInput {
        slack_url,
        clear_slack: clear_slack.is_some(),
        webhook_url,
        webhook_secret,
        drift_threshold,
    };
    services::alerts::save_settings(&auth::state()?, &auth::user().await?, &input).await
}

/// Returns how many destinations the test alert was queued to.
#[server(prefix = "/api", endpoint = "send_test_alert")]
pub async fn send_test_alert() -> Result<usize, AppError> {
    use crate::server::{auth, services};
    services::alerts::send_test(&auth::state()?, &auth::user().await?).await
}

#[server(prefix = "/api", endpoint = "recent_alerts")]
pub async fn recent_alerts() -> Result<Vec<AlertSummary>, AppError> {
    use crate::server::{auth, services};
    services::alerts::recent(&auth::state()?.db, &auth::user().await?).await
}
