//! The composition root: the one place where the server meets the pages. `server/` never imports
//! `app/`; `main` hands it these pages (and the tests do the same).
use crate::app::{shell, App};
use crate::server::router::Pages;
use leptos::prelude::IntoAny;

/// The Leptos shell and root component, as the router serves them.
pub fn pages() -> Pages {
    Pages {
        shell: |options| shell(options).into_any(),
        app: || App().into_any(),
    }
}
