//! Shared domain types (no sqlx, no tokio): parsed once at the edge, valid from then on.
mod audit;
mod background;
mod candidate;
mod email;
mod integrity;
mod policy;
mod review;
mod role;
mod stage;
mod verification;

pub use audit::{AuditEntry, AuditEventType, ChainReport, EvidenceEvent, EvidencePack};
pub use background::*;
pub use candidate::*;
pub use email::Email;
pub use integrity::*;
pub use policy::*;
pub use review::*;
pub use role::{Permission, Role};
pub use stage::Stage;
pub use verification::{
    event_applies, reason_code_label, RiskTier, VerificationEventType, VerificationStatus,
};
