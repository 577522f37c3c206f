//! The verifier: the policy (`domain::judge`) fed from an in-process cache,
//! and the last-used times it collects.
//!
//! Answers come from an in-process cache of key hash → grant (with entries
//! for unknown hashes, see `cache`), so a verification costs no database work
//! once warm. Keys that fail the format check never reach the cache or
//! database.
//!
//! Freshness across instances: every change that can alter an answer writes,
//! in its own transaction, what it made stale to the change log
//! (`db::changes`): an app's keys, a role, a service, a key hash that now
//! exists. Each instance reads the rows after the last one it applied every
//! 250 ms and drops just those entries, so a change is honoured everywhere
//! well within a second, on SQLite and PostgreSQL alike, without any broker,
//! and costs the answers it does not touch nothing. A look-up that raced a
//! change is not cached (see `Cache::remember_key`). An instance that cannot
//! apply the log change by change (the counter moved, it fell behind, the log
//! was pruned past it) drops its whole cache and starts from where the log
//! is; if the poll fails the cache is dropped too: without the database
//! keyward would rather answer 503 than serve a grant it can no longer
//! confirm.
//!
//! Last-used times are collected in memory and written every few seconds in
//! short transactions of a bounded number of keys, never one write per
//! request; what fails to be written waits for the next time.
//!
//! Rate limits and quotas are counted by the `limiter`, in memory, and added
//! to the shared counts in the database in batches and four times a second
//! (see there for what that guarantees on one instance and on several).
//!
//! Every verification is counted toward its key, per hour and outcome
//! (`crate::usage`), in memory, and written every second.
//!
//! With `--database-outage allow`, a failed poll keeps the cache (during an
//! outage nobody can change a key, the console writes to the same database)
//! and limits are judged on this instance's own counts until the database
//! is back; with `refuse`, the default, the cache is dropped and every
//! verification answers 503.

mod cache;
mod last_used;
pub mod limiter;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use self::cache::{Cache, Cached};
use self::last_used::Pending;
use self::limiter::{Attempt, Limiter, SHARDS};
use super::domain::{Decision, KeyGrant, ServiceInfo, Target, judge};
use super::queries;
use crate::apps::domain::PresentedKey;
use crate::clock::SharedClock;
use crate::config::{DatabaseOutage, UsageSettings};
use crate::db::{self, Backend, DbConn, DbPool, changes};
use crate::error::AppError;
use crate::limits::unix_seconds;
use crate::metrics::Metrics;
use crate::services::domain::ServiceName;
use crate::usage::{self, Recorder};

pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
pub const LAST_USED_FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// How often the counts of rate limits and quotas are added to the shared ones.
pub const LIMITS_FLUSH_INTERVAL: Duration = Duration::from_millis(250);
/// Connections a cache miss's read tries before it answers 503.
const READ_TRIES: u32 = 4;
/// How often the usage counts are written, and how often retention runs.
pub const USAGE_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
const USAGE_RETENTION_INTERVAL: Duration = Duration::from_secs(600);
/// Usage counts one transaction writes.
const USAGE_CHUNK: usize = 1_000;
/// Chunks of finished hours rolled up into their days each second, at most.
const ROLLUP_CHUNKS_A_CALL: usize = 20;
/// After a failed write of counts, verifications do not try again for this
/// long (the background flush does).
const LIMITS_RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);
/// Counts of rate-limit windows are kept this long (seconds) after the
/// window ends, and quota periods this long after they begin.
const KEEP_WINDOWS: i64 = 120;
const KEEP_PERIODS: i64 = 40 * 86_400;
/// Keys whose last use one transaction writes: SQLite's write lock is held
/// for milliseconds, not for the seconds a million keys took in one.
const LAST_USED_CHUNK: usize = 1_000;
/// Most changes applied in one poll; an instance further behind (it was
/// stopped, or a burst wrote more) drops its cache and starts over instead.
const MAX_CHANGES_PER_POLL: usize = 10_000;
/// The change log keeps ten minutes, far more than any running instance
/// needs: one that has not read it for that long starts over.
const KEEP_CHANGES: Duration = Duration::from_secs(600);
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);
/// Changes one pruning transaction deletes at most.
const PRUNE_BATCH: i64 = 10_000;
/// Metric labels for verifications that ended without a verdict: the database
/// was unreachable, or something unexpected failed.
const UNAVAILABLE: &str = "UNAVAILABLE";
const ERROR: &str = "ERROR";

