//! The `api_sessions` table: DreamFactory sessions. The look-up joins
//! `admins` on every request, so signing out, an administrator deactivated or
//! deleted, and the expiry take effect on every instance at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::{admins, api_sessions};
use crate::system_api::domain::session::{LIFETIME, SessionAdmin, SessionToken};

/// Stores a new session for `admin_id` (its hash and display prefix only),
/// and forgets the expired ones.
pub fn insert(
    conn: &mut DbConn,
    admin_id: i32,
    token: &SessionToken,
    now: NaiveDateTime,
) -> QueryResult<i32> {
    crate::db::write(conn, |conn| {
        diesel::delete(api_sessions::table.filter(api_sessions::expires_at.le(now)))
            .execute(conn)?;
        diesel::insert_into(api_sessions::table)
            .values((
                api_sessions::admin_id.eq(admin_id),
                api_sessions::token_hash.eq(token.hash()),
                api_sessions::token_prefix.eq(token.display_prefix()),
                api_sessions::created_at.eq(now),
                api_sessions::expires_at.eq(now + LIFETIME),
            ))
            .returning(api_sessions::id)
            .get_result(conn)
    })
}

/// The live session with this hash: not expired, its administrator active.
pub fn find_live(
    conn: &mut DbConn,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<SessionAdmin>> {
    let row: Option<(
        i32,
        i32,
        String,
        String,
        Option<NaiveDateTime>,
        NaiveDateTime,
    )> = api_sessions::table
        .inner_join(admins::table)
        .filter(api_sessions::token_hash.eq(hash))
        .filter(api_sessions::expires_at.gt(now))
        .filter(admins::is_active.eq(true))
        .select((
            api_sessions::id,
            admins::id,
            admins::email,
            admins::name,
            admins::last_login_at,
            api_sessions::expires_at,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(session_id, admin_id, email, name, last_login_at, expires_at)| SessionAdmin {
            session_id,
            admin_id,
            email,
            name,
            last_login_at,
            expires_at,
        },
    ))
}

/// Signs a session out; it stops at once, everywhere.
pub fn delete(conn: &mut DbConn, hash: &str) -> QueryResult<usize> {
    crate::db::write(conn, |conn| {
        diesel::delete(api_sessions::table.filter(api_sessions::token_hash.eq(hash))).execute(conn)
    })
}
