//! The `usage_counts` table: adding what an instance counted (to its hour
//! and its day), reading a series, and retention (old hours deleted a day at
//! a time, old days deleted).

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::{DAY, HOUR, Key, Range};
use crate::db::DbConn;
use crate::schema::usage_counts;

/// Adds counts to the stored ones, each to its hour's row and its day's, in
/// one statement: the rows to add are summed first (the hours of one day
/// share its row, and one statement may touch a row only once), then
/// upserted together. One statement, parsed once, rather than two for each
/// count: with many keys in use, preparing those was most of the write.
pub fn add(conn: &mut DbConn, counts: &[(Key, u64)]) -> QueryResult<()> {
    let mut summed: BTreeMap<(i32, i32, i64, &str), i64> = BTreeMap::new();
    for ((app_id, hour, code), n) in counts {
        let n = i64::try_from(*n).unwrap_or(i64::MAX);
        let day = hour - hour.rem_euclid(DAY);
        for (size, start) in [(HOUR, *hour), (DAY, day)] {
            let row = summed
                .entry((*app_id, size as i32, start, code))
                .or_insert(0);
            *row = row.saturating_add(n);
        }
    }
    if summed.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = summed
        .into_iter()
        .map(|((app_id, size, start, code), n)| {
            (
                usage_counts::app_id.eq(app_id),
                usage_counts::bucket_seconds.eq(size),
                usage_counts::bucket_start.eq(start),
                usage_counts::code.eq(code),
                usage_counts::count.eq(n),
            )
        })
        .collect();
    crate::db::write(conn, |conn| {
        crate::db::on_backend!(conn, |conn| diesel::insert_into(usage_counts::table)
            .values(&rows)
            .on_conflict((
                usage_counts::app_id,
                usage_counts::bucket_seconds,
                usage_counts::bucket_start,
                usage_counts::code,
            ))
            .do_update()
            .set(usage_counts::count.eq(usage_counts::count + excluded(usage_counts::count)))
            .execute(conn))?;
        Ok(())
    })
}

/// Whose requests a series counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Whose {
    App(i32),
    /// Every request, whatever its key (the [`super::ALL`] rows).
    All,
}

/// The stored counts in `range` as `(bucket start, code, count)`, from the
/// rows of the range's granularity: one key's primary-key range, or the
/// [`super::ALL`] rows.
pub fn rows(
    conn: &mut DbConn,
    whose: Whose,
    range: &Range,
) -> QueryResult<Vec<(i64, String, u64)>> {
    let app_id = match whose {
        Whose::App(id) => id,
        Whose::All => super::ALL,
    };
    let rows: Vec<(i64, String, i64)> = usage_counts::table
        .filter(usage_counts::app_id.eq(app_id))
        .filter(usage_counts::bucket_seconds.eq(range.granularity.seconds() as i32))
        .filter(usage_counts::bucket_start.ge(range.from))
        .filter(usage_counts::bucket_start.lt(range.to))
        .select((
            usage_counts::bucket_start,
            usage_counts::code,
            usage_counts::count,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(start, code, count)| (start, code, count.max(0) as u64))
        .collect())
}

/// Deletes the hourly rows before `before` (an hour's start) of the oldest
/// day that has any, in one short transaction (their day's row holds them
/// already); returns whether there were any (call again until there are
/// none).
pub fn prune_hours_of_one_day(conn: &mut DbConn, before: i64) -> QueryResult<bool> {
    let before = before - before.rem_euclid(HOUR);
    let oldest: Option<i64> = usage_counts::table
        .filter(usage_counts::bucket_seconds.eq(HOUR as i32))
        .filter(usage_counts::bucket_start.lt(before))
        .select(diesel::dsl::min(usage_counts::bucket_start))
        .first(conn)?;
    let Some(oldest) = oldest else {
        return Ok(false);
    };
    let end = (oldest - oldest.rem_euclid(DAY) + DAY).min(before);
    crate::db::write(conn, |conn| {
        diesel::delete(
            usage_counts::table
                .filter(usage_counts::bucket_seconds.eq(HOUR as i32))
                .filter(usage_counts::bucket_start.lt(end)),
        )
        .execute(conn)?;
        Ok(true)
    })
}

/// Deletes daily rows of days that began before `before`.
pub fn prune_days(conn: &mut DbConn, before: i64) -> QueryResult<usize> {
    crate::db::write(conn, |conn| {
        diesel::delete(
            usage_counts::table
                .filter(usage_counts::bucket_seconds.eq(DAY as i32))
                .filter(usage_counts::bucket_start.lt(before)),
        )
        .execute(conn)
    })
}
