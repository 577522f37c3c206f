//! The handlers of `/livez`, `/readyz` and `/metrics`.

use actix_web::{HttpResponse, web};

use crate::db::{self, DbPool};
use crate::metrics::{self, Metrics};

/// The process is up and serving (no database involved).
pub async fn livez() -> HttpResponse {
    text(HttpResponse::Ok(), "ok")
}

/// Ready when a database round trip works and every migration this build
/// carries has been applied; otherwise a 503 with the reason.
pub async fn readyz(pool: web::Data<DbPool>) -> HttpResponse {
    match db::run(&pool, db::migrations_pending).await {
        Ok(Ok(false)) => text(HttpResponse::Ok(), "ready"),
        Ok(Ok(true)) => text(
            HttpResponse::ServiceUnavailable(),
            "not ready: database migrations are pending (run keyward migrate)",
        ),
        Ok(Err(error)) => {
            log::warn!("readiness check failed: {error:#}");
            text(
                HttpResponse::ServiceUnavailable(),
                "not ready: the database did not answer",
            )
        }
        Err(error) => {
            log::warn!("readiness check failed: {error:#}");
            text(
                HttpResponse::ServiceUnavailable(),
                "not ready: the database is unreachable",
            )
        }
    }
}

pub async fn scrape(metrics: web::Data<Metrics>, pool: web::Data<DbPool>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .body(metrics.render(&pool))
}

fn text(mut response: actix_web::HttpResponseBuilder, line: &str) -> HttpResponse {
    response
        .content_type("text/plain; charset=utf-8")
        .body(format!("{line}\n"))
}
