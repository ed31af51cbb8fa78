//! The admins' Policy page: verification policies, adverse-action settings and templates, and the
//! review reason codes reviewers choose from.
use crate::api::review::{list_reason_codes, AddReasonCode};
use crate::app::components::{ErrorNotice, LocalTime};
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
        <PolicyEditor/>
        <crate::app::pages::adverse_settings::AdverseSettings/>
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

/// The policy the editor opens with (the shipped default's name).
const DEFAULT_POLICY: &str = "ats-embedded-verification-status";

/// The verification policies: pick one, edit its YAML, save a new version, see the history.
#[component]
pub fn PolicyEditor() -> impl IntoView {
    use crate::api::policy::{list_policies, policy_versions, SavePolicy};
    use crate::model::{diff_lines, DiffLine};
    let names = Resource::new(|| (), |_| list_policies());
    let (name, set_name) = signal(None::<String>);
    let save = ServerAction::<SavePolicy>::new();
    let versions = Resource::new(
        move || (name.get(), save.version().get()),
        move |(n, _)| async move {
            let n = match n {
                Some(n) => n,
                None => {
                    let list = list_policies().await?;
                    match list
                        .iter()
                        .find(|n| n.as_str() == DEFAULT_POLICY)
                        .or(list.first())
                    {
                        Some(n) => n.clone(),
                        None => return Ok(None),
                    }
                }
            };
            policy_versions(n).await.map(Some)
        },
    );
    let editing = NodeRef::<leptos::html::Input>::new();
    let text = NodeRef::<leptos::html::Textarea>::new();
    let ticket = NodeRef::<leptos::html::Input>::new();
    let (shown_diff, set_shown_diff) = signal(None::<i64>);
    let (shown_text, set_shown_text) = signal(None::<i64>);
    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(n), Some(t)) = (editing.get().map(|i| i.value()), text.get()) else {
            return;
        };
        let ticket = ticket
            .get()
            .map(|i| i.value())
            .filter(|v| !v.trim().is_empty());
        save.dispatch(SavePolicy {
            name: n,
            yaml: t.value(),
            change_ticket: ticket,
        });
    };
    view! {
        <section class="card" aria-labelledby="policies-heading">
            <h2 id="policies-heading">"Verification policies"</h2>
            <p>"Stage gates, SLAs and exception rules in the format of the operating model. Each save is a new version; moves are judged by the version current at the time, and the audit log records which."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match names.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(list) => {
                            view! {
                                <div class="field">
                                    <label for="policy-name">"Policy"</label>
                                    <select id="policy-name" on:change=move |ev| { set_shown_diff.set(None); set_name.set(Some(event_target_value(&ev))) }>
                                        {list.into_iter().map(|n| {
                                            let selected = name.get_untracked().as_deref().unwrap_or(DEFAULT_POLICY) == n.as_str();
                                            view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                                        }).collect_view()}
                                    </select>
                                </div>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match versions.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Ok(Some(vs)) => {
                            let current = vs.first().cloned();
                            let history = vs.clone();
                            view! {
                                <form class="policy-form" on:submit=on_save>
                                    <input type="hidden" node_ref=editing value=current.as_ref().map(|c| c.policy_name.clone()).unwrap_or_default()/>
                                    <p class="muted">{current.as_ref().map(|c| format!("Current: version {}", c.version))}</p>
                                    <div class="field">
                                        <label for="policy-yaml">"Policy YAML"</label>
                                        <textarea id="policy-yaml" node_ref=text rows="28" spellcheck="false" class="mono">{current.map(|c| c.yaml).unwrap_or_default()}</textarea>
                                    </div>
                                    <div class="field">
                                        <label for="policy-ticket">"Change ticket (optional)"</label>
                                        <input id="policy-ticket" node_ref=ticket maxlength="100" placeholder="CHG-1234"/>
                                    </div>
                                    <button type="submit" class="primary" disabled=move || save.pending().get()>"Save policy"</button>
                                </form>
                                <h3>"Versions"</h3>
                                <table class="audit">
                                    <thead><tr><th scope="col">"Version"</th><th scope="col">"Saved by"</th><th scope="col">"When"</th><th scope="col">"Change ticket"</th><th scope="col"><span class="visually-hidden">"Changes"</span></th></tr></thead>
                                    <tbody>
                                        {history.iter().enumerate().map(|(i, v)| {
                                            let previous = history.get(i + 1).cloned();
                                            let history_prev = previous.clone();
                                            let version = v.version;
                                            let this_yaml = v.yaml.clone();
                                            view! {
                                                <tr>
                                                    <td>{v.version}</td>
                                                    <td>{v.created_by.clone().unwrap_or_else(|| "shipped with Clearance".into())}</td>
                                                    <td>{(v.id != 0).then(|| view! { <LocalTime at=v.created_at/> })}</td>
                                                    <td>{v.change_ticket.clone().unwrap_or_default()}</td>
                                                    <td>
                                                    <button type="button" class="link-button"
                                                        aria-label=format!("View version {version}")
                                                        on:click=move |_| set_shown_text.update(|d| *d = if *d == Some(version) { None } else { Some(version) })>
                                                        "View"
                                                    </button>
                                                    " "
                                                    {previous.map(|_| view! {
                                                        <button type="button" class="link-button"
                                                            aria-label=format!("Show changes in version {version}")
                                                            on:click=move |_| set_shown_diff.update(|d| *d = if *d == Some(version) { None } else { Some(version) })>
                                                            "Show changes"
                                                        </button>
                                                    })}</td>
                                                </tr>
                                                {
                                                    let full = this_yaml.clone();
                                                    move || (shown_text.get() == Some(version)).then(|| view! {
                                                        <tr><td colspan="5"><pre class="diff" aria-label=format!("Version {version}")>{full.clone()}</pre></td></tr>
                                                    })
                                                }
                                                {move || (shown_diff.get() == Some(version)).then(|| {
                                                    let old = history_prev.clone().map(|p| p.yaml).unwrap_or_default();
                                                    view! {
                                                        <tr><td colspan="5">
                                                            <pre class="diff" aria-label=format!("Changes in version {version}")>
                                                                {diff_lines(&old, &this_yaml).into_iter().filter(|l| !matches!(l, DiffLine::Same(_))).map(|l| match l {
                                                                    DiffLine::Added(t) => view! { <ins>{format!("+ {t}\n")}</ins> }.into_any(),
                                                                    DiffLine::Removed(t) => view! { <del>{format!("- {t}\n")}</del> }.into_any(),
                                                                    DiffLine::Same(_) => ().into_any(),
                                                                }).collect_view()}
                                                            </pre>
                                                        </td></tr>
                                                    }
                                                })}
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
            {move || save.value().get().map(|r| match r {
                Ok(res) => match res.version {
                    Some(v) => view! { <p role="status">{format!("Saved as version {v}.")}</p> }.into_any(),
                    None => view! {
                        <div role="alert" class="error">
                            <p>"Not saved: the policy has problems."</p>
                            <ul>{res.problems.into_iter().map(|p| view! { <li>{p.to_string()}</li> }).collect_view()}</ul>
                        </div>
                    }.into_any(),
                },
                Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}
