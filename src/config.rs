//! Settings for a running keyward, from flags and environment variables.

use std::net::SocketAddr;
use std::time::Duration;

/// The path under which API URIs name their service (`/api/v2/` by default,
/// as DreamFactory's): forward-auth reads it, the key pages build launch URLs
/// with it.
#[derive(Debug, Clone)]
pub struct ApiBasePath(pub String);

/// How many days before its expiry a key is flagged on the list and its page
/// (`--expiry-warning-days`); 0 flags none.
#[derive(Debug, Clone, Copy)]
pub struct ExpiryWarning(pub u32);

pub const DEFAULT_EXPIRY_WARNING_DAYS: u32 = 7;

/// The default bound on keys kept in the verification cache: a million keys
/// with room to spare (the cache's shards fill unevenly). `bench/cache`
/// measured 230 MiB of heap with 1,000,000 keys cached, about 240 bytes a key.
pub const DEFAULT_CACHE_CAPACITY: usize = 1_250_000;

pub const DEFAULT_BODY_TIMEOUT_SECONDS: u64 = 10;
pub const DEFAULT_SESSION_LIFETIME_HOURS: u64 = 12;

/// Everything `Application::build` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// SQLite path or `postgres://` URL.
    pub database_url: String,
    /// Mark the session cookie `Secure` (set when keyward is served over HTTPS).
    pub cookie_secure: bool,
    /// A session unused for this long is signed out.
    pub session_idle: Duration,
    /// Largest connection pool.
    pub pool_size: u32,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Forward-auth maps URIs under this path to service and component.
    pub api_base_path: String,
    /// Most keys the verification cache holds; 0 turns it off.
    pub verify_cache_capacity: usize,
    /// What "now" is for expiry and grace periods.
    pub clock: crate::clock::SharedClock,
    /// The proxy in front of forward-auth; `None` until the operator says.
    pub proxy: Option<crate::proxy::Proxy>,
    /// Peers whose `X-Forwarded-For` / `Forwarded` name the client.
    pub trusted_proxies: crate::proxy::TrustedProxies,
    /// A request body must arrive within this long of its headers.
    pub body_timeout: Duration,
    /// A sign-in lasts at most this long, however active.
    pub session_lifetime: Duration,
    /// How often SQLite's write-ahead log is checkpointed and truncated.
    pub wal_checkpoint_interval: Duration,
    /// Keys expiring within this many days are flagged; 0 flags none.
    pub expiry_warning_days: u32,
    /// What verification does while the database cannot be reached.
    pub database_outage: DatabaseOutage,
    /// Counting verifications for the usage pages, and how long hours are kept.
    pub usage: UsageSettings,
    /// The outgoing webhook, if the operator set one.
    pub webhook: Option<WebhookSettings>,
}

/// The webhook's shortest secret.
pub const MIN_WEBHOOK_SECRET_CHARS: usize = 16;

/// Where events go and the secret they are signed with
/// (`--webhook-url`, `--webhook-secret`).
#[derive(Clone)]
pub struct WebhookSettings {
    pub url: url::Url,
    secret: String,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("url", &self.url.as_str())
            .field("secret", &"…")
            .finish()
    }
}

impl WebhookSettings {
    /// The URL (http or https) and the secret (at least 16 characters).
    pub fn new(url: &str, secret: &str) -> Result<Self, String> {
        let url = url::Url::parse(url.trim())
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            .ok_or("must be an http or https URL like https://hooks.example.com/keyward")?;
        if secret.chars().count() < MIN_WEBHOOK_SECRET_CHARS {
            return Err(format!(
                "needs a secret of at least {MIN_WEBHOOK_SECRET_CHARS} characters (--webhook-secret)"
            ));
        }
        Ok(WebhookSettings {
            url,
            secret: secret.to_owned(),
        })
    }

    /// What events are signed with; never logged or shown.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The URL as the console shows it: without credentials or query.
    pub fn shown_url(&self) -> String {
        let mut shown = self.url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        shown.set_query(None);
        shown.to_string()
    }
}

/// Counting verifications for the usage pages (`--count-usage`) and how many
/// days hourly counts are kept (daily ones are kept a year)
/// (`--usage-retention-days`).
#[derive(Debug, Clone, Copy)]
pub struct UsageSettings {
    pub count: bool,
    pub retention_days: u32,
}

impl Default for UsageSettings {
    fn default() -> Self {
        UsageSettings {
            count: true,
            retention_days: crate::usage::DEFAULT_RETENTION_DAYS,
        }
    }
}

/// What verification does while the database cannot be reached
/// (`--database-outage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DatabaseOutage {
    /// Every verification answers 503 until the database is back: no verdict
    /// keyward cannot confirm, no limit it cannot count.
    #[default]
    Refuse,
    /// Keys this instance has cached go on being judged, their rate limits
    /// and quotas counted by this instance alone (added to the shared counts
    /// once the database is back); keys it has not cached answer 503.
    Allow,
}

impl DatabaseOutage {
    pub fn parse(input: &str) -> Result<Self, String> {
        match input.trim().to_ascii_lowercase().as_str() {
            "refuse" => Ok(DatabaseOutage::Refuse),
            "allow" => Ok(DatabaseOutage::Allow),
            _ => Err(format!("must be refuse or allow, got {input:?}")),
        }
    }
}

impl Settings {
    /// Defaults for the given database, listening on a free loopback port.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            cookie_secure: false,
            session_idle: Duration::from_secs(30 * 60),
            pool_size: 8,
            workers: 0,
            api_base_path: "/api/v2/".into(),
            verify_cache_capacity: DEFAULT_CACHE_CAPACITY,
            clock: crate::clock::system(),
            proxy: None,
            trusted_proxies: crate::proxy::TrustedProxies::default(),
            body_timeout: Duration::from_secs(DEFAULT_BODY_TIMEOUT_SECONDS),
            expiry_warning_days: DEFAULT_EXPIRY_WARNING_DAYS,
            database_outage: DatabaseOutage::Refuse,
            usage: UsageSettings::default(),
            webhook: None,
            session_lifetime: Duration::from_secs(DEFAULT_SESSION_LIFETIME_HOURS * 3600),
            wal_checkpoint_interval: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod webhook_tests {
    use super::WebhookSettings;

    #[test]
    fn a_webhook_needs_a_web_url_and_a_long_secret() {
        assert!(WebhookSettings::new("https://hooks.example.com/k", "0123456789abcdef").is_ok());
        assert!(WebhookSettings::new("ftp://hooks.example.com/", "0123456789abcdef").is_err());
        assert!(WebhookSettings::new("not a url", "0123456789abcdef").is_err());
        let short = WebhookSettings::new("https://hooks.example.com/", "short").unwrap_err();
        assert!(short.contains("at least 16 characters"), "{short}");
        let settings = WebhookSettings::new(
            "https://u:p@hooks.example.com/in?token=x",
            "a secret of some length",
        )
        .unwrap();
        assert!(
            !format!("{settings:?}").contains("secret of"),
            "the secret is never printed"
        );
        assert_eq!(settings.shown_url(), "https://hooks.example.com/in");
    }
}
