//! One file per page.
pub mod adverse;
pub mod adverse_settings;
pub mod audit;
pub mod background;
pub mod candidates;
pub mod deliveries;
pub mod drift;
pub mod evidence;
pub mod exceptions;
pub mod interviews;
pub mod login;
pub mod not_found;
pub mod partners;
pub mod policy;
pub mod profile;
pub mod review_queue;
pub mod settings;
