//! The `usage_counts` table: adding what an instance counted (to its hour,
//! and to its day when that hour is rolled up already), rolling finished
//! hours up into their days, reading a series, and retention (old hours
//! deleted a day at a time, old days deleted).

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::{DAY, HOUR, Key, Range};
use crate::db::DbConn;
use crate::schema::{usage_counts, usage_rollup};

/// How far hours are rolled up into their days (`usage_rollup`): every hour
/// before `hour`, and `hour` itself for the apps before `app`. A day's count
/// is its row plus its hours not rolled up yet.
#[derive(Debug, Clone, Copy)]
struct Rolled {
    hour: i64,
    app: i32,
}

impl Rolled {
    /// Whether the hour starting at `start` of `app_id` is in its day's row.
    fn holds(self, app_id: i32, start: i64) -> bool {
        start < self.hour || (start == self.hour && app_id < self.app)
    }
}

/// Reads how far hours are rolled up, on PostgreSQL locking the row: shared
/// for adding counts, exclusive for rolling up, so that a count is never
/// added to an hour being rolled as if it were not. (On SQLite every write
/// transaction is alone.)
fn rolled(conn: &mut DbConn, exclusive: bool) -> QueryResult<Rolled> {
    let query = usage_rollup::table
        .filter(usage_rollup::id.eq(1))
        .select((usage_rollup::hour, usage_rollup::app));
    let (hour, app) = match conn {
        DbConn::Sqlite(conn) => query.first(conn)?,
        DbConn::Postgres(conn) if exclusive => query.for_update().first(conn)?,
        DbConn::Postgres(conn) => query.for_share().first(conn)?,
    };
    Ok(Rolled { hour, app })
}

