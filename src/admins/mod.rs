//! Administrators: the people who sign in to this console. They sign in and
//! out (throttled), the first is made on the one-time setup page, and the
//! Admins page manages the others. This feature owns the `admins` table and
//! the sign-in wall that stands in front of every other console page.

pub mod api;
pub mod domain;
pub mod pages;
pub mod queries;

use actix_session::SessionExt;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use self::domain::token::{AdminToken, Scope};
use self::pages::{list, login, password, setup, tokens};
use crate::api::ApiCaller;
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::session::{Lifetime, SignedInAdmin, TypedSession, next_after_sign_in};

/// The console pages anyone may open: signing in and out, and the setup page
/// (which answers only to its one-time token).
pub fn public_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login")
            .route(web::get().to(login::form))
            .route(web::post().to(login::submit)),
    )
    .service(web::resource("/logout").route(web::post().to(login::logout)))
    .service(
        web::resource("/setup")
            .route(web::get().to(setup::form))
            .route(web::post().to(setup::submit)),
    );
}

/// The Admins page and the password change, behind the sign-in wall.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admins")
            .route(web::get().to(list::list))
            .route(web::post().to(list::create)),
    )
    .service(web::resource("/admins/new").route(web::get().to(list::new)))
    .service(web::resource("/admins/{id}/active").route(web::post().to(list::set_active)))
    .service(
        web::resource("/admins/{id}/delete")
            .route(web::get().to(list::confirm_delete))
            .route(web::post().to(list::delete)),
    )
    .service(
        web::resource("/account/password")
            .route(web::get().to(password::form))
            .route(web::post().to(password::change)),
    )
    .service(
        web::resource("/admins/tokens")
            .route(web::get().to(tokens::list))
            .route(web::post().to(tokens::create)),
    )
    .service(web::resource("/admins/tokens/new").route(web::get().to(tokens::new)))
    .service(web::resource("/admins/tokens/{id}/token").route(web::get().to(tokens::show)))
    .service(
        web::resource("/admins/tokens/{id}/revoke")
            .route(web::get().to(tokens::confirm_revoke))
            .route(web::post().to(tokens::revoke)),
    );
}

/// The management API's administrators, below `/api/v1`.
pub fn api_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admins")
            .route(web::get().to(api::list))
            .route(web::post().to(api::create)),
    )
    .service(web::resource("/admins/{id}").route(web::get().to(api::get)))
    .service(web::resource("/admins/{id}/active").route(web::put().to(api::set_active)));
}

