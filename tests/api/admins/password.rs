//! Changing one's own password (`/account/password`): the current password
//! is checked, the new one must follow the rules, and a change signs out
//! one's other sessions.

use super::{sessions_of, signed_in, try_login};
use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode};

storage_test!(
    changing_the_password_signs_out_the_other_sessions,
    |app| async move {
        let me = app.login_as_default_admin().await;
        let mut elsewhere = app.signed_in_visitor(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let new_password = "a brand new password";

        let form = app.get("/account/password").await;
        assert_eq!(form.status, StatusCode::OK);
        for label in [
            r#"<label for="current_password">"#,
            r#"<label for="new_password">"#,
            r#"<label for="new_password_confirm">"#,
        ] {
            assert!(form.body.contains(label), "{label}");
        }
        // Linked from the Admins page.
        assert!(
            app.get("/admins")
                .await
                .body
                .contains(r#"href="/account/password""#)
        );

        let wrong = app
            .post_form(
                "/account/password",
                &[
                    ("current_password", "not my password"),
                    ("new_password", new_password),
                    ("new_password_confirm", new_password),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            wrong.body.contains("Current password is incorrect"),
            "{}",
            wrong.body
        );
        assert!(!wrong.body.contains("not my password") && !wrong.body.contains(new_password));

        let mismatch = app
            .post_form(
                "/account/password",
                &[
                    ("current_password", ADMIN_PASSWORD),
                    ("new_password", new_password),
                    ("new_password_confirm", "a brand new passworD"),
                ],
            )
            .await;
        assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(mismatch.body.contains("The passwords do not match"));
        let short = app
            .post_form(
                "/account/password",
                &[
                    ("current_password", ADMIN_PASSWORD),
                    ("new_password", "too short"),
                    ("new_password_confirm", "too short"),
                ],
            )
            .await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            short
                .body
                .contains("Password must be at least 12 characters")
        );

        // Refusals changed nothing: the other session still works.
        assert!(signed_in(&mut app, &mut elsewhere).await);
        assert_eq!(sessions_of(&app, me), 2);

        let cookie_before = app.session_cookie();
        let changed = app
            .post_form(
                "/account/password",
                &[
                    ("current_password", ADMIN_PASSWORD),
                    ("new_password", new_password),
                    ("new_password_confirm", new_password),
                ],
            )
            .await;
        changed.assert_redirects_to("/admins");
        assert_ne!(
            app.session_cookie(),
            cookie_before,
            "the session was not renewed"
        );
        let list = app.follow(changed).await;
        assert_eq!(list.status, StatusCode::OK, "signed out: {}", list.body);
        assert!(
            list.body
                .contains("Password changed. Your other sessions were signed out."),
            "{}",
            list.body
        );
        assert!(app.is_signed_in().await);
        assert!(!signed_in(&mut app, &mut elsewhere).await);
        assert_eq!(sessions_of(&app, me), 1);
        // This browser's forms keep working.
        let role = app.create_role("After the change").await;
        assert!(role > 0);

        assert_eq!(
            try_login(&mut app, ADMIN_EMAIL, ADMIN_PASSWORD).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            try_login(&mut app, ADMIN_EMAIL, new_password).await,
            StatusCode::SEE_OTHER
        );
    }
);
