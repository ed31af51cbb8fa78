//! The embeddable verification badge, client side: one candidate's status in words, colour and
//! icon, when it last changed, the next action, and "Open in Clearance" for signed-in users who
//! may open the profile. It reads `/widget/badge.json?t=TOKEN` and follows changes by polling with
//! back-off (5 s, ×1.5 while nothing changes, ×2 on errors, at most a minute).
//!
//! Two ways in: the iframe page (`/widget/badge?t=…`) has `#clearance-badge-page`, which `main`
//! takes over; the `<clearance-badge token="…">` web component (`/widget/clearance-badge.js`)
//! calls [`mount`] with an element inside its shadow root.
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use words::icon;

mod words;

/// The same style the server's iframe page carries (its CSP allows it by hash).
const CSS: &str = include_str!("../badge.css");

#[derive(Clone, PartialEq)]
struct Badge {
    name: String,
    status: String,
    status_label: String,
    last_updated: Option<String>,
    next_action: String,
    open_url: Option<String>,
}

#[derive(Clone, PartialEq)]
enum Shown {
    Badge(Badge),
    Unavailable,
}

enum Failed {
    /// The token is refused (expired, revoked, tampered): say so and stop asking.
    Refused,
    /// Network trouble or a busy server: ask again later.
    Retry,
}

fn field(o: &JsValue, name: &str) -> Option<String> {
    js_sys::Reflect::get(o, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
}

async fn fetch_badge(url: &str) -> Result<Badge, Failed> {
    let init = web_sys::RequestInit::new();
    init.set_credentials(web_sys::RequestCredentials::Include);
    init.set_cache(web_sys::RequestCache::NoStore);
    let res: web_sys::Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .ok()
        .and_then(|r| r.dyn_into().ok())
        .ok_or(Failed::Retry)?;
    if matches!(res.status(), 400 | 401 | 403 | 404) {
        return Err(Failed::Refused);
    }
    if !res.ok() {
        return Err(Failed::Retry);
    }
    let json = JsFuture::from(res.json().map_err(|_| Failed::Retry)?)
        .await
        .map_err(|_| Failed::Retry)?;
    Ok(Badge {
        name: field(&json, "name").ok_or(Failed::Retry)?,
        status: field(&json, "status").ok_or(Failed::Retry)?,
        status_label: field(&json, "status_label").ok_or(Failed::Retry)?,
        last_updated: field(&json, "last_updated"),
        next_action: field(&json, "next_action").unwrap_or_default(),
        open_url: field(&json, "open_url"),
    })
}

async fn sleep(ms: f64) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
    });
    let _ = JsFuture::from(p).await;
}

/// "Updated …" from milliseconds since.
fn relative(ms: f64) -> String {
    words::relative_minutes((ms / 60_000.0).floor() as i64)
}

#[component]
fn BadgeView(shown: ReadSignal<Shown>, now: ReadSignal<f64>, base: String) -> impl IntoView {
    view! {
        <style>{CSS}</style>
        {move || match shown.get() {
            Shown::Unavailable => view! { <div class="badge" role="status">"Badge unavailable"</div> }.into_any(),
            Shown::Badge(b) => {
                let updated = b.last_updated.clone().map(|at| {
                    let exact = format!("{} UTC", at.get(..16).unwrap_or(&at).replace('T', " "));
                    let rel = relative(now.get() - js_sys::Date::parse(&at));
                    view! { <span class="muted" title=exact>"Updated "{rel}</span> }
                });
                let open = b.open_url.clone().map(|u| {
                    let href = format!("{base}{u}");
                    view! { <div><a href=href target="_top">"Open in Clearance"</a></div> }
                });
                view! {
                    <div class=format!("badge s-{}", b.status) role="status" aria-live="polite">
                        <span class="icon" aria-hidden="true">{icon(&b.status)}</span>
                        <div>
                            <div>{b.name.clone()}</div>
                            <div class="status">{b.status_label.clone()}</div>
                            <div>"Next: "{b.next_action.clone()}</div>
                            {updated}
                            {open}
                        </div>
                    </div>
                }
                .into_any()
            }
        }}
    }
}

/// Shows the badge for `token` inside `el` (emptied first) and keeps it current. `base` is
/// Clearance's origin ("" on its own pages).
#[wasm_bindgen]
pub fn mount(el: web_sys::HtmlElement, token: String, base: String) {
    wasm_bindgen_futures::spawn_local(async move {
        let url = format!(
            "{base}/widget/badge.json?t={}",
            js_sys::encode_uri_component(&token)
        );
        let first = fetch_badge(&url).await;
        let (shown, set_shown) = signal(match &first {
            Ok(b) => Shown::Badge(b.clone()),
            Err(_) => Shown::Unavailable,
        });
        let (now, set_now) = signal(js_sys::Date::now());
        el.set_inner_html("");
        let view_base = base.clone();
        mount_to(el, move || view! { <BadgeView shown now base=view_base/> }).forget();
        if matches!(first, Err(Failed::Refused)) {
            return;
        }
        let mut delay = 5_000.0_f64;
        loop {
            sleep(delay).await;
            match fetch_badge(&url).await {
                Ok(b) => {
                    set_now.set(js_sys::Date::now());
                    if shown.get_untracked() == Shown::Badge(b.clone()) {
                        delay = (delay * 1.5).min(60_000.0);
                    } else {
                        set_shown.set(Shown::Badge(b));
                        delay = 5_000.0;
                    }
                }
                Err(Failed::Refused) => {
                    set_shown.set(Shown::Unavailable);
                    return;
                }
                Err(Failed::Retry) => delay = (delay * 2.0).min(60_000.0),
            }
        }
    });
}

fn main() {
    // The iframe page: the server rendered the badge once; the widget takes it over.
    let page = document()
        .get_element_by_id("clearance-badge-page")
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(el) = page {
        let token = web_sys::UrlSearchParams::new_with_str(
            &window().location().search().unwrap_or_default(),
        )
        .ok()
        .and_then(|p| p.get("t"))
        .unwrap_or_default();
        mount(el, token, String::new());
    }
}
