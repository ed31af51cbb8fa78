//! The Drift page: reconciliation runs with their counts, the drift they found, and "run now".
use crate::api::reconciliation::{get_drift_report, RunReconciliation};
use crate::app::components::{ErrorNotice, LocalTime, Table};
use crate::model::ReconcileOutcome;
use leptos::prelude::*;
use leptos_meta::Title;

pub fn outcome_text(o: &ReconcileOutcome) -> String {
    if !o.ran {
        return o
            .error
            .clone()
            .unwrap_or_else(|| "A reconciliation is already running.".into());
    }
    let counts = format!(
        "Checked {}, drifted {}, fixed {}, failed {}.",
        o.checked, o.drifted, o.fixed, o.failed
    );
    match &o.error {
        Some(e) => format!("{counts} Incomplete: {e}"),
        None => counts,
    }
}

#[component]
pub fn DriftPage() -> impl IntoView {
    let run = ServerAction::<RunReconciliation>::new();
    // While a run is going, the report is fetched every second: the running row shows its counts.
    let (tick, set_tick) = signal(0u32);
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if run.pending().get_untracked() {
                    set_tick.update(|t| *t += 1)
                }
            },
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = set_tick;
    let report = Resource::new(
        move || (run.version().get(), tick.get()),
        |_| get_drift_report(),
    );
    view! {
        <Title text="Drift · Clearance"/>
        <h1>"Drift"</h1>
        <section class="card">
            <p>"Reconciliation compares every recent session at the identity provider with Clearance and corrects Clearance where they differ. It runs nightly; run it now here."</p>
            <ActionForm action=run>
                <button type="submit" class="primary" disabled=move || run.pending().get()>"Run reconciliation now"</button>
            </ActionForm>
            <p role="status" class="reconcile-status">
                {move || if run.pending().get() {
                    "Reconciling… paging through the provider's sessions; the running row below shows the counts so far.".to_string()
                } else {
                    match run.value().get() {
                        Some(Ok(o)) => outcome_text(&o),
                        Some(Err(e)) => e.to_string(),
                        None => String::new(),
                    }
                }}
            </p>
        </section>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(r) => view! {
                        <section aria-labelledby="runs-heading">
                            <h2 id="runs-heading">"Recent runs"</h2>
                            <table class="audit">
                                <thead><tr><th scope="col">"Started"</th><th scope="col">"Trigger"</th><th scope="col">"State"</th><th scope="col">"Checked"</th><th scope="col">"Drifted"</th><th scope="col">"Fixed"</th><th scope="col">"Failed"</th><th scope="col">"Duration"</th></tr></thead>
                                <tbody>
                                    {r.runs.into_iter().map(|run| view! {
                                        <tr>
                                            <td><LocalTime at=run.started_at/></td><td>{run.trigger.as_str()}</td>
                                            <td>{run.state.as_str()}{run.error.map(|e| format!(" — {e}"))}</td>
                                            <td>{run.checked}</td><td>{run.drifted}</td><td>{run.fixed}</td><td>{run.failed}</td>
                                            <td>{run.duration_ms.map(|d| format!("{d} ms")).unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                        <section aria-labelledby="drift-heading">
                            <h2 id="drift-heading">"Drifted candidates"</h2>
                            <table class="audit">
                                <thead><tr><th scope="col">"Candidate"</th><th scope="col">"Session"</th><th scope="col">"Field"</th><th scope="col">"Before"</th><th scope="col">"After"</th><th scope="col">"Detected"</th><th scope="col">"Resolved"</th></tr></thead>
                                <tbody>
                                    {r.drift.into_iter().map(|d| view! {
                                        <tr>
                                            <td><a href=format!("/candidates/{}", d.candidate_id)>{d.candidate}</a></td>
                                            <td>{d.session_id}</td><td>{d.field}</td>
                                            <td>{d.before.unwrap_or_else(|| "(missing)".into())}</td><td>{d.after.unwrap_or_default()}</td>
                                            <td><LocalTime at=d.detected_at/></td>
                                            <td>{match d.resolved_at { Some(t) => view! { <LocalTime at=t/> }.into_any(), None => view! { "Not yet" }.into_any() }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                        <section aria-labelledby="stale-heading">
                            <h2 id="stale-heading">"Stale background checks"</h2>
                            <p>"Orders the partner accepted but has not answered for a long time. The partner contract has no status endpoint: ask the partner about these."</p>
                            <Table headings=&["Candidate", "Background check", "Partner", "Submitted"] empty=r.stale_orders.is_empty()>
                                {r.stale_orders.into_iter().map(|o| view! {
                                    <tr>
                                        <td><a href=format!("/candidates/{}", o.candidate_id)>{o.candidate}</a></td>
                                        <td class="mono">{o.background_check_id}</td><td>{o.partner}</td>
                                        <td><LocalTime at=o.submitted_at relative=true/></td>
                                    </tr>
                                }).collect_view()}
                            </Table>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
