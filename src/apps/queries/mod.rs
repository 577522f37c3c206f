//! The `apps` table: reading apps as domain types (this module), the API Keys
//! list ([`list`]) and its search ([`search`]), and every write with its
//! audit event ([`write`]).

pub mod list;
pub mod search;
pub mod write;

pub use self::list::quota_used;

/// What `app`'s quota has counted in the period `now` falls in (0 without one).
pub fn quota_used_by(conn: &mut DbConn, app: &App, now: NaiveDateTime) -> QueryResult<u64> {
    let Some(quota) = app.quota else {
        return Ok(0);
    };
    Ok(quota_used(conn, &[(app.id, quota)], now)?
        .get(&app.id)
        .copied()
        .unwrap_or(0))
}

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::listing::ListedApp;
use super::domain::{AllowedIps, App, AppLocation, StoredLocation};
use crate::db::DbConn;
use crate::limits::{Quota, RateLimits};
use crate::schema::{apps, roles, services};
use crate::services::domain::ServiceKind;

/// An app's row as stored; decoded into an [`App`] before it leaves here.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = apps)]
struct AppRow {
    id: i32,
    name: String,
    description: String,
    is_active: bool,
    location: i32,
    storage_service_id: Option<i32>,
    storage_container: Option<String>,
    path: Option<String>,
    url: Option<String>,
    role_id: Option<i32>,
    key_prefix: String,
    legacy_key: bool,
    expires_at: Option<NaiveDateTime>,
    previous_key_expires_at: Option<NaiveDateTime>,
    allowed_ips: Option<String>,
    rate_limits: Option<String>,
    quota_total: Option<i64>,
    quota_refill: Option<String>,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
}

impl AppRow {
    fn decode(self) -> App {
        let location = AppLocation::from_stored(StoredLocation {
            code: self.location,
            storage_service_id: self.storage_service_id,
            storage_container: self.storage_container.as_deref(),
            path: self.path.as_deref(),
            url: self.url.as_deref(),
        });
        App {
            id: self.id,
            name: self.name,
            description: self.description,
            is_active: self.is_active,
            location,
            role_id: self.role_id,
            key_prefix: self.key_prefix,
            legacy_key: self.legacy_key,
            expires_at: self.expires_at,
            previous_key_expires_at: self.previous_key_expires_at,
            allowed_ips: AllowedIps::from_stored(self.allowed_ips.as_deref()),
            rate_limits: RateLimits::from_stored(self.rate_limits.as_deref()),
            quota: Quota::from_stored(self.quota_total, self.quota_refill.as_deref()),
            created_at: self.created_at,
            last_used_at: self.last_used_at,
        }
    }
}

pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<App>> {
    apps::table
        .find(id)
        .select(AppRow::as_select())
        .first(conn)
        .optional()
        .map(|row| row.map(AppRow::decode))
}

/// An app with what its pages show beside it.
#[derive(Debug, Clone)]
pub struct AppDetail {
    pub app: App,
    /// The name (path segment) of its storage service, if it has one.
    pub storage_service_name: Option<String>,
    pub role_name: Option<String>,
    pub storage_service_label: Option<String>,
    /// The rate limits its role gives the keys without their own.
    pub role_rate_limits: RateLimits,
}

pub fn detail(conn: &mut DbConn, id: i32) -> QueryResult<Option<AppDetail>> {
    let found = apps::table
        .left_join(services::table)
        .left_join(roles::table)
        .filter(apps::id.eq(id))
        .select((
            AppRow::as_select(),
            services::name.nullable(),
            services::label.nullable(),
            roles::name.nullable(),
            roles::rate_limits.nullable(),
        ))
        .first::<(
            AppRow,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        )>(conn)
        .optional()?;
    Ok(found.map(
        |(row, storage_service_name, storage_service_label, role_name, role_limits)| AppDetail {
            app: row.decode(),
            storage_service_name,
            role_name,
            storage_service_label,
            role_rate_limits: RateLimits::from_stored(role_limits.as_deref()),
        },
    ))
}

/// A row of the list, by id, its quota's balance at `now`.
pub fn list_item(conn: &mut DbConn, id: i32, now: NaiveDateTime) -> QueryResult<Option<ListedApp>> {
    Ok(list::items(conn, &[id], now)?.pop())
}

/// Name and display prefix of one app.
pub fn name_and_prefix(conn: &mut DbConn, id: i32) -> QueryResult<Option<(String, String)>> {
    apps::table
        .find(id)
        .select((apps::name, apps::key_prefix))
        .first(conn)
        .optional()
}

/// A role as "Assign a Default Role" offers it.
#[derive(Debug, Clone, Queryable)]
pub struct RoleChoice {
    pub id: i32,
    pub name: String,
    pub is_active: bool,
}

/// A file-storage service as "Storage Service" offers it.
#[derive(Debug, Clone, Queryable)]
pub struct StorageChoice {
    pub id: i32,
    pub name: String,
    pub label: String,
}

/// The roles "Assign a Default Role" offers, by name.
pub fn role_choices(conn: &mut DbConn) -> QueryResult<Vec<RoleChoice>> {
    roles::table
        .order(roles::name.asc())
        .select((roles::id, roles::name, roles::is_active))
        .load(conn)
}

/// The active file-storage services "Storage Service" offers, by label; the
/// first is the form's default, as DreamFactory preselects its own.
pub fn storage_service_choices(conn: &mut DbConn) -> QueryResult<Vec<StorageChoice>> {
    services::table
        .filter(services::kind.eq(ServiceKind::File.as_str()))
        .filter(services::is_active.eq(true))
        .order(services::label.asc())
        .select((services::id, services::name, services::label))
        .load(conn)
}

fn role_exists(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(roles::table.find(id))).get_result(conn)
}

/// True when `id` is an active file-storage service.
fn is_storage_service(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        services::table
            .find(id)
            .filter(services::kind.eq(ServiceKind::File.as_str()))
            .filter(services::is_active.eq(true)),
    ))
    .get_result(conn)
}
