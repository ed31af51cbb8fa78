//! The tamper-evident audit log: canonical hashing, the chain rule, verification and signed checkpoints.
use crate::error::Invalid;
use crate::model::{AuditEntry, AuditEventType, ChainReport};
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did it.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    User {
        id: i64,
        name: String,
    },
    /// Clearance itself, named by the part that acted (e.g. "cli", "worker").
    System(String),
    /// A partner, named by its connection.
    Partner(String),
}

impl From<&crate::model::CurrentUser> for Actor {
    fn from(u: &crate::model::CurrentUser) -> Self {
        Actor::User {
            id: u.id,
            name: u.name.clone(),
        }
    }
}

/// A `user_created` entry for a new account.
pub fn user_created(actor: Actor, user_id: i64, email: &str, role: &str) -> NewAuditEvent {
    NewAuditEvent::new(
        actor,
        "user",
        user_id,
        AuditEventType::UserCreated,
        serde_json::json!({ "email": email, "role": role }),
    )
}

/// A `candidate_created` entry for a new candidate and application.
pub fn candidate_created(
    actor: Actor,
    candidate_id: i64,
    job: &str,
    stage: &str,
    source: &str,
) -> NewAuditEvent {
    NewAuditEvent::new(
        actor,
        "candidate",
        candidate_id,
        AuditEventType::CandidateCreated,
        serde_json::json!({ "job": job, "stage": stage, "source": source }),
    )
}

impl Actor {
    /// (actor_type, actor_id, actor_label) as stored.
    pub fn parts(&self) -> (&'static str, Option<String>, String) {
        match self {
            Actor::User { id, name } => ("user", Some(id.to_string()), name.clone()),
            Actor::System(what) => ("system", None, what.clone()),
            Actor::Partner(name) => ("partner", None, name.clone()),
        }
    }
}

/// An event to append; the writer assigns sequence, time and hashes.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    pub actor: Actor,
    pub subject_type: &'static str,
    pub subject_id: String,
    pub event_type: AuditEventType,
    pub payload: Value,
}

impl NewAuditEvent {
    pub fn new(
        actor: Actor,
        subject_type: &'static str,
        subject_id: impl ToString,
        event_type: AuditEventType,
        payload: Value,
    ) -> Self {
        NewAuditEvent {
            actor,
            subject_type,
            subject_id: subject_id.to_string(),
            event_type,
            payload,
        }
    }
}

/// Links `events` into the chain after (`first_seq` - 1, `prev_hash`), all at time `at`: the
/// entries as they are to be stored, each hash covering the one before.
pub fn link_entries(
    first_seq: i64,
    prev_hash: String,
    events: &[NewAuditEvent],
    at: DateTime<Utc>,
) -> Vec<StoredEntry> {
    let occurred_at = audit_time(at);
    let mut prev_hash = prev_hash;
    let mut out = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        let seq = first_seq + i as i64;
        let payload = canonical_json(&event.payload);
        let payload_sha256 = sha256_hex(&payload);
        let (actor_type, actor_id, actor_label) = event.actor.parts();
        let hash = LinkFields {
            seq,
            occurred_at,
            actor_type,
            actor_id: actor_id.as_deref(),
            actor_label: &actor_label,
            subject_type: event.subject_type,
            subject_id: &event.subject_id,
            event_type: event.event_type.as_str(),
            payload_sha256: &payload_sha256,
            prev_hash: &prev_hash,
        }
        .hash();
        let entry = StoredEntry {
            seq,
            occurred_at,
            actor_type: actor_type.to_string(),
            actor_id,
            actor_label,
            subject_type: event.subject_type.to_string(),
            subject_id: event.subject_id.clone(),
            event_type: event.event_type.as_str().to_string(),
            payload: Some(payload),
            payload_sha256,
            prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
        };
        out.push(entry);
    }
    out
}

/// JSON with object keys sorted at every level and no insignificant white space.
pub fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&map[k], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(bytes.as_ref()))
}

