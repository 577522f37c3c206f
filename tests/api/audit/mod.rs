//! The audit log (`src/audit/`): every change to apps, keys, roles, rules,
//! services and administrators is recorded with who, from where and what
//! changed, in the same transaction as the change (a refused change leaves
//! no event, and a change whose event cannot be written does not happen);
//! the Audit page lists the events newest first, filtered by object and
//! administrator, page by page; and the same in Chromium. Reading the stored
//! events is here.

mod browser;
mod changes;
mod page;
mod transactions;

use diesel::prelude::*;
use keyward::schema::audit_events;

use crate::harness::{TestApp, TestResponse};

/// One stored event, as the tests read it.
#[derive(Debug, Clone, Queryable)]
struct Stored {
    id: i32,
    admin_id: Option<i32>,
    admin_email: String,
    address: String,
    object_kind: String,
    object_id: i32,
    object_name: String,
    action: String,
    changes: String,
}

impl Stored {
    /// `(field, before, after)` of every change.
    fn changes(&self) -> Vec<(String, Option<String>, Option<String>)> {
        let list: Vec<serde_json::Value> = serde_json::from_str(&self.changes)
            .unwrap_or_else(|e| panic!("changes are not JSON ({e}): {}", self.changes));
        list.into_iter()
            .map(|c| {
                let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
                (
                    c["field"].as_str().unwrap().to_owned(),
                    text(&c["before"]),
                    text(&c["after"]),
                )
            })
            .collect()
    }

    fn change(&self, field: &str) -> Option<(Option<String>, Option<String>)> {
        self.changes()
            .into_iter()
            .find(|(f, _, _)| f == field)
            .map(|(_, before, after)| (before, after))
    }
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// Every event, oldest first.
fn events(app: &TestApp) -> Vec<Stored> {
    let mut conn = app.pool.get().expect("no database connection");
    audit_events::table
        .order(audit_events::id.asc())
        .select((
            audit_events::id,
            audit_events::admin_id,
            audit_events::admin_email,
            audit_events::address,
            audit_events::object_kind,
            audit_events::object_id,
            audit_events::object_name,
            audit_events::action,
            audit_events::changes,
        ))
        .load(&mut *conn)
        .expect("cannot read the audit log")
}

fn last_event(app: &TestApp) -> Stored {
    events(app).pop().expect("the audit log is empty")
}

/// The events after the first `since`.
fn events_since(app: &TestApp, since: usize) -> Vec<Stored> {
    events(app).into_iter().skip(since).collect()
}

/// The ids of the event rows on an Audit page, top to bottom.
fn rows(page: &TestResponse) -> Vec<i32> {
    page.body
        .match_indices("<tr id=\"event-")
        .map(|(at, m)| {
            let rest = &page.body[at + m.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

/// The `href` of the link whose text is `text` (`>Older</a>`).
fn link(page: &TestResponse, text: &str) -> Option<String> {
    let end = page.body.find(&format!(">{text}</a>"))?;
    let start = page.body[..end].rfind("href=\"")? + "href=\"".len();
    let href = &page.body[start..];
    Some(crate::harness::html_unescape(&href[..href.find('"')?]))
}
