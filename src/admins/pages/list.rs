//! The Admins page, `/admins`: lists, creates, deactivates and deletes
//! administrators (never the last active one).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::admins::domain::{AdminForm, NewAdmin};
use crate::admins::queries::{self, Admin, ChangeError, CreateError};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::{path_id, see_other};
use crate::session::SignedInAdmin;
use crate::templates::{FieldErrors, render};

/// Why a deactivation or deletion was refused.
pub const LAST_ACTIVE_ADMIN: &str = "keyward needs at least one active administrator.";

#[derive(Template)]
#[template(path = "admins/list.html")]
struct ListPage {
    admin: SignedInAdmin,
    section: &'static str,
    admins: Vec<Admin>,
    error: Option<&'static str>,
}

/// The list, with an error above it when an action was refused (409).
async fn list_page(
    admin: SignedInAdmin,
    pool: &DbPool,
    error: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let admins = db::run(pool, queries::list).await??;
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    render(
        status,
        &ListPage {
            admin,
            section: "admins",
            admins,
            error,
        },
    )
}

pub async fn list(admin: SignedInAdmin, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    list_page(admin, &pool, None).await
}

#[derive(Template)]
#[template(path = "admins/form.html")]
struct FormPage {
    admin: SignedInAdmin,
    section: &'static str,
    form: AdminForm,
    errors: FieldErrors,
}

fn form_page(
    admin: SignedInAdmin,
    form: AdminForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    render(
        errors.status(),
        &FormPage {
            admin,
            section: "admins",
            form: form.without_passwords(),
            errors,
        },
    )
}

pub async fn new(admin: SignedInAdmin) -> Result<HttpResponse, AppError> {
    form_page(admin, AdminForm::default(), FieldErrors::default())
}

pub async fn create(
    admin: SignedInAdmin,
    form: web::Form<AdminForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let now = clock.now();
    let form = form.into_inner();
    let new_admin = match NewAdmin::parse(&form) {
        Ok(new_admin) => new_admin,
        Err(errors) => return form_page(admin, form, errors),
    };
    let NewAdmin {
        email,
        name,
        password,
    } = new_admin;
    let password_hash = super::hash(password).await?;
    let shown = email.as_str().to_owned();
    let actor = admin.actor();
    let created = db::run(&pool, move |conn| {
        queries::create(conn, &email, name.as_str(), &password_hash, &actor, now)
    })
    .await?;
    match created {
        Ok(id) => {
            log::info!("administrator {} created administrator {id}", admin.id);
            admin
                .session
                .flash(format!("Administrator “{shown}” created."))?;
            Ok(see_other("/admins"))
        }
        Err(CreateError::EmailTaken) => {
            let mut errors = FieldErrors::default();
            errors.add("email", crate::admins::domain::EMAIL_TAKEN);
            form_page(admin, form, errors)
        }
        Err(CreateError::Db(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_active(
    admin: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<ActiveForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let now = clock.now();
    let id = path_id(&path)?;
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::BadRequest("active must be true or false".into())),
    };
    let actor = admin.actor();
    let changed = db::run(&pool, move |conn| {
        queries::set_active(conn, id, active, &actor, now)
    })
    .await?;
    let email = match changed {
        Ok(Some(email)) => email,
        Ok(None) => return Err(AppError::NotFound),
        Err(ChangeError::LastActiveAdmin) => {
            return list_page(admin, &pool, Some(LAST_ACTIVE_ADMIN)).await;
        }
        Err(ChangeError::Db(e)) => return Err(e.into()),
    };
    log::info!(
        "administrator {} set administrator {id} active={active}",
        admin.id
    );
    if !active && id == admin.id {
        // Their own sessions were just ended, this one's row included.
        admin.session.purge();
        return Ok(see_other("/login"));
    }
    let message = if active {
        format!("“{email}” is now active.")
    } else {
        format!("“{email}” is now inactive and was signed out everywhere.")
    };
    admin.session.flash(message)?;
    Ok(see_other("/admins"))
}

#[derive(Template)]
#[template(path = "admins/delete.html")]
struct DeletePage {
    admin: SignedInAdmin,
    section: &'static str,
    target: Admin,
    error: Option<&'static str>,
}

/// The confirmation page; it already says so when this is the last active
/// administrator (the deletion itself checks again).
async fn delete_page(
    admin: SignedInAdmin,
    pool: &DbPool,
    id: i32,
    refused: bool,
) -> Result<HttpResponse, AppError> {
    let (target, active_count) = db::run(pool, move |conn| {
        Ok::<_, diesel::result::Error>((queries::find(conn, id)?, queries::active_count(conn)?))
    })
    .await??;
    let target = target.ok_or(AppError::NotFound)?;
    let last_active = target.is_active && active_count <= 1;
    render(
        if refused {
            StatusCode::CONFLICT
        } else {
            StatusCode::OK
        },
        &DeletePage {
            admin,
            section: "admins",
            target,
            error: (refused || last_active).then_some(LAST_ACTIVE_ADMIN),
        },
    )
}

pub async fn confirm_delete(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&path)?;
    delete_page(admin, &pool, id, false).await
}

pub async fn delete(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let now = clock.now();
    let id = path_id(&path)?;
    let actor = admin.actor();
    let deleted = db::run(&pool, move |conn| queries::delete(conn, id, &actor, now)).await?;
    let email = match deleted {
        Ok(Some(email)) => email,
        Ok(None) => return Err(AppError::NotFound),
        Err(ChangeError::LastActiveAdmin) => return delete_page(admin, &pool, id, true).await,
        Err(ChangeError::Db(e)) => return Err(e.into()),
    };
    log::info!("administrator {} deleted administrator {id}", admin.id);
    if id == admin.id {
        admin.session.purge();
        return Ok(see_other("/login"));
    }
    admin
        .session
        .flash(format!("Administrator “{email}” deleted."))?;
    Ok(see_other("/admins"))
}
