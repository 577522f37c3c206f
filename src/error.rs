//! The web layer's one error type. Browsers get an error page rendered in the
//! layout, with no internals; the log gets the whole cause chain.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("missing or invalid CSRF token")]
    CsrfRejected,
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body did not arrive within `--body-timeout-seconds`.
    #[error("request body timed out")]
    RequestTimeout,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Not signed in: send the browser to the login page, then back to `next`.
    #[error("not signed in")]
    NotSignedIn { next: String },
    #[error("database unavailable")]
    DatabaseUnavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
    /// An answer to an API client, in DreamFactory's JSON error shape.
    #[error("{status}: {message}")]
    Api {
        status: StatusCode,
        message: String,
        challenge: bool,
        /// What each field got wrong, as `{"field": ["message"]}`.
        context: Option<serde_json::Value>,
    },
}

impl AppError {
    pub fn api(status: StatusCode, message: impl Into<String>) -> Self {
        AppError::Api {
            status,
            message: message.into(),
            challenge: false,
            context: None,
        }
    }

    /// A request the API refuses field by field (422): each field's message
    /// in `context`, under the name `field_name` gives it in the request.
    /// (`errors` as `FieldErrors::iter` gives them.)
    pub fn invalid<'f, 'm>(
        errors: impl IntoIterator<Item = (&'f str, &'m str)>,
        field_name: impl Fn(&str) -> String,
    ) -> Self {
        let context: serde_json::Map<String, serde_json::Value> = errors
            .into_iter()
            .map(|(field, message)| (field_name(field), serde_json::json!([message])))
            .collect();
        let fields: Vec<&str> = context.keys().map(String::as_str).collect();
        AppError::Api {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!(
                "The request was not valid: see context for what is wrong with {}.",
                fields.join(", ")
            ),
            challenge: false,
            context: Some(serde_json::Value::Object(context)),
        }
    }

    /// Adds `WWW-Authenticate` to a 401 so clients know a key is expected.
    pub fn with_challenge(self) -> Self {
        match self {
            AppError::Api {
                status,
                message,
                context,
                ..
            } => AppError::Api {
                status,
                message,
                challenge: true,
                context,
            },
            other => other,
        }
    }

    /// The same error as an API client should see it: JSON, not a page.
    pub fn for_api(self) -> Self {
        let message = match &self {
            AppError::Api { .. } => return self,
            AppError::NotFound => "Not found.",
            AppError::MethodNotAllowed => "This endpoint does not accept that method.",
            AppError::CsrfRejected => "Missing or invalid CSRF token.",
            AppError::PayloadTooLarge => "The request body is too large.",
            AppError::RequestTimeout => "The request body did not arrive in time.",
            AppError::BadRequest(_) => "The request could not be understood.",
            AppError::NotSignedIn { .. } => "Not signed in.",
            AppError::DatabaseUnavailable(e) => {
                log::error!("database unavailable: {e:#}");
                "keyward cannot reach its database right now; the key was not judged. Try again shortly."
            }
            AppError::Unexpected(e) => {
                log::error!("unexpected error: {e:#}");
                "keyward hit an unexpected error; the details are in its log."
            }
        };
        AppError::api(self.status_code(), message)
    }
}

/// An error as API clients get it, in DreamFactory's shape.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody {
    pub error: ApiErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ApiErrorDetail {
    /// The HTTP status.
    pub code: u16,
    /// What went wrong, and what to fix.
    pub message: String,
    /// For a refused request body: each field's messages, as
    /// `{"name": ["Application name required"]}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, Vec<String>>>)]
    pub context: Option<serde_json::Value>,
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        if is_connection_lost(&error) {
            AppError::DatabaseUnavailable(error.into())
        } else {
            AppError::Unexpected(anyhow::Error::new(error).context("database query failed"))
        }
    }
}

