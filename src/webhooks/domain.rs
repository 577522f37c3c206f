//! The outgoing webhook as values: its settings, the events it sends, their
//! JSON, the signature a receiver checks, and the retry schedule.

use chrono::{NaiveDateTime, TimeDelta};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 8;
/// The wait after the first failed attempt; it doubles after each.
pub const FIRST_RETRY: TimeDelta = TimeDelta::seconds(10);

/// `X-Keyward-Signature` for `body` sent at `timestamp` (Unix seconds):
/// `t=TIMESTAMP,v1=HEX`, HEX the HMAC-SHA256 of `TIMESTAMP.BODY` under the
/// secret.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// The HMAC-SHA256 of `TIMESTAMP.BODY` under `secret`, in hex.
fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Rolled,
    Deleted,
    /// It expires within the warning days (`--expiry-warning-days`).
    Expiring,
    Expired,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "key.created",
            EventKind::Rolled => "key.rolled",
            EventKind::Deleted => "key.deleted",
            EventKind::Expiring => "key.expiring",
            EventKind::Expired => "key.expired",
        }
    }

    /// The event an audit event of an app is, if it is one.
    pub fn of_audit(action: &str) -> Option<Self> {
        match action {
            "created" => Some(EventKind::Created),
            "key_rolled" => Some(EventKind::Rolled),
            "deleted" => Some(EventKind::Deleted),
            _ => None,
        }
    }
}

#[derive(Debug, Serialize)]
struct AppRef<'a> {
    id: i32,
    name: &'a str,
}

#[derive(Debug, Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    occurred_at: chrono::DateTime<chrono::Utc>,
    app: AppRef<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The administrator who made the change, for the audit log's events.
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<&'a str>,
}

/// One event, as the receiver gets it.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub app_id: i32,
    pub app_name: String,
    pub occurred_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub by: Option<String>,
    /// What makes it this event and no other (written once by every instance).
    pub dedup_key: String,
}

impl Event {
    /// The JSON body: `{"type":"key.created","occurred_at":…,"app":{"id":…,"name":…},…}`.
    pub fn payload(&self) -> String {
        serde_json::to_string(&Payload {
            kind: self.kind.as_str(),
            occurred_at: self.occurred_at.and_utc(),
            app: AppRef {
                id: self.app_id,
                name: &self.app_name,
            },
            expires_at: self.expires_at.map(|at| at.and_utc()),
            by: self.by.as_deref(),
        })
        .unwrap_or_default()
    }
}

/// When to try again after `attempts` failed ones, or `None`: given up.
pub fn next_attempt(attempts: i32, now: NaiveDateTime) -> Option<NaiveDateTime> {
    (attempts < MAX_ATTEMPTS).then(|| now + FIRST_RETRY * 2i32.pow((attempts - 1).max(0) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_the_timestamp_and_body() {
        // Computed independently:
        // printf '1800000000.{"a":1}' | openssl dgst -sha256 -hmac 'a secret of some length'
        assert_eq!(
            signature("a secret of some length", 1_800_000_000, r#"{"a":1}"#),
            "t=1800000000,v1=107a6fae5b2201c22462186ccbcbaf7c072a800b8e525490330dd7e353e475df"
        );
    }

    #[test]
    fn retries_back_off_then_give_up() {
        let t = NaiveDateTime::default();
        let waits: Vec<i64> = (1..MAX_ATTEMPTS)
            .map(|n| (next_attempt(n, t).unwrap() - t).num_seconds())
            .collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640]);
        assert_eq!(next_attempt(MAX_ATTEMPTS, t), None);
    }
}
