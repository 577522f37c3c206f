//! Per-key limits as values: rate limits (so many requests per window) and
//! quotas (so many requests in all, optionally refilled daily or monthly),
//! how an administrator writes them, how they are stored, and the arithmetic
//! of their windows and refills. Counting lives in the verifier; this module
//! only says which window a moment falls in and whether a count is spent.
//!
//! Windows are fixed and aligned to the Unix epoch (so a day is a UTC day and
//! a minute starts at :00): a limit of N per window admits exactly N requests
//! from the window's start to its end, and `reset` is the time to that end.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

/// Most rate limits one key (or role) may carry.
pub const MAX_RATE_LIMITS: usize = 5;
/// The largest number of requests a limit may name.
pub const MAX_LIMIT: u64 = 1_000_000_000;
/// The longest window: 31 days.
pub const MAX_WINDOW_SECONDS: u32 = 31 * 86_400;
/// The largest quota.
pub const MAX_QUOTA: u64 = 1_000_000_000_000;

/// So many requests per window of so many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RateLimit {
    pub limit: u64,
    pub window_seconds: u32,
}

impl RateLimit {
    /// `limit` per `window_seconds`, or why that cannot be a limit.
    pub fn new(limit: u64, window_seconds: u32) -> Result<Self, String> {
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(format!("A limit is 1 to {} requests", grouped(MAX_LIMIT)));
        }
        if !(1..=MAX_WINDOW_SECONDS).contains(&window_seconds) {
            return Err(format!(
                "A window is 1 second to 31 days ({MAX_WINDOW_SECONDS} seconds)"
            ));
        }
        Ok(RateLimit {
            limit,
            window_seconds,
        })
    }

    /// The start (Unix seconds) of the window `at` falls in.
    pub fn window_start(&self, at: i64) -> i64 {
        window_start(at, self.window_seconds)
    }

    /// Seconds from `at` to the end of its window (at least 1).
    pub fn reset(&self, at: i64) -> u64 {
        (self.window_start(at) + i64::from(self.window_seconds) - at).max(1) as u64
    }

    /// The window in words: "minute", "30 seconds", "2 hours".
    pub fn window_text(&self) -> String {
        window_text(self.window_seconds)
    }
}

/// `100/minute`, as the form shows it back.
impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.limit, self.window_text())
    }
}

/// The start (Unix seconds) of the `window_seconds` window `at` falls in.
pub fn window_start(at: i64, window_seconds: u32) -> i64 {
    let window = i64::from(window_seconds.max(1));
    at - at.rem_euclid(window)
}

