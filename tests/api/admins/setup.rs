//! The one-time setup page: hidden without the right token, its errors keep
//! what was typed but never the password, and creating the first
//! administrator signs them in and closes it for good.

use crate::harness::StatusCode;

const NEW_PASSWORD: &str = "a long enough password";

fn setup_fields<'a>(token: &'a str, email: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("token", token),
        ("email", email),
        ("name", "Ada Lovelace"),
        ("password", password),
        ("password_confirm", password),
    ]
}

storage_test!(
    setup_page_is_hidden_without_the_right_token,
    |app| async move {
        let token = app.setup_token();
        let mut wrong = token.clone();
        wrong.replace_range(..1, if token.starts_with('0') { "1" } else { "0" });
        for path in [
            "/setup".to_owned(),
            "/setup?token=".to_owned(),
            format!("/setup?token={wrong}"),
            format!("/setup?token={token}x"),
        ] {
            let page = app.get(&path).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            assert!(
                !page.body.contains("Create the first administrator"),
                "{path}"
            );
        }
        // Posting with a wrong token creates no one.
        let post = app
            .post_form(
                "/setup",
                &setup_fields(&wrong, "eve@example.com", NEW_PASSWORD),
            )
            .await;
        assert_eq!(post.status, StatusCode::NOT_FOUND);
        assert!(!app.admin_exists());

        let page = app.get(&app.setup_path()).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Create the first administrator"));
        assert_eq!(page.input_value("token"), Some(token));
    }
);

storage_test!(
    setup_errors_keep_email_and_name_but_never_the_password,
    |app| async move {
        let token = app.setup_token();
        app.get(&app.setup_path()).await;
        let submit = |email: &'static str,
                      name: &'static str,
                      password: &'static str,
                      confirm: &'static str| {
            let token = token.clone();
            let app = &app;
            async move {
                app.post_form(
                    "/setup",
                    &[
                        ("token", token.as_str()),
                        ("email", email),
                        ("name", name),
                        ("password", password),
                        ("password_confirm", confirm),
                    ],
                )
                .await
            }
        };

        let short = submit(
            "Ada@Example.com",
            "<b>Ada</b> Lovelace",
            "short pw 1",
            "short pw 1",
        )
        .await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            short
                .body
                .contains("Password must be at least 12 characters"),
            "{}",
            short.body
        );
        assert_eq!(
            short.input_value("email").as_deref(),
            Some("Ada@Example.com")
        );
        assert_eq!(
            short.input_value("name").as_deref(),
            Some("<b>Ada</b> Lovelace")
        );
        assert!(
            !short.body.contains("<b>Ada</b>"),
            "the name is not escaped"
        );
        assert!(!short.body.contains("short pw 1"), "the password is echoed");

        let mismatch = submit(
            "ada@example.com",
            "Ada",
            "correct horse battery",
            "correct horse batterz",
        )
        .await;
        assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            mismatch.body.contains("The passwords do not match"),
            "{}",
            mismatch.body
        );
        assert_eq!(
            mismatch.input_value("email").as_deref(),
            Some("ada@example.com")
        );
        assert!(
            !mismatch.body.contains("correct horse batter"),
            "a password is echoed"
        );

        let bad_email = submit("ada at example", "Ada", NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad_email
                .body
                .contains("Enter an email address like name@example.com"),
            "{}",
            bad_email.body
        );
        assert_eq!(
            bad_email.input_value("email").as_deref(),
            Some("ada at example")
        );
        assert!(
            !bad_email.body.contains(NEW_PASSWORD),
            "the password is echoed"
        );

        // Nothing was created: the setup page still opens.
        assert!(!app.admin_exists());
        assert_eq!(app.get(&app.setup_path()).await.status, StatusCode::OK);
    }
);

storage_test!(
    setup_creates_the_first_admin_signs_in_and_closes_for_good,
    |app| async move {
        let (path, token) = (app.setup_path(), app.setup_token());
        assert!(!app.is_signed_in().await);
        app.get(&path).await;
        app.post_form(
            "/setup",
            &setup_fields(&token, "Ada@Example.com", NEW_PASSWORD),
        )
        .await
        .assert_redirects_to("/");
        assert!(
            app.is_signed_in().await,
            "setup did not sign the new administrator in"
        );

        // The setup URL is gone, for reading and for posting.
        assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
        let again = app
            .post_form(
                "/setup",
                &setup_fields(&token, "eve@example.com", NEW_PASSWORD),
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
        // ...and stays gone after a restart, which logs no new setup URL.
        app.restart().await;
        assert_eq!(app.setup_url, None);
        assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);

        // The administrator signs in with what was typed at setup.
        app.logout().await.assert_redirects_to("/login");
        assert_eq!(
            app.login("eve@example.com", NEW_PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
        app.login("ada@example.com", NEW_PASSWORD)
            .await
            .assert_redirects_to("/");
        assert!(app.is_signed_in().await);
    }
);

storage_test!(
    setup_without_the_csrf_token_creates_nothing,
    |app| async move {
        let token = app.setup_token();
        app.get(&app.setup_path()).await;
        let refused = app
            .post_form_raw(
                "/setup",
                &setup_fields(&token, "ada@example.com", NEW_PASSWORD),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(!app.admin_exists());
        assert!(!app.is_signed_in().await);
        assert_eq!(app.get(&app.setup_path()).await.status, StatusCode::OK);
    }
);
