//! The API Keys pages: the list, the Create and Edit Application form, the
//! page that shows a new key once, and rolling, duplicating and deleting a
//! key. What several of them share is here.

pub mod create;
pub mod edit;
pub mod key;
pub mod list;
pub mod roll;

use std::sync::Arc;

use actix_web::HttpResponse;
use askama::Template;
use chrono::NaiveDateTime;

use super::domain::{ApiKey, AppForm, NewApp};
use super::queries::write::{self, InsertError};
use super::queries::{self, AppDetail, RoleChoice, StorageChoice};
use crate::db::audit::Actor;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::limits::{Refill, grouped};
use crate::session::{CookieConfig, SignedInAdmin};
use crate::templates::{FieldErrors, render};
use crate::usage::view::UsageView;

#[derive(Template)]
#[template(path = "apps/form.html")]
struct FormPage {
    admin: SignedInAdmin,
    section: &'static str,
    form: AppForm,
    errors: FieldErrors,
    roles: Vec<RoleChoice>,
    storage_services: Vec<StorageChoice>,
    /// Set on the Edit Application page.
    editing: Option<EditInfo>,
}

impl FormPage {
    /// The location the form shows as chosen ("0" when none was sent).
    fn chosen_location(&self) -> &str {
        match self.form.location.trim() {
            "" => "0",
            other => other,
        }
    }
}

/// What the Edit Application page shows besides the form.
pub struct EditInfo {
    pub id: i32,
    pub key_prefix: String,
    /// The key came from DreamFactory (until it is rolled).
    pub legacy_key: bool,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    /// When the previous key stops working, while it still does.
    pub previous_until: Option<NaiveDateTime>,
    pub launch_url: Option<String>,
    pub expired: bool,
    /// "Expires in 3 days", within the warning time (`--expiry-warning-days`).
    pub expiring: Option<String>,
    /// "9,998 of 10,000 requests left this month", for a key with a quota.
    pub quota_left: Option<String>,
    /// The role's limits, which the key has while it sets none of its own.
    pub role_rate_limits: Option<String>,
    /// Its requests over the period chosen, charted.
    pub usage: Arc<UsageView>,
}

impl EditInfo {
    /// `quota_used`: what the key's quota has counted in the current period.
    fn new(
        detail: &AppDetail,
        quota_used: u64,
        usage: Arc<UsageView>,
        now: NaiveDateTime,
        api_base_path: &str,
        warning_days: u32,
    ) -> Self {
        let app = &detail.app;
        EditInfo {
            id: app.id,
            key_prefix: app.key_prefix.clone(),
            legacy_key: app.legacy_key,
            created_at: app.created_at,
            last_used_at: app.last_used_at,
            previous_until: app.previous_key_until(now),
            launch_url: app
                .location
                .launch_url(detail.storage_service_name.as_deref(), api_base_path),
            expired: app.expired_at(now),
            expiring: crate::apps::domain::expiry::warning(app.expires_at, now, warning_days),
            quota_left: app.quota.map(|quota| {
                let left = grouped(quota.total.saturating_sub(quota_used));
                let total = grouped(quota.total);
                match quota.refill {
                    Refill::Never => format!("{left} of {total} requests left"),
                    Refill::Daily => format!("{left} of {total} requests left today"),
                    Refill::Monthly => format!("{left} of {total} requests left this month"),
                }
            }),
            role_rate_limits: (!detail.role_rate_limits.is_empty())
                .then(|| detail.role_rate_limits.describe()),
            usage,
        }
    }
}

/// The Create (or, with `editing`, Edit) Application form; 422 with errors.
async fn form_page(
    admin: SignedInAdmin,
    pool: &DbPool,
    mut form: AppForm,
    errors: FieldErrors,
    editing: Option<EditInfo>,
) -> Result<HttpResponse, AppError> {
    let (roles, storage_services) = db::run(pool, |conn| {
        Ok::<_, diesel::result::Error>((
            queries::role_choices(conn)?,
            queries::storage_service_choices(conn)?,
        ))
    })
    .await??;
    // As DreamFactory does, a blank form has the first file-storage service
    // chosen, so "On a provisioned file storage service." saves as it is.
    // A form shown again with errors keeps what was sent.
    if editing.is_none()
        && errors.is_empty()
        && form.storage_service_id.trim().is_empty()
        && let Some(first) = storage_services.first()
    {
        form.storage_service_id = first.id.to_string();
    }
    render(
        errors.status(),
        &FormPage {
            admin,
            section: "apps",
            form,
            errors,
            roles,
            storage_services,
            editing,
        },
    )
}

/// A refused write as form errors; other failures stay errors.
pub fn write_errors(error: InsertError) -> Result<FieldErrors, AppError> {
    let mut errors = FieldErrors::default();
    match error {
        InsertError::NameTaken => {
            errors.add("name", "An application with this name already exists")
        }
        InsertError::UnknownRole => errors.add("role_id", "Unknown role"),
        InsertError::UnknownStorageService => {
            errors.add("storage_service_id", "Unknown storage service")
        }
        // Only an import writes a key it did not make; the form never does.
        InsertError::KeyTaken => errors.add("key", "Another application already has this key"),
        InsertError::Db(e) => return Err(e.into()),
    }
    Ok(errors)
}

/// Creates an app with a fresh key; the key comes back to be shown once.
pub(super) async fn insert_with_new_key(
    pool: &DbPool,
    app: NewApp,
    actor: Actor,
    now: NaiveDateTime,
) -> Result<Result<(i32, ApiKey), InsertError>, AppError> {
    let key = ApiKey::generate();
    let inserted = db::run(pool, {
        let key = key.clone();
        move |conn| write::insert(conn, &app, &key, &actor, now)
    })
    .await?;
    Ok(inserted.map(|id| (id, key)))
}

/// After a key was made (created, rolled, duplicated): Post/Redirect/Get to
/// the page that shows it once.
fn show_new_key(
    admin: &SignedInAdmin,
    cookies: &CookieConfig,
    app_id: i32,
    key: &ApiKey,
) -> Result<HttpResponse, AppError> {
    let mut response = HttpResponse::SeeOther();
    response.insert_header((
        actix_web::http::header::LOCATION,
        format!("/api-keys/{app_id}/key"),
    ));
    key::NEW_KEY.seal(&mut response, &admin.session, cookies, app_id, key.expose())?;
    Ok(response.finish())
}
