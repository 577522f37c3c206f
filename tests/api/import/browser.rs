//! The Import page in Chromium, as an administrator moving from DreamFactory
//! uses it: from API Keys to Import, a secured package chosen from disk,
//! the review, the import, and the imported keys in the list.

use super::{SHOP_KEY, package, write_package};
use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Browser, TempDir, spawn_app};

#[tokio::test]
async fn a_package_is_chosen_reviewed_and_imported() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.login_as_default_admin().await;
    let dir = TempDir::new("keyward-import-browser");
    let path = write_package(&dir.0, "dreamfactory.zip", &package(Some("pkg-pass-1")));

    browser.login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.goto(&app.url("/api-keys")).await;
    browser.click_link("Import from DreamFactory").await;
    browser.wait_for_path("/import").await;
    // A wrong password is said next to its field; choosing the file again is all it takes.
    let choose = || async {
        browser
            .field_by_label("Package")
            .await
            .send_keys(path.to_str().unwrap())
            .await
            .unwrap();
    };
    choose().await;
    browser
        .fill_by_label("Package password", "not-the-one")
        .await;
    browser.click_button("Read package").await;
    browser.wait_for_text("The password is wrong").await;
    choose().await;
    browser
        .fill_by_label("Package password", "pkg-pass-1")
        .await;
    browser.click_button("Read package").await;
    browser.wait_for_text("Review the import").await;
    let review = browser.text().await;
    assert!(
        review.contains("5 to create, 0 to update, 1 existing skipped, 0 not imported"),
        "{review}"
    );
    assert!(review.contains("publicly known key"), "{review}");
    assert!(!review.contains(SHOP_KEY));
    browser.screenshot("import-review").await;
    browser.click_button("Import").await;
    browser
        .wait_for_text("Imported from DreamFactory: 5 created")
        .await;
    browser.click_link("Go to API Keys").await;
    browser.wait_for_path("/api-keys").await;
    browser.wait_for_text("mobile").await;
    let list = browser.text().await;
    assert!(list.contains("shop") && list.contains("6498a8ad"), "{list}");
}
