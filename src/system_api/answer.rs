//! What every system API handler shares: DreamFactory-shaped error answers
//! (`DfError` as a response, and keyward's own errors turned into one), the
//! raw query parameters, and database work whose errors answer so.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::domain::error::DfError;
use super::domain::params::RawParams;
use super::queries::list::ListError;
use crate::db::{self, DbPool};
use crate::error::AppError;

pub type Answer = Result<HttpResponse, DfError>;

impl std::fmt::Display for DfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl ResponseError for DfError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self.body())
    }
}

/// keyward's error as DreamFactory's shape: the same status and message
/// (a database fault is logged by `for_api` and answers 500 or 503).
impl From<AppError> for DfError {
    fn from(error: AppError) -> Self {
        match error.for_api() {
            AppError::Api {
                status,
                message,
                context,
                ..
            } => DfError {
                context,
                ..DfError::new(status.as_u16(), message)
            },
            other => DfError::new(other.status_code().as_u16(), other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for DfError {
    fn from(error: diesel::result::Error) -> Self {
        AppError::from(error).into()
    }
}

/// A request body, read whole; one too large or cut off is refused in
/// DreamFactory's shape (its JSON is read per resource, see
/// `domain::records`).
pub struct Body(pub web::Bytes);

impl FromRequest for Body {
    type Error = DfError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            bytes.await.map(Body).map_err(|error| {
                let status = error.as_response_error().status_code();
                let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "The request body is too large."
                } else {
                    "The request body could not be read."
                };
                DfError::new(status.as_u16(), message)
            })
        })
    }
}

/// The request's query parameters, however they are spelt.
pub fn params(req: &HttpRequest) -> RawParams {
    RawParams::from_query(req.query_string())
}

/// `work` on a pooled connection, off the async threads.
pub async fn run<R: Send + 'static>(
    pool: &DbPool,
    work: impl FnOnce(&mut db::DbConn) -> Result<R, DfError> + Send + 'static,
) -> Result<R, DfError> {
    db::run(pool, work).await?
}

/// A refused filter (400) or a failed list query.
pub fn listed(error: ListError) -> DfError {
    match error {
        ListError::Filter(filter) => DfError::bad_request(filter.message()),
        ListError::Db(error) => error.into(),
    }
}

/// A list's answer: `{"resource":[…]}` with `meta.count` when asked, or
/// the bare count for `count_only`.
pub fn list_body(records: Vec<Value>, count: Option<i64>, count_only: bool) -> Value {
    match (count_only, count) {
        (true, Some(count)) => json!(count),
        (_, Some(count)) => json!({"resource": records, "meta": {"count": count}}),
        _ => json!({"resource": records}),
    }
}

pub fn ok(value: &Value) -> HttpResponse {
    HttpResponse::Ok().json(value)
}

/// A path's record id: digits that fit, else no such record.
pub fn path_id(raw: &str) -> Result<i32, DfError> {
    crate::http::parse_id(raw).ok_or_else(|| DfError::not_found(raw))
}

/// A verb a resource does not take, in DreamFactory's shape.
pub async fn no_such_method(req: HttpRequest) -> Answer {
    Err(DfError::new(
        405,
        format!("{} does not take {}.", req.path(), req.method()),
    ))
}

/// What the system API answers at an address it does not have.
pub async fn no_such_resource(req: HttpRequest) -> Answer {
    Err(DfError::new(
        404,
        format!(
            "keyward's system API has no resource at {}; it serves admin/session, app, role \
             and service.",
            req.path()
        ),
    ))
}
