//! The admins' adverse-action settings on the Policy page: each job's waiting period and
//! automatic final notice, and the notice templates (versioned; every edit is checked by
//! rendering it with every field).
use crate::api::adverse::{
    adverse_job_settings, notice_templates, SaveAdverseJobSettings, SaveNoticeTemplate,
};
use crate::app::components::{ErrorNotice, LocalTime};
use crate::model::{JobAdverseSettings, NoticeTemplate};
use leptos::prelude::*;

/// The fields a template may name, as `{{ field }}`.
const FIELDS: &str = "employer, candidate_name, candidate_first_name, job_title, cra_name, cra_address, cra_phone, report_url, findings, response_deadline, waiting_period, pre_notice_date, rights_url, sender_name";

#[component]
pub fn AdverseSettings() -> impl IntoView {
    let save_job = ServerAction::<SaveAdverseJobSettings>::new();
    let save_template = ServerAction::<SaveNoticeTemplate>::new();
    let jobs = Resource::new(move || save_job.version().get(), |_| adverse_job_settings());
    let templates = Resource::new(
        move || save_template.version().get(),
        |_| notice_templates(),
    );
    view! {
        <section class="card" aria-labelledby="adverse-heading">
            <h2 id="adverse-heading">"Adverse action"</h2>
            <p>"The waiting period runs from the pre-adverse notice to the earliest final notice. Processes already started keep the period they started with."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match jobs.await {
                        Ok(list) => list.into_iter().map(|j| view! { <JobRow job=j save=save_job/> }).collect_view().into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Transition>
            {move || save_job.value().get().map(|r| match r {
                Ok(()) => view! { <p role="status">"Waiting period saved."</p> }.into_any(),
                Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
            })}
            <h3>"Notice templates"</h3>
            <p>"Fields: " <code>{FIELDS}</code> ". A template naming anything else is refused."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match templates.await {
                        Ok(list) => list.into_iter().map(|t| view! { <TemplateEditor template=t save=save_template/> }).collect_view().into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Transition>
            {move || save_template.value().get().map(|r| match r {
                Ok(v) => view! { <p role="status">{format!("Template saved as version {v}.")}</p> }.into_any(),
                Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn JobRow(job: JobAdverseSettings, save: ServerAction<SaveAdverseJobSettings>) -> impl IntoView {
    let id = job.job_id;
    let title = job.job_title.clone();
    view! {
        <ActionForm action=save attr:class="filters adverse-job">
            <input type="hidden" name="job_id" value=id.to_string()/>
            <strong>{title.clone()}</strong>
            <div class="field">
                <label for=format!("wait-days-{id}")>{format!("Waiting days for {title}")}</label>
                <input id=format!("wait-days-{id}") name="days" type="number" min="5" max="90" required
                    value=job.waiting_period.days.to_string()/>
            </div>
            <div class="field">
                <label for=format!("wait-kind-{id}")>{format!("Day kind for {title}")}</label>
                <select id=format!("wait-kind-{id}") name="business">
                    <option value="false" selected=!job.waiting_period.business>"Calendar days"</option>
                    <option value="true" selected=job.waiting_period.business>"Business days"</option>
                </select>
            </div>
            <label class="checkbox">
                <input type="checkbox" name="auto_final" value="true" checked=job.auto_final/>
                {format!(" Send the final notice automatically for {title}")}
            </label>
            <button type="submit">{format!("Save waiting period for {title}")}</button>
        </ActionForm>
    }
}

#[component]
fn TemplateEditor(
    template: NoticeTemplate,
    save: ServerAction<SaveNoticeTemplate>,
) -> impl IntoView {
    let kind = template.kind;
    let label = kind.label();
    let version = if template.version == 0 {
        "built-in template".to_string()
    } else {
        format!("version {}", template.version)
    };
    view! {
        <ActionForm action=save attr:class="stacked-form template-editor">
            <fieldset>
                <legend>{label} " · " {version}
                    {template.saved_by.clone().map(|b| format!(" by {b}"))}
                    {template.saved_at.map(|at| view! { " · " <LocalTime at=at/> })}
                </legend>
                <input type="hidden" name="kind" value=kind.as_str()/>
                <div class="field">
                    <label for=format!("subject-{}", kind.as_str())>{format!("{label} subject")}</label>
                    <input id=format!("subject-{}", kind.as_str()) name="subject" required maxlength="300" value=template.subject/>
                </div>
                <div class="field">
                    <label for=format!("body-{}", kind.as_str())>{format!("{label} body")}</label>
                    <textarea id=format!("body-{}", kind.as_str()) name="body" rows="14" required>{template.body}</textarea>
                </div>
                <button type="submit">{format!("Save {}", label.to_lowercase())}</button>
            </fieldset>
        </ActionForm>
    }
}
