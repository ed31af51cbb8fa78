//! Small pieces shared by pages: times in the viewer's zone, status badges, error notices.
use crate::error::AppError;
use crate::model::{escape_html, Stage, VerificationStatus};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use std::sync::Arc;

/// A select's `<option>`s as one escaped HTML string, for a list a page repeats in many forms
/// (set with `inner_html`): written once per page instead of an element per option per form.
/// The review queue's 25 cards each carried the reviewers, outcomes and reason codes — 309
/// option elements, 27 % of the page's elements.
pub fn options_html<V: AsRef<str>, L: AsRef<str>>(
    options: impl IntoIterator<Item = (V, L)>,
) -> Arc<str> {
    let mut html = String::new();
    for (value, label) in options {
        html.push_str("<option value=\"");
        html.push_str(&escape_html(value.as_ref()));
        html.push_str("\">");
        html.push_str(&escape_html(label.as_ref()));
        html.push_str("</option>");
    }
    html.into()
}

/// A counter that goes up every `seconds` in the browser (never on the server); read it in a
/// resource's source or a `client_data` fetcher to refresh that data periodically.
pub fn ticker(seconds: u64) -> ReadSignal<u32> {
    let (tick, set_tick) = signal(0u32);
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(
            move || set_tick.update(|t| *t += 1),
            std::time::Duration::from_secs(seconds),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (set_tick, seconds);
    tick
}

/// A counter that goes up in the browser whenever `GET /events` tells of a change of one of
/// `kinds` (of `candidate`, when one is given), or that changes were missed: read it in a
/// resource's source to refetch just that. One stream per tab, shared by every part of the page
/// that listens. While the stream is down the counter goes up every `fallback_secs`, then twice
/// as long each time up to 30 s, so the data still follows.
pub fn live_changes(
    candidate: Option<i64>,
    kinds: &'static [crate::model::ChangeKind],
    fallback_secs: u64,
) -> ReadSignal<u32> {
    let (tick, set_tick) = signal(0u32);
    #[cfg(feature = "hydrate")]
    {
        use std::cell::Cell;
        use std::rc::Rc;
        let bump = move || set_tick.update(|t| *t += 1);
        let listener: live::Listener = Rc::new(move |kind: Option<&str>, of: Option<i64>| {
            let ours = match kind {
                None => true, // reset: changes were missed
                Some(k) => {
                    kinds.iter().any(|w| w.as_str() == k) && candidate.is_none_or(|c| of == Some(c))
                }
            };
            if ours {
                bump();
            }
        });
        let Some((id, open)) = live::subscribe(listener) else {
            return ticker(fallback_secs);
        };
        // The fallback: counted in seconds while the stream is not open.
        let (waited, step) = (Rc::new(Cell::new(0u64)), Rc::new(Cell::new(fallback_secs)));
        let poll = move || {
            if open.get() {
                waited.set(0);
                step.set(fallback_secs);
                return;
            }
            waited.set(waited.get() + 1);
            if waited.get() >= step.get() {
                waited.set(0);
                step.set((step.get() * 2).min(30));
                bump();
            }
        };
        let handle = set_interval_with_handle(poll, std::time::Duration::from_secs(1)).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
            live::unsubscribe(id);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (set_tick, candidate, kinds, fallback_secs);
    tick
}

/// The tab's one `EventSource`, opened with the first listener and closed with the last.
#[cfg(feature = "hydrate")]
mod live {
    use crate::model::{ChangeKind, ChangeNotice};
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::{closure::Closure, JsCast};

    /// Called with the kind (`None`: reset) and the candidate of each event.
    pub type Listener = Rc<dyn Fn(Option<&str>, Option<i64>)>;
    type Listeners = Rc<RefCell<Vec<(u64, Listener)>>>;

    struct Live {
        source: web_sys::EventSource,
        listeners: Listeners,
        open: Rc<Cell<bool>>,
        next: u64,
        _closures: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    }

    thread_local! {
        static LIVE: RefCell<Option<Live>> = const { RefCell::new(None) };
    }

    fn start() -> Option<Live> {
        let source = web_sys::EventSource::new("/events").ok()?;
        let listeners: Listeners = Rc::default();
        let open = Rc::new(Cell::new(false));
        let mut closures = Vec::new();
        let tell = {
            let listeners = listeners.clone();
            move |kind: Option<&str>, candidate: Option<i64>| {
                let now: Vec<Listener> =
                    listeners.borrow().iter().map(|(_, l)| l.clone()).collect();
                for l in now {
                    l(kind, candidate);
                }
            }
        };
        for kind in ChangeKind::ALL {
            let tell = tell.clone();
            let on = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
                let candidate = e
                    .dyn_ref::<web_sys::MessageEvent>()
                    .and_then(|m| m.data().as_string())
                    .and_then(|d| serde_json::from_str::<ChangeNotice>(&d).ok())
                    .and_then(|n| n.candidate_id);
                tell(Some(kind.as_str()), candidate);
            });
            let _ =
                source.add_event_listener_with_callback(kind.as_str(), on.as_ref().unchecked_ref());
            closures.push(on);
        }
        let on_reset = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| tell(None, None));
        let _ = source.add_event_listener_with_callback("reset", on_reset.as_ref().unchecked_ref());
        closures.push(on_reset);
        let (up, down) = (open.clone(), open.clone());
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| up.set(true));
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| down.set(false));
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        closures.push(on_open);
        closures.push(on_error);
        Some(Live {
            source,
            listeners,
            open,
            next: 0,
            _closures: closures,
        })
    }

    /// Adds a listener: its id, and whether the stream is open now.
    pub fn subscribe(listener: Listener) -> Option<(u64, Rc<Cell<bool>>)> {
        LIVE.with(|cell| {
            let mut live = cell.borrow_mut();
            if live.is_none() {
                *live = start();
            }
            let live = live.as_mut()?;
            live.next += 1;
            live.listeners.borrow_mut().push((live.next, listener));
            Some((live.next, live.open.clone()))
        })
    }

    pub fn unsubscribe(id: u64) {
        LIVE.with(|cell| {
            let mut live = cell.borrow_mut();
            let empty = live.as_ref().is_some_and(|l| {
                l.listeners.borrow_mut().retain(|(i, _)| *i != id);
                l.listeners.borrow().is_empty()
            });
            if empty {
                if let Some(l) = live.take() {
                    l.source.close();
                }
            }
        });
    }
}

