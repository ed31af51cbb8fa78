//! The Leptos shell, the App with its routes, and the header every page shares.
pub mod components;
pub mod pages;

use crate::api::auth::{get_current_user, Login, Logout};
use crate::error::AppError;
use crate::model::{CurrentUser, Permission};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Redirect, Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

/// The signed-in user and the actions that change who it is.
#[derive(Clone, Copy)]
pub struct Auth {
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    pub user: Resource<Result<Option<CurrentUser>, AppError>>,
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        leptos::nonce::provide_nonce();
        if let (Some(nonce), Some(res)) = (
            leptos::nonce::use_nonce(),
            use_context::<leptos_axum::ResponseOptions>(),
        ) {
            if let Ok(v) = http::HeaderValue::from_str(&crate::server::security::page_csp(&nonce)) {
                res.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
            }
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/png" href="/favicon.png"/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let login = ServerAction::<Login>::new();
    let logout = ServerAction::<Logout>::new();
    let user = Resource::new(
        move || (login.version().get(), logout.version().get()),
        |_| get_current_user(),
    );
    provide_context(Auth {
        login,
        logout,
        user,
    });

    view! {
        <Title text="Clearance"/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <TopBar/>
            <main id="main">
                <Routes fallback=pages::not_found::NotFound>
                    // Async SSR everywhere: a page's HTTP status (404, 403) is known before it is sent.
                    <Route path=path!("/") view=|| view! { <Redirect path="/candidates"/> }/>
                    <Route path=path!("/login") view=pages::login::LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/candidates") view=pages::candidates::CandidatesPage ssr=SsrMode::Async/>
                    <Route path=path!("/candidates/:id") view=pages::profile::CandidateProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=pages::audit::AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/evidence/:session_id") view=pages::evidence::EvidencePage ssr=SsrMode::Async/>
                    <Route path=path!("/review-queue") view=pages::review_queue::ReviewQueuePage ssr=SsrMode::Async/>
                    <Route path=path!("/partners") view=pages::partners::PartnersPage ssr=SsrMode::Async/>
                    <Route path=path!("/policy") view=pages::policy::PolicyPage ssr=SsrMode::Async/>
                    <Route path=path!("/drift") view=pages::drift::DriftPage ssr=SsrMode::Async/>
                    <Route path=path!("/deliveries") view=pages::deliveries::DeliveriesPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn TopBar() -> impl IntoView {
    let auth = expect_context::<Auth>();
    view! {
        <header class="topbar">
            <a class="brand" href="/candidates">"Clearance"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match auth.user.await {
                        Ok(Some(u)) => {
                            view! {
                                <nav aria-label="Main">
                                    <A href="/candidates">"Candidates"</A>
                                    {u.role.can(Permission::Adjudicate).then(|| view! { <A href="/review-queue">"Review queue"</A> })}
                                    {u.role.can(Permission::ManageSettings).then(|| view! { <A href="/partners">"Partners"</A> })}
                                    {u.role.can(Permission::ManageSettings).then(|| view! { <A href="/deliveries">"Deliveries"</A> })}
                                    {u.role.can(Permission::ManageSettings).then(|| view! { <A href="/policy">"Policy"</A> })}
                                    {u.role.can(Permission::ViewAudit).then(|| view! { <A href="/audit">"Audit"</A> })}
                                    {u.role.can(Permission::ViewAudit).then(|| view! { <A href="/drift">"Drift"</A> })}
                                </nav>
                                <div class="who">
                                    <span class="who-name">{u.name.clone()}</span>
                                    <span class="who-role">{u.role.label()}</span>
                                    <ActionForm action=auth.logout>
                                        <button type="submit" class="link-button">"Sign out"</button>
                                    </ActionForm>
                                </div>
                            }
                                .into_any()
                        }
                        _ => ().into_any(),
                    }
                })}
            </Transition>
        </header>
    }
}
