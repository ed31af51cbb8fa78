//! The Insights page: who may see it, what the date range means (whole days in the organisation's
//! time zone, so a range is the same days whatever the DST), and the aggregates it shows.
use crate::error::AppError;
use crate::model::{
    CurrentUser, FunnelStep, Insights, InsightsFilter, Interval, OutcomeCount, OutcomePeriod,
    Permission, RiskTier, TierCount, Timing, VerificationStatus, DAILY_UP_TO_DAYS, FUNNEL,
};
use crate::server::clock;
use crate::server::config::Config;
use crate::server::db::{
    self,
    insights::{PolicyScope, Range},
    Db,
};
use crate::server::state::AppState;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

/// Without dates, the last 90 days up to today.
pub const DEFAULT_DAYS: i64 = 90;
/// The longest range one page covers.
pub const MAX_DAYS: i64 = 3 * 366;

/// The page's URL query as given: every part optional.
#[derive(Debug, Clone, Default)]
pub struct RawFilter<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub job_id: Option<i64>,
    pub policy: Option<&'a str>,
    pub tier: Option<&'a str>,
}

/// The filter from the page's URL: dates as `YYYY-MM-DD`, each optional, a risk tier by its
/// name; a bad one is a 400. (The policy is checked against the policies there are by `insights`.)
pub fn parse_filter(raw: RawFilter<'_>, today: NaiveDate) -> Result<InsightsFilter, AppError> {
    let given = |text: Option<&str>| {
        text.map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let date = |name: &str, text: Option<&str>| -> Result<Option<NaiveDate>, AppError> {
        match given(text) {
            None => Ok(None),
            Some(t) => NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    AppError::BadRequest(format!("'{t}' is not a date for '{name}' (YYYY-MM-DD)."))
                }),
        }
    };
    let to = date("to", raw.to)?.unwrap_or(today);
    let from = date("from", raw.from)?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(AppError::BadRequest(
            "The range starts after it ends: 'from' must be on or before 'to'.".into(),
        ));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::BadRequest(format!(
            "A range covers at most {MAX_DAYS} days."
        )));
    }
    let tier = match given(raw.tier) {
        None => None,
        Some(t) => Some(t.parse::<RiskTier>().map_err(|_| {
            AppError::BadRequest(format!("'{t}' is not a risk tier (low, medium or high)."))
        })?),
    };
    Ok(InsightsFilter {
        from,
        to,
        job_id: raw.job_id,
        policy: given(raw.policy),
        tier,
    })
}

/// The instants a filter covers: from the start of `from` to the start of the day after `to`,
/// both at local midnight in `tz` (the first instant of the day where midnight does not exist);
/// `default_policy` is the policy of jobs that name none.
pub fn instants(filter: &InsightsFilter, tz: Tz, default_policy: &str) -> Range {
    let start = |d: NaiveDate| -> DateTime<Utc> {
        (0..=3)
            .filter_map(|h| {
                chrono::TimeZone::from_local_datetime(&tz, &d.and_hms_opt(h, 0, 0)?).earliest()
            })
            .next()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
    };
    Range {
        from: start(filter.from),
        to: start(filter.to + Duration::days(1)),
        job_id: filter.job_id,
        policy: filter.policy.as_ref().map(|name| PolicyScope {
            name: name.clone(),
            includes_unnamed: name == default_policy,
        }),
        tier: filter.tier,
    }
}

/// Folds quarter-hour result counts into the filter's days (or Monday-to-Sunday weeks) in `tz`:
/// every period of the range is listed, empty ones too.
pub fn fold_periods(
    filter: &InsightsFilter,
    tz: Tz,
    quarters: &[(i64, VerificationStatus, i64)],
) -> (bool, Vec<OutcomePeriod>) {
    use chrono::Datelike;
    let weekly = (filter.to - filter.from).num_days() + 1 > DAILY_UP_TO_DAYS;
    let period_of = |day: NaiveDate| {
        if weekly {
            day - Duration::days(day.weekday().num_days_from_monday() as i64)
        } else {
            day
        }
    };
    let mut periods: Vec<OutcomePeriod> = Vec::new();
    let mut day = filter.from;
    while day <= filter.to {
        let start = period_of(day);
        if periods.last().is_none_or(|p| p.start != start) {
            periods.push(OutcomePeriod {
                start,
                counts: Vec::new(),
            });
        }
        day += Duration::days(1);
    }
    for (epoch, status, n) in quarters {
        let Some(at) = DateTime::<Utc>::from_timestamp(*epoch, 0) else {
            continue;
        };
        let start = period_of(at.with_timezone(&tz).date_naive());
        if let Some(p) = periods.iter_mut().find(|p| p.start == start) {
            match p.counts.iter_mut().find(|(s, _)| s == status) {
                Some((_, count)) => *count += n,
                None => p.counts.push((*status, *n)),
            }
        }
    }
    for p in &mut periods {
        p.counts
            .sort_by_key(|(s, _)| VerificationStatus::ALL.iter().position(|a| a == s));
    }
    (weekly, periods)
}

