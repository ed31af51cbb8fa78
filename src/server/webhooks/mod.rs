//! Plain axum routes: inbound partner webhooks (signature checks, durable storage before 2xx) and downloads.
pub mod background;
pub mod evidence;
pub mod export;
pub mod integrity;
pub mod signature;
pub mod verification;
