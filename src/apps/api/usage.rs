//! How keys are used, through the management API: one key's requests over
//! time by outcome (`/api/v1/apps/{id}/usage`) and every key's together
//! (`/api/v1/usage`), as the key's page charts them.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{self, ApiCaller, utc};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::{ApiErrorBody, AppError};
use crate::limits::unix_seconds;
use crate::usage::queries::{self, Whose};
use crate::usage::{Granularity, Range, series, totals};

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GranularityParam {
    Hour,
    Day,
}

/// The time range and bucket size of a usage series.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// RFC 3339; default: 24 hours (`hour`) or 30 days (`day`) before `to`.
    pub from: Option<String>,
    /// RFC 3339; default: now. Buckets are whole hours or UTC days, so the
    /// range is widened to their edges.
    pub to: Option<String>,
    /// `hour` (the default; at most 744 buckets, 31 days) or `day` (at most
    /// 400). Hours older than the retention (90 days by default) are
    /// counted in days only.
    #[param(inline)]
    pub granularity: Option<GranularityParam>,
}

/// One bucket: when it starts and what was counted in it, by outcome code.
#[derive(Debug, Serialize, ToSchema)]
pub struct BucketJson {
    pub start: DateTime<Utc>,
    /// Only the codes that were answered in the bucket.
    #[schema(example = json!({"VALID": 120, "FORBIDDEN": 3}))]
    pub counts: BTreeMap<String, u64>,
}

/// Requests over time, by outcome code (`VALID`, `FORBIDDEN`,
/// `RATE_LIMITED`, …), every bucket of the range in order, empty ones too.
/// Counts reach the database within a second or two.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageJson {
    /// `hour` or `day`.
    pub granularity: &'static str,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub buckets: Vec<BucketJson>,
    /// Each code's total over the range.
    pub totals: BTreeMap<String, u64>,
}

fn bad(message: impl Into<String>) -> AppError {
    AppError::api(StatusCode::BAD_REQUEST, message)
}

impl UsageParams {
    fn range(&self, now: i64) -> Result<Range, AppError> {
        let granularity = match self.granularity {
            None | Some(GranularityParam::Hour) => Granularity::Hour,
            Some(GranularityParam::Day) => Granularity::Day,
        };
        let time = |value: &Option<String>, name: &str| -> Result<Option<i64>, AppError> {
            value
                .as_deref()
                .map(|text| {
                    api::parse_time(text)
                        .map(unix_seconds)
                        .map_err(|why| bad(format!("{name}: {why}")))
                })
                .transpose()
        };
        let to = time(&self.to, "to")?.unwrap_or(now);
        let from = match time(&self.from, "from")? {
            Some(from) => from,
            None => match granularity {
                Granularity::Hour => to - 24 * crate::usage::HOUR,
                Granularity::Day => to - 30 * crate::usage::DAY,
            },
        };
        Range::new(from, to, granularity).map_err(bad)
    }
}

async fn answer(pool: &DbPool, whose: Whose, range: Range) -> Result<UsageJson, AppError> {
    let rows = db::run(pool, move |conn| queries::rows(conn, whose, &range)).await??;
    let buckets = series(&range, rows);
    Ok(UsageJson {
        granularity: range.granularity.as_str(),
        from: utc(crate::usage::time(range.from)),
        to: utc(crate::usage::time(range.to)),
        totals: totals(&buckets),
        buckets: buckets
            .into_iter()
            .map(|bucket| BucketJson {
                start: utc(bucket.start_time()),
                counts: bucket.counts,
            })
            .collect(),
    })
}

/// One API key's requests over time, by outcome.
#[utoipa::path(get, operation_id = "app_usage", path = "/api/v1/apps/{id}/usage", tag = "apps",
    params(("id" = i32, Path, description = "The key's id"), UsageParams),
    responses((status = 200, body = UsageJson), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn app_usage(
    _caller: ApiCaller,
    path: web::Path<String>,
    params: web::Query<UsageParams>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "API key")?;
    let range = params.range(unix_seconds(clock.now()))?;
    let exists = db::run(&pool, move |conn| {
        crate::apps::queries::name_and_prefix(conn, id)
    })
    .await??;
    if exists.is_none() {
        return Err(api::not_found("API key", id));
    }
    Ok(HttpResponse::Ok().json(answer(&pool, Whose::App(id), range).await?))
}

/// Every key's requests over time, by outcome, with those that named no
/// key keyward knows (`MISSING`, `MALFORMED`, `NOT_FOUND`).
#[utoipa::path(get, operation_id = "usage_overview", path = "/api/v1/usage", tag = "apps",
    params(UsageParams),
    responses((status = 200, body = UsageJson), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn overview(
    _caller: ApiCaller,
    params: web::Query<UsageParams>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let range = params.range(unix_seconds(clock.now()))?;
    Ok(HttpResponse::Ok().json(answer(&pool, Whose::All, range).await?))
}
