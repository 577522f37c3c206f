//! The API Keys list: one page as its URL asks for it, by keyset pagination
//! (`crate::paging`). Each range query seeks into an index on the sort column
//! (see the `apps_list_indexes` migration) and reads about one page of it,
//! however many apps there are; nothing counts rows. The status filter has
//! indexes led by `is_active`, so it seeks too.
//!
//! Search is a substring match on name and description that ignores the case
//! of the ASCII letters A–Z and of nothing else (`mobile` finds `MoBiLe`, `Ä`
//! finds `Ä` but not `ä`), alike on both backends: that is what SQLite's LIKE
//! does, and on PostgreSQL the columns are lowered under the "C" collation,
//! which folds the same letters whatever the database's locale. `%`, `_`, `\`
//! and quotes are searched for as themselves.
//!
//! A trigram index (the `apps_search` migration) finds the few apps that hold
//! a search of 3 or more characters without reading the others. On SQLite it
//! is an FTS5 table, asked first ([`super::search`]): when at most
//! [`search::MAX_CANDIDATES`] apps may match, each range query looks up just
//! those by id and sorts them, however many apps there are. The candidates
//! only narrow the search: each is still tested by the LIKE. On PostgreSQL
//! they are GIN indexes (pg_trgm) on the very expressions the LIKE tests, and
//! its planner chooses between them and the walk by its statistics; a search
//! a sample of the apps says is rare asks them for its covering trigrams
//! only, which costs the index far less than its whole pattern (see
//! [`super::search`]).
//!
//! Otherwise — a search of 1 or 2 characters, which no trigram serves, or one
//! that more apps may match — the search walks the sort index in order,
//! tests each app and stops at `per_page + 1` matches. That is cheap when the
//! search matches many apps spread through the list (as the first letters
//! typed do); it reads far when its matches all sort late, and all apps once
//! when a 1 or 2 character search matches nothing. The name indexes hold the
//! description, so on SQLite that pass reads only the index (about 15 ms for
//! 100,000 apps).
//!
//! The walk reads ids only, which SQLite answers from the index alone (it
//! would not pick the covering index if the other columns were asked for), and
//! the page's rows are read by id afterwards.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::search::{self, SearchStats};
use crate::apps::domain::listing::{ListQuery, ListedApp, Sort, SortValue, Status};
use crate::db::{DbConn, MultiBackend};
use crate::limits::Quota;
use crate::paging::{self, Key, Range, Slice};
use crate::schema::limit_counters;
use crate::schema::{apps, roles};
use std::collections::HashMap;

/// One page of the list as `query` asks for it; `now` decides which keys
/// count as expired for the "Expired" filter. `stats` are what this process
/// knows of the apps for asking the search index.
pub fn page(
    conn: &mut DbConn,
    query: &ListQuery,
    now: NaiveDateTime,
    stats: &SearchStats,
) -> QueryResult<Slice<ListedApp>> {
    let search = search_for(conn, &query.q, stats)?;
    let ids = paging::page(
        &query.page,
        query.sort.column(),
        query.dir,
        query.per_page,
        |range, ascending, limit| {
            range_ids(conn, query, search.as_ref(), now, range, ascending, limit)
        },
    )?;
    Ok(Slice {
        rows: items(conn, &ids.rows, now)?,
        has_previous: ids.has_previous,
        has_next: ids.has_next,
    })
}

#[derive(Queryable)]
struct ListRow {
    id: i32,
    name: String,
    description: String,
    is_active: bool,
    key_prefix: String,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    role_name: Option<String>,
    expires_at: Option<NaiveDateTime>,
    quota_total: Option<i64>,
    quota_refill: Option<String>,
}

