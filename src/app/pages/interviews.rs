//! The profile's "Interview integrity" section: interviews, their monitoring, reports and consent.
use crate::api::integrity::{
    candidate_interviews, CancelInterview, RescheduleInterview, ScheduleInterview,
};
use crate::app::components::{client_data, ErrorNotice, JobChoice, LocalTime};
use crate::model::{integrity_flag_label, InterviewState, InterviewView, Stage};
use leptos::prelude::*;

#[component]
pub fn InterviewsSection(
    candidate_id: i64,
    can_schedule: bool,
    jobs: Vec<(i64, String)>,
) -> impl IntoView {
    let schedule = ServerAction::<ScheduleInterview>::new();
    let cancel = ServerAction::<CancelInterview>::new();
    let reschedule = ServerAction::<RescheduleInterview>::new();
    let tick = crate::app::components::live_changes(
        Some(candidate_id),
        &[crate::model::ChangeKind::Interviews],
        4,
    );
    let list = client_data(move || {
        tick.get();
        schedule.version().get();
        cancel.version().get();
        reschedule.version().get();
        candidate_interviews(candidate_id)
    });
    view! {
        <section class="card interviews" aria-labelledby="interviews-heading">
            <h2 id="interviews-heading">"Interview integrity"</h2>
            {move || match list.get() {
                None => view! { <p>"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice error=e/> }.into_any(),
                Some(Ok(l)) if l.is_empty() => view! { <p>"No interview scheduled."</p> }.into_any(),
                Some(Ok(l)) => view! {
                    <ul class="interview-list">
                        {l.into_iter().map(|i| view! { <Interview interview=i can_cancel=can_schedule cancel=cancel reschedule=reschedule/> }).collect_view()}
                    </ul>
                }.into_any(),
            }}
            {move || cancel.value().get().and_then(|r| r.err()).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
            {move || reschedule.value().get().and_then(|r| r.err()).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
            {can_schedule.then(|| view! { <ScheduleForm candidate_id=candidate_id schedule=schedule jobs=jobs.clone()/> })}
        </section>
    }
}

#[component]
fn Interview(
    interview: InterviewView,
    can_cancel: bool,
    cancel: ServerAction<CancelInterview>,
    reschedule: ServerAction<RescheduleInterview>,
) -> impl IntoView {
    let i = interview;
    let scheduled = i.state == InterviewState::Scheduled;
    let monitoring = match (i.state, i.monitored) {
        (InterviewState::Cancelled, _) => "Cancelled",
        (_, true) => "Monitored",
        (_, false) => "Announcing to the monitor…",
    };
    view! {
        <li class="interview">
            <p>
                <strong>{i.stage.label()}</strong> " · " <LocalTime at=i.scheduled_at/> " (" {i.time_zone.clone()} ") · "
                {i.interviewers.join(", ")} " · " <span class="muted">{monitoring}</span>
            </p>
            {i.report.map(|r| {
                let flags = r.flags.iter().map(|f| integrity_flag_label(f)).collect::<Vec<_>>();
                let verdict = if r.passed { "✓ Integrity check passed" } else { "✗ Integrity check did not pass" };
                view! {
                    <p class=if r.passed { "integrity-verdict go" } else { "integrity-verdict no-go" }><strong>{verdict}</strong></p>
                    {r.score.map(|score| view! {
                        <p class="integrity-score">"Integrity score: " <strong>{format!("{score} / 100")}</strong></p>
                        <p>{if flags.is_empty() { "No flags.".to_string() } else { format!("Flags: {}", flags.join("; ")) }}</p>
                    })}
                    {r.summary.clone().filter(|s| !s.is_empty()).map(|s| view! { <p>{s}</p> })}
                    <p>{format!("Consent {} · ", r.consent.label())} <LocalTime at=r.consent_at/></p>
                    {r.report_id.map(|id| view! {
                        <p>
                            <a href=format!("/integrity-reports/{id}/file") download="">{format!("Download report ({})", r.filename.clone().unwrap_or_default())}</a>
                            " · SHA-256 " <code class="digest">{r.sha256.clone().unwrap_or_default()}</code>
                        </p>
                    })}
                }
            })}
            {(can_cancel && scheduled).then(|| view! {
                <ActionForm action=reschedule attr:class="filters reschedule">
                    <input type="hidden" name="interview_id" value=i.id.to_string()/>
                    <div class="field">
                        <label for=format!("reschedule-time-{}", i.id)>"New time"</label>
                        <input id=format!("reschedule-time-{}", i.id) name="local_time" type="datetime-local" required/>
                    </div>
                    <div class="field">
                        <label for=format!("reschedule-zone-{}", i.id)>"New time zone"</label>
                        <input id=format!("reschedule-zone-{}", i.id) name="time_zone" value=i.time_zone.clone() required/>
                    </div>
                    <button type="submit">"Reschedule interview"</button>
                </ActionForm>
                <ActionForm action=cancel>
                    <input type="hidden" name="interview_id" value=i.id.to_string()/>
                    <button type="submit" class="link-button">"Cancel interview"</button>
                </ActionForm>
            })}
        </li>
    }
}

#[component]
fn ScheduleForm(
    candidate_id: i64,
    schedule: ServerAction<ScheduleInterview>,
    jobs: Vec<(i64, String)>,
) -> impl IntoView {
    let zone = NodeRef::<leptos::html::Input>::new();
    // The viewer's own zone is the natural default.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(input) = zone.get() {
            if input.value().is_empty() || input.value() == "UTC" {
                let opts = js_sys::Intl::DateTimeFormat::new(
                    &js_sys::Array::new(),
                    &js_sys::Object::new(),
                )
                .resolved_options();
                if let Ok(tz) = js_sys::Reflect::get(&opts, &"timeZone".into()) {
                    if let Some(tz) = tz.as_string() {
                        input.set_value(&tz);
                    }
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = zone;
    });
    let stages = [
        Stage::PhoneScreen,
        Stage::OnsiteOrPanelInterview,
        Stage::CodingAssessment,
    ];
    view! {
        <ActionForm action=schedule attr:class="filters schedule-interview">
            <input type="hidden" name="candidate_id" value=candidate_id.to_string()/>
            <JobChoice id="interview-job" label="Interview for job" jobs=jobs/>
            <div class="field">
                <label for="interview-stage">"Interview stage"</label>
                <select id="interview-stage" name="stage">
                    {stages.into_iter().map(|s| view! { <option value=s.as_str() selected=s == Stage::OnsiteOrPanelInterview>{s.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="interview-time">"Interview time"</label>
                <input id="interview-time" name="local_time" type="datetime-local" required/>
            </div>
            <div class="field">
                <label for="interview-zone">"Time zone"</label>
                <input id="interview-zone" name="time_zone" node_ref=zone value="UTC" required/>
            </div>
            <div class="field">
                <label for="interview-people">"Interviewers (emails)"</label>
                <input id="interview-people" name="interviewers" required placeholder="ana@example.com, bo@example.com"/>
            </div>
            <button type="submit" disabled=move || schedule.pending().get()>"Schedule interview"</button>
        </ActionForm>
        {move || schedule.value().get().map(|r| match r {
            Ok(_) => view! { <p role="status">"Interview scheduled; the monitor is told automatically."</p> }.into_any(),
            Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
        })}
    }
}
