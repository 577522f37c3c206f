//! What an administrator does with a key after creating it: edit its fields
//! and expiry, roll it (the old key may keep working for a grace period),
//! delete it, duplicate it. The key itself is never shown again; a rolled or
//! duplicated key is shown once, like a new one.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDateTime, TimeDelta};
use serde::Deserialize;

use super::domain::{AppForm, NewApp, launch_url};
use super::key::ApiKey;
use super::queries::{self, AppDetail};
use super::{form_page, insert_with_new_key, show_new_key, write_errors};
use crate::auth::login::see_other;
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::path_id;
use crate::session::{CookieConfig, SignedInAdmin};
use crate::templates::{FieldErrors, render};
use crate::verify::api::ApiBasePath;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api-keys/{id}")
            .route(web::get().to(edit))
            .route(web::post().to(update)),
    )
    .service(
        web::resource("/api-keys/{id}/roll")
            .route(web::get().to(confirm_roll))
            .route(web::post().to(roll)),
    )
    .service(
        web::resource("/api-keys/{id}/delete")
            .route(web::get().to(confirm_delete))
            .route(web::post().to(delete)),
    )
    .service(
        web::resource("/api-keys/{id}/duplicate")
            .route(web::get().to(duplicate_form))
            .route(web::post().to(duplicate)),
    );
}

/// What the Edit Application page shows besides the form.
pub struct EditInfo {
    pub id: i32,
    pub key_prefix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    /// When the previous key stops working, while it still does.
    pub previous_until: Option<NaiveDateTime>,
    pub launch_url: Option<String>,
    pub expired: bool,
}

impl EditInfo {
    fn new(detail: &AppDetail, now: NaiveDateTime, api_base_path: &str) -> Self {
        EditInfo {
            id: detail.row.id,
            key_prefix: detail.row.key_prefix.clone(),
            created_at: detail.created_at,
            last_used_at: detail.last_used_at,
            previous_until: detail.previous_key_expires_at.filter(|until| *until > now),
            launch_url: launch_url(
                &detail.row,
                detail.storage_service_name.as_deref(),
                api_base_path,
            ),
            expired: detail.expires_at.is_some_and(|at| at <= now),
        }
    }
}

async fn find(pool: &DbPool, id: i32) -> Result<AppDetail, AppError> {
    db::run_found(pool, move |conn| queries::detail(conn, id)).await
}

async fn edit(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
    base: web::Data<ApiBasePath>,
) -> Result<HttpResponse, AppError> {
    let detail = find(&pool, path_id(&path)?).await?;
    let form = AppForm::from_stored(&detail.row, detail.expires_at);
    let info = EditInfo::new(&detail, clock.now(), &base.0);
    form_page(admin, &pool, form, FieldErrors::default(), Some(info)).await
}

async fn update(
    admin: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<AppForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
    base: web::Data<ApiBasePath>,
) -> Result<HttpResponse, AppError> {
    let detail = find(&pool, path_id(&path)?).await?;
    let form = form.into_inner();
    let now = clock.now();
    let info = EditInfo::new(&detail, now, &base.0);
    let app = match NewApp::parse(&form) {
        Ok(app) => app,
        Err(errors) => return form_page(admin, &pool, form, errors, Some(info)).await,
    };
    let (id, admin_id, actor) = (detail.row.id, admin.id, admin.actor());
    let name = app.name.as_str().to_owned();
    match db::run(&pool, move |conn| {
        queries::update(conn, id, &app, &actor, now)
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

/// How long the old key keeps working after a roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grace {
    AtOnce,
    OneHour,
    OneDay,
    SevenDays,
}

impl Grace {
    const ALL: [(Grace, &'static str, &'static str); 4] = [
        (Grace::AtOnce, "now", "At once"),
        (Grace::OneHour, "1h", "After 1 hour"),
        (Grace::OneDay, "24h", "After 24 hours"),
        (Grace::SevenDays, "7d", "After 7 days"),
    ];

    fn parse(value: &str) -> Option<Grace> {
        Grace::ALL
            .iter()
            .find(|(_, v, _)| *v == value)
            .map(|(grace, ..)| *grace)
    }

    fn period(self) -> Option<TimeDelta> {
        match self {
            Grace::AtOnce => None,
            Grace::OneHour => Some(TimeDelta::hours(1)),
            Grace::OneDay => Some(TimeDelta::hours(24)),
            Grace::SevenDays => Some(TimeDelta::days(7)),
        }
    }
}

#[derive(Template)]
#[template(path = "apps/roll.html")]
struct RollPage {
    admin: SignedInAdmin,
    section: &'static str,
    app_id: i32,
    app_name: String,
    key_prefix: String,
    previous_until: Option<NaiveDateTime>,
    grace_options: [(Grace, &'static str, &'static str); 4],
    chosen: &'static str,
    error: Option<&'static str>,
}

fn roll_page(
    admin: SignedInAdmin,
    detail: AppDetail,
    now: NaiveDateTime,
    error: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &RollPage {
            admin,
            section: "apps",
            app_id: detail.row.id,
            app_name: detail.row.name,
            key_prefix: detail.row.key_prefix,
            previous_until: detail.previous_key_expires_at.filter(|until| *until > now),
            grace_options: Grace::ALL,
            chosen: "24h",
            error,
        },
    )
}

async fn confirm_roll(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let detail = find(&pool, path_id(&path)?).await?;
    roll_page(admin, detail, clock.now(), None)
}

#[derive(Deserialize)]
struct RollForm {
    #[serde(default)]
    grace: String,
}

async fn roll(
    admin: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<RollForm>,
    pool: web::Data<DbPool>,
    cookies: web::Data<CookieConfig>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let detail = find(&pool, path_id(&path)?).await?;
    let now = clock.now();
    let Some(grace) = Grace::parse(form.grace.trim()) else {
        return roll_page(
            admin,
            detail,
            now,
            Some("Choose when the old key stops working"),
        );
    };
    let key = ApiKey::generate();
    let (id, admin_id, actor) = (detail.row.id, admin.id, admin.actor());
    let old_key_until = grace.period().map(|period| now + period);
    let rolled = {
        let key = key.clone();
        db::run(&pool, move |conn| {
            queries::roll(conn, id, &key, old_key_until, &actor, now)
        })
        .await??
    };
    if !rolled {
        return Err(AppError::NotFound);
    }
    log::info!("administrator {admin_id} rolled the key of app {id} ({grace:?})");
    show_new_key(&admin, &cookies, id, &key)
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

async fn confirm_delete(
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
            app_id: detail.row.id,
            app_name: detail.row.name,
            key_prefix: detail.row.key_prefix,
        },
    )
}

