//! The API tokens page in Chromium, used as an administrator uses it: from
//! the navbar to Admins → API tokens, "+", the form, the token shown once
//! with its Copy button; then the token used as a pipeline uses it (it reads,
//! a read-only one may not write) and revoked on the page, after which the
//! API refuses it.

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::json;

use super::{Api, expect, expect_error};
use crate::harness::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Browser, StatusCode, eventually, spawn_app,
};

/// How long a page may take to show what the test waits for.
const WAIT: Duration = Duration::from_secs(15);

/// What the clipboard holds: pasted (Ctrl+V) into a scratch field added to
/// the page for the purpose, as a person would paste it elsewhere.
async fn clipboard_text(browser: &Browser) -> String {
    browser
        .client
        .execute(
            "const t = document.createElement('textarea');
             t.id = 'paste-here';
             document.body.append(t);
             t.focus();",
            vec![],
        )
        .await
        .expect("cannot add the scratch field");
    let field = browser
        .client
        .find(Locator::Id("paste-here"))
        .await
        .unwrap();
    field
        .send_keys(&format!(
            "{}v{}",
            char::from(Key::Control),
            char::from(Key::Control)
        ))
        .await
        .unwrap();
    let pasted = field.prop("value").await.unwrap().unwrap_or_default();
    browser
        .client
        .execute("document.getElementById('paste-here').remove();", vec![])
        .await
        .unwrap();
    pasted
}

#[tokio::test]
async fn an_admin_creates_a_token_on_the_page_uses_it_and_revokes_it() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    browser.login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Admins → API tokens, empty; "+" opens the form.
    browser.click_link("Admins").await;
    browser.wait_for_path("/admins").await;
    browser.click_link("API tokens").await;
    browser.wait_for_path("/admins/tokens").await;
    browser.wait_for_text("No API tokens yet").await;
    browser.click_link("Create API token").await;
    browser.wait_for_path("/admins/tokens/new").await;
    assert_eq!(browser.title().await, "Create API token · keyward");

    browser.fill_by_label("Token name", "Nightly report").await;
    browser
        .click_label("Read-only — it may read everything and change nothing")
        .await;
    browser.select_by_label("Expires", "In 30 days").await;
    browser.click_button("Create token").await;

    // The token, once, with a Copy button.
    browser.wait_for_text("API token created").await;
    let token_page = browser.path().await;
    let token_id: i32 = token_page
        .strip_prefix("/admins/tokens/")
        .and_then(|rest| rest.strip_suffix("/token"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("creating led to {token_page}, not a token page"));
    browser.wait_for_text("It will not be shown again.").await;
    let token = browser
        .field_by_label("API token")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(token.len(), 53, "token {token:?}");
    assert!(
        token.starts_with("kwa_") && token[4..].bytes().all(|b| b.is_ascii_alphanumeric()),
        "token {token:?}"
    );
    assert!(!token_page.contains(&token[4..]), "the token is in the URL");
    let page_text = browser.text().await;
    assert!(
        page_text.contains("Nightly report") && page_text.contains("Read-only"),
        "{page_text}"
    );

    browser.click_button("Copy").await;
    let status = eventually(WAIT, "the copy status to be announced", || async {
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
    assert_eq!(status, "Copied to the clipboard.");
    assert_eq!(clipboard_text(&browser).await, token, "the clipboard");
    browser.screenshot("api-token-created").await;

    // A pipeline with it: it reads, and a read-only token writes nothing.
    let pipeline = Api::new(&app.address, &token);
    let apps = expect(&pipeline.get("/apps").await, StatusCode::OK);
    assert_eq!(apps["apps"], json!([]), "{apps}");
    let (_, message) = expect_error(
        &pipeline
            .post("/apps", &json!({"name": "Not allowed"}))
            .await,
        StatusCode::FORBIDDEN,
    );
    assert!(message.contains("read-only"), "{message}");
    assert!(
        app.stored_apps().is_empty(),
        "a read-only token created an app"
    );

    // The list shows it; revoking it there ends it.
    browser.click_link("Back to API tokens").await;
    browser.wait_for_path("/admins/tokens").await;
    let row = browser
        .client
        .find(Locator::Id(&format!("token-{token_id}")))
        .await
        .expect("no row for the new token")
        .text()
        .await
        .unwrap();
    for shown in [
        "Nightly report",
        ADMIN_EMAIL,
        "Read-only",
        &format!("{}…", &token[..10]),
        "UTC",
    ] {
        assert!(row.contains(shown), "row {row:?} without {shown:?}");
    }
    assert!(
        !browser.text().await.contains(&token[4..]),
        "the list shows the token"
    );
    browser.click_link("Revoke Nightly report").await;
    browser
        .wait_for_path(&format!("/admins/tokens/{token_id}/revoke"))
        .await;
    browser.click_button("Revoke token").await;
    browser.wait_for_path("/admins/tokens").await;
    browser
        .wait_for_text("The token “Nightly report” is revoked and works no more.")
        .await;
    let row = browser
        .client
        .find(Locator::Id(&format!("token-{token_id}")))
        .await
        .expect("no row for the revoked token")
        .text()
        .await
        .unwrap();
    assert!(row.contains("Revoked"), "{row}");

    let (_, message) = expect_error(&pipeline.get("/apps").await, StatusCode::UNAUTHORIZED);
    assert!(!message.contains(&token), "{message}");
}
