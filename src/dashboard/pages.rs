//! The Dashboard page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::TimeDelta;

use super::queries::{self, Counted, Dated, Ranked};
use crate::clock::SharedClock;
use crate::config::ExpiryWarning;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::limits::{grouped, unix_seconds};
use crate::session::SignedInAdmin;
use crate::templates::render;
use crate::usage::queries::Whose;
use crate::usage::view::{Period, UsageView};

/// Keys not used for this many days are listed.
const UNUSED_DAYS: i64 = 30;

#[derive(Template)]
#[template(path = "dashboard/page.html")]
struct DashboardPage {
    admin: SignedInAdmin,
    section: &'static str,
    usage: UsageView,
    /// Requests that were not `VALID` in the period.
    denied: u64,
    busiest: Vec<Ranked>,
    refused: Vec<Ranked>,
    inactive_presented: Vec<Ranked>,
    warning_days: u32,
    expiring: (i64, Vec<Dated>),
    unused: (i64, Vec<Dated>),
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

    /// "12 FORBIDDEN, 3 RATE_LIMITED"
    fn why(&self, ranked: &Ranked) -> String {
        ranked
            .by_code
            .iter()
            .map(|(code, n)| format!("{} {code}", grouped(*n)))
            .collect::<Vec<_>>()
            .join(", ")
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

pub async fn dashboard(
    admin: SignedInAdmin,
    query: web::Query<DashboardQuery>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
    warning: web::Data<ExpiryWarning>,
) -> Result<HttpResponse, AppError> {
    let period = Period::from_param(query.usage.as_deref());
    let now = clock.now();
    let range = period.range(now);
    // The rankings count the period's hours (days older than the retention
    // are not ranked: the longest period is 30 days).
    let from = range.from.max(unix_seconds(now) - 31 * crate::usage::DAY);
    let warning_days = warning.0;
    let page = db::run(&pool, move |conn| {
        let rows = crate::usage::queries::rows(conn, Whose::All, &range)?;
        Ok::<_, diesel::result::Error>((
            UsageView::new(period, &range, rows),
            queries::ranked(conn, Counted::All, from)?,
            queries::ranked(conn, Counted::Refused, from)?,
            queries::ranked(conn, Counted::Inactive, from)?,
            queries::expiring(conn, now, now + TimeDelta::days(i64::from(warning_days)))?,
            queries::unused_since(conn, now - TimeDelta::days(UNUSED_DAYS))?,
        ))
    })
    .await??;
    let (usage, busiest, refused, inactive_presented, expiring, unused) = page;
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
            busiest,
            refused,
            inactive_presented,
            warning_days,
            expiring,
            unused,
        },
    )
}
