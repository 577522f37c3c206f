//! The `admin_tokens` table. A token belongs to the administrator who made
//! it; deleting that administrator deletes their tokens, deactivating them
//! stops their tokens (the look-up joins the `admins` table on every request,
//! so both take effect on every instance at once). Revoking keeps the row.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::admins::domain::token::{AdminToken, NewToken, Scope};
use crate::db::audit::{self, Action, Actor, Event, FieldChange, ObjectKind, Snapshot, Subject};
use crate::db::{DbConn, is_unique_violation};
use crate::schema::{admin_tokens, admins};

/// A token as the tokens page lists it (never the token itself).
#[derive(Debug, Clone, Queryable)]
pub struct ListedToken {
    pub id: i32,
    pub name: String,
    pub token_prefix: String,
    scope: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub admin_id: i32,
    pub owner_email: String,
}

impl ListedToken {
    pub fn scope(&self) -> Scope {
        Scope::parse(&self.scope).unwrap_or(Scope::ReadOnly)
    }

    /// True while the token may be used (not revoked, not expired).
    pub fn is_live(&self, now: &NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > *now)
    }
}

/// Every token, newest first, with its administrator's email.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<ListedToken>> {
    admin_tokens::table
        .inner_join(admins::table)
        .order(admin_tokens::id.desc())
        .select((
            admin_tokens::id,
            admin_tokens::name,
            admin_tokens::token_prefix,
            admin_tokens::scope,
            admin_tokens::created_at,
            admin_tokens::expires_at,
            admin_tokens::last_used_at,
            admin_tokens::revoked_at,
            admin_tokens::admin_id,
            admins::email,
        ))
        .load(conn)
}

pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<ListedToken>> {
    admin_tokens::table
        .inner_join(admins::table)
        .filter(admin_tokens::id.eq(id))
        .select((
            admin_tokens::id,
            admin_tokens::name,
            admin_tokens::token_prefix,
            admin_tokens::scope,
            admin_tokens::created_at,
            admin_tokens::expires_at,
            admin_tokens::last_used_at,
            admin_tokens::revoked_at,
            admin_tokens::admin_id,
            admins::email,
        ))
        .first(conn)
        .optional()
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a token with this name exists")]
    NameTaken,
    #[error("the administrator does not exist or is inactive")]
    NoSuchAdmin,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Stores a new token for `admin_id` (only its hash and display prefix),
/// with its audit event, in one transaction.
pub fn insert(
    conn: &mut DbConn,
    admin_id: i32,
    token: &NewToken,
    secret: &AdminToken,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<i32, TokenError> {
    let result = crate::db::write(conn, |conn| {
        let id = diesel::insert_into(admin_tokens::table)
            .values((
                admin_tokens::admin_id.eq(admin_id),
                admin_tokens::name.eq(token.name.as_str()),
                admin_tokens::token_hash.eq(secret.hash()),
                admin_tokens::token_prefix.eq(secret.display_prefix()),
                admin_tokens::scope.eq(token.scope.as_str()),
                admin_tokens::created_at.eq(now),
                admin_tokens::expires_at.eq(token.expires_at(now)),
            ))
            .returning(admin_tokens::id)
            .get_result::<i32>(conn)?;
        let active = admins::table
            .find(admin_id)
            .filter(admins::is_active.eq(true))
            .count()
            .get_result::<i64>(conn)?;
        if active == 0 {
            return Err(diesel::result::Error::RollbackTransaction);
        }
        audit::record_created(conn, subject(id), actor, now)?;
        Ok(id)
    });
    result.map_err(|e| match e {
        e if is_unique_violation(&e) => TokenError::NameTaken,
        diesel::result::Error::RollbackTransaction => TokenError::NoSuchAdmin,
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        ) => TokenError::NoSuchAdmin,
        e => TokenError::Db(e),
    })
}

fn subject(id: i32) -> Subject {
    Subject {
        kind: ObjectKind::Token,
        id,
        snapshot,
    }
}

/// A token as the audit log describes it: by name and display prefix only.
fn snapshot(conn: &mut DbConn, id: i32) -> QueryResult<Option<Snapshot>> {
    let time = |at: NaiveDateTime| at.format("%Y-%m-%d %H:%M UTC").to_string();
    Ok(find(conn, id)?.map(|token| Snapshot {
        fields: vec![
            ("Name", token.name.clone()),
            ("Administrator", token.owner_email.clone()),
            ("Scope", token.scope().label().to_owned()),
            (
                "Expires",
                token.expires_at.map_or_else(|| "never".into(), time),
            ),
            ("Token", format!("{}…", token.token_prefix)),
        ],
        name: token.name,
    }))
}

/// Revokes a token; it stops working at once on every instance. Returns its
/// name, or `None` when there is no such token or it was revoked already.
pub fn revoke(
    conn: &mut DbConn,
    id: i32,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    crate::db::write(conn, |conn| {
        let revoked = diesel::update(
            admin_tokens::table
                .find(id)
                .filter(admin_tokens::revoked_at.is_null()),
        )
        .set(admin_tokens::revoked_at.eq(now))
        .execute(conn)?;
        if revoked == 0 {
            return Ok(None);
        }
        let Some(token) = find(conn, id)? else {
            return Ok(None);
        };
        let event = Event {
            kind: ObjectKind::Token,
            object_id: id,
            object_name: token.name.clone(),
            action: Action::Revoked,
            changes: vec![FieldChange {
                field: "Revoked".into(),
                before: Some("no".into()),
                after: Some("yes".into()),
            }],
        };
        audit::record(conn, actor, now, &event)?;
        Ok(Some(token.name))
    })
}

/// Who a presented token acts for, whatever its state.
#[derive(Debug, Clone, Queryable)]
pub struct TokenOwner {
    pub token_id: i32,
    pub name: String,
    scope: String,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub admin_id: i32,
    pub admin_email: String,
    pub admin_active: bool,
}

impl TokenOwner {
    pub fn scope(&self) -> Scope {
        Scope::parse(&self.scope).unwrap_or(Scope::ReadOnly)
    }
}

pub fn find_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<TokenOwner>> {
    admin_tokens::table
        .inner_join(admins::table)
        .filter(admin_tokens::token_hash.eq(hash))
        .select((
            admin_tokens::id,
            admin_tokens::name,
            admin_tokens::scope,
            admin_tokens::expires_at,
            admin_tokens::revoked_at,
            admin_tokens::last_used_at,
            admins::id,
            admins::email,
            admins::is_active,
        ))
        .first(conn)
        .optional()
}

/// Records a use of the token, at most one write a minute per token (call it
/// when [`needs_touch`]: on SQLite even an UPDATE that changes nothing takes
/// the write lock).
pub fn touch(conn: &mut DbConn, id: i32, now: NaiveDateTime) -> QueryResult<()> {
    crate::db::autocommit_write(conn, |conn| {
        diesel::update(
            admin_tokens::table.find(id).filter(
                admin_tokens::last_used_at
                    .is_null()
                    .or(admin_tokens::last_used_at.lt(now - TimeDelta::minutes(1))),
            ),
        )
        .set(admin_tokens::last_used_at.eq(now))
        .execute(conn)
    })
    .map(|_| ())
}

/// Whether `touch` would write: the stored last use is older than a minute.
pub fn needs_touch(last_used_at: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    last_used_at.is_none_or(|at| at < now - TimeDelta::minutes(1))
}
