//! The `admins` table, and nothing else touches it: creating administrators
//! (from the Admins page, the setup page or the command line), finding them
//! to sign in, and managing them. Every change that could leave keyward
//! without an active administrator checks, in its own transaction, that one
//! is left, and ends the sessions of whoever it deactivates or deletes.

pub mod throttle;
pub mod tokens;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::Email;
use crate::db::audit::{self, Action, Actor, Event, FieldChange, ObjectKind, Snapshot, Subject};
use crate::db::{DbConn, is_unique_violation};
use crate::schema::{admins, settings};
use crate::session::store as session_store;

/// An administrator as stored. `Debug` leaves the password hash out.
#[derive(Clone, Queryable, Selectable)]
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

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = admins)]
struct NewAdminRow<'a> {
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
    create_as(conn, email, name, password_hash, true, actor, now)
}

/// [`create`], active or not (an administrator imported from DreamFactory
/// keeps its `is_active`).
pub fn create_as(
    conn: &mut DbConn,
    email: &Email,
    name: &str,
    password_hash: &str,
    is_active: bool,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<i32, CreateError> {
    crate::db::write(conn, |conn| {
        let id = diesel::insert_into(admins::table)
            .values(NewAdminRow {
                email: email.as_str(),
                name,
                password_hash,
                is_active,
                created_at: now,
                updated_at: now,
            })
            .returning(admins::id)
            .get_result(conn)?;
        audit::record_created(conn, subject(id), actor, now)?;
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
    crate::db::autocommit_write(conn, |conn| {
        diesel::update(admins::table.find(id))
            .set(admins::last_login_at.eq(now))
            .execute(conn)
    })
    .map(|_| ())
}

/// Every administrator, by email.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Admin>> {
    admins::table
        .order(admins::email.asc())
        .select(Admin::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<Admin>> {
    admins::table
        .find(id)
        .select(Admin::as_select())
        .first(conn)
        .optional()
}

/// Administrator `id` for the audit log.
fn subject(id: i32) -> Subject {
    Subject {
        kind: ObjectKind::Admin,
        id,
        snapshot,
    }
}

/// An administrator as the audit log describes them (never the password).
pub fn snapshot(conn: &mut DbConn, id: i32) -> QueryResult<Option<Snapshot>> {
    Ok(find(conn, id)?.map(|admin| Snapshot {
        fields: vec![
            ("Email", admin.email.clone()),
            ("Name", admin.name),
            ("Active", audit::yes_no(admin.is_active)),
        ],
        name: admin.email,
    }))
}

pub fn active_count(conn: &mut DbConn) -> QueryResult<i64> {
    admins::table
        .filter(admins::is_active.eq(true))
        .count()
        .get_result(conn)
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("keyward needs at least one active administrator")]
    LastActiveAdmin,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// The settings row every deactivation and deletion writes first (created by
/// the `sessions_admin` migration).
const ADMINS_CHANGED_AT: &str = "admins_changed_at";

/// Makes deactivations and deletions happen one after another, so that two of
/// them at once (A deactivates B while B deactivates A) cannot both see the
/// other still active and leave nobody. Counting after the change is not
/// enough by itself: on PostgreSQL (read committed) neither transaction sees
/// the other's uncommitted change. Both therefore first write one shared row:
/// on PostgreSQL the second waits for the first's row lock until it commits,
/// and then counts what the first committed; on SQLite the transaction (a
/// [`crate::db::write`]) holds the write lock from its start anyway.
fn serialise_admin_changes(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<()> {
    let updated = diesel::update(settings::table.find(ADMINS_CHANGED_AT))
        .set(settings::value.eq(now.to_string()))
        .execute(conn)?;
    if updated == 0 {
        // Only if someone removed the row: recreate it. Two such inserts at
        // once still cannot both pass: the second waits for the first and then
        // fails, changing nothing.
        crate::db::settings::insert_new(conn, ADMINS_CHANGED_AT, &now.to_string())?;
    }
    Ok(())
}

/// Refuses (and so rolls back) a change that left no active administrator.
fn ensure_an_active_admin(conn: &mut DbConn) -> Result<(), ChangeError> {
    if active_count(conn)? == 0 {
        return Err(ChangeError::LastActiveAdmin);
    }
    Ok(())
}

/// Activates or deactivates an administrator; deactivating ends their
/// sessions. Returns their email, or `None` when there is no such admin.
pub fn set_active(
    conn: &mut DbConn,
    id: i32,
    active: bool,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Option<String>, ChangeError> {
    crate::db::write(conn, |conn| {
        serialise_admin_changes(conn, now)?;
        let Some(before) = snapshot(conn, id)? else {
            return Ok(None);
        };
        diesel::update(admins::table.find(id))
            .set((admins::is_active.eq(active), admins::updated_at.eq(now)))
            .execute(conn)?;
        if !active {
            ensure_an_active_admin(conn)?;
            session_store::delete_for_admin(conn, id)?;
        }
        if let Some(after) = snapshot(conn, id)? {
            let event = Event::updated(ObjectKind::Admin, id, &before, &after);
            audit::record_if(conn, actor, now, event)?;
        }
        Ok(Some(before.name))
    })
}

/// Deletes an administrator and their sessions. What they created stays, with
/// no creator (the foreign keys are `ON DELETE SET NULL`). Returns their
/// email, or `None` when there is no such admin.
pub fn delete(
    conn: &mut DbConn,
    id: i32,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Option<String>, ChangeError> {
    crate::db::write(conn, |conn| {
        serialise_admin_changes(conn, now)?;
        let Some(before) = snapshot(conn, id)? else {
            return Ok(None);
        };
        diesel::delete(admins::table.find(id)).execute(conn)?;
        ensure_an_active_admin(conn)?;
        session_store::delete_for_admin(conn, id)?;
        audit::record(
            conn,
            actor,
            now,
            &Event::deleted(ObjectKind::Admin, id, &before),
        )?;
        Ok(Some(before.name))
    })
}

/// Replaces a hash imported from DreamFactory with the argon2id hash of the
/// same password, unless the password was changed meanwhile. The password
/// is the same, so sessions stay and the audit log has nothing to say.
pub fn upgrade_password_hash(
    conn: &mut DbConn,
    id: i32,
    old_hash: &str,
    new_hash: &str,
) -> QueryResult<()> {
    diesel::update(
        admins::table
            .find(id)
            .filter(admins::password_hash.eq(old_hash)),
    )
    .set(admins::password_hash.eq(new_hash))
    .execute(conn)
    .map(|_| ())
}

/// Stores a new password hash and ends every session of that administrator,
/// in one transaction. `Ok(false)` when the admin no longer exists.
pub fn change_password(
    conn: &mut DbConn,
    id: i32,
    password_hash: &str,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    crate::db::write(conn, |conn| {
        let updated = diesel::update(admins::table.find(id))
            .set((
                admins::password_hash.eq(password_hash),
                admins::updated_at.eq(now),
            ))
            .execute(conn)?;
        if updated == 0 {
            return Ok(false);
        }
        session_store::delete_for_admin(conn, id)?;
        if let Some(admin) = snapshot(conn, id)? {
            // That it changed, never what to.
            let event = Event {
                kind: ObjectKind::Admin,
                object_id: id,
                object_name: admin.name,
                action: Action::PasswordChanged,
                changes: vec![FieldChange {
                    field: "Password".into(),
                    before: None,
                    after: Some("changed; other sessions ended".into()),
                }],
            };
            audit::record(conn, actor, now, &event)?;
        }
        Ok(true)
    })
}
