//! CSRF protection for every state-changing request of the console.
//!
//! A signed-in session holds a random token; every POST/PUT/PATCH/DELETE to
//! the console (the machine API is routed outside it) must carry it, either in
//! the `X-CSRF-Token` header (htmx) or as the `csrf_token` field of a
//! URL-encoded form or, for a signed-in upload, of a multipart form. The
//! check sits in middleware so a new form cannot forget it. Requests without
//! a valid token get 403 before any handler runs.
//!
//! Before signing in there is no session, and none is made: a visitor who has
//! not signed in must cost no database write. The sign-in and setup forms are
//! protected by a signed double-submit cookie instead: a random token in a
//! cookie signed with the instance's key (`SameSite=Strict`, HttpOnly,
//! `__Host-` when `Secure`), and the same token in the form. Another site can
//! neither read the cookie to copy its token nor plant one of its own.

use actix_session::SessionExt;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, CookieJar, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use subtle::ConstantTimeEq;

use crate::error::{AppError, BODY_LIMIT, UPLOAD_LIMIT};
use crate::session::{CookieConfig, TypedSession};

pub const FORM_FIELD: &str = "csrf_token";
pub const HEADER: &str = "X-CSRF-Token";

pub async fn protect<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    match check(&mut req).await {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(error) => Ok(req.error_response(error).map_into_right_body()),
    }
}

/// The signed cookie of a form shown before signing in.
fn anonymous_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-keyward_csrf"
    } else {
        "keyward_csrf"
    }
}

/// The token of this browser's signed cookie, if it has a valid one.
fn anonymous_token_of(req: &HttpRequest, config: &CookieConfig) -> Option<String> {
    let name = anonymous_cookie_name(config.secure);
    let mut jar = CookieJar::new();
    jar.add_original(req.cookie(name)?);
    jar.signed(&config.key)
        .get(name)
        .map(|cookie| cookie.value().to_owned())
}

/// The CSRF token for a form shown before signing in (sign-in, setup), and
/// the cookie to set when the browser does not hold a valid one yet.
pub fn anonymous_token(req: &HttpRequest) -> Result<(String, Option<Cookie<'static>>), AppError> {
    let config = req
        .app_data::<web::Data<CookieConfig>>()
        .ok_or_else(|| anyhow::anyhow!("cookie configuration missing from app data"))?;
    if let Some(token) = anonymous_token_of(req, config) {
        return Ok((token, None));
    }
    let token = crate::random::token();
    let name = anonymous_cookie_name(config.secure);
    let mut jar = CookieJar::new();
    jar.signed_mut(&config.key).add(
        Cookie::build(name, token.clone())
            .path("/")
            .http_only(true)
            .secure(config.secure)
            .same_site(SameSite::Strict)
            .finish(),
    );
    let cookie = jar
        .get(name)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the signed CSRF cookie went missing"))?;
    Ok((token, Some(cookie)))
}

/// A page for a signed-out visitor, with the CSRF cookie its form needs.
pub fn with_cookie(
    mut response: actix_web::HttpResponse,
    cookie: Option<Cookie<'static>>,
) -> Result<actix_web::HttpResponse, AppError> {
    if let Some(cookie) = cookie {
        response
            .add_cookie(&cookie)
            .map_err(|e| anyhow::anyhow!("cannot set the CSRF cookie: {e}"))?;
    }
    Ok(response)
}

async fn check(req: &mut ServiceRequest) -> Result<(), AppError> {
    // A signed-in session's forms carry its token; forms shown signed out
    // carry the signed cookie's (whatever a session left behind holds).
    let session = TypedSession::of(&req.get_session());
    let expected = if session.admin_id().is_some() {
        session.expected_csrf_token()
    } else {
        req.app_data::<web::Data<CookieConfig>>()
            .and_then(|config| anonymous_token_of(req.request(), config))
    };
    let sent = match req.headers().get(HEADER) {
        Some(value) => value.to_str().ok().map(str::to_owned),
        None if is_form(req, "application/x-www-form-urlencoded") => {
            let body = read_body(req, BODY_LIMIT).await?;
            let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
                .ok()
                .and_then(|fields| {
                    fields
                        .into_iter()
                        .find(|(k, _)| k == FORM_FIELD)
                        .map(|(_, v)| v)
                });
            hand_back(req, body);
            token
        }
        // An upload is read whole only for a signed-in session: nobody
        // signed out can make keyward hold megabytes.
        None if session.admin_id().is_some() && is_form(req, "multipart/form-data") => {
            let body = read_body(req, UPLOAD_LIMIT).await?;
            let token = multipart_field(req.headers(), body.clone(), FORM_FIELD).await;
            hand_back(req, body);
            token
        }
        None => None,
    };
    match (expected, sent) {
        (Some(expected), Some(sent)) if bool::from(expected.as_bytes().ct_eq(sent.as_bytes())) => {
            Ok(())
        }
        _ => Err(AppError::CsrfRejected),
    }
}

fn is_form(req: &ServiceRequest, content_type: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(content_type))
}

/// Hands a body read here back for the handler's own extractor.
fn hand_back(req: &mut ServiceRequest, body: Bytes) {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    req.set_payload(payload.into());
}

/// The text of the multipart field `name` (a short one: a token).
async fn multipart_field(headers: &header::HeaderMap, body: Bytes, name: &str) -> Option<String> {
    let stream =
        futures_util::stream::once(async move { Ok::<_, actix_web::error::PayloadError>(body) });
    let mut form = actix_multipart::Multipart::new(headers, stream);
    while let Some(Ok(mut field)) = form.next().await {
        if field.name() != Some(name) {
            continue;
        }
        let mut value = Vec::new();
        while let Some(Ok(chunk)) = field.next().await {
            value.extend_from_slice(&chunk);
            if value.len() > 256 {
                return None;
            }
        }
        return String::from_utf8(value).ok();
    }
    None
}

async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<Bytes, AppError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(AppError::PayloadTooLarge);
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            if crate::error::is_body_timeout(&e) {
                AppError::RequestTimeout
            } else {
                AppError::BadRequest(e.to_string())
            }
        })?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
