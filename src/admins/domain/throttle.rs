//! Sign-in throttling, the rules: after repeated failed sign-ins for one
//! account or from one client address, further attempts are refused for a
//! while (`queries::throttle` keeps the counts).
//!
//! The counts live in the database (`login_throttle`), not in memory: every
//! instance behind a load balancer shares them, and restarting keyward does
//! not hand an attacker a fresh allowance.
//!
//! Each subject (an account, keyed by the SHA-256 of its normalised email so
//! the table holds no addresses, or a client IP) counts failures within a
//! [`WINDOW`] that starts at its first failure. At [`ACCOUNT_LIMIT`] (account)
//! or [`ADDRESS_LIMIT`] (address) failures it is locked for [`LOCKOUT`]; while
//! the window lasts, each further failure locks it again, so a guesser gets one
//! try a minute. Refused attempts are not counted and the password is not even
//! checked, so a lock always ends [`LOCKOUT`] after the last real failure and
//! the whole count is forgotten once the window has passed: the throttle
//! cannot lock an account out for good. A successful sign-in clears its
//! account's count (not its address's, or one valid account would let an
//! attacker reset the address limit while guessing at others).
//!
//! The check, the password hash and the count happen within one hashing turn
//! (`crate::hashing`), so attempts queued behind it see its count: a burst can
//! overshoot a limit by no more than the hashes running at once.
//!
//! The address is the client's (see [`crate::proxy`]): the TCP peer, or the
//! address a trusted proxy names. IPv6 addresses count by their /64, the
//! block one subscriber is usually given, so hopping between the addresses
//! of one network buys nothing.

use chrono::{NaiveDateTime, TimeDelta};
use sha2::{Digest, Sha256};

/// Failures for one account before it is locked.
pub const ACCOUNT_LIMIT: i32 = 5;
/// Failures from one address before it is locked (several people may share it).
pub const ADDRESS_LIMIT: i32 = ACCOUNT_LIMIT * 4;
/// How long a lock lasts after the failure that set it.
pub const LOCKOUT: TimeDelta = TimeDelta::seconds(60);
/// How long failures are remembered, counted from the first one.
pub const WINDOW: TimeDelta = TimeDelta::minutes(15);

/// What a sign-in attempt is counted against.
#[derive(Debug, Clone)]
pub struct Subjects {
    account: String,
    address: Option<String>,
}

impl Subjects {
    /// `email` as typed (it is normalised here); `address` the client's IP.
    pub fn new(email: &str, address: Option<std::net::IpAddr>) -> Self {
        let normalised = email.trim().to_lowercase();
        Subjects {
            account: format!("account:{}", hex::encode(Sha256::digest(normalised))),
            address: address.map(|ip| format!("address:{}", network_of(ip))),
        }
    }

    /// The account's subject.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Each subject with its limit.
    pub fn each(&self) -> impl Iterator<Item = (&str, i32)> {
        std::iter::once((self.account.as_str(), ACCOUNT_LIMIT))
            .chain(self.address.as_deref().map(|a| (a, ADDRESS_LIMIT)))
    }
}

/// What an address is counted as: an IPv4 address alone, an IPv6 address by
/// its /64.
fn network_of(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        },
    }
}

/// What a password check under the throttle came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The account or address is locked; the password was not checked.
    Refused { until: NaiveDateTime },
    /// Wrong password, or no such (active) account; counted as a failure.
    Wrong,
    /// The password is right for this administrator; their count is cleared.
    Right(i32),
}

/// The message the login page shows while refusing, and the whole seconds
/// until the next attempt (for `Retry-After`).
pub fn refusal(until: NaiveDateTime, now: NaiveDateTime) -> (String, i64) {
    let seconds = ((until - now).num_milliseconds().max(1) + 999) / 1000;
    let unit = if seconds == 1 { "second" } else { "seconds" };
    (
        format!("Too many failed sign-ins. Try again in {seconds} {unit}."),
        seconds,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_rounds_up_to_whole_seconds() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        assert_eq!(
            refusal(now + LOCKOUT, now),
            (
                "Too many failed sign-ins. Try again in 60 seconds.".into(),
                60
            )
        );
        assert_eq!(
            refusal(now + TimeDelta::milliseconds(200), now),
            ("Too many failed sign-ins. Try again in 1 second.".into(), 1)
        );
    }

    #[test]
    fn accounts_are_keyed_by_normalised_email_without_storing_it() {
        let a = Subjects::new(" Admin@Example.com ", None);
        let b = Subjects::new("admin@example.com", None);
        assert_eq!(a.account, b.account);
        assert!(!a.account.contains("example"));
        assert_eq!(a.each().count(), 1);
        let ip = Subjects::new("a@b", Some([127, 0, 0, 1].into()));
        assert_eq!(
            ip.each().collect::<Vec<_>>()[1],
            ("address:127.0.0.1", ADDRESS_LIMIT)
        );
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let address = |ip: &str| {
            Subjects::new("a@b", Some(ip.parse().unwrap()))
                .address
                .unwrap()
        };
        assert_eq!(address("2001:db8:1:2::1"), "address:2001:db8:1:2::/64");
        assert_eq!(
            address("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            address("2001:db8:1:2::1")
        );
        assert_ne!(address("2001:db8:1:3::1"), address("2001:db8:1:2::1"));
        assert_eq!(address("::ffff:192.0.2.1"), "address:192.0.2.1");
        assert_eq!(address("192.0.2.1"), "address:192.0.2.1");
    }
}
