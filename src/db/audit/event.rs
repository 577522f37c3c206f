//! One audit event: which object, what happened, and the fields that changed.

use serde::{Deserialize, Serialize};

/// The kinds of object the log records; rules belong to their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    App,
    Role,
    Service,
    Admin,
    Token,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 5] = [
        ObjectKind::App,
        ObjectKind::Role,
        ObjectKind::Service,
        ObjectKind::Admin,
        ObjectKind::Token,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::App => "app",
            ObjectKind::Role => "role",
            ObjectKind::Service => "service",
            ObjectKind::Admin => "admin",
            ObjectKind::Token => "token",
        }
    }

    pub fn parse(value: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// The kind as the console names it.
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::App => "API key",
            ObjectKind::Role => "Role",
            ObjectKind::Service => "Service",
            ObjectKind::Admin => "Administrator",
            ObjectKind::Token => "API token",
        }
    }

    /// The kind inside a sentence ("History of API key …").
    pub fn noun(self) -> &'static str {
        match self {
            ObjectKind::App => "API key",
            ObjectKind::Role => "role",
            ObjectKind::Service => "service",
            ObjectKind::Admin => "administrator",
            ObjectKind::Token => "API token",
        }
    }

    /// Where the object's page is, while it exists.
    pub fn page(self, id: i32) -> String {
        match self {
            ObjectKind::App => format!("/api-keys/{id}"),
            ObjectKind::Role => format!("/roles/{id}"),
            ObjectKind::Service => format!("/services/{id}"),
            ObjectKind::Admin => "/admins".to_owned(),
            ObjectKind::Token => "/admins/tokens".to_owned(),
        }
    }
}

/// What happened to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Deleted,
    KeyRolled,
    RuleAdded,
    RuleRemoved,
    PasswordChanged,
    Revoked,
    /// Created from a DreamFactory package.
    Imported,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
            Action::KeyRolled => "key_rolled",
            Action::RuleAdded => "rule_added",
            Action::RuleRemoved => "rule_removed",
            Action::PasswordChanged => "password_changed",
            Action::Revoked => "revoked",
            Action::Imported => "imported",
        }
    }

    pub fn label_of(stored: &str) -> &str {
        match stored {
            "created" => "Created",
            "updated" => "Updated",
            "deleted" => "Deleted",
            "key_rolled" => "Key rolled",
            "rule_added" => "Rule added",
            "rule_removed" => "Rule removed",
            "password_changed" => "Password changed",
            "revoked" => "Revoked",
            "imported" => "Imported from DreamFactory",
            other => other,
        }
    }
}

/// An object's fields as the console shows them, in form order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub name: String,
    pub fields: Vec<(&'static str, String)>,
}

/// One field's value before and after a change (`None`: it did not exist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One change, ready to be recorded.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: ObjectKind,
    pub object_id: i32,
    pub object_name: String,
    pub action: Action,
    pub changes: Vec<FieldChange>,
}

impl Event {
    /// A new object: every field it was created with.
    pub fn created(kind: ObjectKind, id: i32, after: &Snapshot) -> Event {
        Event::between(kind, id, Action::Created, None, Some(after))
    }

    /// An edit: the fields whose value changed. `None` when nothing did (a
    /// form saved unchanged is no change).
    pub fn updated(
        kind: ObjectKind,
        id: i32,
        before: &Snapshot,
        after: &Snapshot,
    ) -> Option<Event> {
        let event = Event::between(kind, id, Action::Updated, Some(before), Some(after));
        (!event.changes.is_empty()).then_some(event)
    }

    /// A deleted object: every field it had.
    pub fn deleted(kind: ObjectKind, id: i32, before: &Snapshot) -> Event {
        Event::between(kind, id, Action::Deleted, Some(before), None)
    }

    /// Any change between two states of one object, named by the later one.
    pub fn between(
        kind: ObjectKind,
        id: i32,
        action: Action,
        before: Option<&Snapshot>,
        after: Option<&Snapshot>,
    ) -> Event {
        let object_name = after.or(before).map(|s| s.name.clone()).unwrap_or_default();
        Event {
            kind,
            object_id: id,
            object_name,
            action,
            changes: diff(before, after),
        }
    }
}

