//! Email addresses, normalised to lower case.
use crate::error::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain.tld` with no spaces; trims and lower-cases.
    pub fn parse(raw: &str) -> Result<Email, Invalid> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(Invalid::new("email is empty"));
        }
        if s.len() > 254 {
            return Err(Invalid::new("email is longer than 254 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Invalid(format!("email '{s}' contains spaces")));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(Invalid(format!("email '{s}' has no @")));
        };
        if local.is_empty() || domain.contains('@') {
            return Err(Invalid(format!(
                "email '{s}' is not of the form name@domain"
            )));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
            return Err(Invalid(format!("email '{s}' has no valid domain")));
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(
            Email::parse("  Jill.Smith@Example.COM ").unwrap().as_str(),
            "jill.smith@example.com"
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "jill",
            "jill@",
            "@example.com",
            "jill@example",
            "a b@example.com",
            "a@b@c.com",
            "jill@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
