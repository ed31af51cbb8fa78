//! Email over SMTP with lettre: `CLEARANCE_SMTP_URL` in lettre's URL form —
//! `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587?tls=required` (STARTTLS
//! required), `smtp://host:2525` (plain, for a local relay or the demo's sink). The URL may carry
//! credentials, so it is kept as a secret and never logged: logs and pages name the host only.
use crate::error::Invalid;
use crate::server::config::Secret;
use crate::server::partners::CallError;
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Where mail goes and whom it is from; checked once at start-up.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    url: Secret,
    /// For logs and pages: `host:port`, never the credentials.
    pub server: String,
    pub from: Mailbox,
}

impl SmtpSettings {
    pub fn new(url: &str, from: &str) -> Result<SmtpSettings, Invalid> {
        let parsed = url::Url::parse(url.trim())
            .map_err(|_| Invalid::new("not a URL (e.g. smtp://localhost:2525)"))?;
        if !matches!(parsed.scheme(), "smtp" | "smtps") {
            return Err(Invalid(format!(
                "the scheme must be smtp or smtps, not '{}'",
                parsed.scheme()
            )));
        }
        let host = parsed
            .host_str()
            .ok_or(Invalid::new("the URL names no host"))?;
        let server = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        // lettre reads the URL itself; a URL it refuses is refused here, at start-up.
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim())
            .map_err(|e| Invalid(format!("lettre refuses it ({e})")))?;
        let from = from
            .trim()
            .parse::<Mailbox>()
            .map_err(|e| Invalid(format!("'{from}' is not a sender address ({e})")))?;
        Ok(SmtpSettings {
            url: Secret::new(url.trim().to_string()),
            server,
            from,
        })
    }
}

/// A file attached to a message.
pub struct MailAttachment {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Sends one plain-text message (with attachments). Temporary failures — connection refused,
/// timeouts, 4xx replies — are worth retrying; permanent 5xx replies are final.
pub async fn send(
    settings: &SmtpSettings,
    to: &str,
    subject: &str,
    body: &str,
    attachments: Vec<MailAttachment>,
) -> Result<String, CallError> {
    let final_error = |detail: String| CallError::Final {
        status: None,
        detail,
    };
    let to: Mailbox = to
        .parse()
        .map_err(|e| final_error(format!("'{to}' is not an email address ({e})")))?;
    let mut parts = MultiPart::mixed().singlepart(
        SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string()),
    );
    for a in attachments {
        let ct = ContentType::parse(a.content_type)
            .map_err(|e| final_error(format!("attachment type {}: {e}", a.content_type)))?;
        parts = parts.singlepart(Attachment::new(a.name).body(a.bytes, ct));
    }
    let message = Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(subject)
        .multipart(parts)
        .map_err(|e| final_error(format!("the message could not be built ({e})")))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.url.expose())
        .map_err(|e| final_error(format!("CLEARANCE_SMTP_URL: {e}")))?
        .timeout(Some(Duration::from_secs(20)))
        .build();
    match transport.send(message).await {
        Ok(reply) => Ok(format!(
            "accepted by {} ({})",
            settings.server,
            reply.message().collect::<Vec<_>>().join(" ")
        )),
        Err(e) => {
            let detail = format!("{}: {e}", settings.server);
            if e.is_permanent() {
                Err(CallError::Final {
                    status: None,
                    detail,
                })
            } else {
                Err(CallError::Retryable {
                    status: None,
                    detail,
                    retry_after: None,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_and_name_the_host_only() {
        let s = SmtpSettings::new(
            "smtp://user:hunter2@mail.example.com:2525",
            "Clearance <notices@example.com>",
        )
        .unwrap();
        assert_eq!(s.server, "mail.example.com:2525");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(SmtpSettings::new("http://mail.example.com", "a@example.com").is_err());
        assert!(SmtpSettings::new("smtp://mail.example.com", "not an address").is_err());
        assert!(SmtpSettings::new("nonsense", "a@example.com").is_err());
    }
}
