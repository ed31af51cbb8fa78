//! The evidence-pack page: a stable URL per verification session, printable, with its JSON download.
use crate::api::audit::get_evidence_pack;
use crate::app::components::{ErrorNotice, LocalTime};
use crate::model::EvidencePack;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn EvidencePage() -> impl IntoView {
    let params = use_params_map();
    let pack = Resource::new(
        move || params.read().get("session_id").unwrap_or_default(),
        get_evidence_pack,
    );
    view! {
        <Title text="Evidence pack · Clearance"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match pack.await {
                    Ok(p) => view! { <Pack pack=p/> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Pack(pack: EvidencePack) -> impl IntoView {
    let json_href = format!("/evidence/{}/pack.json", pack.session_id);
    let print = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        <article class="evidence">
            <h1>"Evidence pack"</h1>
            <p class="actions no-print">
                <a href=json_href download>"Download JSON"</a>
                " "
                <button type="button" on:click=print>"Print"</button>
            </p>
            <dl class="facts">
                <dt>"Candidate"</dt>
                <dd><a href=format!("/candidates/{}", pack.candidate_id)>{pack.candidate_name.clone()}</a></dd>
                <dt>"Verification session"</dt>
                <dd>{pack.session_id.clone()}</dd>
                <dt>"Started"</dt>
                <dd><LocalTime at=pack.session_created_at/></dd>
                <dt>"Outcome"</dt>
                <dd>{pack.status.as_str().replace('_', " ")}</dd>
                <dt>"Risk tier"</dt>
                <dd>{pack.risk_tier.map_or("Not assessed", |t| t.as_str())}</dd>
                <dt>"Reasons"</dt>
                <dd>{if pack.reason_codes.is_empty() { "None".to_string() } else { pack.reason_codes.join("; ") }}</dd>
                <dt>"Policy"</dt>
                <dd>{pack.policy_name.clone().unwrap_or_else(|| "Default policy".into())}</dd>
                <dt>"Provider evidence"</dt>
                <dd>{match pack.provider_evidence_url.clone() {
                    Some(u) => { let text = u.clone(); view! { <a href=u rel="noopener noreferrer">{text}</a> }.into_any() }
                    None => view! { "Not provided yet" }.into_any(),
                }}</dd>
                <dt>"SHA-256"</dt>
                <dd><code class="digest">{pack.sha256.clone()}</code></dd>
            </dl>
            <h2>"Event sequence"</h2>
            <table class="audit">
                <thead><tr><th scope="col">"#"</th><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Event"</th><th scope="col">"Details"</th></tr></thead>
                <tbody>
                    {pack.events.into_iter().map(|e| view! {
                        <tr><td>{e.seq}</td><td><LocalTime at=e.at/></td><td>{e.actor}</td><td>{e.event}</td><td>{e.summary}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </article>
    }
}
