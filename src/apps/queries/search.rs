//! The API Keys list's search of 3 or more characters: how to ask the
//! trigram index (the `apps_search` migration) for the few apps that may
//! hold it, so that the list's range queries need not walk every app (see
//! [`super::list`]).
//!
//! Either index is asked for trigrams that every app holding the search
//! holds (the covering trigrams, [`covering_trigrams`]), all required: the
//! apps it returns are a superset of the matches, and each is still tested by
//! the list's LIKE, so the index's own case folding never changes what is
//! found.
//!
//! ## SQLite
//!
//! The index is an FTS5 table, asked first ([`candidates`]). What a search
//! costs it is about how many apps the trigrams it asks for walk through
//! together, and a long search (a name) covers more trigrams than it needs:
//! `sync-prod-0000` covers five, and at 1,000,000 apps `syn` is in one of
//! eight and `rod` in one of four. [`SearchStats`] remembers roughly how many
//! apps hold each trigram, and a search of more than [`ASKED`] covering
//! trigrams asks for the rarest three only: at 1,000,000 apps, 76 instead of
//! 121 µs for that name (measured through the same SQLite). The counts only
//! choose among trigrams that are all required anyway, so a stale count can
//! cost time, never a match.
//!
//! FTS5 keeps the index as segments, a new one for each transaction that
//! writes apps, merged a few at a time as more come; a search reads each
//! trigram from every segment. [`merge_step`] merges them all into one, a
//! bounded step at a time (keyward does at start and then daily): at
//! 1,000,000 apps filled 5,000 to a transaction, that search's trigrams went
//! from 76 to 53 µs, and a search that matches nothing from 42 to 9 µs.
//!
//! ## PostgreSQL
//!
//! The indexes are GIN (pg_trgm) on the very expressions the LIKE tests, and
//! the planner chooses between them and the walk by its statistics, which
//! it keeps well: a name is estimated at a few apps, `mobile` at one in
//! eight. But handed a search's whole pattern, pg_trgm asks the index for
//! every trigram of it, padded ones at each word's start and end included:
//! 13 for `sync-prod-0000`, most held by a quarter of the apps or more, and
//! walking them all to the 31 apps holding every one took 1.7 of the query's
//! 1.9 ms at 100,000 apps. Its covering trigrams, each a LIKE of its own,
//! ask for 6 and take 0.13 ms. Those LIKEs would mislead the planner,
//! though: it multiplies their estimates and takes `mobile` for rare,
//! reading 12,500 apps by the index to show ten (40 ms instead of 0.2).
//! So keyward asks for the covering trigrams only for a search it knows to
//! be rare, by a sample of the apps ([`rare_trigrams`]), and
//! hands every other search to the planner whole.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::dsl::{max, min, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use rand::Rng;

use crate::db::{self, DbConn};
use crate::schema::apps;

/// The most apps a search reads from the trigram index. A search that may
/// match more goes by the walk instead: at least one app in a thousand holds
/// it (at a million apps), and those are likely to fill a page soon.
/// Fewer, and reading them all (a lookup by id each, per range) is cheaper
/// than walking to them.
pub const MAX_CANDIDATES: usize = 1_000;

/// How many covering trigrams a search asks the index for when it has
/// counts: the rarest.
const ASKED: usize = 3;

/// Counts stop here: counting walks a trigram's apps, and beyond this many
/// a trigram only needs to be known as common. A tenth of a million apps,
/// so that the names of a large installation (`-prod-` in one of four,
/// `sync` in one of eight, `c-p` in one of thirty) still tell apart.
const COUNTED: i64 = 100_000;

/// How long a count is trusted before it is taken again: apps come and go,
/// and a count only ever chooses how to search.
const COUNT_LIFETIME: Duration = Duration::from_secs(600);

/// How many trigrams' counts are held (each a few dozen bytes).
const HELD_COUNTS: usize = 4_096;

/// How many apps the PostgreSQL sample draws: a search held by one app in
/// a thousand is in it about once, and testing a search against all of
/// them takes a few microseconds.
const SAMPLED: usize = 1_024;

/// How long a sample is trusted before it is drawn again.
const SAMPLE_LIFETIME: Duration = Duration::from_secs(600);

