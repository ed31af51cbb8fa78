//! The verification policy in seed 001's YAML format: parsing, validation that points at the line
//! and field that is wrong, and the gate decision for a stage move.
use crate::model::{AuditEventType, PolicyProblem, Role, Stage, VerificationStatus};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

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
    ats_fields: serde_norway::Value,
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

/// The line (1-based) of every field and list item of a YAML text, by its path: `slas.
/// manual_review_high_risk_hours`, `stage_gates.offer`, `stage_gates.offer.required_status.1`,
/// `logging.events.0`. Taken from the parser's event spans, so a value is found where it is,
/// whatever the layout (flow lists, comments, repeated words). Empty when the text does not parse.
pub fn field_lines(text: &str) -> HashMap<String, usize> {
    use saphyr_parser::{Event, Parser};
    enum Frame {
        /// A mapping, with the key whose value comes next (None: a key comes next).
        Map(Option<String>),
        /// A sequence, with the index of the next item.
        Seq(usize),
    }
    fn path(stack: &[Frame], last: &str) -> String {
        let mut parts: Vec<String> = stack
            .iter()
            .take(stack.len().saturating_sub(1))
            .map(|f| match f {
                Frame::Map(k) => k.clone().unwrap_or_default(),
                Frame::Seq(i) => i.to_string(),
            })
            .collect();
        parts.push(last.to_string());
        parts.join(".")
    }
    /// A value at the top frame is complete: the mapping waits for a key, the sequence moves on.
    fn done(stack: &mut [Frame]) {
        match stack.last_mut() {
            Some(Frame::Map(key)) => *key = None,
            Some(Frame::Seq(i)) => *i += 1,
            None => {}
        }
    }
    let mut lines = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else {
            return HashMap::new();
        };
        let line = span.start.line();
        let starts = matches!(
            event,
            Event::Scalar(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
                | Event::Alias(_)
        );
        if starts {
            // Where this node sits: a key, a key's value, or a list item.
            match stack.last_mut() {
                Some(Frame::Map(key @ None)) => {
                    if let Event::Scalar(k, ..) = &event {
                        *key = Some(k.to_string());
                        lines.insert(path(&stack, k), line);
                    }
                    continue;
                }
                Some(Frame::Seq(i)) => {
                    let i = i.to_string();
                    lines.insert(path(&stack, &i), line);
                }
                _ => {}
            }
        }
        match event {
            Event::MappingStart(..) => stack.push(Frame::Map(None)),
            Event::SequenceStart(..) => stack.push(Frame::Seq(0)),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                done(&mut stack);
            }
            Event::Scalar(..) | Event::Alias(_) => done(&mut stack),
            _ => {}
        }
    }
    lines
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
    let raw: RawPolicy = serde_norway::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(0);
        let msg = e.to_string();
        // The parser appends " at line X column Y"; the line is shown separately.
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        vec![problem(line, "", msg)]
    })?;
    let _ = raw.ats_fields;
    // Lines are looked up only when something is wrong (moves parse the policy in force).
    let lines = std::cell::OnceCell::new();
    let line_of = |path: &str| {
        lines
            .get_or_init(|| field_lines(text))
            .get(path)
            .copied()
            .unwrap_or(0)
    };
    let mut problems = Vec::new();
    if raw.version < 1 {
        problems.push(problem(line_of("version"), "version", "must be 1 or more"));
    }
    if raw.policy_name.trim().is_empty() {
        problems.push(problem(
            line_of("policy_name"),
            "policy_name",
            "must not be empty",
        ));
    }
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
                line_of(&format!("slas.{field}")),
                format!("slas.{field}"),
                format!("is negative ({value}); SLAs must be zero or more"),
            ));
        }
    }
    let mut stage_gates = BTreeMap::new();
    for (stage_name, gate) in &raw.stage_gates {
        let stage_line = line_of(&format!("stage_gates.{stage_name}"));
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
        for (i, s) in gate.required_status.iter().enumerate() {
            match s.parse::<VerificationStatus>() {
                Ok(v) => statuses.push(v),
                Err(_) => problems.push(problem(
                    line_of(&format!("stage_gates.{stage_name}.required_status.{i}")),
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
    let ttl = raw.exceptions.override_ttl_hours;
    if !(1..=MAX_OVERRIDE_TTL_HOURS).contains(&ttl) {
        problems.push(problem(
            line_of("exceptions.override_ttl_hours"),
            "exceptions.override_ttl_hours",
            format!("is {ttl}; it must be between 1 and {MAX_OVERRIDE_TTL_HOURS} hours"),
        ));
    }
    let mut roles = Vec::new();
    for (i, r) in raw.exceptions.override_roles_allowed.iter().enumerate() {
        match r.parse::<Role>() {
            Ok(role) => roles.push(role),
            Err(_) => problems.push(problem(
                line_of(&format!("exceptions.override_roles_allowed.{i}")),
                "exceptions.override_roles_allowed",
                format!(
                    "'{r}' is not a role; roles are {}",
                    Role::ALL.map(|r| r.as_str()).join(", ")
                ),
            )),
        }
    }
    let mut events = Vec::new();
    for (i, e) in raw.logging.events.iter().enumerate() {
        match e.parse::<AuditEventType>() {
            Ok(ev) => events.push(ev),
            Err(_) => problems.push(problem(
                line_of(&format!("logging.events.{i}")),
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

    #[test]
    fn field_lines_come_from_the_parser_whatever_the_layout() {
        let text = "# offer: not this line\nversion: 1\nstage_gates:\n  offer: {required_status: [verified,\n    verifed]}\n  hired:\n    required_status:\n      - verified # offer\n      - verified\nlogging:\n  events: [stage_changed, stage_changed]\n";
        let lines = field_lines(text);
        assert_eq!(lines["version"], 2);
        assert_eq!(
            lines["stage_gates.offer"], 4,
            "the key, not the comment above"
        );
        assert_eq!(lines["stage_gates.offer.required_status.1"], 5);
        assert_eq!(lines["stage_gates.hired.required_status.0"], 8);
        assert_eq!(lines["stage_gates.hired.required_status.1"], 9);
        assert_eq!(lines["logging.events.1"], 11);
        assert!(field_lines("a: [unclosed").is_empty());
    }
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
