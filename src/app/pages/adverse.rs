//! Adverse action on the profile, under the background-check result it starts from: the
//! assessment form, the notices (printable), the waiting-period countdown, responses,
//! cancellation and the final notice. Hiring managers see only "On hold".
use crate::api::adverse::{
    CancelAdverseAction, RecordAdverseAssessment, RecordCandidateResponse, ResumeAdverseAction,
    SendFinalAdverseNotice, SendPreAdverseNotice, StartAdverseAction,
};
use crate::app::components::LocalTime;
use crate::model::{AdverseActionView, AdverseState, NoticeView, ON_HOLD};
use leptos::prelude::*;

/// Every adverse-action step's server action, so that any of them refreshes the section.
#[derive(Clone, Copy)]
pub struct AdverseSteps {
    pub start: ServerAction<StartAdverseAction>,
    pub assess: ServerAction<RecordAdverseAssessment>,
    pub pre_notice: ServerAction<SendPreAdverseNotice>,
    pub respond: ServerAction<RecordCandidateResponse>,
    pub resume: ServerAction<ResumeAdverseAction>,
    pub cancel: ServerAction<CancelAdverseAction>,
    pub final_notice: ServerAction<SendFinalAdverseNotice>,
}

impl AdverseSteps {
    pub fn new() -> AdverseSteps {
        AdverseSteps {
            start: ServerAction::new(),
            assess: ServerAction::new(),
            pre_notice: ServerAction::new(),
            respond: ServerAction::new(),
            resume: ServerAction::new(),
            cancel: ServerAction::new(),
            final_notice: ServerAction::new(),
        }
    }

    /// Changes whenever any step completes.
    pub fn version(&self) -> usize {
        self.start.version().get()
            + self.assess.version().get()
            + self.pre_notice.version().get()
            + self.respond.version().get()
            + self.resume.version().get()
            + self.cancel.version().get()
            + self.final_notice.version().get()
    }

    /// The newest step's refusal, in words.
    pub fn error(&self) -> Option<String> {
        [
            self.start.value().get().and_then(|r| r.err()),
            self.assess.value().get().and_then(|r| r.err()),
            self.pre_notice.value().get().and_then(|r| r.err()),
            self.respond.value().get().and_then(|r| r.err()),
            self.resume.value().get().and_then(|r| r.err()),
            self.cancel.value().get().and_then(|r| r.err()),
            self.final_notice.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| e.to_string())
    }
}

impl Default for AdverseSteps {
    fn default() -> Self {
        Self::new()
    }
}

/// The hiring manager's line while one of their applications is held.
#[component]
pub fn OnHoldNotice() -> impl IntoView {
    view! { <p class="badge badge-warning on-hold" role="status">{ON_HOLD}</p> }
}

/// "Start adverse action" under an order's Consider/Fail result.
#[component]
pub fn StartAdverseButton(order_id: i64, steps: AdverseSteps) -> impl IntoView {
    view! {
        <ActionForm action=steps.start attr:class="inline-form">
            <input type="hidden" name="order_id" value=order_id.to_string()/>
            <button type="submit" disabled=move || steps.start.pending().get()>"Start adverse action"</button>
        </ActionForm>
    }
}

/// The processes started from one order.
#[component]
pub fn AdverseActionList(actions: Vec<AdverseActionView>, steps: AdverseSteps) -> impl IntoView {
    view! {
        {actions.into_iter().map(|a| view! { <AdverseProcess action=a steps=steps/> }).collect_view()}
    }
    .into_any()
}

