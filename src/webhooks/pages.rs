//! The webhook's delivery log, `/webhooks`: each event, its key, its
//! attempts and what the receiver answered.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::queries::{self, Delivery};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::session::SignedInAdmin;
use crate::templates::render;

/// Where the webhook sends, as the page shows it (`None`: no webhook).
#[derive(Debug, Clone)]
pub struct WebhookTarget(pub Option<String>);

/// Deliveries the log shows.
const SHOWN: i64 = 100;

#[derive(Template)]
#[template(path = "webhooks/log.html")]
struct LogPage {
    admin: SignedInAdmin,
    section: &'static str,
    target: Option<String>,
    deliveries: Vec<Delivery>,
}

impl LogPage {
    fn outcome(&self, delivery: &Delivery) -> String {
        match (delivery.delivered_at, delivery.next_attempt_at) {
            (Some(_), _) => format!("Delivered (HTTP {})", delivery.last_status.unwrap_or(200)),
            (None, Some(next)) if delivery.attempts == 0 => {
                format!("Due {} UTC", next.format("%Y-%m-%d %H:%M:%S"))
            }
            (None, Some(next)) => format!(
                "Failed ({}); next try {} UTC",
                delivery.last_error.as_deref().unwrap_or("no answer"),
                next.format("%Y-%m-%d %H:%M:%S")
            ),
            (None, None) => format!(
                "Given up after {} attempts ({})",
                delivery.attempts,
                delivery.last_error.as_deref().unwrap_or("no answer")
            ),
        }
    }
}

pub async fn log(
    admin: SignedInAdmin,
    pool: web::Data<DbPool>,
    target: web::Data<WebhookTarget>,
) -> Result<HttpResponse, AppError> {
    let deliveries = db::run(&pool, |conn| queries::recent(conn, SHOWN)).await??;
    render(
        StatusCode::OK,
        &LogPage {
            admin,
            section: "webhooks",
            target: target.0.clone(),
            deliveries,
        },
    )
}
