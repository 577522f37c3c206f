//! A usage series ready for a page: the period asked for, the chart, the
//! table beside it and the totals (the key's page and the dashboard).

use chrono::NaiveDateTime;

use crate::limits::grouped;
use crate::usage;

/// The periods a usage chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize)]
pub enum Period {
    #[default]
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];

    /// `?usage=24h|7d|30d` as a page's query gives it (anything else: 24h).
    pub fn from_param(param: Option<&str>) -> Self {
        Period::ALL
            .into_iter()
            .find(|period| Some(period.param()) == param)
            .unwrap_or_default()
    }

    pub fn param(self) -> &'static str {
        match self {
            Period::Day => "24h",
            Period::Week => "7d",
            Period::Month => "30d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Period::Day => "the last 24 hours",
            Period::Week => "the last 7 days",
            Period::Month => "the last 30 days",
        }
    }

    /// The buckets charted, ending with the one `now` falls in.
    pub fn range(self, now: NaiveDateTime) -> usage::Range {
        let now = crate::limits::unix_seconds(now);
        match self {
            Period::Day => usage::Range::last(24, usage::Granularity::Hour, now),
            Period::Week => usage::Range::last(7 * 24, usage::Granularity::Hour, now),
            Period::Month => usage::Range::last(30, usage::Granularity::Day, now),
        }
    }
}

/// Counts by code in words: "1,200 VALID, 4 FORBIDDEN".
pub fn by_code(counts: &[(String, u64)]) -> String {
    counts
        .iter()
        .map(|(code, n)| format!("{} {code}", grouped(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Requests over a period: the chart, the table beside it, the totals.
pub struct UsageView {
    pub period: Period,
    pub buckets: Vec<usage::Bucket>,
    pub chart: usage::chart::Chart,
    pub totals: Vec<(String, u64)>,
    pub total: u64,
}

impl UsageView {
    pub fn new(period: Period, range: &usage::Range, rows: Vec<(i64, String, u64)>) -> Self {
        let buckets = usage::series(range, rows);
        let label = |bucket: &usage::Bucket| match range.granularity {
            usage::Granularity::Hour => bucket.start_time().format("%m-%d %H:00").to_string(),
            usage::Granularity::Day => bucket.start_time().format("%Y-%m-%d").to_string(),
        };
        let chart = usage::chart::draw(&buckets, label);
        let mut totals: Vec<(String, u64)> = usage::totals(&buckets).into_iter().collect();
        totals.sort_by_key(|(code, n)| (std::cmp::Reverse(*n), code.clone()));
        UsageView {
            period,
            total: totals.iter().map(|(_, n)| n).sum(),
            totals,
            chart,
            buckets,
        }
    }

    /// The codes with a column in the table, in the chart's order.
    pub fn columns(&self) -> Vec<&str> {
        self.chart
            .legend
            .iter()
            .map(|(code, _)| code.as_str())
            .collect()
    }

    /// Buckets that saw requests, the latest first, for the table.
    pub fn busy(&self) -> Vec<&usage::Bucket> {
        self.buckets
            .iter()
            .rev()
            .filter(|b| b.total() > 0)
            .collect()
    }

    /// "1,204 requests: 1,200 VALID, 4 FORBIDDEN"
    pub fn summary(&self) -> String {
        format!(
            "{} requests: {}",
            grouped(self.total),
            by_code(&self.totals)
        )
    }

    pub fn hourly(&self) -> bool {
        self.period != Period::Month
    }
}
