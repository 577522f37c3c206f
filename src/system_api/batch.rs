//! Running a batch's records on one connection, as DreamFactory does: stop
//! at the first failure keeping what was done (its default), go on
//! (`continue=true`), or undo everything (`rollback=true`, one transaction
//! around the batch; each record's own writes are savepoints inside it).

use actix_web::HttpRequest;
use chrono::NaiveDateTime;
use serde_json::Value;

use super::answer::params;
use super::domain::error::{DfError, OnFailure, Outcome};
use super::domain::filter::Fields;
use super::domain::params::{RawParams, Wanted};
use super::domain::records::{Record, record_id, records};
use crate::api::ApiCaller;
use crate::clock::SharedClock;
use crate::db::DbConn;
use crate::db::audit::Actor;

/// A write request's settings: its parameters, the fields to answer (the
/// id when not asked), who writes, and when.
pub struct Job {
    pub raw: RawParams,
    pub wanted: Wanted,
    pub actor: Actor,
    pub now: NaiveDateTime,
}

impl Job {
    pub fn new(req: &HttpRequest, caller: &ApiCaller, clock: &SharedClock) -> Job {
        let raw = params(req);
        Job {
            wanted: raw.wanted(Wanted::Only(vec!["id".into()])),
            raw,
            actor: caller.actor(),
            now: clock.now(),
        }
    }

    pub fn on_failure(&self) -> OnFailure {
        OnFailure::new(self.raw.continue_on_error, self.raw.rollback)
    }
}

/// A target of a batch change: its id (or why the record has none) and the record.
pub type Target = (Result<i32, DfError>, Record);

/// What a PATCH or DELETE without an id in its path names: `ids=` (each
/// given the body's one record), or the body's records by their own ids.
pub fn targets(
    raw: &RawParams,
    fields: Fields,
    body: &[u8],
    needs_body: bool,
) -> Result<Vec<Target>, DfError> {
    // DreamFactory also changes the records a filter finds; keyward changes
    // records it is told by id only (a bad filter is refused as in a list).
    if raw.has_filter() {
        raw.list(fields)?;
        return Err(DfError::bad_request(
            "keyward's system API changes and deletes records by id only: name them with ids= \
             or with an id in each record, not with a filter.",
        ));
    }
    if let Some(ids) = raw.ids()? {
        let record = if needs_body {
            records(body)?.into_iter().next().unwrap_or_default()
        } else {
            Record::new()
        };
        return Ok(ids.into_iter().map(|id| (Ok(id), record.clone())).collect());
    }
    Ok(records(body)?
        .into_iter()
        .map(|record| {
            let id = record_id(&record).unwrap_or_else(|| {
                Err(DfError::bad_request(
                    "This record has no id: say which record to change with id, or with ids=.",
                ))
            });
            (id, record)
        })
        .collect())
}

enum Abort {
    Db(diesel::result::Error),
    Failed(Vec<Outcome>),
}

impl From<diesel::result::Error> for Abort {
    fn from(error: diesel::result::Error) -> Self {
        Abort::Db(error)
    }
}

/// Each of `items` through `work`, in order.
pub fn run<T>(
    conn: &mut DbConn,
    items: Vec<T>,
    on_failure: OnFailure,
    mut work: impl FnMut(&mut DbConn, T) -> Result<Value, DfError>,
) -> Result<Vec<Outcome>, DfError> {
    if on_failure != OnFailure::Rollback {
        let mut outcomes = Vec::with_capacity(items.len());
        for item in items {
            match work(conn, item) {
                Ok(value) => outcomes.push(Outcome::Done(value)),
                Err(error) => {
                    outcomes.push(Outcome::Failed(error));
                    if on_failure == OnFailure::Stop {
                        break;
                    }
                }
            }
        }
        return Ok(outcomes);
    }
    let result = crate::db::write(conn, |conn| {
        let mut done = Vec::with_capacity(items.len());
        for item in items {
            match work(conn, item) {
                Ok(value) => done.push(Outcome::Done(value)),
                Err(error) => {
                    let mut outcomes: Vec<Outcome> =
                        done.iter().map(|_| Outcome::RolledBack).collect();
                    outcomes.push(Outcome::Failed(error));
                    return Err(Abort::Failed(outcomes));
                }
            }
        }
        Ok(done)
    });
    match result {
        Ok(outcomes) | Err(Abort::Failed(outcomes)) => Ok(outcomes),
        Err(Abort::Db(error)) => Err(error.into()),
    }
}
