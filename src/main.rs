#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    clearance::server::main()
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser side is the `hydrate` library; this binary only exists with `ssr`.
}