/// The list rows of `ids`, in that order (an app deleted meanwhile is left
/// out), with what their quotas have left at `now`.
pub(super) fn items(
    conn: &mut DbConn,
    ids: &[i32],
    now: NaiveDateTime,
) -> QueryResult<Vec<ListedApp>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<ListRow> = apps::table
        .left_join(roles::table)
        .filter(apps::id.eq_any(ids))
        .select((
            apps::id,
            apps::name,
            apps::description,
            apps::is_active,
            apps::key_prefix,
            apps::created_at,
            apps::last_used_at,
            roles::name.nullable(),
            apps::expires_at,
            apps::quota_total,
            apps::quota_refill,
        ))
        .load(conn)?;
    let quotas: Vec<(i32, Quota)> = rows
        .iter()
        .filter_map(|row| {
            Quota::from_stored(row.quota_total, row.quota_refill.as_deref())
                .map(|quota| (row.id, quota))
        })
        .collect();
    let used = quota_used(conn, &quotas, now)?;
    let position: std::collections::HashMap<i32, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut items: Vec<ListedApp> = rows
        .into_iter()
        .map(|row| {
            let quota = Quota::from_stored(row.quota_total, row.quota_refill.as_deref());
            ListedApp {
                id: row.id,
                name: row.name,
                description: row.description,
                is_active: row.is_active,
                key_prefix: row.key_prefix,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
                role_name: row.role_name,
                expires_at: row.expires_at,
                quota_left: quota.map(|quota| {
                    quota
                        .total
                        .saturating_sub(used.get(&row.id).copied().unwrap_or(0))
                }),
                quota,
            }
        })
        .collect();
    items.sort_by_key(|item| position.get(&item.id).copied());
    Ok(items)
}

/// `select.order((column.asc(), ...))`, or `.desc()` when not ascending.
macro_rules! ordered {
    ($select:expr, $ascending:expr, $($column:expr),+) => {
        if $ascending {
            $select.order(($($column.asc(),)+))
        } else {
            $select.order(($($column.desc(),)+))
        }
    };
}

/// A search as the range queries run it.
struct Search {
    /// The `%…%` LIKE pattern every app shown must match.
    pattern: String,
    /// The only apps that may match, when the trigram index could tell;
    /// `None`: every app the walk reads is tested.
    candidates: Option<Vec<i32>>,
    /// On PostgreSQL, for a rare search: the LIKE patterns of its covering
    /// trigrams, which the trigram indexes are asked for instead of
    /// `pattern`'s.
    trigrams: Option<Vec<String>>,
}

/// The search of `q`, with its candidates when the trigram index has few;
/// `None` when not searching.
fn search_for(conn: &mut DbConn, q: &str, stats: &SearchStats) -> QueryResult<Option<Search>> {
    if q.is_empty() {
        return Ok(None);
    }
    let (candidates, trigrams) = match conn {
        // A trigram index finds nothing shorter than a trigram.
        DbConn::Sqlite(sqlite) if q.chars().count() >= 3 => {
            (search::candidates(sqlite, stats, q)?, None)
        }
        DbConn::Sqlite(_) => (None, None),
        // PostgreSQL's planner weighs the GIN indexes against the walk
        // itself, from the statistics it keeps on the indexed expressions
        // (it takes the indexes for a rare search, the walk for a common one
        // or a short one), so it is handed the LIKE whole, unless the sample
        // of the apps says the search is rare.
        DbConn::Postgres(_) => {
            let trigrams = search::rare_trigrams(conn, stats, q)?;
            (
                None,
                trigrams.map(|trigrams| trigrams.iter().map(|t| like_pattern(t)).collect()),
            )
        }
    };
    Ok(Some(Search {
        pattern: like_pattern(q),
        candidates,
        trigrams,
    }))
}

/// The `%…%` LIKE pattern of a search: ASCII letters lower-cased (the
/// columns are compared lower-cased, or with ASCII case ignored) and LIKE's
/// wildcards escaped by `\`, the escape character of both backends' LIKE.
fn like_pattern(q: &str) -> String {
    let mut pattern = String::with_capacity(q.len() + 2);
    pattern.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c.to_ascii_lowercase());
    }
    pattern.push('%');
    pattern
}

