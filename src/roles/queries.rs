//! Queries on the `roles` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::domain::NewRole;
use super::rules::{Rule, Verbs};
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

pub fn insert(
    conn: &mut DbConn,
    role: &NewRole,
    admin_id: i32,
    now: NaiveDateTime,
) -> Result<i32, InsertError> {
    diesel::insert_into(roles::table)
        .values((
            roles::name.eq(role.name.as_str()),
            roles::description.eq(&role.description),
            roles::is_active.eq(role.is_active),
            roles::created_at.eq(now),
            roles::updated_at.eq(now),
            roles::created_by_id.eq(admin_id),
            roles::updated_by_id.eq(admin_id),
        ))
        .returning(roles::id)
        .get_result(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                InsertError::NameTaken
            } else {
                InsertError::Db(e)
            }
        })
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
    admin_id: i32,
    now: NaiveDateTime,
) -> Result<bool, InsertError> {
    let result = conn.transaction(|conn| {
        let updated = diesel::update(roles::table.find(id))
            .set((
                roles::name.eq(role.name.as_str()),
                roles::description.eq(&role.description),
                roles::is_active.eq(role.is_active),
                roles::updated_at.eq(now),
                roles::updated_by_id.eq(admin_id),
            ))
            .execute(conn)?;
        changes::bump(conn)?;
        Ok(updated == 1)
    });
    result.map_err(|e| {
        if is_unique_violation(&e) {
            InsertError::NameTaken
        } else {
            InsertError::Db(e)
        }
    })
}

/// Deletes a role; its rules go with it and its apps are left with no role.
pub fn delete(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let deleted = diesel::delete(roles::table.find(id)).execute(conn)?;
        changes::bump(conn)?;
        Ok(deleted == 1)
    })
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
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let result = conn.transaction(|conn| {
        diesel::insert_into(role_rules::table)
            .values((
                role_rules::role_id.eq(role_id),
                role_rules::service_id.eq(rule.service_id),
                role_rules::component.eq(rule.component.as_stored()),
                role_rules::verbs.eq(rule.verbs.bits()),
                role_rules::created_at.eq(now),
            ))
            .execute(conn)?;
        diesel::update(roles::table.find(role_id))
            .set(roles::updated_at.eq(now))
            .execute(conn)?;
        changes::bump(conn)
    });
    match result {
        Ok(()) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn remove_rule(conn: &mut DbConn, role_id: i32, rule_id: i32) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let deleted = diesel::delete(
            role_rules::table
                .filter(role_rules::id.eq(rule_id))
                .filter(role_rules::role_id.eq(role_id)),
        )
        .execute(conn)?;
        changes::bump(conn)?;
        Ok(deleted == 1)
    })
}

/// Every service, for the rule form's select.
pub fn service_choices(conn: &mut DbConn) -> QueryResult<Vec<(i32, String, String)>> {
    services::table
        .order(services::name.asc())
        .select((services::id, services::name, services::label))
        .load(conn)
}