/// Figures are kept per filter until the database's version moves, and this long at most (the
/// counts that move with the clock alone: breaches, expired exceptions).
pub const KEEP_AT_MOST: std::time::Duration = std::time::Duration::from_secs(60);

/// The page's figures, kept per filter (like the list's counts): at 100k candidates one reading
/// takes a few hundred milliseconds, and people open the same range again and again. A reading
/// that began after a request arrived is fresh enough for it, so requests that come together
/// share one reading instead of each starting its own.
pub struct Cache(super::kept::Readings<(InsightsFilter, String), Insights>);

impl Default for Cache {
    fn default() -> Self {
        Cache(super::kept::Readings::new(256, Some(KEEP_AT_MOST)))
    }
}

pub async fn insights(
    state: &AppState,
    user: &CurrentUser,
    filter: InsightsFilter,
) -> Result<Insights, AppError> {
    super::access::require(user, Permission::ViewInsights)?;
    let (db, config, cache) = (&state.db, &*state.config, &*state.insights_cache);
    let tz = config.business_calendar.tz;
    let arrived = cache.0.arrive();
    let version = db::insights::version(db).await?;
    let key = (filter.clone(), tz.name().to_string());
    cache
        .0
        .get(&key, arrived, &version, || async {
            Ok((version.clone(), read(db, config, tz, filter).await?))
        })
        .await
}

/// The figures for a filter, read now (who may see them: `insights`).
pub async fn read(
    db: &Db,
    config: &Config,
    tz: Tz,
    filter: InsightsFilter,
) -> Result<Insights, AppError> {
    let policies = super::policy::all_names(db, config).await?;
    if let Some(p) = filter.policy.as_ref().filter(|p| !policies.contains(p)) {
        return Err(AppError::BadRequest(format!(
            "There is no policy named '{p}'."
        )));
    }
    let r = instants(&filter, tz, &super::policy::default_name(config));
    let as_of = clock::now();
    // The readings are independent: run together, each on its own connection (SQLite readers
    // run side by side too), the page takes about its longest one rather than their sum.
    let (applications, furthest, now_at, counted, quarters) = tokio::try_join!(
        db::insights::applications(db, &r),
        db::insights::furthest_stage(db, &r),
        db::insights::current_stages(db, &r),
        db::insights::outcomes(db, &r),
        db::insights::results_by_quarter_hour(db, &r),
    )?;
    let (to_request, to_result, to_decision, order_to_result, to_resolved) = tokio::try_join!(
        db::insights::application_to_request(db, &r),
        db::insights::request_to_result(db, &r),
        db::insights::review_to_decision(db, &r),
        db::insights::order_to_result(db, &r),
        db::insights::drift_to_resolved(db, &r),
    )?;
    let (mut sla, blocked, exceptions, runs, dead_letters) = tokio::try_join!(
        db::insights::sla(db, &r, as_of),
        db::insights::blocked_moves(db, &r),
        db::insights::exceptions(db, &r, as_of),
        db::insights::runs(db, &r, crate::model::MAX_RUNS),
        db::insights::dead_letters(db, &r),
    )?;
    let funnel = FUNNEL
        .iter()
        .enumerate()
        .map(|(i, stage)| FunnelStep {
            stage: *stage,
            reached: furthest
                .iter()
                .filter(|(top, _)| *top >= i as i64)
                .map(|(_, n)| n)
                .sum(),
            now_at: now_at
                .iter()
                .filter(|(s, _)| s == stage)
                .map(|(_, n)| n)
                .sum(),
        })
        .collect();
    let outcomes = VerificationStatus::ALL
        .into_iter()
        .map(|status| OutcomeCount {
            status,
            candidates: counted
                .iter()
                .filter(|(s, _, _)| *s == status)
                .map(|(_, _, n)| n)
                .sum(),
        })
        .collect();
    let tier_mix = [
        Some(RiskTier::Low),
        Some(RiskTier::Medium),
        Some(RiskTier::High),
        None,
    ]
    .into_iter()
    .map(|tier| TierCount {
        tier,
        candidates: counted
            .iter()
            .filter(|(_, t, _)| *t == tier)
            .map(|(_, _, n)| n)
            .sum(),
    })
    .collect();
    let (weekly, over_time) = fold_periods(&filter, tz, &quarters);
    let mut timings = Vec::new();
    for (interval, rows) in [
        (Interval::ApplicationToRequest, to_request),
        (Interval::RequestToResult, to_result),
        (Interval::ReviewOpenToDecision, to_decision),
        (Interval::OrderToResult, order_to_result),
        (Interval::DriftToResolved, to_resolved),
    ] {
        let mut rows: Vec<Timing> = rows
            .into_iter()
            .map(|p| Timing {
                interval,
                tier: p.tier,
                count: p.n,
                p50_seconds: p.p50,
                p90_seconds: p.p90,
            })
            .collect();
        rows.sort_by_key(|t| t.tier);
        timings.extend(rows);
    }
    sla.sort_by_key(|s| s.tier);
    Ok(Insights {
        filter,
        applications,
        funnel,
        outcomes,
        tier_mix,
        weekly,
        over_time,
        timings,
        sla,
        blocked,
        exceptions,
        runs,
        dead_letters,
        policies,
        as_of,
    })
}

