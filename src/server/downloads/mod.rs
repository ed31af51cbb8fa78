//! Plain axum routes that hand signed-in users files: evidence packs, the audit export, a
//! candidate's data archive, integrity report files and partner logos. Each names its permission
//! rule at the top; the user comes from `auth::SignedIn`.
pub mod adverse;
pub mod audit_export;
pub mod candidate_export;
pub mod evidence;
pub mod insights_export;
pub mod partner_logos;
pub mod report_files;
