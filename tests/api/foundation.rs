//! The foundation every page stands on: the one-time setup page, signing in
//! and out, redirects to the login page, CSRF, sessions, security headers and
//! error pages.

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TestApp, TestResponse, login_next, query,
};

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

fn assert_security_headers(response: &TestResponse, what: &str) {
    let csp = response.header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: CSP {csp}");
    assert_eq!(
        response.header("x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(response.header("referrer-policy"), "no-referrer", "{what}");
}

fn assert_html_page(response: &TestResponse, what: &str) {
    assert!(
        response.header("content-type").starts_with("text/html"),
        "{what}: {}",
        response.header("content-type")
    );
    // Rendered in the layout: keyward's stylesheet and navigation.
    assert!(
        response.body.contains("/static/vendor/pico-2.1.1.min.css"),
        "{what}: {}",
        response.body
    );
    assert!(response.body.contains("<nav"), "{what}: {}", response.body);
}

/// No internals in a page a browser is shown.
fn assert_no_internals(response: &TestResponse, what: &str) {
    let body = response.body.to_lowercase();
    for internal in [
        "actix",
        "diesel",
        "panicked",
        "backtrace",
        "src/",
        ".rs:",
        "error {",
    ] {
        assert!(
            !body.contains(internal),
            "{what} shows {internal:?}: {}",
            response.body
        );
    }
}

// ---- setup ----

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

// ---- signing in and out ----

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

storage_test!(sign_in_starts_a_new_session, |app| async move {
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    app.get("/login").await;
    assert!(
        app.session_cookie().is_none(),
        "the login page started a session before anyone signed in"
    );
    // The email is matched whatever its case and surrounding spaces.
    app.login(" Admin@Example.COM ", ADMIN_PASSWORD)
        .await
        .assert_redirects_to("/");
    let first = app
        .session_cookie()
        .expect("signed in without a session cookie");
    assert!(app.is_signed_in().await);
    app.logout().await.assert_redirects_to("/login");
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .assert_redirects_to("/");
    let second = app
        .session_cookie()
        .expect("signed in without a session cookie");
    assert_ne!(first, second, "signing in again reused the session id");
    // Whoever kept the cookie of the earlier sign-in is not signed in with it.
    let replayed = app.get_with_session_cookie("/", &first).await;
    assert_eq!(login_next(replayed.location()).as_deref(), Some("/"));
});

storage_test!(sign_out_deletes_the_session, |app| async move {
    app.login_as_default_admin().await;
    let cookie = app.session_cookie().unwrap();
    let signed_in = app.signed_in_session_ids();
    assert_eq!(signed_in.len(), 1);
    app.logout().await.assert_redirects_to("/login");

    let rows: Vec<String> = app.session_rows().into_iter().map(|(id, _)| id).collect();
    assert!(
        !rows.contains(&signed_in[0]),
        "the session row is still there"
    );
    assert!(!app.is_signed_in().await);
    // A copy of the cookie taken before signing out opens nothing.
    let replayed = app.get_with_session_cookie("/", &cookie).await;
    assert_eq!(login_next(replayed.location()).as_deref(), Some("/"));
});

/// When the signed-in session row expires.
fn session_expiry(app: &TestApp, id: &str) -> chrono::NaiveDateTime {
    use diesel::prelude::*;
    use keyward::schema::sessions;
    let mut conn = app.pool.get().expect("no database connection");
    sessions::table
        .find(id)
        .select(sessions::expires_at)
        .first(&mut *conn)
        .expect("no session row")
}

fn set_session_expiry(app: &TestApp, id: &str, at: chrono::NaiveDateTime) {
    use diesel::prelude::*;
    use keyward::schema::sessions;
    let mut conn = app.pool.get().expect("no database connection");
    diesel::update(sessions::table.find(id))
        .set(sessions::expires_at.eq(at))
        .execute(&mut *conn)
        .expect("cannot move the session expiry");
}

storage_test!(
    activity_keeps_a_session_and_idleness_ends_it,
    |app| async move {
        app.login_as_default_admin().await;
        let id = app
            .signed_in_session_ids()
            .pop()
            .expect("no signed-in session");
        let now = || chrono::Utc::now().naive_utc();
        let minutes = chrono::Duration::minutes;

        // Idle for 25 of the 30 minutes: a page view gives it 30 minutes again.
        set_session_expiry(&app, &id, now() + minutes(5));
        assert_eq!(app.get("/api-keys").await.status, StatusCode::OK);
        let extended = session_expiry(&app, &id);
        assert!(extended > now() + minutes(29), "not extended: {extended}");
        // Another view within the minute writes nothing.
        assert_eq!(app.get("/api-keys").await.status, StatusCode::OK);
        assert_eq!(session_expiry(&app, &id), extended);

        // Idle past its expiry: the next page asks to sign in again.
        set_session_expiry(&app, &id, now() - chrono::Duration::seconds(1));
        let page = app.get("/api-keys").await;
        assert_eq!(login_next(page.location()).as_deref(), Some("/api-keys"));
    }
);

storage_test!(a_session_survives_a_server_restart, |app| async move {
    app.login_as_default_admin().await;
    let token = app.csrf_token().await;
    app.restart().await;
    assert!(
        app.is_signed_in().await,
        "the restart signed the administrator out"
    );
    // A form shown before the restart still posts.
    app.post_form_raw("/logout", &[("csrf_token", &token)])
        .await
        .assert_redirects_to("/login");
    assert!(!app.is_signed_in().await);
});

// ---- redirects to the login page and back ----

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

// ---- CSRF ----

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

// ---- headers, cookies, limits, error pages ----

storage_test!(
    every_response_carries_the_security_headers,
    |app| async move {
        let login = app.get("/login").await;
        assert_eq!(login.status, StatusCode::OK);
        assert_security_headers(&login, "login page");
        assert_eq!(login.header("cache-control"), "no-store");

        let missing = app.get("/no-such-page").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_security_headers(&missing, "404 page");
        assert_eq!(missing.header("cache-control"), "no-store");

        // Every asset the page links to is served, with its type, cached for a year.
        let assets: Vec<&str> = login
            .body
            .split("=\"/static/")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect();
        assert!(assets.len() >= 4, "{assets:?}");
        for asset in assets {
            let file = app.get(&format!("/static/{asset}")).await;
            assert_eq!(file.status, StatusCode::OK, "{asset}");
            assert_security_headers(&file, asset);
            assert_eq!(
                file.header("cache-control"),
                "public, max-age=31536000, immutable",
                "{asset}"
            );
            let expected_type = if asset.contains(".js") {
                "text/javascript"
            } else {
                "text/css"
            };
            assert!(
                file.header("content-type").starts_with(expected_type),
                "{asset}"
            );
        }

        app.login_as_default_admin().await;
        let home = app.get("/").await;
        assert_security_headers(&home, "signed-in home");
        assert_eq!(home.header("cache-control"), "no-store");
        let landing = app.follow(home).await;
        assert_eq!(
            landing.status,
            StatusCode::OK,
            "the signed-in landing page: {}",
            landing.body
        );
        assert_security_headers(&landing, "signed-in landing page");
        assert_eq!(landing.header("cache-control"), "no-store");
    }
);

/// The `Set-Cookie` of the session cookie, lower-cased.
fn session_set_cookie(response: &TestResponse) -> String {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("keyward_session="))
        .expect("no session cookie set")
        .to_lowercase()
}

storage_test!(
    the_session_cookie_is_http_only_and_same_site,
    |app| async move {
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        let cookie = session_set_cookie(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
        assert!(cookie.contains("; httponly"), "{cookie}");
        assert!(cookie.contains("; samesite=lax"), "{cookie}");
        assert!(!cookie.contains("; secure"), "{cookie}");
    }
);

storage_test!(a_form_over_64_kib_is_refused, |app| async move {
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    let huge = "a".repeat(65 * 1024);
    let with_token = app
        .post_form("/login", &[("email", &huge), ("password", ADMIN_PASSWORD)])
        .await;
    let without_token = app
        .post_form_raw("/login", &[("email", &huge), ("password", ADMIN_PASSWORD)])
        .await;
    for refused in [&with_token, &without_token] {
        assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            refused.body.contains("Request too large"),
            "{}",
            refused.body
        );
        assert_html_page(refused, "413 page");
        assert_security_headers(refused, "413 page");
    }
    // Just under the limit is read and answered as usual.
    let large = "a".repeat(60 * 1024);
    let read = app
        .post_form("/login", &[("email", &large), ("password", ADMIN_PASSWORD)])
        .await;
    assert_eq!(read.status, StatusCode::UNAUTHORIZED);
});

storage_test!(an_unknown_address_gets_a_not_found_page, |app| async move {
    for path in [
        "/no-such-page",
        "/no/such/page?x=1",
        "/static/no-such-file.js",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            page.body.contains("Page not found"),
            "{path}: {}",
            page.body
        );
        assert_html_page(&page, path);
        assert_no_internals(&page, path);
    }
    // The same for a signed-in administrator.
    app.login_as_default_admin().await;
    let page = app.get("/no-such-page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_html_page(&page, "signed-in 404");
    assert_no_internals(&page, "signed-in 404");
});
