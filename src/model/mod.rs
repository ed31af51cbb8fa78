//! Shared domain types (no tokio; sqlx only for the text enums' column types on the server):
//! parsed once at the edge, valid from then on.
#[macro_use]
mod text_enum;
mod adverse;
mod alerts;
mod audit;
mod background;
mod bulk;
mod candidate;
mod email;
mod embed;
mod events;
mod html;
mod insights;
mod integrity;
mod jobs;
mod policy;
mod review;
mod role;
mod stage;
mod verification;

pub use adverse::*;
pub use alerts::{AlertKind, AlertSettingsView, AlertSummary};
pub use audit::{AuditEntry, AuditEventType, ChainReport, EvidenceEvent, EvidencePack};
pub use background::*;
pub use bulk::*;
pub use candidate::*;
pub use email::Email;
pub use embed::IntegrationSummary;
pub use events::{ChangeKind, ChangeNotice};
pub use html::{escape_html, push_escaped};
pub use insights::*;
pub use integrity::*;
pub use jobs::{JobKind, JobState};
pub use policy::*;
pub use review::*;
pub use role::{Permission, Role};
pub use stage::Stage;
pub use verification::{
    capitalised, event_applies, reason_code_label, EventState, RiskTier, VerificationEventType,
    VerificationStatus,
};
