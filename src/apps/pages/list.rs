//! The API Keys list, `/api-keys`: search as you type, the status filter,
//! sorting and keyset pages, all in the URL; and the Active toggle of a row.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;

use crate::apps::domain::listing::{ListQuery, ListedApp, Page, cursor_of};
use crate::apps::queries::search::SearchStats;
use crate::apps::queries::{self, list, write};
use crate::clock::SharedClock;
use crate::config::ExpiryWarning;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::{is_htmx, path_id, see_other, wants_fragment};
use crate::paging::{Direction, Slice};
use crate::session::SignedInAdmin;
use crate::templates::render;

/// The list's table with its pager: the part of the page that a search, a
/// filter or a page link replaces.
struct AppTable {
    apps: Vec<ListedApp>,
    query: ListQuery,
    previous_url: Option<String>,
    next_url: Option<String>,
}

impl AppTable {
    fn new(query: ListQuery, page: Slice<ListedApp>) -> AppTable {
        let link = |app: Option<&ListedApp>, to: fn(_) -> Page| {
            app.map(|app| query.url(&to(cursor_of(app, query.sort))))
        };
        let previous_url = link(page.rows.first(), Page::Before).filter(|_| page.has_previous);
        let next_url = link(page.rows.last(), Page::After).filter(|_| page.has_next);
        AppTable {
            apps: page.rows,
            previous_url,
            next_url,
            query,
        }
    }

    /// What a screen reader announces when the table changes in place.
    fn summary(&self) -> String {
        let more = if self.next_url.is_some() {
            ", more on the next page"
        } else {
            ""
        };
        match self.apps.len() {
            0 => "No API keys match".to_owned(),
            1 => format!("1 API key shown{more}"),
            n => format!("{n} API keys shown{more}"),
        }
    }

    /// `aria-sort` of a column header: set on the sorted column only.
    fn aria_sort(&self, column: &str) -> &'static str {
        if self.query.sort.as_str() != column {
            return "";
        }
        match self.query.dir {
            Direction::Asc => "ascending",
            Direction::Desc => "descending",
        }
    }
}

#[derive(Template)]
#[template(path = "apps/list.html")]
struct ListPage {
    admin: SignedInAdmin,
    section: &'static str,
    table: AppTable,
    /// No app exists at all: the page invites the admin to create one.
    no_apps_yet: bool,
    /// For the rows' Active toggles (the row fragment has no `admin`).
    csrf_token: String,
    /// Rows whose expiry is past this are marked expired.
    now: NaiveDateTime,
    /// Rows expiring within this many days of `now` are flagged.
    warning_days: u32,
}

/// The table alone, for htmx: what a search as you type swaps in.
#[derive(Template)]
#[template(path = "apps/table_partial.html")]
struct TablePartial {
    table: AppTable,
    csrf_token: String,
    now: NaiveDateTime,
    warning_days: u32,
}

pub async fn list(
    req: HttpRequest,
    admin: SignedInAdmin,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
    stats: web::Data<SearchStats>,
    warning: web::Data<ExpiryWarning>,
) -> Result<HttpResponse, AppError> {
    let query = ListQuery::parse(req.query_string());
    let warning_days = warning.0;
    let now = clock.now();
    let page = {
        let query = query.clone();
        let stats = stats.into_inner();
        db::run(&pool, move |conn| list::page(conn, &query, now, &stats)).await??
    };
    let table = AppTable::new(query, page);
    let csrf_token = admin.csrf_token.clone();
    let mut response = if wants_fragment(&req) {
        render(
            StatusCode::OK,
            &TablePartial {
                table,
                csrf_token,
                now,
                warning_days,
            },
        )?
    } else {
        let no_apps_yet =
            table.apps.is_empty() && !table.query.is_filtered() && table.query.page == Page::First;
        render(
            StatusCode::OK,
            &ListPage {
                admin,
                section: "apps",
                table,
                no_apps_yet,
                csrf_token,
                now,
                warning_days,
            },
        )?
    };
    // The same URL answers a page or a fragment.
    response.headers_mut().insert(
        actix_web::http::header::VARY,
        actix_web::http::header::HeaderValue::from_static("HX-Request"),
    );
    Ok(response)
}

/// One row of the list: what htmx swaps in after the Active toggle.
#[derive(Template)]
#[template(path = "apps/row_partial.html")]
struct RowPartial {
    app: ListedApp,
    csrf_token: String,
    now: NaiveDateTime,
    warning_days: u32,
}

#[derive(serde::Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_active(
    req: HttpRequest,
    admin: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<ActiveForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
    warning: web::Data<ExpiryWarning>,
) -> Result<HttpResponse, AppError> {
    let app_id = path_id(&path)?;
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::BadRequest("active must be true or false".into())),
    };
    let (admin_id, actor, now) = (admin.id, admin.actor(), clock.now());
    let item = db::run(&pool, move |conn| {
        if !write::set_active(conn, app_id, active, &actor, now)? {
            return Ok(None);
        }
        queries::list_item(conn, app_id, now)
    })
    .await??
    .ok_or(AppError::NotFound)?;
    log::info!("administrator {admin_id} set app {app_id} active={active}");
    if is_htmx(&req) {
        return render(
            StatusCode::OK,
            &RowPartial {
                app: item,
                csrf_token: admin.csrf_token,
                now: clock.now(),
                warning_days: warning.0,
            },
        );
    }
    let state = if active { "active" } else { "inactive" };
    admin
        .session
        .flash(format!("“{}” is now {state}.", item.name))?;
    Ok(see_other("/api-keys"))
}
