//! The verification policy in seed 001's YAML format: parsing, validation that points at the line
//! and field that is wrong, and the gate decision for a stage move.
use crate::model::{AuditEventType, PolicyProblem, Role, Stage, VerificationStatus};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The seed's policy, shipped as the default (`CLEARANCE_POLICY_FILE` replaces it).
pub const DEFAULT_POLICY_YAML: &str = include_str!("policy_default.yaml");
/// A stricter policy for the demo's remote engineering jobs.
pub const HIGH_ASSURANCE_POLICY_YAML: &str = include_str!("policy_high_assurance.yaml");

/// The longest exception a policy may allow.
pub const MAX_OVERRIDE_TTL_HOURS: i64 = 168;

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub version: i64,
    pub policy_name: String,
    pub auto_initiate_after_stage_change_seconds: i64,
    pub manual_review_high_risk_hours: f64,
    pub manual_review_medium_risk_hours: f64,
    /// Stage → statuses that let a candidate enter it.
    pub stage_gates: BTreeMap<Stage, Vec<VerificationStatus>>,
    pub allow_time_bound_override: bool,
    pub override_ttl_hours: i64,
    pub override_roles_allowed: Vec<Role>,
    pub override_logging_required_fields: Vec<String>,
    pub immutable_event_log_required: bool,
    pub events: Vec<AuditEventType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: i64,
    policy_name: String,
    #[serde(default)]
    ats_fields: serde_yaml::Value,
    slas: RawSlas,
    #[serde(default)]
    stage_gates: BTreeMap<String, RawGate>,
    exceptions: RawExceptions,
    logging: RawLogging,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlas {
    auto_initiate_after_stage_change_seconds: i64,
    manual_review_high_risk_hours: f64,
    manual_review_medium_risk_hours: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    required_status: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExceptions {
    allow_time_bound_override: bool,
    override_ttl_hours: i64,
    override_roles_allowed: Vec<String>,
    #[serde(default)]
    override_logging_required_fields: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogging {
    immutable_event_log_required: bool,
    #[serde(default)]
    events: Vec<String>,
}

/// The 1-based line of the first line at or after `after` whose key or list item is `token`.
fn line_of(text: &str, token: &str, after: usize) -> usize {
    let found = text
        .lines()
        .enumerate()
        .skip(after.saturating_sub(1))
        .find(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ").trim();
            t.starts_with(&format!("{token}:"))
                || t == token
                || t.contains(&format!("[{token}"))
                || t.contains(&format!(" {token},"))
                || t.contains(&format!(" {token}]"))
                || t.contains(&format!(",{token}"))
        });
    found.map(|(i, _)| i + 1).unwrap_or(0)
}

fn problem(line: usize, field: impl Into<String>, message: impl Into<String>) -> PolicyProblem {
    PolicyProblem {
        line,
        field: field.into(),
        message: message.into(),
    }
}

/// Parses and validates a policy; every problem names its line and field.
pub fn parse(text: &str) -> Result<Policy, Vec<PolicyProblem>> {
    let raw: RawPolicy = serde_yaml::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(0);
        let msg = e.to_string();
        // serde_yaml appends " at line X column Y"; the line is shown separately.
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        vec![problem(line, "", msg)]
    })?;
    let _ = raw.ats_fields;
    let mut problems = Vec::new();
    if raw.version < 1 {
        problems.push(problem(
            line_of(text, "version", 1),
            "version",
            "must be 1 or more",
        ));
    }
    if raw.policy_name.trim().is_empty() {
        problems.push(problem(
            line_of(text, "policy_name", 1),
            "policy_name",
            "must not be empty",
        ));
    }
    let slas_line = line_of(text, "slas", 1);
    for (field, value) in [
        (
            "auto_initiate_after_stage_change_seconds",
            raw.slas.auto_initiate_after_stage_change_seconds as f64,
        ),
        (
            "manual_review_high_risk_hours",
            raw.slas.manual_review_high_risk_hours,
        ),
        (
            "manual_review_medium_risk_hours",
            raw.slas.manual_review_medium_risk_hours,
        ),
    ] {
        if value < 0.0 {
            problems.push(problem(
                line_of(text, field, slas_line),
                format!("slas.{field}"),
                format!("is negative ({value}); SLAs must be zero or more"),
            ));
        }
    }
    let gates_line = line_of(text, "stage_gates", 1);
    let mut stage_gates = BTreeMap::new();
    for (stage_name, gate) in &raw.stage_gates {
        let stage_line = line_of(text, stage_name, gates_line);
        let stage = match stage_name.parse::<Stage>() {
            Ok(s) => Some(s),
            Err(_) => {
                problems.push(problem(
                    stage_line,
                    format!("stage_gates.{stage_name}"),
                    format!(
                        "'{stage_name}' is not a stage; stages are {}",
                        Stage::ALL.map(|s| s.as_str()).join(", ")
                    ),
                ));
                None
            }
        };
        let mut statuses = Vec::new();
        for s in &gate.required_status {
            match s.parse::<VerificationStatus>() {
                Ok(v) => statuses.push(v),
                Err(_) => problems.push(problem(
                    line_of(text, s, stage_line),
                    format!("stage_gates.{stage_name}.required_status"),
                    format!(
                        "'{s}' is not a verification status; statuses are {}",
                        VerificationStatus::ALL.map(|s| s.as_str()).join(", ")
                    ),
                )),
            }
        }
        if gate.required_status.is_empty() {
            problems.push(problem(
                stage_line,
                format!("stage_gates.{stage_name}.required_status"),
                "lists no status; a gate nobody can pass would block every move",
            ));
        }
        if let Some(stage) = stage {
            stage_gates.insert(stage, statuses);
        }
    }
    let ex_line = line_of(text, "exceptions", 1);
    let ttl = raw.exceptions.override_ttl_hours;
    if !(1..=MAX_OVERRIDE_TTL_HOURS).contains(&ttl) {
        problems.push(problem(
            line_of(text, "override_ttl_hours", ex_line),
            "exceptions.override_ttl_hours",
            format!("is {ttl}; it must be between 1 and {MAX_OVERRIDE_TTL_HOURS} hours"),
        ));
    }
    let mut roles = Vec::new();
    for r in &raw.exceptions.override_roles_allowed {
        match r.parse::<Role>() {
            Ok(role) => roles.push(role),
            Err(_) => problems.push(problem(
                line_of(text, r, ex_line),
                "exceptions.override_roles_allowed",
                format!(
                    "'{r}' is not a role; roles are {}",
                    Role::ALL.map(|r| r.as_str()).join(", ")
                ),
            )),
        }
    }
    let log_line = line_of(text, "logging", 1);
    let mut events = Vec::new();
    for e in &raw.logging.events {
        match e.parse::<AuditEventType>() {
            Ok(ev) => events.push(ev),
            Err(_) => problems.push(problem(
                line_of(text, e, log_line),
                "logging.events",
                format!("'{e}' is not an event Clearance records"),
            )),
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(problems);
    }
    Ok(Policy {
        version: raw.version,
        policy_name: raw.policy_name.trim().to_string(),
        auto_initiate_after_stage_change_seconds: raw.slas.auto_initiate_after_stage_change_seconds,
        manual_review_high_risk_hours: raw.slas.manual_review_high_risk_hours,
        manual_review_medium_risk_hours: raw.slas.manual_review_medium_risk_hours,
        stage_gates,
        allow_time_bound_override: raw.exceptions.allow_time_bound_override,
        override_ttl_hours: ttl,
        override_roles_allowed: roles,
        override_logging_required_fields: raw.exceptions.override_logging_required_fields,
        immutable_event_log_required: raw.logging.immutable_event_log_required,
        events,
    })
}

