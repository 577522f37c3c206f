//! `/api/v2/system/app`: API keys in DreamFactory's shape. Created, changed
//! and deleted through the API Keys feature's own form parsing and queries
//! (with their audit events and cache invalidation); a new key is in the
//! create answer as `api_key`, once; reads answer its display prefix there.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::answer::{self, Answer, Body, ok, params, path_id, run};
use super::batch::{self, Job};
use super::domain::error::{BatchVerb, DfError, batch_answer};
use super::domain::params::{ListParams, RawParams, Wanted};
use super::domain::records::{Record, app_column, app_onto_form, field_errors, records};
use super::domain::shapes::{APP_FIELDS, only};
use super::queries::list;
use crate::api::ApiCaller;
use crate::apps::domain::{ApiKey, AppForm, NewApp};
use crate::apps::queries::{self as app_queries, write};
use crate::clock::SharedClock;
use crate::db::{DbConn, DbPool};

const ROLE: &str = "role_by_role_id";

/// Apps as answered: the fields asked for, and each app's role when
/// `related=role_by_role_id`.
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

fn read_one(
    conn: &mut DbConn,
    id: i32,
    raw: &RawParams,
    wanted: &Wanted,
) -> Result<Value, DfError> {
    let (mut records, _) = read(conn, &ListParams::by_ids(vec![id]), raw, wanted)?;
    records.pop().ok_or_else(|| DfError::not_found(id))
}

/// `GET /app`: the list, its count, or both.
pub async fn list(req: HttpRequest, _caller: ApiCaller, pool: web::Data<DbPool>) -> Answer {
    let raw = params(&req);
    let list_params = raw.list(APP_FIELDS)?;
    let wanted = raw.wanted(Wanted::All);
    let count_only = list_params.count_only;
    let (records, count) = run(&pool, move |conn| read(conn, &list_params, &raw, &wanted)).await?;
    Ok(ok(&answer::list_body(records, count, count_only)))
}

/// `GET /app/{id}`.
pub async fn get(
    req: HttpRequest,
    _caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Answer {
    let id = path_id(&path)?;
    let raw = params(&req);
    let wanted = raw.wanted(Wanted::All);
    Ok(ok(&run(&pool, move |conn| {
        read_one(conn, id, &raw, &wanted)
    })
    .await?))
}

/// A refused write in DreamFactory's shape, under its column names.
fn refused(error: write::InsertError) -> DfError {
    match crate::apps::pages::write_errors(error) {
        Ok(errors) => field_errors(&errors, app_column),
        Err(error) => error.into(),
    }
}

fn parse(form: &AppForm) -> Result<NewApp, DfError> {
    NewApp::parse(form).map_err(|errors| field_errors(&errors, app_column))
}

struct Write<'j>(&'j Job);

impl Write<'_> {
    fn create(&self, conn: &mut DbConn, record: &Record) -> Result<Value, DfError> {
        let mut form = AppForm::new_app();
        app_onto_form(record, &mut form, None)?;
        let app = parse(&form)?;
        let key = ApiKey::generate();
        let id = write::insert(conn, &app, &key, &self.0.actor, self.0.now).map_err(refused)?;
        let mut answer = read_one(conn, id, &self.0.raw, &self.0.wanted)?;
        answer["api_key"] = json!(key.expose());
        Ok(answer)
    }

    fn update(&self, conn: &mut DbConn, id: i32, record: &Record) -> Result<Value, DfError> {
        let stored = app_queries::find(conn, id)?.ok_or_else(|| DfError::not_found(id))?;
        let mut form = AppForm::from_stored(&stored);
        // Kept to the second, not the form's minute.
        form.expires_at = stored
            .expires_at
            .map(|at| at.format("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_default();
        app_onto_form(record, &mut form, Some(&stored.key_prefix))?;
        let app = parse(&form)?;
        if !write::update(conn, id, &app, &self.0.actor, self.0.now).map_err(refused)? {
            return Err(DfError::not_found(id));
        }
        read_one(conn, id, &self.0.raw, &self.0.wanted)
    }

    fn delete(&self, conn: &mut DbConn, id: i32) -> Result<Value, DfError> {
        let answer = read_one(conn, id, &self.0.raw, &self.0.wanted)?;
        write::delete(conn, id, &self.0.actor, self.0.now)?
            .ok_or_else(|| DfError::not_found(id))?;
        Ok(answer)
    }
}

/// `POST /app`: 201 with each new app's id and key.
pub async fn create(
    req: HttpRequest,
    caller: ApiCaller,
    body: Body,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Answer {
    let records = records(&body.0)?;
    let job = Job::new(&req, &caller, &clock);
    let outcomes = run(&pool, move |conn| {
        batch::run(conn, records, job.on_failure(), |conn, record| {
            Write(&job).create(conn, &record)
        })
    })
    .await?;
    let resource = batch_answer(BatchVerb::Create, outcomes)?;
    Ok(HttpResponse::Created().json(json!({"resource": resource})))
}

/// `PATCH`/`PUT /app` (PUT is PATCH, a partial update, as in DreamFactory).
pub async fn update_many(
    req: HttpRequest,
    caller: ApiCaller,
    body: Body,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Answer {
    let job = Job::new(&req, &caller, &clock);
    let targets = batch::targets(&job.raw, APP_FIELDS, &body.0, true)?;
    let outcomes = run(&pool, move |conn| {
        batch::run(conn, targets, job.on_failure(), |conn, (id, record)| {
            Write(&job).update(conn, id?, &record)
        })
    })
    .await?;
    Ok(ok(
        &json!({"resource": batch_answer(BatchVerb::Update, outcomes)?}),
    ))
}

/// `PATCH`/`PUT /app/{id}`: the bare record.
pub async fn update(
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<String>,
    body: Body,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Answer {
    let id = path_id(&path)?;
    let record = records(&body.0)?.into_iter().next().unwrap_or_default();
    let job = Job::new(&req, &caller, &clock);
    Ok(ok(&run(&pool, move |conn| {
        Write(&job).update(conn, id, &record)
    })
    .await?))
}

/// `DELETE /app?ids=` or with the records in the body.
pub async fn delete_many(
    req: HttpRequest,
    caller: ApiCaller,
    body: Body,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Answer {
    let job = Job::new(&req, &caller, &clock);
    let targets = batch::targets(&job.raw, APP_FIELDS, &body.0, false)?;
    let outcomes = run(&pool, move |conn| {
        batch::run(conn, targets, job.on_failure(), |conn, (id, _)| {
            Write(&job).delete(conn, id?)
        })
    })
    .await?;
    Ok(ok(
        &json!({"resource": batch_answer(BatchVerb::Delete, outcomes)?}),
    ))
}

/// `DELETE /app/{id}`: the bare record.
pub async fn delete(
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Answer {
    let id = path_id(&path)?;
    let job = Job::new(&req, &caller, &clock);
    Ok(ok(
        &run(&pool, move |conn| Write(&job).delete(conn, id)).await?
    ))
}
