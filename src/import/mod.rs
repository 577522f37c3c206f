//! Moving from DreamFactory: `keyward import dreamfactory` and the Import
//! page (`/import`) read a DreamFactory package and bring its services,
//! roles with their rules, apps with their keys, and optionally its
//! administrators into keyward, reporting what they cannot honour.

pub mod domain;
pub mod pages;
pub mod queries;

use actix_web::web;

pub use self::pages::Uploads;

/// The Import page: upload, review, confirm.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/import")
            .route(web::get().to(pages::show_upload))
            .route(web::post().to(pages::upload)),
    )
    .service(
        web::resource("/import/{id}")
            .route(web::get().to(pages::show_report))
            .route(web::post().to(pages::confirm)),
    );
}
