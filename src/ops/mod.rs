//! What an operator's tooling asks keyward: `/livez` (the process serves),
//! `/readyz` (it can do its work: database reachable, migrations applied) and
//! `/metrics` (Prometheus). None of them touches a session, and none of them
//! says anything about keys, so they sit beside the machine API, on the
//! address that is kept internal.

pub mod api;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/livez", web::get().to(api::livez))
        .route("/readyz", web::get().to(api::readyz))
        .route("/metrics", web::get().to(api::scrape));
}
