//! Inbound partner webhooks: signature checks, durable storage before the 2xx.
pub mod background;
pub mod integrity;
pub mod signature;
pub mod verification;
