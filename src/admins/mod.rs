//! Administrators: the people who sign in to this console. This page lists,
//! creates, deactivates and deletes them (never the last active one), and lets
//! each change their own password at `/account/password`.

pub mod domain;
pub mod queries;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use self::domain::{AdminForm, NewAdmin, PasswordForm};
use self::queries::{AdminRow, ChangeError};
use crate::auth::admins::{self as admin_accounts, CreateError};
use crate::auth::login::see_other;
use crate::auth::password::{self, Password};
use crate::auth::throttle::{self, Checked, Subjects};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::path_id;
use crate::session::SignedInAdmin;
use crate::templates::{FieldErrors, render};

/// Why a deactivation or deletion was refused.
pub const LAST_ACTIVE_ADMIN: &str = "keyward needs at least one active administrator.";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admins")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/admins/new").route(web::get().to(new)))
    .service(web::resource("/admins/{id}/active").route(web::post().to(set_active)))
    .service(
        web::resource("/admins/{id}/delete")
            .route(web::get().to(confirm_delete))
            .route(web::post().to(delete)),
    )
    .service(
        web::resource("/account/password")
            .route(web::get().to(password_form))
            .route(web::post().to(change_password)),
    );
}

#[derive(Template)]
#[template(path = "admins/list.html")]
struct ListPage {
    admin: SignedInAdmin,
    section: &'static str,
    admins: Vec<AdminRow>,
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

async fn list(admin: SignedInAdmin, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
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
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &FormPage {
            admin,
            section: "admins",
            form: form.without_passwords(),
            errors,
        },
    )
}

async fn new(admin: SignedInAdmin) -> Result<HttpResponse, AppError> {
    form_page(admin, AdminForm::default(), FieldErrors::default())
}

/// argon2 is deliberately slow and memory-hungry: hash in turn, on the
/// blocking pool.
async fn hash(password: Password) -> Result<String, AppError> {
    Ok(password::hashing_permit().await?.hash(password).await?)
}

async fn create(
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
    let password_hash = hash(password).await?;
    let shown = email.as_str().to_owned();
    let actor = admin.actor();
    let created = db::run(&pool, move |conn| {
        admin_accounts::create(conn, &email, name.as_str(), &password_hash, &actor, now)
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
            errors.add("email", "An administrator with this email already exists");
            form_page(admin, form, errors)
        }
        Err(CreateError::Db(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct ActiveForm {
    active: String,
}

async fn set_active(
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
    target: AdminRow,
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

async fn confirm_delete(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&path)?;
    delete_page(admin, &pool, id, false).await
}

async fn delete(
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

#[derive(Template)]
#[template(path = "admins/password.html")]
struct PasswordPage {
    admin: SignedInAdmin,
    section: &'static str,
    errors: FieldErrors,
}

async fn password_form(admin: SignedInAdmin) -> Result<HttpResponse, AppError> {
    render(
        StatusCode::OK,
        &PasswordPage {
            admin,
            section: "admins",
            errors: FieldErrors::default(),
        },
    )
}

async fn change_password(
    req: actix_web::HttpRequest,
    admin: SignedInAdmin,
    form: web::Form<PasswordForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let now = clock.now();
    let form = form.into_inner();
    let mut errors = FieldErrors::default();
    let new_password = form.parse(&mut errors);
    let mut retry_after = None;
    if !form.current_password.is_empty() {
        // Throttled as sign-in is: the current password is a password guess too.
        let admin_id = admin.id;
        let subjects = Subjects::new(&admin.email, crate::proxy::client_ip(&req));
        let checked =
            throttle::check_password(&pool, subjects, now, form.current_password, move |conn| {
                Ok(admin_accounts::find_active(conn, admin_id)?.map(|a| (a.id, a.password_hash)))
            })
            .await?;
        match checked {
            Checked::Right(_) => {}
            Checked::Wrong => {
                log::info!("administrator {admin_id} gave a wrong current password to change it");
                errors.add("current_password", "Current password is incorrect");
            }
            Checked::Refused { until } => {
                log::warn!("password change refused: too many failed attempts");
                let (message, seconds) = throttle::refusal(until, now);
                errors.add("current_password", message);
                retry_after = Some(seconds);
            }
        }
    }
    let (Some(new_password), true) = (new_password, errors.is_empty()) else {
        let status = if retry_after.is_some() {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let mut page = render(
            status,
            &PasswordPage {
                admin,
                section: "admins",
                errors,
            },
        )?;
        if let Some(seconds) = retry_after {
            page.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(seconds),
            );
        }
        return Ok(page);
    };
    let password_hash = hash(new_password).await?;
    let (admin_id, actor) = (admin.id, admin.actor());
    // Ends every session of this administrator, this one included, in the
    // same transaction as the new hash; signing in again below then renews
    // this browser's session: actix-session saves its state under a new key
    // (a new row, with this admin_id) when the response goes out. So no
    // session from before the change survives, this browser stays signed in,
    // and nothing needs to know which row is this session's.
    let changed = db::run(&pool, move |conn| {
        queries::change_password(conn, admin_id, &password_hash, &actor, now)
    })
    .await??;
    if !changed {
        return Err(AppError::NotFound);
    }
    log::info!("administrator {admin_id} changed their password");
    admin.session.sign_in(admin_id, now)?;
    admin
        .session
        .flash("Password changed. Your other sessions were signed out.")?;
    Ok(see_other("/admins"))
}
