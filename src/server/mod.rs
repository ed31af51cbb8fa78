//! Everything that runs only on the server: config, database, auth, services, router and the CLI.
pub mod audit;
pub mod auth;
pub mod business_hours;
pub mod cli;
pub mod config;
pub mod db;
pub mod downloads;
pub mod embed_token;
pub mod group_commit;
pub mod jobs;
pub mod live;
pub mod mail;
pub mod metrics;
pub mod partners;
pub mod policy;
pub mod router;
pub mod secrets;
pub mod security;
pub mod services;
#[cfg(feature = "sim")]
pub mod sim;
pub mod state;
pub mod tasks;
pub mod webhooks;
pub mod widget;

pub use cli::main;