#[component]
fn AdverseProcess(action: AdverseActionView, steps: AdverseSteps) -> impl IntoView {
    let id = action.id;
    let heading = format!("adverse-{id}-heading");
    let open = action.state.is_open();
    let can_act = action.can_act && open;
    let state_class = format!("badge adverse-state state-{}", action.state.as_str());
    let deadline = action.deadline_at;
    let due = deadline.is_some_and(|d| d <= chrono::Utc::now());
    let unassessed = action.assessment.is_none();
    view! {
        <section class="adverse-action" aria-labelledby=heading.clone()>
            <h3 id=heading.clone()>"Adverse action · " {action.job_title.clone()}</h3>
            <p>
                "Status: " <span class=state_class>{action.state.label()}</span>
                {action.started_by.clone().map(|b| format!(" · started by {b} "))}
                " · " <LocalTime at=action.started_at/>
            </p>
            {(!action.email_configured).then(|| view! {
                <p class="muted">"Email is not configured on this server (CLEARANCE_SMTP_URL): notices are generated for printing and postal delivery only."</p>
            })}
            {action.wait_overridden.then(|| view! {
                <p class="badge badge-warning">"Waiting periods are shortened on this server (demo or test setting)."</p>
            })}
            <Assessment action=action.clone() steps=steps can_act=can_act/>
            {(action.state == AdverseState::Assessing && can_act).then(|| view! {
                <ActionForm action=steps.pre_notice attr:class="inline-form">
                    <input type="hidden" name="action_id" value=id.to_string()/>
                    <button type="submit" class="primary"
                        disabled=move || steps.pre_notice.pending().get() || unassessed>
                        "Send pre-adverse notice"
                    </button>
                    {unassessed.then(|| view! { <span class="muted">" Record the assessment first."</span> })}
                </ActionForm>
            })}
            {matches!(action.state, AdverseState::Waiting | AdverseState::Paused).then(|| view! {
                <p class="waiting-period">
                    "Waiting period: " {action.waiting_period.to_string()}
                    {deadline.map(|d| view! {
                        "; the final notice may go after " <LocalTime at=d/> " (" <LocalTime at=d relative=true/> ")"
                    })}
                    {action.paused_at.map(|p| view! { ". Paused since " <LocalTime at=p/> ": the candidate responded." })}
                </p>
            })}
            <Notices notices=action.notices.clone()/>
            <Responses action=action.clone()/>
            {(action.state == AdverseState::Paused && can_act).then(|| view! {
                <ActionForm action=steps.resume attr:class="inline-form">
                    <input type="hidden" name="action_id" value=id.to_string()/>
                    <button type="submit" disabled=move || steps.resume.pending().get()>"Resume waiting period"</button>
                </ActionForm>
            })}
            {(action.state == AdverseState::Waiting && can_act).then(|| view! {
                <ActionForm action=steps.final_notice attr:class="inline-form">
                    <input type="hidden" name="action_id" value=id.to_string()/>
                    <button type="submit" class="primary" disabled=move || steps.final_notice.pending().get() || !due>
                        "Send final notice"
                    </button>
                    {(!due).then(|| view! { <span class="muted">" Available when the waiting period has ended."</span> })}
                </ActionForm>
            })}
            {can_act.then(|| view! {
                <RespondForm action_id=id steps=steps/>
                <ActionForm action=steps.cancel attr:class="stacked-form">
                    <input type="hidden" name="action_id" value=id.to_string()/>
                    <div class="field">
                        <label for=format!("cancel-reason-{id}")>"Reason for cancelling"</label>
                        <textarea id=format!("cancel-reason-{id}") name="reason" rows="2" required></textarea>
                    </div>
                    <button type="submit" disabled=move || steps.cancel.pending().get()>"Cancel adverse action"</button>
                </ActionForm>
            })}
            {action.closed_at.map(|at| view! {
                <p>
                    {match action.state {
                        AdverseState::Cancelled => "Cancelled: the candidate proceeds",
                        _ => "Closed: the application was rejected",
                    }}
                    {action.closed_by.clone().map(|b| format!(" · by {b}"))}
                    " · " <LocalTime at=at/>
                    {action.closed_reason.clone().map(|r| format!(" · reason: {r}"))}
                </p>
            })}
        </section>
    }
    .into_any()
}

#[component]
fn Assessment(action: AdverseActionView, steps: AdverseSteps, can_act: bool) -> impl IntoView {
    let id = action.id;
    let editable = can_act && action.state == AdverseState::Assessing;
    let a = action.assessment.clone().unwrap_or_default();
    if !editable {
        return action
            .assessment
            .map(|a| {
                view! {
                    <details class="assessment">
                        <summary>
                            "Individualized assessment"
                            {action.assessed_by.clone().map(|b| format!(" by {b}"))}
                        </summary>
                        <dl>
                            <dt>"Findings considered"</dt><dd>{a.findings}</dd>
                            <dt>"Nature and gravity of the offense"</dt><dd>{a.offense_gravity}</dd>
                            <dt>"Time elapsed"</dt><dd>{a.time_elapsed}</dd>
                            <dt>"Nature of the job"</dt><dd>{a.job_nature}</dd>
                            <dt>"Rationale"</dt><dd>{a.rationale}</dd>
                        </dl>
                    </details>
                }
            })
            .into_any();
    }
    let field = move |name: &'static str, label: &'static str, value: String| {
        let fid = format!("{name}-{id}");
        view! {
            <div class="field">
                <label for=fid.clone()>{label}</label>
                <textarea id=fid name=name rows="2" required>{value}</textarea>
            </div>
        }
    };
    let saved = move || matches!(steps.assess.value().get(), Some(Ok(())));
    view! {
        <ActionForm action=steps.assess attr:class="stacked-form assessment-form">
            <fieldset>
                <legend>"Individualized assessment"</legend>
                <input type="hidden" name="action_id" value=id.to_string()/>
                {field("findings", "Findings considered", a.findings)}
                {field("offense_gravity", "Nature and gravity of the offense", a.offense_gravity)}
                {field("time_elapsed", "Time elapsed", a.time_elapsed)}
                {field("job_nature", "Nature of the job", a.job_nature)}
                {field("rationale", "Rationale", a.rationale)}
                <button type="submit" disabled=move || steps.assess.pending().get()>"Save assessment"</button>
                {move || saved().then(|| view! { <span role="status">" Assessment saved."</span> })}
            </fieldset>
        </ActionForm>
    }
    .into_any()
}

