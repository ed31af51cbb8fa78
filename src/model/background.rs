//! Background checks (seed 000): partner catalogs, exact-decimal prices, orders as users see them.
use crate::error::Invalid;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// One package of a partner's catalog; price, description and screenings are optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogPackage {
    pub id: String,
    pub name: String,
    /// A decimal string as the partner sent it (checked to parse), e.g. "49.99".
    pub price: Option<String>,
    pub description: Option<String>,
    pub screenings: Vec<String>,
}

/// A supplemental service that may be ordered with any package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogAddOn {
    pub id: String,
    pub name: String,
    pub price: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Catalog {
    pub packages: Vec<CatalogPackage>,
    pub add_on_packages: Vec<CatalogAddOn>,
}

/// A price from the wire: a decimal string (numbers are accepted too), never negative.
pub fn parse_price(value: &str) -> Result<Decimal, Invalid> {
    let v = value.trim();
    let d = Decimal::from_str(v).map_err(|_| format!("'{value}' is not a decimal amount"))?;
    if d.is_sign_negative() {
        return Err(Invalid(format!("'{value}' is negative")));
    }
    Ok(d)
}

/// Money as shown everywhere: two decimals at least, exactly.
pub fn format_money(d: Decimal) -> String {
    let d = if d.scale() < 2 {
        let mut d = d;
        d.rescale(2);
        d
    } else {
        d
    };
    format!("${d}")
}

/// The add-on ids once each, in the order first chosen (`[a, b, a]` → `[a, b]`): an add-on is
/// priced and ordered once however often a request names it.
pub fn unique_add_ons(ids: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect()
}

/// The sum of the given prices (absent prices count as nothing); an unreadable price is an error.
pub fn total_of<'a>(prices: impl IntoIterator<Item = Option<&'a str>>) -> Result<Decimal, Invalid> {
    let mut total = Decimal::ZERO;
    for p in prices.into_iter().flatten() {
        total = total
            .checked_add(parse_price(p)?)
            .ok_or(Invalid::new("the total is too large"))?;
    }
    Ok(total)
}

impl Catalog {
    pub fn package(&self, id: &str) -> Option<&CatalogPackage> {
        self.packages.iter().find(|p| p.id == id)
    }
    pub fn add_on(&self, id: &str) -> Option<&CatalogAddOn> {
        self.add_on_packages.iter().find(|a| a.id == id)
    }

    /// The total of a package and add-ons chosen from this catalog.
    pub fn total(&self, package_id: &str, add_on_ids: &[String]) -> Result<Decimal, Invalid> {
        let pkg = self
            .package(package_id)
            .ok_or_else(|| format!("the catalog has no package '{package_id}'"))?;
        let mut prices = vec![pkg.price.as_deref()];
        for id in add_on_ids {
            let a = self
                .add_on(id)
                .ok_or_else(|| format!("the catalog has no add-on '{id}'"))?;
            prices.push(a.price.as_deref());
        }
        total_of(prices)
    }

