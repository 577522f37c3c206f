//! How keys are used: every verification counted toward its key per hour, by
//! outcome code (`VALID`, `FORBIDDEN`, `RATE_LIMITED`, …); requests with no
//! key keyward knows toward a global row ([`GLOBAL`]). Counts are gathered in
//! memory ([`Recorder`]) and added to `usage_counts` in batches, every second
//! and once more at shutdown, never one write per verification; every
//! instance adds its own, so the sums are exact across instances on one
//! database. Each count goes to its hour's row, for its key and for
//! everybody ([`ALL`]), so the dashboard's chart reads no key's rows at all.
//! Once an hour is over it is rolled up into its day's row, a few thousand
//! keys to a transaction; a chart of 30 days reads 30 rows and the hours
//! not rolled yet. One row written per count, not two: with a million keys
//! in use most counts are rows of their own. Hourly rows older than the
//! retention (90 days by default) are deleted a day at a time; daily rows
//! are kept a year.
//!
//! This module is plumbing: it knows counts, buckets and codes as strings,
//! and how to draw them ([`chart`]), not what the codes mean.

pub mod chart;
pub mod queries;
pub mod view;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDateTime, Utc};

/// The `app_id` of requests with no key keyward knows.
pub const GLOBAL: i32 = 0;
/// The `app_id` of every request, whatever its key: the dashboard's chart.
pub const ALL: i32 = -1;
pub const HOUR: i64 = 3_600;
pub const DAY: i64 = 86_400;
/// Daily rows are kept this long.
pub const KEEP_DAYS: i64 = 366;
/// Hourly rows are kept this many days by default (their days keep them longer).
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

const SHARDS: usize = 8;

/// One count: the app (or [`GLOBAL`]), the hour's start (Unix seconds), the code.
pub type Key = (i32, i64, &'static str);

/// Counts not yet written, by app, hour and code.
pub struct Recorder {
    shards: Vec<Mutex<HashMap<Key, u64>>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl Recorder {
    /// Counts one verification of `app_id` answered `code` at `at` (Unix
    /// seconds), toward the key and toward [`ALL`].
    pub fn record(&self, app_id: i32, code: &'static str, at: i64) {
        let hour = at - at.rem_euclid(HOUR);
        for app_id in [app_id, ALL] {
            let shard = &self.shards[app_id.unsigned_abs() as usize % SHARDS];
            if let Ok(mut counts) = shard.lock() {
                *counts.entry((app_id, hour, code)).or_insert(0) += 1;
            }
        }
    }

    /// Everything counted so far, taken for a write.
    pub fn take(&self) -> Vec<(Key, u64)> {
        let mut taken = Vec::new();
        for shard in &self.shards {
            if let Ok(mut counts) = shard.lock() {
                taken.extend(std::mem::take(&mut *counts));
            }
        }
        taken.sort_unstable_by_key(|(key, _)| *key);
        taken
    }

    /// Counts a write could not store, kept beside those counted meanwhile.
    pub fn put_back(&self, counts: impl IntoIterator<Item = (Key, u64)>) {
        for (key, n) in counts {
            let shard = &self.shards[key.0.unsigned_abs() as usize % SHARDS];
            if let Ok(mut pending) = shard.lock() {
                *pending.entry(key).or_insert(0) += n;
            }
        }
    }
}

/// How long one bucket of a series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    pub fn seconds(self) -> i64 {
        match self {
            Granularity::Hour => HOUR,
            Granularity::Day => DAY,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "hour" => Some(Granularity::Hour),
            "day" => Some(Granularity::Day),
            _ => None,
        }
    }

    /// The most buckets one series may have: 31 days of hours, 400 days.
    pub fn max_buckets(self) -> i64 {
        match self {
            Granularity::Hour => 31 * 24,
            Granularity::Day => 400,
        }
    }

    /// The start of the bucket `at` falls in.
    pub fn floor(self, at: i64) -> i64 {
        at - at.rem_euclid(self.seconds())
    }
}

/// A time range cut into buckets: `from` inclusive to `to` exclusive, both
/// on bucket boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: i64,
    pub to: i64,
    pub granularity: Granularity,
}

impl Range {
    /// The buckets that hold `from` to `to` (Unix seconds), or why not: the
    /// end before the start, or more buckets than a series holds.
    pub fn new(from: i64, to: i64, granularity: Granularity) -> Result<Self, String> {
        let step = granularity.seconds();
        let from = granularity.floor(from);
        let to = granularity.floor(to + step - 1);
        if to <= from {
            return Err("to must be later than from".into());
        }
        let buckets = (to - from) / step;
        if buckets > granularity.max_buckets() {
            return Err(format!(
                "At most {} buckets of a {}: ask for a shorter range or days",
                granularity.max_buckets(),
                granularity.as_str()
            ));
        }
        Ok(Range {
            from,
            to,
            granularity,
        })
    }

    /// The last `buckets` buckets up to and including the one `now` is in.
    pub fn last(buckets: i64, granularity: Granularity, now: i64) -> Self {
        let to = granularity.floor(now) + granularity.seconds();
        Range {
            from: to - buckets * granularity.seconds(),
            to,
            granularity,
        }
    }

    pub fn starts(&self) -> impl Iterator<Item = i64> + use<> {
        let step = self.granularity.seconds() as usize;
        (self.from..self.to).step_by(step)
    }
}

/// One bucket of a series: its start and what was counted in it, by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub start: i64,
    pub counts: BTreeMap<String, u64>,
}

impl Bucket {
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn start_time(&self) -> NaiveDateTime {
        time(self.start)
    }
}

/// Every bucket of `range` in order, empty ones too, from stored rows
/// (`(bucket start, code, count)`, of any granularity not coarser than the
/// range's: hourly rows fold into days).
pub fn series(range: &Range, rows: impl IntoIterator<Item = (i64, String, u64)>) -> Vec<Bucket> {
    let mut buckets: Vec<Bucket> = range
        .starts()
        .map(|start| Bucket {
            start,
            counts: BTreeMap::new(),
        })
        .collect();
    let step = range.granularity.seconds();
    for (start, code, count) in rows {
        if start < range.from || start >= range.to || count == 0 {
            continue;
        }
        let index = ((range.granularity.floor(start) - range.from) / step) as usize;
        if let Some(bucket) = buckets.get_mut(index) {
            *bucket.counts.entry(code).or_insert(0) += count;
        }
    }
    buckets
}

/// Each code's total over `buckets`.
pub fn totals(buckets: &[Bucket]) -> BTreeMap<String, u64> {
    let mut totals = BTreeMap::new();
    for bucket in buckets {
        for (code, n) in &bucket.counts {
            *totals.entry(code.clone()).or_insert(0) += n;
        }
    }
    totals
}

/// A Unix time as a date and time (UTC).
pub fn time(at: i64) -> NaiveDateTime {
    DateTime::<Utc>::from_timestamp(at, 0)
        .unwrap_or_default()
        .naive_utc()
}

#[cfg(test)]
mod tests;
