//! What every answer carries: the security headers and cache rules on pages,
//! errors and static assets, and the attributes of the session and CSRF
//! cookies (`__Host-` when cookies are secure).

use super::assert_security_headers;

use crate::harness::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, StatusCode, TestResponse, api_client, spawn_app_with,
};

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
            } else if asset.contains(".svg") {
                "image/svg+xml"
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

/// The `Set-Cookie` named `name`, lower-cased.
fn set_cookie(response: &TestResponse, name: &str) -> String {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", response.headers))
        .to_lowercase()
}

// Settings, not storage: SQLite is enough.
#[tokio::test]
async fn secure_cookies_take_the_host_prefix() {
    let app = spawn_app_with(Backend::Sqlite, |settings| settings.cookie_secure = true)
        .await
        .unwrap();
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    // Secure cookies are not sent over plain http by a browser's jar: this
    // test carries them by hand.
    let client = api_client();
    let page = TestResponse::read(client.get(app.url("/login")).send().await.unwrap()).await;
    let csrf = set_cookie(&page, "__Host-keyward_csrf");
    for attribute in ["; secure", "; httponly", "; path=/", "; samesite=strict"] {
        assert!(csrf.contains(attribute), "{attribute}: {csrf}");
    }
    assert!(!csrf.contains("domain="), "{csrf}");
    let cookie = page
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let signed_in = TestResponse::read(
        client
            .post(app.url("/login"))
            .header("cookie", cookie)
            .form(&[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", &page.csrf_token().unwrap()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    let session = set_cookie(&signed_in, "__Host-keyward_session");
    for attribute in ["; secure", "; httponly", "; path=/", "; samesite=lax"] {
        assert!(session.contains(attribute), "{attribute}: {session}");
    }
    assert!(!session.contains("domain="), "{session}");
}

storage_test!(head_answers_as_get_does_without_a_body, |app| async move {
    let head = |path: &str| {
        let request = app.client.head(app.url(path));
        async move { TestResponse::read(request.send().await.unwrap()).await }
    };
    // Signed out: the login page, what it links to, health, and the wall.
    for path in ["/login", "/static/app.css", "/livez", "/favicon.ico"] {
        let get = app.get(path).await;
        let response = head(path).await;
        assert_eq!(response.status, StatusCode::OK, "HEAD {path}");
        assert!(response.body.is_empty(), "HEAD {path} sent a body");
        assert_eq!(
            response.header("content-type"),
            get.header("content-type"),
            "HEAD {path}"
        );
    }
    let walled = head("/api-keys").await;
    assert_eq!(walled.status, StatusCode::SEE_OTHER);
    assert!(walled.location().starts_with("/login"));
    assert_eq!(head("/no-such-page").await.status, StatusCode::NOT_FOUND);
    // Signed in: a console page, with the headers a GET gets.
    app.login_as_default_admin().await;
    let list = head("/api-keys").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.is_empty());
    assert_security_headers(&list, "HEAD /api-keys");
    assert_eq!(list.header("cache-control"), "no-store");
    // A route that takes only POST still says so.
    assert_eq!(head("/logout").await.status, StatusCode::METHOD_NOT_ALLOWED);
});

storage_test!(the_favicon_is_served_and_linked, |app| async move {
    let icon = app
        .client
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/x-icon");
    let bytes = icon.bytes().await.unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO file");
    let login = app.get("/login").await;
    assert!(
        login
            .body
            .contains("<link rel=\"icon\" href=\"/static/favicon.svg"),
        "{}",
        login.body
    );
});