/// Times are hashed and stored at microsecond precision, which both databases keep exactly.
pub fn audit_time(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

/// The fields one link's hash covers (the payload only through its digest, so it can be redacted).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkFields<'a> {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_type: &'a str,
    pub actor_id: Option<&'a str>,
    pub actor_label: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub event_type: &'a str,
    pub payload_sha256: &'a str,
    pub prev_hash: &'a str,
}

impl LinkFields<'_> {
    /// SHA-256 of the canonical JSON array of the fields. Serialised straight from a tuple: for an
    /// array of strings, numbers and nulls that is byte for byte what `canonical_json` writes.
    pub fn hash(&self) -> String {
        let occurred_at = self
            .occurred_at
            .to_rfc3339_opts(SecondsFormat::Micros, true);
        let fields = (
            "clearance-audit-v1",
            self.seq,
            occurred_at.as_str(),
            self.actor_type,
            self.actor_id,
            self.actor_label,
            self.subject_type,
            self.subject_id,
            self.event_type,
            self.payload_sha256,
            self.prev_hash,
        );
        let json = serde_json::to_vec(&fields).unwrap_or_default();
        sha256_hex(json)
    }

    /// The same hash the slow way, through a JSON value and `canonical_json` (kept for the test
    /// that proves both agree).
    #[cfg(test)]
    fn hash_via_value(&self) -> String {
        let fields = serde_json::json!([
            "clearance-audit-v1",
            self.seq,
            self.occurred_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
            self.actor_type,
            self.actor_id,
            self.actor_label,
            self.subject_type,
            self.subject_id,
            self.event_type,
            self.payload_sha256,
            self.prev_hash,
        ]);
        sha256_hex(canonical_json(&fields))
    }
}

/// A stored entry, as read back for verification and display (also from a JSON array of its
/// fields in this order: `db::audit::entries_after_packed`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Deserialize)]
pub struct StoredEntry {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub subject_type: String,
    pub subject_id: String,
    pub event_type: String,
    pub payload: Option<String>,
    pub payload_sha256: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEntry {
    pub fn fields(&self) -> LinkFields<'_> {
        LinkFields {
            seq: self.seq,
            occurred_at: self.occurred_at,
            actor_type: &self.actor_type,
            actor_id: self.actor_id.as_deref(),
            actor_label: &self.actor_label,
            subject_type: &self.subject_type,
            subject_id: &self.subject_id,
            event_type: &self.event_type,
            payload_sha256: &self.payload_sha256,
            prev_hash: &self.prev_hash,
        }
    }

