//! DreamFactory sessions, as keyward makes them: a session token in the
//! secret format of keys and admin tokens (`crate::secret`) with the prefix
//! `kws_`, living [`LIFETIME`], and the session object DreamFactory answers.

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::{Value, json};

use super::shapes::date;
use crate::secret::{Kind, Typed};

pub const PREFIX: &str = "kws_";
/// A session ends this long after signing in (DreamFactory's default JWT TTL
/// is shorter, but its refresh is something scripts do not do).
pub const LIFETIME: TimeDelta = TimeDelta::hours(24);
/// How a change made through a session is named in the audit log.
pub const VIA: &str = "DreamFactory session";

/// The kind of DreamFactory session tokens.
pub enum SessionKind {}

impl Kind for SessionKind {
    const PREFIX: &'static str = PREFIX;
    const NAME: &'static str = "SessionToken";
}

/// A whole session token; `Debug` never prints it.
pub type SessionToken = Typed<SessionKind>;

/// The administrator a session is for, as its answer shows them.
#[derive(Debug, Clone)]
pub struct SessionAdmin {
    pub session_id: i32,
    pub admin_id: i32,
    pub email: String,
    pub name: String,
    pub last_login_at: Option<NaiveDateTime>,
    pub expires_at: NaiveDateTime,
}

/// DreamFactory's session object; the token only in the sign-in's answer.
pub fn session_json(admin: &SessionAdmin, token: Option<&str>, host: &str) -> Value {
    let (first, last) = match admin.name.trim().split_once(' ') {
        Some((first, last)) => (first.to_owned(), last.trim().to_owned()),
        None => (admin.name.trim().to_owned(), String::new()),
    };
    let mut answer = json!({
        "session_id": admin.session_id.to_string(),
        "id": admin.admin_id,
        "name": admin.name,
        "first_name": first,
        "last_name": last,
        "email": admin.email,
        "is_sys_admin": true,
        "last_login_date": admin.last_login_at.map(date),
        "host": host,
        "token_expiry_date": date(admin.expires_at),
    });
    if let Some(token) = token {
        answer["session_token"] = json!(token);
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_answers_hold_them_only_when_asked() {
        let token = SessionToken::generate();
        assert!(token.expose().starts_with("kws_"));
        assert_eq!(SessionToken::parse(token.expose()).unwrap(), token);
        assert!(SessionToken::parse("kwa_x").is_err());
        assert!(!format!("{token:?}").contains(token.expose()));
        let admin = SessionAdmin {
            session_id: 4,
            admin_id: 1,
            email: "ada@example.com".into(),
            name: "Ada King Lovelace".into(),
            last_login_at: None,
            expires_at: chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        };
        let answer = session_json(&admin, None, "keyward");
        assert!(answer.get("session_token").is_none());
        assert_eq!(
            (answer["first_name"].clone(), answer["last_name"].clone()),
            (json!("Ada"), json!("King Lovelace"))
        );
        assert_eq!(answer["token_expiry_date"], "2026-12-02 00:00:00");
        assert_eq!(
            session_json(&admin, Some("kws_x"), "h")["session_token"],
            "kws_x"
        );
    }
}
