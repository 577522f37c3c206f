//! The Services pages: the list, the service form (new and edit) and the
//! deletion, which says which rules and keys it affects.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;

use super::domain::{NewService, ServiceForm};
use super::queries::{self, ServiceRow, Usage, WriteError};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::{path_id, see_other};
use crate::session::SignedInAdmin;
use crate::templates::{FieldErrors, render};

const SECTION: &str = "services";

#[derive(Template)]
#[template(path = "services/list.html")]
struct ListPage {
    admin: SignedInAdmin,
    section: &'static str,
    services: Vec<ServiceRow>,
}

pub async fn list(admin: SignedInAdmin, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    let services = db::run(&pool, queries::list).await??;
    render(
        StatusCode::OK,
        &ListPage {
            admin,
            section: SECTION,
            services,
        },
    )
}

/// The Create Service and Edit Service form; `editing` is the id of the
/// service being edited.
#[derive(Template)]
#[template(path = "services/form.html")]
struct FormPage {
    admin: SignedInAdmin,
    section: &'static str,
    editing: Option<i32>,
    form: ServiceForm,
    errors: FieldErrors,
}

fn form_page(
    admin: SignedInAdmin,
    editing: Option<i32>,
    form: ServiceForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    render(
        errors.status(),
        &FormPage {
            admin,
            section: SECTION,
            editing,
            form,
            errors,
        },
    )
}

pub async fn new(admin: SignedInAdmin) -> Result<HttpResponse, AppError> {
    form_page(
        admin,
        None,
        ServiceForm::new_service(),
        FieldErrors::default(),
    )
}

pub async fn edit(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&path)?;
    let service = db::run_found(&pool, move |conn| queries::find(conn, id)).await?;
    let form = ServiceForm {
        name: service.name,
        label: service.label,
        description: service.description,
        kind: service.kind,
        is_active: service.is_active.then(|| "true".into()),
    };
    form_page(admin, Some(id), form, FieldErrors::default())
}

pub async fn create(
    admin: SignedInAdmin,
    form: web::Form<ServiceForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    save(admin, None, form.into_inner(), &pool, clock.now()).await
}

pub async fn update(
    admin: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<ServiceForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&path)?;
    save(admin, Some(id), form.into_inner(), &pool, clock.now()).await
}

/// Creates a service (`editing` is `None`) or saves one, then goes back to the
/// list; an invalid form or a taken name shows the form again.
async fn save(
    admin: SignedInAdmin,
    editing: Option<i32>,
    form: ServiceForm,
    pool: &DbPool,
    now: NaiveDateTime,
) -> Result<HttpResponse, AppError> {
    let service = match NewService::parse(&form) {
        Ok(service) => service,
        Err(errors) => return form_page(admin, editing, form, errors),
    };
    let name = service.name.as_str().to_owned();
    let actor = admin.actor();
    let saved = db::run(pool, move |conn| match editing {
        None => queries::insert(conn, &service, &actor, now),
        Some(id) => queries::update(conn, id, &service, &actor, now).map(|()| id),
    })
    .await?;
    match saved {
        Ok(id) => {
            let (done, flash) = match editing {
                None => ("created", format!("Service “{name}” created.")),
                Some(_) => ("updated", format!("Service “{name}” saved.")),
            };
            log::info!("administrator {} {done} service {id}", admin.id);
            admin.session.flash(flash)?;
            Ok(see_other("/services"))
        }
        Err(WriteError::NameTaken) => {
            let mut errors = FieldErrors::default();
            errors.add("name", super::domain::NAME_TAKEN);
            form_page(admin, editing, form, errors)
        }
        Err(WriteError::NotFound) => Err(AppError::NotFound),
        Err(WriteError::Db(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "services/delete.html")]
struct DeletePage {
    admin: SignedInAdmin,
    section: &'static str,
    service: ServiceRow,
    usage: Usage,
}

impl DeletePage {
    /// "This service is used by 2 rules and 1 API key."
    fn usage_summary(&self) -> String {
        let count =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "This service is used by {} and {}.",
            count(self.usage.rules.len(), "rule", "rules"),
            count(self.usage.apps.len(), "API key", "API keys"),
        )
    }
}

pub async fn confirm_delete(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&path)?;
    let found = db::run(&pool, move |conn| {
        let Some(service) = queries::find(conn, id)? else {
            return Ok(None);
        };
        Ok::<_, diesel::result::Error>(Some((service, queries::usage(conn, id)?)))
    })
    .await??;
    let (service, usage) = found.ok_or(AppError::NotFound)?;
    render(
        StatusCode::OK,
        &DeletePage {
            admin,
            section: SECTION,
            service,
            usage,
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
    let (id, actor) = (path_id(&path)?, admin.actor());
    let name = db::run_found(&pool, move |conn| queries::delete(conn, id, &actor, now)).await?;
    log::info!("administrator {} deleted service {id}", admin.id);
    admin.session.flash(format!("Service “{name}” deleted."))?;
    Ok(see_other("/services"))
}
