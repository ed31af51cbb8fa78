//! The admins' Partners page: connect a background-check partner once, test the connection.
use crate::api::background::{
    list_partners, AddPartner, SavePartnerContact, TestPartnerConnection,
};
use crate::app::components::{ErrorNotice, LocalTime};
use crate::error::AppError;
use crate::model::ConnectionTest;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PartnersPage() -> impl IntoView {
    let add = ServerAction::<AddPartner>::new();
    let test = ServerAction::<TestPartnerConnection>::new();
    let contact = ServerAction::<SavePartnerContact>::new();
    let partners = Resource::new(
        move || {
            (
                add.version().get(),
                test.version().get(),
                contact.version().get(),
            )
        },
        |_| list_partners(),
    );
    let (local_error, set_local_error) = signal(None::<String>);
    let name = NodeRef::<leptos::html::Input>::new();
    let catalog_url = NodeRef::<leptos::html::Input>::new();
    let orders_url = NodeRef::<leptos::html::Input>::new();
    let account_id = NodeRef::<leptos::html::Input>::new();
    let secret = NodeRef::<leptos::html::Input>::new();
    let logo = NodeRef::<leptos::html::Input>::new();
    let form = NodeRef::<leptos::html::Form>::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_local_error.set(None);
        let value =
            |r: NodeRef<leptos::html::Input>| r.get().map(|i| i.value()).unwrap_or_default();
        let (n, c, o, a, s) = (
            value(name),
            value(catalog_url),
            value(orders_url),
            value(account_id),
            value(secret),
        );
        #[cfg(feature = "hydrate")]
        {
            let input = logo.get();
            leptos::task::spawn_local(async move {
                match crate::app::components::file_base64(input, 256 * 1024, "The logo").await {
                    Ok(logo_base64) => {
                        add.dispatch(AddPartner {
                            name: n,
                            catalog_url: c,
                            orders_url: o,
                            account_id: a,
                            api_secret: s,
                            logo_base64,
                        });
                    }
                    Err(e) => set_local_error.set(Some(e)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (n, c, o, a, s, logo);
    };
    // A connected partner clears the form, the secret above all.
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            if let Some(f) = form.get() {
                f.reset();
            }
        }
    });
    let add_error = move || {
        local_error.get().or_else(|| {
            add.value()
                .get()
                .and_then(|r| r.err())
                .map(|e| e.to_string())
        })
    };
    view! {
        <Title text="Partners · Clearance"/>
        <h1>"Partners"</h1>
        <section class="card" aria-labelledby="connected-heading">
            <h2 id="connected-heading">"Background-check partners"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match partners.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p>"No partner is connected yet. Recruiters cannot order background checks until one is."</p> }.into_any(),
                        Ok(list) => view! {
                            <PartnerContacts partners=list.clone() save=contact/>
                            <table class="audit partners">
                                <thead><tr>
                                    <th scope="col">"Partner"</th><th scope="col">"Account ID"</th><th scope="col">"Catalog URL"</th>
                                    <th scope="col">"Orders URL"</th><th scope="col">"Catalog"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|p| {
                                        let label = format!("Test connection to {}", p.name);
                                        view! {
                                            <tr>
                                                <td class="partner-name">
                                                    {p.has_logo.then(|| view! { <img class="partner-logo" src=format!("/partner-logos/{}.png", p.id) alt=format!("{} logo", p.name)/> })}
                                                    {p.name.clone()}
                                                </td>
                                                <td>{p.account_id.clone()}</td>
                                                <td><code>{p.catalog_url.clone()}</code></td>
                                                <td><code>{p.orders_url.clone()}</code></td>
                                                <td>{match (p.catalog_error.clone(), p.catalog_fetched_at) {
                                                    (Some(e), _) => view! { <span class="error">{e}</span> }.into_any(),
                                                    (None, Some(at)) => view! { "Fetched " <LocalTime at=at relative=true/> }.into_any(),
                                                    (None, None) => view! { "Not fetched yet" }.into_any(),
                                                }}</td>
                                                <td>
                                                    <ActionForm action=test>
                                                        <input type="hidden" name="partner_id" value=p.id.to_string()/>
                                                        <button type="submit" aria-label=label disabled=move || test.pending().get()>"Test connection"</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
            <ConnectionTestResult result=test.value()/>
        </section>
        <MonitorSection/>
        <section class="card" aria-labelledby="connect-heading">
            <h2 id="connect-heading">"Connect a partner"</h2>
            <p>"Enter what the partner gave you once; recruiters then order from the candidate profile. The API secret is stored for the partner calls and never shown again."</p>
            <form node_ref=form class="stacked" on:submit=on_submit>
                <div class="field"><label for="partner-name">"Name"</label><input id="partner-name" node_ref=name required maxlength="100"/></div>
                <div class="field"><label for="partner-catalog">"Catalog URL"</label><input id="partner-catalog" node_ref=catalog_url type="url" required placeholder="https://partner.example/catalog"/></div>
                <div class="field"><label for="partner-orders">"Orders URL"</label><input id="partner-orders" node_ref=orders_url type="url" required placeholder="https://partner.example/orders"/></div>
                <div class="field"><label for="partner-account">"Account ID"</label><input id="partner-account" node_ref=account_id required autocomplete="off"/></div>
                <div class="field"><label for="partner-secret">"API secret"</label><input id="partner-secret" node_ref=secret type="password" required autocomplete="new-password"/></div>
                <div class="field"><label for="partner-logo">"Logo (PNG)"</label><input id="partner-logo" node_ref=logo type="file" accept="image/png"/></div>
                <button type="submit" class="primary" disabled=move || add.pending().get()>"Connect partner"</button>
            </form>
            {move || add_error().map(|e| view! { <p role="alert" class="error">{e}</p> })}
            {move || matches!(add.value().get(), Some(Ok(_))).then(|| view! { <p role="status">"Partner connected. Use Test connection to check it."</p> })}
        </section>
    }
}

/// Each partner's postal address and phone, which final adverse-action notices must name.
#[component]
fn PartnerContacts(
    partners: Vec<crate::model::PartnerSummary>,
    save: ServerAction<SavePartnerContact>,
) -> impl IntoView {
    view! {
        <details class="partner-contacts">
            <summary>"Addresses and phone numbers for adverse-action notices"</summary>
            {partners.into_iter().map(|p| {
                let id = p.id;
                view! {
                    <ActionForm action=save attr:class="filters">
                        <input type="hidden" name="partner_id" value=id.to_string()/>
                        <div class="field">
                            <label for=format!("partner-address-{id}")>{format!("Address of {}", p.name)}</label>
                            <input id=format!("partner-address-{id}") name="address" maxlength="300" value=p.address.clone().unwrap_or_default()/>
                        </div>
                        <div class="field">
                            <label for=format!("partner-phone-{id}")>{format!("Phone of {}", p.name)}</label>
                            <input id=format!("partner-phone-{id}") name="phone" maxlength="40" value=p.phone.clone().unwrap_or_default()/>
                        </div>
                        <button type="submit">{format!("Save contact for {}", p.name)}</button>
                    </ActionForm>
                }
            }).collect_view()}
            {move || save.value().get().map(|r| match r {
                Ok(()) => view! { <p role="status">"Contact saved."</p> }.into_any(),
                Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
            })}
        </details>
    }
}

/// The interview-integrity monitor: connect once, test, see what is connected (never the secrets).
#[component]
pub fn MonitorSection() -> impl IntoView {
    use crate::api::integrity::{get_monitor_status, ConnectMonitor, TestMonitor};
    let connect = ServerAction::<ConnectMonitor>::new();
    let test = ServerAction::<TestMonitor>::new();
    let status = Resource::new(move || connect.version().get(), |_| get_monitor_status());
    view! {
        <section class="card" aria-labelledby="monitor-heading">
            <h2 id="monitor-heading">"Interview-integrity monitor"</h2>
            <p>"Connect once: every interview scheduled on a profile is then announced to the monitor, and its signed report is attached to the candidate automatically."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(s) => match (s.url, s.updated_at) {
                            (Some(url), Some(at)) => view! { <p>"Connected to " <code>{url}</code> " since " <LocalTime at=at/> "."</p> }.into_any(),
                            _ => view! { <p>"Not connected."</p> }.into_any(),
                        },
                    }
                })}
            </Transition>
            <ActionForm action=connect attr:class="stacked">
                <div class="field"><label for="monitor-url">"Monitor URL"</label><input id="monitor-url" name="url" type="url" required placeholder="https://monitor.example"/></div>
                <div class="field"><label for="monitor-key">"Monitor API key"</label><input id="monitor-key" name="api_key" type="password" required autocomplete="new-password"/></div>
                <div class="field"><label for="monitor-secret">"Monitor webhook secret"</label><input id="monitor-secret" name="webhook_secret" type="password" required autocomplete="new-password" placeholder="whsec_…"/></div>
                <button type="submit" class="primary" disabled=move || connect.pending().get()>"Connect monitor"</button>
            </ActionForm>
            {move || connect.value().get().map(|r| match r {
                Ok(()) => view! { <p role="status">"Monitor connected."</p> }.into_any(),
                Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
            })}
            <ActionForm action=test>
                <button type="submit" disabled=move || test.pending().get()>"Test monitor connection"</button>
            </ActionForm>
            <ConnectionTestResult result=test.value()/>
        </section>
    }
}

/// What the last "Test connection" said, announced to screen readers.
#[component]
fn ConnectionTestResult(
    #[prop(into)] result: Signal<Option<Result<ConnectionTest, AppError>>>,
) -> impl IntoView {
    view! {
        <p role="status" class="connection-test">
            {move || result.get().map(|r| match r {
                Ok(t) if t.ok => view! { <span class="ok">{t.message}</span> }.into_any(),
                Ok(t) => view! { <span class="error">{t.message}</span> }.into_any(),
                Err(e) => view! { <span class="error">{e.to_string()}</span> }.into_any(),
            })}
        </p>
    }
}
