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

/// What saving a policy did: the new version, or why it was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySaveResult {
    pub version: Option<i64>,
    pub problems: Vec<PolicyProblem>,
}

/// A line of a diff between two policy versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffLine {
    Same(String),
    Added(String),
    Removed(String),
}

/// A line diff (longest common subsequence) from `old` to `new`.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n && j < m {
        if a[i] == b[j] {
            out.push(DiffLine::Same(a[i].to_string()));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(DiffLine::Removed(a[i].to_string()));
            i += 1;
        } else {
            out.push(DiffLine::Added(b[j].to_string()));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| DiffLine::Removed(l.to_string())));
    out.extend(b[j..].iter().map(|l| DiffLine::Added(l.to_string())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_show_what_changed() {
        let d = diff_lines("a\nb\nc\n", "a\nB\nc\nd\n");
        assert_eq!(
            d,
            vec![
                DiffLine::Same("a".into()),
                DiffLine::Removed("b".into()),
                DiffLine::Added("B".into()),
                DiffLine::Same("c".into()),
                DiffLine::Added("d".into()),
            ]
        );
        assert!(diff_lines("x", "x")
            .iter()
            .all(|l| matches!(l, DiffLine::Same(_))));
    }

    #[test]
    fn problems_read_well() {
        let p = PolicyProblem {
            line: 17,
            field: "stage_gates.offre".into(),
            message: "'offre' is not a stage".into(),
        };
        assert_eq!(
            p.to_string(),
            "Line 17, stage_gates.offre: 'offre' is not a stage"
        );
    }
}