    /// The entry in plain words for timelines and the audit page.
    pub fn to_entry(&self) -> Option<AuditEntry> {
        let event_type: AuditEventType = self.event_type.parse().ok()?;
        let summary = match &self.payload {
            None => "(details redacted)".to_string(),
            Some(p) => summarize(event_type, &serde_json::from_str(p).unwrap_or(Value::Null)),
        };
        Some(AuditEntry {
            seq: self.seq,
            occurred_at: self.occurred_at,
            actor: self.actor_label.clone(),
            subject: format!("{} {}", self.subject_type, self.subject_id),
            event_type,
            summary,
            hash: self.hash.clone(),
        })
    }
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn stage_label(s: &str) -> String {
    s.parse::<crate::model::Stage>()
        .map(|st| st.label().to_string())
        .unwrap_or_else(|_| s.to_string())
}

/// One line in plain words for an event's payload.
pub fn summarize(event_type: AuditEventType, p: &Value) -> String {
    use AuditEventType::*;
    let bulk = p
        .get("bulk_job")
        .filter(|b| !b.is_null())
        .map(|_| text(p, "bulk_job"));
    match event_type {
        StageChanged => format!(
            "{} → {} ({}){}",
            stage_label(&text(p, "from")),
            stage_label(&text(p, "to")),
            text(p, "job"),
            bulk.map(|b| format!(", part of bulk job {b}"))
                .unwrap_or_default()
        ),
        OrderPlaced if bulk.is_some() => format!(
            "Part of bulk job {}: {} package {} (total {})",
            text(p, "bulk_job"),
            text(p, "partner"),
            text(p, "package_id"),
            text(p, "total")
        ),
        CandidateCreated => format!(
            "Added to {} at {} (via {})",
            text(p, "job"),
            stage_label(&text(p, "stage")),
            text(p, "source")
        ),
        LoginFailed if p.get("email").is_some() => {
            format!("Failed sign-in for {}", text(p, "email"))
        }
        LoginFailed => "Failed sign-in for an unknown account".to_string(),
        UserCreated => format!("{} as {}", text(p, "email"), text(p, "role")),
        AuditVerified => text(p, "result"),
        VerificationRequested if bulk.is_some() => format!(
            "Part of bulk job {} (policy {})",
            text(p, "bulk_job"),
            text(p, "policy_name")
        ),
        BulkActionStarted => format!(
            "{} for {} candidate(s), {}",
            text(p, "action")
                .parse::<crate::model::BulkAction>()
                .map(|a| a.label().to_string())
                .unwrap_or_else(|_| text(p, "action")),
            text(p, "candidates"),
            text(p, "selection")
        ),
        _ => match p {
            Value::Object(m) if !m.is_empty() => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                keys.into_iter()
                    .map(|k| format!("{k}: {}", text(p, k)))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            _ => event_type.label().to_string(),
        },
    }
}

/// Walks entries in sequence order and names the first link that does not hold. Redaction is
/// allowed only where a later `candidate_deleted` entry accounts for it (its `redacted_entries`
/// is the number of that candidate's payloads removed), so a payload removed behind the log's back
/// is reported even though the hashes still hold.
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: String,
    /// Redacted entries not yet accounted for, per subject: (count, first seq).
    unaccounted: std::collections::HashMap<(String, String), (i64, i64)>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            unaccounted: Default::default(),
        }
    }
}

/// What verifying an entry computes from it: the digest of its payload and its link hash. Pure
/// and independent per entry, so a page of entries can be hashed in parallel before the
/// (sequential, cheap) link checks.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryDigests {
    pub payload_sha256: Option<String>,
    pub hash: String,
}

impl EntryDigests {
    pub fn of(e: &StoredEntry) -> EntryDigests {
        EntryDigests {
            payload_sha256: e.payload.as_ref().map(sha256_hex),
            hash: e.fields().hash(),
        }
    }

    /// The digests of every entry of `page`, in order, on up to `threads` threads.
    pub fn of_page(page: &[StoredEntry], threads: usize) -> Vec<EntryDigests> {
        let threads = threads.clamp(1, 16);
        if threads == 1 || page.len() < 256 {
            return page.iter().map(EntryDigests::of).collect();
        }
        let chunk = page.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let parts: Vec<_> = page
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || part.iter().map(EntryDigests::of).collect::<Vec<_>>())
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    }
}

impl ChainVerifier {
    pub fn check(&mut self, e: &StoredEntry) -> Result<(), ChainReport> {
        self.check_digested(e, EntryDigests::of(e))
    }

    /// `check` with the entry's digests computed beforehand (`EntryDigests::of_page`).
    pub fn check_digested(&mut self, e: &StoredEntry, d: EntryDigests) -> Result<(), ChainReport> {
        let broken = |field: &str, expected: String, found: String| ChainReport::Broken {
            seq: self.next_seq,
            field: field.into(),
            expected,
            found,
        };
        if e.seq != self.next_seq {
            return Err(broken("seq", self.next_seq.to_string(), e.seq.to_string()));
        }
        if e.prev_hash != self.prev_hash {
            return Err(broken(
                "prev_hash",
                self.prev_hash.clone(),
                e.prev_hash.clone(),
            ));
        }
        if let Some(digest) = d.payload_sha256 {
            if digest != e.payload_sha256 {
                return Err(broken("payload_sha256", e.payload_sha256.clone(), digest));
            }
        }
        let hash = d.hash;
        if hash != e.hash {
            return Err(broken("hash", hash, e.hash.clone()));
        }
        let subject = (e.subject_type.clone(), e.subject_id.clone());
        if e.payload.is_none() {
            let slot = self.unaccounted.entry(subject).or_insert((0, e.seq));
            slot.0 += 1;
        } else if e.event_type == AuditEventType::CandidateDeleted.as_str() {
            let claimed = e
                .payload
                .as_deref()
                .and_then(|p| serde_json::from_str::<Value>(p).ok())
                .and_then(|p| p.get("redacted_entries").and_then(Value::as_i64));
            let (found, _) = self.unaccounted.remove(&subject).unwrap_or((0, e.seq));
            // Deletions logged before the count was recorded account for whatever they redacted.
            if let Some(claimed) = claimed.filter(|c| *c != found) {
                return Err(broken(
                    "redacted_entries",
                    claimed.to_string(),
                    found.to_string(),
                ));
            }
        }
        self.next_seq += 1;
        self.prev_hash = e.hash.clone();
        Ok(())
    }