fn window_text(seconds: u32) -> String {
    const UNITS: [(u32, &str); 4] = [
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    for (size, unit) in UNITS {
        if seconds.is_multiple_of(size) {
            return match seconds / size {
                1 => unit.to_owned(),
                n => format!("{n} {unit}s"),
            };
        }
    }
    unreachable!("every window is a whole number of seconds")
}

/// A key's (or role's) rate limits: at most one a window, lowest window first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits(Vec<RateLimit>);

impl RateLimits {
    /// No limits.
    pub const NONE: RateLimits = RateLimits(Vec::new());

    /// The form's text: one limit a line, each `COUNT/WINDOW` (or `COUNT per
    /// WINDOW`), the window a unit (`second`, `minute`, `hour`, `day`, or
    /// their short forms `s`, `min`, `h`, `d`) with an optional number before
    /// it: `100/minute`, `10,000/day`, `50/30 seconds`, `20/30s`.
    pub fn parse(input: &str) -> Result<Self, String> {
        let limits = input
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(parse_limit)
            .collect::<Result<Vec<_>, _>>()?;
        RateLimits::from_limits(limits)
    }

    /// Limits from their parts (as the API gives them), checked as the form's.
    pub fn from_limits(mut limits: Vec<RateLimit>) -> Result<Self, String> {
        if limits.len() > MAX_RATE_LIMITS {
            return Err(format!("Set at most {MAX_RATE_LIMITS} rate limits"));
        }
        limits.sort_by_key(|l| (l.window_seconds, l.limit));
        if let Some(pair) = limits
            .windows(2)
            .find(|pair| pair[0].window_seconds == pair[1].window_seconds)
        {
            return Err(format!(
                "Two limits for the same window ({} and {}): keep one",
                pair[0], pair[1]
            ));
        }
        Ok(RateLimits(limits))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, RateLimit> {
        self.0.iter()
    }

    /// As stored: `100/60,10000/86400`; `None` for no limits.
    pub fn stored(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|l| format!("{}/{}", l.limit, l.window_seconds))
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    /// A stored list; entries this build cannot read are skipped (they were
    /// validated on the way in).
    pub fn from_stored(stored: Option<&str>) -> Self {
        let limits = stored
            .unwrap_or_default()
            .split(',')
            .filter_map(|entry| {
                let (limit, window) = entry.trim().split_once('/')?;
                RateLimit::new(limit.parse().ok()?, window.parse().ok()?).ok()
            })
            .collect();
        RateLimits::from_limits(limits).unwrap_or_default()
    }

    /// The form's text for these limits, one a line.
    pub fn form_text(&self) -> String {
        self.0
            .iter()
            .map(RateLimit::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// In words, for pages and the audit log: "100 per minute, 10,000 per day".
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|l| format!("{} per {}", grouped(l.limit), l.window_text()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn parse_limit(line: &str) -> Result<RateLimit, String> {
    let shown = crate::text::shown(line, 40);
    let (count, window) = line
        .split_once('/')
        .or_else(|| line.split_once(" per "))
        .ok_or_else(|| {
            format!("“{shown}” is not a limit: write it like 100/minute or 10000/day")
        })?;
    let count: String = count
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' '))
        .collect();
    let limit: u64 = count
        .parse()
        .map_err(|_| format!("“{shown}”: the number of requests must be a whole number"))?;
    let window = parse_window(window.trim()).ok_or_else(|| {
        format!(
            "“{shown}”: the window must be second, minute, hour or day, optionally with a \
                 number before it (30 seconds, 5 minutes)"
        )
    })?;
    RateLimit::new(limit, window).map_err(|why| format!("“{shown}”: {why}"))
}

/// `minute`, `5 minutes`, `30s`, `2h`: the window in seconds.
fn parse_window(text: &str) -> Option<u32> {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let (count, unit) = text.split_at(digits);
    let count: u32 = if count.is_empty() {
        1
    } else {
        count.parse().ok()?
    };
    let size = match unit.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600,
        "d" | "day" | "days" => 86_400,
        _ => return None,
    };
    count.checked_mul(size).filter(|&seconds| seconds > 0)
}

/// When a quota's balance is restored to its total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refill {
    Never,
    /// At 00:00 UTC each day.
    Daily,
    /// At 00:00 UTC on the first of each month.
    Monthly,
}

impl Refill {
    pub const ALL: [Refill; 3] = [Refill::Never, Refill::Daily, Refill::Monthly];

    /// As the form, the API and the database spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Refill::Never => "never",
            Refill::Daily => "daily",
            Refill::Monthly => "monthly",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Refill::ALL
            .into_iter()
            .find(|refill| refill.as_str() == text.trim().to_ascii_lowercase())
    }

    /// The start (Unix seconds) of the period `at` falls in: the Unix epoch for
    /// a quota that is never refilled.
    pub fn period_start(self, at: i64) -> i64 {
        match self {
            Refill::Never => 0,
            Refill::Daily => window_start(at, 86_400),
            Refill::Monthly => {
                let date = date_of(at);
                month_start(date.year(), date.month())
            }
        }
    }

    /// When the balance is next restored (Unix seconds), if ever.
    pub fn next_refill(self, at: i64) -> Option<i64> {
        match self {
            Refill::Never => None,
            Refill::Daily => Some(window_start(at, 86_400) + 86_400),
            Refill::Monthly => {
                let date = date_of(at);
                let (year, month) = match date.month() {
                    12 => (date.year() + 1, 1),
                    month => (date.year(), month + 1),
                };
                Some(month_start(year, month))
            }
        }
    }
}

fn date_of(at: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(at, 0)
        .unwrap_or_default()
        .date_naive()
}

fn month_start(year: i32, month: u32) -> i64 {
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map_or(0, |start| start.and_utc().timestamp())
}

/// A key's quota: so many requests in all, or in each day or month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub total: u64,
    pub refill: Refill,
}

impl Quota {
    /// The form's two fields: the total (empty for no quota) and the refill.
    pub fn parse(total: &str, refill: &str) -> Result<Option<Self>, (&'static str, String)> {
        let refill = match refill.trim() {
            "" => Refill::Never,
            text => Refill::parse(text)
                .ok_or(("quota_refill", "Choose never, daily or monthly".to_owned()))?,
        };
        let total: String = total
            .chars()
            .filter(|c| !matches!(c, ',' | '_' | ' '))
            .collect();
        if total.is_empty() {
            return Ok(None);
        }
        let total: i128 = total.parse().map_err(|_| {
            (
                "quota_total",
                "The quota must be a whole number of requests".to_owned(),
            )
        })?;
        Quota::new(u64::try_from(total).unwrap_or(0), refill)
            .map(Some)
            .map_err(|why| ("quota_total", why))
    }

