//! The Deliveries page: what did not reach a partner yet (with every attempt), replay, and
//! partner events we kept because they name a candidate we do not have.
use crate::api::deliveries::{list_deliveries, ReplayDelivery};
use crate::app::components::{ErrorNotice, LocalTime, Table};
use crate::model::{Delivery, JobState};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let replay = ServerAction::<ReplayDelivery>::new();
    let view_data = Resource::new(move || replay.version().get(), |_| list_deliveries());
    let replay_error = move || replay.value().get().and_then(|r| r.err());
    view! {
        <Title text="Deliveries · Clearance"/>
        <h1>"Deliveries"</h1>
        {move || replay_error().map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(v) => view! {
                        <section aria-labelledby="outbound-heading">
                            <h2 id="outbound-heading">"Outbound, not delivered yet"</h2>
                            {if v.deliveries.is_empty() {
                                view! { <p>"Everything has been delivered."</p> }.into_any()
                            } else {
                                v.deliveries.into_iter().map(|d| view! { <DeliveryCard delivery=d replay=replay/> }).collect_view().into_any()
                            }}
                        </section>
                        <section aria-labelledby="unmatched-heading">
                            <h2 id="unmatched-heading">"Partner events for unknown candidates or interviews"</h2>
                            <p>"Kept as received; they are matched again when the candidate appears."</p>
                            <Table headings=&["Received", "Event", "Candidate or interview sent", "Session"] empty=v.unmatched.is_empty()>
                                {v.unmatched.into_iter().map(|u| view! {
                                    <tr><td><LocalTime at=u.received_at/></td><td>{u.event_type}</td><td>{u.candidate_ref}</td><td>{u.session_id}</td></tr>
                                }).collect_view()}
                            </Table>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DeliveryCard(delivery: Delivery, replay: ServerAction<ReplayDelivery>) -> impl IntoView {
    let d = delivery;
    let state_label = match d.state {
        JobState::Pending if d.attempts > 0 => "Retrying",
        state => state.label(),
    };
    let heading = format!("{} — {}", d.what, d.subject);
    view! {
        <article class="card delivery" aria-label=heading.clone()>
            <h3>{heading.clone()}</h3>
            <p>
                <strong>{state_label}</strong>
                {format!(" · attempt {} of {}", d.attempts, d.max_attempts)}
                {d.next_try.map(|t| view! { " · next try " <LocalTime at=t/> })}
            </p>
            {d.last_error.clone().map(|e| view! { <p class="error">"Last error: " {e}</p> })}
            {(d.state == JobState::Dead).then(|| view! {
                <ActionForm action=replay>
                    <input type="hidden" name="job_id" value=d.id.to_string()/>
                    <button type="submit">"Replay"</button>
                </ActionForm>
            })}
            <table class="audit">
                <thead><tr><th scope="col">"#"</th><th scope="col">"When"</th><th scope="col">"HTTP"</th><th scope="col">"Latency"</th><th scope="col">"Outcome"</th><th scope="col">"Answer"</th></tr></thead>
                <tbody>
                    {d.history.into_iter().map(|a| view! {
                        <tr>
                            <td>{a.attempt}</td>
                            <td><LocalTime at=a.at/></td>
                            <td>{a.http_status.map(|s| s.to_string()).unwrap_or_else(|| "—".into())}</td>
                            <td>{format!("{} ms", a.latency_ms)}</td>
                            <td>{a.outcome}</td>
                            <td>{a.detail}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </article>
    }
}
