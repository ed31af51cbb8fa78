//! Clearance: identity verification, background checks and interview integrity inside the candidate profile.
pub mod api;
pub mod app;
pub mod error;
pub mod model;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod site;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Each page's code is its own file (lazy routes, split by `cargo leptos build --split`):
    // hydration waits for the current page's to arrive, so it runs as a task.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        else {
            return;
        };
        let owner = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        owner.forget();
        // Lets tests and assistive tooling know the page is interactive.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
