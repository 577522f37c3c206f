//! keyward's apps, roles, rules and services in DreamFactory's columns, and
//! the fields each resource may be filtered and ordered by.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::filter::{Fields, Kind};
use super::params::Wanted;
use super::records::Record;
use crate::apps::domain::AppLocation;

/// DreamFactory writes times as `2017-11-07 16:42:10` (UTC here).
pub fn date(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub const APP_FIELDS: Fields = &[
    ("id", Kind::Int),
    ("name", Kind::Text),
    ("description", Kind::Text),
    ("is_active", Kind::Bool),
    ("type", Kind::Int),
    ("path", Kind::Text),
    ("url", Kind::Text),
    ("storage_service_id", Kind::Int),
    ("storage_container", Kind::Text),
    ("role_id", Kind::Int),
    ("created_date", Kind::Time),
    ("last_modified_date", Kind::Time),
    ("created_by_id", Kind::Int),
    ("last_modified_by_id", Kind::Int),
];

pub const ROLE_FIELDS: Fields = &[
    ("id", Kind::Int),
    ("name", Kind::Text),
    ("description", Kind::Text),
    ("is_active", Kind::Bool),
    ("created_date", Kind::Time),
    ("last_modified_date", Kind::Time),
    ("created_by_id", Kind::Int),
    ("last_modified_by_id", Kind::Int),
];

pub const SERVICE_FIELDS: Fields = &[
    ("id", Kind::Int),
    ("name", Kind::Text),
    ("label", Kind::Text),
    ("description", Kind::Text),
    ("is_active", Kind::Bool),
    ("created_date", Kind::Time),
    ("last_modified_date", Kind::Time),
];

/// An app as read for the system API.
#[derive(Debug, Clone)]
pub struct AppRecord {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub location: AppLocation,
    pub role_id: Option<i32>,
    pub key_prefix: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub created_by_id: Option<i32>,
    pub updated_by_id: Option<i32>,
}

impl AppRecord {
    /// DreamFactory's columns. `api_key` holds the key's display prefix: the
    /// key itself is shown once, when it is made, and kept only as a hash.
    pub fn json(&self) -> Record {
        let stored = self.location.stored();
        let launch_url = match &self.location {
            AppLocation::RemoteUrl { url } => url.clone(),
            AppLocation::WebServer { path } => path.clone(),
            _ => String::new(),
        };
        object(json!({
            "id": self.id,
            "name": self.name,
            "api_key": self.key_prefix,
            "description": self.description,
            "is_active": self.is_active,
            "type": stored.code,
            "path": stored.path,
            "url": stored.url,
            "storage_service_id": stored.storage_service_id,
            "storage_container": stored.storage_container,
            "requires_fullscreen": false,
            "allow_fullscreen_toggle": true,
            "toggle_location": "top",
            "role_id": self.role_id,
            "created_date": date(self.created_at),
            "last_modified_date": date(self.updated_at),
            "created_by_id": self.created_by_id,
            "last_modified_by_id": self.updated_by_id,
            "launch_url": launch_url,
        }))
    }
}

/// A role as read for the system API.
#[derive(Debug, Clone)]
pub struct RoleRecord {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub created_by_id: Option<i32>,
    pub updated_by_id: Option<i32>,
}

impl RoleRecord {
    pub fn json(&self) -> Record {
        object(json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "is_active": self.is_active,
            "created_date": date(self.created_at),
            "last_modified_date": date(self.updated_at),
            "created_by_id": self.created_by_id,
            "last_modified_by_id": self.updated_by_id,
        }))
    }
}

/// A rule in `role_service_access` columns: keyward's rules are for API
/// requests (requestor_mask 1) with no row-level filters.
pub fn rule_json(
    id: i32,
    role_id: i32,
    service_id: Option<i32>,
    component: &str,
    verbs: i32,
) -> Value {
    json!({
        "id": id,
        "role_id": role_id,
        "service_id": service_id,
        "component": component,
        "verb_mask": verbs,
        "requestor_mask": 1,
        "filters": [],
        "filter_op": "AND",
    })
}

/// A service as read for the system API.
#[derive(Debug, Clone)]
pub struct ServiceRecord {
    pub id: i32,
    pub name: String,
    pub label: String,
    pub description: String,
    pub kind: String,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ServiceRecord {
    pub fn json(&self) -> Record {
        object(json!({
            "id": self.id,
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "is_active": self.is_active,
            "type": service_type(&self.kind),
            "mutable": true,
            "deletable": true,
            "created_date": date(self.created_at),
            "last_modified_date": date(self.updated_at),
        }))
    }
}

/// keyward's kind as DreamFactory's service type: file storage is
/// `local_file`, an API a remote web service (`rws`).
pub fn service_type(kind: &str) -> &str {
    match kind {
        "file" => "local_file",
        "api" => "rws",
        other => other,
    }
}

/// `record` with only the fields asked for (and the related records, which
/// `related` asked for).
pub fn only(mut record: Record, wanted: &Wanted, related: &[&str]) -> Value {
    record.retain(|name, _| wanted.has(name) || related.contains(&name.as_str()));
    Value::Object(record)
}

fn object(value: Value) -> Record {
    match value {
        Value::Object(record) => record,
        _ => Record::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(18, 0, 0)
            .unwrap()
    }

    #[test]
    fn apps_read_in_dreamfactorys_columns() {
        let app = AppRecord {
            id: 3,
            name: "ci".into(),
            description: String::new(),
            is_active: true,
            location: AppLocation::RemoteUrl {
                url: "https://x.example".into(),
            },
            role_id: None,
            key_prefix: "kw_4fQ9ab".into(),
            created_at: at(),
            updated_at: at(),
            created_by_id: Some(1),
            updated_by_id: None,
        };
        let json = Value::Object(app.json());
        assert_eq!(json["type"], 2);
        assert_eq!(json["launch_url"], "https://x.example");
        assert_eq!(json["api_key"], "kw_4fQ9ab");
        assert_eq!(json["created_date"], "2026-12-01 18:00:00");
        assert_eq!(
            (
                json["requires_fullscreen"].clone(),
                json["toggle_location"].clone()
            ),
            (json!(false), json!("top"))
        );
        let some = only(
            app.json(),
            &Wanted::Only(vec!["id".into(), "name".into()]),
            &[],
        );
        assert_eq!(some, json!({"id": 3, "name": "ci"}));
        assert_eq!(service_type("file"), "local_file");
    }
}
