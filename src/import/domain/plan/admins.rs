//! Administrators, with their DreamFactory passwords.

use std::collections::HashSet;

use super::steps::{Action, AdminPlan, Existing, Plan, Step};
use crate::admins::domain::credentials::{self, Email};
use crate::import::domain::package::Package;
use crate::import::domain::records::AdminRecord;
use crate::import::domain::report::{Kind, Line, Outcome};

pub(super) fn plan_admins(package: &Package, existing: &Existing, plan: &mut Plan) {
    let mut seen = HashSet::new();
    for record in package.admins.iter().flatten() {
        let mut line = Line::new(Kind::Admin, record.email.trim());
        line.outcome = match plan_admin(record) {
            Err(why) => Outcome::not_imported(why),
            Ok(admin) if !seen.insert(admin.email.as_str().to_owned()) => {
                Outcome::not_imported("it appears twice in the package")
            }
            Ok(admin) if existing.admins.contains(admin.email.as_str()) => {
                line.notes
                    .push("an import never changes an administrator keyward has".into());
                Outcome::Exists
            }
            Ok(admin) => {
                if !record.user_to_app_to_role_by_user_id.is_empty() {
                    line.notes.push(format!(
                        "its {} per-app role(s) are not imported: every keyward administrator may do everything",
                        record.user_to_app_to_role_by_user_id.len()
                    ));
                }
                line.notes.push(
                    "signs in with their DreamFactory password (rehashed to argon2id at the first sign-in)".into(),
                );
                plan.admins.push(Step {
                    action: Action::Create,
                    item: admin,
                });
                Outcome::Create
            }
        };
        plan.report.lines.push(line);
    }
}

fn plan_admin(record: &AdminRecord) -> Result<AdminPlan, String> {
    let email = Email::parse(&record.email)?;
    if !credentials::is_bcrypt(record.password.trim()) {
        return Err(
            "the package has no bcrypt password for it (create it with `keyward admin create`)"
                .into(),
        );
    }
    let name = crate::text::required_line(&record.display_name(), 100, "Name")?;
    Ok(AdminPlan {
        email,
        name,
        password_hash: record.password.trim().to_owned(),
        is_active: record.is_active,
    })
}
