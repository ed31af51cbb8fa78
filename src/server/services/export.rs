//! The audit export: one row per application with its stage timeline, verification status,
//! risk tier, approvals and evidence-pack links — enough to answer "who approved this candidate?".
use crate::error::Invalid;
use crate::model::Stage;
use crate::server::db::{
    self,
    export::{ExportRow, TimelineRow},
    Db,
};
use axum::body::Bytes;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

pub const BATCH: i64 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExportRequest {
    pub from: DateTime<Utc>,
    /// Exclusive.
    pub to: DateTime<Utc>,
    pub job_id: Option<i64>,
    pub format: Format,
}

/// Starts an audit export for a person (admins and security reviewers): the request checked, and
/// the download recorded in the audit log before a byte is sent.
pub async fn start(
    db: &Db,
    user: &crate::model::CurrentUser,
    from: Option<&str>,
    to: Option<&str>,
    job: Option<&str>,
    format: Option<&str>,
) -> Result<ExportRequest, crate::error::AppError> {
    use crate::model::AuditEventType;
    use crate::server::audit::{Actor, NewAuditEvent};
    super::access::require(user, crate::model::Permission::ViewAudit)?;
    let req = parse_request(from, to, job, format)?;
    let event = NewAuditEvent::new(
        Actor::from(user),
        "audit_log",
        "export",
        AuditEventType::AuditExported,
        serde_json::json!({ "from": from, "to": to, "job_id": req.job_id, "format": format.unwrap_or("csv") }),
    );
    db::audit::append(db, &event).await?;
    Ok(req)
}

/// How many applications an export with these filters would hold (admins and security reviewers).
pub async fn count(
    db: &Db,
    user: &crate::model::CurrentUser,
    from: &str,
    to: &str,
    job: Option<&str>,
) -> Result<i64, crate::error::AppError> {
    super::access::require(user, crate::model::Permission::ViewAudit)?;
    let req = parse_request(Some(from), Some(to), job, None)?;
    Ok(db::export::count(db, req.from, req.to, req.job_id).await?)
}

/// Reads `from`/`to` (YYYY-MM-DD, `to` inclusive), `job` and `format` with reasons for bad values.
pub fn parse_request(
    from: Option<&str>,
    to: Option<&str>,
    job: Option<&str>,
    format: Option<&str>,
) -> Result<ExportRequest, Invalid> {
    let date = |name: &str, v: Option<&str>| -> Result<NaiveDate, String> {
        let v = v
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("{name} is required (YYYY-MM-DD)"))?;
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| format!("{name} '{v}' is not a date (YYYY-MM-DD)"))
    };
    let from = date("from", from)?;
    let to = date("to", to)?;
    if to < from {
        return Err(Invalid::new("to is before from"));
    }
    let job_id = match job.filter(|s| !s.is_empty()) {
        Some(j) => Some(
            j.parse::<i64>()
                .map_err(|_| format!("job '{j}' is not a job id"))?,
        ),
        None => None,
    };
    let format = match format.unwrap_or("csv") {
        "csv" => Format::Csv,
        "json" => Format::Json,
        other => return Err(Invalid(format!("format '{other}' is not csv or json"))),
    };
    let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    Ok(ExportRequest {
        from: start(from).ok_or(Invalid::new("bad from date"))?,
        to: start(to.succ_opt().ok_or(Invalid::new("bad to date"))?)
            .ok_or(Invalid::new("bad to date"))?,
        job_id,
        format,
    })
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ExportRecord {
    pub candidate_id: i64,
    pub candidate: String,
    pub email: String,
    pub job: String,
    pub stage: String,
    /// "applied 2026-11-21T10:00:00Z by Riley Recruiter; phone_screen …"
    pub stage_timeline: String,
    /// Moves into offer or hired, with who made them: the approvals.
    pub approved_by: String,
    pub verification_status: String,
    pub risk_tier: String,
    pub verified_at: String,
    pub reviewer: String,
    pub evidence_pack_url: String,
    pub provider_evidence_url: String,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn record(row: &ExportRow, timeline: &[&TimelineRow], public_url: &str) -> ExportRecord {
    let step = |t: &&TimelineRow| {
        format!(
            "{} {} by {}",
            t.to_stage,
            ts(t.changed_at),
            t.actor_name.as_deref().unwrap_or("system")
        )
    };
    ExportRecord {
        candidate_id: row.candidate_id,
        candidate: format!("{} {}", row.first_name, row.last_name),
        email: row.email.clone(),
        job: row.job_title.clone(),
        stage: row.stage.as_str().to_string(),
        stage_timeline: timeline.iter().map(step).collect::<Vec<_>>().join("; "),
        approved_by: timeline
            .iter()
            .filter(|t| matches!(t.to_stage, Stage::Offer | Stage::Hired))
            .map(step)
            .collect::<Vec<_>>()
            .join("; "),
        verification_status: row.verification_status.as_str().to_string(),
        risk_tier: row
            .verification_risk_tier
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        verified_at: row.verification_verified_at.map(ts).unwrap_or_default(),
        reviewer: String::new(),
        evidence_pack_url: row
            .verification_session_id
            .as_ref()
            .map(|s| format!("{public_url}/evidence/{s}"))
            .unwrap_or_default(),
        provider_evidence_url: row.provider_evidence_url.clone().unwrap_or_default(),
    }
}

pub const CSV_HEADER: [&str; 13] = [
    "candidate_id",
    "candidate",
    "email",
    "job",
    "stage",
    "stage_timeline",
    "approved_by",
    "verification_status",
    "risk_tier",
    "verified_at",
    "reviewer",
    "evidence_pack_url",
    "provider_evidence_url",
];

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is
/// prefixed with `'`, so it shows as the text it is (OWASP "CSV injection").
pub fn csv_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}").into(),
        _ => value.into(),
    }
}