    /// Reads a partner's catalog answer, saying in plain words what is wrong with it.
    pub fn parse(text: &str) -> Result<Catalog, Invalid> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("the catalog is not valid JSON ({e})"))?;
        let obj = v.as_object().ok_or(Invalid::new(
            "the catalog is not a JSON object with a 'packages' list",
        ))?;
        let packages = obj
            .get("packages")
            .ok_or(Invalid::new("the catalog has no 'packages' field"))?
            .as_array()
            .ok_or(Invalid::new("'packages' is not a list"))?;
        let mut catalog = Catalog::default();
        for (i, p) in packages.iter().enumerate() {
            let at = format!("package {}", i + 1);
            let o = p.as_object().ok_or(format!("{at} is not an object"))?;
            let id = required_string(o, "id", &at)?;
            let at = format!("package '{id}'");
            catalog.packages.push(CatalogPackage {
                name: required_string(o, "name", &at)?,
                price: optional_price(o, &at)?,
                description: optional_string(o, "description", &at)?,
                screenings: match o.get("screenings") {
                    None | Some(serde_json::Value::Null) => Vec::new(),
                    Some(serde_json::Value::Array(items)) => items
                        .iter()
                        .map(|s| {
                            s.as_str()
                                .map(str::to_string)
                                .ok_or(format!("{at}: 'screenings' must be a list of text"))
                        })
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err(Invalid(format!("{at}: 'screenings' is not a list"))),
                },
                id,
            });
        }
        match obj.get("add_on_packages") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(items)) => {
                for (i, a) in items.iter().enumerate() {
                    let at = format!("add-on {}", i + 1);
                    let o = a.as_object().ok_or(format!("{at} is not an object"))?;
                    let id = required_string(o, "id", &at)?;
                    let at = format!("add-on '{id}'");
                    catalog.add_on_packages.push(CatalogAddOn {
                        name: required_string(o, "name", &at)?,
                        price: optional_price(o, &at)?,
                        description: optional_string(o, "description", &at)?,
                        id,
                    });
                }
            }
            Some(_) => return Err(Invalid::new("'add_on_packages' is not a list")),
        }
        if catalog.packages.is_empty() {
            return Err(Invalid::new("the catalog lists no packages"));
        }
        Ok(catalog)
    }
}

type JsonObject = serde_json::Map<String, serde_json::Value>;

fn required_string(o: &JsonObject, key: &str, at: &str) -> Result<String, Invalid> {
    match o.get(key) {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        // Ids travel as strings, but a partner sending a number means the same thing.
        Some(serde_json::Value::Number(n)) if key == "id" => Ok(n.to_string()),
        Some(serde_json::Value::String(_)) => Err(Invalid(format!("{at}: '{key}' is empty"))),
        Some(_) => Err(Invalid(format!("{at}: '{key}' is not text"))),
        None => Err(Invalid(format!("{at} has no '{key}'"))),
    }
}

fn optional_string(o: &JsonObject, key: &str, at: &str) -> Result<Option<String>, Invalid> {
    match o.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.trim().is_empty())),
        Some(_) => Err(Invalid(format!("{at}: '{key}' is not text"))),
    }
}

fn optional_price(o: &JsonObject, at: &str) -> Result<Option<String>, String> {
    let raw = match o.get("price") {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(s)) => s.trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(_) => return Err(format!("{at}: 'price' is not a decimal amount")),
    };
    parse_price(&raw).map_err(|e| format!("{at}: price {e}"))?;
    Ok(Some(raw))
}

/// A registered background-check partner as admins and recruiters see it (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartnerSummary {
    pub id: i64,
    pub name: String,
    pub catalog_url: String,
    pub orders_url: String,
    pub account_id: String,
    pub has_logo: bool,
    pub catalog_fetched_at: Option<DateTime<Utc>>,
    pub catalog_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The agency's address and phone, named in final adverse-action notices.
    pub address: Option<String>,
    pub phone: Option<String>,
}

/// What "Test connection" found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionTest {
    pub ok: bool,
    pub message: String,
}

/// A catalog for the order picker: the current one, or the last good one with why it is old.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogView {
    pub partner_id: i64,
    pub partner_name: String,
    pub has_logo: bool,
    pub catalog: Option<Catalog>,
    pub fetched_at: Option<DateTime<Utc>>,
    /// Set when the last fetch failed; `catalog` is then the last good one, if any.
    pub error: Option<String>,
}

/// One line of an order: what was ordered and at which price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderedItem {
    pub id: String,
    pub name: String,
    pub price: Option<String>,
}

/// A background-check order on the profile. Hiring managers get status only (`None` elsewhere).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackgroundCheck {
    pub id: i64,
    pub background_check_id: String,
    pub partner_name: String,
    pub partner_id: i64,
    pub package_name: String,
    pub status: OrderStatus,
    pub status_label: String,
    pub add_ons: Vec<OrderedItem>,
    pub total: Option<String>,
    pub result: Option<String>,
    /// Only http(s) links are passed on.
    pub result_link_url: Option<String>,
    pub error_message: Option<String>,
    pub ordered_by: Option<String>,
    pub ordered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A newer order exists; this one's result no longer speaks for the candidate.
    pub superseded: bool,
    /// Submitted but silent past the configured age (the contract has no status endpoint).
    pub stale: bool,
}

