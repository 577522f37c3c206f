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

/// A key in a ranking: its total and, in the refused ranking, what made it
/// up, by code, largest first.
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

/// One of the dashboard's rankings: its name in SQL, and which of a key's
/// requests it counts, as an SQL condition on their code.
struct Ranking {
    name: &'static str,
    condition: &'static str,
}

const BUSIEST: Ranking = Ranking {
    name: "busiest",
    condition: "TRUE",
};
const REFUSED: Ranking = Ranking {
    name: "refused",
    condition: "code <> 'VALID'",
};
const INACTIVE: Ranking = Ranking {
    name: "inactive",
    condition: "code = 'INACTIVE'",
};
const RANKINGS: [Ranking; 3] = [BUSIEST, REFUSED, INACTIVE];

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
/// refused key's total, by code, from its own rows (the page says why a key
/// was refused; that total is the sum of the parts it shows, as counts may
/// have been added between the two reads).
pub fn rankings(conn: &mut DbConn, from: i64) -> QueryResult<Rankings> {
    // Every value is a number keyward computed or a constant: nothing a
    // client typed.
    let sums = RANKINGS
        .map(|Ranking { name, condition }| {
            format!("CAST(SUM(CASE WHEN {condition} THEN count ELSE 0 END) AS BIGINT) AS {name}")
        })
        .join(", ");
    let lists = RANKINGS
        .map(|Ranking { name, .. }| {
            format!(
                "SELECT * FROM (SELECT '{name}' AS ranking, app_id, {name} AS total \
                 FROM totals WHERE {name} > 0 ORDER BY {name} DESC, app_id LIMIT {TOP}) AS {name}"
            )
        })
        .join(" UNION ALL ");
    let placed: Vec<Placed> = diesel::sql_query(format!(
        "WITH totals AS MATERIALIZED (\
           SELECT app_id, {sums} FROM usage_counts \
           WHERE bucket_seconds = {HOUR} AND bucket_start >= {from} AND app_id > {GLOBAL} \
           GROUP BY app_id) \
         {lists}"
    ))
    .load(conn)?;
    let refused: Vec<i32> = placed
        .iter()
        .filter(|p| p.ranking == REFUSED.name)
        .map(|p| p.app_id)
        .collect();
    let mut parts_of: HashMap<i32, Vec<(String, u64)>> = HashMap::new();
    if !refused.is_empty() {
        let list = refused
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let refusals = REFUSED.condition;
        let parts: Vec<CodeTotal> = diesel::sql_query(format!(
            "SELECT app_id, code, CAST(SUM(count) AS BIGINT) AS total FROM usage_counts \
             WHERE app_id IN ({list}) AND {refusals} \
             AND bucket_seconds = {HOUR} AND bucket_start >= {from} \
             GROUP BY app_id, code"
        ))
        .load(conn)?;
        for part in parts {
            if part.total > 0 {
                parts_of
                    .entry(part.app_id)
                    .or_default()
                    .push((part.code, part.total as u64));
            }
        }
    }
    let ids: Vec<i32> = placed.iter().map(|p| p.app_id).collect();
    let names: HashMap<i32, String> = apps::table
        .filter(apps::id.eq_any(&ids))
        .select((apps::id, apps::name))
        .load(conn)?
        .into_iter()
        .collect();
    let ranked = |ranking: &Ranking| -> Vec<Ranked> {
        let mut list: Vec<Ranked> = placed
            .iter()
            .filter(|p| p.ranking == ranking.name)
            .map(|p| {
                let mut by_code = if ranking.name == REFUSED.name {
                    parts_of.get(&p.app_id).cloned().unwrap_or_default()
                } else {
                    Vec::new()
                };
                by_code.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                let total = if by_code.is_empty() {
                    p.total.max(0) as u64
                } else {
                    by_code.iter().map(|(_, n)| n).sum()
                };
                Ranked {
                    app_id: p.app_id,
                    name: names.get(&p.app_id).cloned(),
                    total,
                    by_code,
                }
            })
            .collect();
        // The rows of a UNION ALL come in no promised order.
        list.sort_by(|a, b| b.total.cmp(&a.total).then(a.app_id.cmp(&b.app_id)));
        list
    };
    Ok(Rankings {
        busiest: ranked(&BUSIEST),
        refused: ranked(&REFUSED),
        inactive: ranked(&INACTIVE),
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
