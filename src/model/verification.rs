//! Identity-verification statuses shown on the badge.
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    NotStarted,
    InProgress,
    Verified,
    Failed,
    NeedsReview,
    Expired,
}

impl VerificationStatus {
    pub const ALL: [VerificationStatus; 6] = [
        VerificationStatus::NotStarted,
        VerificationStatus::InProgress,
        VerificationStatus::Verified,
        VerificationStatus::Failed,
        VerificationStatus::NeedsReview,
        VerificationStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::NotStarted => "not_started",
            VerificationStatus::InProgress => "in_progress",
            VerificationStatus::Verified => "verified",
            VerificationStatus::Failed => "failed",
            VerificationStatus::NeedsReview => "needs_review",
            VerificationStatus::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VerificationStatus::NotStarted => "Not started",
            VerificationStatus::InProgress => "In progress",
            VerificationStatus::Verified => "Verified",
            VerificationStatus::Failed => "Failed",
            VerificationStatus::NeedsReview => "Needs review",
            VerificationStatus::Expired => "Expired",
        }
    }
}

impl fmt::Display for VerificationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VerificationStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VerificationStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s.trim())
            .ok_or_else(|| format!("unknown verification status '{s}'"))
    }
}
