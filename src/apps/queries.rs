//! Queries on the `apps` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::domain::{AppLocation, NewApp};
use super::key::ApiKey;
use super::list::{Cursor, Direction, ListQuery, Page, Sort, SortValue, Status};
use crate::audit::{self, Action, Actor, Event, ObjectKind, Snapshot, Subject};
use crate::db::{DbConn, MultiBackend, changes, is_unique_violation};
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
    pub expires_at: Option<NaiveDateTime>,
}

impl AppListItem {
    pub fn expired_at(&self, now: &NaiveDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= *now)
    }
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
    apps::expires_at,
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
        apps::expires_at,
    )
}

/// One page of the API Keys list.
#[derive(Debug, Clone)]
pub struct AppPage {
    pub apps: Vec<AppListItem>,
    pub has_previous: bool,
    pub has_next: bool,
}

/// One page of the list as `query` asks for it, by keyset pagination: a page
/// continues from its cursor's (sort value, id) with `LIMIT per_page + 1`, the
/// extra row telling whether another page follows. Each query seeks into an
/// index on the sort column (see the `apps_list_indexes` migration) and reads
/// about one page of it, however many apps there are; nothing counts rows.
/// The status filter has indexes led by `is_active`, so it seeks too.
///
/// Search is a substring match (`LIKE '%q%'`) on name and description, which
/// no B-tree index can seek. So a search walks the sort index in order, tests
/// each app and stops at `per_page + 1` matches: cheap when the search matches
/// many apps (as the first letters typed do), and at worst one pass over all
/// apps when it matches few or none. The name indexes hold the description,
/// so that pass reads only the index on SQLite (about 15 ms for 100,000 apps;
/// `bench/list` measures it as "search-no-match").
///
/// The walk reads ids only, which SQLite answers from the index alone (it
/// would not pick the covering index if the other columns were asked for), and
/// the page's rows are read by id afterwards.
/// `now` decides which keys count as expired for the "Expired" filter.
pub fn list(conn: &mut DbConn, query: &ListQuery, now: NaiveDateTime) -> QueryResult<AppPage> {
    let full = usize::try_from(query.per_page).unwrap_or(usize::MAX);
    let ascending = query.dir == Direction::Asc;
    let (mut ids, has_previous, has_next) = match &query.page {
        Page::First => {
            let ids = walk(conn, query, now, ascending, None, query.per_page + 1)?;
            let more = ids.len() > full;
            (ids, false, more)
        }
        Page::After(cursor) => {
            let ids = walk(
                conn,
                query,
                now,
                ascending,
                Some(cursor),
                query.per_page + 1,
            )?;
            let more = ids.len() > full;
            (ids, true, more)
        }
        Page::Before(cursor) => {
            // Walk backwards from the cursor, then turn the rows around.
            let mut ids = walk(
                conn,
                query,
                now,
                !ascending,
                Some(cursor),
                query.per_page + 1,
            )?;
            if ids.len() < full {
                // Less than a page before the cursor (apps were added or
                // removed meanwhile): the first page, full.
                return list(
                    conn,
                    &ListQuery {
                        page: Page::First,
                        ..query.clone()
                    },
                    now,
                );
            }
            let more = ids.len() > full;
            ids.truncate(full);
            ids.reverse();
            (ids, more, true)
        }
    };
    ids.truncate(full);
    Ok(AppPage {
        apps: list_items(conn, &ids)?,
        has_previous,
        has_next,
    })
}

/// The list rows of `ids`, in that order (an app deleted meanwhile is left out).
fn list_items(conn: &mut DbConn, ids: &[i32]) -> QueryResult<Vec<AppListItem>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut items: Vec<AppListItem> = apps::table
        .left_join(roles::table)
        .filter(apps::id.eq_any(ids))
        .select(list_columns())
        .load(conn)?;
    let position: std::collections::HashMap<i32, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    items.sort_by_key(|item| position.get(&item.id).copied());
    Ok(items)
}

