//! Showing a new key exactly once, across a Post/Redirect/Get.
//!
//! The key never touches the database, a log or a URL. The POST that creates it
//! puts it in a short-lived cookie encrypted with the instance-wide cookie key
//! (so any instance behind a load balancer can read it), together with a random
//! nonce that is also put in the server-side session. The result page shows
//! the key only when both nonces match, then forgets the nonce and deletes the
//! cookie: a reload, back/forward or a replayed cookie shows nothing.

use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, CookieJar, SameSite};
use actix_web::{HttpRequest, HttpResponseBuilder};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::key::ApiKey;
use crate::error::AppError;
use crate::session::{CookieConfig, TypedSession};

const COOKIE: &str = "keyward_new_key";
const COOKIE_PATH: &str = "/api-keys";
const SESSION_NONCE: &str = "new_key_nonce";

#[derive(Serialize, Deserialize)]
struct Sealed {
    app_id: i32,
    nonce: String,
    key: String,
}

/// Arranges for `key` to be shown once on the result page of `app_id`.
pub fn seal(
    response: &mut HttpResponseBuilder,
    session: &TypedSession,
    cookies: &CookieConfig,
    app_id: i32,
    key: &ApiKey,
) -> Result<(), AppError> {
    let nonce = crate::random::token();
    session.insert(SESSION_NONCE, &nonce)?;
    let value = serde_json::to_string(&Sealed {
        app_id,
        nonce,
        key: key.expose().to_owned(),
    })
    .map_err(anyhow::Error::from)?;
    let mut jar = CookieJar::new();
    jar.private_mut(&cookies.key).add(
        Cookie::build(COOKIE, value)
            .path(COOKIE_PATH)
            .http_only(true)
            .secure(cookies.secure)
            .same_site(SameSite::Strict)
            .max_age(Duration::minutes(10))
            .finish(),
    );
    if let Some(cookie) = jar.get(COOKIE) {
        response.cookie(cookie.clone());
    }
    Ok(())
}

/// The key of `app_id`, if this is the first visit of its result page. Always
/// deletes the cookie and forgets the nonce.
pub fn unseal(
    req: &HttpRequest,
    response: &mut HttpResponseBuilder,
    session: &TypedSession,
    cookies: &CookieConfig,
    app_id: i32,
) -> Option<ApiKey> {
    let expected_nonce = session.remove::<String>(SESSION_NONCE);
    let cookie = req.cookie(COOKIE)?;
    let mut removal = Cookie::build(COOKIE, "").path(COOKIE_PATH).finish();
    removal.make_removal();
    response.cookie(removal);

    let mut jar = CookieJar::new();
    jar.add_original(cookie);
    let sealed: Sealed =
        serde_json::from_str(jar.private(&cookies.key).get(COOKIE)?.value()).ok()?;
    let nonce_matches =
        expected_nonce.is_some_and(|n| bool::from(n.as_bytes().ct_eq(sealed.nonce.as_bytes())));
    if sealed.app_id != app_id || !nonce_matches {
        return None;
    }
    ApiKey::parse(&sealed.key).ok()
}
