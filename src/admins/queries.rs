//! Queries for managing administrators. Every change that could leave keyward
//! without an active administrator checks, in its own transaction, that one is
//! left, and ends the sessions of whoever it deactivates or deletes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit::{self, Action, Actor, Event, FieldChange, ObjectKind, Snapshot};
use crate::db::DbConn;
use crate::schema::{admins, settings};
use crate::session_store;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admins)]
pub struct AdminRow {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<AdminRow>> {
    admins::table
        .order(admins::email.asc())
        .select(AdminRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<AdminRow>> {
    admins::table
        .find(id)
        .select(AdminRow::as_select())
        .first(conn)
        .optional()
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
/// and then counts what the first committed; on SQLite that write is the
/// transaction's first statement, so the second waits (busy_timeout) for the
/// write lock before it has read anything.
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
    conn.transaction(|conn| {
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
    conn.transaction(|conn| {
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

/// Stores a new password hash and ends every session of that administrator,
/// in one transaction. `Ok(false)` when the admin no longer exists.
pub fn change_password(
    conn: &mut DbConn,
    id: i32,
    password_hash: &str,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
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
