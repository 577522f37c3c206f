use super::*;

fn at(text: &str) -> i64 {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .unwrap()
        .and_utc()
        .timestamp()
}

#[test]
fn limits_are_written_as_people_write_them() {
    for (line, limit, window) in [
        ("100/minute", 100, 60),
        ("10,000/day", 10_000, 86_400),
        ("10_000 / day", 10_000, 86_400),
        ("5 per second", 5, 1),
        ("50/30 seconds", 50, 30),
        ("20/30s", 20, 30),
        ("7/5 minutes", 7, 300),
        ("3/2h", 3, 7_200),
        ("1/hour", 1, 3_600),
        ("9/31 days", 9, 31 * 86_400),
        ("2/MIN", 2, 60),
    ] {
        let parsed = RateLimits::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let only: Vec<_> = parsed.iter().copied().collect();
        assert_eq!(
            only,
            [RateLimit {
                limit,
                window_seconds: window
            }],
            "{line}"
        );
    }
}

#[test]
fn refused_limits_say_what_is_wrong() {
    for (input, message) in [
        ("100", "is not a limit: write it like 100/minute"),
        ("lots/minute", "must be a whole number"),
        ("-5/minute", "must be a whole number"),
        (
            "100/fortnight",
            "the window must be second, minute, hour or day",
        ),
        ("100/0 seconds", "the window must be"),
        ("0/minute", "A limit is 1 to 1,000,000,000 requests"),
        ("100/32 days", "A window is 1 second to 31 days"),
        (
            "1/minute\n2/min",
            "Two limits for the same window (1/minute and 2/minute)",
        ),
        ("1/s\n1/m\n1/h\n1/d\n1/2d\n1/3d", "at most 5 rate limits"),
    ] {
        let error = RateLimits::parse(input).unwrap_err();
        assert!(error.contains(message), "{input}: {error}");
    }
}

#[test]
fn limits_are_stored_and_shown_back_in_window_order() {
    let limits = RateLimits::parse("10000/day\n\n  100/minute  \n50/90s").unwrap();
    assert_eq!(limits.stored().as_deref(), Some("100/60,50/90,10000/86400"));
    assert_eq!(limits.form_text(), "100/minute\n50/90 seconds\n10000/day");
    assert_eq!(
        limits.describe(),
        "100 per minute, 50 per 90 seconds, 10,000 per day"
    );
    assert_eq!(RateLimits::from_stored(limits.stored().as_deref()), limits);
    assert_eq!(RateLimits::parse(&limits.form_text()).unwrap(), limits);
    assert_eq!(RateLimits::parse("").unwrap().stored(), None);
    assert!(RateLimits::from_stored(None).is_empty());
}

#[test]
fn windows_are_aligned_to_the_epoch() {
    let minute = RateLimit::new(100, 60).unwrap();
    let day = RateLimit::new(10, 86_400).unwrap();
    let thirty = RateLimit::new(10, 30).unwrap();
    // (moment, the minute's start, seconds to its end, the day's start, to its end)
    for (moment, minute_start, minute_reset, day_start, day_reset) in [
        (
            "2026-12-01 15:00:00",
            "2026-12-01 15:00:00",
            60,
            "2026-12-01 00:00:00",
            32_400,
        ),
        (
            "2026-12-01 15:00:59",
            "2026-12-01 15:00:00",
            1,
            "2026-12-01 00:00:00",
            32_341,
        ),
        (
            "2026-12-31 23:59:59",
            "2026-12-31 23:59:00",
            1,
            "2026-12-31 00:00:00",
            1,
        ),
        (
            "2027-01-01 00:00:00",
            "2027-01-01 00:00:00",
            60,
            "2027-01-01 00:00:00",
            86_400,
        ),
    ] {
        let t = at(moment);
        assert_eq!(minute.window_start(t), at(minute_start), "{moment}");
        assert_eq!(minute.reset(t), minute_reset, "{moment}");
        assert_eq!(day.window_start(t), at(day_start), "{moment}");
        assert_eq!(day.reset(t), day_reset, "{moment}");
    }
    assert_eq!(
        thirty.window_start(at("2026-12-01 15:00:45")),
        at("2026-12-01 15:00:30")
    );
    // Before the epoch a window still holds the moment.
    assert_eq!(window_start(-1, 60), -60);
}

