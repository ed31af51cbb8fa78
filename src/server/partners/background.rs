//! The background-check partner (seed 000): fetch the catalog, POST an order, exactly per contract.
use super::{excerpt, network_error, read_answer, CallError, PartnerProblem};
use crate::model::Catalog;
use serde::{Deserialize, Serialize};

/// The seed's order body. Every id is a JSON string; nothing is added or left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderPayload {
    pub account_id: String,
    pub hiring_manager_user_id: String,
    pub background_check_id: String,
    pub package_id: String,
    pub add_on_package_ids: Vec<String>,
    pub webhook_url: String,
    pub hiring_manager: HiringManager,
    pub applicant: Applicant,
    pub job: JobRef,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiringManager {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applicant {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub zip: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRef {
    pub id: String,
}

/// A user's display name split the way the partner wants it ("Jill Smith" → "Jill", "Smith").
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once(char::is_whitespace) {
        Some((first, last)) => (first.to_string(), last.trim().to_string()),
        None => (name.to_string(), String::new()),
    }
}

/// Marks where a message quotes the partner's own answer (shown to admins only).
pub const PARTNER_SAID: &str = " The partner said: ";

/// A message without the partner's own words, for users who are not admins.
pub fn without_partner_text(message: &str) -> &str {
    message.split(PARTNER_SAID).next().unwrap_or(message)
}

/// The partner's catalog, or what is wrong in words an admin can act on.
pub async fn fetch_catalog(
    http: &reqwest::Client,
    url: &str,
    account_id: &str,
    secret: &str,
) -> Result<(Catalog, String), PartnerProblem> {
    let res = http
        .get(url)
        .basic_auth(account_id, Some(secret))
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| PartnerProblem::unanswered("partner", url, &e))?;
    let status = res.status().as_u16();
    let text = super::outbound::read_capped(res, super::outbound::CATALOG_CAP)
        .await
        .map_err(|e| format!("The partner's catalog could not be read: {e}."))?;
    match status {
        200 => {}
        401 | 403 => {
            return Err(PartnerProblem::from(format!(
            "The partner refused our credentials ({status}): check the account ID and API secret."
        )))
        }
        404 => {
            return Err(PartnerProblem::from(format!(
                "The catalog URL was not found (404): {url}"
            )))
        }
        s => {
            return Err(PartnerProblem::from(format!(
                "The partner answered {s} instead of the catalog.{PARTNER_SAID}{}",
                excerpt(&text)
            )))
        }
    }
    let catalog =
        Catalog::parse(&text).map_err(|e| format!("The partner's catalog is unusable: {e}."))?;
    Ok((catalog, text))
}

/// The `error_message` of a partner's error answer, else the start of its body.
pub fn error_message(status: u16, body: &str) -> String {
    #[derive(Deserialize)]
    struct Err {
        error_message: serde_json::Value,
    }
    match serde_json::from_str::<Err>(body) {
        Ok(Err {
            error_message: serde_json::Value::String(m),
        }) if !m.trim().is_empty() => excerpt(&m),
        Ok(Err { error_message: v }) if !v.is_null() => excerpt(&v.to_string()),
        _ if body.trim().is_empty() => format!("the partner answered {status} with no message"),
        _ => format!(
            "the partner answered {status} without an error_message: {}",
            excerpt(body)
        ),
    }
}

/// POSTs an order; `Ok` on 201. Retryable: network, timeout, 408, 429, 5xx; other answers are final.
pub async fn post_order(
    http: &reqwest::Client,
    url: &str,
    account_id: &str,
    secret: &str,
    body: &OrderPayload,
) -> Result<String, CallError> {
    let res = http
        .post(url)
        .basic_auth(account_id, Some(secret))
        .json(body)
        .send()
        .await
        .map_err(|e| network_error(&e))?;
    let (status, retry_after, text) = read_answer(res, super::outbound::ANSWER_CAP).await;
    match status {
        201 => Ok(format!("accepted (201) as {}", body.background_check_id)),
        // The contract says 201; another 2xx still means the partner has the order.
        200..=299 => Ok(format!(
            "accepted with {status} (the contract expects 201) as {}",
            body.background_check_id
        )),
        408 | 429 | 500..=599 => Err(CallError::Retryable {
            status: Some(status),
            detail: error_message(status, &text),
            retry_after,
        }),
        _ => Err(CallError::Final {
            status: Some(status),
            detail: error_message(status, &text),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> OrderPayload {
        OrderPayload {
            account_id: "ACCT123".into(),
            hiring_manager_user_id: "67890".into(),
            background_check_id: "224466".into(),
            package_id: "PKG001".into(),
            add_on_package_ids: vec!["DRG02".into()],
            webhook_url: "https://api.applicant-tracking.com/yourco_webhooks".into(),
            hiring_manager: HiringManager {
                id: "67890".into(),
                first_name: "Jill".into(),
                last_name: "Smith".into(),
                email: "jill@example.com".into(),
            },
            applicant: Applicant {
                id: "12345".into(),
                first_name: "John".into(),
                last_name: "Doe".into(),
                phone: "888-555-1234".into(),
                email: "john@example.com".into(),
                address: "123 Main St.".into(),
                address_2: "Apt. 1".into(),
                city: "Springfield".into(),
                state: "IL".into(),
                zip: "12345".into(),
            },
            job: JobRef { id: "12345".into() },
        }
    }

    #[test]
    fn payload_is_exactly_the_seeds_shape() {
        let golden = serde_json::json!({
          "account_id": "ACCT123",
          "hiring_manager_user_id": "67890",
          "background_check_id": "224466",
          "package_id": "PKG001",
          "add_on_package_ids": ["DRG02"],
          "webhook_url": "https://api.applicant-tracking.com/yourco_webhooks",
          "hiring_manager": {"id": "67890", "first_name": "Jill", "last_name": "Smith", "email": "jill@example.com"},
          "applicant": {"id": "12345", "first_name": "John", "last_name": "Doe", "phone": "888-555-1234",
                        "email": "john@example.com", "address": "123 Main St.", "address_2": "Apt. 1",
                        "city": "Springfield", "state": "IL", "zip": "12345"},
          "job": {"id": "12345"}
        });
        assert_eq!(serde_json::to_value(sample()).unwrap(), golden);
        // And strictly back: an extra field or a number where a string belongs is refused.
        let mut extra = golden.clone();
        extra["surprise"] = serde_json::json!(1);
        assert!(serde_json::from_value::<OrderPayload>(extra).is_err());
        let mut number = golden;
        number["job"]["id"] = serde_json::json!(12345);
        assert!(serde_json::from_value::<OrderPayload>(number).is_err());
    }

    #[test]
    fn names_split_for_the_partner() {
        assert_eq!(split_name("Jill Smith"), ("Jill".into(), "Smith".into()));
        assert_eq!(
            split_name(" Ana  de la Cruz "),
            ("Ana".into(), "de la Cruz".into())
        );
        assert_eq!(split_name("Cher"), ("Cher".into(), String::new()));
    }

    #[test]
    fn error_messages_are_read_from_the_body() {
        assert_eq!(
            error_message(422, r#"{"error_message":"Applicant zip is invalid"}"#),
            "Applicant zip is invalid"
        );
        assert!(error_message(500, "").contains("no message"));
        assert!(error_message(502, "<html>Bad gateway</html>").contains("<html>Bad gateway"));
    }
}
