//! The audit page: verify the chain, see the latest signed checkpoint and the newest entries.
use crate::api::audit::{export_count, latest_checkpoint, recent_audit, VerifyAuditChain};
use crate::api::candidates::list_jobs;
use crate::app::components::{ErrorNotice, LocalTime};
use crate::model::{AuditEntry, ChainReport};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

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
                        <td>{match subject_page(&e.subject) {
                            Some(href) => view! { <A href=href>{e.subject}</A> }.into_any(),
                            None => e.subject.into_any(),
                        }}</td>
                        <td>{e.summary}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Export for a date range and optional job. Without JavaScript the form downloads directly;
/// once hydrated it streams the export itself and shows how many rows have arrived.
#[component]
fn ExportSection() -> impl IntoView {
    let jobs = Resource::new(|| (), |_| list_jobs());
    let today = chrono::Utc::now().date_naive();
    let quarter_ago = today - chrono::Duration::days(90);
    let from_ref = NodeRef::<leptos::html::Input>::new();
    let to_ref = NodeRef::<leptos::html::Input>::new();
    let job_ref = NodeRef::<leptos::html::Select>::new();
    let format_ref = NodeRef::<leptos::html::Select>::new();
    // (rows received, rows expected, finished)
    let (progress, set_progress) = signal(None::<(i64, i64, bool)>);
    let (failure, set_failure) = signal(None::<String>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = |r: Option<String>| r.unwrap_or_default();
        let from = value(from_ref.get().map(|e| e.value()));
        let to = value(to_ref.get().map(|e| e.value()));
        let job = value(job_ref.get().map(|e| e.value()));
        let format = value(format_ref.get().map(|e| e.value()));
        set_failure.set(None);
        set_progress.set(Some((0, 0, false)));
        leptos::task::spawn_local(async move {
            let total = match export_count(
                from.clone(),
                to.clone(),
                Some(job.clone()).filter(|j| !j.is_empty()),
            )
            .await
            {
                Ok(n) => n,
                Err(e) => {
                    set_progress.set(None);
                    set_failure.set(Some(e.to_string()));
                    return;
                }
            };
            set_progress.set(Some((0, total, false)));
            let url = format!("/audit/export?from={from}&to={to}&job={job}&format={format}");
            let filename = format!("clearance-audit-{from}-{to}.{format}");
            #[cfg(feature = "hydrate")]
            match stream_download(&url, &filename, &format, total, set_progress).await {
                Ok(()) => {}
                Err(e) => {
                    set_progress.set(None);
                    set_failure.set(Some(e));
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (url, filename);
        });
    };
    view! {
        <section class="card" aria-labelledby="export-heading">
            <h2 id="export-heading">"Audit export"</h2>
            <p>"Every application active in the range, with its stage timeline, who approved it, verification status, risk tier and evidence-pack links."</p>
            <form method="get" action="/audit/export" class="filters export-form" on:submit=on_submit>
                <div class="field">
                    <label for="export-from">"From"</label>
                    <input id="export-from" type="date" name="from" value=quarter_ago.to_string() required node_ref=from_ref/>
                </div>
                <div class="field">
                    <label for="export-to">"To"</label>
                    <input id="export-to" type="date" name="to" value=today.to_string() required node_ref=to_ref/>
                </div>
                <div class="field">
                    <label for="export-job">"Job"</label>
                    <select id="export-job" name="job" node_ref=job_ref>
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
                    <select id="export-format" name="format" node_ref=format_ref>
                        <option value="csv">"CSV"</option>
                        <option value="json">"JSON"</option>
                    </select>
                </div>
                <button type="submit">"Download export"</button>
            </form>
            {move || progress.get().map(|(rows, total, _)| view! {
                <progress max=total.max(1).to_string() value=rows.min(total).to_string() aria-label="Export progress"></progress>
            })}
            <p role="status" class="export-status">
                {move || match (progress.get(), failure.get()) {
                    (_, Some(e)) => e,
                    (Some((_, total, true)), None) => format!("Export complete: {total} application(s)."),
                    (Some((rows, total, false)), None) => format!("Exporting… {} of {total} application(s)", rows.min(total)),
                    (None, None) => String::new(),
                }}
            </p>
        </section>
    }
}

/// Fetches the export as a stream, counting rows as they arrive, then saves it as a file.
#[cfg(feature = "hydrate")]
async fn stream_download(
    url: &str,
    filename: &str,
    format: &str,
    total: i64,
    set_progress: WriteSignal<Option<(i64, i64, bool)>>,
) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let fail = |what: &str| format!("The export failed: {what}.");
    let window = web_sys::window().ok_or_else(|| fail("no window"))?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| fail("the server could not be reached"))?
        .unchecked_into();
    if !resp.ok() {
        let text = match resp.text() {
            Ok(p) => JsFuture::from(p)
                .await
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        return Err(fail(&text));
    }
    let body = resp.body().ok_or_else(|| fail("empty answer"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let parts = js_sys::Array::new();
    // A CSV export starts with a header line; JSON puts one record per line after "[".
    let mut newlines: i64 = 0;
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|_| fail("the download was interrupted"))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let value: js_sys::Uint8Array = js_sys::Reflect::get(&chunk, &"value".into())
            .map_err(|_| fail("unreadable data"))?
            .unchecked_into();
        newlines += value.to_vec().iter().filter(|b| **b == b'\n').count() as i64;
        parts.push(&value);
        set_progress.set(Some(((newlines - 1).max(0), total, false)));
    }
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(if format == "json" {
        "application/json"
    } else {
        "text/csv"
    });
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts)
        .map_err(|_| fail("could not assemble the file"))?;
    let href = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| fail("could not save the file"))?;
    let document = window.document().ok_or_else(|| fail("no document"))?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| fail("could not save the file"))?
        .unchecked_into();
    a.set_href(&href);
    a.set_download(filename);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&href);
    set_progress.set(Some((total, total, true)));
    Ok(())
}

/// The page an entry's subject has, where one does: a bulk job's ("bulk_job 7" → /bulk/7).
fn subject_page(subject: &str) -> Option<String> {
    let id: i64 = subject.strip_prefix("bulk_job ")?.parse().ok()?;
    Some(format!("/bulk/{id}"))
}

#[cfg(test)]
mod subject_tests {
    use super::subject_page;

    #[test]
    fn bulk_jobs_link_to_their_page() {
        assert_eq!(subject_page("bulk_job 7").as_deref(), Some("/bulk/7"));
        assert_eq!(subject_page("bulk_job x"), None);
        assert_eq!(subject_page("candidate 7"), None);
    }
}
