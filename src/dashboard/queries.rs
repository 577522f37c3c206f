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

#[derive(QueryableByName)]
struct CodeTotal {
    #[diesel(sql_type = Integer)]
    app_id: i32,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// A ranking before its names: each key's total and codes.
type Unnamed = Vec<(i32, u64, Vec<(String, u64)>)>;

/// The [`TOP`] keys of each ranking since `from` (an hour's start, Unix
/// seconds): one grouped scan of the period's hourly rows.
pub fn rankings(conn: &mut DbConn, from: i64) -> QueryResult<Rankings> {
    // Every value is a number keyward computed: nothing a client typed.
    let parts: Vec<CodeTotal> = diesel::sql_query(format!(
        "SELECT app_id, code, CAST(SUM(count) AS BIGINT) AS total FROM usage_counts \
         WHERE bucket_seconds = {HOUR} AND bucket_start >= {from} AND app_id > {GLOBAL} \
         GROUP BY app_id, code"
    ))
    .load(conn)?;
    let mut by_app: HashMap<i32, Vec<(String, u64)>> = HashMap::new();
    for part in parts {
        by_app
            .entry(part.app_id)
            .or_default()
            .push((part.code, part.total.max(0) as u64));
    }
    let top = |counted: &dyn Fn(&str) -> bool| -> Unnamed {
        let mut ranked: Unnamed = by_app
            .iter()
            .filter_map(|(app_id, codes)| {
                let mut codes: Vec<(String, u64)> = codes
                    .iter()
                    .filter(|(code, _)| counted(code))
                    .cloned()
                    .collect();
                let total: u64 = codes.iter().map(|(_, n)| n).sum();
                codes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                (total > 0).then_some((*app_id, total, codes))
            })
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(TOP as usize);
        ranked
    };
    let busiest = top(&|_| true);
    let refused = top(&|code| code != "VALID");
    let inactive = top(&|code| code == "INACTIVE");
    let ids: Vec<i32> = busiest
        .iter()
        .chain(&refused)
        .chain(&inactive)
        .map(|(id, _, _)| *id)
        .collect();
    let names: HashMap<i32, String> = apps::table
        .filter(apps::id.eq_any(&ids))
        .select((apps::id, apps::name))
        .load(conn)?
        .into_iter()
        .collect();
    let named = |ranked: Unnamed| {
        ranked
            .into_iter()
            .map(|(app_id, total, by_code)| Ranked {
                app_id,
                name: names.get(&app_id).cloned(),
                total,
                by_code,
            })
            .collect()
    };
    Ok(Rankings {
        busiest: named(busiest),
        refused: named(refused),
        inactive: named(inactive),
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
