//! Reading the audit log: newest first, filtered by object and administrator,
//! a page at a time by id (keyset), so every page is an index range scan
//! however long the log grows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{Filter, Page};
use crate::db::DbConn;
use crate::db::audit::{FieldChange, ObjectKind};
use crate::schema::{admins, audit_events};

/// An administrator as the filter offers them.
#[derive(Debug, Clone, Queryable)]
pub struct AdminChoice {
    pub id: i32,
    pub email: String,
}

/// The administrators the filter offers, by email. (A read for a select:
/// the `admins` table belongs to `crate::admins`.)
pub fn admin_choices(conn: &mut DbConn) -> QueryResult<Vec<AdminChoice>> {
    admins::table
        .order(admins::email.asc())
        .select((admins::id, admins::email))
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct EventRow {
    pub id: i32,
    pub occurred_at: NaiveDateTime,
    pub admin_id: Option<i32>,
    pub admin_email: String,
    pub address: String,
    pub object_kind: String,
    pub object_id: i32,
    pub object_name: String,
    pub action: String,
    pub changes: String,
    pub via_token: Option<String>,
}

impl EventRow {
    pub fn kind(&self) -> Option<ObjectKind> {
        ObjectKind::parse(&self.object_kind)
    }

    /// The changed fields; an unreadable record shows none rather than failing
    /// the page.
    pub fn field_changes(&self) -> Vec<FieldChange> {
        serde_json::from_str(&self.changes).unwrap_or_default()
    }
}

/// One page of events, newest first, and whether there are more beyond each
/// end of it.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<EventRow>,
    pub has_older: bool,
    pub has_newer: bool,
}

pub fn page(
    conn: &mut DbConn,
    filter: &Filter,
    page: Page,
    per_page: i64,
) -> QueryResult<EventPage> {
    let mut query = audit_events::table
        .select(EventRow::as_select())
        .into_boxed();
    if let Some(kind) = filter.kind {
        query = query.filter(audit_events::object_kind.eq(kind.as_str()));
        if let Some(id) = filter.object_id {
            query = query.filter(audit_events::object_id.eq(id));
        }
    }
    if let Some(admin_id) = filter.admin_id {
        query = query.filter(audit_events::admin_id.eq(admin_id));
    }
    // One row more than a page tells whether another page follows.
    let query = match page {
        Page::Newest => query.order(audit_events::id.desc()),
        Page::OlderThan(id) => query
            .filter(audit_events::id.lt(id))
            .order(audit_events::id.desc()),
        Page::NewerThan(id) => query
            .filter(audit_events::id.gt(id))
            .order(audit_events::id.asc()),
    };
    let mut events = query.limit(per_page + 1).load::<EventRow>(conn)?;
    let beyond = events.len() as i64 > per_page;
    events.truncate(per_page as usize);
    if let Page::NewerThan(_) = page {
        events.reverse();
    }
    Ok(EventPage {
        events,
        has_older: match page {
            Page::Newest | Page::OlderThan(_) => beyond,
            // Came from an older page, so older events exist.
            Page::NewerThan(_) => true,
        },
        has_newer: match page {
            Page::Newest => false,
            Page::OlderThan(_) => true,
            Page::NewerThan(_) => beyond,
        },
    })
}
