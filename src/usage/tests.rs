use super::*;

const T: i64 = 1_800_000_000 - 1_800_000_000 % DAY;

#[test]
fn counts_are_kept_by_app_hour_and_code_until_written() {
    let recorder = Recorder::default();
    for at in [T + 5, T + 3_599, T + 3_600] {
        recorder.record(7, "VALID", at);
    }
    recorder.record(7, "FORBIDDEN", T + 10);
    recorder.record(GLOBAL, "NOT_FOUND", T + 10);
    let taken = recorder.take();
    assert_eq!(
        taken,
        [
            ((ALL, T, "FORBIDDEN"), 1),
            ((ALL, T, "NOT_FOUND"), 1),
            ((ALL, T, "VALID"), 2),
            ((ALL, T + HOUR, "VALID"), 1),
            ((GLOBAL, T, "NOT_FOUND"), 1),
            ((7, T, "FORBIDDEN"), 1),
            ((7, T, "VALID"), 2),
            ((7, T + HOUR, "VALID"), 1),
        ]
    );
    assert!(recorder.take().is_empty());
    // A failed write puts its counts back beside the new ones.
    recorder.record(7, "VALID", T + 20);
    recorder.put_back(taken);
    let again: HashMap<Key, u64> = recorder.take().into_iter().collect();
    assert_eq!(again[&(7, T, "VALID")], 3);
    assert_eq!(again[&(ALL, T, "VALID")], 3);
    assert_eq!(again.values().sum::<u64>(), 12);
}

#[test]
fn ranges_are_whole_buckets_within_a_bound() {
    let range = Range::new(T + 100, T + 2 * HOUR + 1, Granularity::Hour).unwrap();
    assert_eq!((range.from, range.to), (T, T + 3 * HOUR));
    assert_eq!(range.starts().count(), 3);
    assert!(Range::new(T, T, Granularity::Hour).is_err());
    assert!(Range::new(T + HOUR, T, Granularity::Day).is_err());
    assert!(Range::new(T, T + 31 * DAY, Granularity::Hour).is_ok());
    let too_long = Range::new(T, T + 32 * DAY, Granularity::Hour).unwrap_err();
    assert!(
        too_long.contains("At most 744 buckets of a hour"),
        "{too_long}"
    );
    assert!(Range::new(T, T + 400 * DAY, Granularity::Day).is_ok());
    let last = Range::last(24, Granularity::Hour, T + 30 * 60);
    assert_eq!((last.from, last.to), (T - 23 * HOUR, T + HOUR));
}

#[test]
fn a_series_has_every_bucket_and_folds_hours_into_days() {
    let range = Range::new(T, T + 3 * DAY, Granularity::Day).unwrap();
    let rows = vec![
        (T + HOUR, "VALID".to_owned(), 4),
        (T + 5 * HOUR, "VALID".to_owned(), 6),
        // A daily row.
        (T + 2 * DAY, "FORBIDDEN".to_owned(), 2),
        // Outside the range, and empty: left out.
        (T + 3 * DAY, "VALID".to_owned(), 9),
        (T + 2 * DAY, "VALID".to_owned(), 0),
    ];
    let buckets = series(&range, rows);
    assert_eq!(buckets.len(), 3);
    assert_eq!(
        buckets[0].counts,
        BTreeMap::from([("VALID".to_owned(), 10)])
    );
    assert!(buckets[1].counts.is_empty());
    assert_eq!(
        buckets[2].counts,
        BTreeMap::from([("FORBIDDEN".to_owned(), 2)])
    );
    assert_eq!(buckets[2].start_time(), time(T + 2 * DAY));
    assert_eq!(
        totals(&buckets),
        BTreeMap::from([("FORBIDDEN".to_owned(), 2), ("VALID".to_owned(), 10)])
    );
}
