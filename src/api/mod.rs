//! Server functions: session → authorize → service → DTO. No SQL here.
pub mod auth;
pub mod candidates;
