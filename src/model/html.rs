//! Text made safe to put in HTML, shared by the pages (Leptos escapes its own views; this is for
//! markup written as a string) and the server's few pages written without Leptos.

/// Escapes `&`, `<`, `>` and `"`: safe as element content or inside a double-quoted attribute.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

/// Appends `s` to `out` escaped as [`escape_html`] escapes it, in one pass.
pub fn push_escaped(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = rest.find(['&', '<', '>', '"']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&quot;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes_and_keeps_the_rest() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & "Zoë" 'O'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &quot;Zoë&quot; 'O'&lt;/a&gt;"
        );
        assert_eq!(escape_html("&amp;"), "&amp;amp;");
        assert_eq!(escape_html(""), "");
        let mut out = String::from("<b>");
        push_escaped(&mut out, "1 < 2");
        assert_eq!(out, "<b>1 &lt; 2");
    }
}
