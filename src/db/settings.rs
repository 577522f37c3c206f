//! Named instance-wide values in the `settings` table.

use diesel::prelude::*;

use super::{DbConn, is_unique_violation};
use crate::schema::settings;

pub fn get(conn: &mut DbConn, name: &str) -> QueryResult<Option<String>> {
    settings::table
        .find(name)
        .select(settings::value)
        .first(conn)
        .optional()
}

/// Inserts `name` if it is absent. Returns false when it already existed
/// (another instance, or another request, got there first).
pub fn insert_new(conn: &mut DbConn, name: &str, value: &str) -> QueryResult<bool> {
    match diesel::insert_into(settings::table)
        .values((settings::name.eq(name), settings::value.eq(value)))
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Sets `name` to `value`, creating it if absent.
pub fn set(conn: &mut DbConn, name: &str, value: &str) -> QueryResult<()> {
    let updated = diesel::update(settings::table.find(name))
        .set(settings::value.eq(value))
        .execute(conn)?;
    if updated == 0 {
        insert_new(conn, name, value)?;
    }
    Ok(())
}

/// The value of `name`, created with `make` when absent. Safe when several
/// instances start at once: whoever inserts first wins and all read that value.
pub fn get_or_create(
    conn: &mut DbConn,
    name: &str,
    make: impl FnOnce() -> String,
) -> QueryResult<String> {
    if let Some(value) = get(conn, name)? {
        return Ok(value);
    }
    insert_new(conn, name, &make())?;
    settings::table
        .find(name)
        .select(settings::value)
        .first(conn)
}
