//! Sign-in throttling: after repeated failed sign-ins for one account or from
//! one client address, further attempts are refused for a while.
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
//! The check and the count are separate statements, not one transaction:
//! attempts already past the check when the limit is reached still finish,
//! so a burst can overshoot the limit by the attempts in flight at once (at
//! most the connection pool's size), never by more.
//!
//! The address is the client's (see [`crate::proxy`]): the TCP peer, or the
//! address a trusted proxy names. IPv6 addresses count by their /64, the
//! block one subscriber is usually given, so hopping between the addresses
//! of one network buys nothing.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::{self, DbConn, DbPool, is_unique_violation};
use crate::error::AppError;
use crate::schema::login_throttle;

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

    fn each(&self) -> impl Iterator<Item = (&str, i32)> {
        std::iter::once((self.account.as_str(), ACCOUNT_LIMIT))
            .chain(self.address.as_deref().map(|a| (a, ADDRESS_LIMIT)))
    }
}

/// When the attempt may be made again, if it is refused now.
pub fn locked_until(
    conn: &mut DbConn,
    subjects: &Subjects,
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    let mut until: Option<NaiveDateTime> = None;
    for (subject, _) in subjects.each() {
        let locked: Option<Option<NaiveDateTime>> = login_throttle::table
            .find(subject)
            .select(login_throttle::locked_until)
            .first(conn)
            .optional()?;
        if let Some(Some(at)) = locked
            && at > now
        {
            until = Some(until.map_or(at, |u| u.max(at)));
        }
    }
    Ok(until)
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

#[derive(Queryable)]
struct Row {
    failures: i32,
    window_started_at: NaiveDateTime,
}

/// Counts one failed sign-in against the account and the address.
pub fn record_failure(
    conn: &mut DbConn,
    subjects: &Subjects,
    now: NaiveDateTime,
) -> QueryResult<()> {
    for (subject, limit) in subjects.each() {
        record_one(conn, subject, limit, now)?;
    }
    // Forgotten failures go, so guessing at made-up emails cannot grow the table.
    diesel::delete(
        login_throttle::table
            .filter(login_throttle::window_started_at.lt(now - WINDOW))
            .filter(
                login_throttle::locked_until
                    .is_null()
                    .or(login_throttle::locked_until.lt(now)),
            ),
    )
    .execute(conn)?;
    Ok(())
}

/// Read, then a conditional write that only lands if nobody else counted in
/// between (another request or instance); portable to both backends and
/// never loses a count.
fn record_one(conn: &mut DbConn, subject: &str, limit: i32, now: NaiveDateTime) -> QueryResult<()> {
    let lock = |failures: i32| (failures >= limit).then_some(now + LOCKOUT);
    for _ in 0..10 {
        let row: Option<Row> = login_throttle::table
            .find(subject)
            .select((login_throttle::failures, login_throttle::window_started_at))
            .first(conn)
            .optional()?;
        let Some(row) = row else {
            match diesel::insert_into(login_throttle::table)
                .values((
                    login_throttle::subject.eq(subject),
                    login_throttle::failures.eq(1),
                    login_throttle::window_started_at.eq(now),
                    login_throttle::locked_until.eq(lock(1)),
                ))
                .execute(conn)
            {
                Err(e) if is_unique_violation(&e) => continue,
                other => return other.map(|_| ()),
            }
        };
        let (failures, started) = if row.window_started_at + WINDOW <= now {
            (1, now)
        } else {
            (row.failures.saturating_add(1), row.window_started_at)
        };
        let updated = diesel::update(
            login_throttle::table
                .find(subject)
                .filter(login_throttle::failures.eq(row.failures))
                .filter(login_throttle::window_started_at.eq(row.window_started_at)),
        )
        .set((
            login_throttle::failures.eq(failures),
            login_throttle::window_started_at.eq(started),
            login_throttle::locked_until.eq(lock(failures)),
        ))
        .execute(conn)?;
        if updated == 1 {
            return Ok(());
        }
    }
    // Ten lost races in a row: the failures of the others were counted.
    Ok(())
}

/// A successful sign-in forgets its account's failures.
pub fn record_success(conn: &mut DbConn, subjects: &Subjects) -> QueryResult<()> {
    diesel::delete(login_throttle::table.find(&subjects.account))
        .execute(conn)
        .map(|_| ())
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

/// Checks a password under the throttle, for sign-in and for the current
/// password of a password change. Waits for a hashing turn first; within it,
/// refuses a locked account or address without hashing, looks up the stored
/// hash with `find` (the administrator's id and hash, `None` when there is no
/// such active account, which is checked against a fixed hash so both take as
/// long), checks the password and counts the outcome. The count is written
/// before the turn ends, so attempts queued behind it see it: a burst can
/// overshoot a limit by no more than the hashes running at once.
pub async fn check_password<F>(
    pool: &DbPool,
    subjects: Subjects,
    now: NaiveDateTime,
    password: String,
    find: F,
) -> Result<Checked, AppError>
where
    F: FnOnce(&mut DbConn) -> QueryResult<Option<(i32, String)>> + Send + 'static,
{
    let permit = super::password::hashing_permit().await?;
    let looked_up = {
        let subjects = subjects.clone();
        db::run(pool, move |conn| {
            if let Some(until) = locked_until(conn, &subjects, now)? {
                return Ok(Err(until));
            }
            find(conn).map(Ok)
        })
        .await??
    };
    let admin = match looked_up {
        Err(until) => return Ok(Checked::Refused { until }),
        Ok(admin) => admin,
    };
    let (admin_id, stored) = admin.unzip();
    let right = permit.verify(password, stored).await?;
    let checked = match admin_id.filter(|_| right) {
        Some(id) => Checked::Right(id),
        None => Checked::Wrong,
    };
    db::run(pool, move |conn| match checked {
        Checked::Right(_) => record_success(conn, &subjects),
        _ => record_failure(conn, &subjects, now),
    })
    .await??;
    drop(permit);
    Ok(checked)
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
