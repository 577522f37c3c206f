//! Verification: does this key let this request through?
//!
//! Answers come from an in-process cache of key hash → grant (with negative
//! entries for unknown hashes), so a verification costs no database work once
//! warm. Keys that fail the format check never reach the cache or database.
//!
//! Freshness across instances: every change that can alter an answer (apps,
//! roles, rules, services) bumps `change_counter.version` in its own
//! transaction. Each instance polls that one row every 250 ms and drops its
//! whole cache when the number moves, so a change is honoured everywhere well
//! within a second, on SQLite and PostgreSQL alike, without any broker. A
//! look-up that raced a change is not cached (see [`Verifier::remember`]). If
//! the poll fails the cache is dropped too: without the database keyward would
//! rather answer 503 than serve a grant it can no longer confirm.
//!
//! Last-used times are collected in memory and written in one batch every few
//! seconds, never one write per request.

pub mod api;
pub mod extract;
pub mod grants;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use self::grants::{KeyGrant, ServiceInfo};
use crate::apps::key::ApiKey;
use crate::clock::SharedClock;
use crate::db::{self, Backend, DbConn, DbPool, changes};
use crate::error::AppError;
use crate::ops::Metrics;
use crate::roles::rules::{Verb, granted_verbs};
use crate::schema::apps;

pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
const LAST_USED_FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// The default bound on cached keys. Beyond it (most likely a flood of unknown
/// keys) the cache starts over rather than grow without bound.
pub const DEFAULT_CACHE_CAPACITY: usize = 200_000;
/// Bound on cached service names (requests can name services that do not exist).
const MAX_CACHED_SERVICES: usize = 10_000;
/// Metric labels for verifications that ended without a verdict: the database
/// was unreachable, or something unexpected failed.
const UNAVAILABLE: &str = "UNAVAILABLE";
const ERROR: &str = "ERROR";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    Valid,
    Missing,
    Malformed,
    NotFound,
    Expired,
    Inactive,
    NoRole,
    RoleInactive,
    Forbidden,
}

impl Code {
    pub const ALL: [Code; 9] = [
        Code::Valid,
        Code::Missing,
        Code::Malformed,
        Code::NotFound,
        Code::Expired,
        Code::Inactive,
        Code::NoRole,
        Code::RoleInactive,
        Code::Forbidden,
    ];

    /// The code as the API spells it (and as the metrics label it).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Valid => "VALID",
            Code::Missing => "MISSING",
            Code::Malformed => "MALFORMED",
            Code::NotFound => "NOT_FOUND",
            Code::Expired => "EXPIRED",
            Code::Inactive => "INACTIVE",
            Code::NoRole => "NO_ROLE",
            Code::RoleInactive => "ROLE_INACTIVE",
            Code::Forbidden => "FORBIDDEN",
        }
    }
}

/// What a request asks to do, when it names a service.
#[derive(Debug, Clone)]
pub struct Target {
    pub service: String,
    pub component: String,
    pub verb: Verb,
}

#[derive(Debug, Clone, Serialize)]
pub struct Named {
    pub id: i32,
    pub name: String,
}

/// The answer for one key and (optionally) one request.
#[derive(Debug, Clone)]
pub struct Decision {
    pub code: Code,
    pub message: Cow<'static, str>,
    pub app: Option<Named>,
    pub role: Option<Named>,
    /// Whether the target was allowed; `None` when no target was asked about.
    pub allowed: Option<bool>,
}

impl Decision {
    pub fn valid(&self) -> bool {
        self.code == Code::Valid
    }

    fn refused(code: Code, message: impl Into<Cow<'static, str>>) -> Self {
        Decision {
            code,
            message: message.into(),
            app: None,
            role: None,
            allowed: None,
        }
    }
}

#[derive(Default)]
struct Cache {
    /// The change counter the entries belong to; `None` until first polled.
    version: Option<i64>,
    /// By the key's SHA-256 digest.
    keys: HashMap<[u8; 32], Option<Arc<KeyGrant>>>,
    services: HashMap<String, Option<ServiceInfo>>,
}

pub struct Verifier {
    pool: DbPool,
    /// Most keys cached at once; 0 turns the key cache off.
    capacity: usize,
    /// Run look-ups on the request's own thread when a connection is idle.
    inline_reads: bool,
    /// Expiry and grace periods are judged against this clock.
    clock: SharedClock,
    cache: RwLock<Cache>,
    last_used: Mutex<HashMap<i32, NaiveDateTime>>,
    /// Held while last-used times are written, so the final write at shutdown
    /// waits for a periodic one already under way.
    flushing: tokio::sync::Mutex<()>,
    metrics: Arc<Metrics>,
}

impl Verifier {
    pub fn new(
        pool: DbPool,
        backend: Backend,
        capacity: usize,
        clock: SharedClock,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        metrics.declare_verification_codes(
            Code::ALL
                .iter()
                .map(|code| code.as_str())
                .chain([UNAVAILABLE, ERROR]),
        );
        Arc::new(Verifier {
            pool,
            capacity,
            clock,
            inline_reads: backend == Backend::Sqlite,
            cache: RwLock::default(),
            last_used: Mutex::default(),
            flushing: tokio::sync::Mutex::new(()),
            metrics,
        })
    }