/// The tables of the page, as CSV downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Funnel,
    Outcomes,
    Tiers,
    Timings,
    Sla,
}

impl std::str::FromStr for Table {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Table, AppError> {
        match s {
            "funnel" => Ok(Table::Funnel),
            "outcomes" => Ok(Table::Outcomes),
            "tiers" => Ok(Table::Tiers),
            "timings" => Ok(Table::Timings),
            "sla" => Ok(Table::Sla),
            other => Err(AppError::BadRequest(format!(
                "'{other}' is not a table of the Insights page (funnel, outcomes, tiers, timings or sla)."
            ))),
        }
    }
}

/// One table of the page as CSV (a header row, then one row per line of the table), with the
/// same figures the page shows for the same filter.
pub fn table_csv(figures: &Insights, table: Table) -> Result<String, AppError> {
    let mut records: Vec<Vec<String>> = Vec::new();
    let tier = |t: Option<crate::model::RiskTier>| t.map_or("none", |t| t.as_str()).to_string();
    match table {
        Table::Funnel => {
            records.push(vec!["stage".into(), "reached".into(), "now_at".into()]);
            for s in &figures.funnel {
                records.push(vec![
                    s.stage.as_str().into(),
                    s.reached.to_string(),
                    s.now_at.to_string(),
                ]);
            }
        }
        Table::Outcomes => {
            records.push(vec!["status".into(), "candidates".into()]);
            for o in &figures.outcomes {
                records.push(vec![o.status.as_str().into(), o.candidates.to_string()]);
            }
        }
        Table::Tiers => {
            records.push(vec!["risk_tier".into(), "candidates".into()]);
            for t in &figures.tier_mix {
                records.push(vec![tier(t.tier), t.candidates.to_string()]);
            }
        }
        Table::Timings => {
            records.push(
                [
                    "interval",
                    "risk_tier",
                    "count",
                    "p50_seconds",
                    "p90_seconds",
                ]
                .map(String::from)
                .to_vec(),
            );
            for t in &figures.timings {
                records.push(vec![
                    t.interval.as_str().into(),
                    tier(t.tier),
                    t.count.to_string(),
                    t.p50_seconds.to_string(),
                    t.p90_seconds.to_string(),
                ]);
            }
        }
        Table::Sla => {
            records.push(
                [
                    "risk_tier",
                    "decided_within",
                    "decided_after",
                    "open",
                    "breached",
                    "oldest_open",
                ]
                .map(String::from)
                .to_vec(),
            );
            for s in &figures.sla {
                records.push(vec![
                    tier(s.tier),
                    s.decided_within.to_string(),
                    s.decided_after.to_string(),
                    s.open.to_string(),
                    s.breached.to_string(),
                    s.oldest_open.map(|t| t.to_rfc3339()).unwrap_or_default(),
                ]);
            }
        }
    }
    super::csv_text(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_range_is_whole_local_days_across_a_dst_change() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // 8 March 2026: clocks go forward at 02:00 — a 23-hour day.
        let f = InsightsFilter {
            from: d("2026-03-08"),
            to: d("2026-03-08"),
            job_id: None,
            policy: Some("default".into()),
            tier: None,
        };
        let r = instants(&f, tz, "default");
        assert_eq!(
            r.policy,
            Some(PolicyScope {
                name: "default".into(),
                includes_unnamed: true
            })
        );
        assert_eq!(r.from.to_rfc3339(), "2026-03-08T05:00:00+00:00");
        assert_eq!(r.to.to_rfc3339(), "2026-03-09T04:00:00+00:00");
        assert_eq!((r.to - r.from).num_hours(), 23);
        // 1 November 2026: clocks go back — a 25-hour day.
        let f = InsightsFilter {
            from: d("2026-11-01"),
            to: d("2026-11-01"),
            job_id: Some(2),
            policy: Some("high_assurance".into()),
            tier: Some(RiskTier::High),
        };
        let r = instants(&f, tz, "default");
        assert_eq!((r.to - r.from).num_hours(), 25);
        assert_eq!((r.job_id, r.tier), (Some(2), Some(RiskTier::High)));
        assert_eq!(r.policy.map(|p| p.includes_unnamed), Some(false));
    }

    #[test]
    fn results_fold_into_local_days_or_monday_weeks() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap().timestamp();
        let quarters = [
            (at("2026-03-08T06:00:00Z"), VerificationStatus::Verified, 2),
            // 23:30 on the 8th in New York (EDT), the 9th in UTC.
            (at("2026-03-09T03:30:00Z"), VerificationStatus::Failed, 1),
            (at("2026-03-09T03:45:00Z"), VerificationStatus::Verified, 1),
            (at("2026-03-10T15:00:00Z"), VerificationStatus::Expired, 4),
        ];
        let days = InsightsFilter {
            from: d("2026-03-07"),
            to: d("2026-03-10"),
            job_id: None,
            policy: None,
            tier: None,
        };
        let (weekly, periods) = fold_periods(&days, tz, &quarters);
        assert!(!weekly);
        let got: Vec<(String, Vec<(VerificationStatus, i64)>)> = periods
            .into_iter()
            .map(|p| (p.start.to_string(), p.counts))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-03-07".into(), vec![]),
                (
                    "2026-03-08".into(),
                    vec![
                        (VerificationStatus::Verified, 3),
                        (VerificationStatus::Failed, 1)
                    ]
                ),
                ("2026-03-09".into(), vec![]),
                ("2026-03-10".into(), vec![(VerificationStatus::Expired, 4)]),
            ]
        );
        // Over 31 days: weeks from Monday; 8 March 2026 is a Sunday, the 9th a Monday.
        let long = InsightsFilter {
            from: d("2026-02-01"),
            to: d("2026-03-10"),
            job_id: None,
            policy: None,
            tier: None,
        };
        let (weekly, periods) = fold_periods(&long, tz, &quarters);
        assert!(weekly);
        assert_eq!(periods.first().unwrap().start, d("2026-01-26"));
        let week_of_2 = periods.iter().find(|p| p.start == d("2026-03-02")).unwrap();
        assert_eq!(
            week_of_2.counts,
            [
                (VerificationStatus::Verified, 3),
                (VerificationStatus::Failed, 1)
            ]
        );
        let week_of_9 = periods.iter().find(|p| p.start == d("2026-03-09")).unwrap();
        assert_eq!(week_of_9.counts, [(VerificationStatus::Expired, 4)]);
    }

    #[test]
    fn dates_default_to_the_last_90_days_and_bad_ones_say_why() {
        let today = d("2026-12-04");
        let dates = |from, to| RawFilter {
            from,
            to,
            ..RawFilter::default()
        };
        let f = parse_filter(RawFilter::default(), today).unwrap();
        assert_eq!((f.from, f.to), (d("2026-09-06"), today));
        assert_eq!((f.policy, f.tier), (None, None));
        let f = parse_filter(
            RawFilter {
                from: Some("2026-01-01"),
                to: Some(" 2026-01-31 "),
                job_id: Some(3),
                policy: Some(" Remote SWE High Assurance "),
                tier: Some("medium"),
            },
            today,
        )
        .unwrap();
        assert_eq!(
            (f.from, f.to, f.job_id, f.policy.as_deref(), f.tier),
            (
                d("2026-01-01"),
                d("2026-01-31"),
                Some(3),
                Some("Remote SWE High Assurance"),
                Some(RiskTier::Medium)
            )
        );
        let e = parse_filter(
            RawFilter {
                tier: Some("severe"),
                ..RawFilter::default()
            },
            today,
        )
        .unwrap_err();
        assert!(e.to_string().contains("'severe' is not a risk tier"), "{e}");
        let e = parse_filter(dates(Some("01/02/2026"), None), today).unwrap_err();
        assert!(
            e.to_string()
                .contains("'01/02/2026' is not a date for 'from'"),
            "{e}"
        );
        let e = parse_filter(dates(Some("2026-02-01"), Some("2026-01-01")), today).unwrap_err();
        assert!(e.to_string().contains("starts after it ends"), "{e}");
        assert!(parse_filter(dates(Some("2020-01-01"), None), today).is_err());
    }
}
