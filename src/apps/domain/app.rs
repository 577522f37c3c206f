//! An app as stored, its location decoded.

use chrono::NaiveDateTime;

use super::allowed_ips::AllowedIps;
use super::location::AppLocation;
use crate::limits::{Quota, RateLimits};

/// An app as stored, its location decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub location: AppLocation,
    pub role_id: Option<i32>,
    /// The start of its key, for telling keys apart (`kw_4fQ9ab`).
    pub key_prefix: String,
    /// Its key was imported from DreamFactory (until it is rolled).
    pub legacy_key: bool,
    pub expires_at: Option<NaiveDateTime>,
    /// When the key it replaced stops working (set by a roll with a grace period).
    pub previous_key_expires_at: Option<NaiveDateTime>,
    /// Where it may be used from ("Allowed addresses"); empty: anywhere.
    pub allowed_ips: AllowedIps,
    /// Its own rate limits; empty: its role's.
    pub rate_limits: RateLimits,
    pub quota: Option<Quota>,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

impl App {
    pub fn expired_at(&self, now: NaiveDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// When the previous key stops working, while it still works.
    pub fn previous_key_until(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.previous_key_expires_at.filter(|until| *until > now)
    }
}
