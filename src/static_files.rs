//! Static files (vendored htmx and Pico CSS, our own CSS, JS and icon),
//! embedded in the binary so keyward runs from any directory.

use actix_web::{HttpResponse, web};

use crate::error::AppError;

/// Appended as `?v=` to our own (unversioned) file names so a new release is
/// never served from a stale cache.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "vendor/htmx-4.0.1.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/vendor/htmx-4.0.1.min.js"),
    ),
    (
        "vendor/pico-2.1.1.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/vendor/pico-2.1.1.min.css"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../static/favicon.svg"),
    ),
];

/// `/favicon.ico`, which browsers and bookmark tools ask for by that name.
const FAVICON_ICO: &[u8] = include_bytes!("../static/favicon.ico");

pub async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/x-icon")
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=86400",
        ))
        .body(FAVICON_ICO)
}

pub async fn serve(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (_, content_type, body) = FILES
        .iter()
        .find(|(name, _, _)| *name == path.as_str())
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().content_type(*content_type).body(*body))
}
