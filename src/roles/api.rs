//! Roles in the management API, each with its rules: listed and read with
//! any token; created, changed (partially), deleted, and rules added and
//! removed with a read-write one. The same forms' rules and the same queries
//! (and audit events) as the Roles pages.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::domain::{NAME_TAKEN, NewRole, RoleForm, RuleForm};
use super::queries::{self, InsertError, RoleRow, RuleRow};
use crate::api::{self, ApiCaller, RateLimitJson, utc};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::{ApiErrorBody, AppError};
use crate::templates::FieldErrors;

/// A verb a rule grants (HEAD is judged as GET).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum VerbJson {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl VerbJson {
    fn as_str(self) -> &'static str {
        match self {
            VerbJson::Get => "GET",
            VerbJson::Post => "POST",
            VerbJson::Put => "PUT",
            VerbJson::Patch => "PATCH",
            VerbJson::Delete => "DELETE",
        }
    }

    fn from_name(name: &str) -> Option<VerbJson> {
        [
            VerbJson::Get,
            VerbJson::Post,
            VerbJson::Put,
            VerbJson::Patch,
            VerbJson::Delete,
        ]
        .into_iter()
        .find(|verb| verb.as_str() == name)
    }
}

/// An access rule: verbs on a component of one service, or of every service.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleJson {
    pub id: i32,
    /// `null`: every service.
    pub service_id: Option<i32>,
    pub service_name: Option<String>,
    /// Empty: the service root; `*`: everything; `prefix/*`: a path and
    /// everything below it; otherwise an exact path. Matched case-sensitively.
    pub component: String,
    pub verbs: Vec<VerbJson>,
}

impl From<RuleRow> for RuleJson {
    fn from(rule: RuleRow) -> Self {
        RuleJson {
            id: rule.id,
            service_id: rule.service_id,
            verbs: rule
                .verb_names()
                .into_iter()
                .filter_map(VerbJson::from_name)
                .collect(),
            service_name: rule.service_name,
            component: rule.component,
        }
    }
}

/// A role and its rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleJson {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    /// The rate limits of its keys that set none of their own.
    pub rate_limits: Vec<RateLimitJson>,
    pub rules: Vec<RuleJson>,
}

