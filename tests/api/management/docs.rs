//! The management API's description: the OpenAPI document is public JSON
//! (OpenAPI 3.1) and names only operations that exist (each one, asked
//! without a token, wants one; with a token, none is an unknown endpoint or
//! method), an undocumented endpoint is a JSON 404, and the console's API
//! reference page (`/api-docs`, behind the sign-in, in the navbar) lists
//! every operation of the document and links to it.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, expect, expect_error};
use crate::harness::{
    Backend, StatusCode, TestApp, TestResponse, api_client, login_next, spawn_app, text_of,
};

const DOCUMENT: &str = "/api/v1/openapi.json";

/// Every operation of the document: (method, path with its `{parameters}`,
/// whether it asks for a token).
fn operations(document: &Value) -> Vec<(Method, String, bool)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let needs_token = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("token").is_some()));
            found.push((method, path.clone(), needs_token));
        }
    }
    found
}

/// The document as anyone fetches it: no token, no cookie.
async fn fetch_document(app: &TestApp) -> Value {
    let response = api_client()
        .get(app.url(DOCUMENT))
        .send()
        .await
        .expect("request failed");
    let response = TestResponse::read(response).await;
    expect(&response, StatusCode::OK)
}

/// A request for `path` with ids no object has (so that nothing changes)
/// and an empty JSON object as the body of a write.
async fn ask(app: &TestApp, method: &Method, path: &str, token: Option<&str>) -> TestResponse {
    let url = app.url(
        &path
            .replace("{id}", "999999")
            .replace("{rule_id}", "999999"),
    );
    let mut request = api_client().request(method.clone(), url);
    if ![Method::GET, Method::DELETE].contains(method) {
        request = request.json(&json!({}));
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    TestResponse::read(request.send().await.expect("request failed")).await
}

storage_test!(
    the_document_names_only_operations_that_exist,
    |app| async move {
        let document = fetch_document(&app).await;
        let version = document["openapi"].as_str().unwrap_or_default();
        assert!(version.starts_with("3.1"), "openapi {version:?}");
        let operations = operations(&document);
        // Every feature is in it: apps, roles, services, admins, audit, verification.
        for (method, path) in [
            (Method::GET, "/api/v1/apps"),
            (Method::POST, "/api/v1/apps/{id}/roll"),
            (Method::DELETE, "/api/v1/roles/{id}/rules/{rule_id}"),
            (Method::PATCH, "/api/v1/services/{id}"),
            (Method::PUT, "/api/v1/admins/{id}/active"),
            (Method::GET, "/api/v1/audit-events"),
            (Method::POST, "/api/v1/verify"),
        ] {
            assert!(
                operations.iter().any(|(m, p, _)| *m == method && p == path),
                "{method} {path} is not in the document"
            );
        }

        // Without a token, each operation that needs one says so.
        for (method, path, needs_token) in &operations {
            if !needs_token {
                assert!(
                    path.starts_with("/api/v1/verify") || path.starts_with("/api/v1/auth"),
                    "{method} {path} takes no token"
                );
                continue;
            }
            let response = ask(&app, method, path, None).await;
            let (_, message) = expect_error(&response, StatusCode::UNAUTHORIZED);
            assert!(message.contains("Bearer"), "{method} {path}: {message}");
            assert!(
                response.header("www-authenticate").starts_with("Bearer"),
                "{method} {path}: {:?}",
                response.headers
            );
        }

        // With a token every operation is routed: none is an unknown endpoint or
        // method, and none fails.
        let api = Api::for_app(&app, "write").await;
        for (method, path, needs_token) in &operations {
            let response = ask(&app, method, path, Some(&api.token)).await;
            let what = format!(
                "{method} {path} answered {}: {}",
                response.status, response.body
            );
            assert_ne!(response.status, StatusCode::METHOD_NOT_ALLOWED, "{what}");
            assert!(!response.status.is_server_error(), "{what}");
            if *needs_token {
                let body = expect(&response, response.status);
                let unknown = body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("no such endpoint"));
                assert!(!unknown, "{what}");
            }
        }

        // What it does not document, it does not answer.
        let (_, message) = expect_error(&api.get("/nope").await, StatusCode::NOT_FOUND);
        assert!(message.contains("no such endpoint"), "{message}");
        assert!(message.contains("/api/v1/openapi.json"), "{message}");
        assert!(
            !operations.iter().any(|(_, p, _)| p == "/api/v1/nope"),
            "the document names /api/v1/nope"
        );
    }
);

#[tokio::test]
async fn the_reference_page_lists_every_operation() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    // Signed out, the page is behind the sign-in.
    let response = app.get("/api-docs").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(
        login_next(response.header("location")).as_deref(),
        Some("/api-docs")
    );

    app.login_as_default_admin().await;
    // The navbar leads there from any page.
    let home = app.follow(app.get("/").await).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(
        home.body.contains(r#"<a href="/api-docs">API Docs</a>"#),
        "no API Docs in the navbar: {}",
        home.body
    );

    let page = app.get("/api-docs").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(r#"<a href="/api-docs" aria-current="page">API Docs</a>"#),
        "the navbar does not mark API Docs as the current page"
    );
    assert!(
        page.body.contains(&format!(r#"href="{DOCUMENT}""#)),
        "no link to the document"
    );
    let shown = text_of(&page.body);
    let document = fetch_document(&app).await;
    let operations = operations(&document);
    assert!(operations.len() >= 20, "{operations:?}");
    for (method, path, _) in &operations {
        let operation = format!("{method} {path}");
        assert!(
            shown.contains(&operation),
            "the page does not show {operation}"
        );
    }
}
