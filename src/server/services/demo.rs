//! Demo data: one user per role with published dev passwords, jobs and ~50 candidates in every stage.
//! Only `clearance demo-data` and `clearance serve --demo` call this; a production start never does.
use crate::model::{Role, Stage};
use crate::server::audit::{self, Actor};
use crate::server::auth::password;
use crate::server::clock;
use crate::server::db::{self, candidates::NewCandidate, Db};
use chrono::{DateTime, Utc};

pub struct DemoUser {
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub password: &'static str,
}

pub const DEMO_USERS: [DemoUser; 6] = [
    DemoUser {
        email: "admin@clearance.test",
        name: "Avery Admin",
        role: Role::Admin,
        password: "demo-admin-password",
    },
    DemoUser {
        email: "recruiter@clearance.test",
        name: "Riley Recruiter",
        role: Role::Recruiter,
        password: "demo-recruiter-password",
    },
    DemoUser {
        email: "security@clearance.test",
        name: "Sam Security",
        role: Role::SecurityReviewer,
        password: "demo-security-password",
    },
    DemoUser {
        email: "manager@clearance.test",
        name: "Morgan Manager",
        role: Role::HiringManager,
        password: "demo-manager-password",
    },
    DemoUser {
        email: "manager2@clearance.test",
        name: "Jordan Lead",
        role: Role::HiringManager,
        password: "demo-manager2-password",
    },
    // A second reviewer, so four-eyes overrides can be tried in the demo.
    DemoUser {
        email: "security2@clearance.test",
        name: "Quinn Second",
        role: Role::SecurityReviewer,
        password: "demo-security2-password",
    },
];

/// (title, index into DEMO_USERS of its hiring manager, policy name)
const DEMO_JOBS: [(&str, usize, &str); 4] = [
    ("Senior Backend Engineer", 3, "Remote SWE High Assurance"),
    ("Frontend Engineer", 3, "ats-embedded-verification-status"),
    ("Data Analyst", 4, "ats-embedded-verification-status"),
    ("Site Reliability Engineer", 4, "Remote SWE High Assurance"),
];

const FIRST: [&str; 10] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis",
];
const LAST: [&str; 5] = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov"];
const CITIES: [(&str, &str, &str); 4] = [
    ("Springfield", "IL", "62701"),
    ("Austin", "TX", "73301"),
    ("Portland", "OR", "97201"),
    ("Boston", "MA", "02108"),
];

pub const DEMO_CANDIDATES: usize = 50;

/// Loads the demo data, its fifty candidates in every stage in turn; running it again adds nothing.
pub async fn load(db: &Db) -> anyhow::Result<()> {
    load_with_stages(db, |i| Stage::ALL[i % Stage::ALL.len()]).await
}

/// Loads the demo data with candidate `i` in `stage_of(i)` (the demo story's company puts its
/// fifty new applicants at Applied, where no gate stands yet); running it again adds nothing.
pub async fn load_with_stages(db: &Db, stage_of: impl Fn(usize) -> Stage) -> anyhow::Result<()> {
    let now = clock::now();
    let (user_ids, job_ids) = load_staff(db, now).await?;
    let recruiter = user_ids[1];
    for i in 0..DEMO_CANDIDATES {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len()) % LAST.len()];
        let (city, state, zip) = CITIES[i % CITIES.len()];
        let c = NewCandidate {
            first_name: first.into(),
            last_name: last.into(),
            email: format!(
                "{}.{}{}@candidates.example",
                first.to_lowercase(),
                last.to_lowercase(),
                i
            ),
            phone: format!("555-01{:02}", i),
            address: format!("{} Main St.", 100 + i),
            address_2: if i % 3 == 0 {
                format!("Apt. {}", i % 9 + 1)
            } else {
                String::new()
            },
            city: city.into(),
            state: state.into(),
            zip: zip.into(),
        };
        let stage = stage_of(i);
        let job_title = DEMO_JOBS[i % DEMO_JOBS.len()].0;
        // An email already there (demo data loaded before) inserts nothing.
        let row = db::candidates::ImportedRow {
            candidate: &c,
            job_id: job_ids[i % job_ids.len()],
            stage: stage.as_str(),
            actor_user_id: Some(recruiter),
        };
        db::candidates::insert_batch(db, &[row], now, |_, id| {
            audit::candidate_created(
                Actor::System("demo-data".into()),
                id,
                job_title,
                stage.as_str(),
                "demo data",
            )
        })
        .await?;
    }
    Ok(())
}

/// The demo's users (one per role, two reviewers, two hiring managers) and its four jobs, created
/// at `now` unless they are there already: their ids, in the order of `DEMO_USERS` and the jobs.
pub async fn load_staff(db: &Db, now: DateTime<Utc>) -> anyhow::Result<(Vec<i64>, Vec<i64>)> {
    let mut user_ids = Vec::new();
    for u in &DEMO_USERS {
        let id = match db::users::find_by_email(db, u.email).await? {
            Some(existing) => existing.id,
            None => {
                let hash = password::hash(u.password.to_string()).await?;
                db::users::insert(db, u.email, u.name, u.role.as_str(), &hash, now, |id| {
                    audit::user_created(
                        Actor::System("demo-data".into()),
                        id,
                        u.email,
                        u.role.as_str(),
                    )
                })
                .await?
            }
        };
        user_ids.push(id);
    }
    let mut job_ids = Vec::new();
    for (title, hm, policy) in DEMO_JOBS {
        let id = match db::candidates::find_job_by_title(db, title).await? {
            Some(j) => j.id,
            None => db::candidates::insert_job(db, title, user_ids[hm], Some(policy), now).await?,
        };
        job_ids.push(id);
    }
    Ok((user_ids, job_ids))
}

/// The demo's jobs by title, in order (index 0 and 3 follow the high-assurance policy).
pub fn job_titles() -> [&'static str; 4] {
    DEMO_JOBS.map(|(title, _, _)| title)
}

pub fn credentials_banner() -> String {
    let mut s = String::from(
        "Demo accounts (development only — never use these passwords in production):\n",
    );
    for u in &DEMO_USERS {
        s.push_str(&format!(
            "  {:<18} {:<26} password: {}\n",
            u.role.label(),
            u.email,
            u.password
        ));
    }
    s
}

/// Adds `n` synthetic candidates for volume benchmarks (`clearance demo-data --volume N`);
/// returns how many candidates there are afterwards.
pub async fn add_volume(db: &Db, n: i64) -> anyhow::Result<i64> {
    let added = db::candidates::add_volume(db, n, clock::now()).await?;
    db.refresh_statistics().await?;
    Ok(added)
}

/// Appends `n` synthetic audit entries to the chain, 10,000 to a transaction, for volume
/// benchmarks (`clearance demo-data --audit N`): stage moves of the volume candidates.
pub async fn add_audit_volume(db: &Db, n: i64) -> anyhow::Result<()> {
    let actor = Actor::System("volume benchmark".into());
    let mut done = 0;
    while done < n {
        let batch: Vec<audit::NewAuditEvent> = (done..n.min(done + 10_000))
            .map(|i| {
                audit::NewAuditEvent::new(
                    actor.clone(),
                    "candidate",
                    i % 100_000 + 1,
                    crate::model::AuditEventType::StageChanged,
                    serde_json::json!({
                        "application_id": i % 100_000 + 1,
                        "from": "applied",
                        "to": "phone_screen",
                        "job": "Data Analyst",
                        "reason": "volume benchmark",
                    }),
                )
            })
            .collect();
        db::audit::append_many(db, &batch).await?;
        done += batch.len() as i64;
    }
    Ok(())
}
