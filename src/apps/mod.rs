//! API keys ("apps"): the list at `/api-keys`, the Create Application form and
//! the page that shows a new key once.

pub mod domain;
mod edit;
pub mod key;
pub mod list;
pub mod queries;
pub mod reveal;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use self::domain::{AppForm, NewApp};
use self::key::ApiKey;
use self::list::{Cursor, Direction, ListQuery, Page};
use self::queries::{AppListItem, AppPage, InsertError};
use chrono::NaiveDateTime;

use crate::audit::Actor;
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::roles::queries::{self as role_queries, RoleOption};
use crate::services::{self, ServiceOption};
use crate::session::{CookieConfig, SignedInAdmin};
use crate::templates::{FieldErrors, render};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api-keys")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/api-keys/new").route(web::get().to(new)))
    .service(web::resource("/api-keys/{id}/key").route(web::get().to(show_key)))
    .service(web::resource("/api-keys/{id}/active").route(web::post().to(set_active)));
    edit::routes(cfg);
}

/// The list's table with its pager: the part of the page that a search, a
/// filter or a page link replaces.
struct AppTable {
    apps: Vec<AppListItem>,
    query: ListQuery,
    previous_url: Option<String>,
    next_url: Option<String>,
}

impl AppTable {
    fn new(query: ListQuery, page: AppPage) -> AppTable {
        let link = |app: Option<&AppListItem>, to: fn(Cursor) -> Page| {
            app.map(|app| query.url(&to(Cursor::of(app, query.sort))))
        };
        let previous_url = link(page.apps.first(), Page::Before).filter(|_| page.has_previous);
        let next_url = link(page.apps.last(), Page::After).filter(|_| page.has_next);
        AppTable {
            apps: page.apps,
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
}

/// The table alone, for htmx: what a search as you type swaps in.
#[derive(Template)]
#[template(path = "apps/table_partial.html")]
struct TablePartial {
    table: AppTable,
    csrf_token: String,
    now: NaiveDateTime,
}

/// True for htmx's requests that swap in part of the page. A history restore
/// (back button after htmx pushed a URL) asks for the whole page.
fn wants_fragment(req: &HttpRequest) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    crate::http::is_htmx(req)
        && header("HX-History-Restore-Request").is_none()
        && header("HX-Request-Type") != Some("full")
}

async fn list(
    req: HttpRequest,
    admin: SignedInAdmin,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let query = ListQuery::parse(req.query_string());
    let now = clock.now();
    let page = {
        let query = query.clone();
        db::run(&pool, move |conn| queries::list(conn, &query, now)).await??
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
    app: AppListItem,
    csrf_token: String,
    now: NaiveDateTime,
}

#[derive(serde::Deserialize)]
struct ActiveForm {
    active: String,
}

async fn set_active(
    req: HttpRequest,
    admin: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<ActiveForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let app_id = crate::http::path_id(&path)?;
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::BadRequest("active must be true or false".into())),
    };
    let (admin_id, actor, now) = (admin.id, admin.actor(), clock.now());
    let item = db::run(&pool, move |conn| {
        if !queries::set_active(conn, app_id, active, &actor, now)? {
            return Ok(None);
        }
        queries::list_item(conn, app_id)
    })
    .await??
    .ok_or(AppError::NotFound)?;
    log::info!("administrator {admin_id} set app {app_id} active={active}");
    if crate::http::is_htmx(&req) {
        return render(
            StatusCode::OK,
            &RowPartial {
                app: item,
                csrf_token: admin.csrf_token,
                now: clock.now(),
            },
        );
    }
    let state = if active { "active" } else { "inactive" };
    admin
        .session
        .flash(format!("“{}” is now {state}.", item.name))?;
    Ok(crate::auth::login::see_other("/api-keys"))
}

#[derive(Template)]
#[template(path = "apps/form.html")]
struct FormPage {
    admin: SignedInAdmin,
    section: &'static str,
    form: AppForm,
    errors: FieldErrors,
    roles: Vec<RoleOption>,
    storage_services: Vec<ServiceOption>,
    /// Set on the Edit Application page.
    editing: Option<edit::EditInfo>,
}

impl FormPage {
    /// The location the form shows as chosen ("0" when none was sent).
    fn chosen_location(&self) -> &str {
        match self.form.location.trim() {
            "" => "0",
            other => other,
        }
    }
}

