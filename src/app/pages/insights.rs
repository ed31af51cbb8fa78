//! The Insights page: the hiring funnel, verification outcomes, time to each event and the review
//! SLA for a date range and job (all in the URL). Every count of candidates links to the list
//! behind it; the funnel's chart is server-rendered SVG with its table as the text alternative.
use crate::api::insights::get_insights;
use crate::app::components::{ErrorNotice, JobSelect, LocalTime};
use crate::model::{
    human_duration, FunnelStep, Insights, InsightsFilter, OutcomePeriod, RiskTier,
    VerificationStatus,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

#[component]
pub fn InsightsPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = move || {
        let q = query_map.read();
        (
            q.get("from").filter(|s| !s.is_empty()),
            q.get("to").filter(|s| !s.is_empty()),
            q.get("job").and_then(|s| s.parse::<i64>().ok()),
            q.get("policy").filter(|s| !s.is_empty()),
            q.get("tier").filter(|s| !s.is_empty()),
        )
    };
    let figures = Resource::new(query, |(from, to, job, policy, tier)| {
        get_insights(from, to, job, policy, tier)
    });
    // The policies come with the figures: the choice keeps the last list it saw.
    let policies = RwSignal::new(Vec::<String>::new());
    view! {
        <Title text="Insights · Clearance"/>
        <h1>"Insights"</h1>
        <Form method="GET" action="/insights" attr:class="filters" attr:role="search" attr:aria-label="Insights range">
            <div class="field">
                <label for="insights-from">"From"</label>
                <input id="insights-from" type="date" name="from" prop:value=move || query().0.unwrap_or_default()/>
            </div>
            <div class="field">
                <label for="insights-to">"To"</label>
                <input id="insights-to" type="date" name="to" prop:value=move || query().1.unwrap_or_default()/>
            </div>
            <JobSelect id="insights-job" selected=Signal::derive(move || query().2)/>
            <div class="field">
                <label for="insights-policy">"Policy"</label>
                <select id="insights-policy" name="policy">
                    <option value="" selected=move || query().3.is_none()>"All policies"</option>
                    {move || {
                        let chosen = query().3;
                        let mut names = policies.get();
                        if let Some(c) = chosen.clone().filter(|c| !names.contains(c)) {
                            names.push(c);
                        }
                        names.into_iter().map(|n| {
                            let selected = chosen.as_deref() == Some(n.as_str());
                            view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                        }).collect_view()
                    }}
                </select>
            </div>
            <div class="field">
                <label for="insights-tier">"Risk tier"</label>
                <select id="insights-tier" name="tier">
                    <option value="" selected=move || query().4.is_none()>"All tiers"</option>
                    {RiskTier::ALL.into_iter().map(|t| view! {
                        <option value=t.as_str() selected=move || query().4.as_deref() == Some(t.as_str())>{t.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <button type="submit" class="primary">"Show"</button>
        </Form>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match figures.await {
                    Ok(f) => {
                        policies.set(f.policies.clone());
                        view! { <Figures f=f/> }.into_any()
                    }
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/candidates?…&job=J&risk=T`: the list behind a number, with the page's job and risk tier
/// kept (the list has no policy filter: its numbers cover every policy's jobs).
fn list_link(filter: &str, f: &InsightsFilter) -> String {
    let job = f.job_id.map(|j| format!("&job={j}")).unwrap_or_default();
    let tier = f
        .tier
        .map(|t| format!("&risk={}", t.as_str()))
        .unwrap_or_default();
    format!("/candidates?{filter}{job}{tier}")
}

/// The CSV download of one table for the filter the page shows.
fn csv_link(table: &str, f: &InsightsFilter) -> String {
    let job = f.job_id.map(|j| format!("&job={j}")).unwrap_or_default();
    let policy = f
        .policy
        .as_deref()
        .map(|p| format!("&policy={}", urlencoding_min(p)))
        .unwrap_or_default();
    let tier = f
        .tier
        .map(|t| format!("&tier={}", t.as_str()))
        .unwrap_or_default();
    format!(
        "/insights/export.csv?table={table}&from={}&to={}{job}{policy}{tier}",
        f.from, f.to
    )
}

/// A policy name in a URL: its letters, digits and `-_.~` as they are, the rest percent-encoded.
fn urlencoding_min(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn CsvLink(what: &'static str, href: String) -> impl IntoView {
    view! { <p class="csv-link"><a href=href rel="external" download="">{format!("Download {what} (CSV)")}</a></p> }
}

fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{}%", (part * 100 + whole / 2) / whole)
    }
}

#[component]
fn Figures(f: Insights) -> impl IntoView {
    let filter = f.filter.clone();
    let range = format!(
        "{} applications created from {} to {} (organisation time).",
        f.applications, f.filter.from, f.filter.to
    );
    let csv = |table: &str| csv_link(table, &f.filter);
    let (funnel_csv, outcomes_csv, tiers_csv, timings_csv, sla_csv) = (
        csv("funnel"),
        csv("outcomes"),
        csv("tiers"),
        csv("timings"),
        csv("sla"),
    );
    let funnel = f.funnel.clone();
    let first = funnel.first().map_or(0, |s| s.reached);
    let befores: Vec<Option<i64>> = std::iter::once(None)
        .chain(funnel.iter().map(|s| Some(s.reached)))
        .collect();
    let rows = funnel
        .into_iter()
        .zip(befores)
        .map(|(s, before)| {
            let reached = s.reached;
            let now_at = s.now_at;
            let stage = s.stage.label();
            let href = list_link(&format!("stage={}", s.stage.as_str()), &filter);
            let label = format!("{now_at} candidates now at {stage}");
            let from_before = before.map_or_else(|| "–".to_string(), |b| percent(reached, b));
            let of_all = percent(reached, first);
            view! {
                <tr>
                    <th scope="row">{stage}</th>
                    <td>{reached}</td>
                    <td>{from_before}</td>
                    <td>{of_all}</td>
                    <td><A href=href attr:aria-label=label>{now_at}</A></td>
                </tr>
            }
        })
        .collect_view();
    // What the outcome and tier counts link to (each table's rows own theirs).
    let by_status = f.filter.clone();
    let by_tier = InsightsFilter {
        tier: None,
        ..f.filter.clone()
    };
    view! {
        <p class="insights-range">{range}" Figures as of "<LocalTime at=f.as_of/>"."</p>
        <section class="card" aria-labelledby="funnel-heading">
            <h2 id="funnel-heading">"Hiring funnel"</h2>
            <FunnelChart steps=f.funnel.clone()/>
            <FigureTable caption="Applications that reached each stage (or a later one), and where they are now" headers=&["Stage", "Reached", "From the stage before", "Of all applications", "There now"]>
                {rows}
            </FigureTable>
            <CsvLink what="the funnel" href=funnel_csv/>
        </section>
        <section class="card" aria-labelledby="outcomes-heading">
            <h2 id="outcomes-heading">"Verification outcomes"</h2>
            <FigureTable caption="Candidates with an application in the range, by verification status now" headers=&["Status", "Candidates"]>
                {f.outcomes.into_iter().map(|o| {
                        let href = list_link(&format!("status={}", o.status.as_str()), &by_status);
                        let label = format!("{} candidates {}", o.candidates, o.status.label());
                        view! {
                            <tr>
                                <th scope="row">{o.status.label()}</th>
                                <td><A href=href attr:aria-label=label>{o.candidates}</A></td>
                            </tr>
                        }
                    }).collect_view()}
            </FigureTable>
            <CsvLink what="the outcomes" href=outcomes_csv/>
            <FigureTable caption="The same candidates by risk tier (their latest result's)" headers=&["Risk tier", "Candidates"]>
                {f.tier_mix.into_iter().map(|t| {
                        let name = t.tier.map_or("No tier yet", |r| r.label());
                        let count = match t.tier {
                            Some(tier) => {
                                let href = list_link(&format!("risk={}", tier.as_str()), &by_tier);
                                let label = format!("{} candidates of risk tier {}", t.candidates, tier.label());
                                view! { <A href=href attr:aria-label=label>{t.candidates}</A> }.into_any()
                            }
                            None => view! { {t.candidates} }.into_any(),
                        };
                        view! { <tr><th scope="row">{name}</th><td>{count}</td></tr> }
                    }).collect_view()}
            </FigureTable>
            <CsvLink what="the risk-tier mix" href=tiers_csv/>
            <h3>{if f.weekly { "Results by week" } else { "Results by day" }}</h3>
            <ResultsChart periods=f.over_time.clone() weekly=f.weekly/>
            <details>
                <summary>"Show the results as a table"</summary>
                <ResultsTable periods=f.over_time.clone()/>
            </details>
        </section>
        <section class="card" aria-labelledby="timing-heading">
            <h2 id="timing-heading">"Time to each event"</h2>
            <FigureTable caption="Median and 90th percentile (nearest rank), per risk tier" headers=&["Interval", "Risk tier", "How many", "Median", "90th percentile"] empty=f.timings.is_empty().then_some("Nothing finished in this range yet.")>
                {f.timings.into_iter().map(|t| view! {
                                <tr>
                                    <th scope="row">{t.interval.label()}</th>
                                    <td>{t.tier.map_or("No tier", |r| r.label())}</td>
                                    <td>{t.count}</td>
                                    <td>{human_duration(t.p50_seconds)}</td>
                                    <td>{human_duration(t.p90_seconds)}</td>
                                </tr>
                            }).collect_view()}
            </FigureTable>
            <CsvLink what="the timings" href=timings_csv/>
        </section>
        <section class="card" aria-labelledby="sla-heading">
            <h2 id="sla-heading">"Review SLA"</h2>
            <FigureTable caption="Review items opened in the range, per risk tier" headers=&["Risk tier", "Decided within SLA", "Decided late", "Open", "Past deadline now", "Oldest open since"] empty=f.sla.is_empty().then_some("No review opened in this range.")>
                {f.sla.into_iter().map(|s| view! {
                                <tr>
                                    <th scope="row">{s.tier.map_or("No tier", |r| r.label())}</th>
                                    <td>{s.decided_within}</td>
                                    <td>{s.decided_after}</td>
                                    <td>{s.open}</td>
                                    <td>{s.breached}</td>
                                    <td>{match s.oldest_open {
                                        Some(at) => view! { <LocalTime at=at/> }.into_any(),
                                        None => view! { "–" }.into_any(),
                                    }}</td>
                                </tr>
                            }).collect_view()}
            </FigureTable>
            <CsvLink what="the review SLA" href=sla_csv/>
        </section>
        <section class="card" aria-labelledby="gate-heading">
            <h2 id="gate-heading">"Gate activity"</h2>
            <FigureTable caption="Stage moves the gate blocked, by the stage they were for and the reason" headers=&["Stage", "Reason", "Blocked moves"] empty=f.blocked.is_empty().then_some("No stage move was blocked in this range.")>
                {f.blocked.into_iter().map(|b| view! {
                                <tr>
                                    <th scope="row">{b.stage.map_or("Unknown stage", |s| s.label())}</th>
                                    <td><code>{b.reason_code}</code></td>
                                    <td>{b.moves}</td>
                                </tr>
                            }).collect_view()}
            </FigureTable>
            <FigureTable caption="Stage exceptions granted, and how many have expired" headers=&["Stage", "Granted", "Expired"] empty=f.exceptions.is_empty().then_some("No stage exception was granted in this range.")>
                {f.exceptions.into_iter().map(|e| view! {
                                <tr>
                                    <th scope="row">{e.stage.label()}</th>
                                    <td>{e.granted}</td>
                                    <td>{e.expired}</td>
                                </tr>
                            }).collect_view()}
            </FigureTable>
        </section>
        <section class="card" aria-labelledby="drift-heading">
            <h2 id="drift-heading">"Drift and dead letters"</h2>
            <FigureTable caption="Reconciliation runs (all jobs), newest first: sessions found drifted from the provider and fixed" headers=&["Started", "Trigger", "State", "Checked", "Drifted", "Fixed"] empty=f.runs.is_empty().then_some("No reconciliation ran in this range.")>
                {f.runs.into_iter().map(|r| view! {
                                <tr>
                                    <th scope="row"><LocalTime at=r.started_at/></th>
                                    <td>{r.trigger.label()}</td>
                                    <td>{r.state.label()}</td>
                                    <td>{r.checked}</td>
                                    <td>{r.drifted}</td>
                                    <td>{r.fixed}</td>
                                </tr>
                            }).collect_view()}
            </FigureTable>
            <FigureTable caption="Deliveries dead-lettered, by where they were going" headers=&["Delivery", "Partner", "Dead-lettered"] empty=f.dead_letters.is_empty().then_some("No delivery was dead-lettered in this range.")>
                {f.dead_letters.into_iter().map(|d| {
                                let what = d.kind.parse::<crate::model::JobKind>().map_or(d.kind.clone(), |k| k.label().to_string());
                                view! {
                                    <tr>
                                        <th scope="row">{what}</th>
                                        <td>{d.partner.unwrap_or_else(|| "–".into())}</td>
                                        <td><A href="/deliveries">{d.count}</A></td>
                                    </tr>
                                }
                            }).collect_view()}
            </FigureTable>
        </section>
    }
}

/// A table of figures under its caption and column headers; `empty`, when given, is said instead
/// of a table with no rows.
#[component]
fn FigureTable(
    caption: &'static str,
    headers: &'static [&'static str],
    #[prop(default = None)] empty: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    match empty {
        Some(text) => view! { <p>{text}</p> }.into_any(),
        None => view! {
            <table class="audit">
                <caption>{caption}</caption>
                <thead><tr>
                    {headers.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}
                </tr></thead>
                <tbody>{children()}</tbody>
            </table>
        }
        .into_any(),
    }
}

/// A colour-blind-safe colour per status (Okabe–Ito), with the status's name beside it in the legend.
fn colour(status: VerificationStatus) -> &'static str {
    match status {
        VerificationStatus::Verified => "#009E73",
        VerificationStatus::Failed => "#D55E00",
        VerificationStatus::NeedsReview => "#E69F00",
        VerificationStatus::Expired => "#999999",
        VerificationStatus::InProgress => "#56B4E9",
        VerificationStatus::NotStarted => "#CC79A7",
    }
}

/// Provider results that arrived, stacked by status, one bar per day or week.
#[component]
fn ResultsChart(periods: Vec<OutcomePeriod>, weekly: bool) -> impl IntoView {
    const HEIGHT: i64 = 160;
    let n = periods.len().max(1) as i64;
    let slot = (600 / n).clamp(4, 40);
    let width = slot * n;
    let most = periods
        .iter()
        .map(|p| p.counts.iter().map(|(_, c)| c).sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let total: i64 = periods
        .iter()
        .flat_map(|p| p.counts.iter().map(|(_, c)| c))
        .sum();
    let words = format!(
        "{total} results over {} {}{}",
        periods.len(),
        if weekly { "week" } else { "day" },
        if periods.len() == 1 { "" } else { "s" }
    );
    let bars = periods
        .into_iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let x = i as i64 * slot;
            let mut y = HEIGHT;
            p.counts
                .into_iter()
                .map(|(status, count)| {
                    let h = HEIGHT * count / most;
                    y -= h;
                    view! {
                        <rect x=x.to_string() y=y.to_string() width=(slot - 2).max(1).to_string() height=h.to_string() fill=colour(status)>
                            <title>{format!("{}: {count} {}", p.start, status.label())}</title>
                        </rect>
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect_view();
    view! {
        <svg class="results-chart" role="img" aria-label=words viewBox=format!("0 0 {width} {HEIGHT}")
             width="100%" height="160" preserveAspectRatio="none">
            {bars}
        </svg>
        <ul class="legend">
            {VerificationStatus::ALL.into_iter().filter(|s| !matches!(s, VerificationStatus::NotStarted | VerificationStatus::InProgress)).map(|s| view! {
                <li><span class=format!("swatch swatch-{}", s.as_str()) aria-hidden="true"></span>{s.label()}</li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn ResultsTable(periods: Vec<OutcomePeriod>) -> impl IntoView {
    let statuses = [
        VerificationStatus::Verified,
        VerificationStatus::NeedsReview,
        VerificationStatus::Failed,
        VerificationStatus::Expired,
    ];
    view! {
        <table class="audit">
            <thead><tr>
                <th scope="col">"From"</th>
                {statuses.into_iter().map(|s| view! { <th scope="col">{s.label()}</th> }).collect_view()}
            </tr></thead>
            <tbody>
                {periods.into_iter().map(|p| view! {
                    <tr>
                        <th scope="row">{p.start.to_string()}</th>
                        {statuses.into_iter().map(|s| {
                            let n = p.counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
                            view! { <td>{n}</td> }
                        }).collect_view()}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Horizontal bars, one per stage, scaled to the first; its words are in `aria-label`, and the
/// table under it says the same.
#[component]
fn FunnelChart(steps: Vec<FunnelStep>) -> impl IntoView {
    const WIDTH: i64 = 600;
    const BAR: i64 = 22;
    const LABEL: i64 = 190;
    let most = steps.iter().map(|s| s.reached).max().unwrap_or(0).max(1);
    let words = steps
        .iter()
        .map(|s| format!("{} {}", s.stage.label(), s.reached))
        .collect::<Vec<_>>()
        .join(", ");
    let height = steps.len() as i64 * (BAR + 8);
    view! {
        <svg class="funnel-chart" role="img" aria-label=format!("Funnel: {words}")
             viewBox=format!("0 0 {WIDTH} {height}") width="100%" preserveAspectRatio="xMinYMin meet">
            {steps.into_iter().enumerate().map(|(i, s)| {
                let y = i as i64 * (BAR + 8);
                let w = (WIDTH - LABEL - 60) * s.reached / most;
                view! {
                    <text x="0" y=(y + 16).to_string() class="funnel-label">{s.stage.label()}</text>
                    <rect x=LABEL.to_string() y=y.to_string() width=w.max(1).to_string() height=BAR.to_string() class="funnel-bar"/>
                    <text x=(LABEL + w + 6).to_string() y=(y + 16).to_string() class="funnel-value">{s.reached}</text>
                }
            }).collect_view()}
        </svg>
    }
}
