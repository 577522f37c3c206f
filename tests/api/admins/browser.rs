//! Signing in through the login page in Chromium, as a person does: the
//! styled page, the navbar once signed in, and a wrong password that keeps
//! the email and says so.

use fantoccini::Locator;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Browser, spawn_app};

#[tokio::test]
async fn an_admin_signs_in_through_the_login_page() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);

    browser.goto(&app.url("/")).await;
    browser.wait_for_path("/login?next=%2F").await;
    assert_eq!(browser.title().await, "Sign in · keyward");
    // The stylesheet loaded despite the strict CSP: not the browser's default serif.
    let font = browser
        .client
        .execute("return getComputedStyle(document.body).fontFamily", vec![])
        .await
        .unwrap();
    assert!(
        !font.as_str().unwrap_or_default().contains("Times"),
        "unstyled page: {font}"
    );
    browser.screenshot("login").await;

    browser.fill_by_label("Email", ADMIN_EMAIL).await;
    browser.fill_by_label("Password", ADMIN_PASSWORD).await;
    browser.click_button("Sign in").await;
    browser.wait_for_button("Sign out").await;
    let navbar = browser
        .client
        .find(Locator::Css("nav"))
        .await
        .expect("no navbar")
        .text()
        .await
        .unwrap();
    for link in ["API Keys", "Roles", "Sign out"] {
        assert!(navbar.contains(link), "navbar without {link:?}: {navbar}");
    }
    browser.screenshot("signed-in").await;
}

#[tokio::test]
async fn a_wrong_password_keeps_the_email_and_says_so() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);

    browser.goto(&app.url("/login")).await;
    browser.fill_by_label("Email", ADMIN_EMAIL).await;
    browser.fill_by_label("Password", "not the password").await;
    browser.click_button("Sign in").await;
    browser.wait_for_text("Incorrect email or password.").await;
    let email = browser.field_by_label("Email").await;
    assert_eq!(
        email.prop("value").await.unwrap().as_deref(),
        Some(ADMIN_EMAIL)
    );
    let password = browser.field_by_label("Password").await;
    assert_eq!(password.prop("value").await.unwrap().as_deref(), Some(""));
    browser.screenshot("login-refused").await;

    // Correcting the password is enough.
    browser.fill_by_label("Password", ADMIN_PASSWORD).await;
    browser.click_button("Sign in").await;
    browser.wait_for_button("Sign out").await;
}
