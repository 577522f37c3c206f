//! API keys ("apps"): the API Keys list at `/api-keys`, creating and editing
//! keys, showing a new key once, rolling, duplicating and deleting them.

pub mod api;
pub mod domain;
pub mod pages;
pub mod queries;

use actix_web::web;

use self::pages::{create, edit, key, list, roll};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api-keys")
            .route(web::get().to(list::list))
            .route(web::post().to(create::create)),
    )
    .service(web::resource("/api-keys/new").route(web::get().to(create::new)))
    .service(web::resource("/api-keys/{id}/key").route(web::get().to(key::show)))
    .service(web::resource("/api-keys/{id}/active").route(web::post().to(list::set_active)))
    .service(
        web::resource("/api-keys/{id}")
            .route(web::get().to(edit::edit))
            .route(web::post().to(edit::update)),
    )
    .service(
        web::resource("/api-keys/{id}/roll")
            .route(web::get().to(roll::confirm_roll))
            .route(web::post().to(roll::roll)),
    )
    .service(
        web::resource("/api-keys/{id}/delete")
            .route(web::get().to(edit::confirm_delete))
            .route(web::post().to(edit::delete)),
    )
    .service(
        web::resource("/api-keys/{id}/duplicate")
            .route(web::get().to(roll::duplicate_form))
            .route(web::post().to(roll::duplicate)),
    );
}

/// The management API's API keys, below `/api/v1`.
pub fn api_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/apps")
            .route(web::get().to(api::list))
            .route(web::post().to(api::create)),
    )
    .service(
        web::resource("/apps/{id}")
            .route(web::get().to(api::get))
            .route(web::patch().to(api::update))
            .route(web::delete().to(api::delete)),
    )
    .service(web::resource("/apps/{id}/roll").route(web::post().to(api::roll)))
    .service(web::resource("/apps/{id}/duplicate").route(web::post().to(api::duplicate)))
    .service(web::resource("/apps/{id}/active").route(web::put().to(api::set_active)))
    .service(web::resource("/apps/{id}/usage").route(web::get().to(api::usage::app_usage)))
    .service(web::resource("/usage").route(web::get().to(api::usage::overview)));
}