fn neutralised(r: &ExportRecord) -> ExportRecord {
    let c = |s: &String| csv_cell(s).into_owned();
    ExportRecord {
        candidate_id: r.candidate_id,
        candidate: c(&r.candidate),
        email: c(&r.email),
        job: c(&r.job),
        stage: c(&r.stage),
        stage_timeline: c(&r.stage_timeline),
        approved_by: c(&r.approved_by),
        verification_status: c(&r.verification_status),
        risk_tier: c(&r.risk_tier),
        verified_at: c(&r.verified_at),
        reviewer: c(&r.reviewer),
        evidence_pack_url: c(&r.evidence_pack_url),
        provider_evidence_url: c(&r.provider_evidence_url),
    }
}

fn csv_chunk(records: &[ExportRecord], header: bool) -> Bytes {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    if header {
        let _ = w.write_record(CSV_HEADER);
    }
    for r in records {
        let _ = w.serialize(neutralised(r));
    }
    Bytes::from(w.into_inner().unwrap_or_default())
}

fn json_chunk(records: &[ExportRecord], first: bool, last: bool) -> Bytes {
    let mut out = String::new();
    if first {
        out.push('[');
    }
    for (i, r) in records.iter().enumerate() {
        if !(first && i == 0) {
            out.push(',');
        }
        out.push('\n');
        out.push_str(&serde_json::to_string(r).unwrap_or_default());
    }
    if last {
        out.push_str("\n]\n");
    }
    Bytes::from(out)
}

struct Cursor {
    db: Db,
    req: ExportRequest,
    public_url: String,
    after: i64,
    started: bool,
    done: bool,
}