    pub fn finish(self) -> ChainReport {
        if let Some((count, first)) = self.unaccounted.values().min_by_key(|(_, first)| *first) {
            return ChainReport::Broken {
                seq: *first,
                field: "payload".into(),
                expected: "a payload, or a candidate_deleted entry that accounts for its redaction"
                    .into(),
                found: format!("{count} redacted payload(s) no deletion accounts for"),
            };
        }
        ChainReport::Intact {
            count: self.next_seq - 1,
            head_hash: self.prev_hash,
        }
    }
}

/// A signed statement "the chain had `count` entries ending in `head_hash`", kept outside the database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub count: i64,
    pub head_hash: String,
    pub created_at: DateTime<Utc>,
    /// Base64 of the Ed25519 public key.
    pub public_key: String,
    /// Base64 of the Ed25519 signature over `Checkpoint::message`.
    pub signature: String,
}

impl Checkpoint {
    fn message(count: i64, head_hash: &str, created_at: DateTime<Utc>) -> String {
        canonical_json(&serde_json::json!({
            "kind": "clearance-audit-checkpoint-v1",
            "count": count,
            "head_hash": head_hash,
            "created_at": created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        }))
    }

    pub fn sign(
        key: &SigningKey,
        count: i64,
        head_hash: &str,
        created_at: DateTime<Utc>,
    ) -> Checkpoint {
        let created_at = audit_time(created_at);
        let signature = key.sign(Self::message(count, head_hash, created_at).as_bytes());
        Checkpoint {
            count,
            head_hash: head_hash.to_string(),
            created_at,
            public_key: B64.encode(key.verifying_key().to_bytes()),
            signature: B64.encode(signature.to_bytes()),
        }
    }

    /// Checks the signature against `trusted` (or the embedded key when none is given).
    pub fn verify_signature(&self, trusted: Option<&VerifyingKey>) -> Result<(), Invalid> {
        let embedded = decode_verifying_key(&self.public_key)?;
        let key = trusted.unwrap_or(&embedded);
        if trusted.is_some_and(|t| t != &embedded) {
            return Err(Invalid::new(
                "the checkpoint was signed with a different key",
            ));
        }
        let sig_bytes: [u8; 64] = B64
            .decode(&self.signature)
            .map_err(|e| format!("signature is not base64: {e}"))?
            .try_into()
            .map_err(|_| "signature is not 64 bytes".to_string())?;
        key.verify(
            Self::message(self.count, &self.head_hash, self.created_at).as_bytes(),
            &Signature::from_bytes(&sig_bytes),
        )
        .map_err(|_| Invalid::new("the checkpoint signature does not verify"))
    }

