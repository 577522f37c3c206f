//! `POST/GET/DELETE /api/v2/system/admin/session`: signing in for a
//! DreamFactory session, reading it, signing out. The password is checked
//! by the console's own sign-in check, under its throttle and lockout.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::answer::{Answer, Body, ok, run};
use super::auth::{live_session, presented_token};
use super::domain::error::DfError;
use super::domain::session::{SessionToken, session_json};
use super::queries::sessions;
use crate::admins::domain::throttle::{self, Checked};
use crate::admins::pages::login::check_sign_in;
use crate::clock::SharedClock;
use crate::db::DbPool;

fn host(req: &HttpRequest) -> String {
    req.connection_info().host().to_owned()
}

/// Signs in: DreamFactory's session object, with its token (shown only here).
pub async fn sign_in(
    req: HttpRequest,
    body: Body,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Answer {
    let body: Value = serde_json::from_slice(&body.0).unwrap_or(Value::Null);
    let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
    let (email, password) = (field("email").to_owned(), field("password").to_owned());
    if email.trim().is_empty() {
        return Err(DfError::bad_request(
            "Login request is missing required email.",
        ));
    }
    if password.is_empty() {
        return Err(DfError::bad_request(
            "Login request is missing required password.",
        ));
    }
    let now = clock.now();
    let admin_id = match check_sign_in(&pool, &req, &email, password, now).await? {
        Checked::Right(admin_id) => admin_id,
        Checked::Wrong => {
            log::info!("failed sign-in attempt for a DreamFactory session");
            return Err(DfError::new(401, "Invalid credentials supplied."));
        }
        Checked::Refused { until } => {
            log::warn!("DreamFactory session sign-in refused: too many failed attempts");
            let (message, seconds) = throttle::refusal(until, now);
            let mut response =
                HttpResponse::TooManyRequests().json(DfError::new(429, message).body());
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
            return Ok(response);
        }
    };
    let token = SessionToken::generate();
    let session = {
        let token = token.clone();
        run(&pool, move |conn| {
            crate::admins::queries::record_login(conn, admin_id, now)?;
            sessions::insert(conn, admin_id, &token, now)?;
            Ok(sessions::find_live(conn, &token.hash(), now)?)
        })
        .await?
    }
    .ok_or_else(|| DfError::new(401, "Invalid credentials supplied."))?;
    log::info!("administrator {admin_id} signed in for a DreamFactory session");
    Ok(ok(&session_json(
        &session,
        Some(token.expose()),
        &host(&req),
    )))
}

/// The session the request presents.
pub async fn get(req: HttpRequest) -> Answer {
    match live_session(&req).await? {
        Some(session) => Ok(ok(&session_json(&session, None, &host(&req)))),
        None => Err(DfError::new(404, "No user session found.")),
    }
}

/// Signs the presented session out; it stops at once, everywhere. (An admin
/// API token is not a session: revoke it on the tokens page.)
pub async fn sign_out(req: HttpRequest, pool: web::Data<DbPool>) -> Answer {
    if let Some(token) = presented_token(&req).and_then(|t| SessionToken::parse(&t).ok()) {
        let hash = token.hash();
        run(&pool, move |conn| Ok(sessions::delete(conn, &hash)?)).await?;
    }
    Ok(ok(&json!({"success": true})))
}
