use std::collections::HashMap;

use super::*;
use crate::limits::{RateLimit, Refill};

/// The shared count, as the database keeps it.
#[derive(Default)]
struct Shared(HashMap<CounterKey, u64>);

impl Shared {
    /// One sync of `shard`, as the verifier runs it against the database.
    fn sync(&mut self, limiter: &Limiter, shard: usize, all: bool, at: i64) {
        let taken = limiter.begin_sync(shard, all, at);
        let totals: Vec<u64> = taken
            .iter()
            .map(|(key, added)| {
                let total = self.0.entry(*key).or_default();
                *total += added;
                *total
            })
            .collect();
        limiter.end_sync(shard, &taken, Some(&totals));
    }

    /// Judges one request, syncing first as often as asked.
    fn admit(
        &mut self,
        limiter: &Limiter,
        app: i32,
        limits: &RateLimits,
        quota: Option<Quota>,
        at: i64,
    ) -> (Option<Refusal>, Report) {
        loop {
            match limiter.try_admit(app, limits, quota, at, false) {
                Attempt::Judged(refusal, report) => return (refusal, report),
                Attempt::Sync(shard) => self.sync(limiter, shard, false, at),
            }
        }
    }
}

const T0: i64 = 1_800_000_000 - 1_800_000_000 % 86_400;

fn limits(text: &str) -> RateLimits {
    RateLimits::parse(text).unwrap()
}

#[test]
fn batches_are_a_twentieth_of_the_limit_within_bounds() {
    for (limit, expected) in [
        (1, 1),
        (20, 1),
        (21, 2),
        (200, 10),
        (10_000, 500),
        (1_000_000_000, MAX_BATCH),
    ] {
        assert_eq!(batch(limit), expected, "{limit}");
    }
}

#[test]
fn one_instance_admits_exactly_the_limit_in_each_window() {
    let limiter = Limiter::new(T0);
    let mut db = Shared::default();
    let limits = limits("7/minute");
    for window in 0..3 {
        let start = T0 + 60 * window;
        let admitted = (0..20)
            .filter(|i| db.admit(&limiter, 1, &limits, None, start + i).0.is_none())
            .count();
        assert_eq!(admitted, 7, "window {window}");
    }
    // What was admitted reached the shared count, batch by batch.
    db.sync(&limiter, Limiter::shard_of(1), true, T0 + 180);
    let minute = |start| CounterKey {
        app_id: 1,
        window_seconds: 60,
        window_start: start,
    };
    assert_eq!(db.0[&minute(T0)], 7);
    assert_eq!(db.0[&minute(T0 + 120)], 7);
}

#[test]
fn a_refused_request_counts_against_nothing() {
    let limiter = Limiter::new(T0);
    let mut db = Shared::default();
    let limits = limits("2/minute");
    let quota = Some(Quota::new(5, Refill::Never).unwrap());
    // Two per minute, the quota five in all: over three minutes, 2 + 2 + 1.
    let mut admitted = 0;
    let mut refusals = Vec::new();
    for minute in 0..4 {
        for second in 0..4 {
            match db.admit(&limiter, 9, &limits, quota, T0 + 60 * minute + second) {
                (None, report) => {
                    admitted += 1;
                    assert_eq!(report.quota.unwrap().1.used, admitted);
                }
                (Some(refusal), _) => refusals.push((minute, refusal)),
            }
        }
    }
    assert_eq!(admitted, 5);
    assert!(
        refusals
            .iter()
            .filter(|(m, _)| *m < 2)
            .all(|(_, r)| matches!(r, Refusal::Rate(_)))
    );
    assert!(matches!(refusals.last(), Some((3, Refusal::Quota(_)))));
}

#[test]
fn a_restart_reads_the_window_it_started_in() {
    let mut db = Shared::default();
    let limits = limits("10/hour");
    let first = Limiter::new(T0);
    for i in 0..6 {
        assert!(db.admit(&first, 3, &limits, None, T0 + i).0.is_none());
    }
    db.sync(&first, Limiter::shard_of(3), true, T0 + 10);
    // A new instance in the same hour goes on from six.
    let second = Limiter::new(T0 + 100);
    let admitted = (0..10)
        .filter(|i| {
            db.admit(&second, 3, &limits, None, T0 + 100 + i)
                .0
                .is_none()
        })
        .count();
    assert_eq!(admitted, 4);
}

