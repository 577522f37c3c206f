//! The one-time setup page. While no administrator exists, keyward logs a URL
//! with a random token; that page creates the first administrator and then
//! answers 404 for good. Without the right token it answers 404 too, so a
//! stranger cannot tell it exists.

use std::sync::Mutex;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::Connection;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::admins::{self, CreateError};
use super::password::{Email, Password};
use crate::audit::Actor;
use crate::db::{self, DbPool, settings};
use crate::error::AppError;
use crate::session::TypedSession;
use crate::templates::{FieldErrors, render};

/// The token of this process's setup URL; `None` once an administrator exists.
pub struct SetupToken(Mutex<Option<String>>);

impl SetupToken {
    pub fn new(token: Option<String>) -> Self {
        SetupToken(Mutex::new(token))
    }

    pub fn get(&self) -> Option<String> {
        self.0.lock().map(|t| t.clone()).unwrap_or(None)
    }

    fn matches(&self, sent: &str) -> bool {
        self.get()
            .is_some_and(|t| bool::from(t.as_bytes().ct_eq(sent.as_bytes())))
    }

    fn clear(&self) {
        if let Ok(mut token) = self.0.lock() {
            *token = None;
        }
    }
}

#[derive(Template)]
#[template(path = "auth/setup.html")]
struct SetupPage {
    csrf_token: String,
    token: String,
    email: String,
    name: String,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// Answers 404 unless the token is right and no administrator exists yet.
async fn ensure_open(pool: &DbPool, setup: &SetupToken, token: &str) -> Result<(), AppError> {
    if !setup.matches(token) {
        return Err(AppError::NotFound);
    }
    if db::run(pool, admins::any_exist).await?? {
        setup.clear();
        return Err(AppError::NotFound);
    }
    Ok(())
}

pub async fn form(
    req: HttpRequest,
    query: web::Query<TokenQuery>,
    setup: web::Data<SetupToken>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    ensure_open(&pool, &setup, &query.token).await?;
    let (csrf_token, cookie) = crate::csrf::anonymous_token(&req)?;
    let page = render(
        StatusCode::OK,
        &SetupPage {
            csrf_token,
            token: query.token.clone(),
            email: String::new(),
            name: String::new(),
            errors: FieldErrors::default(),
        },
    )?;
    crate::csrf::with_cookie(page, cookie)
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn submit(
    req: HttpRequest,
    form: web::Form<SetupForm>,
    setup: web::Data<SetupToken>,
    pool: web::Data<DbPool>,
    session: TypedSession,
    clock: web::Data<crate::clock::SharedClock>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    ensure_open(&pool, &setup, &form.token).await?;

    let mut errors = FieldErrors::default();
    let email = Email::parse(&form.email)
        .map_err(|e| errors.add("email", e))
        .ok();
    // The same rules as the Admins page: no control characters, 64 at most.
    let name = crate::admins::domain::AdminName::parse(&form.name)
        .map_err(|e| errors.add("name", e))
        .ok();
    let password = Password::parse(&form.password)
        .map_err(|e| errors.add("password", e))
        .ok();
    if password.is_some() && form.password != form.password_confirm {
        errors.add("password_confirm", "The passwords do not match");
    }
    let (Some(email), Some(name), Some(password), true) =
        (email, name, password, errors.is_empty())
    else {
        let (csrf_token, cookie) = crate::csrf::anonymous_token(&req)?;
        let page = render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetupPage {
                csrf_token,
                token: form.token,
                email: form.email,
                name: form.name,
                errors,
            },
        )?;
        return crate::csrf::with_cookie(page, cookie);
    };

    let hash = super::password::hashing_permit()
        .await?
        .hash(password)
        .await?;
    let actor = Actor::setup(crate::proxy::client_address(&req));
    let now = clock.now();
    let created = db::run(&pool, move |conn| {
        conn.transaction::<_, CreateError, _>(|conn| {
            // The marker row makes setup happen once, even when two requests race;
            // losing the race rolls back.
            if admins::any_exist(conn)?
                || !settings::insert_new(conn, "setup_completed", &now.to_string())?
            {
                return Err(diesel::result::Error::RollbackTransaction.into());
            }
            admins::create(conn, &email, name.as_str(), &hash, &actor, now)
        })
    })
    .await?;
    let admin_id = match created {
        Ok(id) => id,
        Err(
            CreateError::EmailTaken | CreateError::Db(diesel::result::Error::RollbackTransaction),
        ) => {
            setup.clear();
            return Err(AppError::NotFound);
        }
        Err(CreateError::Db(e)) => return Err(e.into()),
    };
    setup.clear();
    log::info!("first administrator created through the setup page");
    session.sign_in(admin_id, now)?;
    session.flash("Welcome to keyward. Your administrator account is ready.")?;
    Ok(super::login::see_other("/"))
}
