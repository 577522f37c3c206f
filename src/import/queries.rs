//! An import against the database: what keyward holds by name (for the
//! plan), and the plan written in one transaction through each feature's
//! own writes, so every object gets its audit event ("Imported from
//! DreamFactory") and the verification caches hear of every change.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::plan::{self, Action, AdminPlan, AppPlan, RolePlan, RulePlan, Step};
use super::domain::{Existing, Options, Package, Plan, Report};
use crate::admins::queries::{self as admins, CreateError};
use crate::apps::domain::{ApiKey, AppForm, NewApp};
use crate::apps::queries::{self as apps, write::InsertError as AppError};
use crate::db::DbConn;
use crate::db::audit::Actor;
use crate::roles::domain::rules::Rule;
use crate::roles::domain::{NewRole, RoleForm};
use crate::roles::queries::{self as roles, InsertError as RoleError};
use crate::schema;
use crate::services::domain::ServiceKind;
use crate::services::queries::{self as services, WriteError as ServiceError};

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Something changed between the plan and the write (a name taken
    /// meanwhile, say); the whole import was rolled back.
    #[error("{0}; nothing was imported")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Plans the import of `package` and, unless it is a dry run, writes it in
/// one transaction. Either way the answer is the report.
pub fn import(
    conn: &mut DbConn,
    package: &Package,
    options: Options,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Report, ImportError> {
    let actor = actor.clone().importing();
    crate::db::write(conn, |conn| {
        let existing = existing(conn, package)?;
        let plan = plan::plan(package, &existing, options);
        if !options.dry_run {
            apply(conn, &plan, &existing, &actor, now)?;
        }
        Ok(plan.report)
    })
}

/// What keyward holds of what the package names.
fn existing(conn: &mut DbConn, package: &Package) -> QueryResult<Existing> {
    let services = schema::services::table
        .select((
            schema::services::name,
            schema::services::id,
            schema::services::kind,
        ))
        .load::<(String, i32, String)>(conn)?
        .into_iter()
        .map(|(name, id, kind)| (name, (id, kind == ServiceKind::File.as_str())))
        .collect();
    let roles = schema::roles::table
        .select((schema::roles::name, schema::roles::id))
        .load::<(String, i32)>(conn)?
        .into_iter()
        .collect();
    let names: Vec<String> = package
        .apps
        .iter()
        .map(|a| a.name.trim().to_owned())
        .collect();
    let mut apps = HashMap::new();
    for chunk in names.chunks(500) {
        apps.extend(
            schema::apps::table
                .filter(schema::apps::name.eq_any(chunk))
                .select((schema::apps::name, schema::apps::id))
                .load::<(String, i32)>(conn)?,
        );
    }
    let hashes: Vec<String> = package
        .apps
        .iter()
        .filter_map(|a| crate::apps::domain::LegacyKey::parse(a.api_key.trim()))
        .map(|key| key.hash())
        .collect();
    let mut taken_keys = HashSet::new();
    for hash in hashes {
        if apps::write::key_taken(conn, &hash)? {
            taken_keys.insert(hash);
        }
    }
    let admins = schema::admins::table
        .select(schema::admins::email)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    Ok(Existing {
        services,
        roles,
        apps,
        admins,
        taken_keys,
    })
}

/// Writes every step, services first (rules and apps name them), then
/// roles with their rules, apps, administrators.
fn apply(
    conn: &mut DbConn,
    plan: &Plan,
    existing: &Existing,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<(), ImportError> {
    let mut service_ids: HashMap<String, i32> = existing
        .services
        .iter()
        .map(|(name, (id, _))| (name.clone(), *id))
        .collect();
    for Step { action, item } in &plan.services {
        let name = item.name.as_str().to_owned();
        let id = match action {
            Action::Create => services::insert(conn, item, actor, now).map_err(service_refused)?,
            Action::Update(id) => {
                services::update(conn, *id, item, actor, now).map_err(service_refused)?;
                *id
            }
        };
        service_ids.insert(name, id);
    }
    let mut role_ids = existing.roles.clone();
    for step in &plan.roles {
        let (name, id) = write_role(conn, step, &service_ids, actor, now)?;
        role_ids.insert(name, id);
    }
    for step in &plan.apps {
        write_app(conn, step, &role_ids, &service_ids, actor, now)?;
    }
    for Step { item, .. } in &plan.admins {
        write_admin(conn, item, actor, now)?;
    }
    Ok(())
}

fn write_role(
    conn: &mut DbConn,
    Step { action, item }: &Step<RolePlan>,
    service_ids: &HashMap<String, i32>,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<(String, i32), ImportError> {
    let base = match action {
        Action::Create => RoleForm::new_role(),
        Action::Update(id) => {
            let stored = roles::find(conn, *id)?.ok_or_else(|| gone("role", &item.record.name))?;
            RoleForm {
                rate_limits: stored.rate_limits().form_text(),
                ..RoleForm::new_role()
            }
        }
    };
    let role = NewRole::parse(&plan::role_form(&item.record, base))
        .map_err(|_| ImportError::Refused(format!("role “{}” is not valid", item.record.name)))?;
    let id = match action {
        Action::Create => roles::insert(conn, &role, actor, now).map_err(role_refused)?,
        Action::Update(id) => {
            roles::update(conn, *id, &role, actor, now).map_err(role_refused)?;
            *id
        }
    };
    let wanted: Vec<Rule> = item
        .rules
        .iter()
        .map(|rule| resolve_rule(rule, service_ids))
        .collect::<Result<_, _>>()?;
    let mut present: Vec<(i32, Rule)> = match action {
        Action::Create => Vec::new(),
        Action::Update(_) => roles::rules(conn, id)?
            .into_iter()
            .filter_map(|row| Some((row.id, row.rule()?)))
            .collect(),
    };
    for rule in &wanted {
        match present.iter().position(|(_, have)| have == rule) {
            Some(at) => {
                present.remove(at);
            }
            None => {
                roles::add_rule(conn, id, rule, actor, now)?
                    .ok_or_else(|| gone("role", role.name.as_str()))?;
            }
        }
    }
    // What the package's role no longer has (an update only).
    for (rule_id, _) in present {
        roles::remove_rule(conn, id, rule_id, actor, now)?;
    }
    Ok((role.name.as_str().to_owned(), id))
}

fn resolve_rule(rule: &RulePlan, service_ids: &HashMap<String, i32>) -> Result<Rule, ImportError> {
    let service_id = match &rule.service {
        None => None,
        Some(name) => Some(*service_ids.get(name).ok_or_else(|| gone("service", name))?),
    };
    Ok(Rule {
        service_id,
        component: rule.component.clone(),
        verbs: rule.verbs,
    })
}

fn write_app(
    conn: &mut DbConn,
    Step { action, item }: &Step<AppPlan>,
    role_ids: &HashMap<String, i32>,
    service_ids: &HashMap<String, i32>,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<(), ImportError> {
    let role_id = item
        .role
        .as_ref()
        .and_then(|name| role_ids.get(name).copied());
    let storage_id = item
        .storage_service
        .as_ref()
        .and_then(|name| service_ids.get(name).copied());
    let base = match action {
        Action::Create => AppForm::new_app(),
        Action::Update(id) => {
            let stored =
                apps::find(conn, *id)?.ok_or_else(|| gone("application", &item.record.name))?;
            AppForm::from_stored(&stored)
        }
    };
    let app = NewApp::parse(&plan::app_form(item, role_id, storage_id, base)).map_err(|_| {
        ImportError::Refused(format!("application “{}” is not valid", item.record.name))
    })?;
    let written = match (action, &item.key) {
        (Action::Create, Some(key)) => apps::write::insert_legacy(conn, &app, key, actor, now),
        // No key to keep: one nobody sees until the app is rolled.
        (Action::Create, None) => apps::write::insert(conn, &app, &ApiKey::generate(), actor, now),
        (Action::Update(id), _) => apps::write::update(conn, *id, &app, actor, now).map(|_| *id),
    };
    written.map(|_| ()).map_err(|e| match e {
        AppError::Db(e) => ImportError::Db(e),
        refused => ImportError::Refused(format!("application “{}”: {refused}", item.record.name)),
    })
}

fn write_admin(
    conn: &mut DbConn,
    admin: &AdminPlan,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<(), ImportError> {
    admins::create_as(
        conn,
        &admin.email,
        &admin.name,
        &admin.password_hash,
        admin.is_active,
        actor,
        now,
    )
    .map(|_| ())
    .map_err(|e| match e {
        CreateError::Db(e) => ImportError::Db(e),
        refused => {
            ImportError::Refused(format!("administrator {}: {refused}", admin.email.as_str()))
        }
    })
}

fn gone(kind: &str, name: &str) -> ImportError {
    ImportError::Refused(format!("the {kind} “{name}” changed while importing"))
}

fn service_refused(error: ServiceError) -> ImportError {
    match error {
        ServiceError::Db(e) => ImportError::Db(e),
        refused => ImportError::Refused(refused.to_string()),
    }
}

fn role_refused(error: RoleError) -> ImportError {
    match error {
        RoleError::Db(e) => ImportError::Db(e),
        refused => ImportError::Refused(refused.to_string()),
    }
}
