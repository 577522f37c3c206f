//! What changes did to verification. Every write that can change a
//! verification answer says, in its own transaction, which cached answers it
//! made stale: a [`Change`], one row of `verify_changes` ([`record`]). Every
//! instance reads the rows after the last one it applied ([`since`]) four
//! times a second and drops just those entries from its cache, so a change
//! costs the cached answers it does not touch nothing but the poll.
//!
//! Order: rows are written under the change lock ([`lock`], a write of the
//! `change_counter` row, so SQLite's write lock or the row's lock on
//! PostgreSQL), which is held until the commit. Ids are therefore handed out
//! in commit order, and an instance that has read id n has seen every change
//! committed before it. Moving the counter itself ([`bump`]) says that
//! anything may have changed: every instance then drops its whole cache, as
//! one does whose place in the log was pruned away ([`prune`]).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use crate::schema::{apps, change_counter, role_rules, verify_changes};

/// What one change made stale in the verification caches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// What the key with this hash grants changed, or it stopped working: an
    /// edit, switch, roll, expiry or deletion of its app.
    AppKey { app_id: i32, key_hash: String },
    /// A role was renamed, switched, given or relieved of rules, or deleted:
    /// the grant of every key with that role.
    Role(i32),
    /// A service was created, renamed, switched or deleted: its own entry,
    /// and every name cached as naming no service.
    Service(i32),
    /// A key with this hash now exists (an imported key, which some instance
    /// may have cached as unknown).
    KeyExists(String),
}

impl Change {
    const APP_KEY: &str = "app_key";
    const ROLE: &str = "role";
    const SERVICE: &str = "service";
    const KEY_EXISTS: &str = "key_exists";

    /// The change as `verify_changes` stores it: kind, object id, key hash.
    fn stored(&self) -> (&'static str, Option<i32>, Option<&str>) {
        match self {
            Change::AppKey { app_id, key_hash } => (Self::APP_KEY, Some(*app_id), Some(key_hash)),
            Change::Role(id) => (Self::ROLE, Some(*id), None),
            Change::Service(id) => (Self::SERVICE, Some(*id), None),
            Change::KeyExists(key_hash) => (Self::KEY_EXISTS, None, Some(key_hash)),
        }
    }

    /// A stored row; `None` for a kind this build does not know (written by a
    /// newer keyward during an upgrade) or a row missing its fields.
    fn from_stored(kind: &str, object_id: Option<i32>, key_hash: Option<String>) -> Option<Change> {
        Some(match kind {
            Self::APP_KEY => Change::AppKey {
                app_id: object_id?,
                key_hash: key_hash?,
            },
            Self::ROLE => Change::Role(object_id?),
            Self::SERVICE => Change::Service(object_id?),
            Self::KEY_EXISTS => Change::KeyExists(key_hash?),
            _ => return None,
        })
    }
}

/// Takes the change lock without saying anything changed. A transaction that
/// reads an object before changing it makes this its first write: on
/// PostgreSQL it takes the counter's row lock, so no other writer changes the
/// object between the reading and the write (on SQLite the transaction, a
/// [`super::write`], holds the write lock from its start).
pub fn lock(conn: &mut DbConn) -> QueryResult<()> {
    diesel::update(change_counter::table.find(1))
        .set(change_counter::version.eq(change_counter::version))
        .execute(conn)
        .map(|_| ())
}

/// Says that anything may have changed: every instance drops its whole
/// verification cache. For a write whose effect no [`Change`] describes.
pub fn bump(conn: &mut DbConn) -> QueryResult<()> {
    diesel::update(change_counter::table.find(1))
        .set(change_counter::version.eq(change_counter::version + 1))
        .execute(conn)
        .map(|_| ())
}

