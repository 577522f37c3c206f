//! The verbs every resource of the system API answers alike, once: a list
//! (or its count), one record, and batches of creates, updates and deletes
//! by id or `ids=`, each record through its resource's own [`Writable`]
//! functions on one connection (see `batch`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::answer::{self, Answer, Body, ok, params, path_id, run};
use super::batch::{self, Job};
use super::domain::error::{BatchVerb, DfError, batch_answer};
use super::domain::filter::Fields;
use super::domain::params::{ListParams, RawParams, Wanted};
use super::domain::records::{Record, records};
use crate::api::ApiCaller;
use crate::clock::SharedClock;
use crate::db::{DbConn, DbPool};

/// Records read as DreamFactory shapes them.
pub trait Resource: 'static {
    /// The fields a filter and an order may name.
    const FIELDS: Fields;

    /// The records `params` selects, each with the `wanted` fields and what
    /// `related` asks for; and their count when asked.
    fn read(
        conn: &mut DbConn,
        params: &ListParams,
        raw: &RawParams,
        wanted: &Wanted,
    ) -> Result<(Vec<Value>, Option<i64>), DfError>;

    /// Record `id`, or DreamFactory's 404.
    fn read_one(
        conn: &mut DbConn,
        id: i32,
        raw: &RawParams,
        wanted: &Wanted,
    ) -> Result<Value, DfError> {
        let (mut records, _) = Self::read(conn, &ListParams::by_ids(vec![id]), raw, wanted)?;
        records.pop().ok_or_else(|| DfError::not_found(id))
    }
}

/// Records that are written too; each answers as it reads afterwards.
pub trait Writable: Resource {
    fn create(conn: &mut DbConn, record: &Record, job: &Job) -> Result<Value, DfError>;
    fn update(conn: &mut DbConn, id: i32, record: &Record, job: &Job) -> Result<Value, DfError>;
    fn delete(conn: &mut DbConn, id: i32, job: &Job) -> Result<Value, DfError>;
}

/// `GET /{resource}`: the list, its count, or both.
pub async fn list<R: Resource>(
    req: HttpRequest,
    _caller: ApiCaller,
    pool: web::Data<DbPool>,
) -> Answer {
    let raw = params(&req);
    let list_params = raw.list(R::FIELDS)?;
    let wanted = raw.wanted(Wanted::All);
    let count_only = list_params.count_only;
    let (records, count) = run(&pool, move |conn| {
        R::read(conn, &list_params, &raw, &wanted)
    })
    .await?;
    Ok(ok(&answer::list_body(records, count, count_only)))
}

/// `GET /{resource}/{id}`.
pub async fn get<R: Resource>(
    req: HttpRequest,
    _caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Answer {
    let id = path_id(&path)?;
    let raw = params(&req);
    let wanted = raw.wanted(Wanted::All);
    Ok(ok(&run(&pool, move |conn| {
        R::read_one(conn, id, &raw, &wanted)
    })
    .await?))
}

/// `POST /{resource}`: 201 with each new record (its id, unless `fields=`).
pub async fn create<R: Writable>(
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
            R::create(conn, &record, &job)
        })
    })
    .await?;
    let resource = batch_answer(BatchVerb::Create, outcomes)?;
    Ok(HttpResponse::Created().json(json!({"resource": resource})))
}

/// `PATCH`/`PUT /{resource}` by `ids=` or by the records' own ids (PUT is
/// PATCH, a partial update, as in DreamFactory).
pub async fn update_many<R: Writable>(
    req: HttpRequest,
    caller: ApiCaller,
    body: Body,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Answer {
    let job = Job::new(&req, &caller, &clock);
    let targets = batch::targets(&job.raw, R::FIELDS, &body.0, true)?;
    let outcomes = run(&pool, move |conn| {
        batch::run(conn, targets, job.on_failure(), |conn, (id, record)| {
            R::update(conn, id?, &record, &job)
        })
    })
    .await?;
    Ok(ok(
        &json!({"resource": batch_answer(BatchVerb::Update, outcomes)?}),
    ))
}

/// `PATCH`/`PUT /{resource}/{id}`: the bare record.
pub async fn update<R: Writable>(
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
        R::update(conn, id, &record, &job)
    })
    .await?))
}

/// `DELETE /{resource}` by `ids=` or by the records in the body.
pub async fn delete_many<R: Writable>(
    req: HttpRequest,
    caller: ApiCaller,
    body: Body,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Answer {
    let job = Job::new(&req, &caller, &clock);
    let targets = batch::targets(&job.raw, R::FIELDS, &body.0, false)?;
    let outcomes = run(&pool, move |conn| {
        batch::run(conn, targets, job.on_failure(), |conn, (id, _)| {
            R::delete(conn, id?, &job)
        })
    })
    .await?;
    Ok(ok(
        &json!({"resource": batch_answer(BatchVerb::Delete, outcomes)?}),
    ))
}

/// `DELETE /{resource}/{id}`: the bare record.
pub async fn delete<R: Writable>(
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Answer {
    let id = path_id(&path)?;
    let job = Job::new(&req, &caller, &clock);
    Ok(ok(&run(&pool, move |conn| R::delete(conn, id, &job)).await?))
}
