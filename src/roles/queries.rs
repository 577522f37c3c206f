//! The `roles` and `role_rules` tables. Every write runs in one transaction
//! with its audit event and, where keys may have the role, the change that
//! makes their cached grants stale (`Change::Role`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::domain::NewRole;
use super::domain::rules::{Component, Rule, Verbs};
use crate::db::audit::{self, Action, Actor, Event, FieldChange, ObjectKind, Snapshot, Subject};
use crate::db::changes::{self, Change};
use crate::db::{DbConn, is_unique_violation};
use crate::limits::RateLimits;
use crate::schema::{apps, role_rules, roles, services};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = roles)]
pub struct RoleRow {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
    pub rate_limits: Option<String>,
}

impl RoleRow {
    /// The limits its keys without their own have.
    pub fn rate_limits(&self) -> RateLimits {
        RateLimits::from_stored(self.rate_limits.as_deref())
    }
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<RoleRow>> {
    roles::table
        .order(roles::name.asc())
        .select(RoleRow::as_select())
        .load(conn)
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("a role with this name already exists")]
    NameTaken,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

fn name_taken_or(error: DieselError) -> InsertError {
    if is_unique_violation(&error) {
        InsertError::NameTaken
    } else {
        InsertError::Db(error)
    }
}

/// Every write here runs in one transaction with its audit event. Those that
/// describe a role before changing it first take the change lock, the write
/// lock (SQLite) or the counter's row lock (PostgreSQL), so nobody changes the
/// role between the reading and the write. A new role is no key's yet, so its
/// creation makes nothing stale.
pub fn insert(
    conn: &mut DbConn,
    role: &NewRole,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<i32, InsertError> {
    crate::db::write(conn, |conn| {
        let id = diesel::insert_into(roles::table)
            .values((
                roles::name.eq(role.name.as_str()),
                roles::description.eq(&role.description),
                roles::is_active.eq(role.is_active),
                roles::rate_limits.eq(role.rate_limits.stored()),
                roles::created_at.eq(now),
                roles::updated_at.eq(now),
                roles::created_by_id.eq(actor.admin_id),
                roles::updated_by_id.eq(actor.admin_id),
            ))
            .returning(roles::id)
            .get_result(conn)?;
        audit::record_created(conn, subject(id), actor, now)?;
        Ok(id)
    })
    .map_err(name_taken_or)
}

/// Role `id` for [`audit::record_change`].
fn subject(id: i32) -> Subject {
    Subject {
        kind: ObjectKind::Role,
        id,
        snapshot,
    }
}

/// A role as the audit log describes it (its rules are events of their own).
pub fn snapshot(conn: &mut DbConn, id: i32) -> QueryResult<Option<Snapshot>> {
    Ok(find(conn, id)?.map(|role| {
        let limits = role.rate_limits();
        let limits = if limits.is_empty() {
            "none".into()
        } else {
            limits.describe()
        };
        Snapshot {
            fields: vec![
                ("Name", role.name.clone()),
                ("Description", role.description),
                ("Active", audit::yes_no(role.is_active)),
                ("Default rate limits", limits),
            ],
            name: role.name,
        }
    }))
}

/// A rule in words, e.g. `GET, POST on files/reports/*`, `GET on all services`
/// or `GET on all services, component *`.
fn rule_text(conn: &mut DbConn, role_id: i32, rule_id: i32) -> QueryResult<Option<String>> {
    let rule = role_rules::table
        .left_join(services::table)
        .filter(role_rules::id.eq(rule_id))
        .filter(role_rules::role_id.eq(role_id))
        .select((
            services::name.nullable(),
            role_rules::component,
            role_rules::verbs,
        ))
        .first::<(Option<String>, String, i32)>(conn)
        .optional()?;
    Ok(rule.map(|(service, component, verbs)| {
        let target = match (service, component.as_str()) {
            (None, "") => "all services".to_owned(),
            (None, component) => format!("all services, component {component}"),
            (Some(service), "") => service,
            (Some(service), component) => format!("{service}/{component}"),
        };
        format!("{} on {target}", Verbs::from_bits(verbs))
    }))
}

/// Records a rule added to or removed from a role, named by the role.
fn record_rule_change(
    conn: &mut DbConn,
    role_id: i32,
    action: Action,
    rule: String,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let Some(role) = snapshot(conn, role_id)? else {
        return Ok(());
    };
    let (before, after) = match action {
        Action::RuleRemoved => (Some(rule), None),
        _ => (None, Some(rule)),
    };
    let event = Event {
        kind: ObjectKind::Role,
        object_id: role_id,
        object_name: role.name,
        action,
        changes: vec![FieldChange {
            field: "Rule".into(),
            before,
            after,
        }],
    };
    audit::record(conn, actor, now, &event)
}

pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<RoleRow>> {
    roles::table
        .find(id)
        .select(RoleRow::as_select())
        .first(conn)
        .optional()
}

/// Saves an edited role. `Ok(false)` when the role no longer exists.
pub fn update(
    conn: &mut DbConn,
    id: i32,
    role: &NewRole,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<bool, InsertError> {
    audit::record_change(conn, subject(id), Action::Updated, actor, now, |conn| {
        diesel::update(roles::table.find(id))
            .set((
                roles::name.eq(role.name.as_str()),
                roles::description.eq(&role.description),
                roles::is_active.eq(role.is_active),
                roles::rate_limits.eq(role.rate_limits.stored()),
                roles::updated_at.eq(now),
                roles::updated_by_id.eq(actor.admin_id),
            ))
            .execute(conn)
            .map(|_| ())
    })
    .map(|found| found.is_some())
    .map_err(name_taken_or)
}

/// Deletes a role; its rules go with it and its apps are left with no role.
pub fn delete(conn: &mut DbConn, id: i32, actor: &Actor, now: NaiveDateTime) -> QueryResult<bool> {
    let deleted = audit::record_change(conn, subject(id), Action::Deleted, actor, now, |conn| {
        diesel::delete(roles::table.find(id))
            .execute(conn)
            .map(|_| ())
    })?;
    Ok(deleted.is_some())
}

/// Names of the apps whose default role this is.
pub fn app_names(conn: &mut DbConn, role_id: i32) -> QueryResult<Vec<String>> {
    apps::table
        .filter(apps::role_id.eq(role_id))
        .order(apps::name.asc())
        .select(apps::name)
        .load(conn)
}

/// One rule as the role page shows it.
#[derive(Debug, Clone, Queryable)]
pub struct RuleRow {
    pub id: i32,
    pub service_id: Option<i32>,
    pub service_label: Option<String>,
    pub service_name: Option<String>,
    pub component: String,
    pub verbs: i32,
}

impl RuleRow {
    pub fn verbs_text(&self) -> String {
        Verbs::from_bits(self.verbs).to_string()
    }

    /// The verbs it grants, by name.
    pub fn verb_names(&self) -> Vec<&'static str> {
        Verbs::from_bits(self.verbs).names().collect()
    }

    /// The rule as evaluation sees it (`None` for a stored one that is not
    /// valid, which evaluation skips too).
    pub fn rule(&self) -> Option<Rule> {
        Some(Rule {
            service_id: self.service_id,
            component: Component::parse(&self.component).ok()?,
            verbs: Verbs::from_bits(self.verbs),
        })
    }
}

pub fn rules(conn: &mut DbConn, role_id: i32) -> QueryResult<Vec<RuleRow>> {
    role_rules::table
        .left_join(services::table)
        .filter(role_rules::role_id.eq(role_id))
        .order(role_rules::id.asc())
        .select((
            role_rules::id,
            role_rules::service_id,
            services::label.nullable(),
            services::name.nullable(),
            role_rules::component,
            role_rules::verbs,
        ))
        .load(conn)
}

/// Every role's rules, in the order of [`rules`], with the role's id.
pub fn all_rules(conn: &mut DbConn) -> QueryResult<Vec<(i32, RuleRow)>> {
    role_rules::table
        .left_join(services::table)
        .order((role_rules::role_id.asc(), role_rules::id.asc()))
        .select((
            role_rules::role_id,
            (
                role_rules::id,
                role_rules::service_id,
                services::label.nullable(),
                services::name.nullable(),
                role_rules::component,
                role_rules::verbs,
            ),
        ))
        .load(conn)
}

/// Adds a rule and returns its id; `Ok(None)` when the role or service
/// vanished meanwhile. when the role or service vanished meanwhile.
pub fn add_rule(
    conn: &mut DbConn,
    role_id: i32,
    rule: &Rule,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<Option<i32>> {
    let result = crate::db::write(conn, |conn| {
        let rule_id = diesel::insert_into(role_rules::table)
            .values((
                role_rules::role_id.eq(role_id),
                role_rules::service_id.eq(rule.service_id),
                role_rules::component.eq(rule.component.as_stored()),
                role_rules::verbs.eq(rule.verbs.bits()),
                role_rules::created_at.eq(now),
            ))
            .returning(role_rules::id)
            .get_result::<i32>(conn)?;
        diesel::update(roles::table.find(role_id))
            .set(roles::updated_at.eq(now))
            .execute(conn)?;
        changes::record(conn, &[Change::Role(role_id)])?;
        if let Some(text) = rule_text(conn, role_id, rule_id)? {
            record_rule_change(conn, role_id, Action::RuleAdded, text, actor, now)?;
        }
        Ok(rule_id)
    });
    match result {
        Ok(rule_id) => Ok(Some(rule_id)),
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn remove_rule(
    conn: &mut DbConn,
    role_id: i32,
    rule_id: i32,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    crate::db::write(conn, |conn| {
        changes::lock(conn)?;
        let Some(text) = rule_text(conn, role_id, rule_id)? else {
            return Ok(false);
        };
        diesel::delete(role_rules::table.filter(role_rules::id.eq(rule_id))).execute(conn)?;
        changes::record(conn, &[Change::Role(role_id)])?;
        record_rule_change(conn, role_id, Action::RuleRemoved, text, actor, now)?;
        Ok(true)
    })
}

/// Changes a rule in place (its id stays), for DreamFactory's system API.
/// `Ok(false)` when the role has no such rule; a service that does not exist
/// is a foreign key violation.
pub fn update_rule(
    conn: &mut DbConn,
    role_id: i32,
    rule_id: i32,
    rule: &Rule,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    crate::db::write(conn, |conn| {
        changes::lock(conn)?;
        let Some(before) = rule_text(conn, role_id, rule_id)? else {
            return Ok(false);
        };
        diesel::update(
            role_rules::table
                .filter(role_rules::id.eq(rule_id))
                .filter(role_rules::role_id.eq(role_id)),
        )
        .set((
            role_rules::service_id.eq(rule.service_id),
            role_rules::component.eq(rule.component.as_stored()),
            role_rules::verbs.eq(rule.verbs.bits()),
        ))
        .execute(conn)?;
        diesel::update(roles::table.find(role_id))
            .set(roles::updated_at.eq(now))
            .execute(conn)?;
        changes::record(conn, &[Change::Role(role_id)])?;
        let after = rule_text(conn, role_id, rule_id)?;
        if let Some(role) = snapshot(conn, role_id)?
            && after.as_ref() != Some(&before)
        {
            let event = Event {
                kind: ObjectKind::Role,
                object_id: role_id,
                object_name: role.name,
                action: Action::Updated,
                changes: vec![FieldChange {
                    field: "Rule".into(),
                    before: Some(before),
                    after,
                }],
            };
            audit::record(conn, actor, now, &event)?;
        }
        Ok(true)
    })
}

/// Every service, for the rule form's select.
pub fn service_choices(conn: &mut DbConn) -> QueryResult<Vec<(i32, String, String)>> {
    services::table
        .order(services::name.asc())
        .select((services::id, services::name, services::label))
        .load(conn)
}
