//! Guarding an API through the console, in Chromium: an administrator
//! registers a service, gives a role a rule on it (htmx adds and removes the
//! rule in place) and creates a key with that role, which then verifies.

use fantoccini::Locator;
use serde_json::json;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Browser, eventually, spawn_app};

const WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Clicks the one link matched by `xpath` (as a person clicks what they see).
async fn click_link(browser: &Browser, xpath: &str) {
    let links = browser
        .client
        .find_all(Locator::XPath(xpath))
        .await
        .unwrap();
    assert_eq!(
        links.len(),
        1,
        "expected one link {xpath} on {}",
        browser.path().await
    );
    links[0].click().await.unwrap();
}

async fn click_in_navbar(browser: &Browser, text: &str) {
    click_link(browser, &format!("//nav//a[normalize-space(.)='{text}']")).await;
}

/// The "+" link of a list page, which names itself only to assistive technology.
async fn click_labelled_link(browser: &Browser, label: &str) {
    click_link(browser, &format!("//main//a[@aria-label='{label}']")).await;
}

/// The text of the role page's rules table, or `None` while it has no rules.
async fn rules_table(browser: &Browser) -> Option<String> {
    let table = browser
        .client
        .find_all(Locator::Css("#rules table"))
        .await
        .unwrap()
        .pop()?;
    table.text().await.ok()
}

/// The page's full URL, fragment included.
async fn full_url(browser: &Browser) -> String {
    browser.client.current_url().await.unwrap().to_string()
}

/// True while the document is the one the marker was set on (no page load).
async fn same_document(browser: &Browser) -> bool {
    browser
        .client
        .execute("return window.keywardMarker === 'still here';", vec![])
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false)
}

/// Fills the "Add rule" form: POST and GET on everything below `invoices/`
/// of the Billing API, and submits it.
async fn add_invoice_rule(browser: &Browser) {
    browser
        .select_by_label("Service", "Billing API (billing)")
        .await;
    browser.fill_by_label("Component", "invoices/*").await;
    for verb in ["GET", "POST"] {
        let checkbox = browser.field_by_label(verb).await;
        if !checkbox.is_selected().await.unwrap() {
            checkbox.click().await.unwrap();
        }
    }
    browser.click_button("Add rule").await;
}