/// A background-check order's status: the four Clearance sets itself, or the partner's own status,
/// kept verbatim (the partner contract does not enumerate them). Stored and sent as its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum OrderStatus {
    /// Waiting for (or retrying) the order call.
    Queued,
    /// The partner accepted the order.
    Submitted,
    /// The partner refused the order (422).
    Rejected,
    /// Every delivery attempt failed.
    DeadLettered,
    /// What the partner's last update said.
    Partner(String),
}

impl OrderStatus {
    pub fn as_str(&self) -> &str {
        match self {
            OrderStatus::Queued => "queued",
            OrderStatus::Submitted => "submitted",
            OrderStatus::Rejected => "rejected",
            OrderStatus::DeadLettered => "dead_lettered",
            OrderStatus::Partner(s) => s,
        }
    }

    pub fn label(&self) -> String {
        match self {
            OrderStatus::Queued => "Sending to partner".into(),
            OrderStatus::Submitted => "Submitted".into(),
            OrderStatus::Rejected => "Rejected by partner".into(),
            OrderStatus::DeadLettered => "Not delivered".into(),
            OrderStatus::Partner(s) => match s.as_str() {
                "complete" | "completed" => "Complete".into(),
                "in_progress" | "pending" => "In progress".into(),
                other => other.to_string(),
            },
        }
    }

    /// Still on its way: not refused, not undeliverable, not finished by the partner.
    pub fn is_open(&self) -> bool {
        !self.is_final() && !matches!(self, OrderStatus::Rejected | OrderStatus::DeadLettered)
    }

    /// A partner status after which no earlier-stage update may overwrite the order.
    pub fn is_final(&self) -> bool {
        matches!(self, OrderStatus::Partner(s) if matches!(
            s.to_ascii_lowercase().as_str(),
            "complete" | "completed" | "cancelled" | "canceled"
        ))
    }
}

impl From<&str> for OrderStatus {
    fn from(s: &str) -> Self {
        match s {
            "queued" => OrderStatus::Queued,
            "submitted" => OrderStatus::Submitted,
            "rejected" => OrderStatus::Rejected,
            "dead_lettered" => OrderStatus::DeadLettered,
            other => OrderStatus::Partner(other.to_string()),
        }
    }
}

impl From<String> for OrderStatus {
    fn from(s: String) -> Self {
        OrderStatus::from(s.as_str())
    }
}

impl From<OrderStatus> for String {
    fn from(s: OrderStatus) -> Self {
        s.as_str().to_string()
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{"packages":[
      {"id":"PKG001","name":"Basic Package","price":"29.99","description":"A basic background check screening","screenings":["Address to Federal Criminal History (7 year)"]},
      {"id":"PKG002","name":"Standard Package","price":"49.99","description":"A basic background check screening","screenings":["Address to Federal Criminal History (7 year)","Social Security Address/Alias Trace"]},
      {"id":"PKG003","name":"Deluxe Package","price":"69.99","description":"A basic background check screening","screenings":[]}],
     "add_on_packages":[
      {"id":"DRG01","name":"Basic Drug Screening","price":"29.99","description":"A 7 panel urine test for prohibited substances"},
      {"id":"DRG02","name":"Comprehensive Drug Screening","price":"39.99","description":"A comprehensive 10 panel urine test for prohibited substances"}]}"#;

    #[test]
    fn seed_catalog_parses_and_totals_exactly() {
        let c = Catalog::parse(SEED).unwrap();
        assert_eq!(c.packages.len(), 3);
        assert_eq!(c.add_on_packages.len(), 2);
        let t = c.total("PKG002", &["DRG02".into()]).unwrap();
        assert_eq!(t.to_string(), "89.98");
        assert_eq!(format_money(t), "$89.98");
        // Floats would give 99.97000000000001 here.
        let t = c
            .total("PKG003", &["DRG01".into(), "DRG01".into()])
            .unwrap();
        assert_eq!(t.to_string(), "129.97");
        assert!(c.total("PKG009", &[]).is_err());
        assert!(c.total("PKG001", &["NOPE".into()]).is_err());
    }

    #[test]
    fn add_ons_named_twice_count_once_in_the_order_first_chosen() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(unique_add_ons(&ids(&["a", "b", "a"])), ids(&["a", "b"]));
        assert_eq!(
            unique_add_ons(&ids(&["b", "a", "b", "a"])),
            ids(&["b", "a"])
        );
        assert!(unique_add_ons(&[]).is_empty());
    }

