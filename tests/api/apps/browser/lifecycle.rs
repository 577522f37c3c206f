//! A key's life in Chromium: toggling Active in place from the list, and
//! rolling a key from its page and copying the new one.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Browser, eventually, spawn_app};

const WAIT: Duration = Duration::from_secs(15);

/// The text of the Active switch of the app named `name`.
async fn switch_text(browser: &Browser, name: &str) -> Option<String> {
    let css = format!("button[aria-label='Active: {name}']");
    browser
        .client
        .find(Locator::Css(&css))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

#[tokio::test]
async fn toggle_active_in_place_then_roll_and_copy_the_new_key() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.login_as_default_admin().await;
    let role = app.create_role("Readers").await;
    let (id, old_key) = app.create_key("Mobile", Some(role)).await;

    browser.login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.goto(&app.url("/api-keys")).await;
    browser.wait_for_text("Mobile").await;
    // A marker that a full page load would wipe out.
    browser
        .client
        .execute("window.keywardMarker = 'kept'; return null;", vec![])
        .await
        .unwrap();

    let switch = "button[aria-label='Active: Mobile']";
    browser
        .client
        .find(Locator::Css(switch))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the switch to say Inactive", || async {
        (switch_text(&browser, "Mobile").await.as_deref() == Some("Inactive")).then_some(())
    })
    .await;
    let marker = browser
        .client
        .execute("return window.keywardMarker || null;", vec![])
        .await
        .unwrap();
    assert_eq!(
        marker,
        json!("kept"),
        "the toggle reloaded the page instead of swapping the row"
    );
    assert_eq!(browser.path().await, "/api-keys");
    browser.screenshot("api-keys-toggled").await;
    eventually(
        Duration::from_millis(1500),
        "the key to be refused",
        || async {
            (app.verify(&json!({ "key": old_key })).await["code"] == "INACTIVE").then_some(())
        },
    )
    .await;

    browser
        .client
        .find(Locator::Css(switch))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the switch to say Active", || async {
        (switch_text(&browser, "Mobile").await.as_deref() == Some("Active")).then_some(())
    })
    .await;

    // Roll from the key's own page.
    browser
        .client
        .find(Locator::LinkText("Mobile"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_path(&format!("/api-keys/{id}")).await;
    browser.wait_for_text("Edit Application").await;
    browser
        .client
        .find(Locator::LinkText("Roll key"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_text("Roll the key of “Mobile”?").await;
    browser.click_label("At once").await;
    browser.screenshot("api-key-roll").await;
    browser.click_button("Roll key").await;
    browser.wait_for_text("API key created").await;
    let new_key = browser
        .field_by_label("API key")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        new_key.starts_with("kw_") && new_key != old_key,
        "{new_key:?}"
    );
    browser.click_button("Copy").await;
    let status = eventually(WAIT, "the copy status", || async {
        let text = browser
            .client
            .find(Locator::Id("copy-status"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (!text.trim().is_empty()).then_some(text)
    })
    .await;
    assert!(
        status.contains("Copied") || status.contains("Selected"),
        "{status:?}"
    );
    browser.screenshot("api-key-rolled").await;

    eventually(
        Duration::from_millis(1500),
        "the new key to work and the old to stop",
        || async {
            let new = app.verify(&json!({ "key": new_key })).await["code"] == "VALID";
            let old = app.verify(&json!({ "key": old_key })).await["code"] == "NOT_FOUND";
            (new && old).then_some(())
        },
    )
    .await;
}