async fn delete(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let (id, actor, now) = (path_id(&path)?, admin.actor(), clock.now());
    let name = db::run_found(&pool, move |conn| queries::delete(conn, id, &actor, now)).await?;
    log::info!("administrator {} deleted app {id}", admin.id);
    admin.session.flash(format!("API key “{name}” deleted."))?;
    Ok(see_other("/api-keys"))
}

#[derive(Template)]
#[template(path = "apps/duplicate.html")]
struct DuplicatePage {
    admin: SignedInAdmin,
    section: &'static str,
    app_id: i32,
    app_name: String,
    name: String,
    errors: FieldErrors,
}

#[derive(Deserialize)]
struct DuplicateForm {
    #[serde(default)]
    name: String,
}

async fn duplicate_form(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let detail = find(&pool, path_id(&path)?).await?;
    render(
        StatusCode::OK,
        &DuplicatePage {
            admin,
            section: "apps",
            app_id: detail.row.id,
            app_name: detail.row.name,
            name: String::new(),
            errors: FieldErrors::default(),
        },
    )
}

/// The copy's description: the original's with " (copy)", within the limit.
fn copied_description(original: &str) -> String {
    const SUFFIX: &str = " (copy)";
    let room = 255 - SUFFIX.chars().count();
    let kept: String = original.chars().take(room).collect();
    format!("{}{SUFFIX}", kept.trim_end())
}

async fn duplicate(
    admin: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<DuplicateForm>,
    pool: web::Data<DbPool>,
    cookies: web::Data<CookieConfig>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let detail = find(&pool, path_id(&path)?).await?;
    let typed = form.into_inner().name;
    // The copy keeps the original's location, role and active state, but not
    // its expiry or key.
    let mut copy = AppForm::from_stored(&detail.row, None);
    copy.name = typed.clone();
    copy.description = copied_description(&detail.row.description);
    let page = |admin, errors| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &DuplicatePage {
                admin,
                section: "apps",
                app_id: detail.row.id,
                app_name: detail.row.name.clone(),
                name: typed.clone(),
                errors,
            },
        )
    };
    let app = match NewApp::parse(&copy) {
        Ok(app) => app,
        Err(errors) if errors.has("name") => return page(admin, errors),
        Err(_) => {
            let mut errors = FieldErrors::default();
            errors.add("original", "The original's settings are no longer valid (was its storage service deleted?). Edit it first.");
            return page(admin, errors);
        }
    };
    let (now, admin_id) = (clock.now(), admin.id);
    let inserted = insert_with_new_key(&pool, app, admin.actor(), now).await?;
    match inserted {
        Ok((new_id, key)) => {
            log::info!(
                "administrator {admin_id} duplicated app {} as app {new_id}",
                detail.row.id
            );
            show_new_key(&admin, &cookies, new_id, &key)
        }
        Err(error) => page(admin, write_errors(error)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_choices() {
        assert_eq!(Grace::parse("now").and_then(Grace::period), None);
        assert_eq!(
            Grace::parse("1h").and_then(Grace::period),
            Some(TimeDelta::hours(1))
        );
        assert_eq!(
            Grace::parse("24h").and_then(Grace::period),
            Some(TimeDelta::hours(24))
        );
        assert_eq!(
            Grace::parse("7d").and_then(Grace::period),
            Some(TimeDelta::days(7))
        );
        assert_eq!(Grace::parse("2d"), None);
    }

    #[test]
    fn copied_description_stays_within_255() {
        assert_eq!(copied_description("Mobile"), "Mobile (copy)");
        // The form trims it to "(copy)".
        assert_eq!(copied_description(""), " (copy)");
        let long = copied_description(&"d".repeat(255));
        assert_eq!(long.chars().count(), 255);
        assert!(long.ends_with(" (copy)"));
    }
}
