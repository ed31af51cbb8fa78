//! The Insights page's figures.
use crate::error::AppError;
use crate::model::Insights;
use leptos::prelude::*;

/// `from` / `to`: `YYYY-MM-DD` in the organisation's time zone (empty: the last 90 days);
/// `policy`: a policy's name; `tier`: `low`, `medium` or `high`.
#[server(prefix = "/api", endpoint = "get_insights")]
pub async fn get_insights(
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
    #[server(default)] job_id: Option<i64>,
    #[server(default)] policy: Option<String>,
    #[server(default)] tier: Option<String>,
) -> Result<Insights, AppError> {
    use crate::server::{auth, services};
    let state = auth::state()?;
    let tz = state.config.business_calendar.tz;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let raw = services::insights::RawFilter {
        from: from.as_deref(),
        to: to.as_deref(),
        job_id,
        policy: policy.as_deref(),
        tier: tier.as_deref(),
    };
    let filter = services::insights::parse_filter(raw, today)?;
    services::insights::insights(&state, &auth::user().await?, filter).await
}
