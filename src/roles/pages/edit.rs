//! A role's page, `/roles/{id}`: its name, description and Active switch,
//! and its rules, added and removed in place (htmx) or by plain forms.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::clock::SharedClock;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::{path_id, see_other};
use crate::session::SignedInAdmin;
use crate::templates::{FieldErrors, render};

use super::find_role;
use crate::roles::domain::{NewRole, RoleForm, RuleForm};
use crate::roles::queries::{self, InsertError, RoleRow, RuleRow};

/// The rules section of a role's page: also the fragment htmx swaps in place.
struct RulesView {
    role_id: i32,
    csrf_token: String,
    rules: Vec<RuleRow>,
    services: Vec<(i32, String, String)>,
    form: RuleForm,
    errors: FieldErrors,
}

impl RulesView {
    async fn load(
        pool: &DbPool,
        role_id: i32,
        csrf_token: String,
        form: RuleForm,
        errors: FieldErrors,
    ) -> Result<Self, AppError> {
        let (rules, services) = db::run(pool, move |conn| {
            Ok::<_, diesel::result::Error>((
                queries::rules(conn, role_id)?,
                queries::service_choices(conn)?,
            ))
        })
        .await??;
        Ok(RulesView {
            role_id,
            csrf_token,
            rules,
            services,
            form,
            errors,
        })
    }
}

#[derive(Template)]
#[template(path = "roles/rules_partial.html")]
struct RulesPartial {
    partial: RulesView,
}

#[derive(Template)]
#[template(path = "roles/edit.html")]
struct EditPage {
    admin: SignedInAdmin,
    section: &'static str,
    role_id: i32,
    role_name: String,
    form: RoleForm,
    errors: FieldErrors,
    partial: RulesView,
}

async fn edit_page(
    admin: SignedInAdmin,
    pool: &DbPool,
    role: RoleRow,
    form: Option<RoleForm>,
    errors: FieldErrors,
    rule_form: RuleForm,
    rule_errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let status = if errors.is_empty() && rule_errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let partial = RulesView::load(
        pool,
        role.id,
        admin.csrf_token.clone(),
        rule_form,
        rule_errors,
    )
    .await?;
    let form = form.unwrap_or_else(|| RoleForm {
        name: role.name.clone(),
        description: role.description.clone(),
        is_active: role.is_active.then(|| "true".to_owned()),
        rate_limits: role.rate_limits().form_text(),
    });
    render(
        status,
        &EditPage {
            admin,
            section: "roles",
            role_id: role.id,
            role_name: role.name,
            form,
            errors,
            partial,
        },
    )
}

pub async fn edit(
    admin: SignedInAdmin,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, AppError> {
    let role = find_role(&pool, path_id(&path)?).await?;
    edit_page(
        admin,
        &pool,
        role,
        None,
        FieldErrors::default(),
        RuleForm::new_default(),
        FieldErrors::default(),
    )
    .await
}

pub async fn update(
    admin: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<RoleForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let now = clock.now();
    let role = find_role(&pool, path_id(&path)?).await?;
    let form = form.into_inner();
    let parsed = match NewRole::parse(&form) {
        Ok(parsed) => parsed,
        Err(errors) => {
            return edit_page(
                admin,
                &pool,
                role,
                Some(form),
                errors,
                RuleForm::new_default(),
                FieldErrors::default(),
            )
            .await;
        }
    };
    let (id, admin_id, actor) = (role.id, admin.id, admin.actor());
    let name = parsed.name.as_str().to_owned();
    let saved = db::run(&pool, move |conn| {
        queries::update(conn, id, &parsed, &actor, now)
    })
    .await?;
    match saved {
        Ok(true) => {
            log::info!("administrator {admin_id} updated role {id}");
            admin.session.flash(format!("Role “{name}” saved."))?;
            Ok(see_other(&format!("/roles/{id}")))
        }
        Ok(false) => Err(AppError::NotFound),
        Err(InsertError::NameTaken) => {
            let mut errors = FieldErrors::default();
            errors.add("name", crate::roles::domain::NAME_TAKEN);
            edit_page(
                admin,
                &pool,
                role,
                Some(form),
                errors,
                RuleForm::new_default(),
                FieldErrors::default(),
            )
            .await
        }
        Err(InsertError::Db(e)) => Err(e.into()),
    }
}

/// After a rule change: the fragment for htmx, or Post/Redirect/Get.
async fn rules_changed(
    req: &HttpRequest,
    admin: SignedInAdmin,
    pool: &DbPool,
    role_id: i32,
    message: String,
) -> Result<HttpResponse, AppError> {
    if crate::http::is_htmx(req) {
        let partial = RulesView::load(
            pool,
            role_id,
            admin.csrf_token.clone(),
            RuleForm::new_default(),
            FieldErrors::default(),
        )
        .await?;
        return render(StatusCode::OK, &RulesPartial { partial });
    }
    admin.session.flash(message)?;
    Ok(see_other(&format!("/roles/{role_id}#rules")))
}

pub async fn add_rule(
    req: HttpRequest,
    admin: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<RuleForm>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let now = clock.now();
    let role = find_role(&pool, path_id(&path)?).await?;
    let form = form.into_inner();
    let rule = match form.parse() {
        Ok(rule) => rule,
        Err(errors) => return rule_form_errors(&req, admin, &pool, role, form, errors).await,
    };
    let (role_id, actor) = (role.id, admin.actor());
    let added = db::run(&pool, move |conn| {
        queries::add_rule(conn, role_id, &rule, &actor, now)
    })
    .await??;
    if added.is_none() {
        let mut errors = FieldErrors::default();
        errors.add("service_id", "Unknown service");
        return rule_form_errors(&req, admin, &pool, role, form, errors).await;
    }
    log::info!("administrator {} added a rule to role {role_id}", admin.id);
    rules_changed(&req, admin, &pool, role_id, "Rule added.".into()).await
}

/// A rejected rule: the fragment with errors for htmx (200, so it is swapped
/// in), or the whole page with errors (422).
async fn rule_form_errors(
    req: &HttpRequest,
    admin: SignedInAdmin,
    pool: &DbPool,
    role: RoleRow,
    form: RuleForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    if crate::http::is_htmx(req) {
        let partial =
            RulesView::load(pool, role.id, admin.csrf_token.clone(), form, errors).await?;
        return render(StatusCode::OK, &RulesPartial { partial });
    }
    edit_page(
        admin,
        pool,
        role,
        None,
        FieldErrors::default(),
        form,
        errors,
    )
    .await
}

pub async fn remove_rule(
    req: HttpRequest,
    admin: SignedInAdmin,
    path: web::Path<(String, String)>,
    pool: web::Data<DbPool>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, AppError> {
    let now = clock.now();
    let (role_id, rule_id) = (path_id(&path.0)?, path_id(&path.1)?);
    let actor = admin.actor();
    let removed = db::run(&pool, move |conn| {
        queries::remove_rule(conn, role_id, rule_id, &actor, now)
    })
    .await??;
    if !removed {
        return Err(AppError::NotFound);
    }
    log::info!(
        "administrator {} removed rule {rule_id} from role {role_id}",
        admin.id
    );
    rules_changed(&req, admin, &pool, role_id, "Rule removed.".into()).await
}