#[test]
fn a_quota_is_read_back_and_refilled_by_period() {
    let mut db = Shared::default();
    let quota = Some(Quota::new(3, Refill::Daily).unwrap());
    let none = RateLimits::default();
    let limiter = Limiter::new(T0);
    assert!(db.admit(&limiter, 4, &none, quota, T0 + 10).0.is_none());
    db.sync(&limiter, Limiter::shard_of(4), true, T0 + 11);
    let later = Limiter::new(T0 + 3_600);
    let at = T0 + 3_600;
    let admitted = (0..5)
        .filter(|i| db.admit(&later, 4, &none, quota, at + i).0.is_none())
        .count();
    assert_eq!(admitted, 2, "one was spent before the restart");
    let (refusal, report) = db.admit(&later, 4, &none, quota, at + 10);
    assert!(matches!(refusal, Some(Refusal::Quota(_))));
    assert_eq!(report.quota.unwrap().1.reset, Some(86_400 - 3_610));
    // The next day the whole quota is there again.
    let tomorrow = T0 + 86_400;
    let admitted = (0..5)
        .filter(|i| db.admit(&later, 4, &none, quota, tomorrow + i).0.is_none())
        .count();
    assert_eq!(admitted, 3);
}

#[test]
fn a_failed_write_keeps_its_counts_for_the_next() {
    let limiter = Limiter::new(T0);
    let mut db = Shared::default();
    let limits = limits("1000/day");
    for i in 0..30 {
        assert!(db.admit(&limiter, 5, &limits, None, T0 + i).0.is_none());
    }
    let shard = Limiter::shard_of(5);
    let taken = limiter.begin_sync(shard, true, T0 + 40);
    assert_eq!(taken.iter().map(|(_, n)| n).sum::<u64>(), 30 % batch(1000));
    limiter.end_sync(shard, &taken, None);
    // Still counted here, and written by the next flush.
    let (_, report) = db.admit(&limiter, 5, &limits, None, T0 + 41);
    assert_eq!(report.rate_limits[0].1.used, 31);
    db.sync(&limiter, shard, true, T0 + 42);
    assert_eq!(db.0.values().sum::<u64>(), 31);
}

#[test]
fn ended_and_idle_counters_are_dropped_once_written() {
    let limiter = Limiter::new(T0);
    let mut db = Shared::default();
    let limits = limits("100/minute\n1000/day");
    for app in 0..50 {
        db.admit(&limiter, app, &limits, None, T0 + 5);
    }
    assert_eq!(limiter.counters_held(), 100);
    // The minutes are over: their counters are written by one flush and
    // dropped by the next; the days stay.
    for at in [T0 + 61, T0 + 62] {
        for shard in 0..SHARDS {
            db.sync(&limiter, shard, true, at);
        }
    }
    assert_eq!(limiter.counters_held(), 50);
    // Ten minutes without a request: the days' counters go too.
    for shard in 0..SHARDS {
        db.sync(&limiter, shard, true, T0 + 5 + 600);
    }
    assert_eq!(limiter.counters_held(), 0);
    assert_eq!(db.0.values().sum::<u64>(), 100, "nothing counted was lost");
}

#[test]
fn outside_the_database_the_counts_are_this_instances_own() {
    let limiter = Limiter::new(T0 + 1_000);
    let limits = limits("3/hour");
    let local = |i| limiter.try_admit(8, &limits, None, T0 + 1_000 + i, true);
    let admitted = (0..5)
        .filter(|i| matches!(local(*i), Attempt::Judged(None, _)))
        .count();
    assert_eq!(admitted, 3);
    let taken = limiter.begin_sync(Limiter::shard_of(8), true, T0 + 1_010);
    assert_eq!(
        taken.iter().map(|(_, n)| n).sum::<u64>(),
        3,
        "written once the database is back"
    );
}

/// Two instances on one database, requests interleaved in a fixed
/// pseudo-random order with background flushes between them: never more than
/// N + batch admitted in a window, and never a refusal while fewer than N
/// were admitted.
#[test]
fn two_instances_overshoot_by_at_most_a_batch_each_and_never_refuse_early() {
    for (limit, flush_every) in [(200u64, 7u64), (200, 1_000_000), (20, 3), (1_000, 50)] {
        let limits = RateLimits::from_limits(vec![RateLimit::new(limit, 60).unwrap()]).unwrap();
        let instances = [Limiter::new(T0), Limiter::new(T0)];
        let mut db = Shared::default();
        let mut admitted = 0u64;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for step in 0..(limit * 3) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let instance = &instances[(seed % 2) as usize];
            if step % flush_every == 0 {
                db.sync(instance, Limiter::shard_of(1), true, T0 + 1);
            }
            match db.admit(instance, 1, &limits, None, T0 + 1).0 {
                None => admitted += 1,
                Some(_) => assert!(admitted >= limit, "refused at {admitted} of {limit}"),
            }
        }
        assert!(
            admitted >= limit && admitted <= limit + batch(limit),
            "{admitted} admitted for a limit of {limit}"
        );
    }
}