pub struct Verifier {
    pool: DbPool,
    /// Run look-ups on the request's own thread when a connection is idle.
    inline_reads: bool,
    /// Expiry and grace periods are judged against this clock.
    clock: SharedClock,
    cache: Cache,
    last_used: Pending,
    /// Held while last-used times are written, so the final write at shutdown
    /// waits for a periodic one already under way.
    flushing: tokio::sync::Mutex<()>,
    flushing_usage: tokio::sync::Mutex<()>,
    limiter: Limiter,
    outage: DatabaseOutage,
    /// Until when (milliseconds since `born`) no verification tries to sync
    /// its counts after one failed: an outage costs each request nothing,
    /// not a connection attempt. The background flush keeps trying.
    limits_offline_until: AtomicU64,
    born: Instant,
    /// Verifications counted for the usage pages; `None` with counting off.
    usage: Option<Recorder>,
    /// The hour (Unix seconds) at whose start the last periodic roll-up
    /// found every earlier hour in its days: until the clock reaches the
    /// next hour, this instance has nothing to roll and opens no write
    /// transaction each second to be told so. (Late counts for an earlier
    /// hour go to its day when it is rolled; ones written as hours meanwhile,
    /// for an hour that had no rows when it was passed, wait for the next
    /// hour's roll-up, and the day charts read unrolled hours too.)
    usage_rolled_before: AtomicI64,
    usage_retention_days: u32,
    metrics: Arc<Metrics>,
}

/// What a poll read.
enum Read {
    /// Where the log stands, for a cache that starts (over).
    Position(changes::Position),
    /// The changes after the cache's position.
    Log(changes::Log),
}

impl Verifier {
    /// A verifier caching at most `capacity` keys (0 turns the key cache off).
    pub fn new(
        pool: DbPool,
        backend: Backend,
        capacity: usize,
        clock: SharedClock,
        outage: DatabaseOutage,
        usage: UsageSettings,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        metrics.declare_verification_codes(
            super::domain::Code::ALL
                .iter()
                .map(|code| code.as_str())
                .chain([UNAVAILABLE, ERROR]),
        );
        let started = unix_seconds(clock.now());
        Arc::new(Verifier {
            pool,
            clock,
            limiter: Limiter::new(started),
            outage,
            limits_offline_until: AtomicU64::new(0),
            born: Instant::now(),
            usage: usage.count.then(Recorder::default),
            usage_rolled_before: AtomicI64::new(i64::MIN),
            usage_retention_days: usage.retention_days,
            inline_reads: backend == Backend::Sqlite,
            cache: Cache::new(capacity),
            last_used: Pending::default(),
            flushing: tokio::sync::Mutex::new(()),
            flushing_usage: tokio::sync::Mutex::new(()),
            metrics,
        })
    }

    /// Judges a presented key and, if given, a request; counts the answer and
    /// its time in the metrics. Without the database the answer is an error
    /// (503), never a verdict about the key.
    pub async fn verify(
        &self,
        presented: Option<&str>,
        target: Option<&Target>,
        client: Option<IpAddr>,
    ) -> Result<Decision, AppError> {
        let started = Instant::now();
        let result = self.judge(presented, target, client).await;
        let code = match &result {
            Ok(decision) => decision.code.as_str(),
            Err(AppError::DatabaseUnavailable(_)) => UNAVAILABLE,
            Err(_) => ERROR,
        };
        self.metrics.record_verification(code, started.elapsed());
        if let (Some(usage), Ok(decision)) = (&self.usage, &result) {
            let app_id = decision.app.as_ref().map_or(usage::GLOBAL, |app| app.id);
            usage.record(app_id, code, unix_seconds(self.clock.now()));
        }
        result
    }

