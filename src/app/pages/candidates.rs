//! The candidate list: search, job and stage filters kept in the URL, keyset pages.
use super::bulk::BulkBar;
use crate::api::candidates::list_candidates;
use crate::app::components::{ErrorNotice, JobSelect};
use crate::model::{
    CandidateQuery, CandidateRow, IntegrityFilter, Permission, RiskTier, Stage, VerificationStatus,
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
                        // The body is one string of markup (see `rows_html`); its checkboxes follow
                        // the selection from here, after it is in the page, and whenever it changes.
                        let body = NodeRef::<leptos::html::Tbody>::new();
                        #[cfg(feature = "hydrate")]
                        Effect::new(move |_| {
                            let all = selection.all_matching.get();
                            if let Some(tbody) = body.get() {
                                selection.rows.with(|chosen| sync_checkboxes(&tbody, all, chosen));
                            }
                        });
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
                                <tbody node_ref=body on:change=move |ev| on_row_checkbox(&ev, selection) inner_html=rows_html(&p.rows, bulk, p.shows_details)></tbody>
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

/// The rows of a list page as one string of escaped markup for the table body: ~13 elements a
/// row (50 rows a page) rendered as views cost more than the rest of the page. The same cells as
/// the header: a checkbox named after the candidate (`data-row`: the application) when `bulk`,
/// the name linking to the profile, email, job, stage, verification with the risk tier, and the
/// integrity score when `details`.
pub fn rows_html(rows: &[CandidateRow], bulk: bool, details: bool) -> String {
    use crate::model::push_escaped;
    use std::fmt::Write;
    let mut html = String::with_capacity(rows.len() * 420);
    for r in rows {
        html.push_str("<tr>");
        if bulk {
            html.push_str("<td><input type=\"checkbox\" aria-label=\"");
            push_escaped(&mut html, &r.name);
            let _ = write!(html, "\" data-row=\"{}\"></td>", r.application_id);
        }
        let _ = write!(html, "<td><a href=\"/candidates/{}\">", r.candidate_id);
        push_escaped(&mut html, &r.name);
        html.push_str("</a></td><td>");
        push_escaped(&mut html, &r.email);
        html.push_str("</td><td>");
        push_escaped(&mut html, &r.job_title);
        let _ = write!(
            html,
            "</td><td><span class=\"stage stage-{}\">{}</span></td><td><span class=\"badge badge-{}\">{}</span>",
            r.stage.as_str(),
            r.stage.label(),
            r.verification_status.as_str(),
            r.verification_status.label()
        );
        if let Some(t) = r.risk_tier {
            let _ = write!(html, "<span class=\"risk\"> {} risk</span>", t.label());
        }
        html.push_str("</td>");
        if details {
            match r.integrity_score {
                Some(s) => {
                    let _ = write!(html, "<td class=\"integrity\">{s}</td>");
                }
                None => html.push_str("<td class=\"integrity\">—</td>"),
            }
        }
        html.push_str("</tr>");
    }
    html
}

/// A checkbox of the table body changed: its row joins or leaves the selection.
fn on_row_checkbox(ev: &leptos::ev::Event, selection: super::bulk::Selection) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(row) = input
            .get_attribute("data-row")
            .and_then(|s| s.parse::<i64>().ok())
        else {
            return;
        };
        let name = input.get_attribute("aria-label").unwrap_or_default();
        let on = input.checked();
        selection.rows.update(|s| {
            if on {
                s.insert(row, name);
            } else {
                s.remove(&row);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, selection);
}

/// Ticks the body's checkboxes of the selected rows (all of them, disabled, when every match is).
#[cfg(feature = "hydrate")]
fn sync_checkboxes(
    tbody: &web_sys::HtmlTableSectionElement,
    all: bool,
    chosen: &std::collections::BTreeMap<i64, String>,
) {
    use wasm_bindgen::JsCast;
    let Ok(list) = tbody.query_selector_all("input[data-row]") else {
        return;
    };
    for i in 0..list.length() {
        let Some(input) = list
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            continue;
        };
        let row = input
            .get_attribute("data-row")
            .and_then(|s| s.parse::<i64>().ok());
        input.set_checked(all || row.is_some_and(|r| chosen.contains_key(&r)));
        input.set_disabled(all);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, risk: Option<RiskTier>, score: Option<i64>) -> CandidateRow {
        CandidateRow {
            application_id: 7,
            candidate_id: 3,
            name: name.into(),
            email: "a&b@example.com".into(),
            job_title: "R&D <lead>".into(),
            stage: Stage::PhoneScreen,
            verification_status: VerificationStatus::NeedsReview,
            risk_tier: risk,
            integrity_score: score,
        }
    }

    #[test]
    fn rows_html_escapes_every_value_and_has_the_header_columns() {
        let rows = [
            row(r#"Zoë "Z" <O'Brien>"#, Some(RiskTier::High), Some(42)),
            row("Ada", None, None),
        ];
        assert_eq!(
            rows_html(&rows[..1], true, true),
            concat!(
                r#"<tr><td><input type="checkbox" aria-label="Zoë &quot;Z&quot; &lt;O'Brien&gt;" data-row="7"></td>"#,
                r#"<td><a href="/candidates/3">Zoë &quot;Z&quot; &lt;O'Brien&gt;</a></td><td>a&amp;b@example.com</td>"#,
                r#"<td>R&amp;D &lt;lead&gt;</td><td><span class="stage stage-phone_screen">Phone screen</span></td>"#,
                r#"<td><span class="badge badge-needs_review">Needs review</span><span class="risk"> High risk</span></td>"#,
                r#"<td class="integrity">42</td></tr>"#
            )
        );
        // A hiring manager's row: no checkbox, no details.
        let plain = rows_html(&rows[1..], false, false);
        assert!(
            plain.starts_with(r#"<tr><td><a href="/candidates/3">Ada</a></td>"#),
            "{plain}"
        );
        assert!(
            !plain.contains("checkbox") && !plain.contains("integrity") && !plain.contains("risk")
        );
        assert_eq!(
            rows_html(&rows[1..], false, true)
                .matches("<td class=\"integrity\">—</td>")
                .count(),
            1
        );
        assert_eq!(rows_html(&rows, true, false).matches("<tr>").count(), 2);
    }

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