    #[test]
    fn optional_fields_may_be_absent() {
        let c = Catalog::parse(r#"{"packages":[{"id":"P","name":"Just a name"}]}"#).unwrap();
        assert_eq!(c.packages[0].price, None);
        assert!(c.packages[0].screenings.is_empty());
        assert!(c.add_on_packages.is_empty());
        assert_eq!(c.total("P", &[]).unwrap(), Decimal::ZERO);
        assert_eq!(format_money(Decimal::ZERO), "$0.00");
        let c = Catalog::parse(r#"{"packages":[{"id":7,"name":"N","price":12.5}]}"#).unwrap();
        assert_eq!(c.packages[0].id, "7");
        assert_eq!(format_money(c.total("7", &[]).unwrap()), "$12.50");
    }

    #[test]
    fn broken_catalogs_say_what_is_wrong() {
        let cases = [
            ("not json", "not valid JSON"),
            ("[]", "not a JSON object"),
            (r#"{"items":[]}"#, "no 'packages' field"),
            (r#"{"packages":[]}"#, "lists no packages"),
            (r#"{"packages":[{"name":"x"}]}"#, "package 1 has no 'id'"),
            (r#"{"packages":[{"id":"A"}]}"#, "package 'A' has no 'name'"),
            (
                r#"{"packages":[{"id":"A","name":"x","price":"cheap"}]}"#,
                "package 'A': price 'cheap' is not a decimal amount",
            ),
            (
                r#"{"packages":[{"id":"A","name":"x","price":"-1"}]}"#,
                "is negative",
            ),
            (
                r#"{"packages":[{"id":"A","name":"x"}],"add_on_packages":[{"id":"D","name":"d","price":true}]}"#,
                "add-on 'D': 'price' is not a decimal amount",
            ),
            (
                r#"{"packages":[{"id":"A","name":"x","screenings":"all"}]}"#,
                "'screenings' is not a list",
            ),
        ];
        for (text, expected) in cases {
            let err = Catalog::parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn final_statuses() {
        assert!(OrderStatus::from("complete").is_final());
        assert!(OrderStatus::from("Completed").is_final());
        assert!(!OrderStatus::from("in_progress").is_final());
        assert!(!OrderStatus::from("submitted").is_final());
        assert_eq!(
            OrderStatus::from("awaiting_applicant").label(),
            "awaiting_applicant"
        );
    }

    #[test]
    fn our_statuses_are_known_and_the_partners_kept_verbatim() {
        for ours in [
            OrderStatus::Queued,
            OrderStatus::Submitted,
            OrderStatus::Rejected,
            OrderStatus::DeadLettered,
        ] {
            assert_eq!(OrderStatus::from(ours.as_str()), ours);
        }
        let theirs = OrderStatus::from("Awaiting Applicant");
        assert_eq!(theirs, OrderStatus::Partner("Awaiting Applicant".into()));
        assert_eq!(theirs.to_string(), "Awaiting Applicant");
        assert_eq!(
            serde_json::to_string(&OrderStatus::DeadLettered).unwrap(),
            "\"dead_lettered\""
        );
    }
}