/// A condition on apps, as the range queries combine them.
type Condition = Box<dyn BoxableExpression<apps::table, MultiBackend, SqlType = Bool>>;

/// The name or the description matches the search's pattern, ignoring
/// ASCII case only.
fn matches(conn: &DbConn, search: &Search) -> Condition {
    let pattern = search.pattern.clone();
    match (conn, &search.trigrams) {
        // SQLite's LIKE ignores ASCII case itself (lower() would hide the
        // columns from its covering index).
        (DbConn::Sqlite(_), _) => Box::new(
            apps::name
                .like(pattern.clone())
                .escape('\\')
                .or(apps::description.like(pattern).escape('\\')),
        ),
        // The expressions of the trigram indexes, written out as the
        // migration does: the "C" collation's lower() folds A–Z only.
        (DbConn::Postgres(_), None) => Box::new(
            lowered_like("apps.name", pattern.clone())
                .or(lowered_like("apps.description", pattern)),
        ),
        // Each column's index is asked for the trigrams' LIKEs; the whole
        // pattern is tested on an expression no index serves (`|| ''`),
        // which keeps its trigrams out of the index scan.
        (DbConn::Postgres(_), Some(trigrams)) => {
            let column = |column: &str| -> Condition {
                trigrams.iter().fold(
                    lowered_like(&format!("({column} || '')"), pattern.clone()),
                    |condition, trigram| {
                        Box::new(lowered_like(column, trigram.clone()).and(condition))
                    },
                )
            };
            Box::new(column("apps.name").or(column("apps.description")))
        }
    }
}

/// On PostgreSQL, `lower(EXPRESSION COLLATE "C") LIKE pattern`.
fn lowered_like(expression: &str, pattern: String) -> Condition {
    Box::new(
        sql::<Bool>(&format!("lower({expression} COLLATE \"C\") LIKE ")).bind::<Text, _>(pattern),
    )
}

/// `apps.is_active = active`. Among a search's candidates on SQLite, behind a
/// unary `+`, which keeps the planner from walking the index led by
/// is_active (without statistics it takes an equality to pick out about ten
/// rows) instead of looking the candidates up by id.
fn is_active(conn: &DbConn, among_candidates: bool, active: bool) -> Condition {
    match conn {
        DbConn::Sqlite(_) if among_candidates => {
            Box::new(sql::<Bool>("+apps.is_active = ").bind::<Bool, _>(active))
        }
        _ => Box::new(apps::is_active.eq(active)),
    }
}

/// `apps.last_used_at IS NULL`, behind a `+` on SQLite among candidates (as
/// [`is_active`]: half the apps may never have been used).
fn never_used(conn: &DbConn, among_candidates: bool) -> Condition {
    match conn {
        DbConn::Sqlite(_) if among_candidates => {
            Box::new(sql::<Bool>("+apps.last_used_at IS NULL"))
        }
        _ => Box::new(apps::last_used_at.is_null()),
    }
}

