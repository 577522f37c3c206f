//! Last-used times waiting to be written: collected in memory by app, taken
//! in bounded chunks for the writes, and put back when a write fails, so a
//! failed write loses nothing.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDateTime;

/// The latest use of each app not yet written.
#[derive(Default)]
pub struct Pending(Mutex<HashMap<i32, NaiveDateTime>>);

impl Pending {
    pub fn record(&self, app_id: i32, at: NaiveDateTime) {
        if let Ok(mut pending) = self.0.lock() {
            merge(&mut pending, [(app_id, at)]);
        }
    }

    /// Everything pending, in chunks of at most `size` for one write each.
    pub fn take(&self, size: usize) -> Vec<Vec<(i32, NaiveDateTime)>> {
        match self.0.lock() {
            Ok(mut pending) => chunks(std::mem::take(&mut *pending), size),
            Err(_) => Vec::new(),
        }
    }

    /// Times that could not be written, kept for the next flush beside any
    /// recorded meanwhile.
    pub fn put_back(&self, unwritten: impl IntoIterator<Item = (i32, NaiveDateTime)>) {
        if let Ok(mut pending) = self.0.lock() {
            merge(&mut pending, unwritten);
        }
    }
}

/// Adds `times` to `pending`, keeping the later time where an app has both.
pub fn merge(
    pending: &mut HashMap<i32, NaiveDateTime>,
    times: impl IntoIterator<Item = (i32, NaiveDateTime)>,
) {
    for (app_id, at) in times {
        pending
            .entry(app_id)
            .and_modify(|kept| *kept = (*kept).max(at))
            .or_insert(at);
    }
}

/// `pending` in chunks of at most `size` (at least one), by app id: a short
/// transaction each, over rows that lie near each other.
pub fn chunks(pending: HashMap<i32, NaiveDateTime>, size: usize) -> Vec<Vec<(i32, NaiveDateTime)>> {
    let mut times: Vec<_> = pending.into_iter().collect();
    times.sort_unstable_by_key(|&(app_id, _)| app_id);
    times.chunks(size.max(1)).map(<[_]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + second, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn merging_keeps_the_latest_time_of_each_app() {
        let mut pending = HashMap::from([(1, at(10)), (2, at(5))]);
        // What a failed write put back: older for app 1, newer for app 2.
        merge(&mut pending, [(1, at(3)), (2, at(8)), (3, at(1))]);
        assert_eq!(
            pending,
            HashMap::from([(1, at(10)), (2, at(8)), (3, at(1))])
        );
    }

    #[test]
    fn chunks_are_bounded_and_hold_every_time_once() {
        let pending: HashMap<_, _> = (1..=2_501).map(|id| (id, at(id.into()))).collect();
        let chunks = chunks(pending.clone(), 1_000);
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            [1_000, 1_000, 501]
        );
        let all: Vec<_> = chunks.concat();
        assert_eq!(all.len(), pending.len());
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "by app id");
        assert_eq!(all.into_iter().collect::<HashMap<_, _>>(), pending);
        assert!(super::chunks(HashMap::new(), 1_000).is_empty());
        assert_eq!(super::chunks(HashMap::from([(1, at(0))]), 0).len(), 1);
    }

    #[test]
    fn times_put_back_wait_beside_newer_ones() {
        let pending = Pending::default();
        pending.record(1, at(1));
        pending.record(2, at(1));
        let taken = pending.take(10);
        // App 1 is used again while the write fails.
        pending.record(1, at(9));
        pending.put_back(taken.concat());
        assert_eq!(pending.take(10), vec![vec![(1, at(9)), (2, at(1))]]);
        assert!(pending.take(10).is_empty());
    }
}
