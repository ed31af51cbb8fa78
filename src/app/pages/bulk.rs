//! Bulk actions: the bar the candidate list shows over a selection (with the preview before
//! anything runs), and a bulk job's own page (progress while it runs, then each candidate's
//! outcome). The job lives on the server: the page survives reloads and restarts.
use crate::api::bulk::{bulk_job, preview_bulk, start_bulk, CancelBulk};
use crate::app::components::{ErrorNotice, LocalTime};
use crate::app::pages::background::{OrderChoice, OrderPicker};
use crate::error::AppError;
use crate::model::{
    BulkAction, BulkPreview, BulkState, CandidateQuery, ChangeKind, Permission, Role, Stage,
};
use leptos::prelude::*;
use leptos_meta::Title;
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

/// A bulk request as the bar sends it: the selection, its key, and the action with its fields.
#[derive(Clone)]
struct Request {
    rows: Vec<i64>,
    all_matching: bool,
    query: CandidateQuery,
    key: String,
    action: BulkAction,
    move_to: Option<Stage>,
    order: Option<OrderChoice>,
}

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

/// Calls the server function `f` with the request's selection and action fields, then `extra`.
macro_rules! call_with {
    ($f:ident, $r:expr $(, $extra:expr)*) => {{
        let r: Request = $r;
        let (q, order) = (r.query, r.order);
        $f(
            r.action,
            r.rows,
            r.all_matching,
            q.search,
            q.job_id,
            q.stage,
            q.status,
            q.risk,
            q.integrity,
            r.move_to,
            order.as_ref().map(|o| o.partner_id),
            order.as_ref().map(|o| o.package_id.clone()),
            order.map(|o| o.add_on_ids).unwrap_or_default(),
            $($extra),*
        )
        .await
    }};
}

async fn preview_of(r: Request) -> Result<BulkPreview, AppError> {
    call_with!(preview_bulk, r)
}

/// Starts what was previewed: the same request and key, and an order at the total shown.
async fn start_of(r: Request, total_each: Option<String>) -> Result<i64, AppError> {
    let key = r.key.clone();
    call_with!(start_bulk, r, key, total_each)
}

/// What the preview says will happen, and the start button's words.
fn proceed_text(p: &BulkPreview) -> (String, String) {
    let n = p.proceed;
    match p.action {
        BulkAction::SendVerification => (
            format!(
                "Verification will be sent to {n} of {} selected candidate(s).",
                p.selected
            ),
            format!("Start: send to {n}"),
        ),
        BulkAction::OrderBackgroundCheck => (
            format!(
                "A background check will be ordered for {n} of {} selected candidate(s).",
                p.selected
            ),
            format!("Start: order for {n}"),
        ),
        BulkAction::MoveStage => (
            format!(
                "{n} of {} selected application(s) will move to {}.",
                p.selected,
                p.stage.map_or("", |s| s.label())
            ),
            format!("Start: move {n}"),
        ),
    }
}