#[test]
fn refills_happen_at_midnight_and_on_the_first_of_the_month() {
    // (moment, daily period start, next daily refill, monthly period start, next monthly refill)
    for (moment, day_start, next_day, month_start, next_month) in [
        (
            "2026-12-01 15:00:00",
            "2026-12-01 00:00:00",
            "2026-12-02 00:00:00",
            "2026-12-01 00:00:00",
            "2027-01-01 00:00:00",
        ),
        (
            "2026-12-31 23:59:59",
            "2026-12-31 00:00:00",
            "2027-01-01 00:00:00",
            "2026-12-01 00:00:00",
            "2027-01-01 00:00:00",
        ),
        (
            "2027-01-31 12:00:00",
            "2027-01-31 00:00:00",
            "2027-02-01 00:00:00",
            "2027-01-01 00:00:00",
            "2027-02-01 00:00:00",
        ),
        // February's end, in a leap year and not.
        (
            "2028-02-29 08:00:00",
            "2028-02-29 00:00:00",
            "2028-03-01 00:00:00",
            "2028-02-01 00:00:00",
            "2028-03-01 00:00:00",
        ),
        (
            "2027-02-28 23:00:00",
            "2027-02-28 00:00:00",
            "2027-03-01 00:00:00",
            "2027-02-01 00:00:00",
            "2027-03-01 00:00:00",
        ),
        (
            "2027-04-30 23:59:59",
            "2027-04-30 00:00:00",
            "2027-05-01 00:00:00",
            "2027-04-01 00:00:00",
            "2027-05-01 00:00:00",
        ),
        (
            "2027-03-01 00:00:00",
            "2027-03-01 00:00:00",
            "2027-03-02 00:00:00",
            "2027-03-01 00:00:00",
            "2027-04-01 00:00:00",
        ),
    ] {
        let t = at(moment);
        assert_eq!(Refill::Daily.period_start(t), at(day_start), "{moment}");
        assert_eq!(Refill::Daily.next_refill(t), Some(at(next_day)), "{moment}");
        assert_eq!(Refill::Monthly.period_start(t), at(month_start), "{moment}");
        assert_eq!(
            Refill::Monthly.next_refill(t),
            Some(at(next_month)),
            "{moment}"
        );
        assert_eq!(Refill::Never.period_start(t), 0);
        assert_eq!(Refill::Never.next_refill(t), None);
    }
}

#[test]
fn a_quota_is_spent_and_refilled_whole() {
    let quota = Quota::new(3, Refill::Monthly).unwrap();
    let late_january = at("2027-01-31 23:59:50");
    let spent = quota_usage(&quota, 3, late_january);
    assert!(!spent.admits_one());
    assert_eq!(spent.remaining(), 0);
    assert_eq!(spent.reset, Some(10));
    let almost = quota_usage(&quota, 2, late_january);
    assert!(almost.admits_one());
    assert_eq!(almost.remaining(), 1);
    // A refill is a new period: what was counted in January does not count
    // in February, whatever was left.
    assert_ne!(
        Refill::Monthly.period_start(late_january),
        Refill::Monthly.period_start(late_january + 10)
    );
    let forever = Quota::new(5, Refill::Never).unwrap();
    assert_eq!(quota_usage(&forever, 7, late_january).remaining(), 0);
    assert_eq!(quota_usage(&forever, 0, late_january).reset, None);
}

#[test]
fn quotas_are_written_as_a_number_and_a_refill() {
    assert_eq!(Quota::parse("", "monthly"), Ok(None));
    assert_eq!(
        Quota::parse("10,000", "monthly"),
        Ok(Some(Quota {
            total: 10_000,
            refill: Refill::Monthly
        }))
    );
    assert_eq!(
        Quota::parse(" 500 ", ""),
        Ok(Some(Quota {
            total: 500,
            refill: Refill::Never
        }))
    );
    assert_eq!(Quota::parse("many", "daily").unwrap_err().0, "quota_total");
    assert!(
        Quota::parse("0", "daily")
            .unwrap_err()
            .1
            .contains("1 to 1,000,000,000,000")
    );
    assert_eq!(Quota::parse("5", "weekly").unwrap_err().0, "quota_refill");
    assert_eq!(
        Quota::new(10_000, Refill::Monthly).unwrap().describe(),
        "10,000 requests a month"
    );
    assert_eq!(
        Quota::new(1, Refill::Never).unwrap().describe(),
        "1 request in all"
    );
}

