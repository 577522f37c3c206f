//! Changing one's own password, `/account/password`: the current password
//! (throttled as a sign-in is) and the new one twice; the other sessions end.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::admins::domain::PasswordForm;
use crate::admins::domain::throttle::{self, Checked, Subjects};
use crate::admins::queries;
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::see_other;
use crate::session::SignedInAdmin;
use crate::templates::{FieldErrors, render};

#[derive(Template)]
#[template(path = "admins/password.html")]
struct PasswordPage {
    admin: SignedInAdmin,
    section: &'static str,
    errors: FieldErrors,
}

pub async fn form(admin: SignedInAdmin) -> Result<HttpResponse, AppError> {
    render(
        StatusCode::OK,
        &PasswordPage {
            admin,
            section: "admins",
            errors: FieldErrors::default(),
        },
    )
}

pub async fn change(
    req: HttpRequest,
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
            super::check_password(&pool, subjects, now, form.current_password, move |conn| {
                Ok(queries::find_active(conn, admin_id)?.map(|a| (a.id, a.password_hash)))
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
    let password_hash = super::hash(new_password).await?;
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