    async fn judge(
        &self,
        presented: Option<&str>,
        target: Option<&Target>,
        client: Option<IpAddr>,
    ) -> Result<Decision, AppError> {
        let Some(presented) = presented.map(str::trim) else {
            return Ok(Decision::missing());
        };
        let key = match PresentedKey::parse(presented) {
            Ok(key) => key,
            Err(why) => return Ok(Decision::malformed(why)),
        };
        let Some(cached) = self.key_grant(key.digest()).await? else {
            return Ok(Decision::not_found());
        };
        let service = match target {
            Some(target) => self.service(&target.service).await?,
            None => None,
        };
        let now = self.clock.now();
        let mut decision = judge(&cached.grant, target, client, service, now);
        if decision.valid() {
            decision = self.limit(&cached.grant, decision, now).await?;
        }
        if decision.counts_as_use() {
            self.record_use(&cached);
        }
        Ok(decision)
    }

    /// A valid decision, judged against the key's rate limits and quota (and
    /// counted when they admit it).
    async fn limit(
        &self,
        grant: &KeyGrant,
        decision: Decision,
        now: NaiveDateTime,
    ) -> Result<Decision, AppError> {
        let limits = grant.rate_limits();
        let quota = grant.limits().quota;
        if limits.is_empty() && quota.is_none() {
            return Ok(decision);
        }
        let at = unix_seconds(now);
        let mut local_only = false;
        loop {
            match self
                .limiter
                .try_admit(grant.app_id, limits, quota, at, local_only)
            {
                Attempt::Judged(None, report) => {
                    return Ok(Decision {
                        limits: Some(report),
                        ..decision
                    });
                }
                Attempt::Judged(Some(refusal), report) => {
                    return Ok(decision.limited(refusal, report));
                }
                Attempt::Sync(shard) => {
                    let synced = if self.limits_offline() {
                        Err(AppError::DatabaseUnavailable(anyhow::anyhow!(
                            "rate-limit counts could not be written a moment ago"
                        )))
                    } else {
                        self.sync_counts(shard, false).await
                    };
                    if let Err(e) = synced {
                        match self.outage {
                            DatabaseOutage::Refuse => return Err(e),
                            DatabaseOutage::Allow => local_only = true,
                        }
                    }
                }
            }
        }
    }

    fn limits_offline(&self) -> bool {
        self.born.elapsed().as_millis()
            < u128::from(self.limits_offline_until.load(Ordering::Relaxed))
    }

    /// Adds a shard's counts to the shared ones and reads back the totals:
    /// those that must sync before a request can be judged, or (`all`) every
    /// one with something counted. On failure the counts wait for the next.
    async fn sync_counts(&self, shard: usize, all: bool) -> Result<(), AppError> {
        let _turn = self.limiter.sync_turn(shard).await;
        let at = unix_seconds(self.clock.now());
        let taken = self.limiter.begin_sync(shard, all, at);
        if taken.is_empty() {
            return Ok(());
        }
        let writing = taken.clone();
        let result = db::run(&self.pool, move |conn| queries::add_counts(conn, &writing)).await;
        let error = match result {
            Ok(Ok(totals)) => {
                self.limiter.end_sync(shard, &taken, Some(&totals));
                self.limits_offline_until.store(0, Ordering::Relaxed);
                return Ok(());
            }
            Ok(Err(e)) => e.into(),
            Err(e) => e,
        };
        self.limiter.end_sync(shard, &taken, None);
        let retry = self.born.elapsed() + LIMITS_RETRY_AFTER_FAILURE;
        self.limits_offline_until
            .store(retry.as_millis() as u64, Ordering::Relaxed);
        Err(error)
    }

    /// Adds every count of rate limits and quotas to the shared ones (four
    /// times a second, and once more at shutdown).
    pub async fn flush_limits(&self) {
        for shard in 0..SHARDS {
            if let Err(e) = self.sync_counts(shard, true).await {
                log::warn!(
                    "recording rate-limit and quota counts failed ({e}); kept for the next try"
                );
                return;
            }
        }
    }

    async fn key_grant(&self, digest: [u8; 32]) -> Result<Option<Arc<Cached>>, AppError> {
        let ticket = match self.cache.key(&digest) {
            Ok(found) => {
                self.metrics.record_cache(true);
                return Ok(found);
            }
            Err(ticket) => ticket,
        };
        self.metrics.record_cache(false);
        let hash = hex::encode(digest);
        let loaded = self
            .read(move |conn| queries::load_key(conn, &hash))
            .await?;
        Ok(self.cache.remember_key(ticket, digest, loaded))
    }

