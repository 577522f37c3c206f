//! Bodies no form expects, sent to every form: JSON, a form over the limit,
//! bytes that are not URL-encoding; and the NUL bytes the properties found
//! on PostgreSQL, kept as plain cases for signing in, the API Keys form and
//! verification.

use serde_json::json;

use super::{app_rows, assert_no_server_error};
use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TestResponse, api_client};

storage_test!(forms_with_the_wrong_body, |app| async move {
    app.login_as_default_admin().await;
    let token = app.csrf_token().await;
    let before = app_rows(&app).len();
    for path in [
        "/api-keys",
        "/roles",
        "/services",
        "/admins",
        "/account/password",
    ] {
        // JSON where a form is expected, with the CSRF token in its header.
        let response = app
            .send(
                app.client
                    .post(app.url(path))
                    .header("x-csrf-token", &token)
                    .json(&json!({ "name": "<script>alert(1)</script>" })),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            response.body
        );
        // A form over the limit.
        let big = "x".repeat(70 * 1024);
        let response = app
            .post_form(path, &[("name", big.as_str()), ("description", "d")])
            .await;
        assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert!(response.body.contains("Request too large"), "{path}");
        // Not URL-encoding at all.
        let response = app
            .send(
                app.client
                    .post(app.url(path))
                    .header("x-csrf-token", &token)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(vec![0xff, 0xfe, b'%', b'z', b'=', 0x00]),
            )
            .await;
        assert!(
            response.status.is_client_error(),
            "{path}: {}",
            response.status
        );
    }
    assert_eq!(app_rows(&app).len(), before, "nothing was stored");
    assert_eq!(app.get("/roles").await.status, StatusCode::OK);
});

// The 500s the properties above found on PostgreSQL, which refuses a NUL
// in text: kept as plain cases so they are checked on every run.
storage_test!(
    a_nul_byte_is_refused_with_a_clear_answer,
    |app| async move {
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        let response = app.login("admin\u{0}@example.com", ADMIN_PASSWORD).await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            response.body
        );
        assert!(response.body.contains("Incorrect email or password."));
        let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
        let before = app_rows(&app);
        let response = app
            .post_form(
                "/api-keys",
                &[
                    ("name", "Nul"),
                    ("description", "a\u{0}b"),
                    ("location", "0"),
                ],
            )
            .await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            response
                .body
                .contains("Description cannot contain control characters")
        );
        assert_eq!(app_rows(&app), before);
        // A NUL in the service a valid key asks about, by JSON and by forward-auth.
        let role = app.create_role("Everything").await;
        app.add_rule(role, None, "*", &["GET"]).await;
        let (_, key) = app.create_key("Nul client", Some(role)).await;
        let answer = app
            .verify(&json!({ "key": key, "service": "a\u{0}b" }))
            .await;
        assert_eq!(answer["allowed"], false, "{answer}");
        for uri in ["/api/v2/a%00b/_table", "/api/v2/a\u{0}b/_table"] {
            let Ok(request) = api_client()
                .get(app.url("/api/v1/auth"))
                .header("X-API-Key", &key)
                .header("X-Original-URI", uri)
                .build()
            else {
                continue; // a header the HTTP client itself will not send
            };
            let response = api_client().execute(request).await.expect("request failed");
            let response = TestResponse::read(response).await;
            assert_no_server_error(&response, &uri);
        }
    }
);
