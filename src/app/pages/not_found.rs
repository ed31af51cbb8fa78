//! The page for unknown routes (404).
use crate::app::components::ErrorNotice;
use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! { <ErrorNotice error=AppError::NotFound/> }
}
