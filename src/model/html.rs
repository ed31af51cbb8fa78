//! Text made safe to put in HTML, shared by the pages (Leptos escapes its own views; this is for
//! markup written as a string) and the server's few pages written without Leptos.

/// Escapes `&`, `<`, `>` and `"`: safe as element content or inside a double-quoted attribute.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