    async fn service(&self, name: &str) -> Result<Option<ServiceInfo>, AppError> {
        let ticket = match self.cache.service(name) {
            Ok(found) => return Ok(found),
            Err(ticket) => ticket,
        };
        // What cannot be a service name names no service: no look-up (a NUL
        // would be a query error on PostgreSQL) and no cache entry. Checked
        // on a miss only, so a cached answer costs no parsing.
        if ServiceName::parse(name).is_err() {
            return Ok(None);
        }
        let lookup = name.to_owned();
        let loaded = self
            .read(move |conn| queries::load_service(conn, &lookup))
            .await?;
        // Services are few and always cached, even with the key cache off.
        self.cache.remember_service(ticket, name.to_owned(), loaded);
        Ok(loaded)
    }

    /// A cache miss's database read. On SQLite in WAL mode a reader never
    /// waits for the writer, and an indexed look-up on an idle connection takes
    /// microseconds, less than the hop to the blocking pool; so it runs inline
    /// when a connection is idle. Otherwise (none idle, or PostgreSQL over the
    /// network) it goes through the blocking pool like every other query.
    ///
    /// A read that finds its connection dead (the database restarted since
    /// it was opened) is tried again on another, a few times: the dead one is
    /// dropped from the pool, and the database is back, so the answer should
    /// be a verdict, not a 503.
    async fn read<R, F>(&self, work: F) -> Result<R, AppError>
    where
        F: Fn(&mut DbConn) -> QueryResult<R> + Clone + Send + 'static,
        R: Send + 'static,
    {
        let mut tries = READ_TRIES;
        loop {
            tries -= 1;
            let result = if self.inline_reads
                && let Some(mut conn) = self.pool.try_get()
            {
                work(&mut conn)
            } else {
                db::run(&self.pool, work.clone()).await?
            };
            match result {
                Err(e) if tries > 0 && crate::error::is_connection_lost(&e) => continue,
                result => return Ok(result?),
            }
        }
    }

    /// Reads the change log and applies what changed since the last poll;
    /// starts over where that cannot be done change by change, and drops the
    /// cache when the log cannot be read. The metrics show where it got to.
    pub async fn poll(&self) {
        self.read_changes().await;
        self.metrics
            .record_change_log_position(self.cache.position().map(|at| at.last_id));
    }

    async fn read_changes(&self) {
        let at = self.cache.position();
        let read = db::run(&self.pool, move |conn| match at {
            None => changes::position(conn).map(Read::Position),
            Some(at) => {
                changes::since(conn, at.last_id, MAX_CHANGES_PER_POLL as i64 + 1).map(Read::Log)
            }
        })
        .await;
        let position = match read {
            Ok(Ok(Read::Log(log))) if self.cache.apply(&log, MAX_CHANGES_PER_POLL) => return,
            Ok(Ok(Read::Position(position))) => Ok(Ok(position)),
            Ok(Ok(Read::Log(_))) => {
                log::info!("verification cache starts over: the change log moved too far");
                db::run(&self.pool, changes::position).await
            }
            Ok(Err(e)) => Ok(Err(e)),
            Err(e) => Err(e),
        };
        // Nobody can change a key while the database is down: under
        // `--database-outage allow` the cache stays, and the poll goes on
        // from where it was once the database is back.
        let kept = self.outage == DatabaseOutage::Allow && at.is_some();
        match position {
            Ok(Ok(position)) => self.cache.start_over(Some(position)),
            Ok(Err(e)) if kept => {
                log::warn!("reading the change log failed ({e}); cached keys go on being judged");
            }
            Err(e) if kept => {
                log::warn!("the database cannot be reached ({e}); cached keys go on being judged");
            }
            Ok(Err(e)) => {
                log::warn!("reading the change log failed: {e}");
                self.cache.start_over(None);
            }
            Err(e) => {
                if at.is_some() {
                    log::warn!("verification cache dropped: {e}");
                }
                self.cache.start_over(None);
            }
        }
    }

