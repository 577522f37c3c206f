//! Writes to the `apps` table. Each runs in one transaction with its audit
//! event (and, for a change to an existing app, what it made stale in the
//! verification caches), and describes the app to the audit log in the
//! console's words ([`snapshot`]).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::{AppDetail, detail, is_storage_service, role_exists};
use crate::apps::domain::{ApiKey, AppLocation, LegacyKey, NewApp};
use crate::db::audit::{self, Action, Actor, ObjectKind, Snapshot, Subject};
use crate::db::{DbConn, changes, is_unique_violation};
use crate::schema::apps;

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("an application with this name already exists")]
    NameTaken,
    #[error("the role does not exist")]
    UnknownRole,
    #[error("the storage service does not exist or is not a file storage service")]
    UnknownStorageService,
    #[error("another application already has this key")]
    KeyTaken,
    #[error(transparent)]
    Db(#[from] DieselError),
}

/// Refuses a role or storage service that does not exist (or is not file storage).
fn check_references(conn: &mut DbConn, app: &NewApp) -> Result<(), InsertError> {
    if let Some(role_id) = app.role_id
        && !role_exists(conn, role_id)?
    {
        return Err(InsertError::UnknownRole);
    }
    if let AppLocation::FileStorage { service_id, .. } = app.location
        && !service_id.is_some_and(|id| is_storage_service(conn, id).unwrap_or(false))
    {
        return Err(InsertError::UnknownStorageService);
    }
    Ok(())
}

/// A failed write's error as the form shows it.
fn write_error(conn: &mut DbConn, app: &NewApp, error: DieselError) -> InsertError {
    match error {
        e if is_unique_violation(&e) => InsertError::NameTaken,
        // The role or service was deleted between the check and the write.
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            match app.role_id {
                Some(role_id) if !role_exists(conn, role_id).unwrap_or(false) => {
                    InsertError::UnknownRole
                }
                _ => InsertError::UnknownStorageService,
            }
        }
        e => InsertError::Db(e),
    }
}

/// The columns the Create and Edit Application forms write.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = apps, treat_none_as_null = true)]
struct AppFields<'a> {
    name: &'a str,
    description: &'a str,
    is_active: bool,
    location: i32,
    storage_service_id: Option<i32>,
    storage_container: Option<&'a str>,
    path: Option<&'a str>,
    url: Option<&'a str>,
    role_id: Option<i32>,
    expires_at: Option<NaiveDateTime>,
    allowed_ips: Option<String>,
    rate_limits: Option<String>,
    quota_total: Option<i64>,
    quota_refill: Option<&'static str>,
    updated_at: NaiveDateTime,
    updated_by_id: Option<i32>,
}

impl<'a> AppFields<'a> {
    fn new(app: &'a NewApp, admin_id: Option<i32>, now: NaiveDateTime) -> Self {
        let location = app.location.stored();
        AppFields {
            name: app.name.as_str(),
            description: &app.description,
            is_active: app.is_active,
            location: location.code,
            storage_service_id: location.storage_service_id,
            storage_container: location.storage_container,
            path: location.path,
            url: location.url,
            role_id: app.role_id,
            expires_at: app.expires_at,
            allowed_ips: app.allowed_ips.stored(),
            rate_limits: app.rate_limits.stored(),
            quota_total: app.quota.map(|q| q.total as i64),
            quota_refill: app.quota.map(|q| q.refill.as_str()),
            updated_at: now,
            updated_by_id: admin_id,
        }
    }
}

/// The key a new app is written with: its hash and display prefix.
struct NewKey {
    hash: String,
    prefix: String,
    legacy: bool,
}

/// Writes a new app with the hash and display prefix of its key, and its
/// audit event. Every write here is one [`crate::db::write`] (on SQLite it holds
/// the write lock from the start, and the search index's triggers need that);
/// the change lock comes first where the audit log needs to read the app
/// before changing it. A new key makes nothing
/// stale: made here from 256 random bits, no instance can have seen it.
pub fn insert(
    conn: &mut DbConn,
    app: &NewApp,
    key: &ApiKey,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<i32, InsertError> {
    let key = NewKey {
        hash: key.hash(),
        prefix: key.display_prefix(),
        legacy: false,
    };
    insert_with(conn, app, key, actor, now)
}

/// Writes a new app that keeps its DreamFactory key (stored as its SHA-256
/// and marked legacy). Unlike a new `kw_` key, an imported one may have been
/// presented before and cached as unknown, so the caches are told it exists.
/// A key another app already has is [`InsertError::KeyTaken`].
pub fn insert_legacy(
    conn: &mut DbConn,
    app: &NewApp,
    key: &LegacyKey,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<i32, InsertError> {
    let hash = key.hash();
    if key_taken(conn, &hash)? {
        return Err(InsertError::KeyTaken);
    }
    let new = NewKey {
        hash: hash.clone(),
        prefix: key.display_prefix(),
        legacy: true,
    };
    crate::db::write(conn, |conn| {
        let id = insert_with(conn, app, new, actor, now)?;
        changes::key_exists(conn, &hash)?;
        Ok(id)
    })
}

/// Whether some app's current or previous key has this hash.
pub fn key_taken(conn: &mut DbConn, hash: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        apps::table.filter(apps::key_hash.eq(hash).or(apps::previous_key_hash.eq(hash))),
    ))
    .get_result(conn)
}

