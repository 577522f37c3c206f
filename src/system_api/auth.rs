//! Who calls the system API, and with which verb. A request carries a
//! DreamFactory session token (`kws_…`, from signing in) or an admin API
//! token (`kwa_…`), in `Authorization: Bearer` or
//! `X-DreamFactory-Session-Token`; both are checked against the database on
//! every request, so a sign-out, an expiry, a revoked token or a deactivated
//! administrator stops it at once on every instance. No session cookie is
//! read (no CSRF surface), and `X-DreamFactory-API-Key`, which scripts send
//! too, is ignored. A read-only token may only read.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};

use super::domain::error::DfError;
use super::domain::session::{SessionAdmin, SessionToken, VIA};
use super::queries::sessions;
use crate::api::{ApiCaller, Scope};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};

/// Where signing in and out lives; it checks its own token.
pub const SESSION_PATH: &str = "/api/v2/system/admin/session";

/// The token a request presents, first match wins as in DreamFactory.
pub fn presented_token(req: &HttpRequest) -> Option<String> {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let bearer = header(actix_web::http::header::AUTHORIZATION.as_str()).and_then(|value| {
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    bearer
        .or_else(|| header("x-dreamfactory-session-token"))
        .map(str::to_owned)
}

/// The live session a presented session token names.
pub async fn live_session(req: &HttpRequest) -> Result<Option<SessionAdmin>, DfError> {
    let Some(token) = presented_token(req).and_then(|t| SessionToken::parse(&t).ok()) else {
        return Ok(None);
    };
    let (Some(pool), Some(clock)) = (
        req.app_data::<web::Data<DbPool>>(),
        req.app_data::<web::Data<SharedClock>>(),
    ) else {
        let missing = anyhow::anyhow!("the system API is missing its app data");
        return Err(crate::error::AppError::from(missing).into());
    };
    let (hash, now) = (token.hash(), clock.now());
    Ok(db::run(pool, move |conn| sessions::find_live(conn, &hash, now)).await??)
}

/// `POST` with `X-HTTP-METHOD: GET|PUT|PATCH|DELETE` runs as that verb (the
/// DreamFactory admin UI deletes that way).
fn tunnel(req: &mut ServiceRequest) {
    if req.method() != Method::POST {
        return;
    }
    let wanted = req
        .headers()
        .get("x-http-method")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_uppercase());
    let method = match wanted.as_deref() {
        Some("GET") => Method::GET,
        Some("PUT") => Method::PUT,
        Some("PATCH") => Method::PATCH,
        Some("DELETE") => Method::DELETE,
        _ => return,
    };
    req.head_mut().method = method;
}

/// The wall around `/api/v2/system`: tunnels the verb, then lets through
/// signing in and out, and otherwise only a caller with a live token.
pub async fn wall<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    tunnel(&mut req);
    if req.path().trim_end_matches('/') == SESSION_PATH {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    match caller(&req).await {
        Ok(caller) => {
            let reads = matches!(*req.method(), Method::GET | Method::HEAD);
            if caller.scope == Scope::ReadOnly && !reads {
                let error = DfError::new(
                    403,
                    format!(
                        "The token “{}” is read-only: it may read, but not change anything.",
                        caller.token_name
                    ),
                );
                return Ok(req.error_response(error).map_into_right_body());
            }
            req.extensions_mut().insert(caller);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(error) => Ok(req.error_response(error).map_into_right_body()),
    }
}

async fn caller(req: &ServiceRequest) -> Result<ApiCaller, DfError> {
    let Some(token) = presented_token(req.request()) else {
        return Err(DfError::new(
            401,
            "There is no valid session for the current request: sign in at \
             POST /api/v2/system/admin/session and send its session_token as \
             X-DreamFactory-Session-Token (or an admin API token, kwa_…, as Authorization: Bearer).",
        ));
    };
    if token.starts_with(crate::admins::domain::token::PREFIX) {
        return Ok(crate::admins::token_caller(req, &token).await?);
    }
    if SessionToken::parse(&token).is_err() {
        return Err(DfError::new(
            401,
            "The session token is malformed; sign in again at POST /api/v2/system/admin/session.",
        ));
    }
    let session = live_session(req.request()).await?.ok_or_else(|| {
        DfError::new(
            401,
            "The session has ended (signed out, expired, or its administrator was deactivated); \
             sign in again.",
        )
    })?;
    Ok(ApiCaller {
        admin_id: session.admin_id,
        admin_email: session.email,
        token_id: session.session_id,
        token_name: VIA.to_owned(),
        scope: Scope::ReadWrite,
        address: crate::proxy::client_address(req.request()),
    })
}
