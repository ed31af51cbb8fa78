//! The demo's SMTP sink (`clearance sim mail`): a real SMTP server (mailin-embedded) that keeps
//! every message it accepts, and a page that shows them as the candidate would read them —
//! `GET /` (HTML) and `GET /messages` (JSON: headers, text body, attachment names, raw source).
use crate::server::clock;
use axum::{extract::State, response::Html, routing::get, Json, Router};
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// One accepted message.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub id: usize,
    pub received_at: chrono::DateTime<chrono::Utc>,
    /// The SMTP envelope.
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The first text/plain part, decoded.
    pub text: String,
    pub attachments: Vec<ReceivedAttachment>,
    pub raw: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReceivedAttachment {
    pub name: String,
    pub content_type: String,
    pub text: Option<String>,
}

/// Everything the sink received, shared by the SMTP threads and the web page.
#[derive(Clone, Default)]
pub struct Inbox(Arc<Mutex<Vec<Received>>>);

impl Inbox {
    pub fn messages(&self) -> Vec<Received> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn push(&self, envelope_from: String, envelope_to: Vec<String>, raw: Vec<u8>) {
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let id = list.len() + 1;
        list.push(parse(id, envelope_from, envelope_to, &raw));
    }
}

fn parse(id: usize, envelope_from: String, envelope_to: Vec<String>, raw: &[u8]) -> Received {
    use mailparse::MailHeaderMap;
    let raw_text = String::from_utf8_lossy(raw).into_owned();
    let mut r = Received {
        id,
        received_at: clock::now(),
        envelope_from,
        envelope_to,
        from: String::new(),
        to: String::new(),
        subject: String::new(),
        text: String::new(),
        attachments: Vec::new(),
        raw: raw_text,
    };
    let Ok(mail) = mailparse::parse_mail(raw) else {
        r.subject = "(not a MIME message)".into();
        return r;
    };
    let header = |name: &str| mail.headers.get_first_value(name).unwrap_or_default();
    r.from = header("From");
    r.to = header("To");
    r.subject = header("Subject");
    let mut text = None;
    for part in mail.parts() {
        if !part.subparts.is_empty() {
            continue;
        }
        let disposition = part.get_content_disposition();
        let ct = part.ctype.mimetype.clone();
        if let Some(name) = disposition.params.get("filename") {
            r.attachments.push(ReceivedAttachment {
                name: name.clone(),
                content_type: ct.clone(),
                text: ct
                    .starts_with("text/")
                    .then(|| part.get_body().unwrap_or_default()),
            });
        } else if text.is_none() && ct == "text/plain" {
            text = part.get_body().ok();
        }
    }
    r.text = text.unwrap_or_default();
    r
}

#[derive(Clone)]
struct Sink {
    inbox: Inbox,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for Sink {
    fn data_start(
        &mut self,
        _domain: &str,
        from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        // At most 10 MB a message: the sink is for notices, not a mail server.
        if self.data.len() + buf.len() > 10 * 1024 * 1024 {
            return Err(std::io::Error::other("message too large"));
        }
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let data = std::mem::take(&mut self.data);
        self.inbox.push(
            std::mem::take(&mut self.from),
            std::mem::take(&mut self.to),
            data,
        );
        mailin_embedded::response::OK
    }
}

/// Runs the SMTP side on `listener` in threads of its own (mailin-embedded blocks); returns at once.
pub fn start_smtp(listener: std::net::TcpListener, inbox: Inbox) {
    std::thread::spawn(move || {
        let mut server = mailin_embedded::Server::new(Sink {
            inbox,
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        });
        server
            .with_name("clearance-sim-mail")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        if let Err(e) = server.serve() {
            eprintln!("mail sink stopped: {e}");
        }
    });
}

pub fn router(inbox: Inbox) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/messages", get(messages))
        .with_state(inbox)
}

async fn messages(State(inbox): State<Inbox>) -> Json<Vec<Received>> {
    Json(inbox.messages())
}

use crate::server::security::escape_html as escape;

async fn page(State(inbox): State<Inbox>) -> Html<String> {
    let list = inbox.messages();
    let articles = list.iter().map(|m| {
        let mut html = format!(
            "<article aria-label=\"{subject}\"><h2>{subject}</h2><dl><dt>From</dt><dd>{from}</dd>\
             <dt>To</dt><dd>{to}</dd><dt>Received</dt><dd>{at}</dd></dl><pre>{text}</pre>",
            subject = escape(&m.subject),
            from = escape(&m.from),
            to = escape(&m.to),
            at = m.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
            text = escape(&m.text),
        );
        for a in &m.attachments {
            html.push_str(&format!(
                "<details><summary>Attachment: {}</summary><pre>{}</pre></details>",
                escape(&a.name),
                escape(a.text.as_deref().unwrap_or("(binary)"))
            ));
        }
        html.push_str("</article>");
        html
    });
    Html(super::received_page(
        "Received mail",
        "What Clearance sent to this local SMTP sink, newest first.",
        "No mail yet.",
        articles.collect(),
    ))
}

/// `clearance sim mail`: SMTP on one port, the page on another.
pub async fn serve(
    smtp: std::net::TcpListener,
    web: tokio::net::TcpListener,
) -> anyhow::Result<()> {
    let inbox = Inbox::default();
    start_smtp(smtp, inbox.clone());
    axum::serve(web, router(inbox)).await?;
    Ok(())
}