fn insert_with(
    conn: &mut DbConn,
    app: &NewApp,
    key: NewKey,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<i32, InsertError> {
    check_references(conn, app)?;
    let result = crate::db::write(conn, |conn| {
        let id = diesel::insert_into(apps::table)
            .values((
                AppFields::new(app, actor.admin_id, now),
                apps::key_hash.eq(key.hash),
                apps::key_prefix.eq(key.prefix),
                apps::legacy_key.eq(key.legacy),
                apps::created_at.eq(now),
                apps::created_by_id.eq(actor.admin_id),
            ))
            .returning(apps::id)
            .get_result::<i32>(conn)?;
        audit::record_created(conn, subject(id), actor, now)?;
        Ok(id)
    });
    result.map_err(|e| write_error(conn, app, e))
}

/// App `id` for [`audit::record_change`].
fn subject(id: i32) -> Subject {
    Subject {
        kind: ObjectKind::App,
        id,
        snapshot,
    }
}

/// An app as the audit log describes it: its form fields in the console's
/// words, and its key only by display prefix.
pub fn snapshot(conn: &mut DbConn, id: i32) -> QueryResult<Option<Snapshot>> {
    let Some(AppDetail {
        app,
        role_name,
        storage_service_label,
        ..
    }) = detail(conn, id)?
    else {
        return Ok(None);
    };
    let time = |at: NaiveDateTime| at.format("%Y-%m-%d %H:%M UTC").to_string();
    let mut fields = vec![
        ("Application Name", app.name.clone()),
        ("Description", app.description.clone()),
        ("Active", audit::yes_no(app.is_active)),
        ("App Location", app.location.label().to_owned()),
    ];
    let stored = app.location.stored();
    let optional = [
        ("Storage Service", storage_service_label),
        (
            "Storage Folder",
            stored.storage_container.map(str::to_owned),
        ),
        ("Path", stored.path.map(str::to_owned)),
        ("URL", stored.url.map(str::to_owned)),
    ];
    fields.extend(
        optional
            .into_iter()
            .filter_map(|(field, value)| value.map(|v| (field, v))),
    );
    fields.push(("Default Role", role_name.unwrap_or_else(|| "none".into())));
    fields.push((
        "Expires",
        app.expires_at.map_or_else(|| "never".into(), time),
    ));
    fields.push((
        "Allowed addresses",
        if app.allowed_ips.is_empty() {
            "anywhere".into()
        } else {
            app.allowed_ips.to_string()
        },
    ));
    fields.push((
        "Rate limits",
        if app.rate_limits.is_empty() {
            "the role's".into()
        } else {
            app.rate_limits.describe()
        },
    ));
    fields.push((
        "Quota",
        app.quota.map_or_else(|| "none".into(), |q| q.describe()),
    ));
    fields.push((
        "Key",
        if app.legacy_key {
            format!("{}… (imported from DreamFactory)", app.key_prefix)
        } else {
            format!("{}…", app.key_prefix)
        },
    ));
    if let Some(until) = app.previous_key_expires_at {
        fields.push(("Old key works until", time(until)));
    }
    Ok(Some(Snapshot {
        name: app.name,
        fields,
    }))
}

/// Saves an edited app (every field of the form; the key is untouched).
/// `Ok(false)` when the app no longer exists.
pub fn update(
    conn: &mut DbConn,
    id: i32,
    app: &NewApp,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<bool, InsertError> {
    check_references(conn, app)?;
    let result = audit::record_change(conn, subject(id), Action::Updated, actor, now, |conn| {
        diesel::update(apps::table.find(id))
            .set(AppFields::new(app, actor.admin_id, now))
            .execute(conn)
            .map(|_| ())
    });
    result
        .map(|found| found.is_some())
        .map_err(|e| write_error(conn, app, e))
}

/// Replaces an app's key. With a grace period the old key keeps working
/// until `old_key_until`; without one it stops at once. A key still in an
/// earlier grace period stops now either way. `Ok(false)`: no such app.
pub fn roll(
    conn: &mut DbConn,
    id: i32,
    new_key: &ApiKey,
    old_key_until: Option<NaiveDateTime>,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    audit::record_change(conn, subject(id), Action::KeyRolled, actor, now, |conn| {
        // The old hash is read in the same statement that replaces it.
        let new_key_columns = (
            apps::key_hash.eq(new_key.hash()),
            apps::key_prefix.eq(new_key.display_prefix()),
            apps::legacy_key.eq(false),
            apps::updated_at.eq(now),
            apps::updated_by_id.eq(actor.admin_id),
        );
        let target = diesel::update(apps::table.find(id));
        match old_key_until {
            Some(until) => target
                .set((
                    apps::previous_key_hash.eq(apps::key_hash.nullable()),
                    apps::previous_key_expires_at.eq(until),
                    new_key_columns,
                ))
                .execute(conn)
                .map(|_| ()),
            None => target
                .set((
                    apps::previous_key_hash.eq(None::<String>),
                    apps::previous_key_expires_at.eq(None::<NaiveDateTime>),
                    new_key_columns,
                ))
                .execute(conn)
                .map(|_| ()),
        }
    })
    .map(|found| found.is_some())
}

/// Deletes an app; returns its name, or `None` when it did not exist.
pub fn delete(
    conn: &mut DbConn,
    id: i32,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    audit::record_change(conn, subject(id), Action::Deleted, actor, now, |conn| {
        diesel::delete(apps::table.find(id))
            .execute(conn)
            .map(|_| ())
    })
}

/// Turns an app's key on or off. `Ok(false)` when the app does not exist.
pub fn set_active(
    conn: &mut DbConn,
    id: i32,
    active: bool,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    audit::record_change(conn, subject(id), Action::Updated, actor, now, |conn| {
        diesel::update(apps::table.find(id))
            .set((
                apps::is_active.eq(active),
                apps::updated_at.eq(now),
                apps::updated_by_id.eq(actor.admin_id),
            ))
            .execute(conn)
            .map(|_| ())
    })
    .map(|found| found.is_some())
}
