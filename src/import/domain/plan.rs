//! What an import will do, decided before anything is written: each record
//! of the package becomes a step (create, or update with `--update`), or a
//! line of the report saying why not. Ids are remapped by name, as
//! DreamFactory's own importer does: a rule's or an app's service and role
//! are named here and resolved to keyward's ids when written. Pure: the dry
//! run and the real run share it, so the report of one is the other's.

use std::collections::{HashMap, HashSet};

use super::package::Package;
use super::records::{AdminRecord, AppRecord, RoleRecord, RuleRecord, ServiceRecord};
use super::report::{Kind, Line, Outcome, Report};
use crate::admins::domain::credentials::{self, Email};
use crate::apps::domain::{AppForm, LegacyKey, NewApp};
use crate::roles::domain::rules::{Component, Verbs};
use crate::roles::domain::{NewRole, RoleForm};
use crate::services::domain::{NewService, ServiceForm, ServiceKind};

/// The command line's (and the Import page's) choices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Report without writing.
    pub dry_run: bool,
    /// Update what exists by name instead of skipping it.
    pub update: bool,
    /// Keep DreamFactory's seeded apps active despite their public keys.
    pub keep_public_keys: bool,
    /// Import the administrators of `admin.json`.
    pub with_admins: bool,
}

/// DreamFactory's seeded apps, whose keys are public (one is in the admin
/// UI's source): whoever has seen DreamFactory's code has them.
pub const PUBLIC_KEY_APPS: [&str; 3] = ["admin", "api_docs", "file_manager"];

/// DreamFactory service types whose services store files: they become file
/// storage services (an app can be stored on them).
const FILE_SERVICE_TYPES: [&str; 10] = [
    "local_file",
    "aws_s3",
    "azure_blob",
    "rackspace_cloud_files",
    "openstack_object_storage",
    "ftp_file",
    "sftp_file",
    "webdav_file",
    "gridfs",
    "google_cloud_storage",
];

/// What keyward already holds, by name.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    /// Service name → (id, is file storage).
    pub services: HashMap<String, (i32, bool)>,
    pub roles: HashMap<String, i32>,
    pub apps: HashMap<String, i32>,
    /// Lower-cased emails.
    pub admins: HashSet<String>,
    /// Hashes of the package's keys that some app already has.
    pub taken_keys: HashSet<String>,
}

/// Whether a step creates its object or updates the one of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update(i32),
}

