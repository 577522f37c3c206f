//! actix-session's `SessionStore` over diesel: sessions live in the `sessions`
//! table, so they survive a restart and every instance on one database shares
//! them. Rows are keyed by the SHA-256 of the session key, never the key itself.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::{DbConn, DbPool};
use crate::schema::sessions;

type State = HashMap<String, String>;

#[derive(Clone)]
pub struct DieselSessionStore {
    pool: DbPool,
}

impl DieselSessionStore {
    pub fn new(pool: DbPool) -> Self {
        DieselSessionStore { pool }
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

fn row_id(key: &SessionKey) -> String {
    hex::encode(Sha256::digest(key.as_ref().as_bytes()))
}

fn expiry(ttl: &Duration) -> NaiveDateTime {
    Utc::now().naive_utc() + chrono::Duration::seconds(ttl.whole_seconds())
}

/// Deletes sessions whose idle time ran out; run periodically.
pub fn delete_expired(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(Utc::now().naive_utc())))
        .execute(conn)
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
        self.with_conn(move |conn| {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::id.eq(id),
                    sessions::state.eq(state),
                    sessions::expires_at.eq(expires_at),
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
        let updated = self
            .with_conn(move |conn| {
                diesel::update(sessions::table.find(id))
                    .set((
                        sessions::state.eq(state),
                        sessions::expires_at.eq(expires_at),
                    ))
                    .execute(conn)
            })
            .await
            .map_err(UpdateError::Other)?;
        if updated == 1 {
            return Ok(session_key);
        }
        // The row expired or was deleted meanwhile: start a fresh session.
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
        self.with_conn(move |conn| {
            diesel::update(sessions::table.find(id))
                .set(sessions::expires_at.eq(expires_at))
                .execute(conn)
        })
        .await
        .map(|_| ())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let id = row_id(session_key);
        self.with_conn(move |conn| diesel::delete(sessions::table.find(id)).execute(conn))
            .await
            .map(|_| ())
    }
}
