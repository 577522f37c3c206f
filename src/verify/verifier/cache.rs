//! The verification cache: key hash → grant (with entries for unknown
//! hashes), service name → service, and what this instance has applied of
//! the change log (`db::changes`).
//!
//! Keys and services sit in `quick_cache` caches, which evict what is least
//! worth keeping when full. A role's grant is shared by all its keys (one
//! `Arc`, and one flag that forgets it for all of them at once), so a role
//! change costs one store however many keys have the role, and a cached key
//! costs little more than its app's fields.
//!
//! A look-up that raced a change is not cached stale: a miss notes the epoch
//! (bumped by every change applied) before it reads the database, and what it
//! read is kept only if the epoch has not moved meanwhile ([`Cache::remember_key`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::db::changes::{Change, Log, Position};
use crate::verify::domain::{KeyGrant, RoleGrant, ServiceInfo};

/// Bound on cached service names (requests can name services that do not exist).
const MAX_CACHED_SERVICES: usize = 10_000;

/// A key's grant as the cache keeps it.
#[derive(Debug)]
pub struct Cached {
    pub grant: KeyGrant,
    /// The role's flag ([`SharedRole::forgotten`]); `None` without a role,
    /// and for a grant that was never shared.
    role_forgotten: Option<Arc<AtomicBool>>,
    /// The second (Unix time) of the last use handed to the last-used batch,
    /// so a busy key is queued once a second rather than on every request.
    pub last_queued: AtomicI64,
}

impl Cached {
    fn new(grant: KeyGrant, role_forgotten: Option<Arc<AtomicBool>>) -> Arc<Cached> {
        Arc::new(Cached {
            grant,
            role_forgotten,
            last_queued: AtomicI64::new(0),
        })
    }

    /// False once a change to its role was applied: the entry is then a miss.
    fn is_current(&self) -> bool {
        self.role_forgotten
            .as_ref()
            .is_none_or(|forgotten| !forgotten.load(Ordering::Acquire))
    }
}

/// One role's grant, as every cached key with that role holds it.
struct SharedRole {
    grant: Arc<RoleGrant>,
    /// Set when a change to the role is applied; the role then leaves the
    /// table, and the next look-up of each of its keys reads it afresh.
    forgotten: Arc<AtomicBool>,
}

impl SharedRole {
    fn forget(&self) {
        self.forgotten.store(true, Ordering::Release);
    }
}

#[derive(Default)]
struct State {
    /// How far the change log has been applied; `None` until it was first
    /// read and after a failed read, and nothing is cached meanwhile.
    position: Option<Position>,
    /// Moves with every change applied and every start-over.
    epoch: u64,
    /// The roles cached keys have, by id.
    roles: HashMap<i32, SharedRole>,
}

/// What a miss saw before it read the database: the epoch, and whether the
/// cache was following the change log at all.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(Option<u64>);

pub struct Cache {
    /// By the key's SHA-256 digest; `None` when the key cache is off.
    keys: Option<quick_cache::sync::Cache<[u8; 32], Option<Arc<Cached>>>>,
    services: quick_cache::sync::Cache<String, Option<ServiceInfo>>,
    state: Mutex<State>,
}

