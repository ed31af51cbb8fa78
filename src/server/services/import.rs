//! `clearance import candidates FILE.csv`: each good row imported whole, each bad row reported with its line.
use crate::error::Invalid;
use crate::model::{Email, Stage};
use crate::server::audit::{self, Actor};
use crate::server::clock;
use crate::server::db::{self, candidates::NewCandidate, Db};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use tokio::task::JoinSet;

pub const REQUIRED: [&str; 4] = ["first_name", "last_name", "email", "job"];
pub const KNOWN: [&str; 11] = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "address_2",
    "city",
    "state",
    "zip",
    "job",
    "stage",
];

#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub candidate: NewCandidate,
    pub job: String,
    pub stage: Stage,
}

#[derive(Debug, Default, PartialEq)]
pub struct ImportReport {
    pub imported: usize,
    /// (line number in the file, what is wrong)
    pub errors: Vec<(u64, String)>,
}

/// Maps header names to column positions; refuses a file that lacks a required column.
pub fn header_index(headers: &csv::StringRecord) -> Result<HashMap<String, usize>, Invalid> {
    let index: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_lowercase(), i))
        .collect();
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|r| !index.contains_key(*r))
        .collect();
    if !missing.is_empty() {
        return Err(Invalid(format!(
            "the header row lacks the column(s) {} (expected: {})",
            missing.join(", "),
            KNOWN.join(",")
        )));
    }
    Ok(index)
}