/// Records `changes` in the caller's transaction. Takes the change lock first
/// (again, if the transaction holds it already), so ids follow commit order
/// wherever in a transaction this is called.
pub fn record(conn: &mut DbConn, changes: &[Change]) -> QueryResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    lock(conn)?;
    // Wall-clock time, not the clock expiry is judged by: it only ages rows
    // for pruning.
    let now = chrono::Utc::now().naive_utc();
    // One insert per change (a change writes one to a few): diesel's
    // multi-backend connection has no multi-row insert.
    for change in changes {
        let (kind, object_id, key_hash) = change.stored();
        diesel::insert_into(verify_changes::table)
            .values((
                verify_changes::kind.eq(kind),
                verify_changes::object_id.eq(object_id),
                verify_changes::key_hash.eq(key_hash),
                verify_changes::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Says that a key with this hash now exists; call it in the transaction that
/// writes the key when the key was not made here (an import): a made-up key
/// no instance can have seen, an imported one it may have cached as unknown.
pub fn key_exists(conn: &mut DbConn, key_hash: &str) -> QueryResult<()> {
    record(conn, &[Change::KeyExists(key_hash.to_owned())])
}

/// What a change to app `id` makes stale: the grants of its current and its
/// previous key. Read under the change lock and before the change, so that
/// a roll or a deletion, after which the old hashes are gone, still names them.
pub fn of_app(conn: &mut DbConn, id: i32) -> QueryResult<Vec<Change>> {
    let hashes = apps::table
        .find(id)
        .select((apps::key_hash, apps::previous_key_hash))
        .first::<(String, Option<String>)>(conn)
        .optional()?;
    Ok(hashes
        .into_iter()
        .flat_map(|(current, previous)| std::iter::once(current).chain(previous))
        .map(|key_hash| Change::AppKey {
            app_id: id,
            key_hash,
        })
        .collect())
}

/// What deleting service `id` makes stale: the service, and the grants of the
/// roles that had rules on it (the deletion takes those rules with it). Read
/// before the deletion.
pub fn of_service_deletion(conn: &mut DbConn, id: i32) -> QueryResult<Vec<Change>> {
    let roles: Vec<i32> = role_rules::table
        .filter(role_rules::service_id.eq(id))
        .select(role_rules::role_id)
        .distinct()
        .load(conn)?;
    Ok(std::iter::once(Change::Service(id))
        .chain(roles.into_iter().map(Change::Role))
        .collect())
}

/// Where the log stands: the newest id every instance may take as read, and
/// the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub last_id: i64,
    pub version: i64,
}

/// The current position, for an instance that starts reading the log (or
/// starts over). The counter is read first: a bump after it is seen at the
/// next poll, and a change after the newest id is read then too.
pub fn position(conn: &mut DbConn) -> QueryResult<Position> {
    let (version, pruned_through) = change_counter::table
        .find(1)
        .select((change_counter::version, change_counter::pruned_through))
        .first::<(i64, i64)>(conn)?;
    let newest = verify_changes::table
        .select(diesel::dsl::max(verify_changes::id))
        .first::<Option<i64>>(conn)?;
    Ok(Position {
        last_id: newest.unwrap_or(0).max(pruned_through),
        version,
    })
}

/// The counter and the changes after an id, as one statement reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    pub version: i64,
    /// The newest id pruned away: changes up to it can no longer be read.
    pub pruned_through: i64,
    /// By id; `None` where this build cannot read the change.
    pub changes: Vec<(i64, Option<Change>)>,
}

/// The changes after id `after`, at most `limit` of them, with the counter.
/// One statement, so PostgreSQL reads them all in one snapshot.
pub fn since(conn: &mut DbConn, after: i64, limit: i64) -> QueryResult<Log> {
    type Row = (i64, i64, Option<(i64, String, Option<i32>, Option<String>)>);
    let rows: Vec<Row> = change_counter::table
        .left_join(verify_changes::table.on(verify_changes::id.gt(after)))
        .filter(change_counter::id.eq(1))
        .order(verify_changes::id.asc())
        .limit(limit)
        .select((
            change_counter::version,
            change_counter::pruned_through,
            (
                verify_changes::id,
                verify_changes::kind,
                verify_changes::object_id,
                verify_changes::key_hash,
            )
                .nullable(),
        ))
        .load(conn)?;
    let (version, pruned_through) = rows
        .first()
        .map(|(version, pruned, _)| (*version, *pruned))
        .ok_or(diesel::result::Error::NotFound)?;
    let changes = rows
        .into_iter()
        .filter_map(|(_, _, change)| change)
        .map(|(id, kind, object_id, key_hash)| {
            (id, Change::from_stored(&kind, object_id, key_hash))
        })
        .collect();
    Ok(Log {
        version,
        pruned_through,
        changes,
    })
}

/// Deletes the oldest changes written before `before`, at most `at_most` in
/// one short transaction, and notes how far it pruned. Returns how many went.
pub fn prune(conn: &mut DbConn, before: NaiveDateTime, at_most: i64) -> QueryResult<usize> {
    crate::db::write(conn, |conn| {
        lock(conn)?;
        let ids: Vec<i64> = verify_changes::table
            .filter(verify_changes::created_at.lt(before))
            .order(verify_changes::id.asc())
            .limit(at_most)
            .select(verify_changes::id)
            .load(conn)?;
        let Some(&through) = ids.last() else {
            return Ok(0);
        };
        let deleted = diesel::delete(verify_changes::table.filter(verify_changes::id.le(through)))
            .execute(conn)?;
        diesel::update(change_counter::table.find(1))
            .filter(change_counter::pruned_through.lt(through))
            .set(change_counter::pruned_through.eq(through))
            .execute(conn)?;
        Ok(deleted)
    })
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn changes_are_stored_and_read_back_as_themselves() {
        let hash = "ab".repeat(32);
        for change in [
            Change::AppKey {
                app_id: 7,
                key_hash: hash.clone(),
            },
            Change::Role(3),
            Change::Service(2),
            Change::KeyExists(hash.clone()),
        ] {
            let (kind, object_id, key_hash) = change.stored();
            assert_eq!(
                Change::from_stored(kind, object_id, key_hash.map(str::to_owned)),
                Some(change.clone()),
                "{change:?}"
            );
        }
    }

    #[test]
    fn a_change_this_build_cannot_read_is_none() {
        assert_eq!(Change::from_stored("app_renamed", Some(1), None), None);
        // A row missing the field its kind needs.
        assert_eq!(Change::from_stored("app_key", Some(1), None), None);
        assert_eq!(Change::from_stored("role", None, None), None);
        assert_eq!(Change::from_stored("key_exists", None, None), None);
    }
}