/// Counts summed by app, bucket start and code.
type Summed = BTreeMap<(i32, i64, &'static str), i64>;

fn add_to(summed: &mut Summed, key: (i32, i64, &'static str), n: i64) {
    let row = summed.entry(key).or_insert(0);
    *row = row.saturating_add(n);
}

/// Adds `summed` to the stored counts of buckets of `size` seconds, in one
/// statement (one statement may touch a row only once: each is distinct).
fn upsert(conn: &mut DbConn, size: i64, summed: &Summed) -> QueryResult<()> {
    if summed.is_empty() {
        return Ok(());
    }
    let values: Vec<_> = summed
        .iter()
        .map(|(&(app_id, start, code), &n)| {
            (
                usage_counts::app_id.eq(app_id),
                usage_counts::bucket_seconds.eq(size as i32),
                usage_counts::bucket_start.eq(start),
                usage_counts::code.eq(code),
                usage_counts::count.eq(n),
            )
        })
        .collect();
    crate::db::on_backend!(conn, |conn| diesel::insert_into(usage_counts::table)
        .values(&values)
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
}

/// Adds counts to the stored ones, each to its hour's row, in one statement
/// (parsed once, rather than one for each count: with many keys in use,
/// preparing those was most of the write); a count for an hour already
/// rolled up (an instance's counts kept through an outage, say) goes to its
/// day's row too. Only the hour otherwise: with a million keys in use
/// nearly every count is a row of its own, in a table and an index far
/// larger than the page cache, and a day's row would be a second one.
pub fn add(conn: &mut DbConn, counts: &[(Key, u64)]) -> QueryResult<()> {
    // The same key twice is summed.
    let mut hours = Summed::new();
    for &(key, n) in counts {
        add_to(&mut hours, key, i64::try_from(n).unwrap_or(i64::MAX));
    }
    if hours.is_empty() {
        return Ok(());
    }
    crate::db::write(conn, |conn| {
        let rolled = rolled(conn, false)?;
        let mut days = Summed::new();
        for (&(app_id, hour, code), &n) in &hours {
            if rolled.holds(app_id, hour) {
                add_to(&mut days, (app_id, hour - hour.rem_euclid(DAY), code), n);
            }
        }
        upsert(conn, HOUR, &hours)?;
        upsert(conn, DAY, &days)
    })
}

/// Hourly rows rolled up into their days in one transaction, at most.
const ROLLUP_CHUNK: i64 = 5_000;

/// Rolls up the next chunk of the oldest hour that ended before `now` (Unix
/// seconds) and is not rolled up yet: its rows of the next few thousand
/// keys added to their days, in one short transaction, the keys in order.
/// Returns whether it rolled any (call again until it has not).
pub fn roll_up_next_chunk(conn: &mut DbConn, now: i64) -> QueryResult<bool> {
    let current_hour = now - now.rem_euclid(HOUR);
    crate::db::write(conn, |conn| {
        let rolled = rolled(conn, true)?;
        let hour_rows = |hour: i64| {
            usage_counts::table
                .filter(usage_counts::bucket_seconds.eq(HOUR as i32))
                .filter(usage_counts::bucket_start.eq(hour))
        };
        // The hour being rolled, if it has keys left, else the next with rows.
        let left: Option<i32> = hour_rows(rolled.hour)
            .filter(usage_counts::app_id.ge(rolled.app))
            .select(diesel::dsl::min(usage_counts::app_id))
            .first(conn)?;
        let (hour, from) = match left {
            Some(app) => (rolled.hour, app),
            None => {
                let next: Option<i64> = usage_counts::table
                    .filter(usage_counts::bucket_seconds.eq(HOUR as i32))
                    .filter(usage_counts::bucket_start.gt(rolled.hour))
                    .select(diesel::dsl::min(usage_counts::bucket_start))
                    .first(conn)?;
                match next {
                    Some(next) => (next, i32::MIN),
                    None => return Ok(false),
                }
            }
        };
        if hour >= current_hour {
            return Ok(false);
        }
        // The chunk ends before the key of the row after it (a key's codes
        // stay together), or with the hour.
        let until: Option<i32> = hour_rows(hour)
            .filter(usage_counts::app_id.ge(from))
            .order((usage_counts::app_id, usage_counts::code))
            .select(usage_counts::app_id)
            .offset(ROLLUP_CHUNK)
            .first(conn)
            .optional()?
            .map(|app: i32| app.max(from.saturating_add(1)));
        // The values bound, not formatted into the text. (SQLite takes `$n`
        // as named parameters, numbered in order of appearance; and it needs
        // the WHERE for ON CONFLICT after a SELECT to parse.)
        use diesel::sql_types::{BigInt, Integer};
        let upto = until.map_or(i64::from(i32::MAX) + 1, i64::from);
        diesel::sql_query(
            "INSERT INTO usage_counts (app_id, bucket_seconds, bucket_start, code, count) \
             SELECT app_id, $1, $2, code, count FROM usage_counts \
             WHERE bucket_seconds = $3 AND bucket_start = $4 AND app_id >= $5 AND app_id < $6 \
             ON CONFLICT (app_id, bucket_seconds, bucket_start, code) \
             DO UPDATE SET count = usage_counts.count + excluded.count",
        )
        .bind::<Integer, _>(DAY as i32)
        .bind::<BigInt, _>(hour - hour.rem_euclid(DAY))
        .bind::<Integer, _>(HOUR as i32)
        .bind::<BigInt, _>(hour)
        .bind::<Integer, _>(from)
        .bind::<BigInt, _>(upto)
        .execute(conn)?;
        let (hour, app) = match until {
            Some(until) => (hour, until),
            None => (hour + HOUR, i32::MIN),
        };
        diesel::update(usage_rollup::table.filter(usage_rollup::id.eq(1)))
            .set((usage_rollup::hour.eq(hour), usage_rollup::app.eq(app)))
            .execute(conn)?;
        Ok(true)
    })
}

/// Whose requests a series counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Whose {
    App(i32),
    /// Every request, whatever its key (the [`super::ALL`] rows).
    All,
}

/// The stored counts in `range` as `(bucket start, code, count)`: its
/// hours, or for a range of days their rows and the hours not rolled up
/// into them yet (the current hour or two: [`super::series`] folds them
/// into their days), read in one statement so that a roll-up between two
/// reads cannot count an hour twice. One key's primary-key range (or two),
/// or the [`super::ALL`] rows.
pub fn rows(
    conn: &mut DbConn,
    whose: Whose,
    range: &Range,
) -> QueryResult<Vec<(i64, String, u64)>> {
    let app_id = match whose {
        Whose::App(id) => id,
        Whose::All => super::ALL,
    };
    let rows: Vec<(i64, String, i64)> = match range.granularity {
        super::Granularity::Hour => usage_counts::table
            .filter(usage_counts::app_id.eq(app_id))
            .filter(usage_counts::bucket_seconds.eq(HOUR as i32))
            .filter(usage_counts::bucket_start.ge(range.from))
            .filter(usage_counts::bucket_start.lt(range.to))
            .select((
                usage_counts::bucket_start,
                usage_counts::code,
                usage_counts::count,
            ))
            .load(conn)?,
        super::Granularity::Day => {
            #[derive(QueryableByName)]
            struct Stored {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                bucket_start: i64,
                #[diesel(sql_type = diesel::sql_types::Text)]
                code: String,
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                count: i64,
            }
            // The values bound, not formatted into the text (SQLite takes `$n`
            // as named parameters, numbered in order of appearance).
            use diesel::sql_types::{BigInt, Integer};
            let stored: Vec<Stored> = diesel::sql_query(
                "SELECT bucket_start, code, count FROM usage_counts \
                 WHERE app_id = $1 AND bucket_seconds = $2 \
                   AND bucket_start >= $3 AND bucket_start < $4 \
                 UNION ALL \
                 SELECT u.bucket_start, u.code, u.count \
                 FROM usage_rollup AS r, usage_counts AS u \
                 WHERE r.id = 1 AND u.app_id = $1 AND u.bucket_seconds = $5 \
                   AND u.bucket_start >= r.hour AND u.bucket_start >= $3 \
                   AND u.bucket_start < $4 \
                   AND (u.bucket_start > r.hour OR u.app_id >= r.app)",
            )
            .bind::<Integer, _>(app_id)
            .bind::<Integer, _>(DAY as i32)
            .bind::<BigInt, _>(range.from)
            .bind::<BigInt, _>(range.to)
            .bind::<Integer, _>(HOUR as i32)
            .load(conn)?;
            stored
                .into_iter()
                .map(|row| (row.bucket_start, row.code, row.count))
                .collect()
        }
    };
    Ok(rows
        .into_iter()
        .map(|(start, code, count)| (start, code, count.max(0) as u64))
        .collect())
}

/// Deletes the hourly rows before `before` (an hour's start) of the oldest
/// day that has any, in one short transaction (their day's row holds them
/// already: only rolled-up hours are deleted); returns whether there were
/// any (call again until there are none).
pub fn prune_hours_of_one_day(conn: &mut DbConn, before: i64) -> QueryResult<bool> {
    let before = before - before.rem_euclid(HOUR);
    let before = before.min(rolled(conn, false)?.hour);
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
