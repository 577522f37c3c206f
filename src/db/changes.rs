//! The change counter. Every write that can change a verification answer
//! (apps, roles, rules, services) calls [`bump`] inside its transaction; every
//! instance polls [`current`] and drops its verification cache when it moves.

use diesel::prelude::*;

use super::DbConn;
use crate::schema::change_counter;

pub fn bump(conn: &mut DbConn) -> QueryResult<()> {
    diesel::update(change_counter::table.find(1))
        .set(change_counter::version.eq(change_counter::version + 1))
        .execute(conn)
        .map(|_| ())
}

pub fn current(conn: &mut DbConn) -> QueryResult<i64> {
    change_counter::table
        .find(1)
        .select(change_counter::version)
        .first(conn)
}