impl Action {
    /// The report's word for it.
    fn outcome(self) -> Outcome {
        match self {
            Action::Create => Outcome::Create,
            Action::Update(_) => Outcome::Update,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Step<T> {
    pub action: Action,
    pub item: T,
}

/// A role to write, with the rules it should have.
#[derive(Debug, Clone)]
pub struct RolePlan {
    pub record: RoleRecord,
    pub rules: Vec<RulePlan>,
}

/// A rule, its service by name (`None`: every service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePlan {
    pub service: Option<String>,
    pub component: Component,
    pub verbs: Verbs,
}

/// An app to write: the fields DreamFactory has, its role and storage
/// service by name, and its key when it keeps it.
#[derive(Debug, Clone)]
pub struct AppPlan {
    pub record: AppRecord,
    pub is_active: bool,
    pub role: Option<String>,
    pub storage_service: Option<String>,
    pub key: Option<LegacyKey>,
}

#[derive(Debug, Clone)]
pub struct AdminPlan {
    pub email: Email,
    pub name: String,
    pub password_hash: String,
    pub is_active: bool,
}

/// Every step of an import, in the order they are written, and its report.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub services: Vec<Step<NewService>>,
    pub roles: Vec<Step<RolePlan>>,
    pub apps: Vec<Step<AppPlan>>,
    pub admins: Vec<Step<AdminPlan>>,
    pub report: Report,
}

pub fn plan(package: &Package, existing: &Existing, options: Options) -> Plan {
    let mut plan = Plan::default();
    package_notes(package, options, &mut plan.report);
    let services = plan_services(package, existing, options, &mut plan);
    let roles = plan_roles(package, existing, options, &services, &mut plan);
    plan_apps(package, existing, options, &services, &roles, &mut plan);
    if options.with_admins {
        plan_admins(package, existing, &mut plan);
    }
    plan
}

/// The package's services that will exist after the import, by their id
/// in the package: (name, is file storage).
type ServiceIds = HashMap<i64, (String, bool)>;
/// The package's roles that will exist after the import, by id: name.
type RoleIds = HashMap<i64, String>;

/// The service form a DreamFactory service record fills (every field of a
/// keyward service is one DreamFactory has).
pub fn service_form(record: &ServiceRecord) -> ServiceForm {
    let label = match record.label.trim() {
        "" => record.name.clone(),
        label => label.to_owned(),
    };
    ServiceForm {
        name: record.name.clone(),
        label,
        description: record.description.clone(),
        kind: service_kind(record).as_str().to_owned(),
        is_active: record.is_active.then(|| "true".into()),
    }
}

fn service_kind(record: &ServiceRecord) -> ServiceKind {
    if FILE_SERVICE_TYPES.contains(&record.kind.trim()) {
        ServiceKind::File
    } else {
        ServiceKind::Api
    }
}

fn plan_services(
    package: &Package,
    existing: &Existing,
    options: Options,
    plan: &mut Plan,
) -> ServiceIds {
    let mut ids = ServiceIds::new();
    let mut seen = HashSet::new();
    for record in &package.services {
        let name = record.name.trim().to_owned();
        let mut line = Line::new(Kind::Service, &name);
        let parsed = NewService::parse(&service_form(record));
        line.outcome = match (parsed, existing.services.get(&name)) {
            _ if !seen.insert(name.clone()) => {
                Outcome::not_imported("it appears twice in the package")
            }
            (Err(errors), _) => Outcome::invalid(&errors),
            (Ok(_), Some(&(_, is_file))) if !options.update => {
                ids.extend(record.id.map(|id| (id, (name.clone(), is_file))));
                Outcome::Exists
            }
            (Ok(service), found) => {
                let action = found.map_or(Action::Create, |&(id, _)| Action::Update(id));
                ids.extend(
                    record
                        .id
                        .map(|id| (id, (name.clone(), service.kind == ServiceKind::File))),
                );
                plan.services.push(Step {
                    action,
                    item: service,
                });
                action.outcome()
            }
        };
        plan.report.lines.push(line);
    }
    ids
}

/// The role form a DreamFactory role record fills over `base` (whose rate
/// limits, which DreamFactory does not have, stay).
pub fn role_form(record: &RoleRecord, base: RoleForm) -> RoleForm {
    RoleForm {
        name: record.name.clone(),
        description: record.description.clone(),
        is_active: record.is_active.then(|| "true".into()),
        ..base
    }
}

fn plan_roles(
    package: &Package,
    existing: &Existing,
    options: Options,
    services: &ServiceIds,
    plan: &mut Plan,
) -> RoleIds {
    let mut ids = RoleIds::new();
    let mut seen = HashSet::new();
    for record in &package.roles {
        let name = record.name.trim().to_owned();
        let mut line = Line::new(Kind::Role, &name);
        let parsed = NewRole::parse(&role_form(record, RoleForm::new_role()));
        line.outcome = match (parsed, existing.roles.get(&name)) {
            _ if !seen.insert(name.clone()) => {
                Outcome::not_imported("it appears twice in the package")
            }
            (Err(errors), _) => Outcome::invalid(&errors),
            (Ok(_), Some(_)) if !options.update => {
                ids.extend(record.id.map(|id| (id, name.clone())));
                Outcome::Exists
            }
            (Ok(_), found) => {
                let action = found.map_or(Action::Create, |&id| Action::Update(id));
                ids.extend(record.id.map(|id| (id, name.clone())));
                let rules = record
                    .role_service_access_by_role_id
                    .iter()
                    .filter_map(|rule| plan_rule(rule, services, &mut line.notes))
                    .collect();
                plan.roles.push(Step {
                    action,
                    item: RolePlan {
                        record: record.clone(),
                        rules,
                    },
                });
                action.outcome()
            }
        };
        plan.report.lines.push(line);
    }
    ids
}

/// A rule keyward can honour, or a note saying why it is left out. A rule is
/// left out rather than imported wider than it was: without its row-level
/// filters, or for API calls when it was for scripts only, it would grant
/// more than DreamFactory did.
fn plan_rule(
    rule: &RuleRecord,
    services: &ServiceIds,
    notes: &mut Vec<String>,
) -> Option<RulePlan> {
    let component = rule.component.trim();
    let what = format!(
        "the rule on {} “{}”",
        rule.service_id
            .map_or("every service".to_owned(), |id| match services.get(&id) {
                Some((name, _)) => format!("service {name}"),
                None => format!("service id {id}"),
            }),
        component
    );
    let filters = rule.filter_count();
    if filters > 0 {
        notes.push(format!(
            "{what} is not imported: it has {filters} row-level filter(s), which keyward cannot enforce, and without them it would allow more"
        ));
        return None;
    }
    if rule.requestor_mask & 1 == 0 {
        notes.push(format!(
            "{what} is not imported: it is for server-side scripts only (requestor SCRIPT), which keyward does not run"
        ));
        return None;
    }
    if rule.requestor_mask & 2 != 0 {
        notes.push(format!(
            "{what}: its SCRIPT access is dropped (keyward runs no scripts); API access is imported"
        ));
    }
    let verbs = Verbs::from_bits((rule.verb_mask & 0b1_1111) as i32);
    if verbs.is_empty() {
        notes.push(format!("{what} is not imported: it allows no verb"));
        return None;
    }
    let service = match rule.service_id {
        None => None,
        Some(id) => match services.get(&id) {
            Some((name, _)) => Some(name.clone()),
            None => {
                notes.push(format!(
                    "{what} is not imported: its service is not in the package (or not imported)"
                ));
                return None;
            }
        },
    };
    match Component::parse(component) {
        Ok(component) => Some(RulePlan {
            service,
            component,
            verbs,
        }),
        Err(why) => {
            notes.push(format!("{what} is not imported: {why}"));
            None
        }
    }
}

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

fn plan_apps(
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

fn plan_admins(package: &Package, existing: &Existing, plan: &mut Plan) {
    let mut seen = HashSet::new();
    for record in package.admins.iter().flatten() {
        let mut line = Line::new(Kind::Admin, record.email.trim());
        line.outcome = match plan_admin(record) {
            Err(why) => Outcome::not_imported(why),
            Ok(admin) if !seen.insert(admin.email.as_str().to_owned()) => {
                Outcome::not_imported("it appears twice in the package")
            }
            Ok(admin) if existing.admins.contains(admin.email.as_str()) => {
                line.notes
                    .push("an import never changes an administrator keyward has".into());
                Outcome::Exists
            }
            Ok(admin) => {
                if !record.user_to_app_to_role_by_user_id.is_empty() {
                    line.notes.push(format!(
                        "its {} per-app role(s) are not imported: every keyward administrator may do everything",
                        record.user_to_app_to_role_by_user_id.len()
                    ));
                }
                line.notes.push(
                    "signs in with their DreamFactory password (rehashed to argon2id at the first sign-in)".into(),
                );
                plan.admins.push(Step {
                    action: Action::Create,
                    item: admin,
                });
                Outcome::Create
            }
        };
        plan.report.lines.push(line);
    }
}

fn plan_admin(record: &AdminRecord) -> Result<AdminPlan, String> {
    let email = Email::parse(&record.email)?;
    if !credentials::is_bcrypt(record.password.trim()) {
        return Err(
            "the package has no bcrypt password for it (create it with `keyward admin create`)"
                .into(),
        );
    }
    let name = crate::text::required_line(&record.display_name(), 100, "Name")?;
    Ok(AdminPlan {
        email,
        name,
        password_hash: record.password.trim().to_owned(),
        is_active: record.is_active,
    })
}

/// What the package holds that keyward does not import, said once.
fn package_notes(package: &Package, options: Options, report: &mut Report) {
    for (resource, count) in &package.other_records {
        let why = match resource.as_str() {
            "user" => "keyward has administrators and keys, no end users",
            "cors" => "set CORS at your proxy or API",
            "email_template" => "keyward sends no email",
            "event_script" => "keyward runs no scripts",
            "limit" => "set rate limits and quotas on the keys or roles instead",
            _ => "keyward has no place for them",
        };
        report.notes.push(format!(
            "{count} record(s) of system/{resource}.json are not imported: {why}"
        ));
    }
    if !package.storage_folders.is_empty() {
        report.notes.push(format!(
            "storage contents are not imported (keyward holds no files): {}",
            package.storage_folders.join(", ")
        ));
    }
    if let Some(admins) = package.admins.as_ref().filter(|a| !a.is_empty())
        && !options.with_admins
    {
        report.notes.push(format!(
            "{} administrator(s) in system/admin.json are not imported (import them with --with-admins)",
            admins.len()
        ));
    }
    if !package.services.is_empty() {
        report.notes.push(
            "services are imported as the names requests are checked against; their connection settings are not read".into(),
        );
    }
}
