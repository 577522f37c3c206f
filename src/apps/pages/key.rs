//! The page that shows a new key exactly once, `/api-keys/{id}/key`, across
//! a Post/Redirect/Get (see `crate::reveal`).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::apps::domain::ApiKey;
use crate::apps::queries;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::reveal::Reveal;
use crate::session::{CookieConfig, SignedInAdmin};

/// New keys are revealed on `/api-keys/{id}/key`.
pub const NEW_KEY: Reveal = Reveal {
    cookie: "keyward_new_key",
    path: "/api-keys",
    nonce: "new_key_nonce",
};

#[derive(Template)]
#[template(path = "apps/key.html")]
struct KeyPage {
    admin: SignedInAdmin,
    section: &'static str,
    app_name: String,
    key_prefix: String,
    key: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    cookies: web::Data<CookieConfig>,
) -> Result<HttpResponse, AppError> {
    let app_id = crate::http::path_id(&path)?;
    let (app_name, key_prefix) =
        db::run_found(&pool, move |conn| queries::name_and_prefix(conn, app_id)).await?;
    let mut response = HttpResponse::Ok();
    let key = NEW_KEY
        .unseal(&req, &mut response, &admin.session, &cookies, app_id)
        .and_then(|key| ApiKey::parse(&key).ok());
    let page = KeyPage {
        admin,
        section: "apps",
        app_name,
        key_prefix,
        key: key.map(|k| k.expose().to_owned()),
    };
    let body = page
        .render()
        .map_err(|e| anyhow::anyhow!("rendering a template failed: {e}"))?;
    Ok(response.content_type("text/html; charset=utf-8").body(body))
}
