//! Server functions: the signed-in user → the service (which checks what they may do) → its DTO.
//! No rules, no permissions and no SQL here.
pub mod adverse;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod background;
pub mod bulk;
pub mod candidates;
pub mod deliveries;
pub mod embed;
pub mod insights;
pub mod integrity;
pub mod policy;
pub mod reconciliation;
pub mod review;
