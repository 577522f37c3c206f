//! The `webhook_deliveries` outbox, and what feeds it: the audit log's app
//! events after a stored position, and keys whose expiry is near or past.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{Event, EventKind};
use crate::db::DbConn;
use crate::schema::{apps, audit_events, webhook_deliveries};

/// Where the webhook has read the audit log to (its settings row).
const POSITION: &str = "webhook_audit_position";

/// Writes the events the outbox does not hold yet, due at once, in one
/// transaction; returns how many. The background work finds a key about to
/// expire every second until it expires: only the first time costs a write.
/// (An instance writing the same event meanwhile is no error: the insert
/// skips it.)
pub fn enqueue_new(conn: &mut DbConn, events: &[Event], now: NaiveDateTime) -> QueryResult<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let present: std::collections::HashSet<String> = webhook_deliveries::table
        .filter(webhook_deliveries::dedup_key.eq_any(events.iter().map(|e| e.dedup_key.as_str())))
        .select(webhook_deliveries::dedup_key)
        .load(conn)?
        .into_iter()
        .collect();
    let new: Vec<&Event> = events
        .iter()
        .filter(|event| !present.contains(&event.dedup_key))
        .collect();
    if new.is_empty() {
        return Ok(0);
    }
    crate::db::write(conn, |conn| {
        let mut inserted = 0;
        for event in new {
            let row = (
                webhook_deliveries::event.eq(event.kind.as_str()),
                webhook_deliveries::app_id.eq(event.app_id),
                webhook_deliveries::app_name.eq(&event.app_name),
                webhook_deliveries::payload.eq(event.payload()),
                webhook_deliveries::dedup_key.eq(&event.dedup_key),
                webhook_deliveries::created_at.eq(now),
                webhook_deliveries::next_attempt_at.eq(Some(now)),
            );
            inserted += crate::db::on_backend!(conn, |conn| diesel::insert_into(
                webhook_deliveries::table
            )
            .values(row)
            .on_conflict(webhook_deliveries::dedup_key)
            .do_nothing()
            .execute(conn))?;
        }
        Ok(inserted)
    })
}

/// The audit log's position the webhook reads from: on first use, the log's
/// end (no history is replayed to a new webhook).
pub fn position(conn: &mut DbConn) -> QueryResult<i32> {
    let end: Option<i32> = audit_events::table
        .select(diesel::dsl::max(audit_events::id))
        .first(conn)?;
    let stored =
        crate::db::settings::get_or_create(conn, POSITION, || end.unwrap_or(0).to_string())?;
    Ok(stored.parse().unwrap_or(0))
}

/// The apps' created, key-rolled and deleted events after `after`, at most
/// `limit`, as webhook events; and the last audit id read.
pub fn audit_events_after(
    conn: &mut DbConn,
    after: i32,
    limit: i64,
) -> QueryResult<(Vec<Event>, Option<i32>)> {
    let rows: Vec<(i32, i32, String, String, NaiveDateTime, String)> = audit_events::table
        .filter(audit_events::id.gt(after))
        .order(audit_events::id.asc())
        .select((
            audit_events::id,
            audit_events::object_id,
            audit_events::object_name,
            audit_events::action,
            audit_events::occurred_at,
            audit_events::admin_email,
        ))
        .filter(audit_events::object_kind.eq("app"))
        .limit(limit)
        .load(conn)?;
    let last = rows.last().map(|row| row.0);
    let events = rows
        .into_iter()
        .filter_map(|(id, app_id, name, action, at, by)| {
            Some(Event {
                kind: EventKind::of_audit(&action)?,
                app_id,
                app_name: name,
                occurred_at: at,
                expires_at: None,
                by: (!by.is_empty()).then_some(by),
                dedup_key: format!("audit:{id}"),
            })
        })
        .collect();
    Ok((events, last))
}

/// Moves the stored position forward to `to`.
pub fn advance_position(conn: &mut DbConn, to: i32) -> QueryResult<()> {
    crate::db::write(conn, |conn| {
        crate::db::settings::set(conn, POSITION, &to.to_string())
    })
}

/// Keys that expire after `now` and by `until` (an `Expiring` event each),
/// and keys that expired in the day before `now` (an `Expired` event each).
pub fn expiry_events(
    conn: &mut DbConn,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<Event>> {
    let rows: Vec<(i32, String, Option<NaiveDateTime>)> = apps::table
        .filter(apps::expires_at.gt(now - chrono::TimeDelta::days(1)))
        .filter(apps::expires_at.le(until))
        .select((apps::id, apps::name, apps::expires_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(app_id, app_name, expires_at)| {
            let expires_at = expires_at?;
            let kind = if expires_at <= now {
                EventKind::Expired
            } else {
                EventKind::Expiring
            };
            let name = if kind == EventKind::Expired {
                "expired"
            } else {
                "expiring"
            };
            Some(Event {
                kind,
                app_id,
                app_name,
                occurred_at: now.min(expires_at),
                expires_at: Some(expires_at),
                by: None,
                dedup_key: format!("{name}:{app_id}:{}", expires_at.and_utc().timestamp()),
            })
        })
        .collect())
}

/// A delivery as the outbox holds it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: i32,
    pub event: String,
    pub app_id: i32,
    pub app_name: String,
    pub payload: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub delivered_at: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
}

/// Deliveries due at `now`, oldest first.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .order(webhook_deliveries::id.asc())
        .select(Delivery::as_select())
        .limit(limit)
        .load(conn)
}

/// Takes a due delivery for this instance until `lease_until`; `false` when
/// another instance took it first.
pub fn claim(
    conn: &mut DbConn,
    delivery: &Delivery,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    crate::db::write(conn, |conn| {
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery.id))
                .filter(webhook_deliveries::attempts.eq(delivery.attempts))
                .filter(webhook_deliveries::next_attempt_at.le(now)),
        )
        .set(webhook_deliveries::next_attempt_at.eq(Some(lease_until)))
        .execute(conn)
        .map(|claimed| claimed == 1)
    })
}

/// What an attempt came to: the receiver's status (2xx: delivered) or why
/// there was none; `next`: when to try again (`None`: delivered or given up).
pub fn record_attempt(
    conn: &mut DbConn,
    id: i32,
    attempts: i32,
    status: Option<u16>,
    error: Option<String>,
    next: Option<NaiveDateTime>,
    delivered_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    crate::db::write(conn, |conn| {
        diesel::update(webhook_deliveries::table.find(id))
            .set((
                webhook_deliveries::attempts.eq(attempts),
                webhook_deliveries::last_status.eq(status.map(i32::from)),
                webhook_deliveries::last_error.eq(error),
                webhook_deliveries::next_attempt_at.eq(next),
                webhook_deliveries::delivered_at.eq(delivered_at),
            ))
            .execute(conn)
            .map(|_| ())
    })
}

/// The latest deliveries, newest first, for the delivery log.
pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .order(webhook_deliveries::id.desc())
        .select(Delivery::as_select())
        .limit(limit)
        .load(conn)
}
