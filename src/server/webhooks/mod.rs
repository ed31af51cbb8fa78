//! Inbound machine-to-machine endpoints: signature checks, durable storage before 2xx.
pub mod signature;
pub mod verification;