/// The ids of up to `limit` apps of one range that pass the search and the
/// status filter, in order.
fn range_ids(
    conn: &mut DbConn,
    query: &ListQuery,
    search: Option<&Search>,
    now: NaiveDateTime,
    range: &Range<SortValue>,
    ascending: bool,
    limit: i64,
) -> QueryResult<Vec<i32>> {
    let candidates = search.and_then(|search| search.candidates.as_deref());
    if candidates.is_some_and(<[i32]>::is_empty) {
        return Ok(Vec::new());
    }
    let among = candidates.is_some();
    let mut select = apps::table
        .select(apps::id)
        .limit(limit)
        .into_boxed::<MultiBackend>();
    match query.status {
        Status::All => {}
        Status::Active => select = select.filter(is_active(conn, among, true)),
        Status::Inactive => select = select.filter(is_active(conn, among, false)),
        // Few keys expire, so this walks the sort index like a search does.
        Status::Expired => select = select.filter(apps::expires_at.le(now)),
    }
    if let Some(search) = search {
        select = select.filter(matches(conn, search));
    }
    if let Some(ids) = candidates {
        select = select.filter(apps::id.eq_any(ids));
    }
    // Each arm filters and orders by one index: the sort column's or, with a
    // status filter, the one led by is_active.
    let select = match (range, query.sort) {
        (Range::Equal { key, after_id }, _) => {
            select = match key {
                Key::Null => select.filter(never_used(conn, among)),
                Key::Value(SortValue::Time(time)) if query.sort == Sort::Created => {
                    select.filter(apps::created_at.eq(*time))
                }
                Key::Value(SortValue::Time(time)) => select.filter(apps::last_used_at.eq(*time)),
                Key::Value(SortValue::Name(name)) => select.filter(apps::name.eq(name.clone())),
            };
            select = match (after_id, ascending) {
                (Some(id), true) => select.filter(apps::id.gt(*id)),
                (Some(id), false) => select.filter(apps::id.lt(*id)),
                (None, _) => select,
            };
            ordered!(select, ascending, apps::id)
        }
        // Names are unique, so the name alone orders the list.
        (Range::Beyond(value), Sort::Name) => {
            select = match (value, ascending) {
                (Some(SortValue::Name(name)), true) => select.filter(apps::name.gt(name.clone())),
                (Some(SortValue::Name(name)), false) => select.filter(apps::name.lt(name.clone())),
                _ => select,
            };
            ordered!(select, ascending, apps::name)
        }
        (Range::Beyond(value), Sort::Created) => {
            select = match (value, ascending) {
                (Some(SortValue::Time(time)), true) => select.filter(apps::created_at.gt(*time)),
                (Some(SortValue::Time(time)), false) => select.filter(apps::created_at.lt(*time)),
                _ => select,
            };
            ordered!(select, ascending, apps::created_at, apps::id)
        }
        (Range::Beyond(value), Sort::LastUsed) => {
            select = match (value, ascending) {
                (Some(SortValue::Time(time)), true) => select.filter(apps::last_used_at.gt(*time)),
                (Some(SortValue::Time(time)), false) => select.filter(apps::last_used_at.lt(*time)),
                _ => select.filter(apps::last_used_at.is_not_null()),
            };
            ordered!(select, ascending, apps::last_used_at, apps::id)
        }
    };
    select.load(conn)
}