impl RoleJson {
    fn new(role: RoleRow, rules: Vec<RuleRow>) -> Self {
        let rate_limits = role.rate_limits().iter().map(RateLimitJson::from).collect();
        RoleJson {
            id: role.id,
            name: role.name,
            description: role.description,
            is_active: role.is_active,
            created_at: utc(role.created_at),
            rate_limits,
            rules: rules.into_iter().map(RuleJson::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleList {
    pub roles: Vec<RoleJson>,
}

async fn find(pool: &DbPool, id: i32) -> Result<RoleJson, AppError> {
    let found = db::run(pool, move |conn| {
        let Some(role) = queries::find(conn, id)? else {
            return Ok(None);
        };
        Ok::<_, diesel::result::Error>(Some((role, queries::rules(conn, id)?)))
    })
    .await??;
    let (role, rules) = found.ok_or_else(|| api::not_found("role", id))?;
    Ok(RoleJson::new(role, rules))
}

/// Every role, by name, with its rules.
#[utoipa::path(get, operation_id = "list_roles", path = "/api/v1/roles", tag = "roles",
    responses((status = 200, body = RoleList), (status = 401, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn list(_caller: ApiCaller, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    let (roles, rules) = db::run(&pool, |conn| {
        Ok::<_, diesel::result::Error>((queries::list(conn)?, queries::all_rules(conn)?))
    })
    .await??;
    let mut rules_of = std::collections::HashMap::<i32, Vec<RuleRow>>::new();
    for (role_id, rule) in rules {
        rules_of.entry(role_id).or_default().push(rule);
    }
    let roles = roles
        .into_iter()
        .map(|role| {
            let rules = rules_of.remove(&role.id).unwrap_or_default();
            RoleJson::new(role, rules)
        })
        .collect();
    Ok(HttpResponse::Ok().json(RoleList { roles }))
}

/// One role with its rules.
#[utoipa::path(get, operation_id = "get_role", path = "/api/v1/roles/{id}", tag = "roles",
    params(("id" = i32, Path, description = "The role's id")),
    responses((status = 200, body = RoleJson), (status = 401, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn get(
    _caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let role = find(&pool, api::path_id(&path, "role")?).await?;
    Ok(HttpResponse::Ok().json(role))
}

/// A new role: only `name` is required; it is active unless told otherwise.
/// Rules are added to it afterwards.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoleJson {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Default rate limits for its keys (at most 5, one a window).
    #[serde(default)]
    #[schema(max_items = 5)]
    pub rate_limits: Option<Vec<RateLimitJson>>,
}

/// Changes to a role: what is left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePatchJson {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    /// `[]`: no default limits.
    #[serde(default)]
    #[schema(max_items = 5)]
    pub rate_limits: Option<Vec<RateLimitJson>>,
}

/// The role the form describes, refused with what the API found wrong first.
fn parse(form: &RoleForm, errors: FieldErrors) -> Result<NewRole, AppError> {
    api::with_errors(NewRole::parse(form), errors).map_err(|errors| api::invalid(&errors))
}

fn saved_or(error: InsertError) -> AppError {
    match error {
        InsertError::NameTaken => api::invalid_field("name", NAME_TAKEN),
        InsertError::Db(e) => e.into(),
    }
}

/// Creates a role (read-write tokens).
#[utoipa::path(post, operation_id = "create_role", path = "/api/v1/roles", tag = "roles", request_body = NewRoleJson,
    responses((status = 201, body = RoleJson), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn create(
    caller: ApiCaller,
    body: api::Body<NewRoleJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let mut errors = FieldErrors::default();
    let form = RoleForm {
        name: body.name,
        description: body.description.unwrap_or_default(),
        is_active: body.is_active.unwrap_or(true).then(|| "true".into()),
        rate_limits: api::rate_limits_text(
            &body.rate_limits.unwrap_or_default(),
            "rate_limits",
            &mut errors,
        ),
    };
    let role = parse(&form, errors)?;
    let (actor, now) = (caller.actor(), clock.now());
    let id = db::run(&pool, move |conn| queries::insert(conn, &role, &actor, now))
        .await?
        .map_err(saved_or)?;
    log::info!(
        "administrator {} created role {id} through the API",
        caller.admin_id
    );
    Ok(api::created(&find(&pool, id).await?))
}

/// Changes some fields of a role (read-write tokens).
#[utoipa::path(patch, operation_id = "update_role", path = "/api/v1/roles/{id}", tag = "roles", request_body = RolePatchJson,
    params(("id" = i32, Path, description = "The role's id")),
    responses((status = 200, body = RoleJson), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn update(
    caller: ApiCaller,
    path: web::Path<String>,
    body: api::Body<RolePatchJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "role")?;
    let stored = find(&pool, id).await?;
    let body = body.0;
    let mut errors = FieldErrors::default();
    let form = RoleForm {
        name: body.name.unwrap_or(stored.name),
        description: body.description.unwrap_or(stored.description),
        is_active: body
            .is_active
            .unwrap_or(stored.is_active)
            .then(|| "true".into()),
        rate_limits: api::rate_limits_text(
            body.rate_limits.as_deref().unwrap_or(&stored.rate_limits),
            "rate_limits",
            &mut errors,
        ),
    };
    let role = parse(&form, errors)?;
    let (actor, now) = (caller.actor(), clock.now());
    let found = db::run(&pool, move |conn| {
        queries::update(conn, id, &role, &actor, now)
    })
    .await?
    .map_err(saved_or)?;
    if !found {
        return Err(api::not_found("role", id));
    }
    Ok(HttpResponse::Ok().json(find(&pool, id).await?))
}

/// Deletes a role and its rules; its keys are left with no role (read-write
/// tokens).
#[utoipa::path(delete, operation_id = "delete_role", path = "/api/v1/roles/{id}", tag = "roles",
    params(("id" = i32, Path, description = "The role's id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ApiErrorBody),
              (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn delete(
    caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = api::path_id(&path, "role")?;
    let (actor, now) = (caller.actor(), clock.now());
    if !db::run(&pool, move |conn| queries::delete(conn, id, &actor, now)).await?? {
        return Err(api::not_found("role", id));
    }
    Ok(api::no_content())
}

/// A new rule. Leave out `service_id` (or send `null`) for every service;
/// `component` defaults to `*` (everything).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRuleJson {
    #[serde(default)]
    pub service_id: Option<i64>,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub component: Option<String>,
    #[schema(min_items = 1)]
    pub verbs: Vec<VerbJson>,
}

/// Adds a rule to a role (read-write tokens).
#[utoipa::path(post, operation_id = "add_rule", path = "/api/v1/roles/{id}/rules", tag = "roles", request_body = NewRuleJson,
    params(("id" = i32, Path, description = "The role's id")),
    responses((status = 201, body = RuleJson), (status = 400, body = ApiErrorBody),
              (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn add_rule(
    caller: ApiCaller,
    path: web::Path<String>,
    body: api::Body<NewRuleJson>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let role_id = api::path_id(&path, "role")?;
    find(&pool, role_id).await?;
    let body = body.0;
    let has = |verb: &str| {
        body.verbs
            .iter()
            .any(|v| v.as_str() == verb)
            .then(|| "on".to_owned())
    };
    let form = RuleForm {
        service_id: body.service_id.map(|id| id.to_string()).unwrap_or_default(),
        component: body.component.clone().unwrap_or_else(|| "*".into()),
        verb_get: has("GET"),
        verb_post: has("POST"),
        verb_put: has("PUT"),
        verb_patch: has("PATCH"),
        verb_delete: has("DELETE"),
    };
    let rule = form.parse().map_err(|errors| api::invalid(&errors))?;
    let (actor, now) = (caller.actor(), clock.now());
    let added = db::run(&pool, move |conn| {
        queries::add_rule(conn, role_id, &rule, &actor, now)
    })
    .await??;
    let Some(rule_id) = added else {
        // The role was found above; the service is what does not exist.
        return Err(api::invalid_field("service_id", "Unknown service"));
    };
    let role = find(&pool, role_id).await?;
    let rule = role
        .rules
        .into_iter()
        .find(|rule| rule.id == rule_id)
        .ok_or_else(|| api::not_found("rule", rule_id))?;
    Ok(api::created(&rule))
}

/// Removes a rule from a role (read-write tokens).
#[utoipa::path(delete, operation_id = "remove_rule", path = "/api/v1/roles/{id}/rules/{rule_id}", tag = "roles",
    params(("id" = i32, Path, description = "The role's id"),
           ("rule_id" = i32, Path, description = "The rule's id")),
    responses((status = 204, description = "Removed"), (status = 401, body = ApiErrorBody),
              (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("token" = [])))]
pub async fn remove_rule(
    caller: ApiCaller,
    path: web::Path<(String, String)>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let role_id = api::path_id(&path.0, "role")?;
    let rule_id = api::path_id(&path.1, "rule")?;
    let (actor, now) = (caller.actor(), clock.now());
    let removed = db::run(&pool, move |conn| {
        queries::remove_rule(conn, role_id, rule_id, &actor, now)
    })
    .await??;
    if !removed {
        return Err(AppError::api(
            actix_web::http::StatusCode::NOT_FOUND,
            format!("Role {role_id} has no rule with id {rule_id}."),
        ));
    }
    Ok(api::no_content())
}
