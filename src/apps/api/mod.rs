//! API keys in the management API: the list (the page's search, status
//! filter, sort and cursor paging), create, read, partial update, delete,
//! roll, duplicate and the Active switch. Every write goes through the same
//! domain types and queries as the pages, with its audit event. A new key is
//! in the answer to create, roll and duplicate, as `key`, and nowhere else.

mod json;
pub mod usage;

pub use json::*;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;

use super::domain::listing::{ListedApp, Page, cursor_of};
use super::domain::{ApiKey, App, AppForm, Grace, NewApp, copied_description};
use super::pages::{insert_with_new_key, write_errors};
use super::queries::search::SearchStats;
use super::queries::{self, list, write};
use crate::api::{self, ApiCaller};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::{ApiErrorBody, AppError};
use crate::limits::Refill;
use crate::templates::FieldErrors;

const BASE: &str = "/api/v1/apps";

/// The list of API keys, a page at a time.
#[utoipa::path(get, operation_id = "list_apps", path = "/api/v1/apps", tag = "apps", params(ListParams),
    responses((status = 200, body = AppList), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn list(
    _caller: ApiCaller,
    params: web::Query<ListParams>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
    stats: web::Data<SearchStats>,
) -> Result<HttpResponse, AppError> {
    let query = params.query()?;
    let now = clock.now();
    let page = {
        let query = query.clone();
        let stats = stats.into_inner();
        db::run(&pool, move |conn| list::page(conn, &query, now, &stats)).await??
    };
    let link = |app: Option<&ListedApp>, to: fn(super::domain::listing::Cursor) -> Page| {
        app.map(|app| query.url_at(BASE, &to(cursor_of(app, query.sort))))
    };
    let previous = link(page.rows.first(), Page::Before).filter(|_| page.has_previous);
    let next = link(page.rows.last(), Page::After).filter(|_| page.has_next);
    Ok(HttpResponse::Ok().json(AppList {
        apps: page.rows.into_iter().map(AppSummary::from).collect(),
        previous,
        next,
    }))
}

/// The request's field that a form field stands for.
fn field_name(form_field: &str) -> String {
    match form_field {
        "location" => "location.type",
        "storage_service_id" => "location.storage_service_id",
        "storage_container" => "location.folder",
        "launch_path" => "location.launch_path",
        "web_path" => "location.path",
        "url" => "location.url",
        "quota_total" => "quota.total",
        "quota_refill" => "quota.refill",
        other => other,
    }
    .to_owned()
}

fn invalid(errors: &FieldErrors) -> AppError {
    AppError::invalid(errors.iter(), field_name)
}

/// Sets the form's expiry from an API time (`None`: no expiry), or says why not.
fn set_expiry(form: &mut AppForm, expires_at: Option<&str>, errors: &mut FieldErrors) {
    form.expires_at = match expires_at.map(api::parse_time) {
        None => String::new(),
        Some(Ok(at)) => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
        Some(Err(message)) => {
            errors.add("expires_at", message);
            String::new()
        }
    };
}

/// The form's "Allowed addresses" from the API's list, one entry an element.
fn allowed_ips(list: Vec<String>, errors: &mut FieldErrors) -> String {
    if list.iter().any(|entry| {
        entry
            .trim()
            .contains(|c: char| c == ',' || c.is_whitespace())
    }) {
        errors.add(
            "allowed_ips",
            "Give each address or range as its own element of the list",
        );
    }
    list.join("\n")
}

/// Sets the form's quota fields from the API's (`None`: no quota).
fn set_quota(form: &mut AppForm, quota: Option<QuotaJson>) {
    (form.quota_total, form.quota_refill) = match quota {
        None => (String::new(), Refill::Never.as_str().to_owned()),
        Some(quota) => (
            quota.total.to_string(),
            quota
                .refill
                .map_or(Refill::Never, RefillJson::refill)
                .as_str()
                .to_owned(),
        ),
    };
}

/// Parses the form, with what the API found wrong before it.
fn parse(form: &AppForm, errors: FieldErrors) -> Result<NewApp, AppError> {
    api::with_errors(NewApp::parse(form), errors).map_err(|errors| invalid(&errors))
}

/// A refused write as the API says it.
fn write_refused(error: write::InsertError) -> AppError {
    match write_errors(error) {
        Ok(errors) => invalid(&errors),
        Err(error) => error,
    }
}

async fn find(pool: &DbPool, id: i32) -> Result<App, AppError> {
    db::run(pool, move |conn| queries::find(conn, id))
        .await??
        .ok_or_else(|| api::not_found("API key", id))
}

/// An app as the API answers it, with what its quota has left at `now`.
async fn answer(pool: &DbPool, id: i32, now: NaiveDateTime) -> Result<AppJson, AppError> {
    db::run(pool, move |conn| {
        let Some(app) = queries::find(conn, id)? else {
            return diesel::QueryResult::Ok(None);
        };
        let used = queries::quota_used_by(conn, &app, now)?;
        Ok(Some(AppJson::new(&app, used, now)))
    })
    .await??
    .ok_or_else(|| api::not_found("API key", id))
}

/// Creates an API key; the answer holds the key, once.
#[utoipa::path(post, operation_id = "create_app", path = "/api/v1/apps", tag = "apps", request_body = NewAppJson,
    responses((status = 201, body = AppWithKey), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn create(
    caller: ApiCaller,
    body: api::Body<NewAppJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let now = clock.now();
    let mut errors = FieldErrors::default();
    let mut form = AppForm::new_app();
    form.name = body.name;
    form.description = body.description.unwrap_or_default();
    form.is_active = body.is_active.unwrap_or(true).then(|| "true".into());
    body.location.unwrap_or(LocationJson::None).fill(&mut form);
    form.role_id = body.role_id.map(|id| id.to_string()).unwrap_or_default();
    set_expiry(&mut form, body.expires_at.as_deref(), &mut errors);
    form.allowed_ips = allowed_ips(body.allowed_ips.unwrap_or_default(), &mut errors);
    form.rate_limits = api::rate_limits_text(
        &body.rate_limits.unwrap_or_default(),
        "rate_limits",
        &mut errors,
    );
    set_quota(&mut form, body.quota);
    let app = parse(&form, errors)?;
    if app.expires_at.is_some_and(|at| at <= now) {
        return Err(api::invalid_field(
            "expires_at",
            "The expiry of a new key must be in the future",
        ));
    }
    let (app_id, key) = insert_with_new_key(&pool, app, caller.actor(), now)
        .await?
        .map_err(write_refused)?;
    log::info!(
        "administrator {} created app {app_id} through the API",
        caller.admin_id
    );
    with_key(&pool, app_id, &key, now).await
}

async fn with_key(
    pool: &DbPool,
    id: i32,
    key: &ApiKey,
    now: NaiveDateTime,
) -> Result<HttpResponse, AppError> {
    Ok(api::created(&AppWithKey {
        app: answer(pool, id, now).await?,
        key: key.expose().to_owned(),
    }))
}

/// One API key.
#[utoipa::path(get, operation_id = "get_app", path = "/api/v1/apps/{id}", tag = "apps",
    params(("id" = i32, Path, description = "The key's id")),
    responses((status = 200, body = AppJson), (status = 401, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn get(
    _caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "API key")?;
    Ok(HttpResponse::Ok().json(answer(&pool, id, clock.now()).await?))
}

/// Changes some fields of an API key; the others stay.
#[utoipa::path(patch, operation_id = "update_app", path = "/api/v1/apps/{id}", tag = "apps", request_body = AppPatchJson,
    params(("id" = i32, Path, description = "The key's id")),
    responses((status = 200, body = AppJson), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn update(
    caller: ApiCaller,
    path: web::Path<String>,
    body: api::Body<AppPatchJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "API key")?;
    let stored = find(&pool, id).await?;
    let body = body.0;
    let mut errors = FieldErrors::default();
    let mut form = AppForm::from_stored(&stored);
    if let Some(name) = body.name {
        form.name = name;
    }
    if let Some(description) = body.description {
        form.description = description;
    }
    if let Some(active) = body.is_active {
        form.is_active = active.then(|| "true".into());
    }
    if let Some(location) = &body.location {
        location.fill(&mut form);
    }
    if let Some(role_id) = body.role_id {
        form.role_id = role_id.map(|id| id.to_string()).unwrap_or_default();
    }
    if let Some(allowed_ips) = body.allowed_ips {
        form.allowed_ips = self::allowed_ips(allowed_ips, &mut errors);
    }
    if let Some(limits) = body.rate_limits {
        form.rate_limits = api::rate_limits_text(&limits, "rate_limits", &mut errors);
    }
    if let Some(quota) = body.quota {
        set_quota(&mut form, quota);
    }
    match body.expires_at {
        Some(expires_at) => set_expiry(&mut form, expires_at.as_deref(), &mut errors),
        // Kept to the second, not the form's minute.
        None => {
            form.expires_at = stored
                .expires_at
                .map(|at| at.format("%Y-%m-%dT%H:%M:%S").to_string())
                .unwrap_or_default()
        }
    }
    let app = parse(&form, errors)?;
    let (actor, now) = (caller.actor(), clock.now());
    let updated = db::run(&pool, move |conn| {
        write::update(conn, id, &app, &actor, now)
    })
    .await?
    .map_err(write_refused)?;
    if !updated {
        return Err(api::not_found("API key", id));
    }
    Ok(HttpResponse::Ok().json(answer(&pool, id, clock.now()).await?))
}

/// Deletes an API key; it stops working at once.
#[utoipa::path(delete, operation_id = "delete_app", path = "/api/v1/apps/{id}", tag = "apps",
    params(("id" = i32, Path, description = "The key's id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ApiErrorBody),
              (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn delete(
    caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "API key")?;
    let (actor, now) = (caller.actor(), clock.now());
    db::run(&pool, move |conn| write::delete(conn, id, &actor, now))
        .await??
        .ok_or_else(|| api::not_found("API key", id))?;
    Ok(api::no_content())
}

/// Replaces an API key's key; the answer holds the new key, once.
#[utoipa::path(post, operation_id = "roll_app_key", path = "/api/v1/apps/{id}/roll", tag = "apps", request_body = RollJson,
    params(("id" = i32, Path, description = "The key's id")),
    responses((status = 201, body = AppWithKey), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn roll(
    caller: ApiCaller,
    path: web::Path<String>,
    body: api::Body<RollJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "API key")?;
    let grace = match body.0.grace {
        GraceParam::Now => Grace::AtOnce,
        GraceParam::OneHour => Grace::OneHour,
        GraceParam::OneDay => Grace::OneDay,
        GraceParam::SevenDays => Grace::SevenDays,
    };
    let key = ApiKey::generate();
    let now = clock.now();
    let old_key_until: Option<NaiveDateTime> = grace.period().map(|period| now + period);
    let actor = caller.actor();
    let rolled = {
        let key = key.clone();
        db::run(&pool, move |conn| {
            write::roll(conn, id, &key, old_key_until, &actor, now)
        })
        .await??
    };
    if !rolled {
        return Err(api::not_found("API key", id));
    }
    log::info!(
        "administrator {} rolled the key of app {id} through the API",
        caller.admin_id
    );
    with_key(&pool, id, &key, now).await
}

/// Copies an API key under a new name, with a key of its own (in the answer,
/// once), the same location, role, active state and allowed addresses, and
/// no expiry.
#[utoipa::path(post, operation_id = "duplicate_app", path = "/api/v1/apps/{id}/duplicate", tag = "apps", request_body = DuplicateJson,
    params(("id" = i32, Path, description = "The key's id")),
    responses((status = 201, body = AppWithKey), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody,
               description = "The original's settings are no longer valid"),
              (status = 422, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn duplicate(
    caller: ApiCaller,
    path: web::Path<String>,
    body: api::Body<DuplicateJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "API key")?;
    let original = find(&pool, id).await?;
    let mut copy = AppForm::from_stored(&original);
    copy.expires_at = String::new();
    copy.name = body.0.name;
    copy.description = copied_description(&original.description);
    let app = match NewApp::parse(&copy) {
        Ok(app) => app,
        Err(errors) if errors.has("name") => return Err(invalid(&errors)),
        Err(_) => {
            return Err(AppError::api(
                StatusCode::CONFLICT,
                "The original's settings are no longer valid (was its storage service deleted?). Change it first.",
            ));
        }
    };
    let (new_id, key) = insert_with_new_key(&pool, app, caller.actor(), clock.now())
        .await?
        .map_err(write_refused)?;
    with_key(&pool, new_id, &key, clock.now()).await
}

/// Turns an API key on or off (its Active switch).
#[utoipa::path(put, operation_id = "set_app_active", path = "/api/v1/apps/{id}/active", tag = "apps", request_body = ActiveJson,
    params(("id" = i32, Path, description = "The key's id")),
    responses((status = 200, body = AppJson), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn set_active(
    caller: ApiCaller,
    path: web::Path<String>,
    body: api::Body<ActiveJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "API key")?;
    let (active, actor, now) = (body.0.active, caller.actor(), clock.now());
    let found = db::run(&pool, move |conn| {
        write::set_active(conn, id, active, &actor, now)
    })
    .await??;
    if !found {
        return Err(api::not_found("API key", id));
    }
    Ok(HttpResponse::Ok().json(answer(&pool, id, clock.now()).await?))
}