/// What this process knows of its database's apps for choosing how to ask
/// the trigram index: on SQLite, about how many apps hold each trigram, as
/// a search last counted it (up to [`COUNTED`]); on PostgreSQL, a sample of
/// the apps.
pub struct SearchStats {
    counts: quick_cache::sync::Cache<String, (i64, Instant)>,
    sample: Mutex<Option<Arc<Sample>>>,
}

impl Default for SearchStats {
    fn default() -> Self {
        SearchStats {
            counts: quick_cache::sync::Cache::new(HELD_COUNTS),
            sample: Mutex::new(None),
        }
    }
}

/// Apps drawn at random by id, to tell a rare search from a common one.
struct Sample {
    /// Each drawn app's name and description, their ASCII letters
    /// lower-cased as the LIKE compares them.
    texts: Vec<(String, String)>,
    /// How many ids were drawn (some may be of apps deleted since).
    drawn: u64,
    /// How many ids lie from the lowest app's to the highest's: about how
    /// many apps there are, and never fewer.
    span: u64,
    taken: Instant,
}

impl Sample {
    /// [`SAMPLED`] ids drawn from the span of the apps' ids, or the whole
    /// span when it holds no more, and the apps that have them.
    fn draw(conn: &mut DbConn) -> QueryResult<Sample> {
        let taken = Instant::now();
        let (low, high): (Option<i32>, Option<i32>) = apps::table
            .select((min(apps::id), max(apps::id)))
            .get_result(conn)?;
        let (Some(low), Some(high)) = (low, high) else {
            return Ok(Sample {
                texts: Vec::new(),
                drawn: 0,
                span: 0,
                taken,
            });
        };
        let span = u64::try_from(i64::from(high) - i64::from(low) + 1).unwrap_or(0);
        let sampled = apps::table.select((apps::name, apps::description));
        let (drawn, rows): (u64, Vec<(String, String)>) = if span <= SAMPLED as u64 {
            (
                span,
                sampled.filter(apps::id.between(low, high)).load(conn)?,
            )
        } else {
            let mut rng = rand::rng();
            let mut ids = HashSet::with_capacity(SAMPLED);
            while ids.len() < SAMPLED {
                ids.insert(rng.random_range(low..=high));
            }
            let ids: Vec<i32> = ids.into_iter().collect();
            (
                SAMPLED as u64,
                sampled.filter(apps::id.eq_any(ids)).load(conn)?,
            )
        };
        let texts = rows
            .into_iter()
            .map(|(name, description)| {
                (name.to_ascii_lowercase(), description.to_ascii_lowercase())
            })
            .collect();
        Ok(Sample {
            texts,
            drawn,
            span,
            taken,
        })
    }

    /// Whether, going by the sample, fewer than [`MAX_CANDIDATES`] apps
    /// hold `q` in their name or description (ignoring ASCII case, as the
    /// list's search does): the sampled apps holding it, scaled from the ids
    /// drawn to the span, are fewer.
    fn rare(&self, q: &str) -> bool {
        let q = q.to_ascii_lowercase();
        let finder = memchr::memmem::Finder::new(q.as_bytes());
        let allowed = MAX_CANDIDATES as u64 * self.drawn;
        let mut holding = 0u64;
        for (name, description) in &self.texts {
            if finder.find(name.as_bytes()).is_some()
                || finder.find(description.as_bytes()).is_some()
            {
                holding += 1;
                if holding * self.span >= allowed {
                    return false;
                }
            }
        }
        true
    }
}

impl SearchStats {
    /// This process's sample of the apps, drawn again once older than
    /// [`SAMPLE_LIFETIME`]. Two searches that find it old at once may both
    /// draw; the later draw is kept.
    fn sample(&self, conn: &mut DbConn) -> QueryResult<Arc<Sample>> {
        let held = self
            .sample
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(sample) = held
            && sample.taken.elapsed() < SAMPLE_LIFETIME
        {
            return Ok(sample);
        }
        let sample = Arc::new(Sample::draw(conn)?);
        *self.sample.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&sample));
        Ok(sample)
    }

    /// How many apps hold `trigram` (up to [`COUNTED`]): as counted within
    /// [`COUNT_LIFETIME`], or counted now.
    fn count(&self, conn: &mut SqliteConnection, trigram: &str) -> QueryResult<i64> {
        // FTS5 folds case; so does the key, near enough to share a count.
        let key = trigram.to_lowercase();
        if let Some((count, at)) = self.counts.get(&key)
            && at.elapsed() < COUNT_LIFETIME
        {
            return Ok(count);
        }
        #[derive(QueryableByName)]
        struct Counted {
            #[diesel(sql_type = BigInt)]
            count: i64,
        }
        let counted = diesel::sql_query(
            "SELECT count(*) AS count \
             FROM (SELECT 1 FROM apps_search WHERE apps_search MATCH ? LIMIT ?)",
        )
        .bind::<Text, _>(fts_match(&[trigram]))
        .bind::<BigInt, _>(COUNTED)
        .get_result::<Counted>(conn)?;
        self.counts.insert(key, (counted.count, Instant::now()));
        Ok(counted.count)
    }
}

