//! Services and roles, with the rules keyward can honour.

use std::collections::HashSet;

use super::steps::{
    Action, Existing, Options, Plan, RoleIds, RolePlan, RulePlan, ServiceIds, Step,
};
use crate::import::domain::package::Package;
use crate::import::domain::records::{RoleRecord, RuleRecord, ServiceRecord};
use crate::import::domain::report::{Kind, Line, Outcome};
use crate::roles::domain::rules::{Component, Verbs};
use crate::roles::domain::{NewRole, RoleForm};
use crate::services::domain::{NewService, ServiceForm, ServiceKind};

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

pub(super) fn plan_services(
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

pub(super) fn plan_roles(
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