/// A stretch of the list that one index seek serves.
///
/// A page continues after its cursor (value, id): first the apps that share
/// the cursor's value, after its id, then the apps beyond its value. Two
/// ranges rather than one row comparison `(column, id) > (value, id)`, because
/// SQLite seeks such a comparison on its first column only and would then read
/// every app that shares the value (all of them, for keys imported at once).
///
/// `last_used_at` is NULL for keys never used, which SQLite sorts first and
/// PostgreSQL last; never-used keys are a range of their own (by id), placed
/// before the used ones in ascending order on both.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Range {
    /// Apps whose sort value is `value` (`Never`: never used), by id, after
    /// `after_id` when given.
    Equal {
        value: SortValue,
        after_id: Option<i32>,
    },
    /// Apps whose (non-null) sort value lies beyond `value`, or all of them.
    Beyond(Option<SortValue>),
}

/// The ranges that make up the list from `cursor` (exclusive; else from the
/// start), walked in ascending or descending order.
fn ranges(sort: Sort, ascending: bool, cursor: Option<&Cursor>) -> Vec<Range> {
    let never = |after_id| Range::Equal {
        value: SortValue::Never,
        after_id,
    };
    let Some(Cursor { value, id }) = cursor else {
        return match (sort, ascending) {
            (Sort::LastUsed, true) => vec![never(None), Range::Beyond(None)],
            (Sort::LastUsed, false) => vec![Range::Beyond(None), never(None)],
            _ => vec![Range::Beyond(None)],
        };
    };
    let mut ranges = Vec::with_capacity(3);
    match value {
        SortValue::Never if ascending => {
            ranges.extend([never(Some(*id)), Range::Beyond(None)]);
        }
        SortValue::Never => ranges.push(never(Some(*id))),
        // Names are unique: no other app shares the cursor's name.
        SortValue::Name(_) => ranges.push(Range::Beyond(Some(value.clone()))),
        SortValue::Time(_) => ranges.extend([
            Range::Equal {
                value: value.clone(),
                after_id: Some(*id),
            },
            Range::Beyond(Some(value.clone())),
        ]),
    }
    if sort == Sort::LastUsed && !ascending && *value != SortValue::Never {
        ranges.push(never(None));
    }
    ranges
}

/// The ids of up to `limit` apps from `cursor` (exclusive; else from the
/// start) in the list's order, walked ascending or descending.
fn walk(
    conn: &mut DbConn,
    query: &ListQuery,
    now: NaiveDateTime,
    ascending: bool,
    cursor: Option<&Cursor>,
    limit: i64,
) -> QueryResult<Vec<i32>> {
    let mut ids = Vec::new();
    for range in ranges(query.sort, ascending, cursor) {
        let wanted = limit - i64::try_from(ids.len()).unwrap_or(i64::MAX);
        if wanted <= 0 {
            break;
        }
        ids.extend(range_ids(conn, query, now, &range, ascending, wanted)?);
    }
    Ok(ids)
}

/// `select.order((column.asc(), ...))`, or `.desc()` when not ascending.
macro_rules! ordered {
    ($select:expr, $ascending:expr, $($column:expr),+) => {
        if $ascending {
            $select.order(($($column.asc(),)+))
        } else {
            $select.order(($($column.desc(),)+))
        }
    };
}