/// The bar over a selection: how many, "Select all matching", the actions `role` may take, and
/// the preview before anything runs.
#[component]
pub fn BulkBar(
    selection: Selection,
    query: Signal<CandidateQuery>,
    /// Rows matching the filters (as counted for the list) and whether that count was capped.
    total: i64,
    capped: bool,
    role: Role,
) -> impl IntoView {
    let request =
        move |action: BulkAction, move_to: Option<Stage>, order: Option<OrderChoice>| Request {
            rows: selection
                .rows
                .with_untracked(|r| r.keys().copied().collect()),
            all_matching: selection.all_matching.get_untracked(),
            query: query.get_untracked(),
            key: request_key(),
            action,
            move_to,
            order,
        };
    let preview = Action::new(|r: &Request| preview_of(r.clone()));
    // The request the preview was made for: starting sends exactly that (and its key).
    let previewed = RwSignal::new(None::<Request>);
    let ask = move |r: Request| {
        previewed.set(Some(r.clone()));
        preview.dispatch(r);
    };
    let start =
        Action::new(|(r, each): &(Request, Option<String>)| start_of(r.clone(), each.clone()));
    // Which action's form is open (an order's package, a move's stage).
    let choosing = RwSignal::new(None::<BulkAction>);
    let move_to = RwSignal::new(Stage::PhoneScreen);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/bulk/{id}"), Default::default());
        }
    });
    let count = move || selection.rows.with(|r| r.len());
    let none = move || count() == 0 && !selection.all_matching.get();
    let matching = format!("{total}{}", if capped { "+" } else { "" });
    let matching_label = matching.clone();
    let open = move |action: BulkAction| {
        previewed.set(None);
        choosing.update(|c| {
            *c = if *c == Some(action) {
                None
            } else {
                Some(action)
            }
        });
    };
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
            <button type="button" on:click=move |_| { selection.clear(); previewed.set(None); choosing.set(None); }>"Clear selection"</button>
            <button type="button" disabled=none on:click=move |_| {
                let href = export_href(&selection, &query.get_untracked());
                #[cfg(feature = "hydrate")]
                if let Some(w) = web_sys::window() {
                    let _ = w.location().assign(&href);
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = href;
            }>"Export selection"</button>
            <button type="button" class="primary" disabled=none on:click=move |_| {
                choosing.set(None);
                ask(request(BulkAction::SendVerification, None, None));
            }>"Send verification"</button>
            {role.can(Permission::OrderBackgroundCheck).then(|| view! {
                <button type="button" disabled=none aria-expanded=move || (choosing.get() == Some(BulkAction::OrderBackgroundCheck)).to_string()
                    on:click=move |_| open(BulkAction::OrderBackgroundCheck)>"Order background check"</button>
            })}
            {role.can(Permission::MoveStage).then(|| view! {
                <button type="button" disabled=none aria-expanded=move || (choosing.get() == Some(BulkAction::MoveStage)).to_string()
                    on:click=move |_| open(BulkAction::MoveStage)>"Move to stage"</button>
            })}
        </section>
        {move || match choosing.get() {
            Some(BulkAction::OrderBackgroundCheck) => view! {
                <section class="card bulk-form" aria-label="Order for the selection">
                    <h2>"Order background check for the selection"</h2>
                    <p>"One package and its add-ons for every selected candidate, each for the job of their row."</p>
                    <OrderPicker jobs=Vec::new() submit_label="Preview order" busy=preview.pending().into()
                        on_choose=Callback::new(move |c: OrderChoice| ask(request(BulkAction::OrderBackgroundCheck, None, Some(c))))/>
                </section>
            }.into_any(),
            Some(BulkAction::MoveStage) => view! {
                <section class="card bulk-form" aria-label="Move the selection">
                    <h2>"Move the selection to a stage"</h2>
                    <label for="bulk-move-to">"Stage to move to"</label>
                    <select id="bulk-move-to" on:change=move |ev| {
                        if let Ok(s) = event_target_value(&ev).parse::<Stage>() { move_to.set(s); }
                    }>
                        {Stage::ALL.iter().filter(|s| **s != Stage::Applied).map(|s| view! {
                            <option value=s.as_str() selected=*s == move_to.get_untracked()>{s.label()}</option>
                        }).collect_view()}
                    </select>
                    <button type="button" disabled=move || preview.pending().get() on:click=move |_| {
                        ask(request(BulkAction::MoveStage, Some(move_to.get_untracked()), None));
                    }>"Preview move"</button>
                </section>
            }.into_any(),
            _ => ().into_any(),
        }}
        {move || previewed.get().and(preview.value().get()).map(|result: Result<BulkPreview, AppError>| match result {
            Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
            Ok(p) => {
                let (says, start_label) = proceed_text(&p);
                let each = p.order.as_ref().map(|o| o.each.to_string());
                view! {
                    <section class="card bulk-preview" aria-label="Preview of the bulk action">
                        <h2>{format!("{}: preview", p.action.label())}</h2>
                        <p>{says}</p>
                        {p.order.clone().map(|o| view! {
                            <p class="bulk-order">
                                {format!("{} — {}{}", o.partner, o.package, if o.add_ons.is_empty() { String::new() } else { format!(" + {}", o.add_ons.join(", ")) })}
                                <br/>
                                {let (each, total) = o.amounts(); format!("{each} each; total {total} for {} candidate(s)", p.proceed)}
                            </p>
                        })}
                        {p.capped.then(|| view! { <p>"Only the first 5,000 matching candidates are included."</p> })}
                        <ul class="skip-reasons">
                            {p.skipped.into_iter().map(|g| view! {
                                <li>
                                    {format!("{} skipped — {}", g.count, g.reason)}
                                    " "<span class="names">{format!("({}{})", g.first_names.join(", "), if g.count as usize > g.first_names.len() { ", …" } else { "" })}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                        {move || start.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
                        <button type="button" class="primary" disabled=move || p.proceed == 0 || start.pending().get() on:click=move |_| {
                            if let Some(r) = previewed.get_untracked() { start.dispatch((r, each.clone())); }
                        }>{start_label}</button>
                        <button type="button" on:click=move |_| previewed.set(None)>"Back"</button>
                    </section>
                }.into_any()
            }
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
    // While the job runs, each item's outcome and the job's end come over GET /events: the page
    // reads the job again then, at most twice a second however fast the items go by.
    let running = RwSignal::new(true);
    let live = crate::app::components::live_changes(None, &[ChangeKind::Bulk], 2);
    let (tick, set_tick) = signal(0u32);
    #[cfg(feature = "hydrate")]
    {
        let told = StoredValue::new(false);
        Effect::new(move |_| {
            live.get();
            told.set_value(true);
        });
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if running.get_untracked() && told.get_value() {
                    told.set_value(false);
                    set_tick.update(|t| *t += 1)
                }
            },
            std::time::Duration::from_millis(500),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (set_tick, live);
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
                                <p>{j.action.label()}{j.stage.map(|s| format!(": {}", s.label()))}" — started by "{j.created_by.clone()}" "<LocalTime at=j.created_at/></p>
                                {j.order.clone().map(|o| view! {
                                    <p class="bulk-order">{let (each, total) = o.amounts(); format!("{} — {}{}; {each} each, {total} ordered so far", o.partner, o.package, if o.add_ons.is_empty() { String::new() } else { format!(" + {}", o.add_ons.join(", ")) })}</p>
                                })}
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
                                            <td><a href=format!("/candidates/{}", i.candidate_id)>{i.name}</a></td>
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
