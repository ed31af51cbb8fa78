/// mimalloc rather than glibc's malloc: with many threads allocating and freeing per request,
/// glibc's arenas cost ≈ 20 % of a list page's server time (perf, release build, 64 connections).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    clearance::server::main(clearance::site::pages())
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser side is the `hydrate` library; this binary only exists with `ssr`.
}
