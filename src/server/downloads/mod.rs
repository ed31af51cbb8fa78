//! Plain axum routes that hand signed-in users files: evidence packs, the audit export, a
//! candidate's data archive, integrity report files and partner logos. Each names its permission
//! rule at the top; the user comes from `auth::SignedIn`.
pub mod adverse;
pub mod audit_export;
pub mod bulk_results;
pub mod candidate_export;
pub mod evidence;
pub mod insights_export;
pub mod partner_logos;
pub mod report_files;
pub mod selection_export;

/// A CSV file to download, or the error's status and message.
pub fn csv_response(
    made: Result<(String, String), crate::error::AppError>,
) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    match made {
        Ok((csv, name)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            csv,
        )
            .into_response(),
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, e.to_string()).into_response()
        }
    }
}
