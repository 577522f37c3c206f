//! DreamFactory's system API, the subset scripts use, at `/api/v2/system/…`:
//! signing in for a session (`session`), and apps, roles with their rules,
//! and services (`app`, `role`, `service`) in DreamFactory's shapes, with its
//! query parameters and filter grammar (`domain`), lists built as bound
//! diesel queries (`queries`), and batches (`batch`). Behind its own wall
//! (`auth`): session or admin API tokens, never a session cookie.
//!
//! It sits on the top floor beside `startup`: it puts the features together
//! (the sign-in check of `admins`, the writes of `apps` and `roles`, whose
//! audit events and cache changes come with them), and no feature names it.

pub mod answer;
pub mod app;
pub mod auth;
pub mod batch;
pub mod domain;
pub mod queries;
pub mod role;
pub mod service;
pub mod session;

use actix_web::web;

/// The routes below `/api/v2/system`. PUT is PATCH, as in DreamFactory. A
/// verb a resource does not take is a 405 in DreamFactory's shape.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let resource =
        |path: &str| web::resource(path).default_service(web::to(answer::no_such_method));
    cfg.service(
        resource("/admin/session")
            .route(web::post().to(session::sign_in))
            .route(web::get().to(session::get))
            .route(web::delete().to(session::sign_out)),
    )
    .service(
        resource("/app")
            .route(web::get().to(app::list))
            .route(web::post().to(app::create))
            .route(web::patch().to(app::update_many))
            .route(web::put().to(app::update_many))
            .route(web::delete().to(app::delete_many)),
    )
    .service(
        resource("/app/{id}")
            .route(web::get().to(app::get))
            .route(web::patch().to(app::update))
            .route(web::put().to(app::update))
            .route(web::delete().to(app::delete)),
    )
    .service(
        resource("/role")
            .route(web::get().to(role::list))
            .route(web::post().to(role::create))
            .route(web::patch().to(role::update_many))
            .route(web::put().to(role::update_many))
            .route(web::delete().to(role::delete_many)),
    )
    .service(
        resource("/role/{id}")
            .route(web::get().to(role::get))
            .route(web::patch().to(role::update))
            .route(web::put().to(role::update))
            .route(web::delete().to(role::delete)),
    )
    .service(
        web::resource("/service")
            .route(web::get().to(service::list))
            .default_service(web::to(service::read_only)),
    )
    .service(
        web::resource("/service/{id}")
            .route(web::get().to(service::get))
            .default_service(web::to(service::read_only)),
    );
}