/// Data for a part of a page that loads in the browser only: `None` on the server and while the
/// page hydrates (so both render the same "loading" markup), then the fetched value, fetched
/// again whenever a signal read by `fetcher` (before its future starts) changes. Answers that
/// arrive out of order are dropped. Used for the profile's secondary sections, whose data the
/// first paint does not need.
pub fn client_data<T, Fut>(fetcher: impl Fn() -> Fut + 'static) -> ReadSignal<Option<T>>
where
    T: Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + 'static,
{
    let (data, set_data) = signal(None::<T>);
    let latest = StoredValue::new(0u64);
    Effect::new(move |_| {
        let fut = fetcher();
        latest.update_value(|n| *n += 1);
        let mine = latest.get_value();
        leptos::task::spawn_local(async move {
            let value = fut.await;
            if latest.try_get_value() == Some(mine) {
                set_data.try_set(Some(value));
            }
        });
    });
    data
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago" for an age in seconds.
pub fn relative_age(seconds: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match seconds {
        s if s < 45 => "just now".to_string(),
        s if s < 3600 => plural((s + 30) / 60, "minute"),
        s if s < 86_400 => plural(s / 3600, "hour"),
        s => plural(s / 86_400, "day"),
    }
}

/// A UTC instant: rendered in UTC on the server, then in the viewer's own zone once hydrated
/// (with `relative`, also how long ago).
/// Reads the file chosen in `input` as base64 (empty when none is chosen); `what` names it in the
/// message when it is larger than `max_bytes` or cannot be read.
#[cfg(feature = "hydrate")]
pub async fn file_base64(
    input: Option<web_sys::HtmlInputElement>,
    max_bytes: u32,
    what: &str,
) -> Result<String, String> {
    let Some(file) = input.and_then(|i| i.files()).and_then(|f| f.get(0)) else {
        return Ok(String::new());
    };
    if file.size() > f64::from(max_bytes) {
        return Err(format!("{what} is larger than {} KB.", max_bytes / 1024));
    }
    let unreadable = || format!("{what} could not be read.");
    let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| unreadable())?;
    let binary: String = js_sys::Uint8Array::new(&buf)
        .to_vec()
        .into_iter()
        .map(char::from)
        .collect();
    web_sys::window()
        .and_then(|w| w.btoa(&binary).ok())
        .ok_or_else(unreadable)
}

#[component]
pub fn LocalTime(at: DateTime<Utc>, #[prop(optional)] relative: bool) -> impl IntoView {
    let (text, set_text) = signal(at.format("%Y-%m-%d %H:%M UTC").to_string());
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
                at.timestamp_millis() as f64
            ));
            let opts = js_sys::Object::new();
            // dateStyle/timeStyle cannot be combined with timeZoneName, so name each field.
            for (k, v) in [
                ("year", "numeric"),
                ("month", "short"),
                ("day", "numeric"),
                ("hour", "2-digit"),
                ("minute", "2-digit"),
                ("timeZoneName", "short"),
            ] {
                let _ = js_sys::Reflect::set(&opts, &k.into(), &v.into());
            }
            let exact = String::from(date.to_locale_string("default", &opts));
            if relative {
                let age =
                    ((js_sys::Date::now() - at.timestamp_millis() as f64) / 1000.0).max(0.0) as i64;
                set_text.set(format!("{} · {exact}", relative_age(age)));
            } else {
                set_text.set(exact);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (set_text, relative);
    });
    view! { <time datetime=at.to_rfc3339()>{text}</time> }
}

