// `sqlx::migrate!` embeds the files of migrations/ at compile time: rebuild when one is added or
// changed, not only when Rust code changes (sqlx's documented build-script line).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
