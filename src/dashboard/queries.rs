//! What the dashboard reads: keys ranked by what `usage_counts` holds for a
//! period (ranked by the database in one grouped scan of the period's hours), and
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

/// A key in a ranking: its total and what made it up, by code, largest first.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub app_id: i32,
    /// `None` for a key deleted since.
    pub name: Option<String>,
    pub total: u64,
    pub by_code: Vec<(String, u64)>,
}

/// The dashboard's three rankings of keys since a time.
#[derive(Debug, Clone, Default)]
pub struct Rankings {
    /// The most requests.
    pub busiest: Vec<Ranked>,
    /// The most requests that were not `VALID`.
    pub refused: Vec<Ranked>,
    /// Presented most often while inactive.
    pub inactive: Vec<Ranked>,
}

/// The three rankings, by name in SQL.
const RANKINGS: [&str; 3] = ["busiest", "refused", "inactive"];

#[derive(QueryableByName)]
struct Placed {
    #[diesel(sql_type = Text)]
    ranking: String,
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

/// The [`TOP`] keys of each ranking since `from` (an hour's start, Unix
/// seconds). The database ranks: one grouped pass over the period's hourly
/// rows, of which only the placed keys come back (a day of a busy
/// installation is tens of thousands of keys), then what made up each
/// placed key's total, by code, from its own rows.
pub fn rankings(conn: &mut DbConn, from: i64) -> QueryResult<Rankings> {
    // Every value is a number keyward computed or a constant: nothing a
    // client typed.
    let placed: Vec<Placed> = diesel::sql_query(format!(
        "WITH totals AS MATERIALIZED (\
           SELECT app_id, \
             CAST(SUM(count) AS BIGINT) AS busiest, \
             CAST(SUM(CASE WHEN code <> 'VALID' THEN count ELSE 0 END) AS BIGINT) AS refused, \
             CAST(SUM(CASE WHEN code = 'INACTIVE' THEN count ELSE 0 END) AS BIGINT) AS inactive \
           FROM usage_counts \
           WHERE bucket_seconds = {HOUR} AND bucket_start >= {from} AND app_id > {GLOBAL} \
           GROUP BY app_id) \
         {}",
        RANKINGS
            .map(|ranking| format!(
                "SELECT * FROM (SELECT '{ranking}' AS ranking, app_id, {ranking} AS total \
                 FROM totals WHERE {ranking} > 0 ORDER BY {ranking} DESC, app_id LIMIT {TOP}) AS {ranking}"
            ))
            .join(" UNION ALL ")
    ))
    .load(conn)?;
    let ids: Vec<i32> = placed.iter().map(|p| p.app_id).collect();
    let mut by_app: HashMap<i32, Vec<(String, u64)>> = HashMap::new();
    if !ids.is_empty() {
        let list = ids
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let parts: Vec<CodeTotal> = diesel::sql_query(format!(
            "SELECT app_id, code, CAST(SUM(count) AS BIGINT) AS total FROM usage_counts \
             WHERE app_id IN ({list}) AND bucket_seconds = {HOUR} AND bucket_start >= {from} \
             GROUP BY app_id, code"
        ))
        .load(conn)?;
        for part in parts {
            by_app
                .entry(part.app_id)
                .or_default()
                .push((part.code, part.total.max(0) as u64));
        }
    }
    let names: HashMap<i32, String> = apps::table
        .filter(apps::id.eq_any(&ids))
        .select((apps::id, apps::name))
        .load(conn)?
        .into_iter()
        .collect();
    let ranked = |ranking: &str, counted: &dyn Fn(&str) -> bool| -> Vec<Ranked> {
        placed
            .iter()
            .filter(|p| p.ranking == ranking)
            .map(|p| {
                let mut by_code: Vec<(String, u64)> = by_app
                    .get(&p.app_id)
                    .into_iter()
                    .flatten()
                    .filter(|(code, n)| counted(code) && *n > 0)
                    .cloned()
                    .collect();
                by_code.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                Ranked {
                    app_id: p.app_id,
                    name: names.get(&p.app_id).cloned(),
                    total: p.total.max(0) as u64,
                    by_code,
                }
            })
            .collect()
    };
    Ok(Rankings {
        busiest: ranked("busiest", &|_| true),
        refused: ranked("refused", &|code| code != "VALID"),
        inactive: ranked("inactive", &|code| code == "INACTIVE"),
    })
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