/// True when a diesel error means the database went away rather than the query
/// being wrong: the caller answers 503, not 500.
pub fn is_connection_lost(error: &diesel::result::Error) -> bool {
    match error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ClosedConnection,
            _,
        ) => true,
        // libpq could not even send the query: after the server went away
        // this says "no connection to the server".
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            message.contains("server closed the connection")
                || message.contains("connection to server")
                || message.contains("terminating connection")
                || message.contains("no connection to the server")
        }
        _ => false,
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::CsrfRejected => StatusCode::FORBIDDEN,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::NotSignedIn { .. } => StatusCode::SEE_OTHER,
            AppError::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Api { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let AppError::NotSignedIn { next } = self {
            let location = format!("/login?next={}", urlencode(next));
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location.clone()))
                // htmx follows this header instead of swapping a login page into a fragment.
                .insert_header(("HX-Redirect", location))
                .finish();
        }
        if let AppError::Api {
            status,
            message,
            challenge,
            context,
        } = self
        {
            let mut response = HttpResponse::build(*status);
            if *status == StatusCode::REQUEST_TIMEOUT {
                // The rest of the body may still be on its way: end the connection.
                response.force_close();
            }
            if *challenge {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"keyward\""));
            }
            return response.json(ApiErrorBody {
                error: ApiErrorDetail {
                    code: status.as_u16(),
                    message: message.clone(),
                    context: context.clone(),
                },
            });
        }
        match self {
            AppError::Unexpected(e) => log::error!("unexpected error: {e:#}"),
            AppError::DatabaseUnavailable(e) => log::error!("database unavailable: {e:#}"),
            _ => {}
        }
        let (title, message) = match self {
            AppError::NotFound => ("Page not found", "There is nothing at this address."),
            AppError::MethodNotAllowed => (
                "Not allowed",
                "This address does not accept that kind of request. Use the links and buttons on keyward's pages.",
            ),
            AppError::CsrfRejected => (
                "Request refused",
                "This form has expired or did not come from keyward. Go back, reload the page and try again.",
            ),
            AppError::PayloadTooLarge => (
                "Request too large",
                "What was sent is larger than keyward accepts.",
            ),
            AppError::RequestTimeout => (
                "Request timed out",
                "What was sent did not arrive in time. Nothing was changed; try again.",
            ),
            AppError::BadRequest(_) => {
                ("Bad request", "keyward could not understand this request.")
            }
            AppError::DatabaseUnavailable(_) => (
                "Database unavailable",
                "keyward cannot reach its database right now. Nothing was changed; try again in a moment.",
            ),
            AppError::Unexpected(_) | AppError::NotSignedIn { .. } | AppError::Api { .. } => (
                "Something went wrong",
                "keyward hit an unexpected error. Nothing was changed; the details are in the server log.",
            ),
        };
        let body = ErrorPage { title, message }
            .render()
            .unwrap_or_else(|_| format!("{title}: {message}"));
        let mut response = HttpResponse::build(status);
        if status == StatusCode::REQUEST_TIMEOUT {
            response.force_close();
        }
        response.content_type("text/html; charset=utf-8").body(body)
    }
}

/// Percent-encodes a path for use in a query parameter.
pub fn urlencode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// True when reading a body failed because its deadline passed.
pub fn is_body_timeout(error: &actix_web::error::PayloadError) -> bool {
    matches!(error, actix_web::error::PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// The largest form or JSON body keyward accepts.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The largest upload the console takes: a DreamFactory package of up to
/// 32 MiB with the rest of its form.
pub const UPLOAD_LIMIT: usize = 32 * 1024 * 1024 + BODY_LIMIT;

/// Turns actix's form and JSON payload errors into our error pages (413 for an
/// oversized body, 400 for the rest).
pub fn form_error(
    error: actix_web::error::UrlencodedError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::UrlencodedError;
    match error {
        UrlencodedError::Overflow { .. } => AppError::PayloadTooLarge.into(),
        UrlencodedError::Payload(e) if is_body_timeout(&e) => AppError::RequestTimeout.into(),
        other => AppError::BadRequest(other.to_string()).into(),
    }
}

/// actix answers a known path with the wrong method by an empty 405; this
/// renders it like every other error, as a page or as API JSON, with the
/// `Allow` header `allowed` gives for the route's pattern (when it knows).
pub fn method_not_allowed<B>(
    res: actix_web::dev::ServiceResponse<B>,
    allowed: impl Fn(&str) -> Option<String>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    // A handler that answered 405 itself, in JSON, said what it meant.
    let answered = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if answered {
        return Ok(actix_web::middleware::ErrorHandlerResponse::Response(
            res.map_into_left_body(),
        ));
    }
    let (req, _) = res.into_parts();
    let error = if req.path().starts_with("/api/") {
        AppError::MethodNotAllowed.for_api()
    } else {
        AppError::MethodNotAllowed
    };
    let mut response = error.error_response();
    if let Some(methods) = req.match_pattern().as_deref().and_then(allowed)
        && let Ok(value) = actix_web::http::header::HeaderValue::from_str(&methods)
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    let res = actix_web::dev::ServiceResponse::new(req, response).map_into_right_body();
    Ok(actix_web::middleware::ErrorHandlerResponse::Response(res))
}

/// Turns a bad JSON body into a DreamFactory-shaped 400 (413 when too large).
pub fn json_error(
    error: actix_web::error::JsonPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    match error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            AppError::api(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.",
            )
            .into()
        }
        JsonPayloadError::Payload(e) if is_body_timeout(&e) => {
            AppError::RequestTimeout.for_api().into()
        }
        JsonPayloadError::ContentType => AppError::api(
            StatusCode::BAD_REQUEST,
            "Send the request body as JSON with Content-Type: application/json.",
        )
        .into(),
        other => AppError::api(
            StatusCode::BAD_REQUEST,
            format!("The request body is not what this endpoint takes: {other}"),
        )
        .into(),
    }
}

/// Turns query parameters the API cannot read into a DreamFactory-shaped 400.
pub fn query_error(
    error: actix_web::error::QueryPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    AppError::api(
        StatusCode::BAD_REQUEST,
        format!("The query parameters are not what this endpoint takes: {error}"),
    )
    .into()
}

/// Path segments the API cannot read: there is no such object.
pub fn path_error(
    error: actix_web::error::PathError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    AppError::api(
        StatusCode::NOT_FOUND,
        format!("There is no such object: {error}"),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_percent_encoded() {
        assert_eq!(
            urlencode("/api-keys?page=2&q=a b"),
            "%2Fapi-keys%3Fpage%3D2%26q%3Da+b"
        );
    }
}
