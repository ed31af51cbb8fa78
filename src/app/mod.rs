//! The Leptos shell, the App with its routes, and the header every page shares.
pub mod components;
pub mod pages;

use crate::api::auth::{get_current_user, Login, Logout};
use crate::error::AppError;
use crate::model::{CurrentUser, Permission};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Redirect, Route, Router, Routes, A};
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

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
                <FrontEndAssets options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The file names `cargo leptos` gave the stylesheet, script and WASM (with their content hash
/// when it hashes them), read from its hash file once per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontEndNames {
    pub css: String,
    pub js: String,
    pub wasm: String,
}

impl FrontEndNames {
    /// `hashes` is the hash file's text (`css: …`, `js: …`, `wasm: …` lines), `None` when the
    /// files are not hashed (a debug build). `bindgen_names`: built without cargo-leptos, whose
    /// unhashed WASM keeps wasm-bindgen's `_bg` name (as Leptos' own `HydrationScripts` decides).
    pub fn new(output_name: &str, hashes: Option<&str>, bindgen_names: bool) -> FrontEndNames {
        let hash_of = |kind: &str| {
            hashes.into_iter().flat_map(str::lines).find_map(|line| {
                let (file, hash) = line.trim().split_once(':')?;
                (file.trim() == kind).then(|| format!(".{}", hash.trim()))
            })
        };
        let name = |kind: &str| format!("{output_name}{}", hash_of(kind).unwrap_or_default());
        FrontEndNames {
            css: format!("{}.css", name("css")),
            js: name("js"),
            wasm: if hashes.is_none() && bindgen_names {
                format!("{output_name}_bg")
            } else {
                name("wasm")
            },
        }
    }

    #[cfg(feature = "ssr")]
    fn of(options: &LeptosOptions) -> &'static FrontEndNames {
        static NAMES: std::sync::OnceLock<FrontEndNames> = std::sync::OnceLock::new();
        NAMES.get_or_init(|| {
            let hashes = options
                .hash_files
                .then(|| {
                    let exe = std::env::current_exe().ok()?;
                    std::fs::read_to_string(exe.parent()?.join(options.hash_file.as_ref())).ok()
                })
                .flatten();
            if options.hash_files && hashes.is_none() {
                tracing::error!("file hashing is on but the hash file could not be read");
            }
            FrontEndNames::new(
                &options.output_name,
                hashes.as_deref(),
                option_env!("LEPTOS_OUTPUT_NAME").is_none(),
            )
        })
    }
}

