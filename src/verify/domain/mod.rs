//! Verification's policy: what a key grants, what a request asks for, and the
//! answer, with the message that tells the client what to fix. [`judge`] is
//! a pure function; the cache and the database work around it live in
//! `verifier` and `queries`.

pub mod extract;

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::apps::domain::AllowedIps;
use crate::apps::domain::key::KeyFormatError;
use crate::limits::{Quota, RateLimits, Refusal, Report, grouped};
use crate::roles::domain::rules::{Rule, Verb, granted_verbs, normalise_path};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
    IpNotAllowed,
    Forbidden,
    RateLimited,
    UsageExceeded,
}

impl Code {
    pub const ALL: [Code; 12] = [
        Code::Valid,
        Code::Missing,
        Code::Malformed,
        Code::NotFound,
        Code::Expired,
        Code::Inactive,
        Code::NoRole,
        Code::RoleInactive,
        Code::IpNotAllowed,
        Code::Forbidden,
        Code::RateLimited,
        Code::UsageExceeded,
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
            Code::IpNotAllowed => "IP_NOT_ALLOWED",
            Code::Forbidden => "FORBIDDEN",
            Code::RateLimited => "RATE_LIMITED",
            Code::UsageExceeded => "USAGE_EXCEEDED",
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

/// An app or role a decision names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Named {
    pub id: i32,
    pub name: String,
}

/// Everything verification needs to know about one key.
#[derive(Debug, Clone)]
pub struct KeyGrant {
    pub app_id: i32,
    pub app_name: String,
    pub app_active: bool,
    /// Shared by the keys that have the role: its rules are kept once.
    pub role: Option<Arc<RoleGrant>>,
    /// The app's expiry, if it has one.
    pub expires_at: Option<NaiveDateTime>,
    /// Set when the presented key is the app's previous key (rolled over):
    /// when its grace period ends.
    pub replaced_until: Option<NaiveDateTime>,
    /// Its addresses, rate limits and quota, if it has any of them
    /// ([`KeyGrant::limits`]).
    pub limits: Option<Box<KeyLimits>>,
}

/// What few keys have: where they may be used from, their own rate limits
/// and a quota. Boxed, and absent for the many keys with none of them, so
/// that a cached key stays small (the verification cache holds a million).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyLimits {
    /// Where the key may be used from; empty: anywhere.
    pub allowed_ips: AllowedIps,
    /// The key's own rate limits; empty: its role's.
    pub rate_limits: RateLimits,
    pub quota: Option<Quota>,
}

/// A key's limits when it has none.
static NO_LIMITS: KeyLimits = KeyLimits {
    allowed_ips: AllowedIps::NONE,
    rate_limits: RateLimits::NONE,
    quota: None,
};

impl KeyLimits {
    /// Boxed for a [`KeyGrant`], or `None` when it holds nothing.
    pub fn boxed(self) -> Option<Box<KeyLimits>> {
        (self != NO_LIMITS).then(|| Box::new(self))
    }
}

impl KeyGrant {
    /// The key's addresses, rate limits and quota (all empty when it has
    /// none).
    pub fn limits(&self) -> &KeyLimits {
        self.limits.as_deref().unwrap_or(&NO_LIMITS)
    }

    /// The rate limits the key is held to: its own, else its role's.
    pub fn rate_limits(&self) -> &RateLimits {
        let own = &self.limits().rate_limits;
        match &self.role {
            Some(role) if own.is_empty() => &role.rate_limits,
            _ => own,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RoleGrant {
    pub id: i32,
    pub name: String,
    pub active: bool,
    pub rules: Vec<Rule>,
    /// The limits of its keys that set none of their own.
    pub rate_limits: RateLimits,
}

/// A service as verification sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceInfo {
    pub id: i32,
    pub active: bool,
}

/// The answer for one key and (optionally) one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub code: Code,
    pub message: Cow<'static, str>,
    pub app: Option<Named>,
    pub role: Option<Named>,
    /// Whether the target was allowed; `None` when no target was asked about.
    pub allowed: Option<bool>,
    /// Where the key stands against its limits, for a key that has any and
    /// got as far as them.
    pub limits: Option<Report>,
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
            limits: None,
        }
    }

    /// No key in the request.
    pub fn missing() -> Self {
        Decision::refused(
            Code::Missing,
            "No API key was sent. Send it in the X-API-Key header (or X-DreamFactory-API-Key, \
             Authorization: Bearer, or the api_key query parameter).",
        )
    }

    /// A key that cannot be one (refused before any look-up).
    pub fn malformed(why: KeyFormatError) -> Self {
        Decision::refused(Code::Malformed, format!("The API key is malformed: {why}."))
    }

    /// A well-formed key that no app has.
    pub fn not_found() -> Self {
        Decision::refused(Code::NotFound, "The API key is not known to keyward.")
    }

    /// True when the key was presented by an app that may use it at all (the
    /// answers past the expiry and Active checks): such a use counts as the
    /// app's last use.
    pub fn counts_as_use(&self) -> bool {
        matches!(
            self.code,
            Code::Valid
                | Code::NoRole
                | Code::RoleInactive
                | Code::Forbidden
                | Code::RateLimited
                | Code::UsageExceeded
        )
    }

    /// A valid decision turned down by the key's limits: `report` says where
    /// it stands, `at` is when (Unix seconds).
    pub fn limited(mut self, refusal: Refusal, report: Report) -> Self {
        let retry = report.retry_after(refusal);
        let app = self.app.as_ref().map_or("", |app| app.name.as_str());
        (self.code, self.message) = match refusal {
            Refusal::Rate(limit) => (
                Code::RateLimited,
                format!(
                    "The app “{app}” has made its {} requests per {}: retry in {} seconds.",
                    grouped(limit.limit),
                    limit.window_text(),
                    retry.unwrap_or(1)
                )
                .into(),
            ),
            Refusal::Quota(quota) => (
                Code::UsageExceeded,
                match retry {
                    Some(seconds) => format!(
                        "The app “{app}” has used its quota of {}: it refills in {seconds} seconds.",
                        quota.describe()
                    ),
                    None => format!(
                        "The app “{app}” has used its quota of {}, which is not refilled.",
                        quota.describe()
                    ),
                }
                .into(),
            ),
        };
        if self.allowed.is_some() {
            self.allowed = Some(false);
        }
        self.limits = Some(report);
        self
    }
}

