//! Signing in and the sign-in wall: a wrong email and a wrong password get
//! the same answer, a signed-out visit goes to the login page and signing in
//! there comes back, and never to another site.

use crate::harness::{
    ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TestApp, TestResponse, login_next, query,
};

storage_test!(
    wrong_email_and_wrong_password_get_the_same_answer,
    |app| async move {
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        let wrong_password = "not the right password";
        let unknown = app.login("nobody@example.com", ADMIN_PASSWORD).await;
        let wrong = app.login(ADMIN_EMAIL, wrong_password).await;
        for (page, typed) in [(&unknown, ADMIN_PASSWORD), (&wrong, wrong_password)] {
            assert_eq!(page.status, StatusCode::UNAUTHORIZED);
            assert!(
                page.body.contains("Incorrect email or password."),
                "{}",
                page.body
            );
            assert!(!page.body.contains(typed), "the typed password is echoed");
            assert_eq!(page.input_value("password"), None);
        }
        assert_eq!(
            unknown.input_value("email").as_deref(),
            Some("nobody@example.com")
        );
        assert_eq!(wrong.input_value("email").as_deref(), Some(ADMIN_EMAIL));
        // Apart from the email typed back, the two answers are the same page.
        let anonymised = |page: &TestResponse| {
            page.body
                .replace(&page.input_value("email").unwrap(), "EMAIL")
        };
        assert_eq!(anonymised(&unknown), anonymised(&wrong));
        assert!(!app.is_signed_in().await);
    }
);

/// A signed-out visit to `path` goes to the login page, and signing in there
/// comes back to `path`.
async fn assert_sends_to_login_and_back(app: &TestApp, path: &str) {
    let visit = app.get(path).await;
    assert_eq!(
        login_next(visit.location()).as_deref(),
        Some(path),
        "{path} → {}",
        visit.location()
    );
    let login_page = app.get(visit.location()).await;
    assert_eq!(login_page.status, StatusCode::OK, "{path}");
    let next = login_page
        .input_value("next")
        .expect("login form without next");
    assert_eq!(next, path);
    app.post_form(
        "/login",
        &[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("next", &next),
        ],
    )
    .await
    .assert_redirects_to(path);
    app.logout().await.assert_redirects_to("/login");
}

storage_test!(
    signed_out_visitors_of_home_sign_in_and_come_back,
    |app| async move {
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        assert_eq!(app.get("/").await.location(), "/login?next=%2F");
        for path in ["/", "/?from=bookmark"] {
            assert_sends_to_login_and_back(&app, path).await;
        }
    }
);

storage_test!(
    signed_out_visitors_of_console_pages_sign_in_and_come_back,
    |app| async move {
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        for path in ["/api-keys", "/api-keys/new", "/api-keys?q=mobile", "/roles"] {
            assert_sends_to_login_and_back(&app, path).await;
        }
    }
);

storage_test!(sign_in_never_leads_to_another_site, |app| async move {
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    for hostile in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "//evil.example/%2F..",
        // Not a URI keyward could have sent (its bytes would not fit a Location).
        "/api-keys?q=ключ",
    ] {
        let link = format!("/login?{}", query(&[("next", hostile)]));
        let login_page = app.get(&link).await;
        assert_eq!(
            login_page.input_value("next").as_deref(),
            Some("/"),
            "{hostile}"
        );
        app.post_form(
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("next", hostile),
            ],
        )
        .await
        .assert_redirects_to("/");
        // Signed in, the same link goes home as well.
        app.get(&link).await.assert_redirects_to("/");
        app.logout().await.assert_redirects_to("/login");
    }
});