impl Cache {
    /// A cache of at most `capacity` keys; 0 turns the key cache off.
    /// Services are few and always cached.
    pub fn new(capacity: usize) -> Cache {
        Cache {
            keys: (capacity > 0).then(|| quick_cache::sync::Cache::new(capacity)),
            services: quick_cache::sync::Cache::new(MAX_CACHED_SERVICES),
            state: Mutex::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A cached answer for a key: `Ok(None)` for a hash known to name no key,
    /// `Err` with the ticket for the database read when there is none.
    pub fn key(&self, digest: &[u8; 32]) -> Result<Option<Arc<Cached>>, Ticket> {
        match self.keys.as_ref().and_then(|keys| keys.get(digest)) {
            Some(Some(cached)) if cached.is_current() => Ok(Some(cached)),
            Some(None) => Ok(None),
            _ => Err(self.ticket()),
        }
    }

    /// A cached service: `Ok(None)` for a name known to name none.
    pub fn service(&self, name: &str) -> Result<Option<ServiceInfo>, Ticket> {
        self.services.get(name).ok_or_else(|| self.ticket())
    }

    fn ticket(&self) -> Ticket {
        let state = self.state();
        Ticket(state.position.map(|_| state.epoch))
    }

    /// Caches what a miss read, unless a change was applied while it read
    /// (or the change log is not being followed), and returns the grant as
    /// verification is to judge it.
    pub fn remember_key(
        &self,
        ticket: Ticket,
        digest: [u8; 32],
        loaded: Option<KeyGrant>,
    ) -> Option<Arc<Cached>> {
        let Some(keys) = &self.keys else {
            return loaded.map(|grant| Cached::new(grant, None));
        };
        let mut state = self.state();
        if !state.follows(ticket) {
            return loaded.map(|grant| Cached::new(grant, None));
        }
        let cached = loaded.map(|mut grant| {
            let forgotten = grant.role.as_mut().map(|role| {
                // The role as other keys already share it, or this one.
                let shared = state.roles.entry(role.id).or_insert_with(|| SharedRole {
                    grant: Arc::clone(role),
                    forgotten: Arc::default(),
                });
                *role = Arc::clone(&shared.grant);
                Arc::clone(&shared.forgotten)
            });
            Cached::new(grant, forgotten)
        });
        keys.insert(digest, cached.clone());
        cached
    }

    /// Caches a service read on a miss, as [`Cache::remember_key`] does.
    pub fn remember_service(&self, ticket: Ticket, name: String, loaded: Option<ServiceInfo>) {
        let state = self.state();
        if state.follows(ticket) {
            self.services.insert(name, loaded);
        }
    }

    /// Where this instance is in the change log; `None` when it must start
    /// (over) from the current position.
    pub fn position(&self) -> Option<Position> {
        self.state().position
    }

    /// Applies the changes read after [`Cache::position`]. Returns false, and
    /// applies nothing, when they cannot be applied one by one: the counter
    /// moved (anything may have changed), the log was pruned past this
    /// position, more than `limit` changes are waiting, or one cannot be read.
    /// The caller then starts over.
    pub fn apply(&self, log: &Log, limit: usize) -> bool {
        let mut state = self.state();
        let Some(at) = state.position else {
            return false;
        };
        let readable = log.changes.iter().all(|(_, change)| {
            change
                .as_ref()
                .is_some_and(|change| digest_of(change).is_none_or(|d| d.is_some()))
        });
        if log.version != at.version
            || log.pruned_through > at.last_id
            || log.changes.len() > limit
            || !readable
        {
            return false;
        }
        let Some(&(last_id, _)) = log.changes.last() else {
            return true;
        };
        for change in log.changes.iter().filter_map(|(_, change)| change.as_ref()) {
            match change {
                Change::AppKey { .. } | Change::KeyExists(_) => {
                    if let (Some(keys), Some(Some(digest))) = (&self.keys, digest_of(change)) {
                        keys.remove(&digest);
                    }
                }
                Change::Role(id) => {
                    if let Some(role) = state.roles.remove(id) {
                        role.forget();
                    }
                }
                Change::Service(id) => {
                    // A created or renamed service may bear a name cached as
                    // naming none.
                    self.services
                        .retain(|_, service| service.is_some_and(|s| s.id != *id));
                }
            }
        }
        state.epoch += 1;
        state.position = Some(Position { last_id, ..at });
        true
    }

    /// Drops everything and follows the change log from `position` on, or
    /// (with `None`, after a failed read) caches nothing until it is read.
    pub fn start_over(&self, position: Option<Position>) {
        let mut state = self.state();
        state.epoch += 1;
        state.position = position;
        for (_, role) in state.roles.drain() {
            role.forget();
        }
        if let Some(keys) = &self.keys {
            keys.clear();
        }
        self.services.clear();
    }

    /// Keys cached (entries for unknown hashes included).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.as_ref().map_or(0, |keys| keys.len())
    }
}

impl State {
    fn follows(&self, ticket: Ticket) -> bool {
        self.position.is_some() && ticket.0 == Some(self.epoch)
    }
}

/// The digest a change names: `None` for a change that names no key,
/// `Some(None)` for a key hash that is not one.
fn digest_of(change: &Change) -> Option<Option<[u8; 32]>> {
    let (Change::AppKey { key_hash, .. } | Change::KeyExists(key_hash)) = change else {
        return None;
    };
    let mut digest = [0u8; 32];
    Some(
        hex::decode_to_slice(key_hash, &mut digest)
            .ok()
            .map(|()| digest),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::domain::rules::{Component, Rule, Verbs};

    const AT: Position = Position {
        last_id: 10,
        version: 1,
    };

    fn role(id: i32) -> Arc<RoleGrant> {
        Arc::new(RoleGrant {
            id,
            name: format!("role {id}"),
            active: true,
            rules: vec![Rule {
                service_id: None,
                component: Component::parse("*").unwrap(),
                verbs: Verbs::parse(["GET"]).unwrap(),
            }],
            rate_limits: Default::default(),
        })
    }

    fn grant(app_id: i32, role_id: Option<i32>) -> KeyGrant {
        KeyGrant {
            app_id,
            app_name: format!("app {app_id}"),
            app_active: true,
            role: role_id.map(role),
            expires_at: None,
            replaced_until: None,
            limits: None,
        }
    }

    #[test]
    fn a_cached_key_stays_small() {
        // A million of them are to fit keyward's memory bound (bench/cache
        // measures it): what few keys have is boxed apart, so a key's entry
        // is its id, name, role, two times and one pointer.
        assert!(
            std::mem::size_of::<Cached>() <= 96,
            "a cached key takes {} bytes",
            std::mem::size_of::<Cached>()
        );
    }

    fn digest(n: u8) -> [u8; 32] {
        [n; 32]
    }

    /// A cache following the log at [`AT`], holding `keys` (digest n → app n,
    /// with its role) and the services `db` (1) and, as unknown, `nope`.
    fn filled(keys: &[(u8, Option<i32>)]) -> Cache {
        let cache = Cache::new(100);
        cache.start_over(Some(AT));
        for &(n, role) in keys {
            let ticket = cache.key(&digest(n)).unwrap_err();
            cache.remember_key(ticket, digest(n), Some(grant(n.into(), role)));
        }
        let ticket = cache.key(&digest(99)).unwrap_err();
        cache.remember_key(ticket, digest(99), None);
        for (name, service) in [
            (
                "db",
                Some(ServiceInfo {
                    id: 1,
                    active: true,
                }),
            ),
            ("nope", None),
        ] {
            let ticket = cache.service(name).unwrap_err();
            cache.remember_service(ticket, name.into(), service);
        }
        cache
    }

    fn cached(cache: &Cache) -> Vec<u8> {
        (0..=99)
            .filter(|&n| cache.key(&digest(n)).is_ok())
            .collect()
    }

    fn log(changes: Vec<Change>) -> Log {
        Log {
            version: AT.version,
            pruned_through: 0,
            changes: changes
                .into_iter()
                .zip(AT.last_id + 1..)
                .map(|(change, id)| (id, Some(change)))
                .collect(),
        }
    }

    #[test]
    fn keys_with_one_role_share_it() {
        let cache = filled(&[(1, Some(5)), (2, Some(5))]);
        let (one, two) = (cache.key(&digest(1)), cache.key(&digest(2)));
        let role = |found: Result<Option<Arc<Cached>>, Ticket>| {
            found.unwrap().unwrap().grant.role.clone().unwrap()
        };
        assert!(Arc::ptr_eq(&role(one), &role(two)));
    }

    #[test]
    fn each_change_drops_only_what_it_names() {
        let hex = |n: u8| hex::encode(digest(n));
        let keys = [(1, Some(5)), (2, Some(5)), (3, Some(6)), (4, None)];
        let cases: Vec<(Change, Vec<u8>, &str)> = vec![
            (
                Change::AppKey {
                    app_id: 1,
                    key_hash: hex(1),
                },
                vec![2, 3, 4, 99],
                "an app's key",
            ),
            (Change::Role(5), vec![3, 4, 99], "a role: its keys only"),
            (
                Change::Role(7),
                vec![1, 2, 3, 4, 99],
                "a role no cached key has",
            ),
            (
                Change::KeyExists(hex(99)),
                vec![1, 2, 3, 4],
                "a key that now exists, cached as unknown",
            ),
            (
                Change::Service(1),
                vec![1, 2, 3, 4, 99],
                "a service: no key",
            ),
        ];
        for (change, left, why) in cases {
            let cache = filled(&keys);
            assert!(cache.apply(&log(vec![change]), 100), "{why}");
            assert_eq!(cached(&cache), left, "{why}");
            assert_eq!(
                cache.position(),
                Some(Position {
                    last_id: AT.last_id + 1,
                    ..AT
                }),
                "{why}"
            );
        }
    }

    #[test]
    fn a_service_change_drops_its_entry_and_names_of_no_service() {
        let cache = filled(&[]);
        let other = ServiceInfo {
            id: 2,
            active: true,
        };
        let ticket = cache.service("files").unwrap_err();
        cache.remember_service(ticket, "files".into(), Some(other));
        assert!(cache.apply(&log(vec![Change::Service(1)]), 100));
        assert!(cache.service("db").is_err());
        assert!(cache.service("nope").is_err(), "it may be the new name");
        assert_eq!(cache.service("files").ok(), Some(Some(other)));
    }

    #[test]
    fn what_cannot_be_applied_one_by_one_is_refused() {
        let change = || vec![Change::Role(5)];
        let cases: Vec<(Log, &str)> = vec![
            (
                Log {
                    version: AT.version + 1,
                    ..log(change())
                },
                "the counter moved",
            ),
            (
                Log {
                    pruned_through: AT.last_id + 1,
                    ..log(change())
                },
                "pruned past the position",
            ),
            (log(vec![Change::Role(5); 4]), "more than the limit"),
            (
                Log {
                    changes: vec![(AT.last_id + 1, None)],
                    ..log(vec![])
                },
                "a kind this build cannot read",
            ),
            (
                log(vec![Change::KeyExists("not hex".into())]),
                "a hash that is not one",
            ),
        ];
        for (log, why) in cases {
            let cache = filled(&[(1, Some(5))]);
            assert!(!cache.apply(&log, 3), "{why}");
            assert_eq!(cached(&cache), vec![1, 99], "{why}: nothing applied");
            assert_eq!(cache.position(), Some(AT), "{why}");
        }
        let cache = filled(&[(1, Some(5))]);
        assert!(cache.apply(&log(vec![]), 3), "nothing new");
        assert_eq!(cache.position(), Some(AT));
    }

    #[test]
    fn a_look_up_that_raced_a_change_is_not_kept() {
        let cache = filled(&[]);
        let ticket = cache.key(&digest(1)).unwrap_err();
        // The role changes while the look-up reads the database.
        assert!(cache.apply(&log(vec![Change::Role(5)]), 100));
        let answer = cache.remember_key(ticket, digest(1), Some(grant(1, Some(5))));
        assert_eq!(answer.map(|c| c.grant.app_id), Some(1), "still answered");
        assert!(cache.key(&digest(1)).is_err(), "but not kept");
        // A look-up after the change is kept, until its role changes again.
        let ticket = cache.key(&digest(2)).unwrap_err();
        cache.remember_key(ticket, digest(2), Some(grant(2, Some(5))));
        assert!(cache.apply(&log(vec![Change::Role(5)]), 100));
        assert!(cache.key(&digest(2)).is_err());
    }

    #[test]
    fn nothing_is_kept_until_the_log_is_followed() {
        let cache = Cache::new(100);
        let ticket = cache.key(&digest(1)).unwrap_err();
        cache.remember_key(ticket, digest(1), None);
        assert!(cache.key(&digest(1)).is_err());
        cache.start_over(Some(AT));
        cache.remember_key(ticket, digest(1), None);
        assert!(cache.key(&digest(1)).is_err(), "a ticket from before");
        // A failed read of the log drops everything and keeps nothing.
        let cache = filled(&[(1, Some(5))]);
        let ticket = cache.key(&digest(2)).unwrap_err();
        cache.start_over(None);
        assert_eq!(cached(&cache), Vec::<u8>::new());
        assert!(cache.service("db").is_err());
        cache.remember_key(ticket, digest(2), None);
        assert!(cache.key(&digest(2)).is_err());
    }

    #[test]
    fn with_capacity_zero_nothing_is_cached() {
        let cache = Cache::new(0);
        cache.start_over(Some(AT));
        let ticket = cache.key(&digest(1)).unwrap_err();
        let answer = cache.remember_key(ticket, digest(1), Some(grant(1, Some(5))));
        assert!(answer.is_some());
        assert!(cache.key(&digest(1)).is_err());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_full_cache_evicts_instead_of_starting_over() {
        let cache = Cache::new(1_000);
        cache.start_over(Some(AT));
        for n in 0..5_000u32 {
            let mut d = [0u8; 32];
            d[..4].copy_from_slice(&n.to_le_bytes());
            let ticket = cache.key(&d).unwrap_err();
            cache.remember_key(ticket, d, None);
        }
        let len = cache.len();
        assert!((500..=1_000).contains(&len), "{len} keys cached");
    }
}