/// Judges a known key and, if given, a request against what it grants, at
/// `now`, for a request from `client` (`None`: an address keyward could not
/// tell, which no allowed-address list allows). `service` is the service the target
/// names, `None` when there is no such service (ignored without a target). In
/// order: a replaced key past its grace period, the expiry, the app's Active
/// switch, the address the request came from, its role, the role's Active
/// switch, then the service and the most specific rules.
pub fn judge(
    grant: &KeyGrant,
    target: Option<&Target>,
    client: Option<IpAddr>,
    service: Option<ServiceInfo>,
    now: NaiveDateTime,
) -> Decision {
    let decide = |code, message: Cow<'static, str>, allowed| Decision {
        code,
        message,
        app: Some(Named {
            id: grant.app_id,
            name: grant.app_name.clone(),
        }),
        role: grant.role.as_ref().map(|r| Named {
            id: r.id,
            name: r.name.clone(),
        }),
        allowed,
        limits: None,
    };
    if let Some(until) = grant.replaced_until
        && until <= now
    {
        return decide(
            Code::Expired,
            format!(
                "This key was replaced by a new one and stopped working at {} UTC. Use the new key.",
                until.format("%Y-%m-%d %H:%M")
            )
            .into(),
            None,
        );
    }
    if let Some(expires_at) = grant.expires_at
        && expires_at <= now
    {
        return decide(
            Code::Expired,
            format!(
                "The API key expired at {} UTC.",
                expires_at.format("%Y-%m-%d %H:%M")
            )
            .into(),
            None,
        );
    }
    if !grant.app_active {
        return decide(
            Code::Inactive,
            format!("The app “{}” is inactive.", grant.app_name).into(),
            None,
        );
    }
    let from_allowed = match client {
        Some(ip) => grant.limits().allowed_ips.allows(ip),
        None => grant.limits().allowed_ips.is_empty(),
    };
    if !from_allowed {
        let from = client.map_or_else(
            || "an address keyward could not tell".to_owned(),
            |ip| ip.to_canonical().to_string(),
        );
        return decide(
            Code::IpNotAllowed,
            format!(
                "The app “{}” may not be used from {from}: its allowed addresses do not include it.",
                grant.app_name
            )
            .into(),
            None,
        );
    }
    let Some(role) = &grant.role else {
        return decide(
            Code::NoRole,
            format!(
                "The app “{}” has no role, so it may call nothing.",
                grant.app_name
            )
            .into(),
            None,
        );
    };
    if !role.active {
        return decide(
            Code::RoleInactive,
            format!("The role “{}” is inactive.", role.name).into(),
            None,
        );
    }
    let Some(target) = target else {
        return decide(Code::Valid, "The API key is valid.".into(), None);
    };
    let refusal = match service {
        None => Some(format!("There is no service named “{}”.", target.service)),
        Some(service) if !service.active => {
            Some(format!("The service “{}” is inactive.", target.service))
        }
        Some(service) => {
            let verbs = granted_verbs(&role.rules, service.id, &target.component);
            (!verbs.contains(target.verb)).then(|| {
                let component = normalise_path(&target.component);
                let place = if component.is_empty() {
                    format!("the root of {}", target.service)
                } else {
                    format!("{}/{component}", target.service)
                };
                format!(
                    "The role “{}” does not allow {} on {place}.",
                    role.name,
                    target.verb.as_str()
                )
            })
        }
    };
    match refusal {
        None => decide(
            Code::Valid,
            "The API key is valid and allowed.".into(),
            Some(true),
        ),
        Some(message) => decide(Code::Forbidden, message.into(), Some(false)),
    }
}

#[cfg(test)]
mod tests;
