//! actix-session's `SessionStore` over diesel: sessions live in the `sessions`
//! table, so they survive a restart and every instance on one database shares
//! them. Rows are keyed by the SHA-256 of the session key, never the key itself.
//! Each row also names the administrator it is signed in as, so that all of an
//! administrator's sessions can be ended at once ([`delete_for_admin`]).

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::ResponseError;
use actix_web::body::MessageBody;
use actix_web::cookie::time::Duration;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::middleware::Next;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::{DbConn, DbPool};
use crate::error::AppError;
use crate::schema::{api_sessions, sessions};
use crate::session::TypedSession;

type State = HashMap<String, String>;

#[derive(Clone)]
pub struct DieselSessionStore {
    pool: DbPool,
}

impl DieselSessionStore {
    pub fn new(pool: DbPool) -> Self {
        DieselSessionStore { pool }
    }

    /// As [`Self::with_conn`], for statements that write (after this
    /// process's earlier writers on SQLite: `db::autocommit_write`).
    async fn writing<R, F>(&self, work: F) -> anyhow::Result<R>
    where
        F: FnOnce(&mut DbConn) -> QueryResult<R> + Send + 'static,
        R: Send + 'static,
    {
        self.with_conn(move |conn| crate::db::autocommit_write(conn, work))
            .await
    }

    async fn with_conn<R, F>(&self, work: F) -> anyhow::Result<R>
    where
        F: FnOnce(&mut DbConn) -> QueryResult<R> + Send + 'static,
        R: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || -> anyhow::Result<R> {
            let mut conn = pool.get()?;
            Ok(work(&mut conn)?)
        })
        .await?
    }
}

/// Wraps actix-session. When the store fails, actix-session ends the request
/// with a bare, empty 500 (its errors carry no cause we could inspect).
/// Everything this store does is a database query, so such a failure means
/// keyward cannot use its database right now: the browser gets the "Database
/// unavailable" page with a 503, as any other page would in an outage. Our own
/// errors (a refused CSRF token) pass through unchanged.
///
/// The page is handed back as the error's own response: the request cannot be
/// kept to build a normal response, since routing below needs it unshared.
pub async fn failures_as_unavailable<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    match next.call(req).await {
        Err(error) if error.as_error::<AppError>().is_none() => {
            let unavailable =
                AppError::DatabaseUnavailable(anyhow::anyhow!("session store failed: {error}"));
            let mut page = unavailable.error_response();
            crate::http::add_security_headers(page.headers_mut(), false);
            Err(InternalError::from_response(unavailable, page).into())
        }
        result => result,
    }
}

fn row_id(key: &SessionKey) -> String {
    hex::encode(Sha256::digest(key.as_ref().as_bytes()))
}

fn expiry(ttl: &Duration) -> NaiveDateTime {
    Utc::now().naive_utc() + chrono::Duration::seconds(ttl.whole_seconds())
}

/// How far a session's stored expiry may lag behind "idle time from now"
/// before a request moves it: a tenth of the idle time, at most a minute. So
/// an administrator browsing the console costs one session write a minute,
/// not one per page, and is signed out at most this much early.
fn ttl_slack(ttl: &Duration) -> chrono::Duration {
    chrono::Duration::seconds((ttl.whole_seconds() / 10).clamp(0, 60))
}

/// The administrator a session state is signed in as. Values in the state are
/// JSON-encoded, so `admin_id` is stored as e.g. `"5"`.
fn signed_in_admin(state: &State) -> Option<i32> {
    state
        .get(TypedSession::ADMIN_ID)
        .and_then(|value| serde_json::from_str(value).ok())
}

/// Ends every session of one administrator, in the console and in the
/// DreamFactory system API (`api_sessions`): run in the same transaction as
/// the change that calls for it (deactivation, deletion, a new password).
pub fn delete_for_admin(conn: &mut DbConn, admin_id: i32) -> QueryResult<usize> {
    let api = diesel::delete(api_sessions::table.filter(api_sessions::admin_id.eq(admin_id)))
        .execute(conn)?;
    let console =
        diesel::delete(sessions::table.filter(sessions::admin_id.eq(admin_id))).execute(conn)?;
    Ok(api + console)
}

