//! Apps: their fields, role and storage service by name, and their keys.

use std::collections::{HashMap, HashSet};

use super::steps::{
    Action, AppPlan, Existing, Options, PUBLIC_KEY_APPS, Plan, RoleIds, ServiceIds, Step,
};
use crate::apps::domain::{AppForm, LegacyKey, NewApp};
use crate::import::domain::package::Package;
use crate::import::domain::records::AppRecord;
use crate::import::domain::report::{Kind, Line, Outcome};

/// The app form a DreamFactory app record fills over `base` (whose keyward
/// fields, expiry, addresses, limits, stay). Its role and storage service
/// are keyward's ids, or placeholders while planning.
pub fn app_form(
    plan: &AppPlan,
    role_id: Option<i32>,
    storage_service_id: Option<i32>,
    base: AppForm,
) -> AppForm {
    let record = &plan.record;
    let mut form = AppForm {
        name: record.name.clone(),
        description: record.description.clone(),
        is_active: plan.is_active.then(|| "true".into()),
        role_id: role_id.map(|id| id.to_string()).unwrap_or_default(),
        ..base
    };
    match (record.kind, storage_service_id) {
        (1, Some(service_id)) => {
            form.location = "1".into();
            form.storage_service_id = service_id.to_string();
            form.storage_container = record.storage_container.clone();
            form.launch_path = record.path.clone();
        }
        (2, _) => {
            form.location = "2".into();
            form.url = record.url.clone();
        }
        (3, _) => {
            form.location = "3".into();
            form.web_path = record.path.clone();
        }
        _ => form.location = "0".into(),
    }
    form
}

pub(super) fn plan_apps(
    package: &Package,
    existing: &Existing,
    options: Options,
    services: &ServiceIds,
    roles: &RoleIds,
    plan: &mut Plan,
) {
    let mut seen = HashSet::new();
    let mut keys_seen: HashMap<String, String> = HashMap::new();
    for record in &package.apps {
        let name = record.name.trim().to_owned();
        let mut line = Line::new(Kind::App, &name);
        if !seen.insert(name.clone()) {
            line.outcome = Outcome::not_imported("it appears twice in the package");
            plan.report.lines.push(line);
            continue;
        }
        let found = existing.apps.get(&name).copied();
        if found.is_some() && !options.update {
            line.outcome = Outcome::Exists;
            plan.report.lines.push(line);
            continue;
        }
        let mut app = AppPlan {
            record: record.clone(),
            is_active: record.is_active,
            role: None,
            storage_service: None,
            key: None,
        };
        let public = PUBLIC_KEY_APPS.contains(&name.as_str());
        if public && record.is_active && !options.keep_public_keys {
            app.is_active = false;
            line.notes.push(
                "DreamFactory ships this app with a publicly known key: imported inactive (--keep-public-keys keeps it active)".into(),
            );
        }
        if let Some(role_id) = record.role_id {
            match roles.get(&role_id) {
                Some(role) => app.role = Some(role.clone()),
                None => line.notes.push(format!(
                    "its role (id {role_id}) is not in the package or not imported: imported without a role, so its key allows nothing"
                )),
            }
        }
        if record.kind == 1 {
            match record.storage_service_id.and_then(|id| services.get(&id)) {
                Some((service, true)) => app.storage_service = Some(service.clone()),
                _ => line.notes.push(
                    "its storage service is not a file storage service in the package: imported with No Storage Required".into(),
                ),
            }
        }
        let placeholder = |named: &Option<String>| named.as_ref().map(|_| 1);
        let form = app_form(
            &app,
            placeholder(&app.role),
            placeholder(&app.storage_service),
            AppForm::new_app(),
        );
        if let Err(errors) = NewApp::parse(&form) {
            line.outcome = Outcome::invalid(&errors);
            plan.report.lines.push(line);
            continue;
        }
        match found {
            Some(_) => line.notes.push("its key stays the one keyward has".into()),
            None => {
                app.key = plan_key(record, &name, existing, &mut keys_seen, &mut line.notes);
                if public && !app.is_active && app.key.is_some() {
                    // Not "keeps working": the note above says why it does not.
                    line.notes.pop();
                }
            }
        }
        let action = found.map_or(Action::Create, Action::Update);
        line.outcome = action.outcome();
        plan.apps.push(Step { action, item: app });
        plan.report.lines.push(line);
    }
}

/// The app's DreamFactory key, when it can keep it.
fn plan_key(
    record: &AppRecord,
    name: &str,
    existing: &Existing,
    keys_seen: &mut HashMap<String, String>,
    notes: &mut Vec<String>,
) -> Option<LegacyKey> {
    let new_key = "it is given a new key (roll it on its page to see one)";
    let Some(key) = LegacyKey::parse(record.api_key.trim()) else {
        notes.push(format!(
            "it has no DreamFactory key of 64 or more letters and digits: {new_key}"
        ));
        return None;
    };
    let hash = key.hash();
    if let Some(other) = keys_seen.get(&hash) {
        notes.push(format!(
            "its DreamFactory key is also the key of “{other}” in the package: {new_key}"
        ));
        return None;
    }
    if existing.taken_keys.contains(&hash) {
        notes.push(format!(
            "its DreamFactory key is already an application's key in keyward: {new_key}"
        ));
        return None;
    }
    keys_seen.insert(hash, name.to_owned());
    notes.push("its DreamFactory key keeps working (stored as its SHA-256 only)".into());
    Some(key)
}
