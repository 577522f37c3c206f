//! CSRF protection: signing out without the session's token is refused (the
//! token in a header, as htmx sends it, is accepted), and the sign-in form,
//! which has no session yet, needs its own signed cookie.

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TestResponse, api_client};

storage_test!(
    sign_out_without_the_csrf_token_is_refused,
    |app| async move {
        app.login_as_default_admin().await;
        let token = app.csrf_token().await;
        let wrong = "0".repeat(token.len());
        let attempts = [
            ("no token", app.client.post(app.url("/logout"))),
            (
                "empty token",
                app.client
                    .post(app.url("/logout"))
                    .form(&[("csrf_token", "")]),
            ),
            (
                "wrong token",
                app.client
                    .post(app.url("/logout"))
                    .form(&[("csrf_token", &wrong)]),
            ),
            (
                "wrong header",
                app.client
                    .post(app.url("/logout"))
                    .header("X-CSRF-Token", &wrong),
            ),
        ];
        for (what, request) in attempts {
            let refused = app.send(request).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{what}");
            assert!(
                refused.body.contains("Request refused"),
                "{what}: {}",
                refused.body
            );
            assert!(
                app.is_signed_in().await,
                "{what} signed the administrator out"
            );
        }
        // The token in a header, as htmx sends it, is accepted.
        let out = app
            .send(
                app.client
                    .post(app.url("/logout"))
                    .header("X-CSRF-Token", &token),
            )
            .await;
        out.assert_redirects_to("/login");
        assert!(!app.is_signed_in().await);
    }
);

storage_test!(
    sign_in_without_the_csrf_token_is_refused,
    |app| async move {
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        let credentials = [("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)];
        // A post from a page keyward never showed: no session at all.
        let no_session = app.post_form_raw("/login", &credentials).await;
        assert_eq!(no_session.status, StatusCode::FORBIDDEN);
        // The form was shown, but its token is left out or wrong.
        app.get("/login").await;
        let no_token = app.post_form_raw("/login", &credentials).await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN);
        let mut wrong = credentials.to_vec();
        wrong.push(("csrf_token", "not-the-token"));
        assert_eq!(
            app.post_form_raw("/login", &wrong).await.status,
            StatusCode::FORBIDDEN
        );

        assert!(!app.is_signed_in().await);
        assert!(app.signed_in_session_ids().is_empty());
    }
);

storage_test!(
    the_sign_in_form_needs_its_own_signed_cookie,
    |app| async move {
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        let page = app.get("/login").await;
        let token = page.csrf_token().unwrap();
        let cookie = page
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("keyward_csrf="))
            .expect("no CSRF cookie")
            .to_lowercase();
        assert!(
            cookie.contains("; httponly") && cookie.contains("; samesite=strict"),
            "{cookie}"
        );

        let fields = |token: &str| {
            vec![
                ("email", ADMIN_EMAIL.to_owned()),
                ("password", ADMIN_PASSWORD.to_owned()),
                ("csrf_token", token.to_owned()),
            ]
        };
        let post = |client: &reqwest::Client, cookie: Option<String>, token: &str| {
            let mut request = client.post(app.url("/login")).form(&fields(token));
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            async move { TestResponse::read(request.send().await.unwrap()).await }
        };
        let bare = api_client();
        // The token without the cookie: refused.
        let no_cookie = post(&bare, None, &token).await;
        assert_eq!(
            no_cookie.status,
            StatusCode::FORBIDDEN,
            "{}",
            no_cookie.body
        );
        // A cookie whose signature is not keyward's: refused.
        let forged = post(&bare, Some(format!("keyward_csrf={token}")), &token).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
        // This visitor's genuine cookie with another visitor's token: refused.
        let other_page =
            TestResponse::read(bare.get(app.url("/login")).send().await.unwrap()).await;
        let other_token = other_page.csrf_token().unwrap();
        assert_ne!(other_token, token);
        let mixed = post(&app.client, None, &other_token).await;
        assert_eq!(mixed.status, StatusCode::FORBIDDEN, "{}", mixed.body);
        assert!(!app.is_signed_in().await);
        // Its own cookie and token: signed in.
        post(&app.client, None, &token)
            .await
            .assert_redirects_to("/");
        assert!(app.is_signed_in().await);
    }
);
