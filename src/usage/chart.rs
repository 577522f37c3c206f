//! A series drawn as a stacked bar chart, for an SVG the server renders (no
//! JavaScript): one bar per bucket, one segment per code, the codes in a
//! fixed order with a colour each, heights against the busiest bucket.

use super::Bucket;

/// The drawing's size in SVG units.
pub const WIDTH: f64 = 720.0;
pub const HEIGHT: f64 = 200.0;
/// Room left of the bars for the scale, and below them for the times.
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 20.0;

/// Codes in stacking order (bottom first) with their colours; a code not
/// listed is drawn last, in grey.
const CODES: [(&str, &str); 12] = [
    ("VALID", "#2e7d32"),
    ("FORBIDDEN", "#c62828"),
    ("RATE_LIMITED", "#ef6c00"),
    ("USAGE_EXCEEDED", "#ad1457"),
    ("IP_NOT_ALLOWED", "#6a1b9a"),
    ("EXPIRED", "#6d4c41"),
    ("INACTIVE", "#455a64"),
    ("NO_ROLE", "#00838f"),
    ("ROLE_INACTIVE", "#283593"),
    ("NOT_FOUND", "#757575"),
    ("MALFORMED", "#9e9e9e"),
    ("MISSING", "#bdbdbd"),
];
const OTHER: &str = "#616161";

pub fn colour(code: &str) -> &'static str {
    CODES
        .iter()
        .find(|(known, _)| *known == code)
        .map_or(OTHER, |(_, colour)| colour)
}

fn order(code: &str) -> usize {
    CODES
        .iter()
        .position(|(known, _)| *known == code)
        .unwrap_or(CODES.len())
}

/// One coloured rectangle, its numbers written for the SVG.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    pub fill: &'static str,
    /// "03-01 13:00: 4 VALID" (a bucket's label, its count and code), shown
    /// on hover.
    pub title: String,
}

/// A label on an axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub x: String,
    pub y: String,
    pub text: String,
    pub anchor: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub segments: Vec<Segment>,
    pub labels: Vec<Label>,
    /// The codes drawn, in stacking order, with their colours.
    pub legend: Vec<(String, &'static str)>,
    /// The busiest bucket's total: the top of the scale.
    pub max: u64,
}

/// A coordinate to one decimal, as integer tenths: a chart writes hundreds
/// of them, and float formatting was a good part of drawing one.
fn n(value: f64) -> String {
    let tenths = (value * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let tenths = tenths.unsigned_abs();
    format!("{sign}{}.{}", tenths / 10, tenths % 10)
}

/// Draws `buckets`, `labels[i]` naming bucket `i` (in the bars' titles, and
/// the first and last on the time axis).
pub fn draw(buckets: &[Bucket], labels: &[String]) -> Chart {
    let label = |i: usize| labels.get(i).map_or("", String::as_str);
    let max = buckets.iter().map(Bucket::total).max().unwrap_or(0);
    let plot_width = WIDTH - LEFT;
    let plot_height = HEIGHT - BOTTOM;
    let slot = plot_width / buckets.len().max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    let width = n(bar);
    let mut segments = Vec::new();
    let mut legend: Vec<(String, &'static str)> = Vec::new();
    for (i, bucket) in buckets.iter().enumerate() {
        if bucket.counts.is_empty() {
            continue;
        }
        let x = n(LEFT + i as f64 * slot + (slot - bar) / 2.0);
        let mut codes: Vec<(&String, &u64)> = bucket.counts.iter().collect();
        codes.sort_by_key(|(code, _)| order(code));
        let mut top = plot_height;
        for (code, count) in codes {
            if !legend.iter().any(|(known, _)| known == code) {
                legend.push((code.clone(), colour(code)));
            }
            let height = if max == 0 {
                0.0
            } else {
                plot_height * *count as f64 / max as f64
            };
            top -= height;
            segments.push(Segment {
                x: x.clone(),
                y: n(top),
                width: width.clone(),
                height: n(height),
                fill: colour(code),
                title: format!("{}: {count} {code}", label(i)),
            });
        }
    }
    legend.sort_by_key(|(code, _)| order(code));
    let mut axis = vec![
        Label {
            x: n(LEFT - 6.0),
            y: n(10.0),
            text: crate::limits::grouped(max),
            anchor: "end",
        },
        Label {
            x: n(LEFT - 6.0),
            y: n(plot_height),
            text: "0".into(),
            anchor: "end",
        },
    ];
    if !buckets.is_empty() {
        axis.push(Label {
            x: n(LEFT),
            y: n(HEIGHT - 4.0),
            text: label(0).to_owned(),
            anchor: "start",
        });
        axis.push(Label {
            x: n(WIDTH),
            y: n(HEIGHT - 4.0),
            text: label(buckets.len() - 1).to_owned(),
            anchor: "end",
        });
    }
    Chart {
        segments,
        labels: axis,
        legend,
        max,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn bucket(start: i64, counts: &[(&str, u64)]) -> Bucket {
        Bucket {
            start,
            counts: counts
                .iter()
                .map(|(code, n)| ((*code).to_owned(), *n))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn bars_stack_by_code_against_the_busiest_bucket() {
        let buckets = [
            bucket(0, &[("FORBIDDEN", 10), ("VALID", 30)]),
            bucket(3600, &[]),
            bucket(7200, &[("VALID", 20)]),
        ];
        let labels: Vec<String> = buckets
            .iter()
            .map(|b| format!("h{}", b.start / 3600))
            .collect();
        let chart = draw(&buckets, &labels);
        assert_eq!(chart.max, 40);
        // VALID at the bottom, FORBIDDEN on top: 30 and 10 of 40 of 180 units.
        let heights: Vec<(&str, &str, &str)> = chart
            .segments
            .iter()
            .map(|s| (s.fill, s.y.as_str(), s.height.as_str()))
            .collect();
        assert_eq!(
            heights,
            [
                (colour("VALID"), "45.0", "135.0"),
                (colour("FORBIDDEN"), "0.0", "45.0"),
                (colour("VALID"), "90.0", "90.0"),
            ]
        );
        assert_eq!(chart.segments[1].title, "h0: 10 FORBIDDEN");
        assert_eq!(
            chart.legend,
            [
                ("VALID".to_owned(), colour("VALID")),
                ("FORBIDDEN".to_owned(), colour("FORBIDDEN"))
            ]
        );
        // Bars sit in their slots, left to right.
        let x: Vec<f64> = chart
            .segments
            .iter()
            .map(|s| s.x.parse().unwrap())
            .collect();
        assert!(x[0] == x[1] && x[1] < x[2]);
        let texts: Vec<&str> = chart.labels.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["40", "0", "h0", "h2"]);
    }

    #[test]
    fn an_empty_series_draws_no_bars() {
        let chart = draw(&[bucket(0, &[]), bucket(3600, &[])], &[]);
        assert!(chart.segments.is_empty());
        assert_eq!(chart.max, 0);
        assert!(chart.legend.is_empty());
    }
}
