//! Rolling a key (`/api-keys/{id}/roll`: a new key, the old one working on
//! for the grace period chosen) and duplicating an app
//! (`/api-keys/{id}/duplicate`: a copy with a key of its own). The new key is
//! shown once, like a created one.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::edit::find;
use super::{insert_with_new_key, show_new_key, write_errors};
use crate::apps::domain::{ApiKey, AppForm, Grace, NewApp, copied_description};
use crate::apps::queries::{AppDetail, write};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::path_id;
use crate::session::{CookieConfig, SignedInAdmin};
use crate::templates::{FieldErrors, render};

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
            app_id: detail.app.id,
            previous_until: detail.app.previous_key_until(now),
            app_name: detail.app.name,
            key_prefix: detail.app.key_prefix,
            grace_options: Grace::ALL,
            chosen: "24h",
            error,
        },
    )
}

pub async fn confirm_roll(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let detail = find(&pool, path_id(&path)?).await?;
    roll_page(admin, detail, clock.now(), None)
}

#[derive(Deserialize)]
pub struct RollForm {
    #[serde(default)]
    grace: String,
}

pub async fn roll(
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
    let (id, admin_id, actor) = (detail.app.id, admin.id, admin.actor());
    let old_key_until = grace.period().map(|period| now + period);
    let rolled = {
        let key = key.clone();
        db::run(&pool, move |conn| {
            write::roll(conn, id, &key, old_key_until, &actor, now)
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
pub struct DuplicateForm {
    #[serde(default)]
    name: String,
}

pub async fn duplicate_form(
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
            app_id: detail.app.id,
            app_name: detail.app.name,
            name: String::new(),
            errors: FieldErrors::default(),
        },
    )
}

pub async fn duplicate(
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
    let mut copy = AppForm::from_stored(&detail.app);
    copy.expires_at = String::new();
    copy.name = typed.clone();
    copy.description = copied_description(&detail.app.description);
    let page = |admin, errors| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &DuplicatePage {
                admin,
                section: "apps",
                app_id: detail.app.id,
                app_name: detail.app.name.clone(),
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
                detail.app.id
            );
            show_new_key(&admin, &cookies, new_id, &key)
        }
        Err(error) => page(admin, write_errors(error)?),
    }
}
