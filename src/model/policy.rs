//! Verification policies (seed 001's YAML) as users see them: versions, problems, exceptions.
use super::Stage;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One thing wrong with a policy text, pointing at where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyProblem {
    /// 1-based line in the text (0 when it cannot be placed).
    pub line: usize,
    /// Dotted path of the field, e.g. `stage_gates.offer.required_status`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.field.is_empty()) {
            (0, true) => write!(f, "{}", self.message),
            (0, false) => write!(f, "{}: {}", self.field, self.message),
            (l, true) => write!(f, "Line {l}: {}", self.message),
            (l, false) => write!(f, "Line {l}, {}: {}", self.field, self.message),
        }
    }
}

/// One saved version of a named policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub id: i64,
    pub policy_name: String,
    pub version: i64,
    pub yaml: String,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub change_ticket: Option<String>,
}

/// A stage exception on the profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageException {
    pub id: i64,
    pub stage: Stage,
    pub reason_code: String,
    pub approved_by: String,
    pub approved_at: DateTime<Utc>,
    pub expiry_at: DateTime<Utc>,
    pub policy_name: String,
    pub policy_version: i64,
}
