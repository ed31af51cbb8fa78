//! Business operations: permission-checked callers in, plain DTOs out; SQL stays in `db`.
pub mod access;
pub mod adverse;
pub mod alerts;
pub mod audit;
pub mod background;
pub mod bulk;
pub mod candidates;
pub mod deliveries;
pub mod demo;
pub mod embed;
pub mod events;
pub mod evidence;
pub mod export;
pub mod import;
pub mod insights;
pub mod integrity;
pub mod kept;
pub mod metrics;
pub mod policy;
pub mod reconciliation;
pub mod refusal;
pub mod retention;
pub mod review;
pub mod secrets;
pub mod users;
pub mod verification;

use crate::error::AppError;

/// Records as CSV text.
pub(crate) fn csv_text(records: Vec<Vec<String>>) -> Result<String, AppError> {
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "could not write a CSV");
        AppError::Internal
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    for r in records {
        out.write_record(&r).map_err(|e| failed(&e))?;
    }
    let bytes = out.into_inner().map_err(|e| failed(e.error()))?;
    String::from_utf8(bytes).map_err(|e| failed(&e))
}
