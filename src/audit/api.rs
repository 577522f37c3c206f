//! The audit log in the management API: newest first, filtered as on the
//! Audit page (one kind of object, one object's history, one
//! administrator), a page at a time by id, with the URLs of the pages beside
//! it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::domain::{AuditQuery, Filter, Page};
use super::queries::{self, EventPage, EventRow};
use crate::api::{ApiCaller, utc};
use crate::db::audit::{FieldChange, ObjectKind};
use crate::db::{self, DbPool};
use crate::error::{ApiErrorBody, AppError};
use crate::paging::requested_per_page;

const BASE: &str = "/api/v1/audit-events";

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorJson {
    /// `null` once that administrator was deleted, and for the command line.
    pub admin_id: Option<i32>,
    pub admin_email: String,
    /// The name of the admin API token the change was made with, if any.
    pub via_token: Option<String>,
    /// The client's IP address.
    pub address: String,
}

/// What was changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectJson {
    pub kind: ObjectKind,
    pub id: i32,
    /// Its name at the time.
    pub name: String,
}

/// One change: who did what to which object, and the fields it changed.
/// Keys and passwords are never here (keys only by their start).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventJson {
    pub id: i32,
    pub occurred_at: DateTime<Utc>,
    pub actor: ActorJson,
    pub object: ObjectJson,
    /// `created`, `imported`, `updated`, `deleted`, `key_rolled`, `rule_added`,
    /// `rule_removed`, `password_changed` or `revoked`.
    pub action: String,
    pub changes: Vec<FieldChange>,
}

impl EventJson {
    /// `None` for a row of a kind this version does not know.
    fn from_row(row: EventRow) -> Option<Self> {
        let kind = row.kind()?;
        let changes = row.field_changes();
        Some(EventJson {
            id: row.id,
            occurred_at: utc(row.occurred_at),
            actor: ActorJson {
                admin_id: row.admin_id,
                admin_email: row.admin_email,
                via_token: row.via_token,
                address: row.address,
            },
            object: ObjectJson {
                kind,
                id: row.object_id,
                name: row.object_name,
            },
            action: row.action,
            changes,
        })
    }
}

/// A page of events, newest first, and the URLs of the pages beside it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventJson>,
    /// Newer events, when there are any.
    pub newer: Option<String>,
    /// Older events, when there are any.
    pub older: Option<String>,
}

/// What the log can be asked for, as on the Audit page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Only events about this kind of object.
    #[param(inline)]
    pub object: Option<ObjectKind>,
    /// With `object`: only this object's history.
    pub id: Option<i32>,
    /// Only changes by this administrator.
    pub admin: Option<i32>,
    /// From 1 to 100; 50 unless asked.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// Events older than this event id (from `older`).
    pub before: Option<i32>,
    /// Events newer than this event id (from `newer`).
    pub after: Option<i32>,
}

impl EventParams {
    fn query(&self) -> Result<AuditQuery, AppError> {
        let bad = |message: &str| AppError::api(StatusCode::BAD_REQUEST, message);
        if self.id.is_some() && self.object.is_none() {
            return Err(bad("An object id needs its kind: send object too."));
        }
        let per_page = requested_per_page(self.per_page).map_err(bad)?;
        let page = match (self.before, self.after) {
            (Some(_), Some(_)) => {
                return Err(bad("Ask for events before or after an id, not both."));
            }
            (Some(id), None) => Page::OlderThan(id),
            (None, Some(id)) => Page::NewerThan(id),
            (None, None) => Page::Newest,
        };
        Ok(AuditQuery {
            filter: Filter {
                kind: self.object,
                object_id: self.id,
                admin_id: self.admin,
            },
            per_page,
            page,
        })
    }
}

/// The audit log, newest first, a page at a time.
#[utoipa::path(get, operation_id = "list_audit_events", path = "/api/v1/audit-events", tag = "audit", params(EventParams),
    responses((status = 200, body = EventList), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn list(
    _caller: ApiCaller,
    params: web::Query<EventParams>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let query = params.query()?;
    let (filter, page, per_page) = (query.filter.clone(), query.page, query.per_page);
    let EventPage {
        events,
        has_older,
        has_newer,
    } = db::run(&pool, move |conn| {
        queries::page(conn, &filter, page, per_page)
    })
    .await??;
    let newer = match (has_newer, events.first()) {
        (true, Some(first)) => Some(query.url_at(BASE, Page::NewerThan(first.id))),
        (true, None) => Some(query.url_at(BASE, Page::Newest)),
        _ => None,
    };
    let older = match (has_older, events.last()) {
        (true, Some(last)) => Some(query.url_at(BASE, Page::OlderThan(last.id))),
        _ => None,
    };
    Ok(HttpResponse::Ok().json(EventList {
        events: events.into_iter().filter_map(EventJson::from_row).collect(),
        newer,
        older,
    }))
}
