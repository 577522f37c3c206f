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
pub mod resource;
pub mod role;
pub mod service;
pub mod session;

use actix_web::web;

use self::app::Apps;
use self::resource::{Writable, create, delete, delete_many, get, list, update, update_many};
use self::role::Roles;
use self::service::Services;

/// A resource that does not take a verb answers 405 in DreamFactory's shape.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(answer::no_such_method))
}

/// `path` and `path/{id}` of a resource that is written too. PUT is PATCH,
/// as in DreamFactory.
fn writable<R: Writable>(cfg: &mut web::ServiceConfig, path: &str) {
    cfg.service(
        resource(path)
            .route(web::get().to(list::<R>))
            .route(web::post().to(create::<R>))
            .route(web::patch().to(update_many::<R>))
            .route(web::put().to(update_many::<R>))
            .route(web::delete().to(delete_many::<R>)),
    )
    .service(
        resource(&format!("{path}/{{id}}"))
            .route(web::get().to(get::<R>))
            .route(web::patch().to(update::<R>))
            .route(web::put().to(update::<R>))
            .route(web::delete().to(delete::<R>)),
    );
}

/// The routes below `/api/v2/system`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/admin/session")
            .route(web::post().to(session::sign_in))
            .route(web::get().to(session::get))
            .route(web::delete().to(session::sign_out)),
    );
    writable::<Apps>(cfg, "/app");
    writable::<Roles>(cfg, "/role");
    cfg.service(
        web::resource("/service")
            .route(web::get().to(list::<Services>))
            .default_service(web::to(service::read_only)),
    )
    .service(
        web::resource("/service/{id}")
            .route(web::get().to(get::<Services>))
            .default_service(web::to(service::read_only)),
    );
}
