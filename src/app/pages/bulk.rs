//! Bulk actions: the bar the candidate list shows over a selection (with the preview before
//! anything runs), and a bulk job's own page (progress while it runs, then each candidate's
//! outcome). The job lives on the server: the page survives reloads and restarts.
use crate::api::bulk::{bulk_job, preview_bulk, start_bulk, CancelBulk};
use crate::app::components::{ErrorNotice, LocalTime};
use crate::error::AppError;
use crate::model::{BulkAction, BulkPreview, BulkState, CandidateQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::collections::BTreeMap;

/// What is selected on the list: ticked rows (application id → candidate name), or every row
/// matching the filters.
#[derive(Clone, Copy)]
pub struct Selection {
    pub rows: RwSignal<BTreeMap<i64, String>>,
    pub all_matching: RwSignal<bool>,
}

impl Selection {
    pub fn new() -> Selection {
        Selection {
            rows: RwSignal::new(BTreeMap::new()),
            all_matching: RwSignal::new(false),
        }
    }

    pub fn clear(&self) {
        self.rows.set(BTreeMap::new());
        self.all_matching.set(false);
    }
}

impl Default for Selection {
    fn default() -> Self {
        Selection::new()
    }
}

/// A key for one submission: a double click or a retry sends the same one (one bulk job).
fn request_key() -> String {
    #[cfg(feature = "hydrate")]
    {
        format!(
            "{:x}-{:x}",
            js_sys::Date::now() as u64,
            (js_sys::Math::random() * 1e15) as u64
        )
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

type Request = (Vec<i64>, bool, CandidateQuery, String);

/// "Export selection": the CSV of the ticked rows, or of every match of the list's filters.
fn export_href(selection: &Selection, query: &CandidateQuery) -> String {
    if selection.all_matching.get_untracked() {
        let list = super::candidates::list_href(&CandidateQuery {
            before: None,
            ..query.clone()
        });
        match list.split_once('?') {
            Some((_, filters)) => format!("/candidates/selection.csv?all=true&{filters}"),
            None => "/candidates/selection.csv?all=true".into(),
        }
    } else {
        let rows: Vec<String> = selection
            .rows
            .with_untracked(|r| r.keys().map(|id| id.to_string()).collect());
        format!("/candidates/selection.csv?rows={}", rows.join(","))
    }
}

/// The bar over a selection: how many, "Select all matching", the action, and its preview.
#[component]
pub fn BulkBar(
    selection: Selection,
    query: Signal<CandidateQuery>,
    /// Rows matching the filters (as counted for the list) and whether that count was capped.
    total: i64,
    capped: bool,
) -> impl IntoView {
    let request = move || -> Request {
        let rows = selection.rows.with(|r| r.keys().copied().collect());
        (
            rows,
            selection.all_matching.get(),
            query.get(),
            request_key(),
        )
    };
    let preview = Action::new(|r: &Request| {
        let (rows, all, q, _) = r.clone();
        async move {
            preview_bulk(
                BulkAction::SendVerification,
                rows,
                all,
                q.search,
                q.job_id,
                q.stage,
                q.status,
                q.risk,
                q.integrity,
            )
            .await
        }
    });
    // The request the preview was made for: starting sends exactly that (and its key).
    let previewed = RwSignal::new(None::<Request>);
    let start = Action::new(|r: &Request| {
        let (rows, all, q, key) = r.clone();
        async move {
            start_bulk(
                key,
                BulkAction::SendVerification,
                rows,
                all,
                q.search,
                q.job_id,
                q.stage,
                q.status,
                q.risk,
                q.integrity,
            )
            .await
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/bulk/{id}"), Default::default());
        }
    });
    let count = move || selection.rows.with(|r| r.len());
    let matching = format!("{total}{}", if capped { "+" } else { "" });
    let matching_label = matching.clone();
    view! {
        <section class="bulk-bar" aria-label="Bulk actions">
            <p role="status">
                {move || if selection.all_matching.get() {
                    format!("All {matching} matching these filters selected (up to 5,000)")
                } else {
                    format!("{} selected", count())
                }}
            </p>
            <button type="button" on:click=move |_| selection.all_matching.set(true) disabled=move || selection.all_matching.get()>
                {format!("Select all matching ({matching_label})")}
            </button>
            <button type="button" on:click=move |_| { selection.clear(); previewed.set(None); }>"Clear selection"</button>
            <button type="button" disabled=move || count() == 0 && !selection.all_matching.get() on:click=move |_| {
                let href = export_href(&selection, &query.get_untracked());
                #[cfg(feature = "hydrate")]
                if let Some(w) = web_sys::window() {
                    let _ = w.location().assign(&href);
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = href;
            }>"Export selection"</button>
            <button type="button" class="primary" disabled=move || count() == 0 && !selection.all_matching.get() on:click=move |_| {
                let r = request();
                previewed.set(Some(r.clone()));
                preview.dispatch(r);
            }>"Send verification"</button>
        </section>
        {move || previewed.get().and(preview.value().get()).map(|result: Result<BulkPreview, AppError>| match result {
            Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
            Ok(p) => view! {
                <section class="card bulk-preview" aria-label="Preview of the bulk action">
                    <h2>"Send verification: preview"</h2>
                    <p>{format!("Verification will be sent to {} of {} selected candidate(s).", p.proceed, p.selected)}</p>
                    {p.capped.then(|| view! { <p>"Only the first 5,000 matching candidates are included."</p> })}
                    <ul class="skip-reasons">
                        {p.skipped.into_iter().map(|g| view! {
                            <li>
                                {format!("{} not sent — {}", g.count, g.reason)}
                                " "<span class="names">{format!("({}{})", g.first_names.join(", "), if g.count as usize > g.first_names.len() { ", …" } else { "" })}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                    {move || start.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
                    <button type="button" class="primary" disabled=move || p.proceed == 0 || start.pending().get() on:click=move |_| {
                        if let Some(r) = previewed.get_untracked() { start.dispatch(r); }
                    }>{format!("Start: send to {}", p.proceed)}</button>
                    <button type="button" on:click=move |_| previewed.set(None)>"Back"</button>
                </section>
            }.into_any(),
        })}
    }
}

#[component]
pub fn BulkJobPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let cancel = ServerAction::<CancelBulk>::new();
    // While the job runs, it is read again every second (the bar and the counts move).
    let running = RwSignal::new(true);
    let (tick, set_tick) = signal(0u32);
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if running.get_untracked() {
                    set_tick.update(|t| *t += 1)
                }
            },
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = set_tick;
    let job = Resource::new(
        move || (id(), tick.get(), cancel.version().get()),
        |(id, _, _)| bulk_job(id),
    );
    view! {
        <Title text="Bulk job · Clearance"/>
        <h1>{move || format!("Bulk job {}", id())}</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading the bulk job…"</p> }>
            {move || Suspend::new(async move {
                match job.await {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(j) => {
                        running.set(j.state == BulkState::Running);
                        let reached = j.total - j.pending;
                        view! {
                            <section class="card">
                                <p>{j.action.label()}" — started by "{j.created_by.clone()}" "<LocalTime at=j.created_at/></p>
                                <p role="status" class="bulk-state">{j.state.label()}</p>
                                <progress max=j.total value=reached aria-label="Progress"></progress>
                                <p class="bulk-counts">{format!("{reached} of {} reached: {} done, {} skipped, {} failed; {} waiting", j.total, j.done, j.skipped, j.failed, j.pending)}</p>
                                {(j.state == BulkState::Running).then(|| view! {
                                    <ActionForm action=cancel>
                                        <input type="hidden" name="id" value=j.id/>
                                        <button type="submit">"Cancel bulk job"</button>
                                    </ActionForm>
                                })}
                                {move || cancel.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
                                <p class="csv-link"><a href=format!("/bulk/{}/results.csv", j.id) rel="external" download="">"Download results (CSV)"</a></p>
                            </section>
                            <table class="bulk-items">
                                <caption>{format!("Candidates ({} shown)", j.items.len())}</caption>
                                <thead><tr><th scope="col">"Candidate"</th><th scope="col">"Outcome"</th><th scope="col">"Detail"</th></tr></thead>
                                <tbody>
                                    {j.items.into_iter().map(|i| view! {
                                        <tr>
                                            <td><A href=format!("/candidates/{}", i.candidate_id)>{i.name}</A></td>
                                            <td>{i.outcome.label()}</td>
                                            <td>{i.detail.unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
