//! The warning a key gets before it expires: flagged on the list and on its
//! page once its expiry is nearer than the operator's warning time
//! (`--expiry-warning-days`).

use chrono::{NaiveDateTime, TimeDelta};

/// "Expires in 3 days" while a key expires within `days` days of `now` and
/// has not expired yet; `None` otherwise (and always with `days` 0).
pub fn warning(expires_at: Option<NaiveDateTime>, now: NaiveDateTime, days: u32) -> Option<String> {
    let left = expires_at? - now;
    if left <= TimeDelta::zero() || left > TimeDelta::days(i64::from(days)) {
        return None;
    }
    let plural =
        |n: i64, unit: &str| format!("Expires in {n} {unit}{}", if n == 1 { "" } else { "s" });
    Some(match (left.num_days(), left.num_hours()) {
        (0, 0) => "Expires within the hour".to_owned(),
        (0, hours) => plural(hours, "hour"),
        (days, _) => plural(days, "day"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn a_key_is_warned_about_within_the_warning_time_only() {
        let at = |delta: TimeDelta| Some(now() + delta);
        for (expires_at, days, expected) in [
            (
                at(TimeDelta::days(3) + TimeDelta::hours(2)),
                7,
                Some("Expires in 3 days"),
            ),
            (
                at(TimeDelta::days(1) + TimeDelta::minutes(1)),
                7,
                Some("Expires in 1 day"),
            ),
            (at(TimeDelta::hours(5)), 7, Some("Expires in 5 hours")),
            (at(TimeDelta::minutes(70)), 7, Some("Expires in 1 hour")),
            (
                at(TimeDelta::minutes(20)),
                7,
                Some("Expires within the hour"),
            ),
            (at(TimeDelta::days(7)), 7, Some("Expires in 7 days")),
            (at(TimeDelta::days(7) + TimeDelta::seconds(1)), 7, None),
            (at(TimeDelta::days(20)), 30, Some("Expires in 20 days")),
            // Expired keys are flagged as expired, not as expiring.
            (at(TimeDelta::zero()), 7, None),
            (at(TimeDelta::hours(-1)), 7, None),
            (None, 7, None),
            // 0 turns the warning off.
            (at(TimeDelta::hours(1)), 0, None),
        ] {
            assert_eq!(
                warning(expires_at, now(), days).as_deref(),
                expected,
                "{expires_at:?} {days}"
            );
        }
    }
}
