//! API tokens, `/admins/tokens`: the tokens automation uses for the
//! management API, listed with their administrator, scope, expiry and last
//! use; made (and shown once, like a key), and revoked.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;

use crate::admins::domain::token::{AdminToken, NewToken, Scope, TokenForm};
use crate::admins::queries::tokens::{self, ListedToken, TokenError};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::{path_id, see_other};
use crate::reveal::Reveal;
use crate::session::{CookieConfig, SignedInAdmin};
use crate::templates::{FieldErrors, render};

/// New tokens are revealed on `/admins/tokens/{id}/token`.
const NEW_TOKEN: Reveal = Reveal {
    cookie: "keyward_new_token",
    path: "/admins/tokens",
    nonce: "new_token_nonce",
};

#[derive(Template)]
#[template(path = "admins/tokens.html")]
struct ListPage {
    admin: SignedInAdmin,
    section: &'static str,
    tokens: Vec<ListedToken>,
    now: NaiveDateTime,
}

pub async fn list(
    admin: SignedInAdmin,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let tokens = db::run(&pool, tokens::list).await??;
    render(
        StatusCode::OK,
        &ListPage {
            admin,
            section: "admins",
            tokens,
            now: clock.now(),
        },
    )
}

#[derive(Template)]
#[template(path = "admins/token_form.html")]
struct FormPage {
    admin: SignedInAdmin,
    section: &'static str,
    form: TokenForm,
    errors: FieldErrors,
    scopes: [Scope; 2],
    expiry_choices: [(&'static str, &'static str); 5],
}

impl FormPage {
    /// True for the expiry choice the form shows as chosen.
    fn is_chosen(&self, value: &str) -> bool {
        let chosen = match self.form.expires_days.trim() {
            "" => "never",
            days => days,
        };
        chosen == value
    }
}

fn form_page(
    admin: SignedInAdmin,
    form: TokenForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    render(
        errors.status(),
        &FormPage {
            admin,
            section: "admins",
            form,
            errors,
            scopes: [Scope::ReadWrite, Scope::ReadOnly],
            expiry_choices: [
                ("7", "In 7 days"),
                ("30", "In 30 days"),
                ("90", "In 90 days"),
                ("365", "In a year"),
                ("never", "Never"),
            ],
        },
    )
}

pub async fn new(admin: SignedInAdmin) -> Result<HttpResponse, AppError> {
    form_page(admin, TokenForm::blank(), FieldErrors::default())
}

pub async fn create(
    admin: SignedInAdmin,
    form: web::Form<TokenForm>,
    pool: web::Data<DbPool>,
    cookies: web::Data<CookieConfig>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let new_token = match NewToken::parse(&form) {
        Ok(token) => token,
        Err(errors) => return form_page(admin, form, errors),
    };
    let secret = AdminToken::generate();
    let (admin_id, actor, now) = (admin.id, admin.actor(), clock.now());
    let inserted = {
        let secret = secret.clone();
        db::run(&pool, move |conn| {
            tokens::insert(conn, admin_id, &new_token, &secret, &actor, now)
        })
        .await?
    };
    match inserted {
        Ok(id) => {
            log::info!("administrator {admin_id} created API token {id}");
            let mut response = HttpResponse::SeeOther();
            response.insert_header((
                actix_web::http::header::LOCATION,
                format!("/admins/tokens/{id}/token"),
            ));
            NEW_TOKEN.seal(&mut response, &admin.session, &cookies, id, secret.expose())?;
            Ok(response.finish())
        }
        Err(TokenError::NameTaken) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "name",
                "A token with this name exists; revoke it or choose another",
            );
            form_page(admin, form, errors)
        }
        Err(TokenError::NoSuchAdmin) => Err(AppError::NotFound),
        Err(TokenError::Db(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admins/token.html")]
struct TokenPage {
    admin: SignedInAdmin,
    section: &'static str,
    token: ListedToken,
    secret: Option<String>,
}

/// The page after a token was made: the token itself, the first time only.
pub async fn show(
    req: HttpRequest,
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    cookies: web::Data<CookieConfig>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&path)?;
    let token = db::run_found(&pool, move |conn| tokens::find(conn, id)).await?;
    let mut response = HttpResponse::Ok();
    let secret = NEW_TOKEN
        .unseal(&req, &mut response, &admin.session, &cookies, id)
        .filter(|secret| AdminToken::parse(secret).is_ok());
    let page = TokenPage {
        admin,
        section: "admins",
        token,
        secret,
    };
    let body = page
        .render()
        .map_err(|e| anyhow::anyhow!("rendering a template failed: {e}"))?;
    Ok(response.content_type("text/html; charset=utf-8").body(body))
}

#[derive(Template)]
#[template(path = "admins/token_revoke.html")]
struct RevokePage {
    admin: SignedInAdmin,
    section: &'static str,
    token: ListedToken,
}

pub async fn confirm_revoke(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&path)?;
    let token = db::run_found(&pool, move |conn| tokens::find(conn, id)).await?;
    render(
        StatusCode::OK,
        &RevokePage {
            admin,
            section: "admins",
            token,
        },
    )
}

pub async fn revoke(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&path)?;
    let (actor, now) = (admin.actor(), clock.now());
    let revoked = db::run(&pool, move |conn| tokens::revoke(conn, id, &actor, now)).await??;
    match revoked {
        Some(name) => {
            log::info!("administrator {} revoked API token {id}", admin.id);
            admin
                .session
                .flash(format!("The token “{name}” is revoked and works no more."))?;
            Ok(see_other("/admins/tokens"))
        }
        // Revoked already (say, in another tab): the list says so.
        None => {
            db::run_found(&pool, move |conn| tokens::find(conn, id)).await?;
            Ok(see_other("/admins/tokens"))
        }
    }
}
