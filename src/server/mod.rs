//! Everything that runs only on the server: config, database, auth, services, router and the CLI.
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod router;
pub mod security;
pub mod services;
pub mod state;

pub use cli::main;
