//! The profile's background checks: the orders (newest first) and the order picker.
use crate::api::adverse::get_adverse_actions;
use crate::api::background::{background_checks, get_catalog, list_partners, PlaceBackgroundCheck};
use crate::app::components::{client_data, ErrorNotice, LocalTime};
use crate::app::pages::adverse::{
    AdverseActionList, AdverseSteps, OnHoldNotice, StartAdverseButton,
};
use crate::model::{
    format_money, result_is_adverse, total_of, AdverseActionView, AdverseActions, BackgroundCheck,
    CatalogView, OrderStatus, PartnerSummary,
};
use leptos::prelude::*;

#[component]
pub fn BackgroundChecksSection(
    candidate_id: i64,
    can_order: bool,
    jobs: Vec<(i64, String)>,
) -> impl IntoView {
    let place = ServerAction::<PlaceBackgroundCheck>::new();
    let (open, set_open) = signal(false);
    let tick = crate::app::components::live_changes(
        Some(candidate_id),
        &[crate::model::ChangeKind::Orders],
        4,
    );
    let orders = client_data(move || {
        tick.get();
        place.version().get();
        background_checks(candidate_id)
    });
    let steps = AdverseSteps::new();
    // A waiting period ends with no change to tell of: the section looks again when it does.
    let (due, set_due) = signal(0u32);
    let adverse = client_data(move || {
        tick.get();
        due.get();
        steps.version();
        get_adverse_actions(candidate_id)
    });
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(Ok(AdverseActions::Detailed(list))) = adverse.get() {
            let now = chrono::Utc::now();
            let next = list
                .iter()
                .filter_map(|a| a.deadline_at)
                .filter(|d| *d > now)
                .min();
            if let Some(next) = next {
                let wait = (next - now).to_std().unwrap_or_default()
                    + std::time::Duration::from_millis(500);
                set_timeout(move || set_due.update(|n| *n += 1), wait);
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = set_due;
    // A placed order closes the picker.
    Effect::new(move |_| {
        if let Some(Ok(_)) = place.value().get() {
            set_open.set(false);
        }
    });
    view! {
        <section class="card background-checks" aria-labelledby="checks-heading">
            <h2 id="checks-heading">"Background checks"</h2>
            {move || matches!(adverse.get(), Some(Ok(AdverseActions::OnHold(true)))).then(|| view! { <OnHoldNotice/> })}
            {move || steps.error().map(|e| view! { <p role="alert" class="error">{e}</p> })}
            {move || match orders.get() {
                None => view! { <p>"Loading…"</p> }.into_any(),
                Some(loaded) => match loaded {
                        Ok(list) if list.is_empty() => view! { <p>"No background check ordered yet."</p> }.into_any(),
                        Ok(list) => {
                            let actions = match adverse.get() {
                                Some(Ok(AdverseActions::Detailed(a))) => a,
                                _ => Vec::new(),
                            };
                            view! { <OrderList orders=list actions=actions can_start=can_order steps=steps/> }.into_any()
                        }
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
            }}
            {move || matches!(place.value().get(), Some(Ok(_))).then(|| view! {
                <p role="status">"Order placed; it is on its way to the partner."</p>
            })}
            {can_order.then(|| view! {
                <button
                    type="button"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| set_open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "Close order form" } else { "Order background check" }}
                </button>
                <Show when=move || open.get()>
                    <OrderPicker jobs=jobs.clone() submit_label="Place order" busy=place.pending().into()
                        on_choose=Callback::new(move |c: OrderChoice| {
                            place.dispatch(PlaceBackgroundCheck {
                                candidate_id,
                                partner_id: c.partner_id,
                                package_id: c.package_id,
                                add_on_ids: c.add_on_ids,
                                expected_total: c.total.to_string(),
                                job_id: c.job_id,
                            });
                        })/>
                    {move || place.value().get().and_then(|r| r.err()).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
                </Show>
            })}
        </section>
    }
}

#[component]
fn OrderList(
    orders: Vec<BackgroundCheck>,
    actions: Vec<AdverseActionView>,
    can_start: bool,
    steps: AdverseSteps,
) -> impl IntoView {
    view! {
        <ul class="orders">
            {orders.into_iter().map(|o| {
                let of_order: Vec<AdverseActionView> = actions.iter().filter(|a| a.order_id == o.id).cloned().collect();
                // A newer order's result speaks for the candidate; an open process blocks a second.
                let may_start = can_start && !o.superseded
                    && o.result.as_deref().is_some_and(result_is_adverse)
                    && !of_order.iter().any(|a| a.state.is_open());
                let add_ons = o.add_ons.iter().map(|a| a.name.clone()).collect::<Vec<_>>().join(", ");
                let status_class = format!("order-status status-{}", o.status.as_str().replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
                view! {
                    <li class="order" class:superseded=o.superseded>
                        <p class="order-title">
                            <strong>{o.package_name.clone()}</strong>
                            {(!add_ons.is_empty()).then(|| format!(" + {add_ons}"))}
                            " · " {o.partner_name.clone()}
                        </p>
                        <p>
                            "Status: " <span class=status_class>{o.status_label.clone()}</span>
                            {o.stale.then(|| view! { " " <span class="badge badge-warning">"Stale: no result from the partner"</span> })}
                            {o.superseded.then(|| view! { " " <span class="badge">"Superseded by a newer order"</span> })}
                        </p>
                        {o.result.clone().map(|r| view! { <p>"Result: " <strong class="order-result">{r}</strong></p> })}
                        {o.result_link_url.clone().map(|u| view! {
                            <p><a href=u rel="noopener noreferrer" target="_blank">"View result at the partner"</a></p>
                        })}
                        {o.error_message.clone().map(|e| view! {
                            <p class="error">{if o.status == OrderStatus::Queued { "Retrying. The partner said: " } else { "The partner said: " }} {e}</p>
                        })}
                        <p class="order-meta">
                            {o.total.clone().and_then(|t| crate::model::parse_price(&t).ok()).map(|t| format!("{} · ", format_money(t)))}
                            {o.ordered_by.clone().map(|b| format!("ordered by {b} · "))}
                            <LocalTime at=o.ordered_at/>
                            " · " <span class="mono">{o.background_check_id.clone()}</span>
                        </p>
                        {may_start.then(|| view! { <StartAdverseButton order_id=o.id steps=steps/> })}
                        {(!of_order.is_empty()).then(|| view! { <AdverseActionList actions=of_order steps=steps/> })}
                    </li>
                }
                .into_any()
            }).collect_view()}
        </ul>
    }
}

/// What the order picker's form chose: one partner package and its add-ons at `total`, for the
/// application of `job_id` (the picker asks only when given several jobs).
#[derive(Debug, Clone)]
pub struct OrderChoice {
    pub partner_id: i64,
    pub package_id: String,
    pub add_on_ids: Vec<String>,
    pub total: rust_decimal::Decimal,
    pub job_id: Option<i64>,
}

/// Partner, package and add-ons from the partner's catalog, with the exact total; submitting
/// hands the choice to `on_choose` (the profile places the order; the list's bulk bar previews it).
#[component]
pub fn OrderPicker(
    jobs: Vec<(i64, String)>,
    submit_label: &'static str,
    busy: Signal<bool>,
    on_choose: Callback<OrderChoice>,
) -> impl IntoView {
    let partners = Resource::new(|| (), |_| list_partners());
    view! {
        <div class="picker" role="group" aria-label="Order background check">
            <Transition fallback=|| view! { <p>"Loading partners…"</p> }>
                {move || {
                    let jobs = jobs.clone();
                    Suspend::new(async move {
                        match partners.await {
                            Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                            Ok(list) if list.is_empty() => view! {
                                <p>"No background-check partner is connected. Ask an admin to connect one on the Partners page."</p>
                            }.into_any(),
                            Ok(list) => view! { <PartnerPicker jobs=jobs partners=list submit_label=submit_label busy=busy on_choose=on_choose/> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </div>
    }
}

#[component]
fn PartnerPicker(
    jobs: Vec<(i64, String)>,
    partners: Vec<PartnerSummary>,
    submit_label: &'static str,
    busy: Signal<bool>,
    on_choose: Callback<OrderChoice>,
) -> impl IntoView {
    let (partner, set_partner) = signal(partners[0].id);
    let (refresh, set_refresh) = signal(0u32);
    let catalog = Resource::new(
        move || (partner.get(), refresh.get()),
        |(p, r)| get_catalog(p, r > 0),
    );
    let several = partners.len() > 1;
    view! {
        {several.then(|| view! {
            <fieldset class="partner-choice">
                <legend>"Partner"</legend>
                {partners.iter().enumerate().map(|(i, p)| {
                    let id = p.id;
                    view! {
                        <label class="radio-inline">
                            <input type="radio" name="partner" checked=i == 0 on:change=move |_| set_partner.set(id)/>
                            {p.name.clone()}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
        })}
        <Transition fallback=|| view! { <p>"Loading the catalog…"</p> }>
            {move || {
                let jobs = jobs.clone();
                Suspend::new(async move {
                    match catalog.await {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(view) => view! {
                            <CatalogForm jobs=jobs view=view submit_label=submit_label busy=busy on_choose=on_choose
                                on_refresh=Callback::new(move |_| set_refresh.update(|r| *r += 1))/>
                        }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn CatalogForm(
    jobs: Vec<(i64, String)>,
    view: CatalogView,
    submit_label: &'static str,
    busy: Signal<bool>,
    on_choose: Callback<OrderChoice>,
    on_refresh: Callback<()>,
) -> impl IntoView {
    let partner_id = view.partner_id;
    let catalog = view.catalog.clone().unwrap_or_default();
    let (package, set_package) = signal(None::<String>);
    let (add_ons, set_add_ons) = signal(Vec::<String>::new());
    let (job, set_job) = signal(jobs.first().map(|(id, _)| *id));
    let priced = catalog.clone();
    let total = Memo::new(move |_| {
        let pkg = package.get()?;
        priced.total(&pkg, &add_ons.get()).ok()
    });
    let header = view! {
        <div class="picker-partner">
            {view.has_logo.then(|| view! {
                <img class="partner-logo" src=format!("/partner-logos/{partner_id}.png") alt=format!("{} logo", view.partner_name)/>
            })}
            <strong>{view.partner_name.clone()}</strong>
            {view.fetched_at.map(|at| view! { <span class="muted">" · catalog from " <LocalTime at=at relative=true/></span> })}
            " " <button type="button" class="link-button" on:click=move |_| on_refresh.run(())>"Refresh catalog"</button>
        </div>
        {view.error.clone().map(|e| view! {
            <p role="alert" class="error">
                {e} {if view.catalog.is_some() { " Showing the last catalog that could be fetched." } else { "" }}
            </p>
        })}
    };
    if view.catalog.is_none() {
        return header.into_any();
    }
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(package_id), Some(t)) = (package.get_untracked(), total.get_untracked()) else {
            return;
        };
        on_choose.run(OrderChoice {
            partner_id,
            package_id,
            add_on_ids: add_ons.get_untracked(),
            total: t,
            job_id: job.get_untracked(),
        });
    };
    let several_jobs = jobs.len() > 1;
    view! {
        {header}
        <form class="order-form" on:submit=submit>
            {several_jobs.then(|| view! {
                <div class="field">
                    <label for="order-job">"For job"</label>
                    <select id="order-job" on:change=move |ev| set_job.set(event_target_value(&ev).parse().ok())>
                        {jobs.iter().map(|(id, title)| view! { <option value=id.to_string()>{title.clone()}</option> }).collect_view()}
                    </select>
                </div>
            })}
            <fieldset class="packages">
                <legend>"Package"</legend>
                {catalog.packages.iter().map(|p| {
                    let id = p.id.clone();
                    view! {
                        <label class="radio-card">
                            <input type="radio" name="package_id" value=p.id.clone() required
                                on:change=move |_| set_package.set(Some(id.clone()))/>
                            <span class="card-name">{p.name.clone()}</span>
                            <span class="card-price">{price_text(p.price.as_deref())}</span>
                            {p.description.clone().map(|d| view! { <span class="card-description">{d}</span> })}
                            {(!p.screenings.is_empty()).then(|| view! {
                                <ul class="screenings">{p.screenings.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ul>
                            })}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            {(!catalog.add_on_packages.is_empty()).then(|| view! {
                <fieldset class="add-ons">
                    <legend>"Add-ons"</legend>
                    {catalog.add_on_packages.iter().map(|a| {
                        let id = a.id.clone();
                        view! {
                            <label class="checkbox-card">
                                <input type="checkbox" value=a.id.clone() on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let id = id.clone();
                                    set_add_ons.update(|l| {
                                        l.retain(|x| *x != id);
                                        if on { l.push(id); }
                                    });
                                }/>
                                <span class="card-name">{a.name.clone()}</span>
                                <span class="card-price">{price_text(a.price.as_deref())}</span>
                                {a.description.clone().map(|d| view! { <span class="card-description">{d}</span> })}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
            })}
            <p class="order-total" aria-live="polite">
                "Total: " <output>{move || total.get().map(format_money).unwrap_or_else(|| "choose a package".into())}</output>
            </p>
            <button type="submit" class="primary" disabled=move || busy.get() || total.get().is_none()>{submit_label}</button>
        </form>
    }
    .into_any()
}

fn price_text(price: Option<&str>) -> String {
    match total_of([price]) {
        Ok(d) if price.is_some() => format_money(d),
        _ => "Price on request".into(),
    }
}
