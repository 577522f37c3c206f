//! Services: the named APIs that keys protect, listed, created, edited and
//! deleted at `/services`. DreamFactory's two local file-storage services are
//! seeded by the migrations; `/api-keys` offers the active file-storage ones
//! as "Storage Service".

pub mod api;
pub mod domain;
pub mod pages;
pub mod queries;

use actix_web::web;

use self::pages::{confirm_delete, create, delete, edit, list, new, update};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `/services/new` before `/services/{id}`, which would otherwise match it.
    cfg.service(
        web::resource("/services")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/services/new").route(web::get().to(new)))
    .service(
        web::resource("/services/{id}")
            .route(web::get().to(edit))
            .route(web::post().to(update)),
    )
    .service(
        web::resource("/services/{id}/delete")
            .route(web::get().to(confirm_delete))
            .route(web::post().to(delete)),
    );
}

/// The management API's services, below `/api/v1`.
pub fn api_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/services")
            .route(web::get().to(api::list))
            .route(web::post().to(api::create)),
    )
    .service(
        web::resource("/services/{id}")
            .route(web::get().to(api::get))
            .route(web::patch().to(api::update))
            .route(web::delete().to(api::delete)),
    );
}
