//! The audit page: verify the chain, see the latest signed checkpoint and the newest entries.
use crate::api::audit::{latest_checkpoint, recent_audit, ExportCount, VerifyAuditChain};
use crate::api::candidates::list_jobs;
use crate::app::components::{ErrorNotice, LocalTime};
use crate::model::{AuditEntry, ChainReport};
use leptos::prelude::*;
use leptos_meta::Title;

/// The verification result in plain words.
pub fn report_text(r: &ChainReport) -> String {
    match r {
        ChainReport::Intact { count, .. } => {
            format!("Intact through entry {count}: every link checks out.")
        }
        ChainReport::Broken {
            seq,
            field,
            expected,
            found,
        } => {
            format!("Broken at entry {seq}: {field} should be {expected} but is {found}.")
        }
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let verify = ServerAction::<VerifyAuditChain>::new();
    let entries = Resource::new(move || verify.version().get(), |_| recent_audit(None));
    let checkpoint = Resource::new(|| (), |_| latest_checkpoint());
    view! {
        <Title text="Audit · Clearance"/>
        <h1>"Audit log"</h1>
        <section class="card" aria-labelledby="verify-heading">
            <h2 id="verify-heading">"Chain verification"</h2>
            <p>"Every entry carries the hash of the one before it. Verification recomputes each link."</p>
            <ActionForm action=verify>
                <button type="submit" class="primary" disabled=move || verify.pending().get()>"Verify audit chain"</button>
            </ActionForm>
            <p role="status" class="verify-result">
                {move || match verify.value().get() {
                    None => String::new(),
                    Some(Ok(r)) => report_text(&r),
                    Some(Err(e)) => e.to_string(),
                }}
            </p>
        </section>
        <ExportSection/>
        <section class="card" aria-labelledby="checkpoint-heading">
            <h2 id="checkpoint-heading">"Latest signed checkpoint"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match checkpoint.await {
                        Ok(Some(json)) => view! { <pre class="checkpoint">{json}</pre> }.into_any(),
                        Ok(None) => view! { <p>"No checkpoint has been signed yet."</p> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section aria-labelledby="recent-heading">
            <h2 id="recent-heading">"Newest entries"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(list) => view! { <AuditTable entries=list/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn AuditTable(entries: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <table class="audit">
            <thead>
                <tr>
                    <th scope="col">"#"</th>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"Event"</th>
                    <th scope="col">"Subject"</th>
                    <th scope="col">"Details"</th>
                </tr>
            </thead>
            <tbody>
                {entries.into_iter().map(|e| view! {
                    <tr>
                        <td>{e.seq}</td>
                        <td><LocalTime at=e.occurred_at/></td>
                        <td>{e.actor}</td>
                        <td>{e.event_type.label()}</td>
                        <td>{e.subject}</td>
                        <td>{e.summary}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Export for a date range and optional job; the count first, then a streamed CSV or JSON download.
#[component]
fn ExportSection() -> impl IntoView {
    let count = ServerAction::<ExportCount>::new();
    let jobs = Resource::new(|| (), |_| list_jobs());
    let today = chrono::Utc::now().date_naive();
    let month_ago = today - chrono::Duration::days(90);
    view! {
        <section class="card" aria-labelledby="export-heading">
            <h2 id="export-heading">"Audit export"</h2>
            <p>"Every application active in the range, with its stage timeline, who approved it, verification status, risk tier and evidence-pack links."</p>
            <form method="get" action="/audit/export" class="filters export-form">
                <div class="field">
                    <label for="export-from">"From"</label>
                    <input id="export-from" type="date" name="from" value=month_ago.to_string() required/>
                </div>
                <div class="field">
                    <label for="export-to">"To"</label>
                    <input id="export-to" type="date" name="to" value=today.to_string() required/>
                </div>
                <div class="field">
                    <label for="export-job">"Job"</label>
                    <select id="export-job" name="job">
                        <option value="">"All jobs"</option>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                jobs.await.unwrap_or_default().into_iter()
                                    .map(|j| view! { <option value=j.id.to_string()>{j.title}</option> })
                                    .collect_view()
                            })}
                        </Transition>
                    </select>
                </div>
                <div class="field">
                    <label for="export-format">"Format"</label>
                    <select id="export-format" name="format">
                        <option value="csv">"CSV"</option>
                        <option value="json">"JSON"</option>
                    </select>
                </div>
                <button type="submit">"Download export"</button>
            </form>
            <ActionForm action=count attr:class="filters">
                <input type="hidden" name="from" value=month_ago.to_string()/>
                <input type="hidden" name="to" value=today.to_string()/>
                <button type="submit">"Count applications in the last 90 days"</button>
            </ActionForm>
            <p role="status">
                {move || match count.value().get() {
                    None => String::new(),
                    Some(Ok(n)) => format!("{n} application(s) in the last 90 days; the download streams them in batches."),
                    Some(Err(e)) => e.to_string(),
                }}
            </p>
        </section>
    }
}
