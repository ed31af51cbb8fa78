//! Server functions: session → authorize → service → DTO. No SQL here.
pub mod audit;
pub mod auth;
pub mod background;
pub mod candidates;
pub mod deliveries;
pub mod integrity;
pub mod policy;
pub mod reconciliation;
pub mod review;
