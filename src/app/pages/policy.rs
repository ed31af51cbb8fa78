//! The admins' Policy page. For now: the review reason codes reviewers choose from, extensible.
use crate::api::review::{list_reason_codes, AddReasonCode};
use crate::app::components::ErrorNotice;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PolicyPage() -> impl IntoView {
    let add = ServerAction::<AddReasonCode>::new();
    let codes = Resource::new(move || add.version().get(), |_| list_reason_codes());
    let add_error = move || add.value().get().and_then(|r| r.err());
    view! {
        <Title text="Policy · Clearance"/>
        <h1>"Policy"</h1>
        <section class="card" aria-labelledby="codes-heading">
            <h2 id="codes-heading">"Review reason codes"</h2>
            <p>"Security reviewers pick one of these with every decision. Codes cannot be removed: past decisions refer to them."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match codes.await {
                        Ok(list) => view! {
                            <table class="audit">
                                <thead><tr><th scope="col">"Code"</th><th scope="col">"Label"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|(c, l)| view! { <tr><td><code>{c}</code></td><td>{l}</td></tr> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=add attr:class="filters">
                <div class="field">
                    <label for="new-code">"Code"</label>
                    <input id="new-code" name="code" required pattern="[a-z0-9_]{3,60}" placeholder="proxy_interview_confirmed"/>
                </div>
                <div class="field">
                    <label for="new-label">"Label"</label>
                    <input id="new-label" name="label" required maxlength="120" placeholder="Proxy interview confirmed"/>
                </div>
                <button type="submit">"Add reason code"</button>
            </ActionForm>
            {move || add_error().map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
        </section>
    }
}
