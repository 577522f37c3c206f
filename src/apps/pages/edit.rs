//! The Edit Application page, `/api-keys/{id}`: every field of the form, the
//! expiry, the launch URL with its Copy URL button, and deleting the key.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;

use super::{EditInfo, form_page, write_errors};
use crate::apps::domain::{AppForm, NewApp};
use crate::apps::queries::{self, AppDetail, write};
use crate::clock::SharedClock;
use crate::config::{ApiBasePath, ExpiryWarning};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::{path_id, see_other};
use crate::session::SignedInAdmin;
use crate::templates::{FieldErrors, render};
use crate::usage::queries::Whose;
use crate::usage::view::{Drawn, Period, UsageView};

/// The app of a page's path, or 404.
pub(super) async fn find(pool: &DbPool, id: i32) -> Result<AppDetail, AppError> {
    db::run_found(pool, move |conn| queries::detail(conn, id)).await
}

/// The app of a page's path, what its quota counted at `now` and its
/// requests over `period`, or 404.
async fn find_with_usage(
    pool: &DbPool,
    drawn: web::Data<Drawn>,
    id: i32,
    now: NaiveDateTime,
    period: Period,
) -> Result<(AppDetail, u64, Arc<UsageView>), AppError> {
    let range = period.range(now);
    let (detail, used, usage) = db::run_found(pool, move |conn| {
        let Some(detail) = queries::detail(conn, id)? else {
            return Ok(None);
        };
        let used = queries::quota_used_by(conn, &detail.app, now)?;
        let rows = crate::usage::queries::rows(conn, Whose::App(id), &range)?;
        // Drawn here, on the blocking pool, not on a worker that answers
        // verifications: a chart not held yet is most of the page's work.
        let usage = drawn.view(Whose::App(id), period, &range, rows);
        Ok(Some((detail, used, usage)))
    })
    .await?;
    let usage = usage.map_err(|e| anyhow::anyhow!("drawing the key's chart failed: {e}"))?;
    Ok((detail, used, usage))
}

/// `?usage=24h|7d|30d` on the key's page: the period its chart shows.
#[derive(Debug, Default, serde::Deserialize)]
pub struct UsageQuery {
    #[serde(default)]
    usage: Option<String>,
}

impl UsageQuery {
    fn period(&self) -> Period {
        Period::from_param(self.usage.as_deref())
    }
}

pub async fn edit(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
    // How the page words its links and warnings (one argument, to keep
    // within clippy's seven).
    (base, warning): (web::Data<ApiBasePath>, web::Data<ExpiryWarning>),
    query: web::Query<UsageQuery>,
    drawn: web::Data<Drawn>,
) -> Result<HttpResponse, AppError> {
    let now = clock.now();
    let (detail, used, usage) =
        find_with_usage(&pool, drawn, path_id(&path)?, now, query.period()).await?;
    let form = AppForm::from_stored(&detail.app);
    let info = EditInfo::new(&detail, used, usage, now, &base.0, warning.0);
    form_page(admin, &pool, form, FieldErrors::default(), Some(info)).await
}

pub async fn update(
    admin: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<AppForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
    // How the page words its links and warnings (one argument, to keep
    // within clippy's seven).
    (base, warning): (web::Data<ApiBasePath>, web::Data<ExpiryWarning>),
    drawn: web::Data<Drawn>,
) -> Result<HttpResponse, AppError> {
    let now = clock.now();
    let (detail, used, usage) =
        find_with_usage(&pool, drawn, path_id(&path)?, now, Period::default()).await?;
    let form = form.into_inner();
    let info = EditInfo::new(&detail, used, usage, now, &base.0, warning.0);
    let app = match NewApp::parse(&form) {
        Ok(app) => app,
        Err(errors) => return form_page(admin, &pool, form, errors, Some(info)).await,
    };
    let (id, admin_id, actor) = (detail.app.id, admin.id, admin.actor());
    let name = app.name.as_str().to_owned();
    match db::run(&pool, move |conn| {
        write::update(conn, id, &app, &actor, now)
    })
    .await?
    {
        Ok(true) => {
            log::info!("administrator {admin_id} updated app {id}");
            admin.session.flash(format!("“{name}” saved."))?;
            Ok(see_other(&format!("/api-keys/{id}")))
        }
        Ok(false) => Err(AppError::NotFound),
        Err(error) => {
            let errors = write_errors(error)?;
            form_page(admin, &pool, form, errors, Some(info)).await
        }
    }
}

#[derive(Template)]
#[template(path = "apps/delete.html")]
struct DeletePage {
    admin: SignedInAdmin,
    section: &'static str,
    app_id: i32,
    app_name: String,
    key_prefix: String,
}

pub async fn confirm_delete(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let detail = find(&pool, path_id(&path)?).await?;
    render(
        StatusCode::OK,
        &DeletePage {
            admin,
            section: "apps",
            app_id: detail.app.id,
            app_name: detail.app.name,
            key_prefix: detail.app.key_prefix,
        },
    )
}

pub async fn delete(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let (id, actor, now) = (path_id(&path)?, admin.actor(), clock.now());
    let name = db::run_found(&pool, move |conn| write::delete(conn, id, &actor, now)).await?;
    log::info!("administrator {} deleted app {id}", admin.id);
    admin.session.flash(format!("API key “{name}” deleted."))?;
    Ok(see_other("/api-keys"))
}
