//! Searching the API Keys list in Chromium: typing narrows the table in
//! place and the URL follows, the back button restores the previous search,
//! and a select applies at once.

use crate::apps::add_named;

/// The names the table in the browser shows, top to bottom.
async fn shown_names(browser: &crate::harness::Browser) -> Vec<String> {
    let script = "return Array.from(document.querySelectorAll('#apps-table tbody tr'))\
                  .map(row => row.cells[1].textContent.trim());";
    let value = browser.client.execute(script, vec![]).await.unwrap();
    serde_json::from_value(value).unwrap()
}

/// True while the page is the one the marker was set on (no full reload).
async fn same_page(browser: &crate::harness::Browser) -> bool {
    let value = browser
        .client
        .execute("return window.keywardListMarker === 'still here';", vec![])
        .await
        .unwrap();
    value == serde_json::Value::Bool(true)
}

/// Waits until the table shows `expected`.
async fn wait_for_names(browser: &crate::harness::Browser, expected: &[&str]) {
    crate::harness::eventually(
        std::time::Duration::from_secs(15),
        &format!("the table to show {expected:?}"),
        || async { (shown_names(browser).await == expected).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn an_admin_searches_the_list_as_they_type_and_goes_back() {
    let Some(browser) = crate::harness::Browser::new().await else {
        return;
    };
    let app = crate::harness::spawn_app(crate::harness::Backend::Sqlite)
        .await
        .unwrap();
    let admin = app.create_admin(crate::harness::ADMIN_EMAIL, crate::harness::ADMIN_PASSWORD);
    for (name, description) in [
        ("billing export", "Used by the mobile team"),
        ("kiosk", "Lobby screens"),
        ("mobile app", "Phones and tablets"),
        ("mobile web", "Browsers on phones"),
    ] {
        add_named(&app, admin, name, description);
    }
    browser
        .login(
            &app,
            crate::harness::ADMIN_EMAIL,
            crate::harness::ADMIN_PASSWORD,
        )
        .await;
    browser.goto(&app.url("/api-keys")).await;
    wait_for_names(
        &browser,
        &["billing export", "kiosk", "mobile app", "mobile web"],
    )
    .await;
    browser
        .client
        .execute("window.keywardListMarker = 'still here';", vec![])
        .await
        .unwrap();

    // Typing narrows the table in place, and the URL follows.
    let search = browser.field_by_label("Search").await;
    search.send_keys("mob").await.unwrap();
    wait_for_names(&browser, &["billing export", "mobile app", "mobile web"]).await;
    search.send_keys("ile w").await.unwrap();
    wait_for_names(&browser, &["mobile web"]).await;
    assert!(same_page(&browser).await, "the page was reloaded");
    crate::harness::eventually(
        std::time::Duration::from_secs(15),
        "the URL to carry the search",
        || async {
            let path = browser.path().await;
            path.contains("q=mobile+w").then_some(path)
        },
    )
    .await;
    let status = browser
        .client
        .execute(
            "return document.getElementById('apps-status').textContent;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, serde_json::json!("1 API key shown"));

    // A search that finds nothing says so and offers the way out.
    search.send_keys("xyz").await.unwrap();
    browser.wait_for_text("No API keys match").await;
    assert!(same_page(&browser).await, "the page was reloaded");

    // Back: the previous search, its table and its box.
    browser.client.back().await.unwrap();
    wait_for_names(&browser, &["mobile web"]).await;
    crate::harness::eventually(
        std::time::Duration::from_secs(15),
        "the search box to show the previous search",
        || async {
            let value = browser
                .field_by_label("Search")
                .await
                .prop("value")
                .await
                .unwrap();
            (value.as_deref() == Some("mobile w")).then_some(())
        },
    )
    .await;

    // A select applies at once.
    browser.fill_by_label("Search", "").await;
    browser.select_by_label("Order", "Descending").await;
    wait_for_names(
        &browser,
        &["mobile web", "mobile app", "kiosk", "billing export"],
    )
    .await;
    browser.screenshot("apps-list-search").await;
}
