//! The Dashboard page.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDateTime, TimeDelta};

use super::queries::{self, Dated, Ranked};
use crate::clock::SharedClock;
use crate::config::ExpiryWarning;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::limits::{grouped, unix_seconds};
use crate::session::SignedInAdmin;
use crate::templates::render;
use crate::usage::queries::Whose;
use crate::usage::view::{Drawn, Period, UsageView};

/// Keys not used for this many days are listed.
const UNUSED_DAYS: i64 = 30;

#[derive(Template)]
#[template(path = "dashboard/page.html")]
struct DashboardPage {
    admin: SignedInAdmin,
    section: &'static str,
    usage: Arc<UsageView>,
    /// Requests that were not `VALID` in the period.
    denied: u64,
    /// The lists, rendered when they were computed ([`ListsPartial`]).
    lists_html: Arc<str>,
}

impl DashboardPage {
    fn summary(&self) -> String {
        if self.usage.total == 0 {
            return format!("No requests in {}.", self.usage.period.label());
        }
        format!(
            "{}, {} of them refused.",
            self.usage.summary(),
            grouped(self.denied)
        )
    }
}

/// The dashboard's lists as HTML. Rendered once per snapshot rather than per
/// page: with many keys and much usage they are most of the page's work.
#[derive(Template)]
#[template(path = "dashboard/lists_partial.html")]
struct ListsPartial {
    period: Period,
    /// When the lists were computed.
    as_of: NaiveDateTime,
    busiest: Vec<Ranked>,
    refused: Vec<Ranked>,
    inactive_presented: Vec<Ranked>,
    warning_days: u32,
    expiring: (i64, Vec<Dated>),
    unused: (i64, Vec<Dated>),
}

impl ListsPartial {
    /// "12 FORBIDDEN, 3 RATE_LIMITED"
    fn why(&self, ranked: &Ranked) -> String {
        crate::usage::view::by_code(&ranked.by_code)
    }

    fn count(&self, n: &u64) -> String {
        grouped(*n)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DashboardQuery {
    #[serde(default)]
    usage: Option<String>,
}

/// The dashboard's lists (rankings, expiring and unused keys), which cost
/// more the more keys and usage there are: kept per period for a page to
/// show at once, and computed again off the page's path once they are a few
/// seconds old, so a page load never waits for them but the first.
#[derive(Default)]
pub struct Snapshots {
    lists: Mutex<HashMap<Period, (Instant, Arc<str>)>>,
    refreshing: Mutex<HashSet<Period>>,
}

/// A snapshot older than this is computed again in the background.
const REFRESH_AFTER: Duration = Duration::from_secs(2);
/// One older than this is not shown: the page computes it itself.
const MAX_AGE: Duration = Duration::from_secs(60);

impl Snapshots {
    fn fresh(&self, period: Period) -> Option<(Duration, Arc<str>)> {
        let lists = self.lists.lock().ok()?;
        let (at, lists) = lists.get(&period)?;
        let age = at.elapsed();
        (age < MAX_AGE).then(|| (age, lists.clone()))
    }

    fn store(&self, period: Period, lists: Arc<str>) {
        if let Ok(mut stored) = self.lists.lock() {
            stored.insert(period, (Instant::now(), lists));
        }
    }

    /// Whether this caller should refresh `period` (nobody else is).
    fn start_refresh(&self, period: Period) -> bool {
        self.refreshing
            .lock()
            .is_ok_and(|mut refreshing| refreshing.insert(period))
    }

    fn end_refresh(&self, period: Period) {
        if let Ok(mut refreshing) = self.refreshing.lock() {
            refreshing.remove(&period);
        }
    }
}

/// Computes the lists of `period` at `now`, rendered.
async fn compute_lists(
    pool: &DbPool,
    period: Period,
    now: NaiveDateTime,
    warning_days: u32,
) -> Result<Arc<str>, AppError> {
    // The rankings count the period's hours (at most 31 days of them).
    let from = period
        .range(now)
        .from
        .max(unix_seconds(now) - 31 * crate::usage::DAY);
    let lists = db::run(pool, move |conn| {
        let rankings = queries::rankings(conn, from)?;
        Ok::<_, diesel::result::Error>(ListsPartial {
            period,
            as_of: now,
            busiest: rankings.busiest,
            refused: rankings.refused,
            inactive_presented: rankings.inactive,
            warning_days,
            expiring: queries::expiring(conn, now, now + TimeDelta::days(i64::from(warning_days)))?,
            unused: queries::unused_since(conn, now - TimeDelta::days(UNUSED_DAYS))?,
        })
    })
    .await??;
    let html = lists
        .render()
        .map_err(|e| anyhow::anyhow!("rendering the dashboard's lists failed: {e}"))?;
    Ok(html.into())
}

pub async fn dashboard(
    admin: SignedInAdmin,
    query: web::Query<DashboardQuery>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
    warning: web::Data<ExpiryWarning>,
    snapshots: web::Data<Snapshots>,
    drawn: web::Data<Drawn>,
) -> Result<HttpResponse, AppError> {
    let period = Period::from_param(query.usage.as_deref());
    let now = clock.now();
    let range = period.range(now);
    let warning_days = warning.0;
    let lists = match snapshots.fresh(period) {
        Some((age, lists)) => {
            if age >= REFRESH_AFTER && snapshots.start_refresh(period) {
                let (pool, clock, snapshots) = (pool.clone(), clock.clone(), snapshots.clone());
                actix_web::rt::spawn(async move {
                    match compute_lists(&pool, period, clock.now(), warning_days).await {
                        Ok(fresh) => snapshots.store(period, fresh),
                        Err(e) => log::warn!("refreshing the dashboard failed: {e}"),
                    }
                    snapshots.end_refresh(period);
                });
            }
            lists
        }
        None => {
            let fresh = compute_lists(&pool, period, now, warning_days).await?;
            snapshots.store(period, fresh.clone());
            fresh
        }
    };
    // The chart reads the rows of everybody's hours or days: as cheap with a
    // year of usage as with none. It is drawn on the blocking pool too (see
    // the key's page).
    let usage = db::run(&pool, move |conn| {
        crate::usage::queries::rows(conn, Whose::All, &range)
            .map(|rows| drawn.view(Whose::All, period, &range, rows))
    })
    .await??
    .map_err(|e| anyhow::anyhow!("drawing the dashboard's chart failed: {e}"))?;
    let denied = usage
        .totals
        .iter()
        .filter(|(code, _)| code != "VALID")
        .map(|(_, n)| n)
        .sum();
    render(
        StatusCode::OK,
        &DashboardPage {
            admin,
            section: "dashboard",
            usage,
            denied,
            lists_html: lists,
        },
    )
}
