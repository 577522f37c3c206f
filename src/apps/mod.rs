//! API keys ("apps"): the list at `/api-keys`, the Create Application form and
//! the page that shows a new key once.

pub mod domain;
pub mod key;
pub mod queries;
pub mod reveal;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use self::domain::{AppForm, NewApp};
use self::key::ApiKey;
use self::queries::{AppListItem, InsertError};
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
}

#[derive(Template)]
#[template(path = "apps/list.html")]
struct ListPage {
    admin: SignedInAdmin,
    section: &'static str,
    apps: Vec<AppListItem>,
    /// For the rows' Active toggles (the row fragment has no `admin`).
    csrf_token: String,
}

async fn list(admin: SignedInAdmin, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    let apps = db::run(&pool, queries::list).await??;
    let csrf_token = admin.csrf_token.clone();
    render(
        StatusCode::OK,
        &ListPage {
            admin,
            section: "apps",
            apps,
            csrf_token,
        },
    )
}

/// One row of the list: what htmx swaps in after the Active toggle.
#[derive(Template)]
#[template(path = "apps/row_partial.html")]
struct RowPartial {
    app: AppListItem,
    csrf_token: String,
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
) -> Result<HttpResponse, AppError> {
    let app_id: i32 = path.parse().map_err(|_| AppError::NotFound)?;
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::BadRequest("active must be true or false".into())),
    };
    let admin_id = admin.id;
    let item = db::run(&pool, move |conn| {
        if !queries::set_active(
            conn,
            app_id,
            active,
            admin_id,
            chrono::Utc::now().naive_utc(),
        )? {
            return Ok(None);
        }
        queries::list_item(conn, app_id)
    })
    .await??
    .ok_or(AppError::NotFound)?;
    log::info!("administrator {admin_id} set app {app_id} active={active}");
    if req.headers().get("HX-Request").is_some_and(|v| v == "true") {
        return render(
            StatusCode::OK,
            &RowPartial {
                app: item,
                csrf_token: admin.csrf_token,
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

async fn form_page(
    admin: SignedInAdmin,
    pool: &DbPool,
    form: AppForm,
    errors: FieldErrors,
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
        },
    )
}

async fn new(admin: SignedInAdmin, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    form_page(admin, &pool, AppForm::new_app(), FieldErrors::default()).await
}

async fn create(
    admin: SignedInAdmin,
    form: web::Form<AppForm>,
    pool: web::Data<DbPool>,
    cookies: web::Data<CookieConfig>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let app = match NewApp::parse(&form) {
        Ok(app) => app,
        Err(errors) => return form_page(admin, &pool, form, errors).await,
    };
    let key = ApiKey::generate();
    let admin_id = admin.id;
    let inserted = {
        let key = key.clone();
        db::run(&pool, move |conn| {
            queries::insert(conn, &app, &key, admin_id, chrono::Utc::now().naive_utc())
        })
        .await?
    };
    let mut errors = FieldErrors::default();
    match inserted {
        Ok(app_id) => {
            log::info!("administrator {admin_id} created app {app_id}");
            let mut response = HttpResponse::SeeOther();
            response.insert_header((
                actix_web::http::header::LOCATION,
                format!("/api-keys/{app_id}/key"),
            ));
            reveal::seal(&mut response, &admin.session, &cookies, app_id, &key)?;
            return Ok(response.finish());
        }
        Err(InsertError::NameTaken) => {
            errors.add("name", "An application with this name already exists")
        }
        Err(InsertError::UnknownRole) => errors.add("role_id", "Unknown role"),
        Err(InsertError::UnknownStorageService) => {
            errors.add("storage_service_id", "Unknown storage service")
        }
        Err(InsertError::Db(e)) => return Err(e.into()),
    }
    form_page(admin, &pool, form, errors).await
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
    let app_id: i32 = path.parse().map_err(|_| AppError::NotFound)?;
    let (app_name, key_prefix) = db::run(&pool, move |conn| queries::name_and_prefix(conn, app_id))
        .await??
        .ok_or(AppError::NotFound)?;
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
