//! The Import page, `/import`: an administrator uploads a DreamFactory
//! package, reads the report of what it would do (nothing is written yet),
//! and confirms; the import then runs and its report stays on the page.
//!
//! Between the upload and the confirmation the read package waits in this
//! instance's memory (it holds the apps' keys, which must touch no disk and
//! no database in plain text), for the administrator who uploaded it only,
//! for [`UPLOAD_KEPT`] at most. Behind a load balancer the confirmation must
//! reach the same instance (sticky sessions), or use `keyward import`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use futures_util::StreamExt;

use super::domain::report::{Line, Outcome};
use super::domain::{MAX_PACKAGE_BYTES, Options, Package, PackageError, Report};
use super::queries::{self, ImportError};
use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::see_other;
use crate::session::SignedInAdmin;
use crate::templates::{FieldErrors, render};

/// How long an uploaded package waits for its confirmation.
pub const UPLOAD_KEPT: Duration = Duration::from_secs(15 * 60);
/// Uploads held at once on an instance; the oldest goes first.
const MAX_UPLOADS: usize = 16;

/// The uploads waiting for confirmation (and the reports of those done).
#[derive(Default)]
pub struct Uploads(Mutex<HashMap<String, Upload>>);

struct Upload {
    admin_id: i32,
    at: Instant,
    file_name: String,
    options: Options,
    state: State,
}

enum State {
    /// Read, with its dry run's report; the package waits for "Import".
    Waiting {
        package: Box<Package>,
        report: Report,
    },
    /// Imported; only the report is kept.
    Done { report: Report },
}

impl Uploads {
    fn keep(&self, upload: Upload) -> String {
        let id = crate::random::token();
        let mut uploads = self.0.lock().unwrap_or_else(|e| e.into_inner());
        uploads.retain(|_, u| u.at.elapsed() < UPLOAD_KEPT);
        while uploads.len() >= MAX_UPLOADS {
            let oldest = uploads
                .iter()
                .min_by_key(|(_, u)| u.at)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(oldest) => uploads.remove(&oldest),
                None => break,
            };
        }
        uploads.insert(id.clone(), upload);
        id
    }

    /// Runs `f` on the upload `id` of `admin_id`, if it is still kept.
    fn with<T>(&self, id: &str, admin_id: i32, f: impl FnOnce(&mut Upload) -> T) -> Option<T> {
        let mut uploads = self.0.lock().unwrap_or_else(|e| e.into_inner());
        uploads
            .get_mut(id)
            .filter(|u| u.admin_id == admin_id && u.at.elapsed() < UPLOAD_KEPT)
            .map(f)
    }
}

/// The upload form as sent (the file aside), kept when it is shown again.
#[derive(Debug, Default)]
struct UploadForm {
    update: bool,
    keep_public_keys: bool,
    with_admins: bool,
}

#[derive(Template)]
#[template(path = "import/upload.html")]
struct UploadPage {
    admin: SignedInAdmin,
    section: &'static str,
    form: UploadForm,
    errors: FieldErrors,
    max_mib: usize,
}

fn upload_page(
    admin: SignedInAdmin,
    form: UploadForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    render(
        errors.status(),
        &UploadPage {
            admin,
            section: "import",
            form,
            errors,
            max_mib: MAX_PACKAGE_BYTES / 1024 / 1024,
        },
    )
}

pub async fn show_upload(admin: SignedInAdmin) -> Result<HttpResponse, AppError> {
    upload_page(admin, UploadForm::default(), FieldErrors::default())
}

/// The fields of the upload, read from the multipart stream with limits.
#[derive(Default)]
struct Sent {
    file: Option<(String, Vec<u8>)>,
    password: String,
    form: UploadForm,
    too_large: bool,
}

async fn read_upload(mut multipart: Multipart) -> Result<Sent, AppError> {
    let mut sent = Sent::default();
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| AppError::BadRequest(e.to_string()))?;
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .unwrap_or_default()
            .to_owned();
        let limit = if name == "package" {
            MAX_PACKAGE_BYTES
        } else {
            1024
        };
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| AppError::BadRequest(e.to_string()))?;
            if value.len() + chunk.len() > limit {
                sent.too_large = name == "package";
                value.clear();
                // Read on to the end of the field, keeping nothing.
                while field.next().await.is_some() {}
                break;
            }
            value.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8_lossy(&value).trim().to_owned();
        match name.as_str() {
            // The name is only shown back (escaped), and not at any length.
            "package" if !value.is_empty() => {
                sent.file = Some((file_name.chars().take(120).collect(), value))
            }
            "password" => sent.password = String::from_utf8_lossy(&value).into_owned(),
            "update" => sent.form.update = !text().is_empty(),
            "keep_public_keys" => sent.form.keep_public_keys = !text().is_empty(),
            "with_admins" => sent.form.with_admins = !text().is_empty(),
            _ => {}
        }
    }
    Ok(sent)
}

