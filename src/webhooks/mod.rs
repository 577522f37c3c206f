//! The outgoing webhook: an HMAC-signed JSON event to the operator's URL
//! (`--webhook-url`, `--webhook-secret`) when a key is created, rolled or
//! deleted, is about to expire (`--expiry-warning-days`) or expires; sent in
//! the background with retries and backoff (`deliverer`), logged on the
//! `/webhooks` page.

pub mod deliverer;
pub mod domain;
pub mod pages;
pub mod queries;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/webhooks").route(web::get().to(pages::log)));
}