/// Turns one record into a valid row, or says what is wrong with it.
pub fn parse_row(
    index: &HashMap<String, usize>,
    record: &csv::StringRecord,
) -> Result<ImportRow, Invalid> {
    let get = |name: &str| {
        index
            .get(name)
            .and_then(|i| record.get(*i))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let required = |name: &str| {
        let v = get(name);
        if v.is_empty() {
            Err(Invalid(format!("{name} is empty")))
        } else {
            Ok(v)
        }
    };
    let first_name = required("first_name")?;
    let last_name = required("last_name")?;
    let email = Email::parse(&required("email")?)?.to_string();
    let job = required("job")?;
    let stage = match get("stage") {
        s if s.is_empty() => Stage::Applied,
        s => s.parse::<Stage>()?,
    };
    Ok(ImportRow {
        candidate: NewCandidate {
            first_name,
            last_name,
            email,
            phone: get("phone"),
            address: get("address"),
            address_2: get("address_2"),
            city: get("city"),
            state: get("state"),
            zip: get("zip"),
        },
        job,
        stage,
    })
}

/// Good rows are written this many to a transaction, one multi-row statement per table: one commit per batch instead of per row.
const BATCH: usize = 1000;

/// Writes one batch in one transaction; its report has the rows imported and the lines whose email
/// was already taken (their rows left nothing behind, as when rows were written one by one).
async fn write_batch(db: Db, batch: Vec<(u64, ImportRow, i64)>) -> anyhow::Result<ImportReport> {
    let rows: Vec<db::candidates::ImportedRow> = batch
        .iter()
        .map(|(_, r, job_id)| db::candidates::ImportedRow {
            candidate: &r.candidate,
            job_id: *job_id,
            stage: r.stage.as_str(),
            actor_user_id: None,
        })
        .collect();
    let ids = db::candidates::insert_batch(&db, &rows, clock::now(), |i, id| {
        let row = &batch[i].1;
        audit::candidate_created(
            Actor::System("csv import".into()),
            id,
            &row.job,
            row.stage.as_str(),
            "CSV import",
        )
    })
    .await?;
    let mut written = ImportReport::default();
    for ((line, row, _), id) in batch.iter().zip(ids) {
        match id {
            Some(_) => written.imported += 1,
            None => written.errors.push((*line, taken(&row.candidate.email))),
        }
    }
    Ok(written)
}

/// Adds a written batch to the report; a failed batch (or its task's panic) ends the import.
fn merge(
    report: &mut ImportReport,
    done: Result<anyhow::Result<ImportReport>, tokio::task::JoinError>,
) -> anyhow::Result<()> {
    let written = done??;
    report.imported += written.imported;
    report.errors.extend(written.errors);
    Ok(())
}

fn taken(email: &str) -> String {
    format!("a candidate with email {email} already exists")
}

/// Batches written at once: PostgreSQL works on each in a backend of its own, so two use both
/// cores (they meet only at the audit chain's head, taken in turn); SQLite has one writer at a
/// time, so its one batch in flight overlaps only with reading the next.
fn writers(db: &Db) -> usize {
    match db {
        Db::Postgres(_) => 2,
        Db::Sqlite(_) => 1,
    }
}

pub async fn import_candidates(db: &Db, input: impl Read) -> anyhow::Result<ImportReport> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| anyhow::anyhow!("cannot read the header row: {e}"))?
        .clone();
    let index = header_index(&headers).map_err(|e| anyhow::anyhow!("line 1: {e}"))?;
    let mut report = ImportReport::default();
    let mut jobs: HashMap<String, i64> = HashMap::new();
    // Emails of the file's good rows so far: a later row with one of them is reported here, so
    // the first row with an email wins however the batches' writes overlap.
    let mut emails: HashSet<String> = HashSet::new();
    let mut pending: Vec<(u64, ImportRow, i64)> = Vec::with_capacity(BATCH);
    // Batches are written by tasks of their own while the next one is read and checked.
    let mut writing: JoinSet<anyhow::Result<ImportReport>> = JoinSet::new();
    let writers = writers(db);
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                report.errors.push((line, format!("unreadable row: {e}")));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let row = match parse_row(&index, &record) {
            Ok(r) => r,
            Err(e) => {
                report.errors.push((line, e.into()));
                continue;
            }
        };
        let job_id = match jobs.get(&row.job.to_lowercase()) {
            Some(id) => *id,
            None => match db::candidates::find_job_by_title(db, &row.job).await? {
                Some(j) => {
                    jobs.insert(row.job.to_lowercase(), j.id);
                    j.id
                }
                None => {
                    report
                        .errors
                        .push((line, format!("no job titled '{}'", row.job)));
                    continue;
                }
            },
        };
        if !emails.insert(row.candidate.email.clone()) {
            report.errors.push((line, taken(&row.candidate.email)));
            continue;
        }
        pending.push((line, row, job_id));
        if pending.len() >= BATCH {
            if writing.len() >= writers {
                if let Some(done) = writing.join_next().await {
                    merge(&mut report, done)?;
                }
            }
            let batch = std::mem::replace(&mut pending, Vec::with_capacity(BATCH));
            writing.spawn(write_batch(db.clone(), batch));
        }
    }
    if !pending.is_empty() {
        writing.spawn(write_batch(db.clone(), pending));
    }
    while let Some(done) = writing.join_next().await {
        merge(&mut report, done)?;
    }
    if report.imported >= db::BULK_ROWS {
        db.refresh_statistics().await?;
    }
    // Duplicates are found when their batch is written: report in the file's order.
    report.errors.sort_by_key(|(line, _)| *line);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(fields: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(fields.to_vec())
    }

    #[test]
    fn good_row_parses_with_default_stage() {
        let idx = header_index(&rec(&["first_name", "last_name", "email", "job", "city"])).unwrap();
        let row = parse_row(
            &idx,
            &rec(&[
                "Ada",
                "Lovelace",
                "ADA@Example.com",
                "Data Analyst",
                "London",
            ]),
        )
        .unwrap();
        assert_eq!(row.candidate.email, "ada@example.com");
        assert_eq!(row.candidate.city, "London");
        assert_eq!(row.stage, Stage::Applied);
    }

    #[test]
    fn bad_rows_say_why() {
        let idx =
            header_index(&rec(&["first_name", "last_name", "email", "job", "stage"])).unwrap();
        assert_eq!(
            parse_row(&idx, &rec(&["", "L", "a@b.co", "J", ""])).unwrap_err(),
            "first_name is empty"
        );
        assert!(parse_row(&idx, &rec(&["A", "L", "not-an-email", "J", ""]))
            .unwrap_err()
            .contains("has no @"));
        assert!(
            parse_row(&idx, &rec(&["A", "L", "a@b.co", "J", "interview"]))
                .unwrap_err()
                .contains("unknown stage")
        );
    }

    #[test]
    fn missing_required_column_is_refused() {
        let err = header_index(&rec(&["first_name", "email"])).unwrap_err();
        assert!(err.contains("last_name") && err.contains("job"), "{err}");
    }
}
