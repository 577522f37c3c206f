//! The `login_throttle` table: failed sign-ins counted per account and per
//! address, shared by every instance (the rules are in `domain::throttle`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::admins::domain::throttle::{LOCKOUT, Subjects, WINDOW};
use crate::db::{DbConn, is_unique_violation};
use crate::schema::login_throttle;

/// When the attempt may be made again, if it is refused now.
pub fn locked_until(
    conn: &mut DbConn,
    subjects: &Subjects,
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    let mut until: Option<NaiveDateTime> = None;
    for (subject, _) in subjects.each() {
        let locked: Option<Option<NaiveDateTime>> = login_throttle::table
            .find(subject)
            .select(login_throttle::locked_until)
            .first(conn)
            .optional()?;
        if let Some(Some(at)) = locked
            && at > now
        {
            until = Some(until.map_or(at, |u| u.max(at)));
        }
    }
    Ok(until)
}

#[derive(Queryable)]
struct Row {
    failures: i32,
    window_started_at: NaiveDateTime,
}

/// Counts one failed sign-in against the account and the address.
pub fn record_failure(
    conn: &mut DbConn,
    subjects: &Subjects,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::db::autocommit_write(conn, |conn| {
        for (subject, limit) in subjects.each() {
            record_one(conn, subject, limit, now)?;
        }
        // Forgotten failures go, so guessing at made-up emails cannot grow the table.
        diesel::delete(
            login_throttle::table
                .filter(login_throttle::window_started_at.lt(now - WINDOW))
                .filter(
                    login_throttle::locked_until
                        .is_null()
                        .or(login_throttle::locked_until.lt(now)),
                ),
        )
        .execute(conn)?;
        Ok(())
    })
}

/// Read, then a conditional write that only lands if nobody else counted in
/// between (another request or instance); portable to both backends and
/// never loses a count.
fn record_one(conn: &mut DbConn, subject: &str, limit: i32, now: NaiveDateTime) -> QueryResult<()> {
    let lock = |failures: i32| (failures >= limit).then_some(now + LOCKOUT);
    for _ in 0..10 {
        let row: Option<Row> = login_throttle::table
            .find(subject)
            .select((login_throttle::failures, login_throttle::window_started_at))
            .first(conn)
            .optional()?;
        let Some(row) = row else {
            match diesel::insert_into(login_throttle::table)
                .values((
                    login_throttle::subject.eq(subject),
                    login_throttle::failures.eq(1),
                    login_throttle::window_started_at.eq(now),
                    login_throttle::locked_until.eq(lock(1)),
                ))
                .execute(conn)
            {
                Err(e) if is_unique_violation(&e) => continue,
                other => return other.map(|_| ()),
            }
        };
        let (failures, started) = if row.window_started_at + WINDOW <= now {
            (1, now)
        } else {
            (row.failures.saturating_add(1), row.window_started_at)
        };
        let updated = diesel::update(
            login_throttle::table
                .find(subject)
                .filter(login_throttle::failures.eq(row.failures))
                .filter(login_throttle::window_started_at.eq(row.window_started_at)),
        )
        .set((
            login_throttle::failures.eq(failures),
            login_throttle::window_started_at.eq(started),
            login_throttle::locked_until.eq(lock(failures)),
        ))
        .execute(conn)?;
        if updated == 1 {
            return Ok(());
        }
    }
    // Ten lost races in a row: the failures of the others were counted.
    Ok(())
}

/// A successful sign-in forgets its account's failures.
pub fn record_success(conn: &mut DbConn, subjects: &Subjects) -> QueryResult<()> {
    crate::db::autocommit_write(conn, |conn| {
        diesel::delete(login_throttle::table.find(subjects.account())).execute(conn)
    })
    .map(|_| ())
}
