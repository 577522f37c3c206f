//! Verification: does this key let this request through? Asked directly
//! (`POST /api/v1/verify`) or as the forward-auth step of a proxy
//! (`/api/v1/auth`). The policy is `domain::judge`; the cache and the
//! batching of last-used times are the `verifier`'s.

pub mod api;
pub mod domain;
pub mod queries;
pub mod verifier;

use actix_web::web;

pub use self::verifier::{POLL_INTERVAL, Verifier};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/verify")
            .app_data(
                web::JsonConfig::default()
                    .limit(crate::error::BODY_LIMIT)
                    .error_handler(api::verify_json_error),
            )
            .route(web::post().to(api::verify)),
    )
    .service(web::resource("/api/v1/auth").route(web::route().to(api::forward_auth)));
}