/// Deletes sessions whose idle time ran out; run periodically.
pub fn delete_expired(conn: &mut DbConn) -> QueryResult<usize> {
    crate::db::autocommit_write(conn, |conn| {
        diesel::delete(sessions::table.filter(sessions::expires_at.le(Utc::now().naive_utc())))
            .execute(conn)
    })
}

impl SessionStore for DieselSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<State>, LoadError> {
        let id = row_id(session_key);
        let now = Utc::now().naive_utc();
        let state = self
            .with_conn(move |conn| {
                sessions::table
                    .find(id)
                    .filter(sessions::expires_at.gt(now))
                    .select(sessions::state)
                    .first::<String>(conn)
                    .optional()
            })
            .await
            .map_err(LoadError::Other)?;
        state
            .map(|s| serde_json::from_str(&s).map_err(|e| LoadError::Deserialization(e.into())))
            .transpose()
    }

    async fn save(&self, session_state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let state = serde_json::to_string(&session_state)
            .map_err(|e| SaveError::Serialization(e.into()))?;
        let key: SessionKey = crate::random::token()
            .try_into()
            .map_err(|e| SaveError::Other(anyhow::anyhow!("{e}")))?;
        let id = row_id(&key);
        let expires_at = expiry(ttl);
        let admin_id = signed_in_admin(&session_state);
        self.writing(move |conn| {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::id.eq(id),
                    sessions::state.eq(state),
                    sessions::expires_at.eq(expires_at),
                    sessions::admin_id.eq(admin_id),
                ))
                .execute(conn)
        })
        .await
        .map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let state = serde_json::to_string(&session_state)
            .map_err(|e| UpdateError::Serialization(e.into()))?;
        let id = row_id(&session_key);
        let expires_at = expiry(ttl);
        let admin_id = signed_in_admin(&session_state);
        let updated = self
            .writing(move |conn| {
                diesel::update(sessions::table.find(id))
                    .set((
                        sessions::state.eq(state),
                        sessions::expires_at.eq(expires_at),
                        sessions::admin_id.eq(admin_id),
                    ))
                    .execute(conn)
            })
            .await
            .map_err(UpdateError::Other)?;
        if updated == 1 {
            return Ok(session_key);
        }
        // The row was deleted while this request ran: signed out elsewhere, or
        // the administrator's sessions were ended (deactivated, deleted, new
        // password). Start a fresh session, but not a signed-in one: saving
        // the state as it is would bring the ended session back.
        let mut session_state = session_state;
        session_state.remove(TypedSession::ADMIN_ID);
        self.save(session_state, ttl).await.map_err(|e| match e {
            SaveError::Serialization(e) => UpdateError::Serialization(e),
            SaveError::Other(e) => UpdateError::Other(e),
        })
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &Duration,
    ) -> Result<(), anyhow::Error> {
        let id = row_id(session_key);
        let expires_at = expiry(ttl);
        let fresh_enough = expires_at - ttl_slack(ttl);
        self.with_conn(move |conn| {
            // A read first: on SQLite an UPDATE takes the write lock even when
            // it changes nothing, and page views would queue behind writes.
            let stored = sessions::table
                .find(&id)
                .select(sessions::expires_at)
                .first::<NaiveDateTime>(conn)
                .optional()?;
            match stored {
                Some(stored) if stored < fresh_enough => {
                    crate::db::autocommit_write(conn, |conn| {
                        diesel::update(sessions::table.find(&id))
                            .set(sessions::expires_at.eq(expires_at))
                            .execute(conn)
                    })
                    .map(|_| ())
                }
                _ => Ok(()),
            }
        })
        .await
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let id = row_id(session_key);
        self.writing(move |conn| diesel::delete(sessions::table.find(id)).execute(conn))
            .await
            .map(|_| ())
    }
}