/// A table with its column headings, or "None." when it has no rows.
#[component]
pub fn Table(headings: &'static [&'static str], empty: bool, children: Children) -> impl IntoView {
    if empty {
        view! { <p>"None."</p> }.into_any()
    } else {
        view! {
            <table class="audit">
                <thead><tr>{headings.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}</tr></thead>
                <tbody>{children()}</tbody>
            </table>
        }
        .into_any()
    }
}

#[component]
pub fn StatusBadge(status: VerificationStatus) -> impl IntoView {
    view! { <span class=format!("badge badge-{}", status.as_str())>{status.label()}</span> }
}

#[component]
pub fn StageLabel(stage: Stage) -> impl IntoView {
    view! { <span class=format!("stage stage-{}", stage.as_str())>{stage.label()}</span> }
}

/// An error in words the user can act on; also sets the page's HTTP status during SSR.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(code) = http::StatusCode::from_u16(error.status()) {
            res.set_status(code);
        }
    }
    match error {
        AppError::Unauthenticated => view! {
            <p role="alert" class="error">"Your session has ended. " <a href="/login">"Sign in again"</a></p>
        }
            .into_any(),
        AppError::NotFound => view! {
            <div class="not-found">
                <h1>"Not found"</h1>
                <p>"There is nothing here, or you do not have access to it."</p>
                <p><a href="/candidates">"Back to candidates"</a></p>
            </div>
        }
            .into_any(),
        other => view! { <p role="alert" class="error">{other.to_string()}</p> }.into_any(),
    }
}

/// A filter form's "Job" field: every job the user may see (`list_jobs`), `selected` chosen;
/// the field's name is `job`.
#[component]
pub fn JobSelect(id: &'static str, selected: Signal<Option<i64>>) -> impl IntoView {
    let jobs = Resource::new(|| (), |_| crate::api::candidates::list_jobs());
    view! {
        <div class="field">
            <label for=id>"Job"</label>
            <select id=id name="job">
                <option value="">"All jobs"</option>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let selected = selected.get();
                        jobs.await
                            .unwrap_or_default()
                            .into_iter()
                            .map(|j| view! { <option value=j.id.to_string() selected=Some(j.id) == selected>{j.title}</option> })
                            .collect_view()
                    })}
                </Transition>
            </select>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::{options_html, relative_age};

    #[test]
    fn option_lists_escape_values_and_labels() {
        assert_eq!(
            &*options_html([("7", "Ana <Reviewer> & co"), ("x\"y", "O'Brien")]),
            "<option value=\"7\">Ana &lt;Reviewer&gt; &amp; co</option>\
             <option value=\"x&quot;y\">O'Brien</option>"
        );
        assert_eq!(&*options_html(Vec::<(String, String)>::new()), "");
    }

    #[test]
    fn ages_in_words() {
        assert_eq!(relative_age(10), "just now");
        assert_eq!(relative_age(60), "1 minute ago");
        assert_eq!(relative_age(5 * 60 + 10), "5 minutes ago");
        assert_eq!(relative_age(3 * 3600), "3 hours ago");
        assert_eq!(relative_age(2 * 86_400 + 5), "2 days ago");
    }
}

/// The job a form's action is for: a labelled choice when the candidate applied to several jobs,
/// else the one job as a hidden field (field name `job_id`).
#[component]
pub fn JobChoice(id: &'static str, label: &'static str, jobs: Vec<(i64, String)>) -> impl IntoView {
    if jobs.len() > 1 {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <select id=id name="job_id">
                    {jobs.into_iter().map(|(job, title)| view! { <option value=job.to_string()>{title}</option> }).collect_view()}
                </select>
            </div>
        }
        .into_any()
    } else {
        let job = jobs.first().map(|(j, _)| j.to_string()).unwrap_or_default();
        view! { <input type="hidden" name="job_id" value=job/> }.into_any()
    }
}
