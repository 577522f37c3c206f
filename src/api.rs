//! What every handler of the management API (`/api/v1/…`) shares: the caller
//! an admin API token names, the token's scope, JSON times, and the answers
//! for what is not there.
//!
//! The API takes a token in `Authorization: Bearer` and nothing else: no
//! session cookie is read (so there is no CSRF surface), and an app's API key
//! is not a token. `crate::admins::api_wall` checks the token and puts the
//! [`ApiCaller`] in the request; a read-only token may only read.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::audit::Actor;
use crate::error::AppError;
use crate::limits::{RateLimit, RateLimits};
use crate::templates::FieldErrors;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read everything; change nothing.
    ReadOnly,
    /// Everything the console does.
    ReadWrite,
}

impl Scope {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ReadOnly => "read",
            Scope::ReadWrite => "write",
        }
    }

    /// As stored, and as the token form sends it.
    pub fn parse(input: &str) -> Option<Scope> {
        match input.trim() {
            "read" | "read_only" => Some(Scope::ReadOnly),
            "write" | "read_write" => Some(Scope::ReadWrite),
            _ => None,
        }
    }

    /// As the console shows it.
    pub fn label(self) -> &'static str {
        match self {
            Scope::ReadOnly => "Read-only",
            Scope::ReadWrite => "Read-write",
        }
    }
}

/// The administrator an API request acts as, through which token.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub admin_id: i32,
    pub admin_email: String,
    pub token_id: i32,
    pub token_name: String,
    pub scope: Scope,
    /// The client's IP address, for the audit log.
    pub address: String,
}

impl ApiCaller {
    /// This administrator, through this token, as the audit log records them.
    pub fn actor(&self) -> Actor {
        Actor {
            admin_id: Some(self.admin_id),
            admin_email: self.admin_email.clone(),
            address: self.address.clone(),
            via_token: Some(self.token_name.clone()),
            importing: false,
        }
    }
}

impl FromRequest for ApiCaller {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(req.extensions().get::<ApiCaller>().cloned().ok_or_else(|| {
            AppError::from(anyhow::anyhow!(
                "an API handler outside the token wall asked for its caller"
            ))
            .for_api()
            .into()
        }))
    }
}

/// A JSON request body that must be an object (serde alone would also take
/// an array of the fields in order). Bad JSON answers as every JSON body does
/// (`web::JsonConfig`'s handler); JSON of the wrong shape is a 400.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let object =
            actix_web::web::Json::<serde_json::Map<String, serde_json::Value>>::from_request(
                req, payload,
            );
        Box::pin(async move {
            let object = object.await?.into_inner();
            serde_json::from_value(serde_json::Value::Object(object))
                .map(Body)
                .map_err(|e| {
                    AppError::api(
                        StatusCode::BAD_REQUEST,
                        format!("The request body is not what this endpoint takes: {e}"),
                    )
                    .into()
                })
        })
    }
}

/// A stored time as the API writes it: RFC 3339, in UTC.
pub fn utc(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}

/// A time a client sent: RFC 3339 (`2027-01-31T18:00:00Z`, any offset), or
/// the console's `2027-01-31T18:00`, taken as UTC.
pub fn parse_time(input: &str) -> Result<NaiveDateTime, String> {
    let input = input.trim();
    DateTime::parse_from_rfc3339(input)
        .map(|time| time.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(input, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(input, "%Y-%m-%dT%H:%M"))
        .map_err(|_| "Enter a time like 2027-01-31T18:00:00Z (RFC 3339)".to_owned())
}

/// `201 Created` with `body`.
pub fn created(body: &impl Serialize) -> HttpResponse {
    HttpResponse::Created().json(body)
}

/// `204 No Content`.
pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// No such object, as the API says it.
pub fn not_found(what: &str, id: i32) -> AppError {
    AppError::api(
        StatusCode::NOT_FOUND,
        format!("There is no {what} with id {id}."),
    )
}

/// An id in an API path: plain digits that fit, else no such object.
pub fn path_id(raw: &str, what: &str) -> Result<i32, AppError> {
    crate::http::parse_id(raw).ok_or_else(|| {
        AppError::api(
            StatusCode::NOT_FOUND,
            format!("There is no {what} with id {raw:?}."),
        )
    })
}

/// What the API answers at an address it does not have.
pub async fn no_such_endpoint() -> Result<HttpResponse, AppError> {
    Err(AppError::api(
        StatusCode::NOT_FOUND,
        "There is no such endpoint; the API is described at /api/v1/openapi.json.",
    ))
}

/// What a form's parser made of a request, with what the handler found wrong
/// before it (`errors`): every problem at once, by field.
pub fn with_errors<T>(
    parsed: Result<T, FieldErrors>,
    mut errors: FieldErrors,
) -> Result<T, FieldErrors> {
    match parsed {
        Ok(value) if errors.is_empty() => Ok(value),
        Ok(_) => Err(errors),
        Err(more) => {
            for (field, message) in more.iter() {
                errors.add(field, message);
            }
            Err(errors)
        }
    }
}

/// A request refused field by field (422), under the form's field names.
pub fn invalid(errors: &FieldErrors) -> AppError {
    AppError::invalid(errors.iter(), str::to_owned)
}

/// A request refused for one field (422): `message` under `field`.
pub fn invalid_field(field: &'static str, message: &str) -> AppError {
    let mut errors = FieldErrors::default();
    errors.add(field, message);
    invalid(&errors)
}

/// One rate limit: `limit` requests per window of `window_seconds`
/// (windows are fixed, aligned to the Unix epoch: a day is a UTC day).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitJson {
    #[schema(minimum = 1, maximum = 1_000_000_000, example = 100)]
    pub limit: i64,
    /// 1 second to 31 days (2,678,400); 60 is a minute, 86,400 a day.
    #[schema(minimum = 1, maximum = 2_678_400, example = 60)]
    pub window_seconds: i64,
}

impl From<&RateLimit> for RateLimitJson {
    fn from(limit: &RateLimit) -> Self {
        RateLimitJson {
            limit: limit.limit as i64,
            window_seconds: limit.window_seconds.into(),
        }
    }
}

/// The form's "Rate limits" text from the API's list, or why the list cannot
/// be one (under `field`).
pub fn rate_limits_text(
    list: &[RateLimitJson],
    field: &'static str,
    errors: &mut FieldErrors,
) -> String {
    let limits = list.iter().map(|l| {
        let window = u32::try_from(l.window_seconds).unwrap_or(0);
        RateLimit::new(u64::try_from(l.limit).unwrap_or(0), window)
    });
    match limits
        .collect::<Result<Vec<_>, _>>()
        .and_then(RateLimits::from_limits)
    {
        Ok(limits) => limits.form_text(),
        Err(message) => {
            errors.add(field, message);
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_rfc_3339_or_the_consoles_form() {
        let at = |s: &str| parse_time(s).map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string());
        assert_eq!(at("2027-01-31T18:00:00Z").unwrap(), "2027-01-31 18:00:00");
        assert_eq!(
            at("2027-01-31T19:30:00+01:30").unwrap(),
            "2027-01-31 18:00:00"
        );
        assert_eq!(at("2027-01-31T18:00").unwrap(), "2027-01-31 18:00:00");
        assert!(at("tomorrow").unwrap_err().contains("RFC 3339"));
        assert_eq!(
            utc(parse_time("2027-01-31T18:00:00Z").unwrap()).to_rfc3339(),
            "2027-01-31T18:00:00+00:00"
        );
    }

    #[test]
    fn scopes_round_trip() {
        for scope in [Scope::ReadOnly, Scope::ReadWrite] {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("admin"), None);
    }
}
