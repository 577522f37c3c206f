//! The webhook's background work, once a second on every instance: turn new
//! app events of the audit log and near or past expiries into deliveries
//! (each written once, whichever instance sees it first), then send what is
//! due, each claimed by one instance, signed, with a five-second timeout and
//! retries with backoff. Nothing here runs inside a verification or an
//! administrator's save: a failing receiver slows neither.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;

use super::domain::{next_attempt, signature};
use super::queries::{self, Delivery};
use crate::clock::SharedClock;
use crate::config::WebhookSettings;
use crate::db::{self, DbPool};

const INTERVAL: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(5);
/// A claimed delivery is another instance's to retry after this long.
const LEASE: TimeDelta = TimeDelta::seconds(60);
const BATCH: i64 = 20;
const AUDIT_BATCH: i64 = 500;

pub struct Deliverer {
    pool: DbPool,
    clock: SharedClock,
    settings: WebhookSettings,
    warning_days: u32,
    client: reqwest::Client,
}

impl Deliverer {
    pub fn new(
        pool: DbPool,
        clock: SharedClock,
        settings: WebhookSettings,
        warning_days: u32,
    ) -> anyhow::Result<Arc<Self>> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("keyward/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Arc::new(Deliverer {
            pool,
            clock,
            settings,
            warning_days,
            client,
        }))
    }

    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let deliverer = Arc::clone(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(INTERVAL);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                deliverer.collect().await;
                deliverer.deliver().await;
            }
        })
    }

    /// New events into the outbox.
    async fn collect(&self) {
        let now = self.clock.now();
        let until = now + TimeDelta::days(i64::from(self.warning_days));
        let result = db::run(&self.pool, move |conn| {
            let after = queries::position(conn)?;
            let (mut events, last) = queries::audit_events_after(conn, after, AUDIT_BATCH)?;
            events.extend(queries::expiry_events(conn, now, until)?);
            queries::enqueue_new(conn, &events, now)?;
            if let Some(last) = last {
                queries::advance_position(conn, last)?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::warn!("webhook: collecting events failed: {e}"),
            Err(e) => log::warn!("webhook: collecting events failed: {e}"),
        }
    }

    /// What is due, sent.
    async fn deliver(&self) {
        let now = self.clock.now();
        let due = match db::run(&self.pool, move |conn| queries::due(conn, now, BATCH)).await {
            Ok(Ok(due)) => due,
            _ => return,
        };
        for delivery in due {
            let claimed = {
                let delivery = delivery.clone();
                db::run(&self.pool, move |conn| {
                    queries::claim(conn, &delivery, now, now + LEASE)
                })
                .await
            };
            if !matches!(claimed, Ok(Ok(true))) {
                continue;
            }
            self.attempt(delivery).await;
        }
    }

    async fn attempt(&self, delivery: Delivery) {
        let timestamp = self.clock.now().and_utc().timestamp();
        let sent = self
            .client
            .post(self.settings.url.clone())
            .header("Content-Type", "application/json")
            .header("X-Keyward-Event", &delivery.event)
            .header("X-Keyward-Delivery", delivery.id.to_string())
            .header(
                "X-Keyward-Signature",
                signature(self.settings.secret(), timestamp, &delivery.payload),
            )
            .body(delivery.payload.clone())
            .send()
            .await;
        let (status, error) = match sent {
            Ok(response) => (Some(response.status().as_u16()), None),
            // The error says what failed (connect, timeout) and names the URL,
            // which the operator set; never the secret.
            Err(e) => (None, Some(without_url(&e))),
        };
        let attempts = delivery.attempts + 1;
        let now = self.clock.now();
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let (next, delivered_at) = if delivered {
            (None, Some(now))
        } else {
            (next_attempt(attempts, now), None)
        };
        if !delivered {
            log::warn!(
                "webhook delivery {} ({}) failed on attempt {attempts}: {}",
                delivery.id,
                delivery.event,
                status.map_or_else(
                    || error.clone().unwrap_or_default(),
                    |s| format!("HTTP {s}")
                )
            );
        }
        let id = delivery.id;
        let error = error.or_else(|| (!delivered).then(|| format!("HTTP {}", status.unwrap_or(0))));
        if let Err(e) = db::run(&self.pool, move |conn| {
            queries::record_attempt(conn, id, attempts, status, error, next, delivered_at)
        })
        .await
        {
            log::warn!("webhook: recording delivery {id} failed: {e}");
        }
    }
}

/// An HTTP client error in words, without the URL (it may hold credentials).
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}
