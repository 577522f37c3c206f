//! Administrators (`src/admins/`): the one-time setup page, signing in and
//! the sign-in wall, the Admins page (creating, deactivating, activating and
//! deleting administrators), changing one's own password, the sign-in
//! throttle, and signing in through Chromium. What the Admins page tests
//! share is here.

mod admins_page;
mod browser;
mod deactivation;
mod password;
mod setup;
mod sign_in;
mod throttle;

use diesel::prelude::*;

use crate::harness::{StatusCode, TestApp, TestResponse, Visitor};

const OTHER_EMAIL: &str = "grace@example.com";
const OTHER_PASSWORD: &str = "grace's long password";
const LAST_ACTIVE: &str = "keyward needs at least one active administrator.";

/// The list row of one administrator.
fn row(page: &TestResponse, id: i32) -> String {
    let start = page
        .body
        .find(&format!("<tr id=\"admin-{id}\""))
        .unwrap_or_else(|| panic!("no row for administrator {id}: {}", page.body));
    let end = start + page.body[start..].find("</tr>").expect("unclosed row");
    page.body[start..end].to_owned()
}

fn shows_active(row: &str) -> bool {
    row.contains("<span class=\"badge on\">Active</span>")
}

/// The id of the administrator with `email`.
fn admin_id(app: &TestApp, email: &str) -> Option<i32> {
    use keyward::schema::admins;
    let mut conn = app.pool.get().expect("no database connection");
    admins::table
        .filter(admins::email.eq(email))
        .select(admins::id)
        .first(&mut *conn)
        .optional()
        .expect("cannot read admins")
}

/// Session rows signed in as `admin_id`.
fn sessions_of(app: &TestApp, admin_id: i32) -> usize {
    app.session_rows()
        .into_iter()
        .filter(|(_, state)| state.get("admin_id") == Some(&serde_json::json!(admin_id)))
        .count()
}

/// Whether `visitor` is still signed in.
async fn signed_in(app: &mut TestApp, visitor: &mut Visitor) -> bool {
    app.swap_visitor(visitor);
    let signed_in = app.is_signed_in().await;
    app.swap_visitor(visitor);
    signed_in
}

/// Signs in from a fresh browser and answers what the login form says.
async fn try_login(app: &mut TestApp, email: &str, password: &str) -> StatusCode {
    let mut visitor = Visitor::default();
    app.swap_visitor(&mut visitor);
    let status = app.login(email, password).await.status;
    app.swap_visitor(&mut visitor);
    status
}

async fn set_active(app: &TestApp, id: i32, active: bool) -> TestResponse {
    app.post_form(
        &format!("/admins/{id}/active"),
        &[("active", if active { "true" } else { "false" })],
    )
    .await
}