/// The Create (or, with `editing`, Edit) Application form; 422 with errors.
async fn form_page(
    admin: SignedInAdmin,
    pool: &DbPool,
    form: AppForm,
    errors: FieldErrors,
    editing: Option<edit::EditInfo>,
) -> Result<HttpResponse, AppError> {
    let (roles, storage_services) = db::run(pool, |conn| {
        Ok::<_, diesel::result::Error>((
            role_queries::options(conn)?,
            services::file_storage_options(conn)?,
        ))
    })
    .await??;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &FormPage {
            admin,
            section: "apps",
            form,
            errors,
            roles,
            storage_services,
            editing,
        },
    )
}

async fn new(admin: SignedInAdmin, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    form_page(
        admin,
        &pool,
        AppForm::new_app(),
        FieldErrors::default(),
        None,
    )
    .await
}

/// A refused write as form errors; other failures stay errors.
fn write_errors(error: InsertError) -> Result<FieldErrors, AppError> {
    let mut errors = FieldErrors::default();
    match error {
        InsertError::NameTaken => {
            errors.add("name", "An application with this name already exists")
        }
        InsertError::UnknownRole => errors.add("role_id", "Unknown role"),
        InsertError::UnknownStorageService => {
            errors.add("storage_service_id", "Unknown storage service")
        }
        InsertError::Db(e) => return Err(e.into()),
    }
    Ok(errors)
}

/// Creates an app with a fresh key; the key comes back to be shown once.
async fn insert_with_new_key(
    pool: &DbPool,
    app: NewApp,
    actor: Actor,
    now: NaiveDateTime,
) -> Result<Result<(i32, ApiKey), InsertError>, AppError> {
    let key = ApiKey::generate();
    let inserted = db::run(pool, {
        let key = key.clone();
        move |conn| queries::insert(conn, &app, &key, &actor, now)
    })
    .await?;
    Ok(inserted.map(|id| (id, key)))
}

/// After a key was made (created, rolled, duplicated): Post/Redirect/Get to
/// the page that shows it once.
fn show_new_key(
    admin: &SignedInAdmin,
    cookies: &CookieConfig,
    app_id: i32,
    key: &ApiKey,
) -> Result<HttpResponse, AppError> {
    let mut response = HttpResponse::SeeOther();
    response.insert_header((
        actix_web::http::header::LOCATION,
        format!("/api-keys/{app_id}/key"),
    ));
    reveal::seal(&mut response, &admin.session, cookies, app_id, key)?;
    Ok(response.finish())
}

async fn create(
    admin: SignedInAdmin,
    form: web::Form<AppForm>,
    pool: web::Data<DbPool>,
    cookies: web::Data<CookieConfig>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let now = clock.now();
    let app = match NewApp::parse(&form) {
        Ok(app) if app.expires_at.is_some_and(|at| at <= now) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "expires_at",
                "The expiry of a new key must be in the future",
            );
            return form_page(admin, &pool, form, errors, None).await;
        }
        Ok(app) => app,
        Err(errors) => return form_page(admin, &pool, form, errors, None).await,
    };
    let admin_id = admin.id;
    let inserted = insert_with_new_key(&pool, app, admin.actor(), now).await?;
    match inserted {
        Ok((app_id, key)) => {
            log::info!("administrator {admin_id} created app {app_id}");
            show_new_key(&admin, &cookies, app_id, &key)
        }
        Err(error) => {
            let errors = write_errors(error)?;
            form_page(admin, &pool, form, errors, None).await
        }
    }
}

#[derive(Template)]
#[template(path = "apps/key.html")]
struct KeyPage {
    admin: SignedInAdmin,
    section: &'static str,
    app_name: String,
    key_prefix: String,
    key: Option<String>,
}

async fn show_key(
    req: HttpRequest,
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    cookies: web::Data<CookieConfig>,
) -> Result<HttpResponse, AppError> {
    let app_id = crate::http::path_id(&path)?;
    let (app_name, key_prefix) =
        db::run_found(&pool, move |conn| queries::name_and_prefix(conn, app_id)).await?;
    let mut response = HttpResponse::Ok();
    let key = reveal::unseal(&req, &mut response, &admin.session, &cookies, app_id);
    let page = KeyPage {
        admin,
        section: "apps",
        app_name,
        key_prefix,
        key: key.map(|k| k.expose().to_owned()),
    };
    let body = page
        .render()
        .map_err(|e| anyhow::anyhow!("rendering a template failed: {e}"))?;
    Ok(response.content_type("text/html; charset=utf-8").body(body))
}
