//! Stage exceptions on the profile: the ones in force with time left, and the grant form for
//! security reviewers.
use crate::api::candidates::MoveStage;
use crate::api::policy::{stage_exceptions, GrantException};
use crate::api::review::list_reason_codes;
use crate::app::components::{client_data, ErrorNotice, JobChoice, LocalTime};
use crate::model::Stage;
use leptos::prelude::*;

/// "3h 20m left" from now to `until`.
fn time_left(until: chrono::DateTime<chrono::Utc>) -> String {
    let mins = (until - chrono::Utc::now()).num_minutes().max(0);
    format!("{}h {:02}m left", mins / 60, mins % 60)
}

#[component]
pub fn ExceptionsSection(
    candidate_id: i64,
    can_grant: bool,
    jobs: Vec<(i64, String)>,
    move_stage: ServerAction<MoveStage>,
) -> impl IntoView {
    let grant = ServerAction::<GrantException>::new();
    let list = client_data(move || {
        grant.version().get();
        move_stage.version().get();
        stage_exceptions(candidate_id)
    });
    view! {
        <section class="card exceptions" aria-labelledby="exceptions-heading">
            <h2 id="exceptions-heading">"Stage exceptions"</h2>
            {move || match list.get() {
                None => view! { <p>"Loading…"</p> }.into_any(),
                Some(loaded) => match loaded {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(l) if l.is_empty() => view! { <p>"None in force. Gated stages follow the verification status."</p> }.into_any(),
                        Ok(l) => view! {
                            <ul class="exception-list">
                                {l.into_iter().map(|e| view! {
                                    <li>
                                        <strong>{e.stage.label()}</strong>
                                        " — " {time_left(e.expiry_at)} " (until " <LocalTime at=e.expiry_at/> ")"
                                        " · " <code>{e.reason_code}</code>
                                        " · approved by " {e.approved_by} " · policy " {e.policy_name} " v" {e.policy_version}
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
            }}
            {can_grant.then(|| view! { <GrantForm candidate_id=candidate_id grant=grant jobs=jobs.clone()/> })}
        </section>
    }
}

#[component]
fn GrantForm(
    candidate_id: i64,
    grant: ServerAction<GrantException>,
    jobs: Vec<(i64, String)>,
) -> impl IntoView {
    let codes = client_data(list_reason_codes);
    let gated = [
        Stage::PhoneScreen,
        Stage::OnsiteOrPanelInterview,
        Stage::CodingAssessment,
        Stage::Offer,
        Stage::Hired,
    ];
    view! {
        <ActionForm action=grant attr:class="filters grant-exception">
            <input type="hidden" name="candidate_id" value=candidate_id.to_string()/>
            <JobChoice id="exception-job" label="Exception for job" jobs=jobs/>
            <div class="field">
                <label for="exception-stage">"Exception for stage"</label>
                <select id="exception-stage" name="stage">
                    {gated.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="exception-reason">"Exception reason code"</label>
                <select id="exception-reason" name="reason_code">
                    {move || codes.get().and_then(Result::ok).unwrap_or_default().into_iter()
                        .map(|(c, l)| view! { <option value=c>{l}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="exception-hours">"Hours"</label>
                <input id="exception-hours" name="hours" type="number" min="1" max="168" value="24" required/>
            </div>
            <button type="submit" disabled=move || grant.pending().get()>"Grant exception"</button>
        </ActionForm>
        {move || grant.value().get().map(|r| match r {
            Ok(_) => view! { <p role="status">"Exception granted."</p> }.into_any(),
            Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
        })}
    }
}
