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

use crate::admins::domain::{AdminForm, NewAdmin};
use crate::admins::queries::{self as admins, CreateError};
use crate::db::audit::Actor;
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

/// The setup form: its token, and the first administrator as the Admins
/// page's form has them (the same rules apply).
#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(flatten)]
    admin: AdminForm,
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

    let NewAdmin {
        email,
        name,
        password,
    } = match NewAdmin::parse(&form.admin) {
        Ok(admin) => admin,
        Err(errors) => {
            let (csrf_token, cookie) = crate::csrf::anonymous_token(&req)?;
            let page = render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SetupPage {
                    csrf_token,
                    token: form.token,
                    email: form.admin.email,
                    name: form.admin.name,
                    errors,
                },
            )?;
            return crate::csrf::with_cookie(page, cookie);
        }
    };

    let hash = super::hash(password).await?;
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
    Ok(crate::http::see_other("/"))
}