#[tokio::test]
async fn an_admin_guards_an_api_with_a_service_a_role_and_a_key() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    browser.login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Services: the seeded file storage is listed; create an API.
    click_in_navbar(&browser, "Services").await;
    browser.wait_for_path("/services").await;
    browser.wait_for_text("Local File Storage").await;
    click_labelled_link(&browser, "Create service").await;
    browser.wait_for_path("/services/new").await;
    browser.fill_by_label("Name", "billing").await;
    browser.fill_by_label("Label", "Billing API").await;
    browser
        .fill_by_label("Description", "Invoices and payments")
        .await;
    browser.click_label("File storage").await;
    browser.click_label("API").await;
    assert!(
        browser
            .field_by_label("API")
            .await
            .is_selected()
            .await
            .unwrap()
    );
    browser.click_button("Save").await;
    browser.wait_for_path("/services").await;
    browser.wait_for_text("Service “billing” created.").await;
    let row = browser
        .client
        .find(Locator::XPath("//tr[td/a[normalize-space(.)='billing']]"))
        .await
        .expect("no row for the new service")
        .text()
        .await
        .unwrap();
    for shown in ["Active", "Billing API", "API", "Invoices and payments"] {
        assert!(
            row.contains(shown),
            "the row does not show {shown:?}: {row}"
        );
    }
    browser.screenshot("services").await;

    // Roles: create one and open it.
    click_in_navbar(&browser, "Roles").await;
    browser.wait_for_path("/roles").await;
    click_labelled_link(&browser, "Create role").await;
    browser.wait_for_path("/roles/new").await;
    browser.fill_by_label("Name", "Billing clerks").await;
    browser
        .fill_by_label("Description", "May read and write invoices")
        .await;
    browser.click_button("Save").await;
    browser.wait_for_path("/roles").await;
    browser
        .wait_for_text("Role “Billing clerks” created.")
        .await;
    click_link(&browser, "//main//a[normalize-space(.)='Billing clerks']").await;
    let role_path = eventually(WAIT, "the role's page to open", || async {
        let path = browser.path().await;
        let id = path.strip_prefix("/roles/")?;
        id.parse::<i32>().is_ok().then_some(path)
    })
    .await;
    browser.wait_for_text("No rules yet").await;
    assert_eq!(rules_table(&browser).await, None);

    // Add a rule: htmx swaps the rules in place, without loading a page.
    browser
        .client
        .execute("window.keywardMarker = 'still here';", vec![])
        .await
        .unwrap();
    let url = full_url(&browser).await;
    add_invoice_rule(&browser).await;
    let rules = eventually(WAIT, "the rule to appear in the table", || async {
        rules_table(&browser).await
    })
    .await;
    for shown in ["Billing API", "billing", "invoices/*", "GET, POST"] {
        assert!(
            rules.contains(shown),
            "the rule does not show {shown:?}: {rules}"
        );
    }
    assert_eq!(full_url(&browser).await, url, "adding a rule left the page");
    assert!(
        same_document(&browser).await,
        "adding a rule reloaded the page"
    );

    // Remove it, in place too.
    browser.click_button("Remove").await;
    browser.wait_for_text("No rules yet").await;
    assert_eq!(rules_table(&browser).await, None);
    assert_eq!(
        full_url(&browser).await,
        url,
        "removing a rule left the page"
    );
    assert!(
        same_document(&browser).await,
        "removing a rule reloaded the page"
    );

    // And add it again with the fresh form the swap brought.
    add_invoice_rule(&browser).await;
    let rules = eventually(WAIT, "the rule to appear again", || async {
        rules_table(&browser).await
    })
    .await;
    assert!(
        rules.contains("invoices/*") && rules.contains("GET, POST"),
        "{rules}"
    );
    assert!(
        same_document(&browser).await,
        "adding a rule reloaded the page"
    );
    browser
        .client
        .execute("document.getElementById('rules').scrollIntoView();", vec![])
        .await
        .unwrap();
    browser.screenshot("role-rules").await;
    // It is stored, not only shown: a fresh load of the page lists it.
    browser.goto(&app.url(&role_path)).await;
    let reloaded = eventually(WAIT, "the rules after a reload", || async {
        rules_table(&browser).await
    })
    .await;
    assert!(reloaded.contains("invoices/*"), "{reloaded}");

    // API Keys: a key with that role, shown once.
    click_in_navbar(&browser, "API Keys").await;
    browser.wait_for_path("/api-keys").await;
    click_labelled_link(&browser, "Create API key").await;
    browser.wait_for_path("/api-keys/new").await;
    browser
        .fill_by_label("Application Name", "Billing robot")
        .await;
    browser
        .select_by_label("Assign a Default Role", "Billing clerks")
        .await;
    browser.click_button("Save").await;
    browser.wait_for_text("API key created").await;
    let key = browser
        .field_by_label("API key")
        .await
        .prop("value")
        .await
        .unwrap()
        .expect("the key field has no value");
    assert!(key.starts_with("kw_"), "{key}");

    // The key guards the Billing API as the rule says.
    let allowed = app
        .verify(&json!({"key": key, "service": "billing", "component": "invoices/2024-001", "verb": "POST"}))
        .await;
    assert_eq!(allowed["code"], "VALID", "{allowed}");
    assert_eq!(allowed["allowed"], true, "{allowed}");
    assert_eq!(allowed["app"]["name"], "Billing robot", "{allowed}");
    assert_eq!(allowed["role"]["name"], "Billing clerks", "{allowed}");
    let refused = app
        .verify(&json!({"key": key, "service": "billing", "component": "invoices/2024-001", "verb": "DELETE"}))
        .await;
    assert_eq!(refused["code"], "FORBIDDEN", "{refused}");
    let elsewhere = app
        .verify(&json!({"key": key, "service": "billing", "component": "payments", "verb": "GET"}))
        .await;
    assert_eq!(elsewhere["code"], "FORBIDDEN", "{elsewhere}");
}
