//! The Roles list, `/roles`, creating a role, and deleting one (its keys are
//! left without a role).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::{path_id, see_other};
use crate::session::SignedInAdmin;
use crate::templates::{FieldErrors, render};

use super::find_role;
use crate::roles::domain::{NewRole, RoleForm};
use crate::roles::queries::{self, InsertError, RoleRow};

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

pub async fn list(admin: SignedInAdmin, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    let roles = db::run(&pool, queries::list).await??;
    render(
        StatusCode::OK,
        &ListPage {
            admin,
            section: "roles",
            roles,
        },
    )
}

pub async fn new(admin: SignedInAdmin) -> Result<HttpResponse, AppError> {
    render(
        StatusCode::OK,
        &FormPage {
            admin,
            section: "roles",
            form: RoleForm::new_role(),
            errors: FieldErrors::default(),
        },
    )
}

pub async fn create(
    admin: SignedInAdmin,
    form: web::Form<RoleForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let now = clock.now();
    let form = form.into_inner();
    let role = match NewRole::parse(&form) {
        Ok(role) => role,
        Err(errors) => {
            return render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &FormPage {
                    admin,
                    section: "roles",
                    form,
                    errors,
                },
            );
        }
    };
    let actor = admin.actor();
    let name = role.name.as_str().to_owned();
    let inserted = db::run(&pool, move |conn| queries::insert(conn, &role, &actor, now)).await?;
    match inserted {
        Ok(_) => {
            admin.session.flash(format!("Role “{name}” created."))?;
            Ok(see_other("/roles"))
        }
        Err(InsertError::NameTaken) => {
            let mut errors = FieldErrors::default();
            errors.add("name", crate::roles::domain::NAME_TAKEN);
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &FormPage {
                    admin,
                    section: "roles",
                    form,
                    errors,
                },
            )
        }
        Err(InsertError::Db(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "roles/delete.html")]
struct DeletePage {
    admin: SignedInAdmin,
    section: &'static str,
    role: RoleRow,
    app_names: Vec<String>,
    rule_count: usize,
}

pub async fn confirm_delete(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let role = find_role(&pool, path_id(&path)?).await?;
    let id = role.id;
    let (app_names, rule_count) = db::run(&pool, move |conn| {
        Ok::<_, diesel::result::Error>((
            queries::app_names(conn, id)?,
            queries::rules(conn, id)?.len(),
        ))
    })
    .await??;
    render(
        StatusCode::OK,
        &DeletePage {
            admin,
            section: "roles",
            role,
            app_names,
            rule_count,
        },
    )
}

pub async fn delete(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let now = clock.now();
    let role = find_role(&pool, path_id(&path)?).await?;
    let (id, actor) = (role.id, admin.actor());
    let deleted = db::run(&pool, move |conn| queries::delete(conn, id, &actor, now));
    if !deleted.await?? {
        return Err(AppError::NotFound);
    }
    log::info!("administrator {} deleted role {id}", admin.id);
    admin
        .session
        .flash(format!("Role “{}” deleted.", role.name))?;
    Ok(see_other("/roles"))
}