    /// A stored quota (its total and refill columns); one this build cannot
    /// read counts as none (it was validated on the way in).
    pub fn from_stored(total: Option<i64>, refill: Option<&str>) -> Option<Self> {
        let refill = refill.and_then(Refill::parse).unwrap_or(Refill::Never);
        Quota::new(u64::try_from(total?).ok()?, refill).ok()
    }

    pub fn new(total: u64, refill: Refill) -> Result<Self, String> {
        if !(1..=MAX_QUOTA).contains(&total) {
            return Err(format!(
                "A quota is 1 to {} requests (leave it empty for none)",
                grouped(MAX_QUOTA)
            ));
        }
        Ok(Quota { total, refill })
    }

    /// In words: "10,000 requests a month", "500 requests in all".
    pub fn describe(&self) -> String {
        let total = grouped(self.total);
        let requests = if self.total == 1 {
            "request"
        } else {
            "requests"
        };
        match self.refill {
            Refill::Never => format!("{total} {requests} in all"),
            Refill::Daily => format!("{total} {requests} a day"),
            Refill::Monthly => format!("{total} {requests} a month"),
        }
    }
}

/// A count spent against one limit or the quota, in a window, as verification
/// reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub limit: u64,
    pub used: u64,
    /// Seconds until the window ends or the quota refills; `None` for a quota
    /// never refilled.
    pub reset: Option<u64>,
}

impl Usage {
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }

    /// Whether one more request fits.
    pub fn admits_one(&self) -> bool {
        self.used < self.limit
    }
}

/// The quota's use in the period `at` falls in, from what was counted there.
pub fn quota_usage(quota: &Quota, used: u64, at: i64) -> Usage {
    Usage {
        limit: quota.total,
        used,
        reset: quota
            .refill
            .next_refill(at)
            .map(|next| (next - at).max(1) as u64),
    }
}

/// What a key's limits say of one more request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This limit is reached until its window ends.
    Rate(RateLimit),
    /// The quota is spent.
    Quota(Quota),
}

/// Where a key stands against each of its limits and its quota.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub rate_limits: Vec<(RateLimit, Usage)>,
    pub quota: Option<(Quota, Usage)>,
}

impl Report {
    /// Seconds until a refused request could pass: the latest end among the
    /// windows that are full, or the quota's refill; `None` when waiting
    /// does not help (a spent quota that is never refilled).
    pub fn retry_after(&self, refusal: Refusal) -> Option<u64> {
        match refusal {
            Refusal::Quota(_) => self.quota_refills_in(),
            Refusal::Rate(_) => self.full_windows_end_in(),
        }
    }

    /// Seconds until every full window has ended.
    pub fn full_windows_end_in(&self) -> Option<u64> {
        self.rate_limits
            .iter()
            .filter(|(_, usage)| !usage.admits_one())
            .filter_map(|(_, usage)| usage.reset)
            .max()
    }

    /// Seconds until the quota is refilled, if it has one that is.
    pub fn quota_refills_in(&self) -> Option<u64> {
        self.quota.and_then(|(_, usage)| usage.reset)
    }
}

/// The verdict on one more request, given what each limit (in window order)
/// and the quota have counted before it, at `at` (Unix seconds). The rate
/// limits are judged first, then the quota; a refused request spends
/// nothing, so only an admitted one is counted in the report.
pub fn check(
    rate_limits: &[(RateLimit, u64)],
    quota: Option<(Quota, u64)>,
    at: i64,
) -> (Option<Refusal>, Report) {
    let usage = |limit: &RateLimit, used| Usage {
        limit: limit.limit,
        used,
        reset: Some(limit.reset(at)),
    };
    let mut report = Report {
        rate_limits: rate_limits
            .iter()
            .map(|(limit, used)| (*limit, usage(limit, *used)))
            .collect(),
        quota: quota.map(|(quota, used)| (quota, quota_usage(&quota, used, at))),
    };
    let refusal = report
        .rate_limits
        .iter()
        .find(|(_, usage)| !usage.admits_one())
        .map(|(limit, _)| Refusal::Rate(*limit))
        .or_else(|| {
            report
                .quota
                .filter(|(_, usage)| !usage.admits_one())
                .map(|(quota, _)| Refusal::Quota(quota))
        });
    if refusal.is_none() {
        for (_, usage) in &mut report.rate_limits {
            usage.used += 1;
        }
        if let Some((_, usage)) = &mut report.quota {
            usage.used += 1;
        }
    }
    (refusal, report)
}

/// A time as Unix seconds (what windows are measured in).
pub fn unix_seconds(at: NaiveDateTime) -> i64 {
    at.and_utc().timestamp()
}

/// `10000` as `10,000`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
