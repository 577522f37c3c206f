//! The audit log in Chromium: an edit made through the page shows up under
//! Audit with its before and after, the filters narrow it, and an event leads
//! to its object's history.

use fantoccini::Locator;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Browser, spawn_app};

#[tokio::test]
async fn an_edit_shows_in_the_audit_log_which_filters_and_leads_to_its_history() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.login_as_default_admin().await;
    app.create_role("Readers").await;
    let (id, _) = app.create_key("Kiosk", None).await;

    browser.login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.goto(&app.url(&format!("/api-keys/{id}"))).await;
    browser.fill_by_label("Description", "Lobby screen").await;
    browser.click_button("Save").await;
    browser.wait_for_text("saved.").await;

    // Audit, from the navbar: the edit, newest first, before → after.
    browser
        .client
        .find(Locator::LinkText("Audit"))
        .await
        .expect("no Audit link in the navbar")
        .click()
        .await
        .unwrap();
    browser.wait_for_path("/audit").await;
    let first_row = browser
        .client
        .find(Locator::Css("tbody tr"))
        .await
        .expect("no events listed")
        .text()
        .await
        .unwrap();
    for shown in [
        "Updated",
        "“Kiosk”",
        ADMIN_EMAIL,
        "Description",
        "(empty) → Lobby screen",
    ] {
        assert!(first_row.contains(shown), "{shown:?} not in {first_row:?}");
    }
    browser.screenshot("audit").await;

    // Only roles: the URL keeps the filter.
    browser.select_by_label("Object", "Roles").await;
    browser.click_button("Filter").await;
    // The URL says only what was chosen (not `admin=&per_page=50`).
    browser.wait_for_path("/audit?object=role").await;
    let rows = browser
        .client
        .find_all(Locator::Css("tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].text().await.unwrap().contains("“Readers”"));

    // Back to everything, then one key's history through its event.
    browser.goto(&app.url("/audit")).await;
    browser
        .client
        .find(Locator::LinkText("“Kiosk”"))
        .await
        .expect("no link to the key's history")
        .click()
        .await
        .unwrap();
    browser
        .wait_for_path(&format!("/audit?object=app&id={id}"))
        .await;
    browser.wait_for_text("History of API key “Kiosk”").await;
    let rows = browser
        .client
        .find_all(Locator::Css("tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "created and updated");
}
