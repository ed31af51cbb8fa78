//! The audit page: verify the chain, see the latest signed checkpoint and the newest entries.
use crate::api::audit::{latest_checkpoint, recent_audit, VerifyAuditChain};
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
