//! One error type for server functions: a status and a message that is safe to show.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in.")]
    Unauthenticated,
    #[error("You do not have permission to do that.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("Wrong email or password.")]
    BadCredentials,
    #[error("Too many failed attempts. Try again in a few minutes.")]
    TooManyRequests,
    #[error("{0}")]
    Conflict(String),
    /// Details are logged on the server, never sent.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
}

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated | AppError::BadCredentials => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::BadRequest(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::TooManyRequests => 429,
            AppError::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m)
            | ServerFnErrorErr::Deserialization(m)
            | ServerFnErrorErr::MissingArg(m) => {
                AppError::BadRequest(format!("The request was malformed: {m}"))
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::BadRequest(
                "Could not reach the server. Check your connection and try again.".into(),
            ),
            _ => AppError::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        AppError::Internal
    }
}

/// A value that breaks a rule, with the reason in words the person who sent it can act on
/// ("first_name is empty", "unknown stage 'x' (expected …)"). Validators in `model/` and
/// `services/` return it; at a service's edge `?` turns it into `AppError::BadRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(reason: impl Into<String>) -> Invalid {
        Invalid(reason.into())
    }

    /// The same problem, said of a named part ("Logo: …", "line 3: …").
    pub fn within(self, part: &str) -> Invalid {
        Invalid(format!("{part}: {}", self.0))
    }
}

/// Reads as its reason, so callers and tests can look into it like text.
impl std::ops::Deref for Invalid {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for Invalid {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl From<String> for Invalid {
    fn from(reason: String) -> Self {
        Invalid(reason)
    }
}

impl From<&str> for Invalid {
    fn from(reason: &str) -> Self {
        Invalid(reason.to_string())
    }
}

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        AppError::BadRequest(e.0)
    }
}

impl From<Invalid> for String {
    fn from(e: Invalid) -> Self {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::{AppError, Invalid};

    #[test]
    fn an_invalid_value_is_a_bad_request_with_its_reason() {
        let e = Invalid::new("first_name is empty");
        assert_eq!(e, "first_name is empty");
        assert!(e.contains("empty"));
        assert_eq!(
            e.clone().within("line 3").to_string(),
            "line 3: first_name is empty"
        );
        let app: AppError = e.into();
        assert_eq!(app, AppError::BadRequest("first_name is empty".into()));
        assert_eq!(app.status(), 400);
    }
}
