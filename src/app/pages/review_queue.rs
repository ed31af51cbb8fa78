//! The security review queue: items by deadline with business time left, filters in the URL,
//! claim / release, the decision form, and four-eyes approval.
use crate::api::review::{
    get_review_queue, ApproveOverride, ClaimReview, DecideReview, ReassignReview, ReleaseReview,
};
use crate::app::components::{options_html, ErrorNotice, LocalTime};
use crate::model::{ReviewItem, ReviewOutcome, ReviewState, RiskTier};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use std::sync::Arc;

#[derive(Clone, Copy)]
struct Actions {
    claim: ServerAction<ClaimReview>,
    release: ServerAction<ReleaseReview>,
    decide: ServerAction<DecideReview>,
    approve: ServerAction<ApproveOverride>,
    reassign: ServerAction<ReassignReview>,
}

#[component]
pub fn ReviewQueuePage() -> impl IntoView {
    let q = use_query_map();
    let risk = move || {
        q.read()
            .get("risk")
            .and_then(|r| r.parse::<RiskTier>().ok())
    };
    let assignee = move || {
        q.read()
            .get("assignee")
            .filter(|a| a == "me" || a == "unassigned")
    };
    let breached = move || q.read().get("breached").is_some_and(|b| b == "yes");
    let actions = Actions {
        claim: ServerAction::new(),
        release: ServerAction::new(),
        decide: ServerAction::new(),
        approve: ServerAction::new(),
        reassign: ServerAction::new(),
    };
    let versions = move || {
        (
            actions.claim.version().get(),
            actions.release.version().get(),
            actions.decide.version().get(),
            actions.approve.version().get(),
            actions.reassign.version().get(),
        )
    };
    // The countdowns refresh every 30 seconds while the page is open.
    let (tick, set_tick) = signal(0u32);
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(
            move || set_tick.update(|t| *t += 1),
            std::time::Duration::from_secs(30),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = set_tick;
    // Items opened, claimed or decided anywhere show at once (GET /events).
    let live =
        crate::app::components::live_changes(None, &[crate::model::ChangeKind::ReviewQueue], 30);
    let queue = Resource::new(
        move || {
            (
                risk(),
                assignee(),
                breached(),
                (versions(), tick.get(), live.get()),
            )
        },
        |(r, a, b, _)| get_review_queue(r, a, Some(b)),
    );
    let error = move || {
        let e1 = actions.claim.value().get().and_then(|r| r.err());
        let e2 = actions.release.value().get().and_then(|r| r.err());
        let e3 = actions.decide.value().get().and_then(|r| r.err());
        let e4 = actions.approve.value().get().and_then(|r| r.err());
        let e5 = actions.reassign.value().get().and_then(|r| r.err());
        e1.or(e2).or(e3).or(e4).or(e5)
    };
    let decided = move || actions.decide.value().get().and_then(|r| r.ok());
    view! {
        <Title text="Review queue · Clearance"/>
        <h1>"Review queue"</h1>
        <Form method="GET" action="/review-queue" attr:class="filters" attr:role="search" attr:aria-label="Filter the queue">
            <div class="field">
                <label for="rq-risk">"Risk tier"</label>
                <select id="rq-risk" name="risk">
                    <option value="">"Any risk"</option>
                    {move || RiskTier::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=risk() == Some(r)>{r.label()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="rq-assignee">"Assignee"</label>
                <select id="rq-assignee" name="assignee">
                    <option value="">"Anyone"</option>
                    <option value="me" selected=move || assignee().as_deref() == Some("me")>"Me"</option>
                    <option value="unassigned" selected=move || assignee().as_deref() == Some("unassigned")>"Unassigned"</option>
                </select>
            </div>
            <div class="field">
                <label for="rq-breached">"SLA"</label>
                <select id="rq-breached" name="breached">
                    <option value="">"All"</option>
                    <option value="yes" selected=breached>"Breached only"</option>
                </select>
            </div>
            <button type="submit">"Apply filters"</button>
        </Form>
        {move || error().map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
        {move || decided().map(|m| view! { <p role="status">{m}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match queue.await {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(qd) => view! {
                        <p class="counts" aria-label="Open items by risk tier">
                            {format!("High: {} · Medium: {} · Low: {} · Breached: {}", qd.high, qd.medium, qd.low, qd.breached)}
                        </p>
                        {(qd.matching > qd.items.len() as i64).then(|| view! {
                            <p class="queue-more" role="status">{format!(
                                "Showing the {} most urgent of {} matching items: decide these, or narrow by risk tier or assignee.",
                                qd.items.len(), qd.matching
                            )}</p>
                        })}
                        {if qd.items.is_empty() {
                            view! { <p>"Nothing waits for review."</p> }.into_any()
                        } else {
                            {
                                // Each card's selects offer the same lists: written once here.
                                let lists = CardLists {
                                    reviewers: options_html(qd.reviewers.iter().map(|(id, name)| (id.to_string(), name))),
                                    outcomes: options_html(ReviewOutcome::ALL.into_iter().map(|o| (o.as_str(), o.label()))),
                                    codes: options_html(qd.reason_codes.iter().map(|(c, l)| (c, l))),
                                };
                                qd.items.into_iter().map(|i| view! { <ReviewCard item=i actions=actions lists=lists.clone()/> }).collect_view().into_any()
                            }
                        }}
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The options of a card's selects, as HTML shared by every card of the page.
#[derive(Clone)]
struct CardLists {
    reviewers: Arc<str>,
    outcomes: Arc<str>,
    codes: Arc<str>,
}

#[component]
fn ReviewCard(item: ReviewItem, actions: Actions, lists: CardLists) -> impl IntoView {
    let i = item;
    let id = i.id;
    let heading = format!("Review of {}", i.candidate_name);
    let awaiting = i.state == ReviewState::AwaitingSecondApproval;
    view! {
        <article class=if i.breached { "card review breached" } else { "card review" } aria-label=heading.clone()>
            <h2><a href=format!("/candidates/{}", i.candidate_id)>{i.candidate_name.clone()}</a></h2>
            <p>
                {format!("Risk: {} · Provider result: {}", i.risk_tier.map(|r| r.label()).unwrap_or("not given"), i.provider_status.label())}
                " · opened " <LocalTime at=i.opened_at/>
            </p>
            <p class="sla">
                {if i.breached { "SLA breached — " } else { "" }}
                {i.time_left.clone().unwrap_or_else(|| "No deadline".into())}
            </p>
            <p>
                {match i.assignee.clone() {
                    Some(a) if i.assigned_to_me => format!("Claimed by you ({a})"),
                    Some(a) => format!("Claimed by {a}"),
                    None => "Unassigned".to_string(),
                }}
                {i.claimed_at.filter(|_| i.assignee.is_some()).map(|t| view! { " · " <LocalTime at=t/> })}
            </p>
            <p><a href=format!("/evidence/{}", i.session_id)>"Evidence pack"</a></p>
            {(!awaiting).then(|| view! {
                <div class="claim">
                    {if i.assigned_to_me {
                        view! {
                            <ActionForm action=actions.release>
                                <input type="hidden" name="item_id" value=id.to_string()/>
                                <button type="submit">"Release"</button>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! {
                            <ActionForm action=actions.claim>
                                <input type="hidden" name="item_id" value=id.to_string()/>
                                <button type="submit">"Claim"</button>
                            </ActionForm>
                        }.into_any()
                    }}
                </div>
                <ActionForm action=actions.reassign attr:class="filters reassign">
                    <input type="hidden" name="item_id" value=id.to_string()/>
                    <div class="field">
                        <label for=format!("assign-{id}")>"Assign to"</label>
                        <select id=format!("assign-{id}") name="reviewer_id" inner_html=lists.reviewers></select>
                    </div>
                    <button type="submit">"Reassign"</button>
                </ActionForm>
                <ActionForm action=actions.decide attr:class="decide">
                    <input type="hidden" name="item_id" value=id.to_string()/>
                    <div class="field">
                        <label for=format!("outcome-{id}")>"Outcome"</label>
                        <select id=format!("outcome-{id}") name="outcome" inner_html=lists.outcomes></select>
                    </div>
                    <div class="field">
                        <label for=format!("reason-{id}")>"Reason code"</label>
                        <select id=format!("reason-{id}") name="reason_code" inner_html=lists.codes></select>
                    </div>
                    <div class="field">
                        <label for=format!("rationale-{id}")>"Rationale"</label>
                        <textarea id=format!("rationale-{id}") name="rationale" rows="3" required></textarea>
                    </div>
                    <button type="submit" class="primary">"Record decision"</button>
                </ActionForm>
            })}
            {awaiting.then(|| view! {
                <div class="override">
                    <p><strong>"Awaiting second approval"</strong>
                        {format!(" — {} asked to clear this as Verified ({}): {}", i.decided_by.clone().unwrap_or_default(), i.reason.clone().unwrap_or_default(), i.rationale.clone().unwrap_or_default())}
                    </p>
                    {if i.can_approve {
                        view! {
                            <ActionForm action=actions.approve>
                                <input type="hidden" name="item_id" value=id.to_string()/>
                                <button type="submit" class="primary">"Approve override"</button>
                            </ActionForm>
                        }.into_any()
                    } else {
                        view! { <p>"A different security reviewer must approve it."</p> }.into_any()
                    }}
                </div>
            })}
        </article>
    }
}
