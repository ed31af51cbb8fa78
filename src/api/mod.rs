//! Server functions: session → authorize → service → DTO. No SQL here.
pub mod audit;
pub mod background;
pub mod auth;
pub mod candidates;
pub mod deliveries;
pub mod reconciliation;
pub mod review;
