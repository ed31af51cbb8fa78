//! `GET /candidates/selection.csv?rows=3,7,9` or `?all=true&q=&job=&stage=&status=&risk=&integrity=`:
//! "Export selection" — the ticked list rows, or every row matching the list's filters (up to
//! 5,000), as CSV (who may see what: as on the list — services::bulk).
use crate::error::AppError;
use crate::model::{BulkSelection, CandidateQuery};
use crate::server::auth::SignedIn;
use crate::server::services;
use crate::server::state::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use std::collections::HashMap;

fn parsed<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    key: &str,
) -> Result<Option<T>, AppError> {
    match q.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::BadRequest(format!("'{v}' is not a valid {key}."))),
    }
}

fn selection(q: &HashMap<String, String>) -> Result<BulkSelection, AppError> {
    let rows = q
        .get("rows")
        .map(|r| {
            r.split(',')
                .filter(|id| !id.trim().is_empty())
                .map(|id| {
                    id.trim()
                        .parse::<i64>()
                        .map_err(|_| AppError::BadRequest(format!("'{id}' is not a row id.")))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let query = CandidateQuery {
        search: q.get("q").filter(|s| !s.trim().is_empty()).cloned(),
        job_id: parsed(q, "job")?,
        stage: parsed(q, "stage")?,
        status: parsed(q, "status")?,
        risk: parsed(q, "risk")?,
        integrity: parsed(q, "integrity")?,
        before: None,
    };
    Ok(BulkSelection::new(
        rows,
        q.get("all").is_some_and(|a| a == "true"),
        query,
    ))
}

pub async fn download(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let made = async {
        let selection = selection(&q)?;
        services::bulk::export_selection(&state, &user, &selection).await
    };
    super::csv_response(made.await)
}
