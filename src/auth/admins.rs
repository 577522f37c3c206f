//! Queries on the `admins` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::password::Email;
use crate::audit::{self, Actor, Event, ObjectKind};
use crate::db::{DbConn, is_unique_violation};
use crate::schema::admins;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admins)]
pub struct Admin {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = admins)]
struct NewAdmin<'a> {
    email: &'a str,
    name: &'a str,
    password_hash: &'a str,
    is_active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("an administrator with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Creates an administrator and records it in the audit log, in one
/// transaction (a savepoint inside the caller's, for the setup page).
pub fn create(
    conn: &mut DbConn,
    email: &Email,
    name: &str,
    password_hash: &str,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<i32, CreateError> {
    conn.transaction(|conn| {
        let id = diesel::insert_into(admins::table)
            .values(NewAdmin {
                email: email.as_str(),
                name,
                password_hash,
                is_active: true,
                created_at: now,
                updated_at: now,
            })
            .returning(admins::id)
            .get_result(conn)?;
        if let Some(after) = crate::admins::queries::snapshot(conn, id)? {
            audit::record(
                conn,
                actor,
                now,
                &Event::created(ObjectKind::Admin, id, &after),
            )?;
        }
        Ok(id)
    })
    .map_err(|e| {
        if is_unique_violation(&e) {
            CreateError::EmailTaken
        } else {
            CreateError::Db(e)
        }
    })
}

pub fn any_exist(conn: &mut DbConn) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(admins::table.select(admins::id))).get_result(conn)
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<Admin>> {
    admins::table
        .filter(admins::email.eq(email))
        .select(Admin::as_select())
        .first(conn)
        .optional()
}

/// The admin behind a session, if it still exists and is active.
pub fn find_active(conn: &mut DbConn, id: i32) -> QueryResult<Option<Admin>> {
    admins::table
        .find(id)
        .filter(admins::is_active.eq(true))
        .select(Admin::as_select())
        .first(conn)
        .optional()
}

pub fn record_login(conn: &mut DbConn, id: i32, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(admins::table.find(id))
        .set(admins::last_login_at.eq(now))
        .execute(conn)
        .map(|_| ())
}
