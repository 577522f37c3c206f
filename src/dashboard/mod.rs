//! The Dashboard, `/dashboard`, the page after sign-in: requests and denials
//! over time for all keys, the busiest keys, the most refused keys and why,
//! keys that expire soon, keys not used for 30 days, and inactive keys still
//! being presented; each figure links to the key or the filtered list.

pub mod pages;
pub mod queries;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/dashboard").route(web::get().to(pages::dashboard)));
}