/// What the gate says about moving a candidate into a stage.
#[derive(Debug, Clone, PartialEq)]
pub enum GateDecision {
    /// No gate on that stage, or the status satisfies it.
    Allowed,
    /// The status does not satisfy the gate, but an exception (its id) allows the move.
    AllowedByException(i64),
    /// Refused: the statuses that would have passed.
    Blocked { required: Vec<VerificationStatus> },
}

/// An exception as the gate sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveException {
    pub id: i64,
    pub stage: Stage,
    pub expiry_at: DateTime<Utc>,
}

/// The gate decision for moving into `to` with `status`, given the candidate's exceptions.
/// An exception counts only while `now < expiry_at`: expiry is enforced at the moment of the move.
pub fn decide(
    policy: &Policy,
    to: Stage,
    status: VerificationStatus,
    exceptions: &[ActiveException],
    now: DateTime<Utc>,
) -> GateDecision {
    let Some(required) = policy.stage_gates.get(&to) else {
        return GateDecision::Allowed;
    };
    if required.contains(&status) {
        return GateDecision::Allowed;
    }
    match exceptions
        .iter()
        .find(|e| e.stage == to && now < e.expiry_at)
    {
        Some(e) if policy.allow_time_bound_override => GateDecision::AllowedByException(e.id),
        _ => GateDecision::Blocked {
            required: required.clone(),
        },
    }
}

