//! Roles: named sets of rules, each granting verbs on a service (or all
//! services) and a component. Listed and created at `/roles`; a role's page
//! edits it and its rules. Keys carry one role as their default.

pub mod api;
pub mod domain;
pub mod pages;
pub mod queries;

use actix_web::web;

use self::pages::{edit, list};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/roles")
            .route(web::get().to(list::list))
            .route(web::post().to(list::create)),
    )
    .service(web::resource("/roles/new").route(web::get().to(list::new)))
    .service(
        web::resource("/roles/{id}")
            .route(web::get().to(edit::edit))
            .route(web::post().to(edit::update)),
    )
    .service(
        web::resource("/roles/{id}/delete")
            .route(web::get().to(list::confirm_delete))
            .route(web::post().to(list::delete)),
    )
    .service(web::resource("/roles/{id}/rules").route(web::post().to(edit::add_rule)))
    .service(
        web::resource("/roles/{id}/rules/{rule_id}/delete")
            .route(web::post().to(edit::remove_rule)),
    );
}

/// The management API's roles and their rules, below `/api/v1`.
pub fn api_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/roles")
            .route(web::get().to(api::list))
            .route(web::post().to(api::create)),
    )
    .service(
        web::resource("/roles/{id}")
            .route(web::get().to(api::get))
            .route(web::patch().to(api::update))
            .route(web::delete().to(api::delete)),
    )
    .service(web::resource("/roles/{id}/rules").route(web::post().to(api::add_rule)))
    .service(
        web::resource("/roles/{id}/rules/{rule_id}").route(web::delete().to(api::remove_rule)),
    );
}
