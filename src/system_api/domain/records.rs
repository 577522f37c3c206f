//! Request bodies as DreamFactory scripts send them: the records of a
//! batch, and each record's DreamFactory columns read onto keyward's own
//! forms (`AppForm`, `RoleForm`, `RuleForm`), which then parse as the
//! console's forms do. What keyward cannot honour is refused per record,
//! never dropped.

use serde_json::{Map, Value};

use super::error::DfError;
use crate::apps::domain::AppForm;
use crate::roles::domain::{RoleForm, RuleForm};
use crate::templates::FieldErrors;

pub type Record = Map<String, Value>;

/// The records of a body: `{"resource":[…]}`, a bare array, or one object.
/// Each must be an object; none at all is DreamFactory's 400.
pub fn records(body: &[u8]) -> Result<Vec<Record>, DfError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DfError::no_records());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| DfError::bad_request(format!("The request body is not valid JSON: {e}")))?;
    let list = match value {
        Value::Object(mut object) => match object.remove("resource") {
            Some(Value::Array(list)) => list,
            Some(_) => {
                return Err(DfError::bad_request(
                    "resource must be an array of records.",
                ));
            }
            None if object.is_empty() => vec![],
            None => vec![Value::Object(object)],
        },
        Value::Array(list) => list,
        _ => return Err(DfError::no_records()),
    };
    if list.is_empty() {
        return Err(DfError::no_records());
    }
    list.into_iter()
        .map(|value| match value {
            Value::Object(record) => Ok(record),
            _ => Err(DfError::bad_request("Each record must be a JSON object.")),
        })
        .collect()
}

/// A record's `id`, when it has one.
pub fn record_id(record: &Record) -> Option<Result<i32, DfError>> {
    let value = record.get("id").filter(|v| !v.is_null())?;
    Some(int(value).ok_or_else(|| DfError::bad_request(format!("Invalid identifier: {value}"))))
}

/// Text from a JSON string or number (`null`: empty).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Null => Some(String::new()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A whole number from a JSON number or a string of digits.
fn int(value: &Value) -> Option<i32> {
    match value {
        Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// true/false from a JSON bool, 0/1 or their strings.
fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// An optional id (`null` or absent: none) as a form field.
fn id_field(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        other => int(other).map(|id| id.to_string()),
    }
}

/// Reads DreamFactory's app columns onto `form` (a new app's blank form or a
/// stored one's). `key_prefix` is the stored key's display prefix: reads
/// answer it as `api_key`, so a record read and sent back may carry it;
/// any other `api_key` is refused: a key changes by rolling it. (A new
/// app's own `api_key` is taken before this, by the create.)
pub fn app_onto_form(
    record: &Record,
    form: &mut AppForm,
    key_prefix: Option<&str>,
) -> Result<(), DfError> {
    if let Some(key) = record.get("api_key").filter(|v| !v.is_null())
        && key_prefix.is_none_or(|prefix| key.as_str() != Some(prefix))
    {
        return Err(DfError::invalid([(
            "api_key".to_owned(),
            "keyward generates every API key itself and shows it once; leave api_key out \
             (to change a key, roll it: POST /api/v1/apps/{id}/roll)",
        )]));
    }
    let mut reader = Reader::new(record);
    reader.set("name", text, &mut form.name);
    reader.set("description", text, &mut form.description);
    reader.set(
        "type",
        |v| int(v).map(|t| t.to_string()),
        &mut form.location,
    );
    reader.set("url", text, &mut form.url);
    reader.set("storage_service_id", id_field, &mut form.storage_service_id);
    reader.set("storage_container", text, &mut form.storage_container);
    reader.set("role_id", id_field, &mut form.role_id);
    // `path` is the launch path of a file-storage app and the path of one on
    // this web server, as in DreamFactory's one column.
    if form.location.trim() == "1" {
        reader.set("path", text, &mut form.launch_path);
    } else {
        reader.set("path", text, &mut form.web_path);
    }
    reader.set_active(&mut form.is_active);
    reader.done(app_column)
}

/// The DreamFactory column a field of the app form stands for.
pub fn app_column(form_field: &str) -> String {
    match form_field {
        "location" => "type",
        "launch_path" | "web_path" => "path",
        "key" => "api_key",
        other => other,
    }
    .to_owned()
}

/// A form's errors in DreamFactory's shape, under `column`'s names.
pub fn field_errors(errors: &FieldErrors, column: fn(&str) -> String) -> DfError {
    DfError::invalid(
        errors
            .iter()
            .map(|(field, message)| (column(field), message)),
    )
}

/// Reads DreamFactory's role columns onto `form`.
pub fn role_onto_form(record: &Record, form: &mut RoleForm) -> Result<(), DfError> {
    let mut reader = Reader::new(record);
    reader.set("name", text, &mut form.name);
    reader.set("description", text, &mut form.description);
    reader.set_active(&mut form.is_active);
    reader.done(str::to_owned)
}

/// Reads a record's columns onto a form's fields, noting each of the wrong type.
struct Reader<'r> {
    record: &'r Record,
    errors: FieldErrors,
}

