//! Every console page in a real browser, as a new user meets it: axe-core
//! finds no violation on any page, signed out or in, with its errors shown or
//! not; at 390 pixels no page is wider than the screen (the navbar wraps,
//! tables scroll in their own box); at 1280 an audit event's changes show
//! without scrolling sideways.
//!
//! axe-core comes from the npm registry: `.ci/run` installs it into
//! `target/tools/node_modules` (`npm install --prefix target/tools axe-core@4`).

use std::path::PathBuf;

use crate::harness::{Backend, Browser, skip_or_fail, spawn_app_with};

fn axe_script() -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/tools/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(script) => Some(script),
        Err(_) => {
            skip_or_fail(&format!(
                "axe-core not found at {} (npm install --prefix target/tools axe-core@4)",
                path.display()
            ));
            None
        }
    }
}

/// What the pages showed that a user would notice.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    /// Checks the page the browser shows: axe-core, and at 390 pixels the
    /// page's width.
    async fn check(&mut self, browser: &Browser, axe: &str, page: &str) {
        for violation in browser.axe_violations(axe).await {
            self.0.push(format!("{page}: {violation}"));
        }
        let (page_width, window) = browser.page_and_window_width().await;
        if window <= 400 && page_width > window {
            self.0.push(format!(
                "{page}: {page_width} px wide in a {window} px window"
            ));
        }
        browser
            .screenshot(&format!("a11y-{}", page.replace(['/', ' ', '?'], "_")))
            .await;
    }
}

