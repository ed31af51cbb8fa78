//! Business operations: permission-checked callers in, plain DTOs out; SQL stays in `db`.
pub mod access;
pub mod audit;
pub mod background;
pub mod candidates;
pub mod deliveries;
pub mod demo;
pub mod evidence;
pub mod export;
pub mod import;
pub mod integrity;
pub mod policy;
pub mod reconciliation;
pub mod retention;
pub mod review;
pub mod secrets;
pub mod users;
pub mod verification;
