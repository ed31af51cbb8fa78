//! The sign-in page.
use crate::app::Auth;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let error = move || auth.login.value().get().and_then(|r| r.err());
    view! {
        <Title text="Sign in · Clearance"/>
        <section class="login card">
            <h1>"Sign in to Clearance"</h1>
            <ActionForm action=auth.login>
                <div class="field">
                    <label for="login-email">"Email"</label>
                    <input id="login-email" type="email" name="email" autocomplete="username" required/>
                </div>
                <div class="field">
                    <label for="login-password">"Password"</label>
                    <input id="login-password" type="password" name="password" autocomplete="current-password" required/>
                </div>
                <button type="submit" class="primary" disabled=move || auth.login.pending().get()>"Sign in"</button>
            </ActionForm>
            {move || error().map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
        </section>
    }
}