    fn record_use(&self, cached: &Cached) {
        let now = chrono::Utc::now();
        let second = now.timestamp();
        if cached.last_queued.swap(second, Ordering::Relaxed) == second {
            return;
        }
        self.last_used.record(cached.grant.app_id, now.naive_utc());
    }

    /// Writes the collected last-used times, a bounded chunk to a transaction.
    /// After a failed write, that chunk and the ones not yet tried wait for
    /// the next flush, merged with the times collected meanwhile.
    pub async fn flush_last_used(&self) {
        let _flushing = self.flushing.lock().await;
        let mut chunks = self.last_used.take(LAST_USED_CHUNK).into_iter();
        let mut written = 0;
        while let Some(chunk) = chunks.next() {
            let count = chunk.len();
            let writing = chunk.clone();
            let result = db::run(&self.pool, move |conn| {
                queries::record_last_used(conn, &writing)
            })
            .await;
            let error = match result {
                Ok(Ok(())) => {
                    written += count;
                    continue;
                }
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            let kept: Vec<_> = chunk.into_iter().chain(chunks.flatten()).collect();
            log::warn!(
                "recording last-used times failed ({error}); {} kept for the next try",
                kept.len()
            );
            self.last_used.put_back(kept);
            break;
        }
        if written > 0 {
            log::debug!("recorded last use of {written} keys");
        }
    }

    /// Writes the verifications counted for the usage pages, a bounded chunk
    /// to a transaction; what fails to be written waits for the next time.
    /// Returns whether everything taken was written.
    pub async fn flush_usage(&self) -> bool {
        let Some(usage) = &self.usage else {
            return true;
        };
        let _flushing = self.flushing_usage.lock().await;
        let taken = usage.take();
        let mut chunks = taken.chunks(USAGE_CHUNK);
        while let Some(chunk) = chunks.next() {
            let writing = chunk.to_vec();
            let error =
                match db::run(&self.pool, move |conn| usage::queries::add(conn, &writing)).await {
                    Ok(Ok(())) => continue,
                    Ok(Err(e)) => e.to_string(),
                    Err(e) => e.to_string(),
                };
            let kept: Vec<_> = chunk
                .iter()
                .copied()
                .chain(chunks.flatten().copied())
                .collect();
            log::warn!(
                "recording usage failed ({error}); {} counts kept for the next try",
                kept.len()
            );
            usage.put_back(kept);
            return false;
        }
        true
    }

    /// Rolls finished hours of usage up into their days, a bounded chunk to
    /// a transaction and at most `chunks` of them, so that the counts
    /// written meanwhile wait little (each second `ROLLUP_CHUNKS_A_CALL`:
    /// at a million keys in use an hour is a million rows, rolled in about
    /// ten seconds). Returns whether every finished hour is rolled.
    async fn roll_up_usage(&self, chunks: usize) -> bool {
        if self.usage.is_none() {
            return true;
        }
        let now = unix_seconds(self.clock.now());
        self.repeat("rolling usage up into days", chunks, move |conn| {
            usage::queries::roll_up_next_chunk(conn, now)
        })
        .await
    }

    /// The roll-up of each second: none while the clock is in the hour a
    /// roll-up last found nothing before.
    async fn roll_up_usage_periodically(&self) {
        let now = unix_seconds(self.clock.now());
        let hour = now - now.rem_euclid(usage::HOUR);
        if self.usage_rolled_before.load(Ordering::Relaxed) == hour {
            return;
        }
        if self.roll_up_usage(ROLLUP_CHUNKS_A_CALL).await {
            self.usage_rolled_before.store(hour, Ordering::Relaxed);
        }
    }

    /// Deletes hourly usage older than the retention (its days keep it: all
    /// that is over is rolled up first), a day to a transaction, and days
    /// older than a year.
    pub async fn prune_usage(&self) {
        if self.usage.is_none() {
            return;
        }
        self.roll_up_usage(usize::MAX).await;
        let now = unix_seconds(self.clock.now());
        let before = now - i64::from(self.usage_retention_days) * usage::DAY;
        self.repeat("pruning hourly usage", usize::MAX, move |conn| {
            usage::queries::prune_hours_of_one_day(conn, before)
        })
        .await;
        let before = now - usage::KEEP_DAYS * usage::DAY;
        if let Err(e) = db::run(&self.pool, move |conn| {
            usage::queries::prune_days(conn, before)
        })
        .await
        {
            log::warn!("pruning usage failed: {e}");
        }
    }

    /// Runs `step`, each time on a connection of its own, while it answers
    /// that there is more to do, at most `times` times. A failure is logged
    /// ("`doing` failed: …") and ends it. Returns whether `step` answered
    /// that it was done.
    async fn repeat<F>(&self, doing: &str, times: usize, step: F) -> bool
    where
        F: Fn(&mut DbConn) -> QueryResult<bool> + Clone + Send + 'static,
    {
        for _ in 0..times {
            let step = step.clone();
            let more = db::run(&self.pool, move |conn| step(conn))
                .await
                .map_err(|e| e.to_string())
                .and_then(|stepped| stepped.map_err(|e| e.to_string()));
            match more {
                Ok(true) => continue,
                Ok(false) => return true,
                Err(e) => {
                    log::warn!("{doing} failed: {e}");
                    return false;
                }
            }
        }
        false
    }

    /// Deletes counts of windows and periods long past.
    async fn prune_counts(&self) {
        let now = unix_seconds(self.clock.now());
        match db::run(&self.pool, move |conn| {
            queries::prune_counts(conn, now, KEEP_WINDOWS, KEEP_PERIODS)
        })
        .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => log::warn!("pruning rate-limit counts failed: {e}"),
            Err(e) => log::warn!("pruning rate-limit counts failed: {e}"),
        }
    }