    /// Compares a verified chain with this checkpoint: truncation or a rebuilt chain show here.
    pub fn check_chain(
        &self,
        report: &ChainReport,
        hash_at_count: Option<&str>,
    ) -> Result<(), Invalid> {
        match report {
            ChainReport::Broken { .. } => Err(Invalid(format!("the chain itself is {report}"))),
            ChainReport::Intact { count, .. } if *count < self.count => Err(Invalid(format!(
                "the chain was truncated: the checkpoint of {} covers {} entries, the chain has {count}",
                self.created_at, self.count
            ))),
            ChainReport::Intact { .. } => match hash_at_count {
                Some(h) if h == self.head_hash => Ok(()),
                Some(h) => Err(Invalid(format!(
                    "the chain was rebuilt: entry {} has hash {h}, the checkpoint says {}",
                    self.count, self.head_hash
                ))),
                None if self.count == 0 => Ok(()),
                None => Err(Invalid(format!("entry {} is missing", self.count))),
            },
        }
    }
}

pub fn decode_verifying_key(b64: &str) -> Result<VerifyingKey, Invalid> {
    let bytes: [u8; 32] = B64
        .decode(b64.trim())
        .map_err(|e| format!("public key is not base64: {e}"))?
        .try_into()
        .map_err(|_| "public key is not 32 bytes".to_string())?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| Invalid(format!("invalid public key: {e}")))
}

/// Reads `CLEARANCE_AUDIT_SIGNING_KEY`-style text: base64 of a 32-byte Ed25519 seed.
pub fn decode_signing_key(b64: &str) -> Result<SigningKey, Invalid> {
    let bytes: [u8; 32] = B64
        .decode(b64.trim())
        .map_err(|_| "the audit signing key is not base64".to_string())?
        .try_into()
        .map_err(|_| {
            "the audit signing key must be 32 bytes (base64 of an Ed25519 seed)".to_string()
        })?;
    Ok(SigningKey::from_bytes(&bytes))
}

