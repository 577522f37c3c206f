//! Queries on the `roles` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::NewRole;
use crate::db::{DbConn, is_unique_violation};
use crate::schema::roles;

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
    roles::table.order(roles::name.asc()).select(RoleRow::as_select()).load(conn)
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

pub fn insert(conn: &mut DbConn, role: &NewRole, admin_id: i32, now: NaiveDateTime) -> Result<i32, InsertError> {
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
        .map_err(|e| if is_unique_violation(&e) { InsertError::NameTaken } else { InsertError::Db(e) })
}
