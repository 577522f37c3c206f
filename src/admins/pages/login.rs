//! `GET/POST /login`, `POST /logout`. Sign-ins are throttled per account and
//! per client address (see `crate::admins::domain::throttle`).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::admins::domain::throttle::{self, Checked, Subjects};
use crate::admins::domain::{Email, safe_next};
use crate::admins::queries;
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::see_other;
use crate::session::TypedSession;
use crate::templates::render;

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    csrf_token: String,
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn form(
    req: HttpRequest,
    query: web::Query<NextQuery>,
    session: TypedSession,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(query.next.as_deref());
    if session.admin_id().is_some() {
        return Ok(see_other(&next));
    }
    // No session for a visitor who has not signed in: the form's CSRF token
    // lives in a signed cookie (see `crate::csrf`).
    let (csrf_token, cookie) = crate::csrf::anonymous_token(&req)?;
    let page = render(
        StatusCode::OK,
        &LoginPage {
            csrf_token,
            email: String::new(),
            next,
            error: None,
            notice: session.take_flash(),
        },
    )?;
    crate::csrf::with_cookie(page, cookie)
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

/// The sign-in's check of an email and password, throttled per account and
/// per client address: what this form and DreamFactory's session sign-in
/// (`crate::system_api`) both ask, so both take the same passwords and
/// share one lockout.
pub async fn check_sign_in(
    pool: &DbPool,
    request: &HttpRequest,
    email: &str,
    password: String,
    now: chrono::NaiveDateTime,
) -> Result<Checked, AppError> {
    let normalised = email.trim().to_lowercase();
    let subjects = Subjects::new(&normalised, crate::proxy::client_ip(request));
    // What cannot be an email (a NUL, say, which PostgreSQL refuses in a
    // query) is no account: no look-up, the same failure as a wrong password.
    let email_ok = Email::parse(&normalised).ok();
    super::check_password(pool, subjects, now, password, move |conn| {
        let admin = match &email_ok {
            Some(email) => queries::find_by_email(conn, email.as_str())?,
            None => None,
        };
        Ok(admin
            .filter(|a| a.is_active)
            .map(|a| (a.id, a.password_hash)))
    })
    .await
}

pub async fn submit(
    request: HttpRequest,
    form: web::Form<LoginForm>,
    session: TypedSession,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let LoginForm {
        email,
        password,
        next,
    } = form.into_inner();
    let next = safe_next(next.as_deref());
    let now = clock.now();
    let checked = check_sign_in(&pool, &request, &email, password, now).await?;
    let (status, error, retry_after) = match checked {
        Checked::Right(admin_id) => {
            db::run(&pool, move |conn| {
                queries::record_login(conn, admin_id, now)
            })
            .await??;
            session.sign_in(admin_id, now)?;
            log::info!("administrator {admin_id} signed in");
            return Ok(see_other(&next));
        }
        Checked::Wrong => {
            log::info!("failed sign-in attempt");
            (StatusCode::UNAUTHORIZED, BAD_CREDENTIALS.to_owned(), None)
        }
        Checked::Refused { until } => {
            log::warn!("sign-in refused: too many failed attempts");
            let (message, seconds) = throttle::refusal(until, now);
            (StatusCode::TOO_MANY_REQUESTS, message, Some(seconds))
        }
    };
    let (csrf_token, cookie) = crate::csrf::anonymous_token(&request)?;
    let mut response = render(
        status,
        &LoginPage {
            csrf_token,
            email,
            next,
            error: Some(error),
            notice: None,
        },
    )?;
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    crate::csrf::with_cookie(response, cookie)
}

pub async fn logout(session: TypedSession) -> HttpResponse {
    session.purge();
    see_other("/login")
}
