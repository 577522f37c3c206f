//! What the dashboard reads: keys ranked by what `usage_counts` holds for a
//! period (each ranking one grouped, indexed scan of the period's hours), and
//! keys by their expiry and last use (the `apps` table, read for display).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::db::DbConn;
use crate::schema::apps;
use crate::usage::{GLOBAL, HOUR};

/// How many keys each list shows.
pub const TOP: i64 = 10;

/// Which requests a ranking counts.
#[derive(Debug, Clone, Copy)]
pub enum Counted {
    All,
    /// Everything but `VALID`.
    Refused,
    /// Presented while the key was inactive.
    Inactive,
}

/// A key in a ranking: its total and what made it up, by code, largest first.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub app_id: i32,
    /// `None` for a key deleted since.
    pub name: Option<String>,
    pub total: u64,
    pub by_code: Vec<(String, u64)>,
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = Integer)]
    app_id: i32,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(QueryableByName)]
struct CodeTotal {
    #[diesel(sql_type = Integer)]
    app_id: i32,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The [`TOP`] keys with the most requests of the kind counted since `from`
/// (an hour's start, Unix seconds).
pub fn ranked(conn: &mut DbConn, counted: Counted, from: i64) -> QueryResult<Vec<Ranked>> {
    let codes = match counted {
        Counted::All => "",
        Counted::Refused => "AND code <> 'VALID'",
        Counted::Inactive => "AND code = 'INACTIVE'",
    };
    // Every value is a number or a constant of keyward's: nothing a client typed.
    let where_ = format!(
        "bucket_seconds = {HOUR} AND bucket_start >= {from} AND app_id <> {GLOBAL} {codes}"
    );
    let top: Vec<Total> = diesel::sql_query(format!(
        "SELECT app_id, CAST(SUM(count) AS BIGINT) AS total FROM usage_counts WHERE {where_} \
         GROUP BY app_id ORDER BY total DESC, app_id LIMIT {TOP}"
    ))
    .load(conn)?;
    if top.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = top.iter().map(|row| row.app_id.to_string()).collect();
    let parts: Vec<CodeTotal> = diesel::sql_query(format!(
        "SELECT app_id, code, CAST(SUM(count) AS BIGINT) AS total FROM usage_counts \
         WHERE {where_} AND app_id IN ({}) GROUP BY app_id, code",
        ids.join(", ")
    ))
    .load(conn)?;
    let names: HashMap<i32, String> = apps::table
        .filter(apps::id.eq_any(top.iter().map(|row| row.app_id)))
        .select((apps::id, apps::name))
        .load(conn)?
        .into_iter()
        .collect();
    Ok(top
        .into_iter()
        .map(|row| {
            let mut by_code: Vec<(String, u64)> = parts
                .iter()
                .filter(|part| part.app_id == row.app_id)
                .map(|part| (part.code.clone(), part.total.max(0) as u64))
                .collect();
            by_code.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            Ranked {
                app_id: row.app_id,
                name: names.get(&row.app_id).cloned(),
                total: row.total.max(0) as u64,
                by_code,
            }
        })
        .collect())
}

/// A key listed by a date: its expiry, or its last use (`None`: never).
#[derive(Debug, Clone, Queryable)]
pub struct Dated {
    pub id: i32,
    pub name: String,
    pub at: Option<NaiveDateTime>,
}

/// How many keys expire after `now` and by `until`, and the first [`TOP`].
pub fn expiring(
    conn: &mut DbConn,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<(i64, Vec<Dated>)> {
    let soon = || {
        apps::table
            .filter(apps::expires_at.gt(now))
            .filter(apps::expires_at.le(until))
    };
    let count = soon().count().get_result(conn)?;
    let first = soon()
        .order((apps::expires_at.asc(), apps::id.asc()))
        .select((apps::id, apps::name, apps::expires_at))
        .limit(TOP)
        .load(conn)?;
    Ok((count, first))
}

/// How many active keys were not used since `cutoff` (never used ones made
/// before it too), and the [`TOP`] unused longest.
pub fn unused_since(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<(i64, Vec<Dated>)> {
    let unused = || {
        apps::table.filter(apps::is_active.eq(true)).filter(
            apps::last_used_at.lt(cutoff).or(apps::last_used_at
                .is_null()
                .and(apps::created_at.lt(cutoff))),
        )
    };
    let count = unused().count().get_result(conn)?;
    let first = unused()
        .order((
            apps::last_used_at.is_not_null().asc(),
            apps::last_used_at.asc(),
            apps::id.asc(),
        ))
        .select((apps::id, apps::name, apps::last_used_at))
        .limit(TOP)
        .load(conn)?;
    Ok((count, first))
}
