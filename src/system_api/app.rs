//! `/api/v2/system/app`: API keys in DreamFactory's shape. Created, changed
//! and deleted through the API Keys feature's own form parsing and queries
//! (with their audit events and cache invalidation); a new key is in the
//! create answer as `api_key`, once; reads answer its display prefix there.

use serde_json::{Value, json};

use super::answer;
use super::batch::Job;
use super::domain::error::DfError;
use super::domain::filter::Fields;
use super::domain::params::{ListParams, RawParams, Wanted};
use super::domain::records::{Record, app_column, app_onto_form, field_errors};
use super::domain::shapes::{APP_FIELDS, only};
use super::queries::list;
use super::resource::{Resource, Writable};
use crate::apps::domain::{ApiKey, AppForm, LegacyKey, NewApp};
use crate::apps::queries::{self as app_queries, write};
use crate::db::DbConn;

const ROLE: &str = "role_by_role_id";

/// The `app` resource.
pub struct Apps;

impl Resource for Apps {
    const FIELDS: Fields = APP_FIELDS;

    /// Each app's role inline with `related=role_by_role_id`.
    fn read(
        conn: &mut DbConn,
        params: &ListParams,
        raw: &RawParams,
        wanted: &Wanted,
    ) -> Result<(Vec<Value>, Option<i64>), DfError> {
        let listed = list::apps(conn, params).map_err(answer::listed)?;
        let with_role = raw.related(ROLE);
        let roles = if with_role {
            let ids: Vec<i32> = listed.records.iter().filter_map(|a| a.role_id).collect();
            list::roles(conn, &ListParams::by_ids(ids))
                .map_err(answer::listed)?
                .records
        } else {
            vec![]
        };
        let records = listed
            .records
            .iter()
            .map(|app| {
                let mut record = app.json();
                if with_role {
                    let role = roles.iter().find(|r| Some(r.id) == app.role_id);
                    record.insert(
                        ROLE.into(),
                        role.map_or(Value::Null, |r| Value::Object(r.json())),
                    );
                }
                only(record, wanted, &[ROLE])
            })
            .collect();
        Ok((records, listed.count))
    }
}

/// A refused write in DreamFactory's shape, under its column names.
fn refused(error: write::InsertError) -> DfError {
    match crate::apps::pages::write_errors(error) {
        Ok(errors) => field_errors(&errors, app_column),
        Err(error) => error.into(),
    }
}

/// A client's own key for a new app: DreamFactory's rule, 64 or more
/// letters and digits.
fn supplied_key(value: &Value) -> Result<LegacyKey, DfError> {
    value
        .as_str()
        .and_then(|key| LegacyKey::parse(key.trim()))
        .ok_or_else(|| {
            DfError::invalid([(
                "api_key".to_owned(),
                "api_key must be 64 to 255 letters and digits; leave it out and keyward makes one",
            )])
        })
}

fn parse(form: &AppForm) -> Result<NewApp, DfError> {
    NewApp::parse(form).map_err(|errors| field_errors(&errors, app_column))
}

impl Writable for Apps {
    /// A new app with a new key, which this answer alone holds; or, as
    /// DreamFactory allows, with the client's own key of 64 or more letters
    /// and digits, kept like an imported one (its SHA-256 only).
    fn create(conn: &mut DbConn, record: &Record, job: &Job) -> Result<Value, DfError> {
        let mut record = record.clone();
        let supplied = match record.remove("api_key") {
            None | Some(Value::Null) => None,
            Some(value) => Some(supplied_key(&value)?),
        };
        let mut form = AppForm::new_app();
        app_onto_form(&record, &mut form, None)?;
        let app = parse(&form)?;
        let (id, key) = match supplied {
            Some(key) => {
                let id =
                    write::insert_legacy(conn, &app, &key, &job.actor, job.now).map_err(refused)?;
                (id, key.expose().to_owned())
            }
            None => {
                let key = ApiKey::generate();
                let id = write::insert(conn, &app, &key, &job.actor, job.now).map_err(refused)?;
                (id, key.expose().to_owned())
            }
        };
        let mut answer = Self::read_one(conn, id, &job.raw, &job.wanted)?;
        answer["api_key"] = json!(key);
        Ok(answer)
    }

    fn update(conn: &mut DbConn, id: i32, record: &Record, job: &Job) -> Result<Value, DfError> {
        let stored = app_queries::find(conn, id)?.ok_or_else(|| DfError::not_found(id))?;
        let mut form = AppForm::from_stored(&stored);
        // Kept to the second, not the form's minute.
        form.expires_at = stored
            .expires_at
            .map(|at| at.format("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_default();
        app_onto_form(record, &mut form, Some(&stored.key_prefix))?;
        let app = parse(&form)?;
        if !write::update(conn, id, &app, &job.actor, job.now).map_err(refused)? {
            return Err(DfError::not_found(id));
        }
        Self::read_one(conn, id, &job.raw, &job.wanted)
    }

    fn delete(conn: &mut DbConn, id: i32, job: &Job) -> Result<Value, DfError> {
        let answer = Self::read_one(conn, id, &job.raw, &job.wanted)?;
        write::delete(conn, id, &job.actor, job.now)?.ok_or_else(|| DfError::not_found(id))?;
        Ok(answer)
    }
}