/// The upload: reads the package and plans its import without writing, then
/// shows the report on its own page.
pub async fn upload(
    admin: SignedInAdmin,
    multipart: Multipart,
    pool: web::Data<DbPool>,
    uploads: web::Data<Uploads>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let Sent {
        file,
        password,
        form,
        too_large,
    } = read_upload(multipart).await?;
    let mut errors = FieldErrors::default();
    let Some((file_name, bytes)) = file else {
        let message = if too_large {
            format!(
                "The package is larger than {} MiB",
                MAX_PACKAGE_BYTES / 1024 / 1024
            )
        } else {
            "Choose the package (.zip) that DreamFactory's Export made".into()
        };
        errors.add("package", message);
        return upload_page(admin, form, errors);
    };
    let password = Some(password).filter(|p| !p.is_empty());
    let package = match web::block(move || Package::read(&bytes, password.as_deref())).await {
        Ok(Ok(package)) => package,
        Ok(Err(why)) => {
            let field = match why {
                PackageError::PasswordRequired | PackageError::WrongPassword => "password",
                _ => "package",
            };
            errors.add(field, capitalised(&why.to_string()));
            return upload_page(admin, form, errors);
        }
        Err(e) => return Err(anyhow::anyhow!("reading a package failed: {e}").into()),
    };
    let options = Options {
        dry_run: true,
        update: form.update,
        keep_public_keys: form.keep_public_keys,
        with_admins: form.with_admins,
    };
    let (actor, now) = (admin.actor(), clock.now());
    let package = Box::new(package);
    let planned = db::run(&pool, move |conn| {
        let report = queries::import(conn, &package, options, &actor, now);
        report.map(|report| (package, report))
    })
    .await?;
    let (package, report) = match planned {
        Ok(planned) => planned,
        Err(ImportError::Db(e)) => return Err(e.into()),
        Err(ImportError::Refused(why)) => {
            errors.add("package", capitalised(&why));
            return upload_page(admin, form, errors);
        }
    };
    let id = uploads.keep(Upload {
        admin_id: admin.id,
        at: Instant::now(),
        file_name,
        options,
        state: State::Waiting { package, report },
    });
    Ok(see_other(&format!("/import/{id}")))
}

fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[derive(Template)]
#[template(path = "import/report.html")]
struct ReportPage {
    admin: SignedInAdmin,
    section: &'static str,
    id: String,
    file_name: String,
    options: Options,
    done: bool,
    report: Report,
    /// Why the confirmed import wrote nothing.
    error: Option<String>,
}

impl ReportPage {
    fn outcome_label(&self, line: &Line) -> &'static str {
        line.outcome.label(self.done)
    }

    fn reason<'a>(&self, line: &'a Line) -> Option<&'a str> {
        match &line.outcome {
            Outcome::NotImported(why) => Some(why),
            _ => None,
        }
    }

    fn summary(&self) -> String {
        self.report.summary(self.done)
    }
}

pub async fn show_report(
    admin: SignedInAdmin,
    path: web::Path<String>,
    uploads: web::Data<Uploads>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let shown = uploads.with(&id, admin.id, |upload| {
        let (done, report) = match &upload.state {
            State::Waiting { report, .. } => (false, report.clone()),
            State::Done { report } => (true, report.clone()),
        };
        (upload.file_name.clone(), upload.options, done, report)
    });
    let Some((file_name, options, done, report)) = shown else {
        return Err(AppError::NotFound);
    };
    render(
        StatusCode::OK,
        &ReportPage {
            admin,
            section: "import",
            id,
            file_name,
            options,
            done,
            report,
            error: None,
        },
    )
}

/// "Import": runs the import of a waiting upload for real.
pub async fn confirm(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
    uploads: web::Data<Uploads>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    // Taken out while it runs, so a second click cannot import it twice.
    let taken = uploads.with(&id, admin.id, |upload| {
        match std::mem::replace(
            &mut upload.state,
            State::Done {
                report: Report::default(),
            },
        ) {
            State::Waiting { package, report } => Ok((package, upload.options, report)),
            done => {
                upload.state = done;
                Err(())
            }
        }
    });
    let (package, options, waiting_report) = match taken {
        None => return Err(AppError::NotFound),
        // Already imported: show what it did.
        Some(Err(())) => return Ok(see_other(&format!("/import/{id}"))),
        Some(Ok(taken)) => taken,
    };
    let options = Options {
        dry_run: false,
        ..options
    };
    let (actor, now) = (admin.actor(), clock.now());
    let result = {
        let package = package.clone();
        db::run(&pool, move |conn| {
            queries::import(conn, &package, options, &actor, now)
        })
        .await
    };
    let failure = match result {
        Ok(Ok(report)) => {
            let summary = report.summary(true);
            uploads.with(&id, admin.id, |upload| {
                upload.state = State::Done { report }
            });
            admin
                .session
                .flash(format!("Imported from DreamFactory: {summary}."))?;
            return Ok(see_other(&format!("/import/{id}")));
        }
        Ok(Err(ImportError::Refused(why))) => Ok(capitalised(&why)),
        Ok(Err(ImportError::Db(e))) => Err(AppError::from(e)),
        Err(e) => Err(e),
    };
    // Nothing was written: the upload waits again.
    let file_name = uploads
        .with(&id, admin.id, |upload| {
            upload.state = State::Waiting {
                package,
                report: waiting_report.clone(),
            };
            upload.file_name.clone()
        })
        .unwrap_or_default();
    let why = failure?;
    render(
        StatusCode::CONFLICT,
        &ReportPage {
            admin,
            section: "import",
            id,
            file_name,
            options,
            done: false,
            report: waiting_report,
            error: Some(why),
        },
    )
}