diesel::define_sql_function! {
    /// SQL `lower()`.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// The ids of up to `limit` apps of one range that pass the search and the
/// status filter, in order.
fn range_ids(
    conn: &mut DbConn,
    query: &ListQuery,
    now: NaiveDateTime,
    range: &Range,
    ascending: bool,
    limit: i64,
) -> QueryResult<Vec<i32>> {
    let mut select = apps::table
        .select(apps::id)
        .limit(limit)
        .into_boxed::<MultiBackend>();
    match query.status {
        Status::All => {}
        Status::Active => select = select.filter(apps::is_active.eq(true)),
        Status::Inactive => select = select.filter(apps::is_active.eq(false)),
        // Few keys expire, so this walks the sort index like a search does.
        Status::Expired => select = select.filter(apps::expires_at.le(now)),
    }
    if let Some(pattern) = query.search_pattern() {
        // Case-insensitive on both: SQLite's LIKE already ignores ASCII case
        // (lower() would hide the columns from its covering index), and
        // PostgreSQL's does not.
        select = match conn {
            DbConn::Postgres(_) => select.filter(
                lower(apps::name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(apps::description).like(pattern).escape('\\')),
            ),
            DbConn::Sqlite(_) => select.filter(
                apps::name
                    .like(pattern.clone())
                    .escape('\\')
                    .or(apps::description.like(pattern).escape('\\')),
            ),
        };
    }
    // Each arm filters and orders by one index: the sort column's or, with a
    // status filter, the one led by is_active.
    let select = match (range, query.sort) {
        (Range::Equal { value, after_id }, _) => {
            select = match value {
                SortValue::Never => select.filter(apps::last_used_at.is_null()),
                SortValue::Time(time) if query.sort == Sort::Created => {
                    select.filter(apps::created_at.eq(*time))
                }
                SortValue::Time(time) => select.filter(apps::last_used_at.eq(*time)),
                SortValue::Name(name) => select.filter(apps::name.eq(name.clone())),
            };
            select = match (after_id, ascending) {
                (Some(id), true) => select.filter(apps::id.gt(*id)),
                (Some(id), false) => select.filter(apps::id.lt(*id)),
                (None, _) => select,
            };
            ordered!(select, ascending, apps::id)
        }
        // Names are unique, so the name alone orders the list.
        (Range::Beyond(value), Sort::Name) => {
            select = match (value, ascending) {
                (Some(SortValue::Name(name)), true) => select.filter(apps::name.gt(name.clone())),
                (Some(SortValue::Name(name)), false) => select.filter(apps::name.lt(name.clone())),
                _ => select,
            };
            ordered!(select, ascending, apps::name)
        }
        (Range::Beyond(value), Sort::Created) => {
            select = match (value, ascending) {
                (Some(SortValue::Time(time)), true) => select.filter(apps::created_at.gt(*time)),
                (Some(SortValue::Time(time)), false) => select.filter(apps::created_at.lt(*time)),
                _ => select,
            };
            ordered!(select, ascending, apps::created_at, apps::id)
        }
        (Range::Beyond(value), Sort::LastUsed) => {
            select = match (value, ascending) {
                (Some(SortValue::Time(time)), true) => select.filter(apps::last_used_at.gt(*time)),
                (Some(SortValue::Time(time)), false) => select.filter(apps::last_used_at.lt(*time)),
                _ => select.filter(apps::last_used_at.is_not_null()),
            };
            ordered!(select, ascending, apps::last_used_at, apps::id)
        }
    };
    select.load(conn)
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

/// Refuses a role or storage service that does not exist (or is not file storage).
fn check_references(conn: &mut DbConn, app: &NewApp) -> Result<(), InsertError> {
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
    Ok(())
}

/// The location columns: only the chosen location's are set.
type LocationColumns<'a> = (
    Option<i32>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

fn location_columns(location: &AppLocation) -> LocationColumns<'_> {
    match location {
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
    }
}

/// A failed write's error as the form shows it.
fn write_error(conn: &mut DbConn, app: &NewApp, error: DieselError) -> InsertError {
    match error {
        e if is_unique_violation(&e) => InsertError::NameTaken,
        // The role or service was deleted between the check and the write.
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            match app.role_id {
                Some(role_id) if !role_queries::exists(conn, role_id).unwrap_or(false) => {
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
    updated_at: NaiveDateTime,
    updated_by_id: Option<i32>,
}

impl<'a> AppFields<'a> {
    fn new(app: &'a NewApp, admin_id: Option<i32>, now: NaiveDateTime) -> Self {
        let (storage_service_id, storage_container, path, url) = location_columns(&app.location);
        AppFields {
            name: app.name.as_str(),
            description: &app.description,
            is_active: app.is_active,
            location: app.location.code(),
            storage_service_id,
            storage_container,
            path,
            url,
            role_id: app.role_id,
            expires_at: app.expires_at,
            updated_at: now,
            updated_by_id: admin_id,
        }
    }
}

/// Writes a new app with the hash and display prefix of its key, and its
/// audit event. Every write here runs in one transaction whose first statement
/// is a write, so on SQLite it takes the write lock at once and waits its turn
/// instead of failing on a stale read; the change counter bump (a new key may
/// sit in some instance's cache of unknown keys) is that write where the
/// audit log needs to read the app before changing it.
pub fn insert(
    conn: &mut DbConn,
    app: &NewApp,
    key: &ApiKey,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<i32, InsertError> {
    check_references(conn, app)?;
    let result = conn.transaction(|conn| {
        let id = diesel::insert_into(apps::table)
            .values((
                AppFields::new(app, actor.admin_id, now),
                apps::key_hash.eq(key.hash()),
                apps::key_prefix.eq(key.display_prefix()),
                apps::created_at.eq(now),
                apps::created_by_id.eq(actor.admin_id),
            ))
            .returning(apps::id)
            .get_result::<i32>(conn)?;
        changes::bump(conn)?;
        if let Some(after) = snapshot(conn, id)? {
            audit::record(
                conn,
                actor,
                now,
                &Event::created(ObjectKind::App, id, &after),
            )?;
        }
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
    let found = apps::table
        .left_join(roles::table)
        .left_join(crate::schema::services::table)
        .filter(apps::id.eq(id))
        .select((
            AppRow::as_select(),
            roles::name.nullable(),
            crate::schema::services::label.nullable(),
            apps::expires_at,
            apps::previous_key_expires_at,
        ))
        .first::<(
            AppRow,
            Option<String>,
            Option<String>,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
        )>(conn)
        .optional()?;
    let Some((app, role, storage_service, expires_at, old_key_until)) = found else {
        return Ok(None);
    };
    let time = |at: NaiveDateTime| at.format("%Y-%m-%d %H:%M UTC").to_string();
    let mut fields = vec![
        ("Application Name", app.name.clone()),
        ("Description", app.description),
        ("Active", audit::yes_no(app.is_active)),
        ("App Location", location_label(app.location).to_owned()),
    ];
    let optional = [
        ("Storage Service", storage_service),
        ("Storage Folder", app.storage_container),
        ("Path", app.path),
        ("URL", app.url),
    ];
    fields.extend(
        optional
            .into_iter()
            .filter_map(|(field, value)| value.map(|v| (field, v))),
    );
    fields.push(("Default Role", role.unwrap_or_else(|| "none".into())));
    fields.push(("Expires", expires_at.map_or_else(|| "never".into(), time)));
    fields.push(("Key", format!("{}…", app.key_prefix)));
    if let Some(until) = old_key_until {
        fields.push(("Old key works until", time(until)));
    }
    Ok(Some(Snapshot {
        name: app.name,
        fields,
    }))
}

/// "App Location" as the form words it.
fn location_label(code: i32) -> &'static str {
    match code {
        0 => "No Storage Required",
        1 => "On a provisioned file storage service",
        2 => "On a remote URL",
        3 => "On this web server",
        _ => "Unknown",
    }
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

/// Everything the Edit Application page shows about an app.
#[derive(Debug, Clone, Queryable)]
pub struct AppDetail {
    pub row: AppRow,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub previous_key_expires_at: Option<NaiveDateTime>,
    pub storage_service_name: Option<String>,
}

pub fn detail(conn: &mut DbConn, id: i32) -> QueryResult<Option<AppDetail>> {
    apps::table
        .left_join(crate::schema::services::table)
        .filter(apps::id.eq(id))
        .select((
            AppRow::as_select(),
            apps::created_at,
            apps::last_used_at,
            apps::expires_at,
            apps::previous_key_expires_at,
            crate::schema::services::name.nullable(),
        ))
        .first(conn)
        .optional()
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

pub fn list_item(conn: &mut DbConn, id: i32) -> QueryResult<Option<AppListItem>> {
    apps::table
        .left_join(roles::table)
        .filter(apps::id.eq(id))
        .select(list_columns())
        .first(conn)
        .optional()
}
