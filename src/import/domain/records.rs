//! DreamFactory's exported records (`system/*.json` of a package), as much of
//! them as keyward reads. Exports come from MySQL, PostgreSQL, SQLite or SQL
//! Server through Laravel, so flags may be `true`, `1` or `"1"` and ids
//! numbers or strings: both are read. Unknown fields are ignored; a
//! service's `config` (which can hold credentials) is never read at all.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A `service.json` record.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceRecord {
    #[serde(default, deserialize_with = "id")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    pub name: String,
    #[serde(default, deserialize_with = "text")]
    pub label: String,
    #[serde(default, deserialize_with = "text")]
    pub description: String,
    #[serde(default = "yes", deserialize_with = "flag")]
    pub is_active: bool,
    #[serde(default, rename = "type", deserialize_with = "text")]
    pub kind: String,
}

/// A `role.json` record with its rules inline.
#[derive(Debug, Clone, Deserialize)]
pub struct RoleRecord {
    #[serde(default, deserialize_with = "id")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    pub name: String,
    #[serde(default, deserialize_with = "text")]
    pub description: String,
    #[serde(default = "yes", deserialize_with = "flag")]
    pub is_active: bool,
    #[serde(default, deserialize_with = "list")]
    pub role_service_access_by_role_id: Vec<RuleRecord>,
}

/// One of a role's rules (`role_service_access`).
#[derive(Debug, Clone, Deserialize)]
pub struct RuleRecord {
    /// `None`: every service.
    #[serde(default, deserialize_with = "id")]
    pub service_id: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    pub component: String,
    #[serde(default, deserialize_with = "number")]
    pub verb_mask: i64,
    /// API = 1, SCRIPT = 2; DreamFactory's default is API.
    #[serde(default = "api_only", deserialize_with = "number")]
    pub requestor_mask: i64,
    /// Row-level filters: a JSON array (sometimes stored as its text).
    #[serde(default)]
    pub filters: Value,
}

/// An `app.json` record.
#[derive(Debug, Clone, Deserialize)]
pub struct AppRecord {
    #[serde(default, deserialize_with = "text")]
    pub name: String,
    #[serde(default, deserialize_with = "text")]
    pub api_key: String,
    #[serde(default, deserialize_with = "text")]
    pub description: String,
    #[serde(default = "yes", deserialize_with = "flag")]
    pub is_active: bool,
    /// 0 none, 1 storage service, 2 URL, 3 path on the server.
    #[serde(default, rename = "type", deserialize_with = "number")]
    pub kind: i64,
    #[serde(default, deserialize_with = "text")]
    pub path: String,
    #[serde(default, deserialize_with = "text")]
    pub url: String,
    #[serde(default, deserialize_with = "id")]
    pub storage_service_id: Option<i64>,
    #[serde(default, deserialize_with = "text")]
    pub storage_container: String,
    #[serde(default, deserialize_with = "id")]
    pub role_id: Option<i64>,
}

/// An `admin.json` record. `password` is Laravel's bcrypt hash.
#[derive(Debug, Clone, Deserialize)]
pub struct AdminRecord {
    #[serde(default, deserialize_with = "text")]
    pub email: String,
    #[serde(default, deserialize_with = "text")]
    pub name: String,
    #[serde(default, deserialize_with = "text")]
    pub first_name: String,
    #[serde(default, deserialize_with = "text")]
    pub last_name: String,
    #[serde(default, deserialize_with = "text")]
    pub password: String,
    #[serde(default = "yes", deserialize_with = "flag")]
    pub is_active: bool,
    /// Per-app roles of this user, which keyward has no place for.
    #[serde(default, deserialize_with = "list")]
    pub user_to_app_to_role_by_user_id: Vec<Value>,
}

impl AdminRecord {
    /// The name keyward shows: `name`, else first and last name, else the email.
    pub fn display_name(&self) -> String {
        let full = format!("{} {}", self.first_name.trim(), self.last_name.trim());
        [self.name.trim(), full.trim(), self.email.trim()]
            .into_iter()
            .find(|name| !name.is_empty())
            .unwrap_or_default()
            .to_owned()
    }
}

impl RuleRecord {
    /// How many row-level filters the rule has.
    pub fn filter_count(&self) -> usize {
        match &self.filters {
            Value::Array(filters) => filters.len(),
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Array(filters)) => filters.len(),
                _ => usize::from(!text.trim().is_empty() && text.trim() != "null"),
            },
            Value::Null => 0,
            _ => 1,
        }
    }
}

fn yes() -> bool {
    true
}

fn api_only() -> i64 {
    1
}

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => matches!(s.trim(), "1" | "true" | "TRUE" | "True"),
        _ => false,
    })
}

fn number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.trim().parse().unwrap_or(0),
        Value::Bool(b) => i64::from(b),
        _ => 0,
    })
}

fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    })
}

fn list<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .map(|item| serde_json::from_value(item).map_err(serde::de::Error::custom))
            .collect(),
        _ => Ok(Vec::new()),
    }
}