#[test]
fn numbers_are_grouped_by_thousands() {
    for (n, text) in [
        (0, "0"),
        (999, "999"),
        (1_000, "1,000"),
        (1_234_567, "1,234,567"),
    ] {
        assert_eq!(grouped(n), text);
    }
}

#[test]
fn a_request_is_judged_against_every_limit_then_the_quota() {
    let minute = RateLimit::new(3, 60).unwrap();
    let day = RateLimit::new(5, 86_400).unwrap();
    let quota = Quota::new(10, Refill::Monthly).unwrap();
    let t = at("2026-12-31 23:59:30");
    // (counted per minute, per day, in the quota) → the refusal, if any
    for (minute_used, day_used, quota_used, refused) in [
        (0, 0, 0, None),
        (2, 4, 9, None),
        (3, 0, 0, Some(Refusal::Rate(minute))),
        (0, 5, 0, Some(Refusal::Rate(day))),
        // The limits before the quota: a refused request spends no quota.
        (3, 5, 10, Some(Refusal::Rate(minute))),
        (0, 0, 10, Some(Refusal::Quota(quota))),
        (0, 0, 11, Some(Refusal::Quota(quota))),
    ] {
        let (refusal, report) = check(
            &[(minute, minute_used), (day, day_used)],
            Some((quota, quota_used)),
            t,
        );
        assert_eq!(refusal, refused, "{minute_used}/{day_used}/{quota_used}");
        let counted = u64::from(refused.is_none());
        assert_eq!(report.rate_limits[0].1.used, minute_used + counted);
        assert_eq!(report.rate_limits[1].1.used, day_used + counted);
        assert_eq!(report.quota.unwrap().1.used, quota_used + counted);
        assert_eq!(report.rate_limits[0].1.reset, Some(30));
        assert_eq!(report.rate_limits[1].1.reset, Some(30));
        assert_eq!(
            report.quota.unwrap().1.reset,
            Some(30),
            "refills at midnight, 1 January"
        );
    }
    // The N+1st in a window of N is the first refused; the next window admits.
    let mut used = 0;
    let start = at("2026-12-01 10:00:00");
    for second in 0..60 {
        let (refusal, _) = check(&[(minute, used)], None, start + second);
        if refusal.is_none() {
            used += 1;
        }
    }
    assert_eq!(used, 3);
    assert_eq!(check(&[(minute, 0)], None, start + 60).0, None);
}

#[test]
fn retry_after_is_when_a_refused_request_could_pass() {
    let minute = RateLimit::new(1, 60).unwrap();
    let hour = RateLimit::new(1, 3_600).unwrap();
    let t = at("2026-12-01 10:59:50");
    // Both full: the hour's end decides; the minute alone: its end.
    let (refusal, report) = check(&[(minute, 1), (hour, 1)], None, t);
    assert_eq!(report.retry_after(refusal.unwrap()), Some(10));
    let (refusal, report) = check(&[(minute, 1), (hour, 0)], None, t + 5);
    assert_eq!(report.retry_after(refusal.unwrap()), Some(5));
    let (refusal, report) = check(&[(hour, 1)], None, at("2026-12-01 10:20:00"));
    assert_eq!(report.retry_after(refusal.unwrap()), Some(2_400));
    let never = Quota::new(1, Refill::Never).unwrap();
    let (refusal, report) = check(&[], Some((never, 1)), t);
    assert_eq!(refusal, Some(Refusal::Quota(never)));
    assert_eq!(
        report.retry_after(refusal.unwrap()),
        None,
        "waiting does not help"
    );
    let daily = Quota::new(1, Refill::Daily).unwrap();
    let (refusal, report) = check(&[], Some((daily, 1)), t);
    assert_eq!(report.retry_after(refusal.unwrap()), Some(13 * 3_600 + 10));
}
