//! Roles: named sets of access rules that API keys carry. This page lists and
//! creates them; `/api-keys` offers them as "Assign a Default Role".

pub mod domain;
pub mod queries;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use self::domain::{NewRole, RoleForm};
use self::queries::{InsertError, RoleRow};
use crate::auth::login::see_other;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::session::SignedInAdmin;
use crate::templates::{FieldErrors, render};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/roles").route(web::get().to(list)).route(web::post().to(create)))
        .service(web::resource("/roles/new").route(web::get().to(new)));
}

#[derive(Template)]
#[template(path = "roles/list.html")]
struct ListPage {
    admin: SignedInAdmin,
    section: &'static str,
    roles: Vec<RoleRow>,
}

#[derive(Template)]
#[template(path = "roles/form.html")]
struct FormPage {
    admin: SignedInAdmin,
    section: &'static str,
    form: RoleForm,
    errors: FieldErrors,
}

async fn list(admin: SignedInAdmin, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    let roles = db::run(&pool, queries::list).await??;
    render(StatusCode::OK, &ListPage { admin, section: "roles", roles })
}

async fn new(admin: SignedInAdmin) -> Result<HttpResponse, AppError> {
    render(
        StatusCode::OK,
        &FormPage { admin, section: "roles", form: RoleForm::default(), errors: FieldErrors::default() },
    )
}

async fn create(
    admin: SignedInAdmin,
    form: web::Form<RoleForm>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let role = match NewRole::parse(&form) {
        Ok(role) => role,
        Err(errors) => {
            return render(StatusCode::UNPROCESSABLE_ENTITY, &FormPage { admin, section: "roles", form, errors });
        }
    };
    let admin_id = admin.id;
    let name = role.name.as_str().to_owned();
    let inserted =
        db::run(&pool, move |conn| queries::insert(conn, &role, admin_id, chrono::Utc::now().naive_utc())).await?;
    match inserted {
        Ok(_) => {
            admin.session.flash(format!("Role “{name}” created."))?;
            Ok(see_other("/roles"))
        }
        Err(InsertError::NameTaken) => {
            let mut errors = FieldErrors::default();
            errors.add("name", "A role with this name already exists");
            render(StatusCode::UNPROCESSABLE_ENTITY, &FormPage { admin, section: "roles", form, errors })
        }
        Err(InsertError::Db(e)) => Err(e.into()),
    }
}
