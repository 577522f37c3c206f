//! `GET/POST /login`, `POST /logout`. Sign-ins are throttled per account and
//! per client address (see [`super::throttle`]).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::throttle::{self, Subjects};
use super::{admins, password, safe_next};
use crate::clock::SharedClock;
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
    error: Option<String>,
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

/// What a sign-in attempt came to.
enum Outcome {
    Refused { until: chrono::NaiveDateTime },
    Failed,
    SignedIn { admin_id: i32 },
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
    let normalised = email.trim().to_lowercase();
    let subjects = Subjects::new(&normalised, request.peer_addr().map(|a| a.ip()));
    let now = clock.now();
    // Look up and verify on the blocking pool: argon2 is deliberately slow.
    let outcome = db::run(&pool, move |conn| {
        // A locked account or address is refused before the password is
        // checked: no argon2 work for a guesser, and the lock is not extended.
        if let Some(until) = throttle::locked_until(conn, &subjects, now)? {
            return Ok(Outcome::Refused { until });
        }
        // What cannot be an email (a NUL, say, which PostgreSQL refuses in a
        // query) is no account: no look-up, the same failure as a wrong password.
        let admin = match password::Email::parse(&normalised) {
            Ok(email) => admins::find_by_email(conn, email.as_str())?,
            Err(_) => None,
        };
        let stored = admin
            .as_ref()
            .filter(|a| a.is_active)
            .map(|a| a.password_hash.as_str());
        let ok = password::verify(&password, stored);
        match admin.filter(|_| ok) {
            Some(admin) => {
                throttle::record_success(conn, &subjects)?;
                admins::record_login(conn, admin.id, now)?;
                Ok(Outcome::SignedIn { admin_id: admin.id })
            }
            None => {
                throttle::record_failure(conn, &subjects, now)?;
                Ok::<_, diesel::result::Error>(Outcome::Failed)
            }
        }
    })
    .await??;
    let (status, error, retry_after) = match outcome {
        Outcome::SignedIn { admin_id } => {
            session.sign_in(admin_id)?;
            log::info!("administrator {admin_id} signed in");
            return Ok(see_other(&next));
        }
        Outcome::Failed => {
            log::info!("failed sign-in attempt");
            (StatusCode::UNAUTHORIZED, BAD_CREDENTIALS.to_owned(), None)
        }
        Outcome::Refused { until } => {
            log::warn!("sign-in refused: too many failed attempts");
            let (message, seconds) = throttle::refusal(until, now);
            (StatusCode::TOO_MANY_REQUESTS, message, Some(seconds))
        }
    };
    let mut response = render(
        status,
        &LoginPage {
            csrf_token: session.csrf_token()?,
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
    Ok(response)
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
