//! The Audit page, `/audit`: the log newest first, filtered and paged as its
//! URL says (see `domain`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::domain::{AuditQuery, Page, history_url};
use super::queries::{self, AdminChoice, EventPage, EventRow};
use crate::db::audit::{Action, ObjectKind};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::session::SignedInAdmin;
use crate::templates::render;

#[derive(Template)]
#[template(path = "audit/list.html")]
struct AuditPage {
    admin: SignedInAdmin,
    section: &'static str,
    query: AuditQuery,
    admins: Vec<AdminChoice>,
    events: Vec<EventRow>,
    /// The name of the object whose history this is, when it is one object's.
    object_name: Option<String>,
    newer_url: Option<String>,
    older_url: Option<String>,
}

impl AuditPage {
    fn kind_label(&self, row: &EventRow) -> &'static str {
        row.kind().map_or("Object", ObjectKind::label)
    }

    fn history_of(&self, row: &EventRow) -> String {
        row.kind()
            .map(|kind| history_url(kind, row.object_id))
            .unwrap_or_else(|| "/audit".into())
    }

    fn action_label<'a>(&self, row: &'a EventRow) -> &'a str {
        Action::label_of(&row.action)
    }

    fn chosen_kind(&self) -> &'static str {
        self.query.filter.kind.map_or("", ObjectKind::as_str)
    }

    fn chosen_admin(&self) -> String {
        self.query
            .filter
            .admin_id
            .map(|id| id.to_string())
            .unwrap_or_default()
    }

    /// True when the admin filter names someone no longer on the list.
    fn filters_by_former_admin(&self) -> bool {
        self.query
            .filter
            .admin_id
            .is_some_and(|id| !self.admins.iter().any(|a| a.id == id))
    }
}

pub async fn list(
    req: HttpRequest,
    admin: SignedInAdmin,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let query = AuditQuery::parse(req.query_string());
    // One view, one URL: empty fields, defaults and values that cannot be
    // read are left out of what the address bar shows and shares.
    let canonical = query.url(query.page);
    let asked = match req.query_string() {
        "" => req.path().to_owned(),
        query_string => format!("{}?{query_string}", req.path()),
    };
    if asked != canonical {
        return Ok(HttpResponse::Found()
            .insert_header((actix_web::http::header::LOCATION, canonical))
            .finish());
    }
    let (filter, page, per_page) = (query.filter.clone(), query.page, query.per_page);
    let (
        admins,
        EventPage {
            events,
            has_older,
            has_newer,
        },
    ) = db::run(&pool, move |conn| {
        Ok::<_, diesel::result::Error>((
            queries::admin_choices(conn)?,
            queries::page(conn, &filter, page, per_page)?,
        ))
    })
    .await??;
    let object_name = query
        .filter
        .object_id
        .and_then(|_| events.first().map(|e| e.object_name.clone()));
    let newer_url = match (has_newer, events.first()) {
        (true, Some(first)) => Some(query.url(Page::NewerThan(first.id))),
        // A page past the end (a stale link): back to the newest.
        (true, None) => Some(query.url(Page::Newest)),
        _ => None,
    };
    let older_url = match (has_older, events.last()) {
        (true, Some(last)) => Some(query.url(Page::OlderThan(last.id))),
        _ => None,
    };
    render(
        StatusCode::OK,
        &AuditPage {
            admin,
            section: "audit",
            query,
            admins,
            events,
            object_name,
            newer_url,
            older_url,
        },
    )
}
