//! A key's limits in Chromium: an administrator sets a rate limit and a
//! quota on the key's page, saves, and sees what the quota has left go down
//! as the key is used, and a refused entry explained next to its field; the
//! key's usage chart and the dashboard, screenshot.

use serde_json::json;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Browser, eventually, spawn_app};

const WAIT: std::time::Duration = std::time::Duration::from_secs(15);

#[tokio::test]
async fn set_limits_on_the_key_page_and_see_the_quota_left() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.login_as_default_admin().await;
    let role = app.create_role("Readers").await;
    let (id, key) = app.create_key("Mobile", Some(role)).await;

    browser.login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = app.url(&format!("/api-keys/{id}"));
    browser.goto(&page).await;
    browser.wait_for_text("Edit Application").await;
    // A mistake first: explained next to the field, what was typed kept.
    browser.fill_by_label("Rate limits", "100/fortnight").await;
    browser.fill_by_label("Quota", "5").await;
    browser.click_button("Save").await;
    browser
        .wait_for_text("“100/fortnight”: the window must be second, minute, hour or day")
        .await;
    let quota = browser.field_by_label("Quota").await;
    assert_eq!(quota.prop("value").await.unwrap().as_deref(), Some("5"));

    browser.fill_by_label("Rate limits", "3/minute").await;
    browser
        .select_by_label("Quota refills", "Monthly (the 1st, 00:00 UTC)")
        .await;
    browser.click_button("Save").await;
    browser.wait_for_text("“Mobile” saved.").await;
    browser
        .wait_for_text("Quota: 5 of 5 requests left this month")
        .await;
    let limits = browser.field_by_label("Rate limits").await;
    assert_eq!(
        limits.prop("value").await.unwrap().as_deref(),
        Some("3/minute")
    );

    // Two requests with the key: the page says three are left.
    for _ in 0..2 {
        let answer = app.verify(&json!({"key": key})).await;
        assert_eq!(answer["code"], "VALID", "{answer}");
    }
    eventually(WAIT, "the page to show the quota spent", || async {
        browser.goto(&page).await;
        browser
            .text()
            .await
            .contains("Quota: 3 of 5 requests left this month")
            .then_some(())
    })
    .await;
    // And the list says it too.
    browser.goto(&app.url("/api-keys")).await;
    browser.wait_for_text("Quota: 3 of 5 left").await;
    // The key's page charts the two requests; the dashboard names the key.
    eventually(WAIT, "the chart to show the requests", || async {
        browser.goto(&page).await;
        browser
            .text()
            .await
            .contains("2 requests: 2 VALID.")
            .then_some(())
    })
    .await;
    browser.screenshot("key-page-usage").await;
    browser.click_link("Dashboard").await;
    // Its lists are as of a few seconds ago: the one signing in showed them
    // before the requests.
    eventually(WAIT, "the dashboard to list the key", || async {
        browser.goto(&app.url("/dashboard")).await;
        browser
            .text()
            .await
            .contains("Mobile — 2 requests")
            .then_some(())
    })
    .await;
    browser.screenshot("dashboard").await;
}
