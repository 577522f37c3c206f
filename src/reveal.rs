//! Showing a new secret (an API key, an admin API token) exactly once,
//! across a Post/Redirect/Get.
//!
//! The secret never touches the database, a log or a URL. The POST that
//! creates it puts it in a short-lived cookie encrypted with the instance-wide
//! cookie key (so any instance behind a load balancer can read it), together
//! with a random nonce that is also put in the server-side session. The result
//! page shows the secret only when both nonces match, then forgets the nonce
//! and deletes the cookie: a reload, back/forward or a replayed cookie shows
//! nothing.

use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, CookieJar, SameSite};
use actix_web::{HttpRequest, HttpResponseBuilder};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::session::{CookieConfig, TypedSession};

/// Where one kind of secret is revealed: its cookie, the path the cookie is
/// sent to (the result pages below it), and its nonce's name in the session.
#[derive(Debug, Clone, Copy)]
pub struct Reveal {
    pub cookie: &'static str,
    pub path: &'static str,
    pub nonce: &'static str,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    id: i32,
    nonce: String,
    secret: String,
}

impl Reveal {
    /// Arranges for `secret` to be shown once on the result page of object `id`.
    pub fn seal(
        &self,
        response: &mut HttpResponseBuilder,
        session: &TypedSession,
        cookies: &CookieConfig,
        id: i32,
        secret: &str,
    ) -> Result<(), AppError> {
        let nonce = crate::random::token();
        session.insert(self.nonce, &nonce)?;
        let value = serde_json::to_string(&Sealed {
            id,
            nonce,
            secret: secret.to_owned(),
        })
        .map_err(anyhow::Error::from)?;
        let mut jar = CookieJar::new();
        jar.private_mut(&cookies.key).add(
            Cookie::build(self.cookie, value)
                .path(self.path)
                .http_only(true)
                .secure(cookies.secure)
                .same_site(SameSite::Strict)
                .max_age(Duration::minutes(10))
                .finish(),
        );
        if let Some(cookie) = jar.get(self.cookie) {
            response.cookie(cookie.clone());
        }
        Ok(())
    }

    /// The secret of object `id`, if this is the first visit of its result
    /// page. Always deletes the cookie and forgets the nonce.
    pub fn unseal(
        &self,
        req: &HttpRequest,
        response: &mut HttpResponseBuilder,
        session: &TypedSession,
        cookies: &CookieConfig,
        id: i32,
    ) -> Option<String> {
        let expected_nonce = session.remove::<String>(self.nonce);
        let cookie = req.cookie(self.cookie)?;
        let mut removal = Cookie::build(self.cookie, "").path(self.path).finish();
        removal.make_removal();
        response.cookie(removal);

        let mut jar = CookieJar::new();
        jar.add_original(cookie);
        let sealed: Sealed =
            serde_json::from_str(jar.private(&cookies.key).get(self.cookie)?.value()).ok()?;
        let nonce_matches =
            expected_nonce.is_some_and(|n| bool::from(n.as_bytes().ct_eq(sealed.nonce.as_bytes())));
        if sealed.id != id || !nonce_matches {
            return None;
        }
        Some(sealed.secret)
    }
}
