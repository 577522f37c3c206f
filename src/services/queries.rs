//! Queries on the `services` table. Every write runs in one transaction with
//! its audit event and what it makes stale in the verification caches
//! ([`changes::record`]), a [`crate::db::write`] (on SQLite it holds the write
//! lock from the start); where the audit log reads the service before
//! changing it, the change lock comes first, so on PostgreSQL nobody changes
//! the service between that reading and the write.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{NewService, ServiceKind};
use crate::db::audit::{self, Action, Actor, Event, ObjectKind, Snapshot, Subject};
use crate::db::changes::{self, Change};
use crate::db::{DbConn, is_unique_violation};
use crate::schema::{apps, role_rules, roles, services};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub id: i32,
    pub name: String,
    pub label: String,
    pub description: String,
    pub kind: String,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ServiceRow {
    /// The kind as the console shows it ("File storage" / "API").
    pub fn kind_label(&self) -> &str {
        ServiceKind::parse(&self.kind)
            .map(ServiceKind::label)
            .unwrap_or(&self.kind)
    }
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<ServiceRow>> {
    services::table
        .order(services::name.asc())
        .select(ServiceRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<ServiceRow>> {
    services::table
        .find(id)
        .select(ServiceRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("a service with this name already exists")]
    NameTaken,
    #[error("the service does not exist")]
    NotFound,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

fn name_taken_or(error: diesel::result::Error) -> WriteError {
    if is_unique_violation(&error) {
        WriteError::NameTaken
    } else {
        WriteError::Db(error)
    }
}

/// Service `id` for the audit log.
fn subject(id: i32) -> Subject {
    Subject {
        kind: ObjectKind::Service,
        id,
        snapshot,
    }
}

/// A service as the audit log describes it.
pub fn snapshot(conn: &mut DbConn, id: i32) -> QueryResult<Option<Snapshot>> {
    Ok(find(conn, id)?.map(|service| {
        let kind = service.kind_label().to_owned();
        Snapshot {
            fields: vec![
                ("Name", service.name.clone()),
                ("Label", service.label),
                ("Description", service.description),
                ("Kind", kind),
                ("Active", audit::yes_no(service.is_active)),
            ],
            name: service.name,
        }
    }))
}

pub fn insert(
    conn: &mut DbConn,
    service: &NewService,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<i32, WriteError> {
    crate::db::write(conn, |conn| {
        let id = diesel::insert_into(services::table)
            .values((
                services::name.eq(service.name.as_str()),
                services::label.eq(service.label.as_str()),
                services::description.eq(&service.description),
                services::kind.eq(service.kind.as_str()),
                services::is_active.eq(service.is_active),
                services::created_at.eq(now),
                services::updated_at.eq(now),
            ))
            .returning(services::id)
            .get_result::<i32>(conn)
            .map_err(name_taken_or)?;
        // Its name may be cached as naming no service.
        changes::record(conn, &[Change::Service(id)])?;
        audit::record_created(conn, subject(id), actor, now)?;
        Ok(id)
    })
}

pub fn update(
    conn: &mut DbConn,
    id: i32,
    service: &NewService,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<(), WriteError> {
    let subject = Subject {
        kind: ObjectKind::Service,
        id,
        snapshot,
    };
    let found = audit::record_change(conn, subject, Action::Updated, actor, now, |conn| {
        diesel::update(services::table.find(id))
            .set((
                services::name.eq(service.name.as_str()),
                services::label.eq(service.label.as_str()),
                services::description.eq(&service.description),
                services::kind.eq(service.kind.as_str()),
                services::is_active.eq(service.is_active),
                services::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
            .map_err(name_taken_or)
    })?;
    found.map(|_| ()).ok_or(WriteError::NotFound)
}

/// Deletes a service; its access rules go with it (ON DELETE CASCADE) and apps
/// that stored their files on it are left with none (ON DELETE SET NULL).
/// Returns the deleted service's name, or `None` when there was none. The
/// audit event names the rules and apps the deletion took with it.
pub fn delete(
    conn: &mut DbConn,
    id: i32,
    actor: &Actor,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    crate::db::write(conn, |conn| {
        changes::lock(conn)?;
        let Some(mut before) = snapshot(conn, id)? else {
            return Ok(None);
        };
        let stale = changes::of_service_deletion(conn, id)?;
        let affected = usage(conn, id)?;
        if !affected.rules.is_empty() {
            let rules = affected
                .rules
                .iter()
                .map(|rule| match rule.component.as_str() {
                    "" => format!("{}: {}", rule.role_name, before.name),
                    component => format!("{}: {}/{component}", rule.role_name, before.name),
                });
            before
                .fields
                .push(("Rules", rules.collect::<Vec<_>>().join("; ")));
        }
        if !affected.apps.is_empty() {
            let apps = affected.apps.iter().map(|app| app.name.as_str());
            before
                .fields
                .push(("Storage of apps", apps.collect::<Vec<_>>().join("; ")));
        }
        diesel::delete(services::table.find(id)).execute(conn)?;
        changes::record(conn, &stale)?;
        let event = Event::deleted(ObjectKind::Service, id, &before);
        audit::record(conn, actor, now, &event)?;
        Ok(Some(before.name))
    })
}

/// An access rule that names a service, with the role it belongs to.
#[derive(Debug, Clone, Queryable)]
pub struct RuleUse {
    pub role_name: String,
    pub component: String,
}

/// An app that stores its files on a service.
#[derive(Debug, Clone, Queryable)]
pub struct AppUse {
    pub name: String,
}

/// What deleting a service affects.
#[derive(Debug, Clone)]
pub struct Usage {
    pub rules: Vec<RuleUse>,
    pub apps: Vec<AppUse>,
}

impl Usage {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.apps.is_empty()
    }
}

pub fn usage(conn: &mut DbConn, id: i32) -> QueryResult<Usage> {
    let rules = role_rules::table
        .inner_join(roles::table)
        .filter(role_rules::service_id.eq(id))
        .order((roles::name.asc(), role_rules::component.asc()))
        .select((roles::name, role_rules::component))
        .load(conn)?;
    let apps = apps::table
        .filter(apps::storage_service_id.eq(id))
        .order(apps::name.asc())
        .select((apps::name,))
        .load(conn)?;
    Ok(Usage { rules, apps })
}