/// The trigrams that cover `q` (3 or more characters), one at every third
/// character and the last, each once, in order. An app holding `q` in its
/// name or description holds each of them, whatever the case. Fewer than
/// all of the search's trigrams, and no positions compared: for a
/// 14-character name the index reads 5 doclists instead of 12 (about 180
/// instead of 430 µs at 1,000,000 apps), and the few more candidates this
/// lets through the LIKE turns away.
fn covering_trigrams(q: &str) -> Vec<String> {
    let chars: Vec<char> = q.chars().collect();
    let last = chars.len().saturating_sub(3);
    let mut starts: Vec<usize> = (0..=last).step_by(3).collect();
    if starts.last() != Some(&last) {
        starts.push(last);
    }
    let mut trigrams: Vec<String> = Vec::new();
    for start in starts {
        let trigram: String = chars[start..(start + 3).min(chars.len())].iter().collect();
        if !trigrams.contains(&trigram) {
            trigrams.push(trigram);
        }
    }
    trigrams
}

/// The FTS5 query that requires every one of `trigrams`: each in double
/// quotes (inside which only a double quote is special, and it is doubled).
fn fts_match(trigrams: &[&str]) -> String {
    trigrams
        .iter()
        .map(|trigram| format!("\"{}\"", trigram.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The [`ASKED`] rarest of `counted` (trigrams with their counts; the
/// earlier of two alike), in the order given, or `None` when asking for
/// fewer would not help: there are no more than that, or even the rarest is
/// common (as counted, so how rare the others are together is unknown and
/// asking for them all is the better bet).
fn rarest<'a>(counted: &[(&'a str, i64)]) -> Option<Vec<&'a str>> {
    if counted.len() <= ASKED {
        return None;
    }
    let mut by_count: Vec<usize> = (0..counted.len()).collect();
    by_count.sort_by_key(|&i| counted[i].1);
    if counted[by_count[0]].1 >= COUNTED {
        return None;
    }
    let mut chosen: Vec<usize> = by_count[..ASKED].to_vec();
    chosen.sort_unstable();
    Some(chosen.into_iter().map(|i| counted[i].0).collect())
}

/// What the trigram index found: how many apps, up to [`MAX_CANDIDATES`] + 1,
/// and their ids.
#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    count: i64,
    /// Comma-separated; `NULL` when none was found.
    #[diesel(sql_type = Nullable<Text>)]
    ids: Option<String>,
}