/// What each app's quota has counted in the period `now` falls in (apps with
/// nothing counted are left out). The verifier writes the counts within a
/// second of the verifications.
pub fn quota_used(
    conn: &mut DbConn,
    quotas: &[(i32, Quota)],
    now: NaiveDateTime,
) -> QueryResult<HashMap<i32, u64>> {
    if quotas.is_empty() {
        return Ok(HashMap::new());
    }
    let at = crate::limits::unix_seconds(now);
    let periods: HashMap<i32, i64> = quotas
        .iter()
        .map(|(id, quota)| (*id, quota.refill.period_start(at)))
        .collect();
    let rows: Vec<(i32, i64, i64)> = limit_counters::table
        .filter(limit_counters::window_seconds.eq(0))
        .filter(limit_counters::app_id.eq_any(periods.keys()))
        .select((
            limit_counters::app_id,
            limit_counters::window_start,
            limit_counters::count,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(id, start, _)| periods.get(id) == Some(start))
        .map(|(id, _, count)| (id, count.max(0) as u64))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use diesel::Connection;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use super::*;
    use crate::apps::domain::{ApiKey, AppName, NewApp};
    use crate::db::audit::Actor;

    #[test]
    fn like_patterns_escape_wildcards_and_lower_ascii_letters_only() {
        assert_eq!(like_pattern("MoBiLe"), "%mobile%");
        assert_eq!(like_pattern(r"50%_off\now"), r"%50\%\_off\\now%");
        assert_eq!(like_pattern("ÄPFEL ẞ"), "%Äpfel ẞ%");
    }

    /// Letters whose case ASCII, Unicode and FTS5 fold differently (dotted
    /// and dotless i, the Kelvin sign, final sigma, sharp s), and the
    /// characters LIKE, FTS5 queries and SQL treat specially.
    const ALPHABET: &[char] = &[
        'a', 'A', 'i', 'I', 'İ', 'ı', 'k', 'K', '\u{212A}', 'ä', 'Ä', 'ß', 'ẞ', 'σ', 'Σ', 'ς',
        '😀', '%', '_', '"', '\'', '\\', '*', '-', ' ',
    ];

    /// On SQLite, a search finds exactly the apps a substring filter that
    /// ignores ASCII case finds, whatever the trigram index folds.
    #[test]
    fn sqlite_search_finds_what_a_substring_filter_finds() {
        let mut conn = DbConn::establish(":memory:").unwrap();
        crate::db::run_migrations(&mut conn).unwrap();
        let now = chrono::Utc::now().naive_utc();
        let mut stored = Vec::new();
        for i in 0..80usize {
            let text: String = (0..3 + i % 9)
                .map(|j| ALPHABET[(i * 7 + j * j * 5 + j) % ALPHABET.len()])
                .collect();
            let name = AppName::parse(&format!("{i}{text}")).unwrap();
            let description = text.chars().rev().collect::<String>();
            let app = NewApp::plain(name.clone(), description.clone(), true);
            let actor = Actor::local(None, "unit test");
            crate::apps::queries::write::insert(&mut conn, &app, &ApiKey::generate(), &actor, now)
                .unwrap();
            stored.push((name.as_str().to_owned(), description));
        }
        // Up to 13 characters: a search of 10 or more covers four trigrams
        // or more, of which the index is asked for the rarest three.
        let substring = (0..stored.len(), 0..12usize, 1..14usize, any::<u64>()).prop_map({
            let stored = stored.clone();
            move |(app, start, len, flips)| {
                let text: Vec<char> = stored[app].0.chars().collect();
                let start = start.min(text.len() - 1);
                let end = (start + len).min(text.len());
                // Some letters in the other case, ASCII or not.
                (start..end)
                    .map(|i| match flips >> (i % 64) & 1 {
                        1 if text[i].is_lowercase() => text[i].to_uppercase().next().unwrap(),
                        1 => text[i].to_lowercase().next().unwrap(),
                        _ => text[i],
                    })
                    .collect::<String>()
            }
        });
        let anything = proptest::collection::vec(proptest::sample::select(ALPHABET), 1..6)
            .prop_map(|chars| chars.into_iter().collect::<String>());
        let conn = RefCell::new(conn);
        let stats = SearchStats::default();
        let mut runner = TestRunner::new(Config {
            cases: 400,
            ..Config::default()
        });
        runner
            .run(&prop_oneof![substring, anything], |q| {
                let q = q.trim().to_owned();
                if q.is_empty() {
                    return Ok(());
                }
                let holds =
                    |text: &str| text.to_ascii_lowercase().contains(&q.to_ascii_lowercase());
                let mut expected: Vec<&str> = stored
                    .iter()
                    .filter(|(name, description)| holds(name) || holds(description))
                    .map(|(name, _)| name.as_str())
                    .collect();
                expected.sort_unstable();
                let query = ListQuery {
                    q: q.clone(),
                    per_page: 100,
                    ..ListQuery::default()
                };
                let found = page(&mut conn.borrow_mut(), &query, now, &stats).unwrap();
                let found: Vec<&str> = found.rows.iter().map(|app| app.name.as_str()).collect();
                prop_assert_eq!(found, expected, "q = {:?}", q);
                Ok(())
            })
            .unwrap();
    }
}
