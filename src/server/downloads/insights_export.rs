//! `GET /insights/export.csv?table=funnel|outcomes|tiers|timings|sla&from=&to=&job=&policy=&tier=`: one table of the
//! Insights page as CSV, for the same filter (who may: as the page — services::insights).
use crate::error::AppError;
use crate::server::auth::SignedIn;
use crate::server::clock;
use crate::server::services::insights::{self, Table};
use crate::server::state::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use std::collections::HashMap;

pub async fn download(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let tz = state.config.business_calendar.tz;
    let today = clock::now().with_timezone(&tz).date_naive();
    let made = async {
        let table: Table = get("table").unwrap_or("").parse()?;
        let job = match get("job") {
            None => None,
            Some(j) => Some(
                j.parse::<i64>()
                    .map_err(|_| AppError::BadRequest(format!("'{j}' is not a job id.")))?,
            ),
        };
        let raw = insights::RawFilter {
            from: get("from"),
            to: get("to"),
            job_id: job,
            policy: get("policy"),
            tier: get("tier"),
        };
        let filter = insights::parse_filter(raw, today)?;
        let figures = insights::insights(&state, &user, filter).await?;
        let csv = insights::table_csv(&figures, table)?;
        let name = format!(
            "clearance-insights-{}-{}-{}.csv",
            get("table").unwrap_or(""),
            figures.filter.from,
            figures.filter.to
        );
        Ok::<_, AppError>((csv, name))
    };
    super::csv_response(made.await)
}