pub fn generate_signing_key() -> String {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    B64.encode(key.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::clock;

    #[test]
    fn bulk_entries_read_in_plain_words() {
        let requested = serde_json::json!({ "bulk_job": 7, "policy_name": "standard", "previous_status": "not_started" });
        assert_eq!(
            summarize(AuditEventType::VerificationRequested, &requested),
            "Part of bulk job 7 (policy standard)"
        );
        let started = serde_json::json!({ "action": "send_verification", "candidates": 12, "selection": "selected rows", "capped": false });
        assert_eq!(
            summarize(AuditEventType::BulkActionStarted, &started),
            "Send verification for 12 candidate(s), selected rows"
        );
        let moved = serde_json::json!({ "from": "applied", "to": "phone_screen", "job": "Engineer", "bulk_job": 3 });
        assert_eq!(
            summarize(AuditEventType::StageChanged, &moved),
            "Applied → Phone screen (Engineer), part of bulk job 3"
        );
        let alone = serde_json::json!({ "from": "applied", "to": "phone_screen", "job": "Engineer", "bulk_job": null });
        assert_eq!(
            summarize(AuditEventType::StageChanged, &alone),
            "Applied → Phone screen (Engineer)"
        );
        let ordered = serde_json::json!({ "bulk_job": 4, "partner": "Acme", "package_id": "basic", "total": "40.00" });
        assert_eq!(
            summarize(AuditEventType::OrderPlaced, &ordered),
            "Part of bulk job 4: Acme package basic (total 40.00)"
        );
    }
    use chrono::TimeZone;

    fn entry(seq: i64, prev: &str, payload: &str) -> StoredEntry {
        let mut e = StoredEntry {
            seq,
            occurred_at: Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap()
                + chrono::Duration::seconds(seq),
            actor_type: "user".into(),
            actor_id: Some("7".into()),
            actor_label: "Riley Recruiter".into(),
            subject_type: "candidate".into(),
            subject_id: "42".into(),
            event_type: "stage_changed".into(),
            payload: Some(payload.into()),
            payload_sha256: sha256_hex(payload),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        e.hash = e.fields().hash();
        e
    }

    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut out: Vec<StoredEntry> = Vec::new();
        for seq in 1..=n {
            let prev = out
                .last()
                .map(|e| e.hash.clone())
                .unwrap_or_else(|| GENESIS_HASH.into());
            out.push(entry(seq, &prev, &format!("{{\"n\":{seq}}}")));
        }
        out
    }

    #[test]
    fn the_direct_link_hash_is_the_canonical_json_hash() {
        // Quotes, backslashes, control characters, non-ASCII, a null actor id, a negative number.
        let labels = [
            "plain",
            "quote \" and \\ back",
            "tab\tnew\nline\u{1}",
            "Zoë 日本 🚀",
            "",
        ];
        for (i, label) in labels.iter().enumerate() {
            for actor_id in [None, Some("7"), Some("\"x\"")] {
                let f = LinkFields {
                    seq: i as i64 * 1_000_003 - 2,
                    occurred_at: Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap()
                        + chrono::Duration::microseconds(123_456),
                    actor_type: "user",
                    actor_id,
                    actor_label: label,
                    subject_type: "candidate",
                    subject_id: label,
                    event_type: "stage_changed",
                    payload_sha256: &sha256_hex(label),
                    prev_hash: GENESIS_HASH,
                };
                assert_eq!(f.hash(), f.hash_via_value(), "{label:?} {actor_id:?}");
            }
        }
    }

    #[test]
    fn page_digests_in_parallel_equal_one_by_one() {
        let entries = chain(1000);
        let serial: Vec<EntryDigests> = entries.iter().map(EntryDigests::of).collect();
        assert_eq!(EntryDigests::of_page(&entries, 3), serial);
        assert_eq!(EntryDigests::of_page(&entries, 1), serial);
    }

    #[test]
    fn linked_entries_form_a_chain_the_verifier_accepts() {
        let events: Vec<NewAuditEvent> = (0..5)
            .map(|i| {
                NewAuditEvent::new(
                    Actor::System("test".into()),
                    "candidate",
                    i,
                    AuditEventType::StageChanged,
                    serde_json::json!({ "to": "offer", "n": i }),
                )
            })
            .collect();
        let mut all = link_entries(1, GENESIS_HASH.into(), &events[..2], clock::now());
        let head = all.last().unwrap().hash.clone();
        all.extend(link_entries(3, head, &events[2..], clock::now()));
        assert_eq!(
            verify(&all),
            ChainReport::Intact {
                count: 5,
                head_hash: all[4].hash.clone()
            }
        );
    }

    fn verify(entries: &[StoredEntry]) -> ChainReport {
        let mut v = ChainVerifier::default();
        for e in entries {
            if let Err(b) = v.check(e) {
                return b;
            }
        }
        v.finish()
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v: Value =
            serde_json::from_str(r#"{"b":1,"a":{"z":[3,{"y":1,"x":2}],"c":"é"}}"#).unwrap();
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":"é","z":[3,{"x":2,"y":1}]},"b":1}"#
        );
    }

    #[test]
    fn hash_depends_on_every_field() {
        let e = entry(1, GENESIS_HASH, "{}");
        let base = e.fields().hash();
        let mut f = e.fields();
        f.actor_label = "Someone Else";
        assert_ne!(f.hash(), base);
        let mut f = e.fields();
        f.seq = 2;
        assert_ne!(f.hash(), base);
        let mut f = e.fields();
        f.occurred_at += chrono::Duration::microseconds(1);
        assert_ne!(f.hash(), base);
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(
            verify(&c),
            ChainReport::Intact {
                count: 5,
                head_hash: c[4].hash.clone()
            }
        );
        assert_eq!(
            verify(&[]),
            ChainReport::Intact {
                count: 0,
                head_hash: GENESIS_HASH.into()
            }
        );
    }

    #[test]
    fn edited_payload_is_found_at_its_entry() {
        let mut c = chain(5);
        c[2].payload = Some("{\"n\":999}".into());
        assert!(
            matches!(verify(&c), ChainReport::Broken { seq: 3, ref field, .. } if field == "payload_sha256")
        );
    }

    #[test]
    fn deleted_reordered_and_inserted_entries_are_found() {
        let mut deleted = chain(5);
        deleted.remove(1);
        assert!(
            matches!(verify(&deleted), ChainReport::Broken { seq: 2, ref field, .. } if field == "seq")
        );

        let mut reordered = chain(5);
        reordered.swap(1, 2);
        let (s1, s2) = (reordered[1].seq, reordered[2].seq);
        reordered[1].seq = s2;
        reordered[2].seq = s1;
        assert!(matches!(
            verify(&reordered),
            ChainReport::Broken { seq: 2, .. }
        ));

        let mut inserted = chain(5);
        let forged = entry(3, &inserted[1].hash, "{\"forged\":true}");
        inserted.insert(2, forged);
        for (i, e) in inserted.iter_mut().enumerate() {
            e.seq = i as i64 + 1;
        }
        assert!(matches!(
            verify(&inserted),
            ChainReport::Broken { seq: 4, .. }
        ));
    }

    /// Appends a candidate_deleted entry for subject 42 claiming `redacted` removed payloads.
    fn with_deletion(mut c: Vec<StoredEntry>, redacted: Option<i64>) -> Vec<StoredEntry> {
        let payload = match redacted {
            Some(n) => format!("{{\"candidate_id\":42,\"redacted_entries\":{n}}}"),
            None => "{\"candidate_id\":42}".to_string(),
        };
        let mut e = entry(c.len() as i64 + 1, &c.last().unwrap().hash, &payload);
        e.event_type = "candidate_deleted".into();
        e.hash = e.fields().hash();
        c.push(e);
        c
    }

    #[test]
    fn redaction_keeps_the_chain_valid_when_a_deletion_accounts_for_it() {
        let mut c = chain(4);
        c[1].payload = None;
        c[2].payload = None;
        assert_eq!(c[1].to_entry().unwrap().summary, "(details redacted)");
        let ok = with_deletion(c.clone(), Some(2));
        assert!(matches!(verify(&ok), ChainReport::Intact { count: 5, .. }));
        // Deletions logged before the count existed still account for their subject.
        assert!(matches!(
            verify(&with_deletion(c.clone(), None)),
            ChainReport::Intact { .. }
        ));
        // A wrong count, or a redaction no deletion explains, is reported.
        match verify(&with_deletion(c.clone(), Some(1))) {
            ChainReport::Broken { seq: 5, field, .. } => assert_eq!(field, "redacted_entries"),
            other => panic!("{other:?}"),
        }
        match verify(&c) {
            ChainReport::Broken { seq: 2, field, .. } => assert_eq!(field, "payload"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn checkpoint_signatures() {
        let key = decode_signing_key(&generate_signing_key()).unwrap();
        let cp = Checkpoint::sign(&key, 5, "abc", clock::now());
        assert_eq!(cp.verify_signature(None), Ok(()));
        assert_eq!(cp.verify_signature(Some(&key.verifying_key())), Ok(()));
        let mut forged = cp.clone();
        forged.count = 4;
        assert!(forged.verify_signature(None).is_err());
        let other = decode_signing_key(&generate_signing_key()).unwrap();
        assert!(cp.verify_signature(Some(&other.verifying_key())).is_err());
        assert!(decode_signing_key("not base64!").is_err());
    }

    #[test]
    fn checkpoint_detects_truncation_and_rebuild() {
        let c = chain(5);
        let key = decode_signing_key(&generate_signing_key()).unwrap();
        let cp = Checkpoint::sign(&key, 5, &c[4].hash, clock::now());
        assert_eq!(cp.check_chain(&verify(&c), Some(&c[4].hash)), Ok(()));
        let truncated = &c[..3];
        assert!(cp
            .check_chain(&verify(truncated), None)
            .unwrap_err()
            .contains("truncated"));
        let mut rebuilt = chain(5);
        rebuilt[0] = entry(1, GENESIS_HASH, "{\"other\":1}");
        for i in 1..5 {
            let prev = rebuilt[i - 1].hash.clone();
            rebuilt[i] = entry(i as i64 + 1, &prev, "{}");
        }
        assert!(cp
            .check_chain(&verify(&rebuilt), Some(&rebuilt[4].hash))
            .unwrap_err()
            .contains("rebuilt"));
    }
}
