//! `GET/POST /login`, `POST /logout`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{admins, password, safe_next};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::session::TypedSession;
use crate::templates::render;

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    csrf_token: String,
    email: String,
    next: String,
    error: Option<&'static str>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn form(
    query: web::Query<NextQuery>,
    session: TypedSession,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(query.next.as_deref());
    if session.admin_id().is_some() {
        return Ok(see_other(&next));
    }
    render(
        actix_web::http::StatusCode::OK,
        &LoginPage {
            csrf_token: session.csrf_token()?,
            email: String::new(),
            next,
            error: None,
            notice: session.take_flash(),
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

const BAD_CREDENTIALS: &str = "Incorrect email or password.";

pub async fn submit(
    form: web::Form<LoginForm>,
    session: TypedSession,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let LoginForm {
        email,
        password,
        next,
    } = form.into_inner();
    let next = safe_next(next.as_deref());
    let normalised = email.trim().to_lowercase();
    // Look up and verify on the blocking pool: argon2 is deliberately slow.
    let admin = db::run(&pool, move |conn| {
        let admin = admins::find_by_email(conn, &normalised)?;
        let stored = admin
            .as_ref()
            .filter(|a| a.is_active)
            .map(|a| a.password_hash.as_str());
        let ok = password::verify(&password, stored);
        Ok::<_, diesel::result::Error>(admin.filter(|_| ok))
    })
    .await??;
    let Some(admin) = admin else {
        log::info!("failed sign-in attempt");
        return render(
            actix_web::http::StatusCode::UNAUTHORIZED,
            &LoginPage {
                csrf_token: session.csrf_token()?,
                email,
                next,
                error: Some(BAD_CREDENTIALS),
                notice: None,
            },
        );
    };
    let admin_id = admin.id;
    db::run(&pool, move |conn| {
        admins::record_login(conn, admin_id, chrono::Utc::now().naive_utc())
    })
    .await??;
    session.sign_in(admin_id)?;
    log::info!("administrator {admin_id} signed in");
    Ok(see_other(&next))
}

pub async fn logout(session: TypedSession) -> HttpResponse {
    session.purge();
    see_other("/login")
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