#[tokio::test]
async fn every_page_is_accessible_and_fits_a_phone() {
    let Some(axe) = axe_script() else {
        return;
    };
    let Some(app) = spawn_app_with(Backend::Sqlite, |_| {}).await else {
        return;
    };
    let Some(browser) = Browser::new().await else {
        return;
    };
    let mut findings = Findings::default();
    for width in [390, 1280] {
        browser.set_width(width).await;
        let at = |page: &str| format!("{page} @{width}");
        let signed_in = width == 1280;
        if !signed_in {
            // Signed out: the setup page, empty and with its errors.
            let setup = app.setup_url.clone().expect("a setup URL");
            browser.goto(&setup).await;
            findings.check(&browser, &axe, &at("setup")).await;
            browser.skip_form_validation().await;
            browser.click_button("Create administrator").await;
            browser.wait_for_text("required").await;
            findings
                .check(&browser, &axe, &at("setup with errors"))
                .await;
            browser.fill_by_label("Email", "ada@example.com").await;
            browser
                .fill_by_label("Password", "a long enough password")
                .await;
            browser
                .fill_by_label("Confirm password", "a long enough password")
                .await;
            browser.click_button("Create administrator").await;
            browser.wait_for_button("Sign out").await;
            browser.click_button("Sign out").await;
            browser.wait_for_text("Sign in").await;
            findings.check(&browser, &axe, &at("login")).await;
            browser.fill_by_label("Email", "ada@example.com").await;
            browser.fill_by_label("Password", "not the password").await;
            browser.click_button("Sign in").await;
            browser.wait_for_text("Incorrect email or password").await;
            findings
                .check(&browser, &axe, &at("login with an error"))
                .await;
            browser.goto(&app.url("/no-such-page")).await;
            findings.check(&browser, &axe, &at("404")).await;
        }
        browser
            .login(&app, "ada@example.com", "a long enough password")
            .await;

        // Something on every page: a service, a role with a rule, keys.
        if !signed_in {
            browser.goto(&app.url("/services/new")).await;
            browser.wait_for_text("Label").await;
            findings.check(&browser, &axe, &at("new service")).await;
            browser.skip_form_validation().await;
            browser.click_button("Save").await;
            browser.wait_for_text("required").await;
            findings
                .check(&browser, &axe, &at("new service with errors"))
                .await;
            browser.fill_by_label("Name", "db").await;
            browser.fill_by_label("Label", "The database").await;
            browser.click_button("Save").await;
            browser.wait_for_path("/services").await;
            browser.wait_for_text("created").await;

            browser.goto(&app.url("/roles/new")).await;
            browser.wait_for_text("Description").await;
            findings.check(&browser, &axe, &at("new role")).await;
            browser.skip_form_validation().await;
            browser.click_button("Save").await;
            browser.wait_for_text("required").await;
            findings
                .check(&browser, &axe, &at("new role with errors"))
                .await;
            browser.fill_by_label("Name", "Readers").await;
            browser.click_button("Save").await;
            browser.wait_for_path("/roles").await;
            browser.wait_for_text("Role “Readers” created.").await;

            browser.goto(&app.url("/api-keys/new")).await;
            browser.wait_for_text("App Location").await;
            findings.check(&browser, &axe, &at("new key")).await;
            browser.click_label("On a remote URL.").await;
            browser.skip_form_validation().await;
            browser.click_button("Save").await;
            browser.wait_for_text("required").await;
            findings
                .check(&browser, &axe, &at("new key with errors"))
                .await;
            browser
                .fill_by_label(
                    "Application Name",
                    "A key with a rather long name for a phone",
                )
                .await;
            browser
                .fill_by_label("URL to Application", "https://app.example.com/")
                .await;
            browser
                .select_by_label("Assign a Default Role", "Readers")
                .await;
            browser.click_button("Save").await;
            browser.wait_for_text("It will not be shown again").await;
            findings.check(&browser, &axe, &at("the new key")).await;
        }
        let role = app.role_id("Readers");
        let service = app.service_id("db");
        let key = {
            use diesel::prelude::*;
            use keyward::schema::apps;
            let mut conn = app.pool.get().unwrap();
            apps::table
                .select(apps::id)
                .first::<i32>(&mut *conn)
                .unwrap()
        };
        // Requests to chart: the key's, and one with an unknown key.
        {
            let mut conn = app.pool.get().unwrap();
            let hour = keyward::usage::Granularity::Hour.floor(chrono::Utc::now().timestamp());
            keyward::usage::queries::add(
                &mut conn,
                &[
                    ((key, hour, "VALID"), 7),
                    ((key, hour, "FORBIDDEN"), 2),
                    ((keyward::usage::GLOBAL, hour, "NOT_FOUND"), 1),
                ],
            )
            .unwrap();
        }
        if !signed_in {
            browser.goto(&app.url(&format!("/roles/{role}"))).await;
            // GET comes checked: without it the rule has no verb.
            browser.click_label("GET").await;
            browser.skip_form_validation().await;
            browser.click_button("Add rule").await;
            browser.wait_for_text("Choose at least one verb").await;
            findings
                .check(&browser, &axe, &at("a rule with errors"))
                .await;
            browser.goto(&app.url("/admins/new")).await;
            browser.skip_form_validation().await;
            browser.click_button("Save").await;
            browser.wait_for_text("required").await;
            findings
                .check(&browser, &axe, &at("new administrator with errors"))
                .await;
            browser.goto(&app.url("/account/password")).await;
            browser.skip_form_validation().await;
            browser.click_button("Change password").await;
            browser.wait_for_text("required").await;
            findings
                .check(&browser, &axe, &at("password change with errors"))
                .await;
        } else {
            // A long value in the log, to see it wrap at desktop width.
            browser.goto(&app.url(&format!("/api-keys/{key}"))).await;
            browser
                .fill_by_label(
                    "Description",
                    &"https://example.com/a/very/long/path/without/any/space/in/it ".repeat(3),
                )
                .await;
            browser.click_button("Save").await;
            browser.wait_for_text("saved").await;
        }
        // An API token, made by the same administrator in another client.
        if !signed_in {
            let signed = app.login("ada@example.com", "a long enough password").await;
            assert_eq!(signed.status, crate::harness::StatusCode::SEE_OTHER);
        }
        let (token, _) = app.create_token(&format!("a11y {width}"), "read").await;
        for page in [
            "/dashboard".to_owned(),
            "/dashboard?usage=30d".to_owned(),
            "/webhooks".to_owned(),
            format!("/api-keys/{key}?usage=7d"),
            "/api-keys".to_owned(),
            "/api-keys?q=nothing-matches".to_owned(),
            format!("/api-keys/{key}"),
            format!("/api-keys/{key}/roll"),
            format!("/api-keys/{key}/duplicate"),
            format!("/api-keys/{key}/delete"),
            "/roles".to_owned(),
            format!("/roles/{role}"),
            format!("/roles/{role}/delete"),
            "/services".to_owned(),
            format!("/services/{service}"),
            format!("/services/{service}/delete"),
            "/admins".to_owned(),
            "/admins/new".to_owned(),
            "/admins/1/delete".to_owned(),
            "/account/password".to_owned(),
            "/audit".to_owned(),
            "/api-docs".to_owned(),
            "/import".to_owned(),
            "/admins/tokens".to_owned(),
            "/admins/tokens/new".to_owned(),
            format!("/admins/tokens/{token}/token"),
            format!("/admins/tokens/{token}/revoke"),
        ] {
            browser.goto(&app.url(&page)).await;
            browser.wait_for_button("Sign out").await;
            findings.check(&browser, &axe, &at(&page)).await;
        }
        if signed_in {
            // The audit log's changes fit the table's box at desktop width.
            browser.goto(&app.url("/audit")).await;
            let fits = browser
                .client
                .execute(
                    "const t = document.querySelector('table.audit');
                     return t.scrollWidth <= t.parentElement.clientWidth;",
                    vec![],
                )
                .await
                .unwrap();
            if fits != serde_json::Value::Bool(true) {
                findings
                    .0
                    .push("/audit @1280: the changes are cut at the table's edge".into());
            }
        }
        browser.click_button("Sign out").await;
        browser.wait_for_text("Sign in").await;
    }
    assert!(
        findings.0.is_empty(),
        "what a user would meet:\n{}",
        findings.0.join("\n")
    );
}