/// The reason codes of a blocked move, as logged and shown.
pub fn blocked_reason_codes(status: VerificationStatus) -> Vec<String> {
    vec![format!("verification_{}", status.as_str())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_shipped_policies_are_valid() {
        let p = parse(DEFAULT_POLICY_YAML).unwrap();
        assert_eq!(p.policy_name, "ats-embedded-verification-status");
        assert_eq!(p.override_ttl_hours, 24);
        assert_eq!(p.auto_initiate_after_stage_change_seconds, 60);
        assert_eq!(
            p.stage_gates[&Stage::OnsiteOrPanelInterview],
            vec![VerificationStatus::Verified]
        );
        assert_eq!(p.override_roles_allowed, vec![Role::SecurityReviewer]);
        assert_eq!(p.events.len(), 10);
        let h = parse(HIGH_ASSURANCE_POLICY_YAML).unwrap();
        assert_eq!(h.policy_name, "Remote SWE High Assurance");
    }

    fn lines(text: &str) -> Vec<(usize, String, String)> {
        parse(text)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.line, p.field, p.message))
            .collect()
    }

    #[test]
    fn problems_name_their_line_and_field() {
        let bad_stage = DEFAULT_POLICY_YAML.replace("  offer:", "  offre:");
        let p = lines(&bad_stage);
        assert_eq!(p.len(), 1, "{p:?}");
        let expected_line = bad_stage
            .lines()
            .position(|l| l.contains("offre:"))
            .unwrap()
            + 1;
        assert_eq!(p[0].0, expected_line);
        assert_eq!(p[0].1, "stage_gates.offre");
        assert!(p[0].2.contains("'offre' is not a stage"));

        let bad_status = DEFAULT_POLICY_YAML.replacen("[verified]", "[verifed]", 1);
        let p = lines(&bad_status);
        let expected_line = bad_status
            .lines()
            .position(|l| l.contains("verifed"))
            .unwrap()
            + 1;
        assert_eq!(
            (p[0].0, p[0].1.as_str()),
            (
                expected_line,
                "stage_gates.onsite_or_panel_interview.required_status"
            )
        );

        let negative = DEFAULT_POLICY_YAML.replace(
            "manual_review_high_risk_hours: 4",
            "manual_review_high_risk_hours: -4",
        );
        let p = lines(&negative);
        let expected_line = negative.lines().position(|l| l.contains("-4")).unwrap() + 1;
        assert_eq!(
            (p[0].0, p[0].1.as_str()),
            (expected_line, "slas.manual_review_high_risk_hours")
        );

        let long = DEFAULT_POLICY_YAML.replace("override_ttl_hours: 24", "override_ttl_hours: 720");
        let p = lines(&long);
        assert_eq!(p[0].1, "exceptions.override_ttl_hours");
        assert!(p[0].2.contains("between 1 and 168"));

        let role =
            DEFAULT_POLICY_YAML.replace("[security_reviewer]", "[security_reviewer, intern]");
        assert!(lines(&role)[0].2.contains("'intern' is not a role"));

        let syntax = "version: 1\npolicy_name: x\nslas: [\n";
        let p = lines(syntax);
        assert!(p[0].0 >= 3, "{p:?}");

        let unknown_key = DEFAULT_POLICY_YAML.replace("logging:", "loging:");
        assert!(lines(&unknown_key)[0].2.contains("unknown field"));
    }

    #[test]
    fn gate_decisions_over_every_stage_status_and_exception() {
        let p = parse(DEFAULT_POLICY_YAML).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        for to in Stage::ALL {
            for status in VerificationStatus::ALL {
                let gate = p.stage_gates.get(&to);
                let passes = gate.is_none_or(|g| g.contains(&status));
                let none = decide(&p, to, status, &[], now);
                assert_eq!(none == GateDecision::Allowed, passes, "{to:?} {status:?}");
                let live = ActiveException {
                    id: 7,
                    stage: to,
                    expiry_at: now + chrono::Duration::hours(1),
                };
                let with = decide(&p, to, status, &[live], now);
                if passes {
                    assert_eq!(with, GateDecision::Allowed);
                } else {
                    assert_eq!(with, GateDecision::AllowedByException(7));
                }
                // An exception for another stage does not help.
                let other = ActiveException {
                    id: 8,
                    stage: if to == Stage::Offer {
                        Stage::Hired
                    } else {
                        Stage::Offer
                    },
                    expiry_at: now + chrono::Duration::hours(1),
                };
                assert_eq!(
                    decide(&p, to, status, &[other], now) == GateDecision::Allowed,
                    passes
                );
            }
        }
    }

    #[test]
    fn exceptions_expire_at_the_boundary() {
        let p = parse(DEFAULT_POLICY_YAML).unwrap();
        let expiry = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        let e = [ActiveException {
            id: 1,
            stage: Stage::Offer,
            expiry_at: expiry,
        }];
        let before = expiry - chrono::Duration::milliseconds(1);
        assert_eq!(
            decide(&p, Stage::Offer, VerificationStatus::NotStarted, &e, before),
            GateDecision::AllowedByException(1)
        );
        assert!(matches!(
            decide(&p, Stage::Offer, VerificationStatus::NotStarted, &e, expiry),
            GateDecision::Blocked { .. }
        ));
        let mut closed = p.clone();
        closed.allow_time_bound_override = false;
        assert!(matches!(
            decide(
                &closed,
                Stage::Offer,
                VerificationStatus::NotStarted,
                &e,
                before
            ),
            GateDecision::Blocked { .. }
        ));
    }
}