/// The fields that differ between two snapshots, in form order. A field only
/// one side has counts as changed.
pub fn diff(before: Option<&Snapshot>, after: Option<&Snapshot>) -> Vec<FieldChange> {
    let value = |side: Option<&Snapshot>, field: &str| {
        side.and_then(|s| s.fields.iter().find(|(f, _)| *f == field))
            .map(|(_, v)| v.clone())
    };
    let field_names = |side: Option<&Snapshot>| -> Vec<&'static str> {
        side.map(|s| s.fields.iter().map(|(f, _)| *f).collect())
            .unwrap_or_default()
    };
    // Both sides list their fields in form order; a field only the later one
    // has goes after the field it follows there (and after the fields that
    // only the earlier side had in between).
    let later = field_names(after);
    let mut names = field_names(before);
    let mut at = 0;
    for field in &later {
        match names.iter().position(|n| n == field) {
            Some(found) => at = found + 1,
            None => {
                while at < names.len() && !later.contains(&names[at]) {
                    at += 1;
                }
                names.insert(at, field);
                at += 1;
            }
        }
    }
    names
        .into_iter()
        .filter_map(|field| {
            let (before, after) = (value(before, field), value(after, field));
            (before != after).then(|| FieldChange {
                field: field.to_owned(),
                before,
                after,
            })
        })
        .collect()
}

/// "yes" or "no", as the log shows a checkbox.
pub fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(name: &str, fields: &[(&'static str, &str)]) -> Snapshot {
        Snapshot {
            name: name.into(),
            fields: fields.iter().map(|(f, v)| (*f, v.to_string())).collect(),
        }
    }

    fn change(field: &str, before: Option<&str>, after: Option<&str>) -> FieldChange {
        FieldChange {
            field: field.into(),
            before: before.map(Into::into),
            after: after.map(Into::into),
        }
    }

    #[test]
    fn an_edit_records_only_the_fields_that_changed() {
        let before = snapshot("Kiosk", &[("Name", "Kiosk"), ("Active", "yes")]);
        let after = snapshot("Kiosk", &[("Name", "Kiosk"), ("Active", "no")]);
        let event = Event::updated(ObjectKind::App, 7, &before, &after).unwrap();
        assert_eq!(
            event.changes,
            vec![change("Active", Some("yes"), Some("no"))]
        );
        assert_eq!(event.object_name, "Kiosk");
    }

    #[test]
    fn an_unchanged_edit_is_no_event() {
        let same = snapshot("Kiosk", &[("Name", "Kiosk")]);
        assert!(Event::updated(ObjectKind::Role, 1, &same, &same).is_none());
    }

    #[test]
    fn creation_and_deletion_carry_every_field_on_one_side() {
        let app = snapshot("Kiosk", &[("Name", "Kiosk"), ("Description", "")]);
        let created = Event::created(ObjectKind::App, 1, &app);
        assert_eq!(
            created.changes,
            vec![
                change("Name", None, Some("Kiosk")),
                change("Description", None, Some("")),
            ]
        );
        let deleted = Event::deleted(ObjectKind::App, 1, &app);
        assert_eq!(deleted.changes[0], change("Name", Some("Kiosk"), None));
    }

    #[test]
    fn a_renamed_object_is_named_by_its_new_name() {
        let before = snapshot("Old", &[("Name", "Old")]);
        let after = snapshot("New", &[("Name", "New")]);
        let event = Event::updated(ObjectKind::Service, 2, &before, &after).unwrap();
        assert_eq!(event.object_name, "New");
        assert_eq!(
            event.changes,
            vec![change("Name", Some("Old"), Some("New"))]
        );
    }

    #[test]
    fn a_field_present_on_one_side_only_counts_as_changed() {
        let before = snapshot("A", &[("Name", "A")]);
        let after = snapshot(
            "A",
            &[("Name", "A"), ("Old key works until", "2026-11-27 10:00")],
        );
        assert_eq!(
            diff(Some(&before), Some(&after)),
            vec![change(
                "Old key works until",
                None,
                Some("2026-11-27 10:00")
            )]
        );
    }

    #[test]
    fn changes_keep_form_order_when_fields_come_and_go() {
        let before = snapshot("A", &[("Name", "A"), ("Path", "/app"), ("Role", "r")]);
        let after = snapshot(
            "A",
            &[("Name", "A"), ("URL", "https://a.example"), ("Role", "s")],
        );
        let fields: Vec<String> = diff(Some(&before), Some(&after))
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(fields, ["Path", "URL", "Role"]);
    }

    #[test]
    fn kinds_round_trip_through_their_stored_names() {
        for kind in ObjectKind::ALL {
            assert_eq!(ObjectKind::parse(kind.as_str()), Some(kind));
            // The API's JSON names them as they are stored.
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        assert_eq!(ObjectKind::parse("rule"), None);
    }
}