/// The token wall, wrapped around the management API (`/api/v1/…` but for
/// verification): a request passes only with `Authorization: Bearer` and an
/// admin API token that is known, not revoked, not expired, and whose
/// administrator is active; it then carries the [`ApiCaller`] its handler
/// reads. A read-only token may read (GET, HEAD) and nothing else. No session
/// cookie is read here, so the API has no CSRF surface.
pub async fn api_wall<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if !req.request().resource_map().has_resource(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    match api_caller(&req).await {
        Ok(caller) => {
            let reads = matches!(
                *req.method(),
                actix_web::http::Method::GET | actix_web::http::Method::HEAD
            );
            if caller.scope == Scope::ReadOnly && !reads {
                let error = AppError::api(
                    actix_web::http::StatusCode::FORBIDDEN,
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
        Err(error) => Ok(req.error_response(error.for_api()).map_into_right_body()),
    }
}

async fn api_caller(req: &ServiceRequest) -> Result<ApiCaller, AppError> {
    use actix_web::http::StatusCode;
    let refused =
        |message: String| AppError::api(StatusCode::UNAUTHORIZED, message).with_challenge();
    let presented = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let Some(token) = presented.as_deref().and_then(|value| {
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }) else {
        return Err(refused(
            "Send an admin API token as Authorization: Bearer kwa_… (an administrator \
             creates one under Admins → API tokens)."
                .into(),
        ));
    };
    token_caller(req, token).await
}

/// The caller a presented admin API token names, or why it names none (a
/// 401 with a challenge): the management API's check, which DreamFactory's
/// system API (`crate::system_api`) makes too.
pub async fn token_caller(req: &ServiceRequest, token: &str) -> Result<ApiCaller, AppError> {
    use actix_web::http::StatusCode;
    let refused =
        |message: String| AppError::api(StatusCode::UNAUTHORIZED, message).with_challenge();
    if token.starts_with(crate::apps::domain::key::PREFIX) {
        return Err(refused(
            "That is an app's API key; the management API takes an admin API token (kwa_…).".into(),
        ));
    }
    let token = AdminToken::parse(token)
        .map_err(|why| refused(format!("The token is malformed: {why}.")))?;
    let (Some(clock), Some(pool)) = (
        req.app_data::<web::Data<SharedClock>>(),
        req.app_data::<web::Data<DbPool>>(),
    ) else {
        return Err(anyhow::anyhow!("the token wall is missing its app data").into());
    };
    let now = clock.now();
    let hash = token.hash();
    let owner = db::run(pool, move |conn| {
        let owner = queries::tokens::find_by_hash(conn, &hash)?;
        if let Some(owner) = &owner
            && owner.revoked_at.is_none()
            && queries::tokens::needs_touch(owner.last_used_at, now)
        {
            queries::tokens::touch(conn, owner.token_id, now)?;
        }
        Ok::<_, diesel::result::Error>(owner)
    })
    .await??
    .ok_or_else(|| refused("The token is not known to keyward.".into()))?;
    if owner.revoked_at.is_some() {
        return Err(refused(format!("The token “{}” was revoked.", owner.name)));
    }
    if let Some(at) = owner.expires_at
        && at <= now
    {
        return Err(refused(format!(
            "The token “{}” expired at {} UTC.",
            owner.name,
            at.format("%Y-%m-%d %H:%M")
        )));
    }
    if !owner.admin_active {
        return Err(refused(format!(
            "The administrator of the token “{}” is inactive.",
            owner.name
        )));
    }
    Ok(ApiCaller {
        admin_id: owner.admin_id,
        admin_email: owner.admin_email.clone(),
        token_id: owner.token_id,
        scope: owner.scope(),
        token_name: owner.name,
        address: crate::proxy::client_address(req.request()),
    })
}

/// The sign-in wall, wrapped around every console route that the routing
/// does not make public: a request passes only with a session signed in as
/// an administrator who still exists, is active and signed in less than the
/// session lifetime ago. It then carries the [`SignedInAdmin`] its handler
/// reads; anyone else is sent to the login page and back.
pub async fn sign_in_wall<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    // An address that names no page is a 404 for everyone: there is nothing
    // behind it to protect, and a sign-in would only lead to the same 404.
    if !req.request().resource_map().has_resource(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    match signed_in(&req).await {
        Ok(admin) => {
            req.extensions_mut().insert(admin);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(error) => Ok(req.error_response(error).map_into_right_body()),
    }
}

async fn signed_in(req: &ServiceRequest) -> Result<SignedInAdmin, AppError> {
    let session = TypedSession::of(&req.get_session());
    let not_signed_in = || AppError::NotSignedIn {
        next: next_after_sign_in(req.request()),
    };
    let admin_id = session.admin_id().ok_or_else(not_signed_in)?;
    let (Some(lifetime), Some(clock), Some(pool)) = (
        req.app_data::<web::Data<Lifetime>>(),
        req.app_data::<web::Data<SharedClock>>(),
        req.app_data::<web::Data<DbPool>>(),
    ) else {
        return Err(anyhow::anyhow!("the sign-in wall is missing its app data").into());
    };
    if !session.within_lifetime(lifetime, clock.now()) {
        log::info!("administrator {admin_id} signed out: the sign-in outlived its lifetime");
        session.purge();
        return Err(not_signed_in());
    }
    let Some(admin) = db::run(pool, move |conn| queries::find_active(conn, admin_id)).await??
    else {
        // Deleted or deactivated since signing in.
        session.purge();
        return Err(not_signed_in());
    };
    Ok(SignedInAdmin {
        id: admin.id,
        email: admin.email,
        name: admin.name,
        csrf_token: session.csrf_token()?,
        flash: session.take_flash(),
        session,
        address: crate::proxy::client_address(req.request()),
    })
}
