//! Rate limits and quotas, counted: one counter per key, window length and
//! window, in memory, added to a shared count in the database in batches.
//!
//! A counter holds what the database last said of its window (`known`),
//! what this instance admitted since (`pending`) and what it is adding right
//! now (`in_flight`); a request is judged against their sum. So:
//!
//! - **One instance is exact.** Everything it admitted is in that sum, and a
//!   window that began before the instance started (a restart) is read from
//!   the database before its first request is judged.
//! - **Several instances on one database never refuse under a limit** (the
//!   sum never exceeds the true count) and **overshoot by a bounded amount**:
//!   a counter holds at most one batch — a twentieth of its limit, at least
//!   1, at most 10,000 — that is not yet in the shared count (waiting or
//!   being added) before it must add it and read the total back, and a
//!   background flush adds every pending count four times a second. With `n`
//!   instances a window of `N` admits at most `N + (n − 1) × batch`
//!   requests: 5% over for two instances. (The instance judging last saw a
//!   total that holds all of the others' requests but their last batches.)
//! - **Quotas survive restarts**: their counts are in the database, read
//!   before the first request of a period. What a SIGKILL loses is what was
//!   admitted since the last flush: a quarter of a second's worth, at most a
//!   batch, so a quota of `N` admits at most `N + batch` across a SIGKILL.
//!
//! No request costs a database round trip except the first of a counter
//! (when its window is older than the instance) and the one that fills a
//! batch. Counters of ended windows and idle ones are dropped by the flush.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::limits::{Quota, RateLimits, Refusal, Report, check};

/// Counters are kept in this many shards (by app), each with its own lock
/// and its own sync.
pub const SHARDS: usize = 16;
/// The largest batch a counter admits between syncs.
pub const MAX_BATCH: u64 = 10_000;
/// A counter not used for this long (seconds) is dropped once written.
const IDLE_SECONDS: i64 = 600;

/// What a counter admits before it must sync: a twentieth of its limit.
pub fn batch(limit: u64) -> u64 {
    limit.div_ceil(20).clamp(1, MAX_BATCH)
}

/// One window of one limit of one key; `window_seconds` 0 is the quota, its
/// window the refill period's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CounterKey {
    pub app_id: i32,
    pub window_seconds: u32,
    pub window_start: i64,
}

#[derive(Debug)]
struct Counter {
    /// The shared count as the database last said; `None`: not read yet.
    known: Option<u64>,
    pending: u64,
    in_flight: u64,
    batch: u64,
    /// When a request last counted against it (Unix seconds).
    last_used: i64,
}

impl Counter {
    fn used(&self) -> Option<u64> {
        Some(self.known? + self.in_flight + self.pending)
    }

    /// Never read, or a batch not yet added to the shared count (whether
    /// waiting or being added): what keeps the overshoot bounded.
    fn needs_sync(&self) -> bool {
        self.known.is_none() || self.pending + self.in_flight >= self.batch
    }
}

#[derive(Default)]
struct Shard {
    counters: Mutex<HashMap<CounterKey, Counter>>,
    /// Held while the shard's counts are added to the database, so one sync
    /// at a time moves a counter's numbers.
    syncing: tokio::sync::Mutex<()>,
}

/// What a try to judge a request came to.
#[derive(Debug)]
pub enum Attempt {
    /// Judged (and, when nothing refused it, counted).
    Judged(Option<Refusal>, Report),
    /// These counters must sync first (of shard `shard`).
    Sync(usize),
}

/// What a sync takes from a shard: each counter, what it adds, and whether
/// its total must be read back.
pub type Taken = Vec<(CounterKey, u64)>;

pub struct Limiter {
    shards: Vec<Shard>,
    /// When this instance started (Unix seconds): a window that began
    /// later holds only what this instance counted, and what other
    /// instances add with their batches.
    started: i64,
}

impl Limiter {
    pub fn new(started: i64) -> Self {
        Limiter {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            started,
        }
    }

    pub fn shard_of(app_id: i32) -> usize {
        app_id.unsigned_abs() as usize % SHARDS
    }

