//! keyward's Prometheus metrics: one registry per running application (tests
//! run several in one process), rendered in the text exposition format.

use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::db::DbPool;

/// Verification latency buckets in seconds: a cache hit takes microseconds, a
/// database look-up a millisecond or so, and anything past a second is an
/// outage or an overloaded database.
const VERIFICATION_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5,
];

/// The route label of a request that matched no route: the raw path could
/// carry anything (a key, an id) and would make the label set unbounded.
pub const UNMATCHED_ROUTE: &str = "unmatched";

pub struct Metrics {
    registry: Registry,
    verifications: IntCounterVec,
    verification_seconds: Histogram,
    cache_hits: IntCounter,
    cache_misses: IntCounter,
    change_log_position: IntGauge,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    http_requests: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Self {
        let verifications = IntCounterVec::new(
            Opts::new(
                "keyward_verifications_total",
                "Keys judged, by answer code (UNAVAILABLE: the database could not be reached).",
            ),
            &["code"],
        )
        .expect("valid metric");
        let verification_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "keyward_verification_duration_seconds",
                "Time to judge one key, from parsing it to the answer.",
            )
            .buckets(VERIFICATION_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        let cache_hits = IntCounter::new(
            "keyward_verify_cache_hits_total",
            "Key look-ups answered from the verification cache.",
        )
        .expect("valid metric");
        let cache_misses = IntCounter::new(
            "keyward_verify_cache_misses_total",
            "Key look-ups that went to the database.",
        )
        .expect("valid metric");
        let change_log_position = IntGauge::new(
            "keyward_verify_change_log_position",
            "The newest change-log entry the verification cache has applied; \
             0 until the first change, and while it follows none (before the first read, or when a failed read dropped the cache).",
        )
        .expect("valid metric");
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "keyward_db_pool_connections",
                "Database connections in the pool, by state (in_use, idle).",
            ),
            &["state"],
        )
        .expect("valid metric");
        let pool_max = IntGauge::new(
            "keyward_db_pool_max_connections",
            "The most connections the pool opens (--pool-size).",
        )
        .expect("valid metric");
        let http_requests = IntCounterVec::new(
            Opts::new(
                "keyward_http_requests_total",
                "HTTP requests answered, by method, route pattern and status.",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");

        let registry = Registry::new();
        for metric in [
            Box::new(verifications.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(verification_seconds.clone()),
            Box::new(cache_hits.clone()),
            Box::new(cache_misses.clone()),
            Box::new(change_log_position.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_max.clone()),
            Box::new(http_requests.clone()),
        ] {
            registry.register(metric).expect("metric names are unique");
        }
        // Every state shows from the start, so a dashboard has a line at 0.
        for state in ["in_use", "idle"] {
            pool_connections.with_label_values(&[state]);
        }
        Metrics {
            registry,
            verifications,
            verification_seconds,
            cache_hits,
            cache_misses,
            change_log_position,
            pool_connections,
            pool_max,
            http_requests,
        }
    }

    /// Lists these verification codes at 0 from the start, so a rate over
    /// any of them has a series before its first occurrence.
    pub fn declare_verification_codes<'a>(&self, codes: impl IntoIterator<Item = &'a str>) {
        for code in codes {
            self.verifications.with_label_values(&[code]);
        }
    }

    /// One judged key: its answer code and how long it took.
    pub fn record_verification(&self, code: &str, elapsed: Duration) {
        self.verifications.with_label_values(&[code]).inc();
        self.verification_seconds.observe(elapsed.as_secs_f64());
    }

    pub fn record_cache(&self, hit: bool) {
        if hit {
            self.cache_hits.inc();
        } else {
            self.cache_misses.inc();
        }
    }

    /// Where the verification cache is in the change log after a poll:
    /// instances sharing a database that show the same value have applied
    /// the same changes.
    pub fn record_change_log_position(&self, last_id: Option<i64>) {
        self.change_log_position.set(last_id.unwrap_or(0));
    }

    /// One answered request. `route` is the matched pattern (`/api-keys/{id}`),
    /// never the raw path.
    pub fn record_http(&self, method: &str, route: &str, status: &str) {
        self.http_requests
            .with_label_values(&[method, route, status])
            .inc();
    }

    /// The text exposition of every metric, with the pool gauges read now.
    pub fn render(&self, pool: &DbPool) -> String {
        let state = pool.state();
        let in_use = state.connections.saturating_sub(state.idle_connections);
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(i64::from(in_use));
        self.pool_connections
            .with_label_values(&["idle"])
            .set(i64::from(state.idle_connections));
        self.pool_max.set(i64::from(pool.max_size()));
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding metrics to memory cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A method label from a fixed set: any other method becomes `other`, so a
/// client cannot grow the label set.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
