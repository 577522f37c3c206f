//! Services in the management API: listed and read with any token; created,
//! changed (partially) and deleted with a read-write one, by the Services
//! pages' rules and queries (and audit events). Deleting a service takes its
//! rules with it and leaves the keys stored on it with no storage service.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::domain::{NAME_TAKEN, NewService, ServiceForm};
use super::queries::{self, ServiceRow, WriteError};
use crate::api::{self, ApiCaller, utc};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::{ApiErrorBody, AppError};

/// What kind of API a service is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindJson {
    /// An API.
    Api,
    /// File storage: keys can keep their files on it ("App Location").
    File,
}

impl KindJson {
    fn as_str(self) -> &'static str {
        match self {
            KindJson::Api => "api",
            KindJson::File => "file",
        }
    }
}

/// A service: the first path segment of the requests its rules cover.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceJson {
    pub id: i32,
    pub name: String,
    pub label: String,
    pub description: String,
    pub kind: KindJson,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ServiceRow> for ServiceJson {
    fn from(service: ServiceRow) -> Self {
        ServiceJson {
            id: service.id,
            kind: match service.kind.as_str() {
                "file" => KindJson::File,
                _ => KindJson::Api,
            },
            name: service.name,
            label: service.label,
            description: service.description,
            is_active: service.is_active,
            created_at: utc(service.created_at),
            updated_at: utc(service.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    pub services: Vec<ServiceJson>,
}

async fn find(pool: &DbPool, id: i32) -> Result<ServiceRow, AppError> {
    db::run(pool, move |conn| queries::find(conn, id))
        .await??
        .ok_or_else(|| api::not_found("service", id))
}

/// Every service, by name.
#[utoipa::path(get, operation_id = "list_services", path = "/api/v1/services", tag = "services",
    responses((status = 200, body = ServiceList), (status = 401, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn list(_caller: ApiCaller, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    let services = db::run(&pool, queries::list).await??;
    Ok(HttpResponse::Ok().json(ServiceList {
        services: services.into_iter().map(ServiceJson::from).collect(),
    }))
}

/// One service.
#[utoipa::path(get, operation_id = "get_service", path = "/api/v1/services/{id}", tag = "services",
    params(("id" = i32, Path, description = "The service's id")),
    responses((status = 200, body = ServiceJson), (status = 401, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn get(
    _caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let service = find(&pool, api::path_id(&path, "service")?).await?;
    Ok(HttpResponse::Ok().json(ServiceJson::from(service)))
}

/// A new service: `name` (lowercase letters, digits, `-`, `_`) and `label`
/// are required; it is an active API unless told otherwise.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewServiceJson {
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9_-]+$")]
    pub name: String,
    #[schema(min_length = 1, max_length = 80)]
    pub label: String,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub description: Option<String>,
    #[serde(default)]
    pub kind: Option<KindJson>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// Changes to a service: what is left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatchJson {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9_-]+$")]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 80)]
    pub label: Option<String>,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub description: Option<String>,
    #[serde(default)]
    pub kind: Option<KindJson>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

fn parse(form: &ServiceForm) -> Result<NewService, AppError> {
    NewService::parse(form).map_err(|errors| api::invalid(&errors))
}

fn refused(error: WriteError, id: i32) -> AppError {
    match error {
        WriteError::NameTaken => api::invalid_field("name", NAME_TAKEN),
        WriteError::NotFound => api::not_found("service", id),
        WriteError::Db(e) => e.into(),
    }
}

/// Creates a service (read-write tokens).
#[utoipa::path(post, operation_id = "create_service", path = "/api/v1/services", tag = "services", request_body = NewServiceJson,
    responses((status = 201, body = ServiceJson), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn create(
    caller: ApiCaller,
    body: api::Body<NewServiceJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let service = parse(&ServiceForm {
        name: body.name,
        label: body.label,
        description: body.description.unwrap_or_default(),
        kind: body.kind.unwrap_or(KindJson::Api).as_str().into(),
        is_active: body.is_active.unwrap_or(true).then(|| "true".into()),
    })?;
    let (actor, now) = (caller.actor(), clock.now());
    let id = db::run(&pool, move |conn| {
        queries::insert(conn, &service, &actor, now)
    })
    .await?
    .map_err(|error| refused(error, 0))?;
    log::info!(
        "administrator {} created service {id} through the API",
        caller.admin_id
    );
    Ok(api::created(&ServiceJson::from(find(&pool, id).await?)))
}

/// Changes some fields of a service (read-write tokens).
#[utoipa::path(patch, operation_id = "update_service", path = "/api/v1/services/{id}", tag = "services",
    request_body = ServicePatchJson,
    params(("id" = i32, Path, description = "The service's id")),
    responses((status = 200, body = ServiceJson), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn update(
    caller: ApiCaller,
    path: web::Path<String>,
    body: api::Body<ServicePatchJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "service")?;
    let stored = find(&pool, id).await?;
    let body = body.0;
    let service = parse(&ServiceForm {
        name: body.name.unwrap_or(stored.name),
        label: body.label.unwrap_or(stored.label),
        description: body.description.unwrap_or(stored.description),
        kind: body.kind.map_or(stored.kind, |kind| kind.as_str().into()),
        is_active: body
            .is_active
            .unwrap_or(stored.is_active)
            .then(|| "true".into()),
    })?;
    let (actor, now) = (caller.actor(), clock.now());
    db::run(&pool, move |conn| {
        queries::update(conn, id, &service, &actor, now)
    })
    .await?
    .map_err(|error| refused(error, id))?;
    Ok(HttpResponse::Ok().json(ServiceJson::from(find(&pool, id).await?)))
}

/// Deletes a service with the rules that name it; keys stored on it are left
/// with no storage service (read-write tokens).
#[utoipa::path(delete, operation_id = "delete_service", path = "/api/v1/services/{id}", tag = "services",
    params(("id" = i32, Path, description = "The service's id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ApiErrorBody),
              (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn delete(
    caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "service")?;
    let (actor, now) = (caller.actor(), clock.now());
    db::run(&pool, move |conn| queries::delete(conn, id, &actor, now))
        .await??
        .ok_or_else(|| api::not_found("service", id))?;
    Ok(api::no_content())
}