    /// Judges a presented key and, if given, a request; counts the answer and
    /// its time in the metrics. Without the database the answer is an error
    /// (503), never a verdict about the key.
    pub async fn verify(
        &self,
        presented: Option<&str>,
        target: Option<&Target>,
    ) -> Result<Decision, AppError> {
        let started = Instant::now();
        let result = self.judge(presented, target).await;
        let code = match &result {
            Ok(decision) => decision.code.as_str(),
            Err(AppError::DatabaseUnavailable(_)) => UNAVAILABLE,
            Err(_) => ERROR,
        };
        self.metrics.record_verification(code, started.elapsed());
        result
    }

    async fn judge(
        &self,
        presented: Option<&str>,
        target: Option<&Target>,
    ) -> Result<Decision, AppError> {
        let Some(presented) = presented.map(str::trim) else {
            return Ok(Decision::refused(
                Code::Missing,
                "No API key was sent. Send it in the X-API-Key header (or X-DreamFactory-API-Key, \
                 Authorization: Bearer, or the api_key query parameter).",
            ));
        };
        let key = match ApiKey::parse(presented) {
            Ok(key) => key,
            Err(why) => {
                return Ok(Decision::refused(
                    Code::Malformed,
                    format!("The API key is malformed: {why}."),
                ));
            }
        };
        let Some(grant) = self.key_grant(key.digest()).await? else {
            return Ok(Decision::refused(
                Code::NotFound,
                "The API key is not known to keyward.",
            ));
        };
        let app = Named {
            id: grant.app_id,
            name: grant.app_name.clone(),
        };
        let role = grant.role.as_ref().map(|r| Named {
            id: r.id,
            name: r.name.clone(),
        });
        let decide = |code, message: Cow<'static, str>, allowed| Decision {
            code,
            message,
            app: Some(app.clone()),
            role: role.clone(),
            allowed,
        };
        let now = self.clock.now();
        if let Some(until) = grant.replaced_until
            && until <= now
        {
            return Ok(decide(
                Code::Expired,
                format!(
                    "This key was replaced by a new one and stopped working at {} UTC. Use the new key.",
                    until.format("%Y-%m-%d %H:%M")
                )
                .into(),
                None,
            ));
        }
        if let Some(expires_at) = grant.expires_at
            && expires_at <= now
        {
            return Ok(decide(
                Code::Expired,
                format!(
                    "The API key expired at {} UTC.",
                    expires_at.format("%Y-%m-%d %H:%M")
                )
                .into(),
                None,
            ));
        }
        if !grant.app_active {
            return Ok(decide(
                Code::Inactive,
                format!("The app “{}” is inactive.", grant.app_name).into(),
                None,
            ));
        }
        self.record_use(&grant);
        let Some(role_grant) = &grant.role else {
            return Ok(decide(
                Code::NoRole,
                format!(
                    "The app “{}” has no role, so it may call nothing.",
                    grant.app_name
                )
                .into(),
                None,
            ));
        };
        if !role_grant.active {
            return Ok(decide(
                Code::RoleInactive,
                format!("The role “{}” is inactive.", role_grant.name).into(),
                None,
            ));
        }
        let Some(target) = target else {
            return Ok(decide(Code::Valid, "The API key is valid.".into(), None));
        };
        let service = self.service(&target.service).await?;
        let verdict = match service {
            None => Err(format!("There is no service named “{}”.", target.service)),
            Some(service) if !service.active => {
                Err(format!("The service “{}” is inactive.", target.service))
            }
            Some(service) => {
                let verbs = granted_verbs(&role_grant.rules, service.id, &target.component);
                if verbs.contains(target.verb) {
                    Ok(())
                } else {
                    let component = crate::roles::rules::normalise_path(&target.component);
                    let place = if component.is_empty() {
                        format!("the root of {}", target.service)
                    } else {
                        format!("{}/{component}", target.service)
                    };
                    Err(format!(
                        "The role “{}” does not allow {} on {place}.",
                        role_grant.name,
                        target.verb.as_str()
                    ))
                }
            }
        };
        Ok(match verdict {
            Ok(()) => decide(
                Code::Valid,
                "The API key is valid and allowed.".into(),
                Some(true),
            ),
            Err(message) => decide(Code::Forbidden, message.into(), Some(false)),
        })
    }

    async fn key_grant(&self, digest: [u8; 32]) -> Result<Option<Arc<KeyGrant>>, AppError> {
        let version = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            if let Some(found) = cache.keys.get(&digest) {
                self.metrics.record_cache(true);
                return Ok(found.clone());
            }
            cache.version
        };
        self.metrics.record_cache(false);
        let hash = hex::encode(digest);
        let loaded = self
            .read(move |conn| grants::load_key(conn, &hash))
            .await?
            .map(Arc::new);
        let capacity = self.capacity;
        if capacity == 0 {
            return Ok(loaded);
        }
        self.remember(version, |cache| {
            if cache.keys.len() >= capacity {
                cache.keys.clear();
            }
            cache.keys.insert(digest, loaded.clone());
        });
        Ok(loaded)
    }

    async fn service(&self, name: &str) -> Result<Option<ServiceInfo>, AppError> {
        let version = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            if let Some(found) = cache.services.get(name) {
                return Ok(*found);
            }
            cache.version
        };
        // What cannot be a service name names no service: no look-up (a NUL
        // would be a query error on PostgreSQL) and no cache entry. Checked
        // on a miss only, so a cached answer costs no parsing.
        if crate::services::domain::ServiceName::parse(name).is_err() {
            return Ok(None);
        }
        let lookup = name.to_owned();
        let loaded = self
            .read(move |conn| grants::load_service(conn, &lookup))
            .await?;
        let name = name.to_owned();
        // Services are few and always cached, even with the key cache off.
        self.remember(version, |cache| {
            if cache.services.len() >= MAX_CACHED_SERVICES {
                cache.services.clear();
            }
            cache.services.insert(name, loaded);
        });
        Ok(loaded)
    }

    /// A cache miss's database read. On SQLite in WAL mode a reader never
    /// waits for the writer, and an indexed look-up on an idle connection takes
    /// microseconds, less than the hop to the blocking pool; so it runs inline
    /// when a connection is idle. Otherwise (none idle, or PostgreSQL over the
    /// network) it goes through the blocking pool like every other query.
    async fn read<R, F>(&self, work: F) -> Result<R, AppError>
    where
        F: FnOnce(&mut DbConn) -> QueryResult<R> + Send + 'static,
        R: Send + 'static,
    {
        if self.inline_reads
            && let Some(mut conn) = self.pool.try_get()
        {
            return Ok(work(&mut conn)?);
        }
        Ok(db::run(&self.pool, work).await??)
    }

    /// Caches a look-up only if no change was noticed while it ran, and only
    /// once the counter has been read at least once.
    fn remember(&self, version_before: Option<i64>, store: impl FnOnce(&mut Cache)) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if version_before.is_some() && cache.version == version_before {
            store(&mut cache);
        }
    }

    /// Reads the change counter; drops the cache when it moved or cannot be read.
    pub async fn poll(&self) {
        let version = db::run(&self.pool, changes::current).await;
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        match version {
            Ok(Ok(version)) if cache.version == Some(version) => {}
            Ok(Ok(version)) => {
                *cache = Cache {
                    version: Some(version),
                    ..Cache::default()
                };
            }
            Ok(Err(e)) => {
                log::warn!("reading the change counter failed: {e}");
                *cache = Cache::default();
            }
            Err(e) => {
                if cache.version.is_some() {
                    log::warn!("verification cache dropped: {e}");
                }
                *cache = Cache::default();
            }
        }
    }

    fn record_use(&self, grant: &KeyGrant) {
        let now = chrono::Utc::now();
        let second = now.timestamp();
        if grant.last_queued.swap(second, Ordering::Relaxed) == second {
            return;
        }
        if let Ok(mut pending) = self.last_used.lock() {
            pending.insert(grant.app_id, now.naive_utc());
        }
    }

    /// Writes the collected last-used times in one transaction.
    pub async fn flush_last_used(&self) {
        let _flushing = self.flushing.lock().await;
        let pending = match self.last_used.lock() {
            Ok(mut pending) if !pending.is_empty() => std::mem::take(&mut *pending),
            _ => return,
        };
        let count = pending.len();
        let result = db::run(&self.pool, move |conn| {
            conn.transaction(|conn| {
                for (app_id, used_at) in &pending {
                    diesel::update(apps::table.find(app_id))
                        .filter(
                            apps::last_used_at
                                .is_null()
                                .or(apps::last_used_at.lt(used_at)),
                        )
                        .set(apps::last_used_at.eq(used_at))
                        .execute(conn)?;
                }
                Ok::<_, diesel::result::Error>(())
            })
        })
        .await;
        match result {
            Ok(Ok(())) => log::debug!("recorded last use of {count} keys"),
            Ok(Err(e)) => log::warn!("recording last-used times failed: {e}"),
            Err(e) => log::warn!("recording last-used times failed: {e}"),
        }
    }

    /// Starts the change poller and the last-used writer on the current runtime.
    pub fn spawn_background_tasks(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        let poller = Arc::clone(self);
        let polling = tokio::spawn(async move {
            let mut every = tokio::time::interval(POLL_INTERVAL);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                poller.poll().await;
            }
        });
        let writer = Arc::clone(self);
        let writing = tokio::spawn(async move {
            let mut every = tokio::time::interval(LAST_USED_FLUSH_INTERVAL);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                writer.flush_last_used().await;
            }
        });
        vec![polling, writing]
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn metric_labels_spell_codes_as_the_api_does() {
        for code in Code::ALL {
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
        }
    }
}
