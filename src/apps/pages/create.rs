//! Create Application, `/api-keys/new`: the form DreamFactory's **+** opens.

use actix_web::{HttpResponse, web};

use super::{form_page, insert_with_new_key, show_new_key, write_errors};
use crate::apps::domain::{AppForm, NewApp};
use crate::clock::SharedClock;
use crate::db::DbPool;
use crate::error::AppError;
use crate::session::{CookieConfig, SignedInAdmin};
use crate::templates::FieldErrors;

pub async fn new(admin: SignedInAdmin, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    form_page(
        admin,
        &pool,
        AppForm::new_app(),
        FieldErrors::default(),
        None,
    )
    .await
}

pub async fn create(
    admin: SignedInAdmin,
    form: web::Form<AppForm>,
    pool: web::Data<DbPool>,
    cookies: web::Data<CookieConfig>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let now = clock.now();
    let app = match NewApp::parse(&form) {
        Ok(app) if app.expires_at.is_some_and(|at| at <= now) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "expires_at",
                "The expiry of a new key must be in the future",
            );
            return form_page(admin, &pool, form, errors, None).await;
        }
        Ok(app) => app,
        Err(errors) => return form_page(admin, &pool, form, errors, None).await,
    };
    let admin_id = admin.id;
    let inserted = insert_with_new_key(&pool, app, admin.actor(), now).await?;
    match inserted {
        Ok((app_id, key)) => {
            log::info!("administrator {admin_id} created app {app_id}");
            show_new_key(&admin, &cookies, app_id, &key)
        }
        Err(error) => {
            let errors = write_errors(error)?;
            form_page(admin, &pool, form, errors, None).await
        }
    }
}
