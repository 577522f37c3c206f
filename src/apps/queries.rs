//! Queries on the `apps` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::domain::{AppLocation, NewApp};
use super::key::ApiKey;
use crate::db::{DbConn, is_unique_violation};
use crate::schema::{apps, roles};
use crate::{roles::queries as role_queries, services};

/// One row of the API Keys list.
#[derive(Debug, Clone, Queryable)]
pub struct AppListItem {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub key_prefix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub role_name: Option<String>,
}

/// The columns of a list row, in `AppListItem` order.
type ListColumns = (
    apps::id,
    apps::name,
    apps::description,
    apps::is_active,
    apps::key_prefix,
    apps::created_at,
    apps::last_used_at,
    diesel::dsl::Nullable<roles::name>,
);

fn list_columns() -> ListColumns {
    (
        apps::id,
        apps::name,
        apps::description,
        apps::is_active,
        apps::key_prefix,
        apps::created_at,
        apps::last_used_at,
        roles::name.nullable(),
    )
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<AppListItem>> {
    apps::table
        .left_join(roles::table)
        .order(apps::name.asc())
        .select(list_columns())
        .load(conn)
}

/// Name and display prefix of one app.
pub fn name_and_prefix(conn: &mut DbConn, id: i32) -> QueryResult<Option<(String, String)>> {
    apps::table
        .find(id)
        .select((apps::name, apps::key_prefix))
        .first(conn)
        .optional()
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("an application with this name already exists")]
    NameTaken,
    #[error("the role does not exist")]
    UnknownRole,
    #[error("the storage service does not exist or is not a file storage service")]
    UnknownStorageService,
    #[error(transparent)]
    Db(#[from] DieselError),
}

/// Writes a new app with the hash and display prefix of its key. Runs in one
/// transaction whose first statement is the write, so on SQLite it takes the
/// write lock at once and waits its turn instead of failing on a stale read.
pub fn insert(
    conn: &mut DbConn,
    app: &NewApp,
    key: &ApiKey,
    admin_id: i32,
    now: NaiveDateTime,
) -> Result<i32, InsertError> {
    if let Some(role_id) = app.role_id
        && !role_queries::exists(conn, role_id)?
    {
        return Err(InsertError::UnknownRole);
    }
    if let AppLocation::FileStorage { service_id, .. } = app.location
        && !services::is_file_storage(conn, service_id)?
    {
        return Err(InsertError::UnknownStorageService);
    }
    let (storage_service_id, storage_container, path, url) = match &app.location {
        AppLocation::NoStorage => (None, None, None, None),
        AppLocation::FileStorage {
            service_id,
            folder,
            launch_path,
        } => (
            Some(*service_id),
            Some(folder.as_str()),
            launch_path.as_deref(),
            None,
        ),
        AppLocation::WebServer { path } => (None, None, Some(path.as_str()), None),
        AppLocation::RemoteUrl { url } => (None, None, None, Some(url.as_str())),
    };
    let result = conn.transaction(|conn| {
        diesel::insert_into(apps::table)
            .values((
                apps::name.eq(app.name.as_str()),
                apps::description.eq(&app.description),
                apps::is_active.eq(app.is_active),
                apps::location.eq(app.location.code()),
                apps::storage_service_id.eq(storage_service_id),
                apps::storage_container.eq(storage_container),
                apps::path.eq(path),
                apps::url.eq(url),
                apps::role_id.eq(app.role_id),
                apps::key_hash.eq(key.hash()),
                apps::key_prefix.eq(key.display_prefix()),
                apps::created_at.eq(now),
                apps::updated_at.eq(now),
                apps::created_by_id.eq(admin_id),
                apps::updated_by_id.eq(admin_id),
            ))
            .returning(apps::id)
            .get_result::<i32>(conn)
            // A new key may sit in some instance's cache of unknown keys.
            .and_then(|id| crate::db::changes::bump(conn).map(|()| id))
    });
    match result {
        Ok(id) => Ok(id),
        Err(e) if is_unique_violation(&e) => Err(InsertError::NameTaken),
        // The role or service was deleted between the check and the insert.
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
            match app.role_id {
                Some(role_id) if !role_queries::exists(conn, role_id)? => {
                    Err(InsertError::UnknownRole)
                }
                _ => Err(InsertError::UnknownStorageService),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The stored form of an app, as the tests and later pages read it.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = apps)]
pub struct AppRow {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub location: i32,
    pub storage_service_id: Option<i32>,
    pub storage_container: Option<String>,
    pub path: Option<String>,
    pub url: Option<String>,
    pub role_id: Option<i32>,
    pub key_hash: String,
    pub key_prefix: String,
}

pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<AppRow>> {
    apps::table
        .find(id)
        .select(AppRow::as_select())
        .first(conn)
        .optional()
}

/// Turns an app's key on or off. `Ok(false)` when the app does not exist.
pub fn set_active(
    conn: &mut DbConn,
    id: i32,
    active: bool,
    admin_id: i32,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let updated = diesel::update(apps::table.find(id))
            .set((
                apps::is_active.eq(active),
                apps::updated_at.eq(now),
                apps::updated_by_id.eq(admin_id),
            ))
            .execute(conn)?;
        crate::db::changes::bump(conn)?;
        Ok(updated == 1)
    })
}

pub fn list_item(conn: &mut DbConn, id: i32) -> QueryResult<Option<AppListItem>> {
    apps::table
        .left_join(roles::table)
        .filter(apps::id.eq(id))
        .select(list_columns())
        .first(conn)
        .optional()
}
