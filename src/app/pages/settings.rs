//! The admins' Settings page: badge integrations for ATSs that embed the verification badge
//! (create — the API key is shown once —, rotate keys, revoke; views over 30 days), and where
//! alerts to Support go (Slack-compatible and signed JSON webhooks, a test alert, the newest alerts).
use crate::api::alerts::{alert_settings, recent_alerts, SaveAlertSettings, SendTestAlert};
use crate::api::embed::{
    list_integrations, CreateIntegration, RevokeIntegration, RotateIntegration,
};
use crate::app::components::{ErrorNotice, LocalTime};
use crate::model::{AlertSettingsView, AlertSummary, IntegrationSummary};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let create = ServerAction::<CreateIntegration>::new();
    let revoke = ServerAction::<RevokeIntegration>::new();
    let rotate = ServerAction::<RotateIntegration>::new();
    let list = Resource::new(
        move || {
            (
                create.version().get(),
                revoke.version().get(),
                rotate.version().get(),
            )
        },
        |_| list_integrations(),
    );
    // A new key is shown once, whichever way it came.
    let shown_key = move || {
        create
            .value()
            .get()
            .and_then(Result::ok)
            .or_else(|| rotate.value().get().and_then(Result::ok))
    };
    let error = move || {
        [
            create.value().get().and_then(|r| r.err()),
            rotate.value().get().and_then(|r| r.err()),
            revoke.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    view! {
        <Title text="Settings · Clearance"/>
        <h1>"Settings"</h1>
        <section class="card" aria-labelledby="integrations-heading">
            <h2 id="integrations-heading">"Badge integrations"</h2>
            <p>"An ATS that shows the verification badge in its own profile page asks for each candidate's embed token with its API key (POST /api/v1/embed-tokens). Rotating or revoking ends every token it holds."</p>
            {move || shown_key().map(|k| view! {
                <p role="status" class="notice">"The integration's API key — copy it now, it is not shown again: " <code>{k}</code></p>
            })}
            {move || error().map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(items) if items.is_empty() => view! { <p>"No integration yet."</p> }.into_any(),
                        Ok(items) => view! { <Integrations items=items revoke=revoke rotate=rotate/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=create attr:class="stacked-form">
                <fieldset>
                    <legend>"New integration"</legend>
                    <div class="field">
                        <label for="integration-name">"Integration name"</label>
                        <input id="integration-name" name="name" required maxlength="100"/>
                    </div>
                    <div class="field">
                        <label for="integration-origins">"Allowed origins (one per line)"</label>
                        <textarea id="integration-origins" name="origins" rows="2" required placeholder="https://ats.example.com"></textarea>
                    </div>
                    <div class="field">
                        <label for="integration-token-hours">"Token lifetime (hours)"</label>
                        <input id="integration-token-hours" name="token_hours" type="number" min="1" max="2160" value="720" required/>
                    </div>
                    <div class="field">
                        <label for="integration-days">"Ends after (days, empty: until revoked)"</label>
                        <input id="integration-days" name="days" type="number" min="1" max="3660"/>
                    </div>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Create integration"</button>
                </fieldset>
            </ActionForm>
        </section>
        <AlertsSection/>
    }
}

/// Where alerts to Support go, a test alert, and the newest alerts.
#[component]
fn AlertsSection() -> impl IntoView {
    let save = ServerAction::<SaveAlertSettings>::new();
    let test = ServerAction::<SendTestAlert>::new();
    let settings = Resource::new(move || save.version().get(), |_| alert_settings());
    let recent = Resource::new(
        move || (save.version().get(), test.version().get()),
        |_| recent_alerts(),
    );
    let status = move || {
        let saved = save
            .value()
            .get()
            .map(|r| r.map(|_| "Alert destinations saved.".to_string()));
        let tested = test.value().get().map(|r| {
            r.map(|n| {
                format!(
                    "Test alert queued to {n} destination{}.",
                    if n == 1 { "" } else { "s" }
                )
            })
        });
        [tested, saved].into_iter().flatten().next()
    };
    view! {
        <section class="card" aria-labelledby="alerts-heading">
            <h2 id="alerts-heading">"Alerts to Support"</h2>
            <p>"Support is alerted when a delivery is dead-lettered, a review passes its SLA, a reconciliation run fails or finds drift above the threshold, or the audit chain fails verification. The same thing again within an hour is counted on the first alert instead of sent again."</p>
            {move || status().map(|r| match r {
                Ok(text) => view! { <p role="status" class="notice">{text}</p> }.into_any(),
                Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
            })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(current) => view! { <AlertForm current=current save=save/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=test attr:class="inline-form">
                <button type="submit" disabled=move || test.pending().get()>"Send test alert"</button>
            </ActionForm>
            <h3>"Recent alerts"</h3>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match recent.await {
                        Ok(items) if items.is_empty() => view! { <p>"No alert yet."</p> }.into_any(),
                        Ok(items) => view! { <RecentAlerts items=items/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AlertForm(current: AlertSettingsView, save: ServerAction<SaveAlertSettings>) -> impl IntoView {
    let slack_state = if current.slack_configured {
        "Slack: set (the URL is not shown again)."
    } else {
        "Slack: not set."
    };
    let webhook_state = match (&current.webhook_url, current.webhook_secret_configured) {
        (Some(url), true) => format!("JSON webhook: {url}, signed."),
        (Some(url), false) => format!("JSON webhook: {url}, no signing secret."),
        (None, _) => "JSON webhook: not set.".to_string(),
    };
    // Once saved, the form is emptied: a typed secret does not linger in it.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            if let Some(f) = form.get() {
                f.reset();
            }
        }
    });
    view! {
        <p>{slack_state} " " {webhook_state}</p>
        <ActionForm action=save node_ref=form attr:class="stacked-form">
            <fieldset>
                <legend>"Alert destinations"</legend>
                <div class="field">
                    <label for="alert-slack-url">"Slack-compatible incoming webhook URL (empty: keep the saved one)"</label>
                    <input id="alert-slack-url" name="slack_url" type="url" autocomplete="off" placeholder="https://hooks.example.com/services/…"/>
                </div>
                {current.slack_configured.then(|| view! {
                    <div class="field">
                        <label><input type="checkbox" name="clear_slack" value="on"/> " Remove the Slack destination"</label>
                    </div>
                })}
                <div class="field">
                    <label for="alert-webhook-url">"JSON webhook URL (empty: none)"</label>
                    <input id="alert-webhook-url" name="webhook_url" type="url" value=current.webhook_url.clone().unwrap_or_default()/>
                </div>
                <div class="field">
                    <label for="alert-webhook-secret">"JSON webhook signing secret, whsec_… (empty: keep the saved one)"</label>
                    <input id="alert-webhook-secret" name="webhook_secret" type="password" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="alert-drift-threshold">"Alert when a reconciliation run finds at least this many drifted sessions"</label>
                    <input id="alert-drift-threshold" name="drift_threshold" type="number" min="1" max="100000" value=current.drift_threshold.to_string() required/>
                </div>
                <button type="submit" class="primary" disabled=move || save.pending().get()>"Save alert destinations"</button>
            </fieldset>
        </ActionForm>
    }
}

#[component]
fn RecentAlerts(items: Vec<AlertSummary>) -> impl IntoView {
    view! {
        <table class="audit">
            <thead><tr>
                <th scope="col">"Raised"</th><th scope="col">"Kind"</th><th scope="col">"What"</th><th scope="col">"Repeats within the hour"</th>
            </tr></thead>
            <tbody>
                {items.into_iter().map(|a| view! {
                    <tr>
                        <td><LocalTime at=a.created_at/></td>
                        <td>{a.kind.label()}</td>
                        <td>{a.summary}</td>
                        <td>{a.repeats}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn Integrations(
    items: Vec<IntegrationSummary>,
    revoke: ServerAction<RevokeIntegration>,
    rotate: ServerAction<RotateIntegration>,
) -> impl IntoView {
    view! {
        <table class="audit">
            <thead><tr>
                <th scope="col">"Integration"</th><th scope="col">"Allowed origins"</th><th scope="col">"Tokens last"</th>
                <th scope="col">"State"</th><th scope="col">"Views (30 days)"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
            </tr></thead>
            <tbody>
                {items.into_iter().map(|i| {
                    let (rotate_id, revoke_id) = (i.id.to_string(), i.id.to_string());
                    let live = i.revoked_at.is_none();
                    let (rotate_label, revoke_label) = (format!("Rotate key of {}", i.name), format!("Revoke {}", i.name));
                    view! {
                        <tr>
                            <td>{i.name.clone()}</td>
                            <td>{i.origins.join(", ")}</td>
                            <td>{format!("{} h", i.token_ttl_hours)}</td>
                            <td>{match (i.revoked_at, i.expires_at) {
                                (Some(at), _) => view! { "Revoked " <LocalTime at=at/> }.into_any(),
                                (None, Some(end)) => view! { "Active until " <LocalTime at=end/> }.into_any(),
                                (None, None) => view! { "Active" }.into_any(),
                            }} {format!(" · key generation {}", i.key_generation)}</td>
                            <td>{i.views_30_days}</td>
                            <td>
                                {live.then(move || view! {
                                    <ActionForm action=rotate attr:class="inline-form">
                                        <input type="hidden" name="id" value=rotate_id/>
                                        <button type="submit" aria-label=rotate_label>"Rotate key"</button>
                                    </ActionForm>
                                    <ActionForm action=revoke attr:class="inline-form">
                                        <input type="hidden" name="id" value=revoke_id/>
                                        <button type="submit" aria-label=revoke_label>"Revoke"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
