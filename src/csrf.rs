//! CSRF protection for every state-changing request of the console.
//!
//! The session holds a random token; every POST/PUT/PATCH/DELETE to the
//! console (the machine API is routed outside it) must carry it, either in the `X-CSRF-Token` header
//! (htmx) or as the `csrf_token` field of a URL-encoded form. The check sits in
//! middleware so a new form cannot forget it. Requests without a valid token
//! get 403 before any handler runs.

use actix_session::SessionExt;
use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use futures_util::StreamExt;
use subtle::ConstantTimeEq;

use crate::error::{AppError, BODY_LIMIT};
use crate::session::TypedSession;

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

async fn check(req: &mut ServiceRequest) -> Result<(), AppError> {
    let expected = TypedSession::of(&req.get_session()).expected_csrf_token();
    let sent = match req.headers().get(HEADER) {
        Some(value) => value.to_str().ok().map(str::to_owned),
        None if is_form(req) => {
            let body = read_body(req).await?;
            let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
                .ok()
                .and_then(|fields| {
                    fields
                        .into_iter()
                        .find(|(k, _)| k == FORM_FIELD)
                        .map(|(_, v)| v)
                });
            // Hand the body back for the handler's own extractor.
            let (_, mut payload) = actix_http::h1::Payload::create(true);
            payload.unread_data(body);
            req.set_payload(payload.into());
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

fn is_form(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

async fn read_body(req: &mut ServiceRequest) -> Result<Bytes, AppError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT) {
        return Err(AppError::PayloadTooLarge);
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(e.to_string()))?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
