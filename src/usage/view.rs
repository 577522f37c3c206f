//! A usage series ready for a page: the period asked for, the chart, the
//! table beside it and the totals (the key's page and the dashboard).

use std::sync::Arc;

use askama::Template;
use chrono::{Datelike, NaiveDateTime, Timelike};

use crate::limits::grouped;
use crate::usage;
use crate::usage::queries::Whose;

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

/// `t`'s day as `2026-03-01`, written without parsing a format string.
fn date(t: NaiveDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day())
}

/// Counts by code in words: "1,200 VALID, 4 FORBIDDEN".
pub fn by_code(counts: &[(String, u64)]) -> String {
    counts
        .iter()
        .map(|(code, n)| format!("{} {code}", grouped(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Requests over a period: the chart and the table beside it, drawn, and
/// the totals.
pub struct UsageView {
    pub period: Period,
    /// The chart, its legend and its table as HTML (`usage_chart.html`),
    /// for the page to include.
    pub chart_html: Arc<str>,
    pub totals: Vec<(String, u64)>,
    pub total: u64,
}

/// What `usage_chart.html` draws, kept only while it is drawn.
#[derive(Template)]
#[template(path = "usage_chart.html")]
struct Drawing {
    chart: usage::chart::Chart,
    /// The table's rows: buckets that saw requests, the latest first.
    rows: Vec<TableRow>,
    total: u64,
    hourly: bool,
}

impl Drawing {
    /// The codes with a column in the table, in the chart's order.
    fn columns(&self) -> Vec<&str> {
        self.chart
            .legend
            .iter()
            .map(|(code, _)| code.as_str())
            .collect()
    }
}

/// A bucket in the table beside the chart, its counts in the columns'
/// order ([`Drawing::columns`]).
struct TableRow {
    /// `2026-12-01T14:00:00Z`
    datetime: String,
    /// `2026-12-01 14:00` (hours) or `2026-12-01` (days)
    label: String,
    cells: Vec<u64>,
    total: u64,
}

impl UsageView {
    pub fn new(
        period: Period,
        range: &usage::Range,
        rows: Vec<(i64, String, u64)>,
    ) -> Result<Self, askama::Error> {
        let buckets = usage::series(range, rows);
        let hourly = range.granularity == usage::Granularity::Hour;
        // Written out rather than by chrono's format strings, which are
        // parsed at every use: a month of hours is hundreds of labels.
        let labels: Vec<String> = buckets
            .iter()
            .map(|bucket| {
                let t = bucket.start_time();
                if hourly {
                    format!("{:02}-{:02} {:02}:00", t.month(), t.day(), t.hour())
                } else {
                    date(t)
                }
            })
            .collect();
        let chart = usage::chart::draw(&buckets, &labels);
        let table = buckets
            .iter()
            .rev()
            .filter(|bucket| bucket.total() > 0)
            .map(|bucket| {
                let t = bucket.start_time();
                let date = date(t);
                TableRow {
                    datetime: format!("{date}T{:02}:00:00Z", t.hour()),
                    label: if hourly {
                        format!("{date} {:02}:00", t.hour())
                    } else {
                        date
                    },
                    cells: chart
                        .legend
                        .iter()
                        .map(|(code, _)| bucket.counts.get(code).copied().unwrap_or(0))
                        .collect(),
                    total: bucket.total(),
                }
            })
            .collect();
        let mut totals: Vec<(String, u64)> = usage::totals(&buckets).into_iter().collect();
        totals.sort_by_key(|(code, n)| (std::cmp::Reverse(*n), code.clone()));
        let total = totals.iter().map(|(_, n)| n).sum();
        let drawing = Drawing {
            chart,
            rows: table,
            total,
            hourly,
        };
        Ok(UsageView {
            period,
            chart_html: drawing.render()?.into(),
            totals,
            total,
        })
    }

    /// "1,204 requests: 1,200 VALID, 4 FORBIDDEN"
    pub fn summary(&self) -> String {
        format!(
            "{} requests: {}",
            grouped(self.total),
            by_code(&self.totals)
        )
    }
}

/// The stored rows a view was made of.
type Rows = Vec<(i64, String, u64)>;

/// Whose requests, over which period, from which bucket on.
type ViewKey = (Whose, Period, i64);

/// The views pages showed last, each with the rows it was made of: a page
/// whose rows are the same as last time shows the same view, drawn once
/// (with months of usage, drawing the chart and its table was most of a
/// page's work). Exact by construction: the rows are read for every page
/// and compared; any change draws again. Bounded by the size of what is
/// held: the HTML and the rows beside it.
pub struct Drawn {
    views: quick_cache::sync::Cache<ViewKey, Arc<(Rows, Arc<UsageView>)>, HtmlWeight>,
}

/// What a held view weighs: its HTML and its rows (each row and its code).
#[derive(Clone)]
pub struct HtmlWeight;

impl quick_cache::Weighter<ViewKey, Arc<(Rows, Arc<UsageView>)>> for HtmlWeight {
    fn weight(&self, _key: &ViewKey, held: &Arc<(Rows, Arc<UsageView>)>) -> u64 {
        let rows: usize = held
            .0
            .iter()
            .map(|(_, code, _)| std::mem::size_of::<(i64, String, u64)>() + code.len())
            .sum();
        (held.1.chart_html.len() + rows).max(1) as u64
    }
}

/// What the held views may add up to.
const DRAWN_BYTES: u64 = 8 * 1024 * 1024;

impl Default for Drawn {
    fn default() -> Self {
        Drawn {
            views: quick_cache::sync::Cache::with_weighter(256, DRAWN_BYTES, HtmlWeight),
        }
    }
}

impl Drawn {
    /// The view of `rows` (as [`crate::usage::queries::rows`] read them for
    /// `whose` over `period`'s `range`): the one held when its rows are the
    /// same, else a new one, then held.
    pub fn view(
        &self,
        whose: Whose,
        period: Period,
        range: &usage::Range,
        rows: Rows,
    ) -> Result<Arc<UsageView>, askama::Error> {
        let key = (whose, period, range.from);
        if let Some(held) = self.views.get(&key)
            && held.0 == rows
        {
            return Ok(held.1.clone());
        }
        let view = Arc::new(UsageView::new(period, range, rows.clone())?);
        self.views.insert(key, Arc::new((rows, view.clone())));
        Ok(view)
    }
}
