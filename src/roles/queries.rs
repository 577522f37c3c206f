//! Queries on the `roles` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::domain::NewRole;
use super::rules::{Rule, Verbs};
use crate::audit::{self, Action, Actor, Event, FieldChange, ObjectKind, Snapshot, Subject};
use crate::db::{DbConn, changes, is_unique_violation};
use crate::schema::{apps, role_rules, roles, services};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = roles)]
pub struct RoleRow {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
}

/// A role as offered in "Assign a Default Role".
#[derive(Debug, Clone, Queryable)]
pub struct RoleOption {
    pub id: i32,
    pub name: String,
    pub is_active: bool,
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<RoleRow>> {
    roles::table
        .order(roles::name.asc())
        .select(RoleRow::as_select())
        .load(conn)
}

pub fn options(conn: &mut DbConn) -> QueryResult<Vec<RoleOption>> {
    roles::table
        .order(roles::name.asc())
        .select((roles::id, roles::name, roles::is_active))
        .load(conn)
}

pub fn exists(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(roles::table.find(id))).get_result(conn)
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
/// describe a role before changing it first bump the change counter, which
/// takes the write lock (SQLite) or the counter's row lock (PostgreSQL), so
/// nobody changes the role between the reading and the write.
pub fn insert(
    conn: &mut DbConn,
    role: &NewRole,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<i32, InsertError> {
    conn.transaction(|conn| {
        let id = diesel::insert_into(roles::table)
            .values((
                roles::name.eq(role.name.as_str()),
                roles::description.eq(&role.description),
                roles::is_active.eq(role.is_active),
                roles::created_at.eq(now),
                roles::updated_at.eq(now),
                roles::created_by_id.eq(actor.admin_id),
                roles::updated_by_id.eq(actor.admin_id),
            ))
            .returning(roles::id)
            .get_result(conn)?;
        if let Some(after) = snapshot(conn, id)? {
            audit::record(
                conn,
                actor,
                now,
                &Event::created(ObjectKind::Role, id, &after),
            )?;
        }
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
    Ok(find(conn, id)?.map(|role| Snapshot {
        fields: vec![
            ("Name", role.name.clone()),
            ("Description", role.description),
            ("Active", audit::yes_no(role.is_active)),
        ],
        name: role.name,
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
    pub service_label: Option<String>,
    pub service_name: Option<String>,
    pub component: String,
    pub verbs: i32,
}

impl RuleRow {
    pub fn verbs_text(&self) -> String {
        Verbs::from_bits(self.verbs).to_string()
    }
}

pub fn rules(conn: &mut DbConn, role_id: i32) -> QueryResult<Vec<RuleRow>> {
    role_rules::table
        .left_join(services::table)
        .filter(role_rules::role_id.eq(role_id))
        .order(role_rules::id.asc())
        .select((
            role_rules::id,
            services::label.nullable(),
            services::name.nullable(),
            role_rules::component,
            role_rules::verbs,
        ))
        .load(conn)
}

/// Adds a rule. `Ok(false)` when the role or service vanished meanwhile.
pub fn add_rule(
    conn: &mut DbConn,
    role_id: i32,
    rule: &Rule,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let result = conn.transaction(|conn| {
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
        changes::bump(conn)?;
        if let Some(text) = rule_text(conn, role_id, rule_id)? {
            record_rule_change(conn, role_id, Action::RuleAdded, text, actor, now)?;
        }
        Ok(())
    });
    match result {
        Ok(()) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => Ok(false),
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
    conn.transaction(|conn| {
        changes::bump(conn)?;
        let Some(text) = rule_text(conn, role_id, rule_id)? else {
            return Ok(false);
        };
        diesel::delete(role_rules::table.filter(role_rules::id.eq(rule_id))).execute(conn)?;
        record_rule_change(conn, role_id, Action::RuleRemoved, text, actor, now)?;
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