#[component]
fn Notices(notices: Vec<NoticeView>) -> impl IntoView {
    (!notices.is_empty()).then(|| {
        view! {
            <ul class="notices">
                {notices.into_iter().map(|n| view! {
                    <li class="notice">
                        <strong>{n.kind.label()}</strong>
                        " · " <LocalTime at=n.created_at/>
                        " · " <span class=format!("email-state email-{}", n.email.as_str())>{n.email.label()}</span>
                        {n.sent_at.map(|_| format!(" to {}", n.recipient))}
                        {n.email_detail.clone().filter(|_| n.email != crate::model::NoticeEmail::Sent).map(|d| view! { <span class="error">" · " {d}</span> })}
                        " · " <a href=format!("/adverse-notices/{}", n.id) target="_blank" rel="noopener">"Print notice"</a>
                        <details>
                            <summary>"Read the notice"</summary>
                            <p><strong>{n.subject.clone()}</strong></p>
                            <pre class="notice-body">{n.body.clone()}</pre>
                            <p class="muted mono">"Template version " {n.template_version} " · SHA-256 " {n.sha256.clone()}</p>
                        </details>
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    })
}

#[component]
fn Responses(action: AdverseActionView) -> impl IntoView {
    (!action.responses.is_empty()).then(|| {
        view! {
            <h4>"Candidate responses"</h4>
            <ul class="responses">
                {action.responses.into_iter().map(|r| view! {
                    <li>
                        <LocalTime at=r.recorded_at/>
                        {r.recorded_by.map(|b| format!(" · recorded by {b}"))}
                        ": " {r.note}
                        {r.document_name.map(|name| view! {
                            " · " <a href=format!("/adverse-responses/{}/document", r.id)>{format!("Document: {name}")}</a>
                        })}
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    })
}

/// "Record candidate response", with an optional document read in the browser.
#[component]
fn RespondForm(action_id: i64, steps: AdverseSteps) -> impl IntoView {
    let note = NodeRef::<leptos::html::Textarea>::new();
    let file = NodeRef::<leptos::html::Input>::new();
    let form = NodeRef::<leptos::html::Form>::new();
    let (local_error, set_local_error) = signal(None::<String>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_local_error.set(None);
        let text = note.get().map(|n| n.value()).unwrap_or_default();
        #[cfg(feature = "hydrate")]
        {
            let input = file.get();
            let name = input
                .as_ref()
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
                .map(|f| f.name());
            leptos::task::spawn_local(async move {
                match crate::app::components::file_base64(input, 5 * 1024 * 1024, "The document")
                    .await
                {
                    Ok(b64) => {
                        steps.respond.dispatch(RecordCandidateResponse {
                            action_id,
                            note: text,
                            document_name: name,
                            document_base64: (!b64.is_empty()).then_some(b64),
                        });
                        if let Some(f) = form.get() {
                            f.reset();
                        }
                    }
                    Err(e) => set_local_error.set(Some(e)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (text, file, form, action_id);
    };
    view! {
        <form class="stacked-form respond-form" node_ref=form on:submit=on_submit>
            <div class="field">
                <label for=format!("response-{action_id}")>"Candidate's response or dispute"</label>
                <textarea id=format!("response-{action_id}") node_ref=note rows="2" required></textarea>
            </div>
            <div class="field">
                <label for=format!("response-doc-{action_id}")>"Document (optional, up to 5 MB)"</label>
                <input id=format!("response-doc-{action_id}") type="file" node_ref=file/>
            </div>
            <button type="submit" disabled=move || steps.respond.pending().get()>"Record candidate response"</button>
            {move || local_error.get().map(|e| view! { <p role="alert" class="error">{e}</p> })}
        </form>
    }
    .into_any()
}
