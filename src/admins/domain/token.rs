//! Admin API tokens: what automation presents to the management API. A token
//! has the secret format of API keys (`crate::secret`) with the prefix
//! `kwa_` (secret scanners: `\bkwa_[0-9A-Za-z]{49}\b`), a name, a scope and
//! an optional expiry; it acts as the administrator who made it.

use chrono::{NaiveDateTime, TimeDelta};
use serde::Deserialize;

pub use crate::api::Scope;
use crate::secret::{Kind, Typed};
use crate::templates::FieldErrors;

pub const PREFIX: &str = "kwa_";
const MAX_NAME_CHARS: usize = 64;
/// A token lives ten years at most.
pub const MAX_EXPIRY_DAYS: i64 = 3650;

/// The kind of admin API tokens.
pub enum TokenKind {}

impl Kind for TokenKind {
    const PREFIX: &'static str = PREFIX;
    const NAME: &'static str = "AdminToken";
}

/// A whole admin token; `Debug` never prints it.
pub type AdminToken = Typed<TokenKind>;

/// A token's name: required, trimmed, at most 64 characters, printable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(input: &str) -> Result<Self, String> {
        crate::text::required_line(input, MAX_NAME_CHARS, "Token name").map(TokenName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many days a new token lives: empty for no expiry.
pub fn parse_expiry_days(input: &str) -> Result<Option<i64>, String> {
    let input = input.trim();
    if input.is_empty() || input == "never" {
        return Ok(None);
    }
    match input.parse::<i64>() {
        Ok(days) if (1..=MAX_EXPIRY_DAYS).contains(&days) => Ok(Some(days)),
        _ => Err(format!(
            "Expiry must be a number of days from 1 to {MAX_EXPIRY_DAYS}, or never"
        )),
    }
}

/// The "New API token" form as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    pub name: String,
    pub scope: String,
    pub expires_days: String,
}

impl TokenForm {
    /// A blank form: read-write, expiring in 90 days.
    pub fn blank() -> Self {
        TokenForm {
            name: String::new(),
            scope: Scope::ReadWrite.as_str().into(),
            expires_days: "90".into(),
        }
    }
}

/// A valid new token's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: TokenName,
    pub scope: Scope,
    pub expires_days: Option<i64>,
}

impl NewToken {
    pub fn parse(form: &TokenForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = TokenName::parse(&form.name)
            .map_err(|e| errors.add("name", e))
            .ok();
        let scope = Scope::parse(&form.scope);
        if scope.is_none() {
            errors.add("scope", "Choose read-only or read-write");
        }
        let expires_days = parse_expiry_days(&form.expires_days)
            .map_err(|e| errors.add("expires_days", e))
            .ok();
        match (name, scope, expires_days) {
            (Some(name), Some(scope), Some(expires_days)) => Ok(NewToken {
                name,
                scope,
                expires_days,
            }),
            _ => Err(errors),
        }
    }

    /// When a token made at `now` stops working.
    pub fn expires_at(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.expires_days.map(|days| now + TimeDelta::days(days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::FormatError;

    #[test]
    fn tokens_have_their_own_prefix_and_refuse_keys() {
        let token = AdminToken::generate();
        assert!(token.expose().starts_with("kwa_"));
        assert_eq!(token.expose().len(), 53);
        assert_eq!(AdminToken::parse(token.expose()), Ok(token.clone()));
        assert!(!format!("{token:?}").contains(&token.expose()[10..]));
        let key = crate::apps::domain::ApiKey::generate();
        assert_eq!(
            AdminToken::parse(key.expose()),
            Err(FormatError::Prefix("kwa_"))
        );
    }

    #[test]
    fn a_token_form_becomes_a_new_token() {
        let form = |name: &str, scope: &str, days: &str| TokenForm {
            name: name.into(),
            scope: scope.into(),
            expires_days: days.into(),
        };
        let token = NewToken::parse(&form(" CI ", "read", "30")).unwrap();
        assert_eq!(
            (token.name.as_str(), token.scope, token.expires_days),
            ("CI", Scope::ReadOnly, Some(30))
        );
        assert_eq!(
            NewToken::parse(&form("CI", "write", ""))
                .unwrap()
                .expires_days,
            None
        );
        let errors = NewToken::parse(&form("", "admin", "0")).unwrap_err();
        assert!(errors.has("name") && errors.has("scope") && errors.has("expires_days"));
        assert!(NewToken::parse(&form("CI", "write", "3651")).is_err());
    }
}