    /// Deletes changes older than every running instance needs.
    async fn prune_changes(&self) {
        let before = chrono::Utc::now().naive_utc()
            - chrono::Duration::from_std(KEEP_CHANGES).unwrap_or(chrono::Duration::MAX);
        self.repeat("pruning the change log", usize::MAX, move |conn| {
            changes::prune(conn, before, PRUNE_BATCH).map(|deleted| deleted as i64 >= PRUNE_BATCH)
        })
        .await;
    }

    /// Starts the change poller, the last-used writer and the change log's
    /// pruning on the current runtime.
    pub fn spawn_background_tasks(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        fn every(interval: Duration) -> tokio::time::Interval {
            let mut every = tokio::time::interval(interval);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every
        }
        let poller = Arc::clone(self);
        let polling = tokio::spawn(async move {
            let mut every = every(POLL_INTERVAL);
            loop {
                every.tick().await;
                poller.poll().await;
            }
        });
        let writer = Arc::clone(self);
        let writing = tokio::spawn(async move {
            let mut every = every(LAST_USED_FLUSH_INTERVAL);
            loop {
                every.tick().await;
                writer.flush_last_used().await;
            }
        });
        let pruner = Arc::clone(self);
        let pruning = tokio::spawn(async move {
            let mut every = every(PRUNE_INTERVAL);
            every.tick().await;
            loop {
                every.tick().await;
                pruner.prune_changes().await;
                pruner.prune_counts().await;
            }
        });
        let recorder = Arc::clone(self);
        let recording = tokio::spawn(async move {
            let mut every = every(USAGE_FLUSH_INTERVAL);
            loop {
                every.tick().await;
                // Counts that could not be written mean a database that is
                // away or busy: no roll-up on top.
                if recorder.flush_usage().await {
                    recorder.roll_up_usage_periodically().await;
                }
            }
        });
        let keeper = Arc::clone(self);
        let keeping = tokio::spawn(async move {
            // The first tick is at once: retention runs at start too.
            let mut every = every(USAGE_RETENTION_INTERVAL);
            loop {
                every.tick().await;
                keeper.prune_usage().await;
            }
        });
        let counter = Arc::clone(self);
        let counting = tokio::spawn(async move {
            let mut every = every(LIMITS_FLUSH_INTERVAL);
            loop {
                every.tick().await;
                counter.flush_limits().await;
            }
        });
        vec![polling, writing, pruning, counting, recording, keeping]
    }
}
