//! The management API's description: the OpenAPI 3.1 document generated from
//! the handlers' annotations (utoipa), served at `/api/v1/openapi.json`, and
//! the console's API reference page, `/api-docs`, rendered from that same
//! document on the server (no scripts, so it works under the console's CSP).
//! It stands above the features, whose API handlers it lists.

pub mod reference;

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::AppError;
use crate::session::SignedInAdmin;
use crate::templates::render;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "keyward",
        description = "The management API of keyward: API keys (apps), roles and their rules, \
            services, administrators and the audit log, with an admin API token \
            (`Authorization: Bearer kwa_…`; an administrator creates one under Admins → API \
            tokens, or `keyward token create`). Read-only tokens may only read. Errors come as \
            `{\"error\": {\"code\": 422, \"message\": \"…\", \"context\": {\"field\": [\"…\"]}}}`; \
            `context` names the fields that were not valid. Verification (`/api/v1/verify`, \
            `/api/v1/auth`) takes an app's API key instead."
    ),
    paths(
        crate::apps::api::list,
        crate::apps::api::create,
        crate::apps::api::get,
        crate::apps::api::update,
        crate::apps::api::delete,
        crate::apps::api::roll,
        crate::apps::api::duplicate,
        crate::apps::api::set_active,
        crate::apps::api::usage::app_usage,
        crate::apps::api::usage::overview,
        crate::roles::api::list,
        crate::roles::api::create,
        crate::roles::api::get,
        crate::roles::api::update,
        crate::roles::api::delete,
        crate::roles::api::add_rule,
        crate::roles::api::remove_rule,
        crate::services::api::list,
        crate::services::api::create,
        crate::services::api::get,
        crate::services::api::update,
        crate::services::api::delete,
        crate::admins::api::list,
        crate::admins::api::create,
        crate::admins::api::get,
        crate::admins::api::set_active,
        crate::audit::api::list,
        crate::verify::api::verify,
        crate::verify::api::forward_auth,
    ),
    modifiers(&TokenScheme),
    tags(
        (name = "apps", description = "API keys (\"apps\"): what the API Keys page does."),
        (name = "roles", description = "Roles and the rules that grant verbs on services."),
        (name = "services", description = "The services that rules name."),
        (name = "admins", description = "The administrators who sign in to the console."),
        (name = "audit", description = "Every change, newest first."),
        (name = "verification", description = "Asking whether a key may make a request; takes \
            the app's key, not a token."),
    )
)]
struct Document;

/// The `token` security scheme the paths name: an admin API token as a
/// bearer token.
struct TokenScheme;

impl Modify for TokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "token",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("kwa_…")
                        .description(Some("An admin API token (Admins → API tokens)."))
                        .build(),
                ),
            );
    }
}

/// The document, built once.
static OPENAPI: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(Document::openapi);
static OPENAPI_JSON: LazyLock<String> = LazyLock::new(|| {
    OPENAPI
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
});

/// The methods the document lists for a route pattern (`/api/v1/apps/{id}`),
/// as an `Allow` header says them; `None` for a route it does not describe.
pub fn allowed_methods(pattern: &str) -> Option<String> {
    let item = OPENAPI.paths.paths.get(pattern)?;
    let mut methods: Vec<&str> = [
        ("GET", item.get.is_some()),
        ("HEAD", item.get.is_some()),
        ("POST", item.post.is_some()),
        ("PUT", item.put.is_some()),
        ("PATCH", item.patch.is_some()),
        ("DELETE", item.delete.is_some()),
    ]
    .into_iter()
    .filter_map(|(method, present)| present.then_some(method))
    .collect();
    methods.dedup();
    (!methods.is_empty()).then(|| methods.join(", "))
}

/// The OpenAPI document, public like the API's shape in any client.
pub fn public_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/openapi.json").route(web::get().to(openapi_json)));
}

/// The API reference page, in the console.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api-docs").route(web::get().to(reference_page)));
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI_JSON.as_str())
}

#[derive(Template)]
#[template(path = "api_docs/reference.html")]
struct ReferencePage {
    admin: SignedInAdmin,
    section: &'static str,
    reference: &'static reference::Reference,
}

static REFERENCE: LazyLock<reference::Reference> = LazyLock::new(|| {
    let document = serde_json::from_str(&OPENAPI_JSON).expect("the OpenAPI document is JSON");
    reference::Reference::of(&document)
});

async fn reference_page(admin: SignedInAdmin) -> Result<HttpResponse, AppError> {
    render(
        StatusCode::OK,
        &ReferencePage {
            admin,
            section: "api_docs",
            reference: &REFERENCE,
        },
    )
}

#[cfg(test)]
mod tests;
