//! What an import will do, decided before anything is written: each record
//! of the package becomes a step (create, or update with `--update`), or a
//! line of the report saying why not. Ids are remapped by name, as
//! DreamFactory's own importer does: a rule's or an app's service and role
//! are named here and resolved to keyward's ids when written. Pure: the dry
//! run and the real run share it, so the report of one is the other's.
//! By record: services and roles with their rules ([`roles`]), apps
//! ([`apps`]), administrators ([`admins`]); the steps themselves in [`steps`].

mod admins;
mod apps;
mod roles;
mod steps;

use super::package::Package;
use super::report::Report;

pub use self::apps::app_form;
pub use self::roles::{role_form, service_form};
pub use self::steps::{
    Action, AdminPlan, AppPlan, Existing, Options, PUBLIC_KEY_APPS, Plan, RolePlan, RulePlan, Step,
};

pub fn plan(package: &Package, existing: &Existing, options: Options) -> Plan {
    let mut plan = Plan::default();
    package_notes(package, options, &mut plan.report);
    let services = roles::plan_services(package, existing, options, &mut plan);
    let roles = roles::plan_roles(package, existing, options, &services, &mut plan);
    apps::plan_apps(package, existing, options, &services, &roles, &mut plan);
    if options.with_admins {
        admins::plan_admins(package, existing, &mut plan);
    }
    plan
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
