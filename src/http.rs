//! Middleware every response passes through: security headers, cache policy,
//! the request log and the request counter.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use crate::metrics::{Metrics, UNMATCHED_ROUTE, method_label};

/// No inline script or style anywhere: everything comes from /static.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
                   object-src 'none'";

pub async fn security_headers<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let is_static = req.path().starts_with("/static/");
    let mut res = next.call(req).await?;
    add_security_headers(res.headers_mut(), is_static);
    Ok(res)
}

/// The headers [`security_headers`] adds, for a response made where that
/// middleware cannot see it (an error that ends the request early).
pub fn add_security_headers(headers: &mut header::HeaderMap, is_static: bool) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Static files are versioned by name or query, so they may be cached for a
    // year; everything else may show a signed-in admin's data and is never stored.
    let cache = if is_static {
        "public, max-age=31536000, immutable"
    } else {
        "no-store"
    };
    // A handler that chose a policy of its own (the favicon) keeps it.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
}

/// `HEAD` is answered as `GET` is, without the body: uptime checkers and
/// `curl -I` ask for pages that way, and the routes name GET only.
pub async fn head_as_get<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if req.method() != actix_web::http::Method::HEAD {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    req.head_mut().method = actix_web::http::Method::GET;
    let res = next.call(req).await?;
    Ok(res.map_body(|_, _| actix_web::body::BoxBody::new(actix_web::body::None::new())))
}

/// One line per request: method, path (never the query string, which may carry
/// an `api_key`), status and milliseconds.
pub async fn request_log<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let result = next.call(req).await;
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    log::info!(
        target: "keyward::http",
        "{method} {path} {} {:.1}ms",
        status.as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    result
}

/// Counts every answer in `keyward_http_requests_total` by method, route
/// pattern (`/api-keys/{id}`, never the path itself, which may hold an id or
/// a key) and status.
pub async fn count_requests<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = method_label(req.method());
    let route = req.match_pattern();
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let status = match &result {
            Ok(res) => res.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        let route = route.as_deref().unwrap_or(UNMATCHED_ROUTE);
        metrics.record_http(method, route, status.as_str());
    }
    result
}

/// How long a request body may take to arrive once its headers have
/// (`--body-timeout-seconds`). actix-web bounds the headers itself; without
/// this, a client dribbling a body one byte at a time holds its connection
/// (and whatever waits on the body) open for as long as it likes.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub std::time::Duration);

/// Puts a deadline on every request body: past it the body ends in an error
/// (`crate::error::is_body_timeout`), which the extractors answer with 408 and
/// a closed connection.
pub async fn body_deadline<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let has_body = req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if has_body && let Some(timeout) = req.app_data::<web::Data<BodyTimeout>>().map(|t| t.0) {
        let inner = req.take_payload();
        let deadline = Deadline {
            inner,
            deadline: tokio::time::Instant::now() + timeout,
            timer: None,
            expired: false,
        };
        let payload: actix_http::BoxedPayloadStream = Box::pin(deadline);
        req.set_payload(payload.into());
    }
    next.call(req).await
}

/// A request body that fails once its deadline passes.
struct Deadline {
    inner: actix_web::dev::Payload,
    deadline: tokio::time::Instant,
    /// Started only when the body has to be waited for.
    timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    expired: bool,
}

impl futures_util::Stream for Deadline {
    type Item = Result<web::Bytes, actix_web::error::PayloadError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::future::Future;
        use std::task::Poll;
        if self.expired {
            return Poll::Ready(None);
        }
        // The body first: one that is already here never starts the timer.
        if let Poll::Ready(item) = std::pin::Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        let deadline = self.deadline;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.as_mut().poll(cx).is_ready() {
            self.expired = true;
            return Poll::Ready(Some(Err(actix_web::error::PayloadError::Io(
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                ),
            ))));
        }
        Poll::Pending
    }
}

/// Post/Redirect/Get: "see the page at `location`".
pub fn see_other(location: &str) -> actix_web::HttpResponse {
    actix_web::HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// True for a request htmx made (it answers with a fragment, not a page).
pub fn is_htmx(req: &actix_web::HttpRequest) -> bool {
    req.headers().get("HX-Request").is_some_and(|v| v == "true")
}

/// True for htmx's requests that swap in part of a page. A history restore
/// (back button after htmx pushed a URL) asks for the whole page.
pub fn wants_fragment(req: &actix_web::HttpRequest) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    is_htmx(req)
        && header("HX-History-Restore-Request").is_none()
        && header("HX-Request-Type") != Some("full")
}

/// A numeric id from a URL path segment. Anything but plain digits (`+5`,
/// `3x`, too large) names nothing, so it is a 404, not a 400 or 500.
pub fn path_id(raw: &str) -> Result<i32, crate::error::AppError> {
    parse_id(raw).ok_or(crate::error::AppError::NotFound)
}

/// A numeric id: plain digits that fit an `i32`, nothing else.
pub fn parse_id(raw: &str) -> Option<i32> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::path_id;

    #[test]
    fn only_plain_numbers_are_ids() {
        assert_eq!(path_id("42").ok(), Some(42));
        for bad in ["", "new", "+5", "-1", "3x", "1.0", "99999999999"] {
            assert!(path_id(bad).is_err(), "{bad:?}");
        }
    }
}