impl<'r> Reader<'r> {
    fn new(record: &'r Record) -> Self {
        Reader {
            record,
            errors: FieldErrors::default(),
        }
    }

    /// `name`, when the record has it, through `read` into `target`.
    fn set(&mut self, name: &'static str, read: fn(&Value) -> Option<String>, target: &mut String) {
        if let Some(value) = self.record.get(name) {
            match read(value) {
                Some(v) => *target = v,
                None => self.errors.add(name, "This value has the wrong type"),
            }
        }
    }

    /// `is_active` as a checkbox field.
    fn set_active(&mut self, target: &mut Option<String>) {
        if let Some(value) = self.record.get("is_active") {
            match flag(value) {
                Some(active) => *target = active.then(|| "true".into()),
                None => self.errors.add("is_active", "Use true or false"),
            }
        }
    }

    fn done(self, column: fn(&str) -> String) -> Result<(), DfError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(field_errors(&self.errors, column))
        }
    }
}

/// A rule as stored: service (`None`: all), component, verb mask.
pub type StoredRule = (Option<i32>, String, i32);

/// What one entry of `role_service_access_by_role_id` asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleChange {
    Add(Record),
    Update(i32, Record),
    Remove(i32),
}

/// The entries of a role record's rules, each read as DreamFactory means
/// it: with `id`, an update; with `id` and `"role_id": null`, a delete;
/// without `id`, a new rule.
pub fn rule_changes(record: &Record) -> Result<Vec<RuleChange>, DfError> {
    let entries = match record.get("role_service_access_by_role_id") {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            return Err(DfError::bad_request(
                "role_service_access_by_role_id must be an array of rules.",
            ));
        }
    };
    entries
        .iter()
        .map(|entry| {
            let Value::Object(entry) = entry else {
                return Err(DfError::bad_request("Each rule must be a JSON object."));
            };
            Ok(match record_id(entry).transpose()? {
                None => RuleChange::Add(entry.clone()),
                Some(id) if entry.get("role_id") == Some(&Value::Null) => RuleChange::Remove(id),
                Some(id) => RuleChange::Update(id, entry.clone()),
            })
        })
        .collect()
}

/// A rule entry as the rule form, over `stored` (a rule being updated) or
/// DreamFactory's defaults (all services, the root, GET). Refuses what
/// keyward cannot enforce: a SCRIPT requestor and row-level filters.
pub fn rule_form(entry: &Record, stored: Option<&StoredRule>) -> Result<RuleForm, DfError> {
    if let Some(mask) = entry.get("requestor_mask").filter(|v| !v.is_null())
        && int(mask) != Some(1)
    {
        return Err(DfError::invalid([(
            "requestor_mask".to_owned(),
            "keyward enforces rules on API requests only (requestor_mask 1); it cannot honour \
             SCRIPT (2), so the rule is refused rather than stored as something else",
        )]));
    }
    match entry.get("filters") {
        None | Some(Value::Null) => {}
        Some(Value::Array(filters)) if filters.is_empty() => {}
        Some(_) => {
            return Err(DfError::invalid([(
                "filters".to_owned(),
                "keyward has no row-level filters; the rule is refused rather than stored \
                 without them",
            )]));
        }
    }
    let (service_id, component, mask) = stored.cloned().unwrap_or((None, String::new(), 1));
    let mut errors = FieldErrors::default();
    let service_id = match entry.get("service_id") {
        None => service_id.map(|id| id.to_string()).unwrap_or_default(),
        Some(value) => id_field(value).unwrap_or_else(|| {
            errors.add("service_id", "Unknown service");
            String::new()
        }),
    };
    let component = match entry.get("component") {
        None => component,
        Some(value) => text(value).unwrap_or_else(|| {
            errors.add("component", "This value has the wrong type");
            String::new()
        }),
    };
    let mask = match entry.get("verb_mask") {
        None => mask,
        Some(value) => int(value)
            .filter(|m| (0..32).contains(m))
            .unwrap_or_else(|| {
                errors.add(
                    "verb_mask",
                    "Use a sum of GET=1 POST=2 PUT=4 PATCH=8 DELETE=16",
                );
                0
            }),
    };
    if !errors.is_empty() {
        return Err(field_errors(&errors, str::to_owned));
    }
    let verb = |bit: i32| (mask & bit != 0).then(|| "on".to_owned());
    Ok(RuleForm {
        service_id,
        component,
        verb_get: verb(1),
        verb_post: verb(2),
        verb_put: verb(4),
        verb_patch: verb(8),
        verb_delete: verb(16),
    })
}

/// A rule form's field as DreamFactory names it.
pub fn rule_column(form_field: &str) -> String {
    match form_field {
        "verbs" => "verb_mask",
        other => other,
    }
    .to_owned()
}

#[cfg(test)]
mod tests;
