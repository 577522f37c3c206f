//! Writing the audit log: who changed what, when and from where. (The Audit
//! page, `crate::audit`, reads it.)
//!
//! Every write to apps, keys, roles, rules, services and administrators calls
//! [`record`] inside its own transaction, so an event exists exactly when its
//! change was committed: a refused or failed change rolls its event back with
//! it. To describe a change, a write reads the object's [`Snapshot`] before
//! and after itself, in the same transaction and after its first write (the
//! change lock, `db::changes::lock`: SQLite's write lock, and on PostgreSQL the
//! change counter's row lock), so no other writer can slip in between the two
//! readings.
//!
//! Events hold field values as the console shows them (role and service names,
//! "yes"/"no"), never a key or a password: a key appears only as its display
//! prefix, a password change only as the fact that it happened.

mod event;

use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use self::event::{Action, Event, FieldChange, ObjectKind, Snapshot, diff, yes_no};
use crate::db::DbConn;
use crate::db::changes::{self, Change};
use crate::schema::audit_events;

/// Who makes a change, and from which address.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `None` for the command line and the first-run setup page.
    pub admin_id: Option<i32>,
    /// The administrator's email, or what acted for lack of one.
    pub admin_email: String,
    /// The client's IP address as keyward saw it (a proxy's, behind one).
    pub address: String,
    /// The admin API token the administrator acted through, by name.
    pub via_token: Option<String>,
    /// Creating from a DreamFactory package: what it creates is recorded as
    /// imported rather than created.
    pub importing: bool,
}

impl Actor {
    /// `keyward admin create` on the server's own command line.
    pub fn command_line() -> Actor {
        Actor::local(None, "keyward admin create")
    }

    /// A program run on the server itself (the command line, the benchmark
    /// loaders), acting for `admin_id` when it names one.
    pub fn local(admin_id: Option<i32>, program: &str) -> Actor {
        Actor {
            admin_id,
            admin_email: program.to_owned(),
            address: "command line".into(),
            via_token: None,
            importing: false,
        }
    }

    /// The one-time setup page, before any administrator exists.
    /// This actor, importing from DreamFactory.
    pub fn importing(self) -> Actor {
        Actor {
            importing: true,
            ..self
        }
    }

    pub fn setup(address: String) -> Actor {
        Actor {
            admin_id: None,
            admin_email: "first-run setup".into(),
            address,
            via_token: None,
            importing: false,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewEvent<'a> {
    occurred_at: NaiveDateTime,
    admin_id: Option<i32>,
    admin_email: &'a str,
    address: &'a str,
    object_kind: &'a str,
    object_id: i32,
    object_name: &'a str,
    action: &'a str,
    changes: String,
    via_token: Option<&'a str>,
}

/// Writes one event. Call it inside the transaction that makes the change.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    now: NaiveDateTime,
    event: &Event,
) -> QueryResult<()> {
    let changes = serde_json::to_string(&event.changes)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::insert_into(audit_events::table)
        .values(NewEvent {
            occurred_at: now,
            admin_id: actor.admin_id,
            admin_email: &actor.admin_email,
            address: &actor.address,
            object_kind: event.kind.as_str(),
            object_id: event.object_id,
            object_name: &event.object_name,
            action: event.action.as_str(),
            changes,
            via_token: actor.via_token.as_deref(),
        })
        .execute(conn)
        .map(|_| ())
}

/// Records the creation of `subject`, with every field it was created with:
/// call it in the creating transaction, after the insert.
pub fn record_created(
    conn: &mut DbConn,
    subject: Subject,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let Subject { kind, id, snapshot } = subject;
    match snapshot(conn, id)? {
        Some(after) => {
            let mut event = Event::created(kind, id, &after);
            if actor.importing {
                event.action = Action::Imported;
            }
            record(conn, actor, now, &event)
        }
        None => Ok(()),
    }
}

/// Records `event` when there is one (an unchanged edit records nothing).
pub fn record_if(
    conn: &mut DbConn,
    actor: &Actor,
    now: NaiveDateTime,
    event: Option<Event>,
) -> QueryResult<()> {
    match event {
        Some(event) => record(conn, actor, now, &event),
        None => Ok(()),
    }
}

/// An object that changes: its kind, its id and how to read it.
#[derive(Clone, Copy)]
pub struct Subject {
    pub kind: ObjectKind,
    pub id: i32,
    pub snapshot: fn(&mut DbConn, i32) -> QueryResult<Option<Snapshot>>,
}

/// Runs `write` on `subject` between two readings of it, in one transaction,
/// and records what changed as `action` (an edit that changed nothing records
/// nothing; a deletion records every field the object had), and tells the
/// verification caches what the change made stale (`db::changes`). The
/// transaction ([`crate::db::write`]) starts with the change lock: on SQLite
/// the write lock, on PostgreSQL the counter's row lock, so no other writer changes
/// the object between the readings and the write. Returns the object's name
/// before the change, `None` when it does not exist.
pub fn record_change<E: From<diesel::result::Error>>(
    conn: &mut DbConn,
    subject: Subject,
    action: Action,
    actor: &Actor,
    now: NaiveDateTime,
    write: impl FnOnce(&mut DbConn) -> Result<(), E>,
) -> Result<Option<String>, E> {
    let Subject { kind, id, snapshot } = subject;
    crate::db::write(conn, |conn| {
        changes::lock(conn)?;
        let Some(before) = snapshot(conn, id)? else {
            return Ok(None);
        };
        // Read before the write: a roll or a deletion takes the old key hashes
        // and a service's rules with it.
        let stale = stale_by(conn, kind, id, action)?;
        write(conn)?;
        changes::record(conn, &stale)?;
        let after = snapshot(conn, id)?;
        let event = match (action, &after) {
            (Action::Updated, Some(after)) => Event::updated(kind, id, &before, after),
            (action, after) => Some(Event::between(
                kind,
                id,
                action,
                Some(&before),
                after.as_ref(),
            )),
        };
        record_if(conn, actor, now, event)?;
        Ok(Some(before.name))
    })
}

/// What a change to an object of `kind` makes stale in the verification caches.
fn stale_by(
    conn: &mut DbConn,
    kind: ObjectKind,
    id: i32,
    action: Action,
) -> QueryResult<Vec<Change>> {
    match kind {
        ObjectKind::App => changes::of_app(conn, id),
        ObjectKind::Role => Ok(vec![Change::Role(id)]),
        ObjectKind::Service if action == Action::Deleted => changes::of_service_deletion(conn, id),
        ObjectKind::Service => Ok(vec![Change::Service(id)]),
        // Administrators and their tokens verify nothing.
        ObjectKind::Admin | ObjectKind::Token => Ok(vec![]),
    }
}
