//! A typed view of the session (named keys, renew at sign-in, purge at
//! sign-out), the `SignedInAdmin` that signed-in requests carry, and the
//! session store.

pub mod store;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use actix_web::HttpMessage;
use chrono::NaiveDateTime;

use crate::db::audit::Actor;
use crate::error::AppError;

#[derive(Clone)]
pub struct TypedSession(Session);

impl TypedSession {
    /// Also read by the session store, which copies it into its own column.
    pub const ADMIN_ID: &'static str = "admin_id";
    const CSRF: &'static str = "csrf";
    const FLASH: &'static str = "flash";
    const SIGNED_IN_AT: &'static str = "signed_in_at";

    /// Starts a signed-in session: a new session id (against session fixation),
    /// a new CSRF token, and the time its absolute lifetime counts from.
    pub fn sign_in(&self, admin_id: i32, now: NaiveDateTime) -> Result<(), AppError> {
        self.0.renew();
        self.0
            .insert(Self::ADMIN_ID, admin_id)
            .map_err(anyhow::Error::from)?;
        self.0
            .insert(Self::SIGNED_IN_AT, now.and_utc().timestamp())
            .map_err(anyhow::Error::from)?;
        self.0
            .insert(Self::CSRF, crate::random::token())
            .map_err(anyhow::Error::from)?;
        Ok(())
    }

    /// Ends the session and deletes it from the store.
    pub fn purge(&self) {
        self.0.purge();
    }

    pub fn admin_id(&self) -> Option<i32> {
        self.0.get(Self::ADMIN_ID).ok().flatten()
    }

    /// True while the sign-in is younger than `lifetime`. A session without a
    /// sign-in time (made before keyward had one) counts as expired.
    pub fn within_lifetime(&self, lifetime: &Lifetime, now: NaiveDateTime) -> bool {
        let signed_in_at: Option<i64> = self.0.get(Self::SIGNED_IN_AT).ok().flatten();
        let lifetime = i64::try_from(lifetime.0.as_secs()).unwrap_or(i64::MAX);
        signed_in_at.is_some_and(|at| now.and_utc().timestamp().saturating_sub(at) < lifetime)
    }

    /// The session's CSRF token, created on first use.
    pub fn csrf_token(&self) -> Result<String, AppError> {
        if let Some(token) = self.0.get::<String>(Self::CSRF).ok().flatten() {
            return Ok(token);
        }
        let token = crate::random::token();
        self.0
            .insert(Self::CSRF, &token)
            .map_err(anyhow::Error::from)?;
        Ok(token)
    }

    /// The token a state-changing request must carry, if the session has one.
    pub fn expected_csrf_token(&self) -> Option<String> {
        self.0.get(Self::CSRF).ok().flatten()
    }

    /// A one-time message shown on the next page (Post/Redirect/Get).
    pub fn flash(&self, message: impl Into<String>) -> Result<(), AppError> {
        self.0
            .insert(Self::FLASH, message.into())
            .map_err(anyhow::Error::from)?;
        Ok(())
    }

    pub fn take_flash(&self) -> Option<String> {
        self.remove(Self::FLASH)
    }

    /// Stores a named value for a feature's own use.
    pub fn insert(&self, key: &str, value: impl serde::Serialize) -> Result<(), AppError> {
        self.0.insert(key, value).map_err(anyhow::Error::from)?;
        Ok(())
    }

    /// Takes a named value out of the session.
    /// Only a value that is there is removed: actix-session marks the session
    /// changed on any removal, and a changed session is written back whole.
    pub fn remove<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        if !self.0.entries().contains_key(key) {
            return None;
        }
        self.0.remove_as::<T>(key).and_then(Result::ok)
    }
}

/// How long a sign-in lasts at most, however active (`--session-lifetime-hours`).
#[derive(Debug, Clone, Copy)]
pub struct Lifetime(pub std::time::Duration);

/// The session cookie's name. A `Secure` cookie takes the `__Host-` prefix,
/// which browsers accept only from HTTPS, for the whole site and no other
/// host: a neighbouring subdomain cannot plant or overwrite it.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-keyward_session"
    } else {
        "keyward_session"
    }
}

/// The instance-wide cookie key and whether cookies are marked `Secure`.
pub struct CookieConfig {
    pub key: actix_web::cookie::Key,
    pub secure: bool,
}

impl TypedSession {
    /// The typed view of a session a middleware already holds.
    pub fn of(session: &Session) -> Self {
        TypedSession(session.clone())
    }
}

impl FromRequest for TypedSession {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(TypedSession(req.get_session())))
    }
}

/// The administrator behind this request, with what every signed-in page
/// shows: the CSRF token for its forms and a pending flash message. The
/// console's sign-in wall (`crate::admins::sign_in_wall`) puts it in every
/// request it lets through; asking for it outside the wall is a mistake in
/// the routing, answered as an unexpected error rather than a page.
#[derive(Clone)]
pub struct SignedInAdmin {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub csrf_token: String,
    pub flash: Option<String>,
    pub session: TypedSession,
    /// The client's IP address, for the audit log.
    pub address: String,
}

impl SignedInAdmin {
    /// This administrator, at this address, as the audit log records them.
    pub fn actor(&self) -> Actor {
        Actor {
            admin_id: Some(self.id),
            admin_email: self.email.clone(),
            address: self.address.clone(),
            via_token: None,
            importing: false,
        }
    }
}

impl FromRequest for SignedInAdmin {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<SignedInAdmin>()
                .cloned()
                .ok_or_else(|| {
                    AppError::from(anyhow::anyhow!(
                        "a handler outside the sign-in wall asked for the signed-in administrator"
                    ))
                    .into()
                }),
        )
    }
}

/// Where a visitor sent to sign in comes back to: a GET can be repeated, a
/// form post goes home.
pub fn next_after_sign_in(req: &HttpRequest) -> String {
    if req.method() == actix_web::http::Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into())
    } else {
        "/".to_owned()
    }
}
