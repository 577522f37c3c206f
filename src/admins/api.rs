//! Administrators in the management API: listed and read with any token;
//! created, deactivated and reactivated with a read-write one, by the Admins
//! page's rules (never the last active administrator).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::domain::{AdminForm, NewAdmin};
use super::queries::{self, Admin, ChangeError, CreateError};
use crate::api::{self, ApiCaller, utc};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::{ApiErrorBody, AppError};

/// An administrator (never the password).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminJson {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<Admin> for AdminJson {
    fn from(admin: Admin) -> Self {
        AdminJson {
            id: admin.id,
            email: admin.email,
            name: admin.name,
            is_active: admin.is_active,
            created_at: utc(admin.created_at),
            last_login_at: admin.last_login_at.map(utc),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminList {
    pub admins: Vec<AdminJson>,
}

/// Every administrator, by email.
#[utoipa::path(get, operation_id = "list_admins", path = "/api/v1/admins", tag = "admins",
    responses((status = 200, body = AdminList), (status = 401, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn list(_caller: ApiCaller, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    let admins = db::run(&pool, queries::list).await??;
    Ok(HttpResponse::Ok().json(AdminList {
        admins: admins.into_iter().map(AdminJson::from).collect(),
    }))
}

/// One administrator.
#[utoipa::path(get, operation_id = "get_admin", path = "/api/v1/admins/{id}", tag = "admins",
    params(("id" = i32, Path, description = "The administrator's id")),
    responses((status = 200, body = AdminJson), (status = 401, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn get(
    _caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "administrator")?;
    let admin = db::run(&pool, move |conn| queries::find(conn, id))
        .await??
        .ok_or_else(|| api::not_found("administrator", id))?;
    Ok(HttpResponse::Ok().json(AdminJson::from(admin)))
}

/// A new administrator: email, optional name, password (at least 12
/// characters).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdminJson {
    #[schema(max_length = 254, format = "email")]
    pub email: String,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub name: String,
    #[schema(min_length = 12, max_length = 1024)]
    pub password: String,
}

/// Creates an administrator (read-write tokens).
#[utoipa::path(post, operation_id = "create_admin", path = "/api/v1/admins", tag = "admins", request_body = NewAdminJson,
    responses((status = 201, body = AdminJson), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn create(
    caller: ApiCaller,
    body: api::Body<NewAdminJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let form = AdminForm {
        email: body.email,
        name: body.name,
        password_confirm: body.password.clone(),
        password: body.password,
    };
    let NewAdmin {
        email,
        name,
        password,
    } = NewAdmin::parse(&form).map_err(|errors| api::invalid(&errors))?;
    let hash = super::pages::hash(password).await?;
    let (actor, now) = (caller.actor(), clock.now());
    let created = db::run(&pool, move |conn| {
        let id = queries::create(conn, &email, name.as_str(), &hash, &actor, now)?;
        Ok::<_, CreateError>(queries::find(conn, id)?)
    })
    .await?;
    match created {
        Ok(Some(admin)) => {
            log::info!(
                "administrator {} created administrator {} through the API",
                caller.admin_id,
                admin.id
            );
            Ok(api::created(&AdminJson::from(admin)))
        }
        Ok(None) => Err(anyhow::anyhow!("the new administrator went missing").into()),
        Err(CreateError::EmailTaken) => {
            Err(api::invalid_field("email", super::domain::EMAIL_TAKEN))
        }
        Err(CreateError::Db(e)) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveJson {
    /// `false` deactivates (and signs out everywhere); `true` reactivates.
    pub active: bool,
}

/// Deactivates or reactivates an administrator (read-write tokens). The last
/// active administrator cannot be deactivated (409).
#[utoipa::path(put, operation_id = "set_admin_active", path = "/api/v1/admins/{id}/active", tag = "admins", request_body = ActiveJson,
    params(("id" = i32, Path, description = "The administrator's id")),
    responses((status = 200, body = AdminJson), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn set_active(
    caller: ApiCaller,
    path: web::Path<String>,
    body: api::Body<ActiveJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "administrator")?;
    let active = body.0.active;
    let (actor, now) = (caller.actor(), clock.now());
    let changed = db::run(&pool, move |conn| {
        queries::set_active(conn, id, active, &actor, now)?;
        Ok::<_, ChangeError>(queries::find(conn, id)?)
    })
    .await?;
    match changed {
        Ok(Some(admin)) => Ok(HttpResponse::Ok().json(AdminJson::from(admin))),
        Ok(None) => Err(api::not_found("administrator", id)),
        Err(ChangeError::LastActiveAdmin) => Err(AppError::api(
            StatusCode::CONFLICT,
            super::pages::list::LAST_ACTIVE_ADMIN,
        )),
        Err(ChangeError::Db(e)) => Err(e.into()),
    }
}