/// Up to [`MAX_CANDIDATES`] apps that hold every one of `trigrams`, by the
/// FTS5 index alone; `None` when more do.
///
/// One row comes back, the count and the ids in one string: a search that
/// matches many apps (the first letters of a word) is told so without
/// 1,001 rows handed over one by one. At 1,000,000 apps that took a search
/// for `mobile` (one app in eight) from 320–445 to 250–285 µs for the whole
/// page's queries.
fn holding(conn: &mut SqliteConnection, trigrams: &[&str]) -> QueryResult<Option<Vec<i32>>> {
    let most = i64::try_from(MAX_CANDIDATES).unwrap_or(i64::MAX);
    let found = diesel::sql_query(
        "SELECT count(*) AS count, group_concat(id) AS ids \
         FROM (SELECT rowid AS id FROM apps_search WHERE apps_search MATCH ? LIMIT ?)",
    )
    .bind::<Text, _>(fts_match(trigrams))
    .bind::<BigInt, _>(most.saturating_add(1))
    .get_result::<Found>(conn)?;
    if found.count > most {
        return Ok(None);
    }
    let Some(ids) = found.ids else {
        return Ok(Some(Vec::new()));
    };
    ids.split(',')
        .map(str::parse)
        .collect::<Result<Vec<i32>, _>>()
        .map(Some)
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// Up to [`MAX_CANDIDATES`] apps that may hold `q` (of 3 or more
/// characters); `None` when more may. The rarest covering trigrams first,
/// when the counts tell which; if more than that many apps hold those, all
/// the covering trigrams, as without counts.
pub fn candidates(
    conn: &mut SqliteConnection,
    stats: &SearchStats,
    q: &str,
) -> QueryResult<Option<Vec<i32>>> {
    let trigrams = covering_trigrams(q);
    let trigrams: Vec<&str> = trigrams.iter().map(String::as_str).collect();
    if trigrams.len() > ASKED {
        let counted = trigrams
            .iter()
            .map(|trigram| Ok((*trigram, stats.count(conn, trigram)?)))
            .collect::<QueryResult<Vec<_>>>()?;
        if let Some(rarest) = rarest(&counted)
            && let Some(found) = holding(conn, &rarest)?
        {
            return Ok(Some(found));
        }
    }
    holding(conn, &trigrams)
}

/// On PostgreSQL: the covering trigrams of `q` to ask the index for in
/// place of its whole pattern (see the module's documentation), when it
/// has more than one and the sample says few apps hold it; `None` when the
/// planner is better handed the whole pattern.
pub fn rare_trigrams(
    conn: &mut DbConn,
    stats: &SearchStats,
    q: &str,
) -> QueryResult<Option<Vec<String>>> {
    let trigrams = covering_trigrams(q);
    if trigrams.len() < 2 || !stats.sample(conn)?.rare(q) {
        return Ok(None);
    }
    Ok(Some(trigrams))
}

/// How many pages of the index a merge step writes, give or take a
/// trigram: FTS5 stops a merge only between two trigrams' lists. Merging an
/// index of 1,000,000 apps filled 5,000 to a transaction took 339 steps and
/// 3.1–4.1 s in all; a step held SQLite's write lock for 4–5 ms at the
/// median, 50–64 ms when its commit was the one to checkpoint the
/// write-ahead log (one step in twenty), and one step 0.66–0.84 s: the one
/// that wrote the trigrams of words in every app's description, lists of a
/// million apps each.
const MERGE_PAGES: i64 = 32;

/// How often the index is merged into one segment again, after the merge at
/// start. Merging rewrites all of it (about 120 MB at 1,000,000 apps), so
/// not often; between merges FTS5's own merging keeps the segments the new
/// apps add to a few per size.
pub const MERGE_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// One step of merging the SQLite trigram index into a single segment
/// (FTS5's `merge` with a negative page count, in a write transaction of
/// its own). Returns whether it merged anything: `false` once the index is
/// one segment, and on PostgreSQL, whose GIN indexes need no such care.
pub fn merge_step(conn: &mut DbConn) -> QueryResult<bool> {
    if !matches!(conn, DbConn::Sqlite(_)) {
        return Ok(false);
    }
    db::write(conn, |conn| {
        let changes = |conn: &mut DbConn| {
            diesel::select(sql::<BigInt>("total_changes()")).get_result::<i64>(conn)
        };
        let before = changes(conn)?;
        diesel::sql_query("INSERT INTO apps_search (apps_search, rank) VALUES ('merge', ?)")
            .bind::<BigInt, _>(-MERGE_PAGES)
            .execute(conn)?;
        // FTS5's documented test: a merge that did nothing changed fewer
        // than two rows.
        Ok(changes(conn)? - before >= 2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::domain::{ApiKey, AppName, NewApp};
    use crate::db::DbConn;
    use crate::db::audit::Actor;

    #[test]
    fn covering_trigrams_hold_every_character_of_the_search_as_itself() {
        let covering = |q| covering_trigrams(q).join("|");
        assert_eq!(covering("mob"), "mob");
        assert_eq!(covering("mobile"), "mob|ile");
        assert_eq!(covering("mobile1"), "mob|ile|le1");
        assert_eq!(covering("sync-prod-0000"), "syn|c-p|rod|-00|000");
        // Each trigram once.
        assert_eq!(covering("0000000"), "000");
        assert_eq!(covering("ÄPFEL ẞ😀"), "ÄPF|EL | ẞ😀");
    }

    #[test]
    fn fts_queries_quote_each_trigram_and_require_them_all() {
        assert_eq!(fts_match(&["mob", "ile"]), r#""mob" AND "ile""#);
        assert_eq!(
            fts_match(&["say", " \"h", "hi\""]),
            r#""say" AND " ""h" AND "hi""""#
        );
        assert_eq!(
            fts_match(&["a* ", "OR ", "l:b"]),
            r#""a* " AND "OR " AND "l:b""#
        );
    }

    #[test]
    fn the_rarest_three_are_asked_for_when_even_one_is_rarer_than_common() {
        // Trigrams with their counts, and the ones asked for.
        type Case<'a> = (&'a [(&'a str, i64)], Option<&'a [&'a str]>);
        let cases: &[Case] = &[
            // As `sync-prod-0000` at a million apps.
            (
                &[
                    ("syn", COUNTED),
                    ("c-p", 31_251),
                    ("rod", COUNTED),
                    ("-00", 10_000),
                    ("000", 3_700),
                ],
                Some(&["c-p", "-00", "000"]),
            ),
            // Alike counts: the earlier ones.
            (
                &[("aaa", 5), ("bbb", 5), ("ccc", 5), ("ddd", 5)],
                Some(&["aaa", "bbb", "ccc"]),
            ),
            (
                &[("aaa", 0), ("bbb", 9), ("ccc", 1), ("ddd", COUNTED)],
                Some(&["aaa", "bbb", "ccc"]),
            ),
            // No more than three: all of them, as without counts.
            (&[("mob", 2), ("ile", 3), ("le1", 4)], None),
            // Every one common: nothing tells which together are rare.
            (
                &[
                    ("aaa", COUNTED),
                    ("bbb", COUNTED),
                    ("ccc", COUNTED),
                    ("ddd", COUNTED),
                ],
                None,
            ),
        ];
        for (counted, expected) in cases {
            assert_eq!(rarest(counted).as_deref(), *expected, "{counted:?}");
        }
    }

    /// A sample of `texts` (lower-cased as drawn), `drawn` ids from a span of `span`.
    fn sample(texts: &[(&str, &str)], drawn: u64, span: u64) -> Sample {
        Sample {
            texts: texts
                .iter()
                .map(|(name, description)| {
                    (name.to_ascii_lowercase(), description.to_ascii_lowercase())
                })
                .collect(),
            drawn,
            span,
            taken: Instant::now(),
        }
    }

    #[test]
    fn a_search_is_rare_while_the_sample_scaled_to_all_apps_holds_it_fewer_than_a_thousand_times() {
        // 1,024 ids drawn from 100,000: each sampled app stands for about 98.
        let texts: Vec<(String, &str)> = (0..1_024)
            .map(|i| {
                (
                    format!("app-{i:04}"),
                    if i < 10 {
                        "Used by the Mobile team"
                    } else {
                        ""
                    },
                )
            })
            .collect();
        let texts: Vec<(&str, &str)> = texts.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let of_100k = sample(&texts, 1_024, 100_000);
        // 10 sampled: about 977 apps.
        assert!(of_100k.rare("mobile"));
        assert!(of_100k.rare("MOBILE TEAM"));
        // 11: about 1,074.
        let mut more = texts.clone();
        more[10].1 = "mobile";
        assert!(!sample(&more, 1_024, 100_000).rare("mobile"));
        // In names too, and nowhere at all.
        assert!(!of_100k.rare("app-0"));
        assert!(of_100k.rare("app-0001"));
        assert!(of_100k.rare("no such app"));
        // Every id of the span drawn: the count is exact, and 999 apps
        // holding it are rare, 1,000 not.
        let mut every: Vec<(String, &str)> =
            (0..2_000).map(|i| (format!("app-{i:04}"), "")).collect();
        for app in &mut every[..999] {
            app.1 = "mobile";
        }
        let texts: Vec<(&str, &str)> = every.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        assert!(sample(&texts, 2_000, 2_000).rare("mobile"));
        every[999].1 = "mobile";
        let texts: Vec<(&str, &str)> = every.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        assert!(!sample(&texts, 2_000, 2_000).rare("mobile"));
        // No apps: nothing is common.
        assert!(sample(&[], 0, 0).rare("anything"));
    }

    #[test]
    fn the_sample_ignores_the_case_of_ascii_letters_only() {
        let one_in_all = sample(&[("Äpfel MoBiLe", "")], 1, 1_000_000);
        assert!(!one_in_all.rare("pFEL MOBILE"));
        assert!(!one_in_all.rare("Äpfel"));
        assert!(one_in_all.rare("äpfel"));
    }

    /// A migrated in-memory database.
    fn database() -> DbConn {
        let mut conn = DbConn::establish(":memory:").unwrap();
        crate::db::run_migrations(&mut conn).unwrap();
        conn
    }

    fn sqlite_of(conn: &mut DbConn) -> &mut SqliteConnection {
        let DbConn::Sqlite(sqlite) = conn else {
            unreachable!("an in-memory database is SQLite")
        };
        sqlite
    }

    /// Writes an app named `name` in a transaction of its own; its id.
    fn insert(conn: &mut DbConn, name: &str) -> i32 {
        let app = NewApp::plain(AppName::parse(name).unwrap(), String::new(), true);
        let actor = Actor::local(None, "unit test");
        let now = chrono::Utc::now().naive_utc();
        crate::apps::queries::write::insert(conn, &app, &ApiKey::generate(), &actor, now).unwrap()
    }

    /// Counts that have gone stale (here: set by hand) choose trigrams
    /// that more apps hold together than a search reads; the search then
    /// asks for all its covering trigrams and still finds its few.
    #[test]
    fn a_search_whose_rarest_trigrams_are_common_after_all_asks_for_them_all() {
        let mut conn = database();
        let mut few = Vec::new();
        for i in 0..MAX_CANDIDATES + 20 {
            // Every app holds `abcdefghi`; six hold `abcdefghijkl`.
            let name = if i % 200 == 0 {
                format!("abcdefghijkl-{i}")
            } else {
                format!("abcdefghi-{i}")
            };
            let id = insert(&mut conn, &name);
            if i % 200 == 0 {
                few.push(id);
            }
        }
        let sqlite = sqlite_of(&mut conn);
        let counts = SearchStats::default();
        // As counted: `jkl` is the rare one, and it is asked for.
        assert_eq!(counts.count(sqlite, "jkl").unwrap(), 6);
        assert_eq!(
            candidates(sqlite, &counts, "abcdefghijkl").unwrap(),
            Some(few.clone())
        );
        // Stale: `jkl` as if common, the others as if rare.
        let at = Instant::now();
        for (trigram, count) in [("abc", 1), ("def", 1), ("ghi", 1), ("jkl", COUNTED)] {
            counts.counts.insert(trigram.to_owned(), (count, at));
        }
        assert_eq!(
            candidates(sqlite, &counts, "abcdefghijkl").unwrap(),
            Some(few)
        );
        // More apps hold the search than it reads: the list walks instead.
        assert_eq!(candidates(sqlite, &counts, "abcdefghi").unwrap(), None);
    }

    /// Apps written one transaction each leave the index in several
    /// segments; merging them ends, leaves one (the next step has nothing
    /// to do) and changes what no search finds. An app written afterwards
    /// is found, and merged again.
    #[test]
    fn merging_the_index_ends_in_one_segment_and_finds_the_same_apps() {
        let mut conn = database();
        for i in 0..300 {
            let stage = ["prod", "dev", "test"][i % 3];
            insert(&mut conn, &format!("sync-{stage}-{i:06}"));
        }
        let counts = SearchStats::default();
        let searches = [
            "sync",
            "prod-0000",
            "sync-test-000299",
            "-0001",
            "no-such-app",
        ];
        let found = |conn: &mut DbConn| {
            let sqlite = sqlite_of(conn);
            searches.map(|q| candidates(sqlite, &counts, q).unwrap())
        };
        let before = found(&mut conn);
        assert_eq!(before[2].as_ref().map(Vec::len), Some(1), "{before:?}");

        let mut steps = 0;
        while merge_step(&mut conn).unwrap() {
            steps += 1;
            assert!(steps < 1_000, "merging did not end");
        }
        assert!(steps > 0, "300 transactions left nothing to merge");
        assert!(
            !merge_step(&mut conn).unwrap(),
            "the merged index is not one segment"
        );
        assert_eq!(found(&mut conn), before);

        let id = insert(&mut conn, "sync-prod-000300");
        let sqlite = sqlite_of(&mut conn);
        assert_eq!(
            candidates(sqlite, &counts, "sync-prod-000300").unwrap(),
            Some(vec![id])
        );
        assert!(
            merge_step(&mut conn).unwrap(),
            "the new app's segment is not merged"
        );
        while merge_step(&mut conn).unwrap() {}
        let sqlite = sqlite_of(&mut conn);
        assert_eq!(
            candidates(sqlite, &counts, "sync-prod-000300").unwrap(),
            Some(vec![id])
        );
    }
}