    fn counters(&self, shard: usize) -> MutexGuard<'_, HashMap<CounterKey, Counter>> {
        self.shards[shard]
            .counters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits for the shard's sync turn.
    pub async fn sync_turn(&self, shard: usize) -> tokio::sync::MutexGuard<'_, ()> {
        self.shards[shard].syncing.lock().await
    }

    /// Judges one more request of `app_id` at `at` (Unix seconds) against
    /// its limits and quota, and counts it if they admit it. Asks for a sync
    /// first when a counter was never read or its batch is full, unless
    /// `local_only` (the database is down and the operator chose to go on):
    /// then a counter never read starts from 0 and batches have no end.
    pub fn try_admit(
        &self,
        app_id: i32,
        limits: &RateLimits,
        quota: Option<Quota>,
        at: i64,
        local_only: bool,
    ) -> Attempt {
        let shard = Self::shard_of(app_id);
        let mut counters = self.counters(shard);
        let wanted = limits
            .iter()
            .map(|limit| {
                let key = CounterKey {
                    app_id,
                    window_seconds: limit.window_seconds,
                    window_start: limit.window_start(at),
                };
                (key, limit.limit)
            })
            .chain(quota.map(|quota| {
                let key = CounterKey {
                    app_id,
                    window_seconds: 0,
                    window_start: quota.refill.period_start(at),
                };
                (key, quota.total)
            }));
        let mut needs_sync = false;
        let mut used = Vec::with_capacity(limits.iter().len() + 1);
        for (key, limit) in wanted {
            let counter = counters.entry(key).or_insert_with(|| Counter {
                known: (key.window_seconds > 0 && key.window_start >= self.started).then_some(0),
                pending: 0,
                in_flight: 0,
                batch: batch(limit),
                last_used: at,
            });
            counter.batch = batch(limit);
            counter.last_used = at;
            if local_only {
                counter.known.get_or_insert(0);
            } else if counter.needs_sync() {
                needs_sync = true;
            }
            used.push((key, counter.used().unwrap_or(0)));
        }
        if needs_sync {
            return Attempt::Sync(shard);
        }
        let quota_used = quota.map(|quota| (quota, used.last().map_or(0, |(_, n)| *n)));
        let rate_used: Vec<_> = limits
            .iter()
            .zip(&used)
            .map(|(limit, (_, n))| (*limit, *n))
            .collect();
        let (refusal, report) = check(&rate_used, quota_used, at);
        if refusal.is_none() {
            for (key, _) in &used {
                if let Some(counter) = counters.get_mut(key) {
                    counter.pending += 1;
                }
            }
        }
        Attempt::Judged(refusal, report)
    }

    /// Takes what a sync of `shard` adds: every counter that needs a sync
    /// (`all`: also every one with a count pending), moving its pending count
    /// in flight. With `all`, counters of ended windows and idle ones with
    /// nothing to write are dropped (`at`: now, Unix seconds).
    pub fn begin_sync(&self, shard: usize, all: bool, at: i64) -> Taken {
        let mut counters = self.counters(shard);
        if all {
            counters.retain(|key, counter| {
                let ended = key.window_seconds > 0
                    && key.window_start + i64::from(key.window_seconds) <= at;
                let idle = counter.last_used + IDLE_SECONDS <= at;
                counter.pending > 0 || counter.in_flight > 0 || !(ended || idle)
            });
        }
        counters
            .iter_mut()
            .filter(|(_, counter)| counter.needs_sync() || (all && counter.pending > 0))
            .map(|(key, counter)| {
                let adding = counter.pending;
                counter.in_flight += adding;
                counter.pending = 0;
                (*key, adding)
            })
            .collect()
    }

    /// Ends a sync: `totals` are the shared counts after the sync added what
    /// it took, one for each counter taken; without them (the write failed)
    /// what was taken is pending again.
    pub fn end_sync(&self, shard: usize, taken: &Taken, totals: Option<&[u64]>) {
        let mut counters = self.counters(shard);
        for (i, (key, added)) in taken.iter().enumerate() {
            // A counter with a count in flight is never dropped.
            let Some(counter) = counters.get_mut(key) else {
                continue;
            };
            counter.in_flight -= added;
            match totals.and_then(|totals| totals.get(i)) {
                Some(total) => counter.known = Some(*total),
                None => counter.pending += added,
            }
        }
    }

    /// Counters held (for the memory bound's tests).
    #[cfg(test)]
    pub fn counters_held(&self) -> usize {
        (0..SHARDS).map(|shard| self.counters(shard).len()).sum()
    }
}

#[cfg(test)]
mod tests;
