//! The `usage_counts` table: adding what an instance counted, reading a
//! series, and retention (hourly rows rolled up into days, a day at a time,
//! and old days deleted).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::{DAY, HOUR, Key, Range};
use crate::db::DbConn;
use crate::schema::usage_counts;

/// Adds counts to the stored ones in one transaction.
pub fn add(conn: &mut DbConn, counts: &[(Key, u64)]) -> QueryResult<()> {
    crate::db::write(conn, |conn| {
        for ((app_id, hour, code), n) in counts {
            let n = i64::try_from(*n).unwrap_or(i64::MAX);
            let row = (
                usage_counts::app_id.eq(*app_id),
                usage_counts::bucket_seconds.eq(HOUR as i32),
                usage_counts::bucket_start.eq(*hour),
                usage_counts::code.eq(*code),
                usage_counts::count.eq(n),
            );
            // The same upsert on either backend (diesel's multi-backend
            // connection has no ON CONFLICT of its own).
            macro_rules! upsert {
                ($conn:expr) => {
                    diesel::insert_into(usage_counts::table)
                        .values(row)
                        .on_conflict((
                            usage_counts::app_id,
                            usage_counts::bucket_seconds,
                            usage_counts::bucket_start,
                            usage_counts::code,
                        ))
                        .do_update()
                        .set(usage_counts::count.eq(usage_counts::count + n))
                        .execute($conn)
                };
            }
            match conn {
                DbConn::Sqlite(conn) => upsert!(conn),
                DbConn::Postgres(conn) => upsert!(conn),
            }?;
        }
        Ok(())
    })
}

/// Whose requests a series counts.
#[derive(Debug, Clone, Copy)]
pub enum Whose {
    App(i32),
    /// Every key's, and those with no key keyward knows.
    All,
}

#[derive(QueryableByName)]
struct SumRow {
    #[diesel(sql_type = BigInt)]
    bucket_start: i64,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The stored counts in `range` as `(bucket start, code, count)`: hourly rows
/// and, for a range of days, the daily rows retention made of older hours.
pub fn rows(
    conn: &mut DbConn,
    whose: Whose,
    range: &Range,
) -> QueryResult<Vec<(i64, String, u64)>> {
    let sizes = match range.granularity {
        super::Granularity::Hour => format!("{HOUR}"),
        super::Granularity::Day => format!("{HOUR}, {DAY}"),
    };
    let app = match whose {
        Whose::App(id) => format!("AND app_id = {id}"),
        Whose::All => String::new(),
    };
    // Every value is a number keyward computed: nothing a client typed.
    let sql = format!(
        "SELECT bucket_start, code, CAST(SUM(count) AS BIGINT) AS total FROM usage_counts \
         WHERE bucket_seconds IN ({sizes}) AND bucket_start >= {} AND bucket_start < {} {app} \
         GROUP BY bucket_start, code",
        range.from, range.to
    );
    let rows: Vec<SumRow> = diesel::sql_query(sql).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| (row.bucket_start, row.code, row.total.max(0) as u64))
        .collect())
}

/// Rolls the hourly rows before `before` (an hour's start) of the oldest day
/// that has any into one daily row per key and code, in one short
/// transaction; returns whether there were any (call again until there are
/// none). A day rolled up in parts adds up in its daily row.
pub fn roll_up_one_day(conn: &mut DbConn, before: i64) -> QueryResult<bool> {
    let before = before - before.rem_euclid(HOUR);
    let oldest: Option<i64> = usage_counts::table
        .filter(usage_counts::bucket_seconds.eq(HOUR as i32))
        .filter(usage_counts::bucket_start.lt(before))
        .select(diesel::dsl::min(usage_counts::bucket_start))
        .first(conn)?;
    let Some(oldest) = oldest else {
        return Ok(false);
    };
    let day = oldest - oldest.rem_euclid(DAY);
    let end = (day + DAY).min(before);
    crate::db::write(conn, |conn| {
        // `WHERE` before `ON CONFLICT` also keeps SQLite's parser from
        // reading the conflict clause as a join.
        diesel::sql_query(format!(
            "INSERT INTO usage_counts (app_id, bucket_seconds, bucket_start, code, count) \
             SELECT app_id, {DAY}, {day}, code, SUM(count) FROM usage_counts \
             WHERE bucket_seconds = {HOUR} AND bucket_start >= {day} AND bucket_start < {end} \
             GROUP BY app_id, code \
             ON CONFLICT (app_id, bucket_seconds, bucket_start, code) \
             DO UPDATE SET count = usage_counts.count + excluded.count"
        ))
        .execute(conn)?;
        diesel::delete(
            usage_counts::table
                .filter(usage_counts::bucket_seconds.eq(HOUR as i32))
                .filter(usage_counts::bucket_start.ge(day))
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
