//! The Audit page: every change to keys, roles, rules, services and
//! administrators, newest first, filtered and paged. (The events are written
//! by `crate::db::audit`, in each change's own transaction.)

pub mod api;
pub mod domain;
pub mod pages;
pub mod queries;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit").route(web::get().to(pages::list)));
}

/// The management API's audit log, below `/api/v1`.
pub fn api_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit-events").route(web::get().to(api::list)));
}
