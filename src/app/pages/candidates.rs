//! The candidate list: search, job and stage filters kept in the URL, keyset pages.
use super::bulk::BulkBar;
use crate::api::candidates::list_candidates;
use crate::app::components::{ErrorNotice, JobSelect, StageLabel, StatusBadge};
use crate::model::{
    CandidateQuery, IntegrityFilter, Permission, RiskTier, Stage, VerificationStatus,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

/// The list URL for a query, keeping only the filters that are set.
pub fn list_href(q: &CandidateQuery) -> String {
    let mut parts = Vec::new();
    if let Some(s) = q.search.as_deref().filter(|s| !s.is_empty()) {
        parts.push(format!("q={}", urlencode(s)));
    }
    if let Some(j) = q.job_id {
        parts.push(format!("job={j}"));
    }
    if let Some(s) = q.stage {
        parts.push(format!("stage={}", s.as_str()));
    }
    if let Some(s) = q.status {
        parts.push(format!("status={}", s.as_str()));
    }
    if let Some(r) = q.risk {
        parts.push(format!("risk={}", r.as_str()));
    }
    if let Some(i) = q.integrity {
        parts.push(format!("integrity={}", i.as_str()));
    }
    if let Some(b) = q.before {
        parts.push(format!("before={b}"));
    }
    if parts.is_empty() {
        "/candidates".into()
    } else {
        format!("/candidates?{}", parts.join("&"))
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// 12345 → "12,345".
fn thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[component]
pub fn CandidatesPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = move || {
        let q = query_map.read();
        CandidateQuery {
            search: q.get("q").filter(|s| !s.trim().is_empty()),
            job_id: q.get("job").and_then(|s| s.parse().ok()),
            stage: q.get("stage").and_then(|s| s.parse().ok()),
            status: q.get("status").and_then(|s| s.parse().ok()),
            risk: q.get("risk").and_then(|s| s.parse().ok()),
            integrity: q.get("integrity").and_then(|s| s.parse().ok()),
            before: q.get("before").and_then(|s| s.parse().ok()),
        }
    };
    let page = Resource::new(query, |q| {
        list_candidates(
            q.search,
            q.job_id,
            q.stage,
            q.status,
            q.risk,
            q.integrity,
            q.before,
        )
    });
    let auth = expect_context::<crate::app::Auth>();
    let selection = super::bulk::Selection::new();
    // A new filter is a new list: what was selected on the old one goes.
    Effect::new(move |prev: Option<CandidateQuery>| {
        let q = CandidateQuery {
            before: None,
            ..query()
        };
        if prev.as_ref().is_some_and(|p| p != &q) {
            selection.clear();
        }
        q
    });

    view! {
        <Title text="Candidates · Clearance"/>
        <h1>"Candidates"</h1>
        <Form method="GET" action="/candidates" attr:class="filters" attr:role="search" attr:aria-label="Filter candidates">
            <div class="field">
                <label for="filter-search">"Search"</label>
                <input id="filter-search" type="search" name="q" placeholder="Name or email" prop:value=move || query().search.unwrap_or_default()/>
            </div>
            <JobSelect id="filter-job" selected=Signal::derive(move || query().job_id)/>
            <div class="field">
                <label for="filter-stage">"Stage"</label>
                <select id="filter-stage" name="stage">
                    <option value="">"All stages"</option>
                    {move || {
                        let selected = query().stage;
                        Stage::ALL
                            .into_iter()
                            .map(|s| view! { <option value=s.as_str() selected=Some(s) == selected>{s.label()}</option> })
                            .collect_view()
                    }}
                </select>
            </div>
            <div class="field">
                <label for="filter-status">"Verification"</label>
                <select id="filter-status" name="status">
                    <option value="">"Any status"</option>
                    {move || {
                        let selected = query().status;
                        VerificationStatus::ALL
                            .into_iter()
                            .map(|s| view! { <option value=s.as_str() selected=Some(s) == selected>{s.label()}</option> })
                            .collect_view()
                    }}
                </select>
            </div>
            // Risk tier and integrity are check results: their filters are not offered to hiring managers.
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let details = auth.user.await.ok().flatten().is_some_and(|u| u.role.can(Permission::ViewVerificationDetails));
                    details.then(|| view! {
            <div class="field">
                        <label for="filter-risk">"Risk tier"</label>
                        <select id="filter-risk" name="risk">
                            <option value="">"Any risk"</option>
                            {move || {
                                let selected = query().risk;
                                RiskTier::ALL
                                    .into_iter()
                                    .map(|r| view! { <option value=r.as_str() selected=Some(r) == selected>{r.label()}</option> })
                                    .collect_view()
                            }}
                        </select>
                    </div>
                    <div class="field">
                        <label for="filter-integrity">"Interview integrity"</label>
                        <select id="filter-integrity" name="integrity">
                            <option value="">"Any integrity"</option>
                            {move || {
                                let selected = query().integrity;
                                IntegrityFilter::ALL
                                    .into_iter()
                                    .map(|f| view! { <option value=f.as_str() selected=Some(f) == selected>{f.label()}</option> })
                                    .collect_view()
                            }}
                        </select>
                    </div>
                    })
                })}
            </Transition>
            <button type="submit">"Apply filters"</button>
            <A href="/candidates" attr:class="clear-filters">"Clear"</A>
        </Form>
        <Transition fallback=|| view! { <p class="loading">"Loading candidates…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(p) => {
                        // Bulk actions for those who may send verification (the bar offers each
                        // action to those who may take it).
                        let role = auth.user.await.ok().flatten().map(|u| u.role);
                        let bulk = role.is_some_and(|r| r.can(Permission::RequestVerification));
                        let q = query();
                        let next = p.next_before.map(|b| list_href(&CandidateQuery { before: Some(b), ..q.clone() }));
                        let first = q.before.is_some().then(|| list_href(&CandidateQuery { before: None, ..q.clone() }));
                        view! {
                            <p class="count" aria-live="polite">{format!("{}{} candidate application(s)", thousands(p.total), if p.total_capped { "+" } else { "" })}</p>
                            {bulk.then(|| view! { <BulkBar selection query=Signal::derive(query) total=p.total capped=p.total_capped role=role.unwrap_or(crate::model::Role::HiringManager)/> })}
                            <table class="candidates">
                                <caption class="visually-hidden">"Candidates"</caption>
                                <thead>
                                    <tr>
                                        {bulk.then(|| view! { <th scope="col"><span class="visually-hidden">"Select"</span></th> })}
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"Email"</th>
                                        <th scope="col">"Job"</th>
                                        <th scope="col">"Stage"</th>
                                        <th scope="col">"Verification"</th>
                                        {p.shows_details.then(|| view! { <th scope="col">"Integrity score"</th> })}
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.rows.into_iter().map(|r| { let details = p.shows_details; let (row, name) = (r.application_id, r.name.clone()); view! {
                                        <tr>
                                            {bulk.then(|| view! {
                                                <td><input type="checkbox" aria-label=name.clone()
                                                    prop:checked=move || selection.all_matching.get() || selection.rows.with(|s| s.contains_key(&row))
                                                    disabled=move || selection.all_matching.get()
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        let name = name.clone();
                                                        selection.rows.update(|s| { if on { s.insert(row, name); } else { s.remove(&row); } });
                                                    }/></td>
                                            })}
                                            <td><a href=format!("/candidates/{}", r.candidate_id)>{r.name}</a></td>
                                            <td>{r.email}</td>
                                            <td>{r.job_title}</td>
                                            <td><StageLabel stage=r.stage/></td>
                                            <td>
                                                <StatusBadge status=r.verification_status/>
                                                {r.risk_tier.map(|t| view! { <span class="risk">{format!(" {} risk", t.label())}</span> })}
                                            </td>
                                            {details.then(|| view! { <td class="integrity">{r.integrity_score.map(|s| s.to_string()).unwrap_or_else(|| "—".into())}</td> })}
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pagination">
                                {first.map(|href| view! { <A href=href>"First page"</A> })}
                                {next.map(|href| view! { <A href=href>"Next page"</A> })}
                            </nav>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn href_keeps_only_set_filters() {
        assert_eq!(list_href(&CandidateQuery::default()), "/candidates");
        let q = CandidateQuery {
            search: Some("Ada L&x".into()),
            job_id: Some(3),
            stage: Some(Stage::Offer),
            status: Some(VerificationStatus::NeedsReview),
            risk: Some(RiskTier::High),
            integrity: Some(IntegrityFilter::Below60),
            before: Some(40),
        };
        assert_eq!(
            list_href(&q),
            "/candidates?q=Ada+L%26x&job=3&stage=offer&status=needs_review&risk=high&integrity=below_60&before=40"
        );
    }
}
