//! The candidate profile: header with the verification panel, applications, stage moves and history.
use crate::api::audit::candidate_timeline;
use crate::api::candidates::{get_candidate, get_verification_panel, MoveStage, SendVerification};
use crate::api::reconciliation::{support_view, ReconcileCandidate};
use crate::app::components::{client_data, ErrorNotice, LocalTime, StageLabel, StatusBadge, Table};
use crate::app::pages::audit::AuditTable;
use crate::app::pages::background::BackgroundChecksSection;
use crate::app::pages::exceptions::ExceptionsSection;
use crate::app::pages::interviews::InterviewsSection;
use crate::error::AppError;
use crate::model::{
    Application, CandidateProfile, ChangeKind, VerificationPanel, VerificationStatus,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn CandidateProfilePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok());
    let move_stage = ServerAction::<MoveStage>::new();
    let profile = Resource::new(
        move || (id(), move_stage.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_candidate(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading candidate…"</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => view! { <Profile profile=p move_stage=move_stage/> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Profile(profile: CandidateProfile, move_stage: ServerAction<MoveStage>) -> impl IntoView {
    let name = format!("{} {}", profile.first_name, profile.last_name);
    let contact = [
        Some(profile.email.clone()),
        profile.phone.clone().filter(|s| !s.is_empty()),
        profile.location.clone().filter(|s| !s.is_empty()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let summary = profile
        .applications
        .iter()
        .map(|a| format!("{} — {}", a.job.title, a.stage.label()))
        .collect::<Vec<_>>()
        .join("; ");
    let can_move = profile.can_move_stage;
    // Roles that see verification details also see the audit trail.
    let show_timeline = profile.verification.reason_codes.is_some();
    let show_support = profile.verification.can_reconcile;
    let candidate_id = profile.id;
    let can_order = profile.can_order_check;
    let can_grant = profile.can_grant_exception;
    let can_manage_data = profile.can_manage_data;
    let email = profile.email.clone();
    let jobs = profile
        .applications
        .iter()
        .map(|a| (a.job.id, a.job.title.clone()))
        .collect::<Vec<_>>();
    let move_error = move || move_stage.value().get().and_then(|r| r.err());
    view! {
        <Title text=format!("{name} · Clearance")/>
        <article class="profile">
            <header class="profile-header">
                <div class="identity">
                    <h1>{name}</h1>
                    <p class="contact">{contact}</p>
                    <p class="summary">{summary}</p>
                </div>
                <VerificationSection candidate_id=profile.id initial=profile.verification.clone()/>
            </header>
            {move || move_error().map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
            <ExceptionsSection candidate_id=candidate_id can_grant=can_grant move_stage=move_stage jobs=jobs.clone()/>
            <section aria-labelledby="applications-heading">
                <h2 id="applications-heading">"Applications"</h2>
                {profile
                    .applications
                    .into_iter()
                    .map(|a| view! { <ApplicationCard application=a can_move=can_move move_stage=move_stage/> })
                    .collect_view()}
            </section>
            <BackgroundChecksSection candidate_id=candidate_id can_order=can_order jobs=jobs.clone()/>
            <InterviewsSection candidate_id=candidate_id can_schedule=can_move jobs=jobs/>
            {show_support.then(|| view! { <Support candidate_id=candidate_id/> })}
            {can_manage_data.then(|| view! { <DataSection candidate_id=candidate_id email=email.clone()/> })}
            {show_timeline.then(|| view! { <Timeline candidate_id=candidate_id move_stage=move_stage/> })}
        </article>
    }
}

/// Whether a hiring manager may proceed: only a verified candidate is a go.
pub fn go_no_go(status: VerificationStatus) -> &'static str {
    if status == VerificationStatus::Verified {
        "Go: identity verified"
    } else {
        "No-go: identity not verified yet"
    }
}

/// The verification panel; refetched when `GET /events` tells of a change to this candidate's
/// verification or interviews, so a webhook that lands shows without a reload (polling only
/// while the stream is down).
#[component]
fn VerificationSection(candidate_id: i64, initial: VerificationPanel) -> impl IntoView {
    let send = ServerAction::<SendVerification>::new();
    let reconcile = ServerAction::<ReconcileCandidate>::new();
    let tick = crate::app::components::live_changes(
        Some(candidate_id),
        &[ChangeKind::Verification, ChangeKind::Interviews],
        3,
    );
    // The panel the profile came with, read again when the stream tells of a change or after a
    // send or a reconcile (in the browser; the server renders the one it has). Not a resource of
    // its own: the page's data already holds it, so it is not written into the page twice.
    let (panel, set_panel) = signal(Ok::<VerificationPanel, AppError>(initial));
    let latest = StoredValue::new(0u64);
    Effect::new(move |first: Option<()>| {
        tick.track();
        send.version().track();
        reconcile.version().track();
        if first.is_none() {
            return;
        }
        latest.update_value(|n| *n += 1);
        let mine = latest.get_value();
        leptos::task::spawn_local(async move {
            let read = get_verification_panel(candidate_id).await;
            // Only the newest read is shown (answers can arrive out of order).
            if latest.try_get_value() == Some(mine) {
                set_panel.try_set(read);
            }
        });
    });
    let send_error = move || send.value().get().and_then(|r| r.err());
    view! {
        <section class="verification card" aria-label="Verification">
            <h2>"Verification"</h2>
            {move || match panel.get() {
                Ok(p) => view! { <PanelBody panel=p candidate_id=candidate_id send=send reconcile=reconcile/> }.into_any(),
                Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
            }}
            {move || send_error().map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
            {move || reconcile.value().get().map(|r| view! {
                <p role="status" class="reconcile-status">{match r {
                    Ok(o) => crate::app::pages::drift::outcome_text(&o),
                    Err(e) => e.to_string(),
                }}</p>
            })}
        </section>
    }
}

#[component]
fn PanelBody(
    panel: VerificationPanel,
    candidate_id: i64,
    send: ServerAction<SendVerification>,
    reconcile: ServerAction<ReconcileCandidate>,
) -> impl IntoView {
    let details = panel.reason_codes.is_some();
    let reasons = panel.reason_codes.clone().unwrap_or_default();
    view! {
        <p class="go-no-go">{go_no_go(panel.status)}</p>
        <dl>
            <dt>"Status"</dt>
            <dd><StatusBadge status=panel.status/></dd>
            {details.then(|| view! {
                <dt>"Risk tier"</dt>
                <dd>{panel.risk_tier.map_or("Not assessed", |t| t.label())}</dd>
                <dt>"Reasons"</dt>
                <dd>{if reasons.is_empty() {
                    view! { "None" }.into_any()
                } else {
                    view! { <ul class="reasons">{reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul> }.into_any()
                }}</dd>
            })}
            {panel.verified_at.map(|t| view! {
                <dt>"Verified at"</dt>
                <dd><LocalTime at=t/></dd>
            })}
            {panel.reviewer.clone().map(|r| view! {
                <dt>"Reviewed by"</dt>
                <dd>{r} {panel.review_reason.clone().map(|why| format!(" — {why}"))}</dd>
            })}
            <dt>"Last updated"</dt>
            <dd>{match panel.last_updated {
                Some(at) => view! { <LocalTime at=at relative=true/> }.into_any(),
                None => view! { "Never" }.into_any(),
            }}</dd>
            <dt>"Policy"</dt>
            <dd>{panel.policy_name.clone().unwrap_or_else(|| "Default policy".into())}</dd>
            {details.then(|| view! {
                <dt>"Evidence pack"</dt>
                <dd>
                    {match panel.session_id.clone() {
                        Some(sid) => view! { <a href=format!("/evidence/{sid}")>"Open evidence pack"</a> }.into_any(),
                        None => view! { "None yet" }.into_any(),
                    }}
                    {panel.evidence_pack_url.clone().map(|url| view! {
                        " · " <a href=url rel="noopener noreferrer" target="_blank">"Provider evidence"</a>
                    })}
                </dd>
            })}
            {panel.session_id.clone().map(|sid| view! {
                <dt>"Session"</dt>
                <dd>
                    {sid}
                    {panel.candidate_url.clone().map(|u| view! { " · " <a href=u rel="noopener noreferrer" target="_blank">"Candidate link"</a> })}
                </dd>
            })}
            <dt>"Next action"</dt>
            <dd class="next-action">{panel.next_action.clone()}</dd>
        </dl>
        {panel.can_reconcile.then(|| view! {
            <ActionForm action=reconcile attr:class="reconcile">
                <input type="hidden" name="candidate_id" value=candidate_id.to_string()/>
                <button type="submit" disabled=move || reconcile.pending().get()>"Reconcile this candidate"</button>
            </ActionForm>
        })}
        {panel.can_send.then(|| view! {
            <ActionForm action=send attr:class="send-verification">
                <input type="hidden" name="candidate_id" value=candidate_id.to_string()/>
                <button type="submit" class="primary" disabled=move || send.pending().get()>{panel.send_label.clone()}</button>
            </ActionForm>
        })}
    }
}

#[component]
fn ApplicationCard(
    application: Application,
    can_move: bool,
    move_stage: ServerAction<MoveStage>,
) -> impl IntoView {
    let a = application;
    let select_id = format!("move-stage-{}", a.id);
    let options = a.stage.next_stages();
    view! {
        <div class="application card">
            <h3>{a.job.title.clone()}</h3>
            <p>"Hiring manager: " {a.hiring_manager.clone()}</p>
            <p>"Stage: " <StageLabel stage=a.stage/></p>
            {(can_move && !options.is_empty()).then(|| view! {
                <ActionForm action=move_stage attr:class="move-stage">
                    <input type="hidden" name="application_id" value=a.id.to_string()/>
                    <label for=select_id.clone()>"New stage"</label>
                    <select id=select_id.clone() name="stage">
                        {options.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                    <button type="submit" disabled=move || move_stage.pending().get()>"Move to stage"</button>
                </ActionForm>
            })}
            <h4>"Stage history"</h4>
            <ol class="history">
                {a.history.into_iter().map(|h| view! {
                    <li>
                        {match h.from_stage {
                            Some(from) => format!("{} → {}", from.label(), h.to_stage.label()),
                            None => format!("Entered {}", h.to_stage.label()),
                        }}
                        " by " {h.actor.unwrap_or_else(|| "system".into())} " · " <LocalTime at=h.changed_at/>
                    </li>
                }).collect_view()}
            </ol>
        </div>
    }
}

#[component]
fn Timeline(candidate_id: i64, move_stage: ServerAction<MoveStage>) -> impl IntoView {
    let entries = client_data(move || {
        move_stage.version().get();
        candidate_timeline(candidate_id)
    });
    view! {
        <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Audit timeline"</h2>
            {move || match entries.get() {
                None => view! { <p>"Loading…"</p> }.into_any(),
                Some(loaded) => match loaded {
                        Ok(list) => view! { <AuditTable entries=list/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
            }}
        </section>
    }
}

/// The support runbook in one place (admins and security reviewers).
#[component]
fn Support(candidate_id: i64) -> impl IntoView {
    let data = client_data(move || support_view(candidate_id));
    view! {
        <section aria-labelledby="support-heading" class="card support">
            <h2 id="support-heading">"Support"</h2>
            {move || match data.get() {
                None => view! { <p>"Loading…"</p> }.into_any(),
                Some(loaded) => match loaded {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(v) => view! {
                            <p>"Verification sessions: "
                                {if v.sessions.is_empty() { "none".to_string() } else {
                                    v.sessions.iter().map(|(id, st, _)| format!("{id} ({})", st.as_str().replace('_', " "))).collect::<Vec<_>>().join(", ")
            }}
                            </p>
                            <p>"Last webhook: "
                                {match v.last_webhook.clone() {
                                    Some((at, kind, id, state)) => view! { {format!("{kind} · {id} · {state} · ")} <LocalTime at=at/> }.into_any(),
                                    None => view! { "none received" }.into_any(),
                                }}
                            </p>
                            <h3>"Deliveries"</h3>
                            <Table headings=&["What", "State", "Attempts", "Last answer"] empty=v.deliveries.is_empty()>
                                {v.deliveries.into_iter().map(|d| view! {
                                    <tr>
                                        <td>{d.what}</td><td>{d.state.as_str()}</td><td>{format!("{} of {}", d.attempts, d.max_attempts)}</td>
                                        <td>{d.history.last().map(|a| format!("{} {}", a.http_status.map(|s| s.to_string()).unwrap_or_else(|| "—".into()), a.detail)).unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </Table>
                        }.into_any(),
                    }
                            }}
        </section>
    }
}

/// Data access and retention (admins): the export archive and deletion with confirmation.
#[component]
fn DataSection(candidate_id: i64, email: String) -> impl IntoView {
    use crate::api::integrity::DeleteCandidate;
    let delete = ServerAction::<DeleteCandidate>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/candidates", Default::default());
        }
    });
    view! {
        <section class="card data" aria-labelledby="data-heading">
            <h2 id="data-heading">"Data and retention"</h2>
            <p><a href=format!("/candidates/{candidate_id}/export.zip") download="">"Export candidate data"</a>
                " — one archive with everything Clearance holds about this candidate (for a data-access request)."</p>
            <ActionForm action=delete attr:class="filters delete-candidate">
                <input type="hidden" name="candidate_id" value=candidate_id.to_string()/>
                <div class="field">
                    <label for="confirm-delete">{format!("Type {email} to confirm deletion")}</label>
                    <input id="confirm-delete" name="confirm_email" autocomplete="off" required/>
                </div>
                <button type="submit" class="danger" disabled=move || delete.pending().get()>"Delete candidate permanently"</button>
            </ActionForm>
            <p class="muted">"Deletes applications, verification details, background checks, interviews and integrity reports with their files. The audit log keeps its entries, without their personal details."</p>
            {move || delete.value().get().and_then(|r| r.err()).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
        </section>
    }
}