/// The stylesheet link and the hydration scripts — what leptos_meta's `HashedStylesheet` and
/// Leptos' `HydrationScripts` write, with the hashed names read once instead of on every page
/// (they read the hash file from disk per request: ≈ 5 % of a list page's server time).
#[component]
fn FrontEndAssets(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let names = FrontEndNames::of(&options).clone();
    #[cfg(not(feature = "ssr"))]
    let names = FrontEndNames::new(&options.output_name, None, false);
    let pkg = options.site_pkg_dir.to_string();
    let nonce = leptos::nonce::use_nonce();
    let script = format!(
        "(function (root, pkg_path, output_name, wasm_output_name) {{
	import(`${{root}}/${{pkg_path}}/${{output_name}}.js`)
		.then(mod => {{
			mod.default({{module_or_path: `${{root}}/${{pkg_path}}/${{wasm_output_name}}.wasm`}}).then(() => {{
				mod.hydrate();
			}});
		}});
}})(\"\", {pkg:?}, {:?}, {:?});",
        names.js, names.wasm
    );
    view! {
        <link id="leptos" rel="stylesheet" href=format!("/{pkg}/{}", names.css)/>
        <link rel="modulepreload" href=format!("/{pkg}/{}.js", names.js) crossorigin=nonce.clone()/>
        <link
            rel="preload"
            href=format!("/{pkg}/{}.wasm", names.wasm)
            r#as="fetch"
            r#type="application/wasm"
            crossorigin=nonce.clone().map(|n| n.to_string()).unwrap_or_default()
        />
        <script type="module" nonce=nonce>{script}</script>
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

    // While the next page's code is on its way (a lazy route opened for the first time), the
    // page says it is busy.
    let (routing, set_routing) = signal(false);

    view! {
        <Title text="Clearance"/>
        <Router set_is_routing=set_routing>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <TopBar/>
            <main id="main" aria-busy=move || routing.get().then_some("true")>
                <Routes fallback=pages::not_found::NotFound>
                    // Async SSR everywhere: a page's HTTP status (404, 403) is known before it is sent.
                    <Route path=path!("/") view=|| view! { <Redirect path="/candidates"/> }/>
                    <Route path=path!("/login") view=pages::login::LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/candidates") view=pages::candidates::CandidatesPage ssr=SsrMode::Async/>
                    <Route path=path!("/candidates/:id") view=pages::profile::CandidateProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/evidence/:session_id") view={Lazy::<EvidenceRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/review-queue") view=pages::review_queue::ReviewQueuePage ssr=SsrMode::Async/>
                    <Route path=path!("/partners") view={Lazy::<PartnersRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/policy") view={Lazy::<PolicyRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/drift") view={Lazy::<DriftRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/insights") view={Lazy::<InsightsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/deliveries") view={Lazy::<DeliveriesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/bulk/:id") view={Lazy::<BulkJobRoute>::new()} ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// The pages most people open every day — the list, the profile, the review queue — are in the
/// main file with the shell and the header. The others (settings, partners, policy, Insights,
/// audit, drift, deliveries, evidence, bulk jobs) are lazy routes: `cargo leptos build --split`
/// puts each one's code in files of its own, fetched when the page is first opened. (Every page
/// lazy was measured too: a profile then came in ~200 files — many round trips on HTTP/1.1 for
/// little saved, since the profile's own code is most of what it needs.)
macro_rules! lazy_pages {
    ($($route:ident => $module:ident :: $page:ident),+ $(,)?) => {
        $(
            struct $route;

            #[lazy_route]
            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                fn view(_this: Self) -> AnyView {
                    use pages::$module::$page;
                    view! { <$page/> }.into_any()
                }
            }
        )+
    };
}

lazy_pages! {
    AuditRoute => audit::AuditPage,
    EvidenceRoute => evidence::EvidencePage,
    PartnersRoute => partners::PartnersPage,
    SettingsRoute => settings::SettingsPage,
    PolicyRoute => policy::PolicyPage,
    DriftRoute => drift::DriftPage,
    InsightsRoute => insights::InsightsPage,
    DeliveriesRoute => deliveries::DeliveriesPage,
    BulkJobRoute => bulk::BulkJobPage,
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
                                    {u.role.can(Permission::ManageSettings).then(|| view! { <A href="/settings">"Settings"</A> })}
                                    {u.role.can(Permission::ViewInsights).then(|| view! { <A href="/insights">"Insights"</A> })}
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

#[cfg(test)]
mod tests {
    use super::FrontEndNames;

    #[test]
    fn front_end_names_carry_the_hashes_cargo_leptos_wrote() {
        let hashes = "js: AbC\nwasm: dEf\ncss: Kyk4cX5_k8BF\n";
        assert_eq!(
            FrontEndNames::new("clearance", Some(hashes), false),
            FrontEndNames {
                css: "clearance.Kyk4cX5_k8BF.css".into(),
                js: "clearance.AbC".into(),
                wasm: "clearance.dEf".into(),
            }
        );
        // Unhashed (a debug build by cargo-leptos): the output name as it is.
        assert_eq!(
            FrontEndNames::new("clearance", None, false).wasm,
            "clearance"
        );
        // Unhashed, built without cargo-leptos: wasm-bindgen's own names.
        assert_eq!(
            FrontEndNames::new("clearance", None, true),
            FrontEndNames {
                css: "clearance.css".into(),
                js: "clearance".into(),
                wasm: "clearance_bg".into(),
            }
        );
    }
}
