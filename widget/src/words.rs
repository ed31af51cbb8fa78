//! The badge's words and icons, one copy for the server's iframe page (`src/server/widget.rs`
//! includes this file) and for the widget that takes it over.

/// The icon beside a status (by its wire name); the status is always in words beside it too.
pub fn icon(status: &str) -> &'static str {
    match status {
        "verified" => "\u{2713}",
        "needs_review" | "in_progress" => "\u{2026}",
        "failed" | "expired" => "\u{2715}",
        _ => "\u{25CB}",
    }
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago", from whole minutes since.
pub fn relative_minutes(m: i64) -> String {
    let (n, unit) = match m {
        i64::MIN..=0 => return "just now".into(),
        1..=59 => (m, "minute"),
        60..=1439 => (m / 60, "hour"),
        _ => (m / 1440, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}