/// The export as a stream of chunks: one database batch at a time, never the whole result.
pub fn stream(
    db: Db,
    req: ExportRequest,
    public_url: String,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    let cursor = Cursor {
        db,
        req,
        public_url,
        after: 0,
        started: false,
        done: false,
    };
    use futures::StreamExt as _;
    futures::stream::unfold(cursor, |mut c| async move {
        if c.done {
            return None;
        }
        let rows = match db::export::batch(
            &c.db,
            c.req.from,
            c.req.to,
            c.req.job_id,
            c.after,
            BATCH,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "audit export failed mid-stream");
                c.done = true;
                return Some((Err(std::io::Error::other("export failed")), c));
            }
        };
        let last = (rows.len() as i64) < BATCH;
        let timelines = match (rows.first(), rows.last()) {
            (Some(f), Some(l)) => db::export::timelines(&c.db, f.application_id, l.application_id)
                .await
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let records: Vec<ExportRecord> = rows
            .iter()
            .map(|r| {
                let t: Vec<&TimelineRow> = timelines
                    .iter()
                    .filter(|t| t.application_id == r.application_id)
                    .collect();
                record(r, &t, &c.public_url)
            })
            .collect();
        if let Some(l) = rows.last() {
            c.after = l.application_id;
        }
        let first = !c.started;
        c.started = true;
        c.done = last;
        let chunk = match c.req.format {
            Format::Csv => csv_chunk(&records, first),
            Format::Json => json_chunk(&records, first, last),
        };
        Some((Ok(chunk), c))
    })
    // Fused: a body that is polled again after its end (the compression layer does) must keep
    // answering "ended" — an unfused unfold panics there.
    .fuse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn requests_are_parsed_with_reasons() {
        let r = parse_request(
            Some("2026-11-01"),
            Some("2026-11-30"),
            Some("3"),
            Some("json"),
        )
        .unwrap();
        assert_eq!(r.from, Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap());
        assert_eq!(
            r.to,
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
            "to is inclusive"
        );
        assert_eq!((r.job_id, r.format), (Some(3), Format::Json));
        assert!(parse_request(None, Some("2026-11-30"), None, None)
            .unwrap_err()
            .contains("from is required"));
        assert!(
            parse_request(Some("11/01/2026"), Some("2026-11-30"), None, None)
                .unwrap_err()
                .contains("not a date")
        );
        assert!(
            parse_request(Some("2026-12-01"), Some("2026-11-30"), None, None)
                .unwrap_err()
                .contains("before")
        );
        assert!(
            parse_request(Some("2026-11-01"), Some("2026-11-30"), Some("x"), None)
                .unwrap_err()
                .contains("job")
        );
        assert!(
            parse_request(Some("2026-11-01"), Some("2026-11-30"), None, Some("xml"))
                .unwrap_err()
                .contains("format")
        );
    }

    #[test]
    fn a_record_names_who_approved() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
        let row = ExportRow {
            application_id: 1,
            candidate_id: 7,
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: "ada@example.com".into(),
            job_title: "Data Analyst".into(),
            stage: Stage::Offer,
            verification_status: crate::model::VerificationStatus::Verified,
            verification_risk_tier: Some(crate::model::RiskTier::Low),
            verification_verified_at: Some(at),
            verification_session_id: Some("vs_1".into()),
            provider_evidence_url: None,
        };
        let t1 = TimelineRow {
            application_id: 1,
            to_stage: Stage::Applied,
            actor_name: None,
            changed_at: at,
        };
        let t2 = TimelineRow {
            application_id: 1,
            to_stage: Stage::Offer,
            actor_name: Some("Riley Recruiter".into()),
            changed_at: at,
        };
        let r = record(&row, &[&t1, &t2], "https://clearance.example");
        assert_eq!(
            r.stage_timeline,
            "applied 2026-11-21T10:00:00Z by system; offer 2026-11-21T10:00:00Z by Riley Recruiter"
        );
        assert_eq!(
            r.approved_by,
            "offer 2026-11-21T10:00:00Z by Riley Recruiter"
        );
        assert_eq!(
            r.evidence_pack_url,
            "https://clearance.example/evidence/vs_1"
        );
        let csv = String::from_utf8(csv_chunk(std::slice::from_ref(&r), true).to_vec()).unwrap();
        assert!(
            csv.starts_with("candidate_id,candidate,email,job,stage,stage_timeline,approved_by")
        );
        assert_eq!(csv.lines().count(), 2);
        for (formula, shown) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Ada", "Ada"),
            ("", ""),
        ] {
            assert_eq!(csv_cell(formula), shown);
        }
        let json = format!(
            "{}{}",
            String::from_utf8(json_chunk(std::slice::from_ref(&r), true, false).to_vec()).unwrap(),
            String::from_utf8(json_chunk(&[r], false, true).to_vec()).unwrap()
        );
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed.len(), 2);
    }
}
